"""Proving a title's RADIAN events on file, each on its own (signature, signer, reference to the invoice), and
fetching again the XML of those recorded without it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, object_session

from dian.codes import EventCode
from dian.errors import ParseError
from dian.radian.model import RadianEvent, Share
from dian.radian.parse import parse_radian_event
from dian.reception import verify_received
from dian.trust import TrustStore
from dian.xades import Outcome
from events.context import EventContext
from radian.store import event_columns, event_parties
from radian.title import ValueTitle as Title
from radian.watch.asking import DianWatch
from store.models import DocumentEvent, EventParty, ReceivedDocument, SubmissionState

E = EventCode
_RADIAN_CODES = tuple(code for code in EventCode if code >= E.AVAL)


@dataclass(frozen=True)
class Proven:
    """A title's RADIAN events on file, split into those proven (with their signing time) and those that are not."""

    events: tuple[tuple[RadianEvent, datetime, DocumentEvent], ...]
    unproven: tuple[tuple[DocumentEvent, str], ...]

    def title(self, issuer: Share) -> Title | None:
        """The title replayed from the proven events (None while no RADIAN event is proven)."""
        if not self.events:
            return None
        return Title.of(((event, at) for event, at, _ in self.events), issuer=issuer)


def _prove(ctx: EventContext, document: ReceivedDocument, row: DocumentEvent, known: set[str]) -> tuple[
    RadianEvent | None, datetime | None, str]:  # fmt: skip
    if not row.signed_xml_blob:
        return None, None, "la DIAN no entregó el XML del evento (GetXmlByDocumentKey)"
    xml = ctx.blobs.get(row.signed_xml_blob)
    report = verify_received(xml, trust=ctx.trust or TrustStore(), keys=ctx.keys)
    failed = [c for c in report.checks if c.outcome is Outcome.FAIL and c.name.startswith("event.")]
    signature = report.document_signature
    if failed or report.event is None or signature is None or signature.signed_element is None:
        return None, None, failed[0].detail if failed else "la firma del evento no verifica"
    try:
        event = parse_radian_event(signature.signed_element)
    except ParseError as exc:
        return None, None, f"el evento no se puede leer: {exc}"
    if (event.cude or "").lower() != (row.cude or "").lower():
        return None, None, "el XML entregado es de otro evento (otro CUDE)"
    reference = (event.reference.uuid or "").lower()
    if event.reference.is_event and reference not in known:
        return None, None, "el evento termina otro evento que no está registrado sobre esta factura"
    if not event.reference.is_event and reference != document.cufe.lower():
        return None, None, f"el evento es sobre otra factura ({event.reference.id})"
    signed_at = row.signing_time or signature.signing_time
    if signed_at is None:
        return None, None, "el evento no dice cuándo se firmó (xades:SigningTime)"
    if row.signing_time is None:
        row.signing_time = signed_at  # fetched again after a failure: its moment is its signed SigningTime
    return event, signed_at, ""


def fetch_missing(s: Session, ctx: EventContext, client: DianWatch, document: ReceivedDocument) -> None:
    """Ask DIAN again for the XML of registered RADIAN events recorded without it (GetXmlByDocumentKey failed then)."""
    missing = s.scalars(
        sa.select(DocumentEvent).where(
            DocumentEvent.document_id == document.id,
            DocumentEvent.submission_state == SubmissionState.REGISTERED,
            DocumentEvent.signed_xml_blob.is_(None),
            DocumentEvent.code.in_(_RADIAN_CODES),
            DocumentEvent.cude.is_not(None),
        )
    )
    for row in missing:
        found = client.get_xml_by_document_key(row.cude or "")
        if found.found and found.xml:
            row.signed_xml_blob = ctx.blobs.put(found.xml)


def prove_title(s: Session, ctx: EventContext, document: ReceivedDocument) -> Proven:
    """Every RADIAN event registered on ``document``, each proven on its own: its signature and signer, that it is
    about this invoice (or ends an event on it); DIAN's registration was proven when it was recorded."""
    rows = list(
        s.scalars(
            sa.select(DocumentEvent)
            .where(DocumentEvent.document_id == document.id,
                   DocumentEvent.submission_state == SubmissionState.REGISTERED)
            .order_by(DocumentEvent.signing_time, DocumentEvent.id)
        )
    )  # fmt: skip
    known = {(row.cude or "").lower() for row in rows}
    proven: list[tuple[RadianEvent, datetime, DocumentEvent]] = []
    unproven: list[tuple[DocumentEvent, str]] = []
    for row in rows:
        if row.code not in _RADIAN_CODES:
            continue
        event, signed_at, why = _prove(ctx, document, row, known)
        if event is None or signed_at is None:
            unproven.append((row, why))
        else:
            _record_details(row, event)
            proven.append((event, signed_at, row))
    return Proven(tuple(proven), tuple(unproven))


def _record_details(row: DocumentEvent, event: RadianEvent) -> None:
    """Give an observed RADIAN event, once proven, the columns and parties our own events get when emitted or synced
    (``radian.store.event_columns`` / ``event_parties``): variant, figures, value block, dates, names, shares.
    events.sync records the counterpart's event without them; filled once (with its variant), never overwritten."""
    if row.operation is not None:
        return
    for key, value in event_columns(event).items():
        setattr(row, key, value)
    # Added by event_id rather than through row.parties: assigning the collection would load it first (a flush and a
    # SELECT per event) only to find it empty.
    session = object_session(row)
    assert session is not None
    session.add_all(EventParty(event_id=row.id, **party) for party in event_parties(event))
