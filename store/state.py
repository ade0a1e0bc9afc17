"""A received document's state, derived from its registered events (DESIGN.md section 4), and its claim window.

Both the inbox (events mailed to us) and the events package (ours, and those DIAN lists) call `refresh_state` after
recording an event, so the state column is never edited by hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from dian.calendar import BusinessCalendar
from dian.codes import DocumentState, EventCode
from dian.rules import DocumentFacts, derive_state
from store.models import Direction, DocumentEvent, ReceivedDocument, SubmissionState, Verdict

# Our emitted events that DIAN has not answered yet: planned as if registered, so that "030 then 032" can be queued
# in one go; the outbox sends them in order and a rejection of the first shows on the second.
IN_FLIGHT = (SubmissionState.DRAFT, SubmissionState.SIGNED, SubmissionState.SENT, SubmissionState.SEND_FAILED)


def _moment(event: DocumentEvent) -> datetime:
    # The signed xades:SigningTime first (dian-facts 2.2): the 032's starts the claim window. Registration or record
    # time only for an event whose signed XML was never at hand (DIAN listed it, but would not serve it).
    return event.signing_time or event.registered_at or event.created_at or datetime.now(UTC)


def events_of(session: Session, document: ReceivedDocument) -> list[DocumentEvent]:
    """Every event on the document, oldest first."""
    return list(
        session.execute(
            sa.select(DocumentEvent).where(DocumentEvent.document_id == document.id).order_by(DocumentEvent.id)
        ).scalars()
    )


def document_signed_at(document: ReceivedDocument) -> datetime | None:
    """The supplier's xades:SigningTime, from the verification report (the rules compare event times with it)."""
    signature = (document.report or {}).get("document_signature") or {}
    value = signature.get("signing_time")
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def facts_for(
    document: ReceivedDocument, events: Iterable[DocumentEvent], *, include_in_flight: bool = False
) -> DocumentFacts:
    """What dian.rules needs: the document's type, payment means, signing time and registered events."""
    registered: dict[EventCode, list[datetime]] = {}
    for event in events:
        counted = event.submission_state is SubmissionState.REGISTERED or (
            include_in_flight and event.direction is Direction.EMITTED and event.submission_state in IN_FLIGHT
        )
        if counted:
            registered.setdefault(event.code, []).append(_moment(event))
    return DocumentFacts(
        document_type=document.document_type,
        payment_means=document.payment_means,
        signed_at=document_signed_at(document),
        events=registered,
        due_date=document.due_date,
    )


def refresh_state(session: Session, document: ReceivedDocument, calendar: BusinessCalendar) -> DocumentState:
    """Recompute the state and the claim window's end from the registered events; returns the new state."""
    events = events_of(session, document)
    registered = [e for e in events if e.submission_state is SubmissionState.REGISTERED]
    document.state = derive_state(
        validated=document.verdict is not Verdict.INVALID,
        registered=(e.code for e in registered),
        confirmed=document.verdict is not Verdict.UNCONFIRMED,
    )
    receipts = [_moment(e) for e in registered if e.code is EventCode.RECIBO_BIEN]
    document.window_ends_at = calendar.window_end(max(receipts)) if receipts else None
    still_open = document.state is DocumentState.GOODS_RECEIVED and document.window_closed_at is None
    document.open_window_ends_at = document.window_ends_at if still_open else None
    return document.state


def refresh_documents(sessions: Any, document_ids: Iterable[int], calendar: BusinessCalendar) -> None:
    """`refresh_state` for each document in one ORM transaction (so flush listeners, such as webhooks, see it)."""
    with sessions() as session:
        for document_id in document_ids:
            document = session.get(ReceivedDocument, document_id)
            if document is not None:
                refresh_state(session, document, calendar)
        session.commit()
