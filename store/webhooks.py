"""Webhooks, the producing side: a received document's state change adds a webhook_deliveries row to the same flush.

The notice therefore commits, or rolls back, with the change itself (the outbox habit of DESIGN.md section 5); nothing
is sent here. events/webhooks.py signs and POSTs the rows with retries. The state only changes through
store.state.refresh_state on a loaded document, so a Session listener sees every change; intake's Core INSERT of a new
document is an arrival, not a change, and enqueues nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from store.models import ReceivedDocument, WebhookDelivery, WebhookState, utcnow

STATE_CHANGED = "document.state_changed"
HOLDER_CHANGED = "title.holder_changed"  # a supplier invoice we must pay has a new payee (radian/alerts.py)
TITLE_LIMITED = "title.limited"  # a 041 froze its payment


def state_changed_payload(document: ReceivedDocument, previous: str | None, at: datetime) -> dict[str, Any]:
    """The JSON body an ERP receives when a document's state changes (documented in web/openapi.py's webhooks)."""
    return {
        "event": STATE_CHANGED,
        "occurred_at": at.isoformat(),
        "document": {
            "cufe": document.cufe,
            "number": document.number,
            "document_type": _value(document.document_type),
            "issuer_nit": document.issuer_nit,
            "issuer_name": document.issuer_name,
            "buyer_nit": document.buyer_nit,  # our company's: an install of several companies may share one URL
            "issue_date": document.issue_date.isoformat() if document.issue_date else None,
            "payable_amount": str(document.payable_amount) if document.payable_amount is not None else None,
            "currency": document.currency,
            "state": _value(document.state),
            "previous_state": previous,
            "window_ends_at": document.window_ends_at.isoformat() if document.window_ends_at else None,
        },
    }


def _value(member: Any) -> Any:
    return getattr(member, "value", member)


@event.listens_for(Session, "before_flush")
def _enqueue_state_changes(session: Session, _context: Any, _instances: Any) -> None:
    """Add one pending delivery per document whose state is about to change in this flush."""
    now = None
    for obj in list(session.dirty):
        if not isinstance(obj, ReceivedDocument):
            continue
        history = sa.inspect(obj).attrs.state.history
        if not history.added:
            continue
        new = _value(history.added[0])
        old = _value(history.deleted[0]) if history.deleted else None
        if new == old:
            continue  # refresh_state assigns the state it derived even when it is the same
        now = now or utcnow()
        session.add(
            WebhookDelivery(
                document=obj,
                event=STATE_CHANGED,
                payload=state_changed_payload(obj, old, now),
                state=WebhookState.PENDING,
                next_attempt_at=now,
            )
        )


def enqueue_webhook(
    session: Session, *, event: str, payload: dict[str, Any], document_id: int | None, at: datetime
) -> WebhookDelivery:
    """Add one pending delivery of ``payload`` to this session, committed (or rolled back) with what it tells."""
    row = WebhookDelivery(
        document_id=document_id, event=event, payload=payload, state=WebhookState.PENDING, next_attempt_at=at
    )
    session.add(row)
    return row
