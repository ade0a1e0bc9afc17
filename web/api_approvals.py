"""Four-eyes through the API (issue 20): what the Aprobaciones pendientes page (web/approvals.py) offers, for an ERP.

* ``GET /api/v1/approvals``: the pending requests, the flagged ones first (a 031/033 whose legal window ends within
  a business day), each with what approving would sign and whether this token's user may decide it.
* ``POST /api/v1/approvals/<id>/approve``: the stored action signed through the same service path as the page and
  delivered now; 200 with the event as DIAN left it.
* ``POST /api/v1/approvals/<id>/refuse``: with ``{"reason": "…"}`` (required), which the requester reads.

The same rules as the page, enforced by the services (events/approvals.py): never the requester, only a user with
the role that acts on it (AP clerks for received documents, treasury for titles). 404 for no such request, 409 for
one already decided or one the rules now refuse, 403 for a user who may not decide it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, jsonify, request
from flask_login import current_user

from events.approvals import STATE_WORDS, ApprovalError, check_approver
from events.emit import EventRefused
from store.models import Approval, ApprovalState, DocumentEvent
from web import api_input, tenant
from web.access import roles
from web.api import event_json
from web.api_input import InputError
from web.approvals import DECIDERS, MAX_ID, READERS, UNAVAILABLE, Row, rows

__all__ = ["bp"]

bp = Blueprint("api_approvals", __name__, url_prefix="/api/v1")


def _db() -> Any:
    return tenant.db()


def _error(status: int, error: str, message: str, **extra: Any) -> Any:
    return jsonify(error=error, message=message, **extra), status


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def approval_json(row: Row) -> dict[str, Any]:
    """One pending request as the API lists it."""
    a = row.approval
    return {
        "id": a.id,
        "code": a.code.value,
        "event": row.event,
        "state": a.state.value,
        "state_label": row.state_words,
        "kind": "title" if a.title_id is not None else "document",
        "document_id": a.document_id,
        "title_id": a.title_id,
        "invoice_number": a.invoice_number or None,
        "counterparty": {"nit": a.counterparty_nit, "name": a.counterparty_name},
        "amount": format(a.amount, "f") if a.amount is not None else None,
        "reason": a.reason,
        "action": dict(a.action or {}),
        "details": [{"label": label, "value": value} for label, value in row.details],
        "requested_by": a.requested_by,
        "requester": row.requester,
        "requested_at": _iso(a.requested_at),
        "window": row.window or None,
        "flagged": row.flagged,
        "mine": row.mine,
        "may_decide": row.may_decide,
    }


@bp.get("/approvals")
@roles(*READERS)
def pending() -> Any:
    """The pending requests, flagged first, then the oldest."""
    found = rows(_db(), (ApprovalState.PENDING,), datetime.now(UTC))
    found.sort(key=lambda r: (not r.flagged, r.approval.requested_at, r.approval.id))
    return jsonify(approvals=[approval_json(r) for r in found],
                   counts={"pending": len(found), "flagged": sum(1 for r in found if r.flagged)})  # fmt: skip


def _pending_or_error(approval_id: int) -> tuple[Approval | None, Any]:
    """The request if it still waits; else the answer to give (404 or 409)."""
    row = _db().get(Approval, approval_id) if approval_id <= MAX_ID else None
    if row is None:
        return None, _error(404, "not_found", f"No existe la solicitud de aprobación {approval_id}.")
    if row.state is not ApprovalState.PENDING:
        return None, _error(409, "conflict", f"La solicitud {approval_id} ya está {STATE_WORDS[row.state]}: no se "
                                             "puede decidir otra vez.", state=row.state.value)  # fmt: skip
    return row, None


def _decided(approval_id: int, event_id: int | None) -> Any:
    db = _db()
    db.expire_all()
    row = db.get(Approval, approval_id)
    event = db.get(DocumentEvent, event_id) if event_id is not None else None
    return jsonify(approval={"id": approval_id, "state": row.state.value if row else None,
                             "state_label": STATE_WORDS[row.state] if row else None},
                   event=event_json(event) if event is not None else None)  # fmt: skip


@bp.post("/approvals/<int:approval_id>/approve")
@roles(*DECIDERS)
def approve(approval_id: int) -> Any:
    """Approve: the stored action is signed and delivered now; the event as DIAN left it."""
    row, answer = _pending_or_error(approval_id)
    if row is None:
        return answer
    actor, source = current_user.actor, request.remote_addr
    if row.title_id is not None:
        titles = tenant.service("titles")
        if titles is None:
            return _error(503, "unavailable", UNAVAILABLE)
        try:  # the title service answers a refused approver with an Outcome: ask first, for the 403
            check_approver(_db(), approval_id, actor)
        except ApprovalError as exc:
            return _error(403, "forbidden", str(exc))
        outcome = titles.approve(approval_id, approver=actor, source=source)
        if not outcome.allowed or outcome.event_id is None:
            return _error(409, "conflict", f"No se aprobó la solicitud {approval_id}: {outcome.reason}",
                          rule=outcome.rule)  # fmt: skip
        return _decided(approval_id, outcome.event_id)
    events = tenant.service("events")
    if events is None:
        return _error(503, "unavailable", UNAVAILABLE)
    try:
        emitted = events.approve(approval_id, approver=actor, source=source)
    except ApprovalError as exc:
        return _error(403, "forbidden", str(exc))
    except EventRefused as exc:
        return _error(409, "conflict", f"Las reglas ya no permiten enviarlo ({exc.reason}). Sigue pendiente: puede "
                                       "rechazarla con el motivo.", rule=exc.rule)  # fmt: skip
    return _decided(approval_id, emitted.id)


@bp.post("/approvals/<int:approval_id>/refuse")
@roles(*DECIDERS)
def refuse(approval_id: int) -> Any:
    """Refuse with the reason the requester reads (``{"reason": "…"}``)."""
    try:
        body = api_input.json_body(request.get_data(cache=False), request.content_type)
        if not isinstance(body, dict):
            raise InputError("body", "envíe un objeto JSON con reason.")
        reason = body.get("reason")
        if not isinstance(reason, str):
            raise InputError("reason", "escriba el motivo del rechazo (texto): quien lo pidió lo verá.")
    except InputError as exc:
        return _error(400, "bad_request", str(exc), field=exc.field)
    if not reason.strip():
        return _error(422, "unprocessable", "Escriba el motivo del rechazo: quien lo pidió lo verá.", field="reason")
    row, answer = _pending_or_error(approval_id)
    if row is None:
        return answer
    service = tenant.service("events") or tenant.service("titles")
    if service is None:
        return _error(503, "unavailable", UNAVAILABLE)
    try:
        service.refuse(approval_id, approver=current_user.actor, note=reason, source=request.remote_addr)
    except ApprovalError as exc:
        return _error(403, "forbidden", str(exc))
    return _decided(approval_id, None)
