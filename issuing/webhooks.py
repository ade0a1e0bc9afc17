"""The ERP's webhooks about the documents we issue: ``invoice.validated``, ``invoice.rejected`` and
``invoice.delivered`` (for notes too; ``document.document_type`` tells which).

Like store/webhooks.py does for received documents, a Session listener adds the webhook_deliveries row to the flush
that changes the row: DIAN's verdict (state → accepted or rejected, issuing/outbox.py) or the buyer's copy sent
(delivery_state → sent, issuing/delivery.py). The notice therefore commits, or rolls back, with the change itself,
whoever makes it. It is installed when the issuing package is imported (issuing/__init__.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from store.models import DeliveryState, OutboundDocument, OutboundState, utcnow
from store.webhooks import enqueue_webhook

__all__ = ["DELIVERED", "REJECTED", "VALIDATED", "issued_payload", "links"]

VALIDATED = "invoice.validated"
REJECTED = "invoice.rejected"
DELIVERED = "invoice.delivered"

def _value(member: Any) -> Any:
    return getattr(member, "value", member)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def links(row: OutboundDocument) -> dict[str, str]:
    """Relative API paths of the document and its files (web/api_issuing.py)."""
    base = f"/api/v1/issued/{row.id}"
    return {"self": base, "xml": f"{base}/xml", "pdf": f"{base}/pdf", "attached_document": f"{base}/attached"}


def issued_payload(row: OutboundDocument, event_name: str, at: datetime) -> dict[str, Any]:
    """The JSON body the ERP receives (documented in web/openapi.py's webhooks)."""
    report = row.report or {}
    delivery = report.get("delivery") or {}
    return {
        "event": event_name,
        "occurred_at": at.isoformat(),
        "document": {
            "id": row.id,
            "document_type": _value(row.document_type),
            "prefix": row.prefix,
            "number": row.number,
            "cufe": row.cufe,
            "qr_text": row.qr_text,
            "state": _value(row.state),
            "issue_date": _iso(row.issue_date),
            "buyer_nit": row.buyer_nit,
            "buyer_name": row.buyer_name,
            "payable_amount": str(row.payable_amount) if row.payable_amount is not None else None,
            "currency": row.currency,
            "dian_status_code": row.dian_status_code,
            "dian_messages": list(row.dian_messages or []),
            "validated_at": _iso(row.validated_at),
            "delivery_state": _value(row.delivery_state),
            "delivered_at": _iso(row.delivered_at),
            "delivered_to": delivery.get("to"),
        },
        "links": links(row),
    }


def _changed_to(obj: OutboundDocument, attribute: str) -> Any:
    history = getattr(sa.inspect(obj).attrs, attribute).history
    if not history.added:
        return None
    new = _value(history.added[0])
    old = _value(history.deleted[0]) if history.deleted else None
    return new if new != old else None


@event.listens_for(Session, "before_flush")
def _enqueue_issued_changes(session: Session, _context: Any, _instances: Any) -> None:
    """One pending delivery per issued document whose verdict or buyer's copy changes in this flush."""
    now = None
    for obj in list(session.dirty):
        if not isinstance(obj, OutboundDocument) or obj.origin != "issued":
            continue
        names = []
        state = _changed_to(obj, "state")
        if state == OutboundState.ACCEPTED.value:
            names.append(VALIDATED)
        elif state == OutboundState.REJECTED.value:
            names.append(REJECTED)
        if _changed_to(obj, "delivery_state") == DeliveryState.SENT.value:
            names.append(DELIVERED)
        for name in names:
            now = now or utcnow()
            enqueue_webhook(session, event=name, payload=issued_payload(obj, name, now), document_id=None, at=now)
