"""The seller's tacit acceptance (034) on our own invoices (radian-issuing-facts B.8, dian-facts 2.2 and 2.4).

Our own clock decides: once the buyer's receipt of the goods (032, learned by radian/sync.py's receivables sync or by
mail) is registered on one of our invoices, and more than three business days (dian.calendar, DIAN's count: from the
day after the 032's signing date) pass with no claim (031), no express acceptance (033) and no 034 yet, the invoice is
due for a 034 — checked by dian.rules as the seller at the signing moment, so DIAN's DC24e/LGC04/LGC05/LGC14 refusals
are met before a number is spent.

Policy ``issuing.tacit_acceptance``: ``off`` — nothing; ``propose`` (default) — the due invoices are listed for billing
to confirm (:func:`due`, audited once per invoice as ``tacit.proposed``), and :func:`emit` sends the ones confirmed;
``send`` — :func:`sweep` emits them itself. The 034 carries the sworn statement of dian-facts 2.4 naming the buyer,
SenderParty us, ReceiverParty DIAN (AAG01e), and goes to the events outbox (events/outbox.py) as a DocumentEvent on
the outbound invoice, like our 030-033 and RADIAN events; DIAN's registration is what makes it count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from dian.calendar import BOGOTA, BusinessCalendar
from dian.codes import DocumentState, EventCode
from dian.cufe import event_cude
from dian.rules import DocumentFacts, Role, check, derive_state
from dian.ubl import Party
from dian.ubl.build import EventDraft, build_event
from dian.xades import sign
from issuing.context import IssuingContext
from store.audit import record
from store.models import AuditEntry, Counter, Direction, DocumentEvent, OutboundDocument, OutboundState, SubmissionState

__all__ = ["DIAN", "POLICIES", "Due", "TacitRefused", "TacitReport", "acceptance", "due", "emit", "sweep", "sworn_note"]

POLICIES = ("off", "propose", "send")
DIAN_NAME = "Unidad Administrativa Especial Dirección de Impuestos y Aduanas Nacionales"
DIAN = Party(nit="800197268", dv="4", registration_name=DIAN_NAME)
NUMBER_PREFIX = "ACT"  # our 034 consecutive; DIAN refuses a repeated (sender, number) pair whatever the code
_LIVE = (SubmissionState.SIGNED, SubmissionState.SENT, SubmissionState.SEND_FAILED, SubmissionState.REGISTERED)


def sworn_note(invoice: OutboundDocument) -> str:
    """The sworn statement of dian-facts 2.4 (the company's own, without mandatario), naming the buyer."""
    return (
        "Manifiesto bajo la gravedad de juramento que transcurridos 3 días hábiles contados desde la creación del "
        f"recibo de la mercancía o del servicio de la factura {invoice.number}, el adquirente {invoice.buyer_name} "
        f"identificado con NIT {invoice.buyer_nit} no manifestó expresamente la aceptación o rechazo de la referida "
        "factura, ni reclamó en contra de su contenido."
    )


@dataclass(frozen=True)
class Due:
    """One of our invoices due for a 034: its 032's signing time and when the buyer's window ended."""

    invoice_id: int
    number: str
    cufe: str
    buyer_nit: str
    buyer_name: str
    receipt_signed_at: dt.datetime
    window_ended_at: dt.datetime


def _facts(invoice: OutboundDocument, events: Iterable[DocumentEvent]) -> DocumentFacts:
    registered: dict[EventCode, list[dt.datetime]] = {}
    for event in events:
        live = event.submission_state is SubmissionState.REGISTERED or (
            event.direction is Direction.EMITTED and event.submission_state in _LIVE
        )
        if live and event.signing_time is not None:
            registered.setdefault(event.code, []).append(event.signing_time)
    return DocumentFacts(document_type=invoice.document_type, payment_means=invoice.payment_means,
                         signed_at=invoice.signed_at, events=registered, due_date=invoice.due_date)  # fmt: skip


def _candidates(s: Session) -> list[tuple[OutboundDocument, list[DocumentEvent]]]:
    """Our accepted invoices with a registered 032 and no 031/033/034 live on them."""
    receipts = sa.select(DocumentEvent.outbound_document_id).where(
        DocumentEvent.code == EventCode.RECIBO_BIEN, DocumentEvent.submission_state == SubmissionState.REGISTERED
    )
    invoices = list(s.execute(
        sa.select(OutboundDocument).where(
            OutboundDocument.id.in_(receipts), OutboundDocument.origin == "issued",
            OutboundDocument.state == OutboundState.ACCEPTED,
        ).order_by(OutboundDocument.id)
    ).scalars())  # fmt: skip
    if not invoices:
        return []
    by_invoice: dict[int, list[DocumentEvent]] = {row.id: [] for row in invoices}
    for event in s.execute(
        sa.select(DocumentEvent).where(DocumentEvent.outbound_document_id.in_(list(by_invoice)))
    ).scalars():  # fmt: skip
        assert event.outbound_document_id is not None
        by_invoice[event.outbound_document_id].append(event)
    return [(row, by_invoice[row.id]) for row in invoices]


def due(sessions: sessionmaker[Session], *, now: dt.datetime, calendar: BusinessCalendar) -> list[Due]:
    """Our invoices a 034 may be signed on at ``now`` (the list billing confirms under the ``propose`` policy)."""
    found = []
    with sessions() as s:
        for invoice, events in _candidates(s):
            facts = _facts(invoice, events)
            if not check(EventCode.ACEPTACION_TACITA, role=Role.SELLER, facts=facts, at=now, calendar=calendar).allowed:
                continue
            receipt = max(e.signing_time for e in events if e.code is EventCode.RECIBO_BIEN and e.signing_time)
            found.append(Due(invoice.id, invoice.number, invoice.cufe or "", invoice.buyer_nit, invoice.buyer_name,
                             receipt, calendar.window_end(receipt)))  # fmt: skip
    return found


def acceptance(sessions: sessionmaker[Session], invoice_id: int) -> DocumentState:
    """Where our invoice stands with its buyer, from the events DIAN registered on it (tacitly_accepted after our
    034)."""
    with sessions() as s:
        invoice = s.get(OutboundDocument, invoice_id)
        if invoice is None:
            raise LookupError(f"no outbound document {invoice_id}")
        codes = s.execute(sa.select(DocumentEvent.code).where(
            DocumentEvent.outbound_document_id == invoice_id,
            DocumentEvent.submission_state == SubmissionState.REGISTERED)).scalars()  # fmt: skip
        return derive_state(validated=invoice.state is OutboundState.ACCEPTED, registered=list(codes))


def _next_number(s: Session) -> str:
    name = f"event:{EventCode.ACEPTACION_TACITA.value}"
    row = s.execute(sa.select(Counter).where(Counter.name == name).with_for_update()).scalar_one_or_none()
    if row is None:
        row = Counter(name=name, value=0)
        s.add(row)
    row.value += 1
    s.flush()
    return f"{NUMBER_PREFIX}{row.value}"


class TacitRefused(Exception):
    """The 034 may not be signed now (Spanish reason, DIAN's rule when there is one)."""


def emit(sessions: sessionmaker[Session], ctx: IssuingContext, invoice_id: int, *, now: dt.datetime,
         calendar: BusinessCalendar, actor: str) -> DocumentEvent:  # fmt: skip
    """Sign our 034 on invoice ``invoice_id`` and queue it in the events outbox; TacitRefused when the rules say no."""
    with sessions() as s:
        invoice = s.execute(
            sa.select(OutboundDocument).where(OutboundDocument.id == invoice_id).with_for_update()
        ).scalar_one_or_none()
        if invoice is None or invoice.origin != "issued" or not invoice.cufe:
            raise TacitRefused(f"no hay una factura propia con id {invoice_id}")
        events = list(s.execute(sa.select(DocumentEvent).where(DocumentEvent.outbound_document_id == invoice.id))
                      .scalars())  # fmt: skip
        if invoice.state is not OutboundState.ACCEPTED:
            raise TacitRefused(f"la factura {invoice.number} no está validada por la DIAN")
        decision = check(EventCode.ACEPTACION_TACITA, role=Role.SELLER, facts=_facts(invoice, events), at=now,
                         calendar=calendar)  # fmt: skip
        if not decision.allowed:
            raise TacitRefused(f"{decision.reason} ({decision.rule})" if decision.rule else decision.reason)
        number, local = _next_number(s), now.astimezone(BOGOTA)
        issue_time = local.strftime("%H:%M:%S-05:00")
        note = sworn_note(invoice)
        draft = EventDraft(
            code=EventCode.ACEPTACION_TACITA, number=number, issue_date=local.date(), issue_time=issue_time,
            environment=ctx.environment, sender=ctx.issuer.party, receiver=DIAN, invoice_number=invoice.number,
            invoice_cufe=invoice.cufe, invoice_type_code=invoice.document_type.value, notes=(note,),
        )  # fmt: skip
        signed = sign(build_event(draft, software=ctx.issuer.software), ctx.issuer.identity, signing_time=now)
        cude = event_cude(number=number, issue_date=draft.issue_date, issue_time=issue_time,
                          sender_nit=ctx.issuer.party.nit, receiver_nit=DIAN.nit,
                          response_code=EventCode.ACEPTACION_TACITA.value, document_number=invoice.number,
                          document_type_code=draft.invoice_type_code, software_pin=ctx.issuer.software.pin)  # fmt: skip
        row = DocumentEvent(
            outbound_document_id=invoice.id, code=EventCode.ACEPTACION_TACITA, direction=Direction.EMITTED,
            number=number, cude=cude, referenced_cufe=invoice.cufe.lower(), note=note,
            sender_nit=ctx.issuer.party.nit, receiver_nit=DIAN.nit, signed_xml_blob=ctx.blobs.put(signed),
            signing_time=now, submission_state=SubmissionState.SIGNED, next_attempt_at=now, actor=actor,
        )  # fmt: skip
        s.add(row)
        s.flush()
        record(s, actor=actor, action="event.034.signed", subject=invoice.cufe,
               data={"outbound_document_id": invoice.id, "event_id": row.id, "number": number, "cude": cude},
               at=now)  # fmt: skip
        s.commit()
        s.refresh(row)
        s.expunge(row)
        return row


@dataclass
class TacitReport:
    proposed: list[str] = field(default_factory=list)
    emitted: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {"proposed": len(self.proposed), "emitted": len(self.emitted), "refused": len(self.refused)}


def sweep(sessions: sessionmaker[Session], ctx: IssuingContext, *, policy: str, now: dt.datetime,
          calendar: BusinessCalendar, actor: str = "job:tacit_acceptance") -> TacitReport:  # fmt: skip
    """The ``tacit_acceptance`` job: per the policy, propose (audit ``tacit.proposed`` once per invoice) or emit."""
    if policy not in POLICIES:
        raise ValueError(f"issuing.tacit_acceptance: {policy!r} no es off, propose ni send")
    report = TacitReport()
    if policy == "off":
        return report
    for item in due(sessions, now=now, calendar=calendar):
        if policy == "send":
            try:
                emit(sessions, ctx, item.invoice_id, now=now, calendar=calendar, actor=actor)
            except TacitRefused as exc:
                report.refused[item.number] = str(exc)
            else:
                report.emitted.append(item.number)
            continue
        with sessions() as s:
            seen = s.execute(sa.select(AuditEntry.id).where(AuditEntry.action == "tacit.proposed",
                                                            AuditEntry.subject == item.cufe)).first()  # fmt: skip
            if seen is None:
                record(s, actor=actor, action="tacit.proposed", subject=item.cufe,
                       data={"outbound_document_id": item.invoice_id, "number": item.number,
                             "window_ended_at": item.window_ended_at.isoformat()}, at=now)  # fmt: skip
                s.commit()
                report.proposed.append(item.number)
    return report
