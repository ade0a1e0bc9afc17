"""What DIAN holds on one of our own invoices: GetStatusEvent by its CUFE, each listed event we do not have fetched
(GetXmlByDocumentKey), its signature verified, recorded ``observed`` and registered on the outbound document; then the
title is derived again. This is how a receivable learns that the buyer accepted the invoice (030/032/033, or the 034),
and what the factor did with the title after we endorsed it.

DIAN's listing is checked by events.answers (its DIAN signature, about this CUFE) before anything is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from dian.errors import DianError, ParseError
from dian.radian.parse import parse_radian_event
from dian.soap import DianFault, DianTransportError
from dian.trust import TrustStore
from dian.ubl import ApplicationResponse, parse_document
from dian.xades import verify
from events.answers import ForgedAnswer, listed_events
from events.context import EventContext
from radian.store import RADIAN_CODES, event_columns, event_parties, refresh_title
from store.audit import record
from store.models import Direction, DocumentEvent, EventParty, OutboundDocument, SubmissionState, ValueTitle

__all__ = ["SyncResult", "sync_title"]


@dataclass
class SyncResult:
    observed: list[str] = field(default_factory=list)  # "033 SIMEV3" per event newly recorded
    confirmed: list[str] = field(default_factory=list)  # ours, found registered
    error: str | None = None


def _fetch(client: Any, cude: str, trust: TrustStore) -> tuple[ApplicationResponse, bytes, datetime | None] | None:
    try:
        found = client.get_xml_by_document_key(cude)
    except (DianTransportError, DianFault):
        return None
    if not found.found or not found.xml:
        return None
    try:
        signature = verify(found.xml, trust=trust)
        signed = signature.signed_element
        parsed = parse_document(signed if signed is not None else found.xml)
    except ParseError:
        return None
    if not isinstance(parsed, ApplicationResponse) or (parsed.uuid or "").strip().lower() != cude:
        return None
    # The signed SigningTime only when the signature holds; otherwise nothing is said of the moment.
    return parsed, found.xml, signature.signing_time if signed is not None and signature.core_valid else None


def sync_title(session: Session, ctx: EventContext, client: Any, title: ValueTitle, now: datetime, *,
               actor: str) -> SyncResult:  # fmt: skip
    """Record what DIAN lists on the title's invoice; the caller commits."""
    result = SyncResult()
    invoice = session.get(OutboundDocument, title.outbound_document_id) if title.outbound_document_id else None
    if invoice is None or not invoice.cufe:
        result.error = "El título no corresponde a una factura propia."
        return result
    cufe = invoice.cufe.lower()
    try:
        status = client.get_status_event(cufe)
        listing = [] if status.status_code == "67" else listed_events(status, cufe, ctx.keys)
    except (DianTransportError, DianFault) as exc:
        result.error = f"No se pudo consultar la DIAN: {exc}"
        return result
    except ForgedAnswer as exc:
        result.error = f"La respuesta de la DIAN no es auténtica: {exc}"
        record(session, actor=actor, action="document.sync.refused", subject=cufe, data={"error": str(exc)}, at=now)
        return result
    known = {
        row.cude: row
        for row in session.execute(
            sa.select(DocumentEvent).where(DocumentEvent.outbound_document_id == invoice.id)
        ).scalars()
    }
    for item in listing:
        mine = known.get(item.cude)
        if mine is not None:
            if mine.submission_state is not SubmissionState.REGISTERED:
                mine.submission_state = SubmissionState.REGISTERED
                mine.registered_at = now
                mine.next_attempt_at = None
                result.confirmed.append(f"{item.code.value} {mine.number}")
            continue
        fetched = _fetch(client, item.cude, ctx.trust or TrustStore())
        parsed, xml, signed_at = fetched if fetched else (None, None, None)
        row = DocumentEvent(
            outbound_document_id=invoice.id,
            code=item.code,
            direction=Direction.OBSERVED,
            number=parsed.id[:40] if parsed else None,
            cude=item.cude,
            referenced_cufe=cufe,
            note=item.description[:2000] or None,
            sender_nit=parsed.sender.nit[:20] if parsed else None,
            receiver_nit=parsed.receiver.nit[:20] if parsed else None,
            signed_xml_blob=ctx.blobs.put(xml) if xml else None,
            signing_time=signed_at,
            submission_state=SubmissionState.REGISTERED,
            registered_at=now,
            actor="dian:GetStatusEvent",
        )
        if xml and item.code in RADIAN_CODES:
            try:
                radian_event = parse_radian_event(xml)
            except DianError:
                radian_event = None
            if radian_event is not None:
                for key, value in event_columns(radian_event).items():
                    setattr(row, key, value)
                row.parties = [EventParty(**party) for party in event_parties(radian_event)]
        elif parsed is not None:
            row.sender_name = parsed.sender.registration_name
            row.receiver_name = parsed.receiver.registration_name
        session.add(row)
        session.flush()
        result.observed.append(f"{item.code.value} {row.number or item.cude[:12]}")
        record(session, actor=actor, action="document.event.observed", subject=cufe,
               data={"outbound_document_id": invoice.id, "event_id": row.id, "code": item.code.value,
                     "cude": item.cude, "verified": signed_at is not None}, at=now)  # fmt: skip
    session.flush()
    refresh_title(session, ctx.blobs, title, now)
    return result
