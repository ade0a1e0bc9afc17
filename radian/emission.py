"""Signing one of our RADIAN events (on our own invoice, or our payment as debtor on a supplier's) and putting it in
the events outbox, in the caller's transaction: numbered from its code's consecutive, built (dian.radian.build), given
its CUDE, signed with the company certificate (dian.xades), stored as a blob, a DocumentEvent row ``signed`` with its
parties and figures, an audit entry.

The outbox (events/outbox.py) delivers it to DIAN like any 030-033 of ours; when DIAN registers it, the title is
derived again through EventContext.on_title_event (radian.store.on_registered).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from dian.codes import EventCode
from dian.radian.build import build_radian_event, radian_cude
from dian.radian.model import RadianEvent
from dian.xades import sign
from events.context import EventContext
from events.numbering import advance_counter
from radian.store import event_columns, event_parties
from store.audit import record
from store.models import Direction, DocumentEvent, EventParty, OutboundDocument, ReceivedDocument, SubmissionState

__all__ = ["NUMBER_PREFIX", "Signed", "next_number", "sign_and_queue"]

E = EventCode
# Each code its own consecutive and prefix: DIAN refuses a repeated (sender, number) pair whatever the code.
NUMBER_PREFIX = {
    E.AVAL: "AVA",
    E.INSCRIPCION_TITULO: "INS",
    E.ENDOSO_PROPIEDAD: "END",
    E.ENDOSO_GARANTIA: "EGA",
    E.ENDOSO_PROCURACION: "EPR",
    E.CANCELACION_ENDOSO: "CEN",
    E.LIMITACION_CIRCULACION: "LIM",
    E.TERMINACION_LIMITACION: "TLI",
    E.MANDATO: "MAN",
    E.TERMINACION_MANDATO: "TMA",
    E.PAGO: "PAG",
    E.INFORME_PAGO: "IPP",
    E.ENDOSO_CESION: "ECO",
    E.PROTESTO: "PRT",
    E.TRANSFERENCIA_DERECHOS: "TDE",
    E.NOTIFICACION_TRANSFERENCIA: "NTD",
    E.PAGO_TRANSFERENCIA: "PTD",
}


@dataclass(frozen=True)
class Signed:
    """An event just signed and queued."""

    id: int
    code: EventCode
    number: str
    cude: str
    signing_time: datetime


def next_number(session: Session, code: EventCode) -> str:
    """The next number of this code's consecutive (the counter row stays locked until the commit)."""
    return f"{NUMBER_PREFIX[code]}{advance_counter(session.connection(), code, 1)}"


def sign_and_queue(
    session: Session,
    ctx: EventContext,
    invoice: OutboundDocument | ReceivedDocument,
    event: RadianEvent,
    *,
    now: datetime,
    actor: str,
    source: str | None,
    rule_check: str,
) -> Signed:
    """Build, sign, store and queue ``event`` on ``invoice`` (ours: receivable; a supplier's: our payment as its
    debtor); flushed, not committed (the caller commits)."""
    received = isinstance(invoice, ReceivedDocument)
    unsigned = build_radian_event(event, software=ctx.software)
    signed = sign(unsigned, ctx.identity, signing_time=now)
    cude = radian_cude(event, ctx.software.pin)
    row = DocumentEvent(
        outbound_document_id=None if received else invoice.id,
        document_id=invoice.id if received else None,
        code=event.code,
        direction=Direction.EMITTED,
        number=event.number,
        cude=cude,
        referenced_cufe=(invoice.cufe or "").lower(),
        note="\n".join(event.notes) or None,
        sender_nit=event.sender.nit,
        receiver_nit=event.receiver.nit,
        signed_xml_blob=ctx.blobs.put(signed),
        signing_time=now,
        submission_state=SubmissionState.SIGNED,
        next_attempt_at=now,
        actor=actor,
        **event_columns(event),
    )
    row.parties = [EventParty(**party) for party in event_parties(event)]
    session.add(row)
    session.flush()
    record(
        session,
        actor=actor,
        action=f"event.{event.code.value}.signed",
        subject=invoice.cufe,
        source=source,
        data={"document_id" if received else "outbound_document_id": invoice.id, "event_id": row.id,
              "number": event.number, "cude": cude, "operation": event.operation.value, "rule_check": rule_check},
        at=now,
    )  # fmt: skip
    return Signed(row.id, event.code, event.number, cude, now)
