"""The JSON API for ERP integration under /api/v1, authenticated by `Authorization: Bearer <token>`.

Tokens come from `buzon token create --user NAME`; a request with a bearer token is that token's user, whatever
cookie it carries. Errors are JSON: 401 without a valid token, 403 when the user's role may not use the route.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, jsonify, request, url_for
from flask_login import current_user
from sqlalchemy.orm import Session

from dian.calendar import BusinessCalendar
from dian.codes import ClaimReason, EventCode
from dian.ubl import Person
from events.emit import BUYER_EVENTS, ApprovalPending, EventRefused, EventRequest
from events.outbox import unresolved
from store.models import DocumentEvent, ReceivedDocument, Role, User
from store.state import events_of
from web import api_input, search, tenant
from web.access import roles
from web.api_input import InputError
from web.labels import STATE_LABELS, VERDICT_LABELS, claim_window_left, dian_validated
from web.openapi import openapi_document
from web.query import FilterError, InboxQuery

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.get("/me")
@roles(*Role)
def me() -> Any:
    """Who the token (or session) belongs to, with the role that decides what else the API allows."""
    return jsonify(
        username=current_user.username,
        name=current_user.display_name,
        email=current_user.email,
        role=str(current_user.role),
        role_label=current_user.role_label,
        authenticated_by=current_user.via,
    )


# --- Documents: the inbox for an ERP ----------------------------------------------------------------------------

READERS = (Role.CLERK, Role.TREASURY, Role.ADMIN, Role.AUDITOR)


def _db() -> Session:
    return tenant.db()


def _error(status: int, error: str, message: str, **extra: Any) -> Any:
    return jsonify(error=error, message=message, **extra), status


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _money(value: Decimal | None) -> str | None:
    """Money as a decimal string (never a float): "1234567.89"."""
    return format(Decimal(value).quantize(Decimal("0.01")), "f") if value is not None else None


def document_summary(doc: ReceivedDocument, now: datetime, calendar: BusinessCalendar) -> dict[str, Any]:
    """One document as the list shows it."""
    remaining = claim_window_left(doc, now, calendar)
    return {
        "cufe": doc.cufe,
        "document_type": doc.document_type.value,
        "number": doc.number,
        "issuer": {"nit": doc.issuer_nit, "dv": doc.issuer_dv, "name": doc.issuer_name},
        "issue_date": _iso(doc.issue_date),
        "issued_at": _iso(doc.issued_at),
        "due_date": _iso(doc.due_date),
        "order_reference": doc.order_reference,
        "payable_amount": _money(doc.payable_amount),
        "currency": doc.currency,
        "state": doc.state.value,
        "state_label": STATE_LABELS.get(doc.state, doc.state.value),
        "verdict": doc.verdict.value,
        "verdict_label": VERDICT_LABELS.get(doc.verdict.value, doc.verdict.value),
        # Only valid and valid_with_warnings count as DIAN's validation; unconfirmed and invalid do not (DESIGN.md 5a).
        "dian_validated": dian_validated(doc.verdict),
        "window_ends_at": _iso(doc.window_ends_at),
        "window_remaining": None
        if remaining is None
        else {"business_days": remaining.days, "hours": remaining.hours, "expired": remaining.expired},
        "assigned_to": doc.assigned_to,
        "url": url_for("api.document", cufe=doc.cufe),
    }


def event_json(event: DocumentEvent) -> dict[str, Any]:
    """One event of a document's timeline, ours or observed, with DIAN's answer."""
    return {
        "id": event.id,
        "code": event.code.value,
        "direction": event.direction.value,
        "number": event.number,
        "cude": event.cude,
        "claim_reason": event.claim_reason.value if event.claim_reason else None,
        "note": event.note,
        "person": event.person,
        "submission_state": event.submission_state.value,
        "dian_status_code": event.dian_status_code,
        "dian_messages": event.dian_messages or [],
        "attempts": event.attempts,
        "last_error": event.last_error,
        # DIAN kept answering 98/66 (en proceso / no encontrado): no longer sent automatically; someone must look.
        "unresolved": unresolved(event),
        "signing_time": _iso(event.signing_time),
        "registered_at": _iso(event.registered_at),
        "actor": event.actor or None,
    }


@bp.get("/documents")
@roles(*READERS)
def documents() -> Any:
    """The inbox's documents with its filters (web/query.py), in keyset pages: pass `next_cursor` back as `cursor`."""
    now = datetime.now(UTC)
    calendar = tenant.calendar()
    try:
        checked = api_input.list_args(request.args)
        filters = InboxQuery.from_args(request.args)
        found = search.page(_db(), filters, now=now, calendar=calendar, cursor=request.args.get("cursor") or None,
                           limit=checked["limit"])  # fmt: skip
    except InputError as exc:
        return _refused(exc)
    except FilterError as exc:
        return _error(400, "bad_request", str(exc), field=_filter_field(str(exc)))
    return jsonify(
        documents=[document_summary(d, now, calendar) for d in found.documents],
        next_cursor=found.next_cursor,
    )


_LIST_PARAMS = (*(name for _, name in InboxQuery.PARAMS), "cursor", "limit")  # the filters' names, and the page's


def _filter_field(message: str) -> str | None:
    """The parameter a web.query refusal names ("from: …"; its cursor message names none)."""
    head = message.partition(":")[0].strip()
    if head in _LIST_PARAMS:
        return head
    return "cursor" if "cursor" in message.lower() else None


def _refused(exc: InputError) -> Any:
    """A 400 naming the refused parameter or field."""
    return _error(400, "bad_request", str(exc), field=exc.field)


def _by_cufe(cufe: str) -> ReceivedDocument:
    try:
        wanted = api_input.cufe(cufe)
    except InputError as exc:
        body, status = _refused(exc)
        body.status_code = status
        abort(body)
    doc = _db().scalar(sa.select(ReceivedDocument).where(ReceivedDocument.cufe == wanted))
    if doc is None:
        abort(404, description=f"No hay ningún documento recibido con el CUFE {cufe[:96]}.")
    return doc


@bp.get("/documents/<cufe>")
@roles(*READERS)
def document(cufe: str) -> Any:
    """One document: its data, lines and taxes, its verification report, its events, and what may be sent now."""
    db = _db()
    doc = _by_cufe(cufe)
    now = datetime.now(UTC)
    body = document_summary(doc, now, tenant.calendar())
    body.update(
        prefix=doc.prefix,
        environment=doc.environment.value,
        buyer={"nit": doc.buyer_nit, "name": doc.buyer_name},
        payment_means=doc.payment_means.value if doc.payment_means else None,
        totals={
            "line_extension_amount": _money(doc.line_extension_amount),
            "tax_exclusive_amount": _money(doc.tax_exclusive_amount),
            "tax_inclusive_amount": _money(doc.tax_inclusive_amount),
            "payable_amount": _money(doc.payable_amount),
        },
        taxes=doc.taxes,
        lines=doc.lines,
        referenced_cufe=doc.referenced_cufe,
        report=doc.report,
        events=[event_json(e) for e in events_of(db, doc)],
        actions=_actions(db, doc),
    )
    return jsonify(body)


def _actions(db: Session, doc: ReceivedDocument) -> list[dict[str, Any]] | None:
    """For each buyer event (030, 031, 032, 033): may it be sent now, and if not, why (None without the service)."""
    service = tenant.service("events")
    if service is None:
        return None
    return [
        {"code": code.value, "allowed": d.allowed, "reason": d.reason or None, "rule": d.rule}
        for code, d in service.decisions(db, doc)
    ]


def _event_request(body: Any, user: User) -> EventRequest:
    """An EventRequest from the checked JSON body; the person defaults to the user's own profile when complete."""
    fields = api_input.event_body(body)
    code, reason, given = fields["code"], fields["claim_reason"], fields["person"]
    person = None
    if given is not None:
        person = Person(id=given["id"], first_name=given["first_name"], family_name=given["family_name"],
                        id_type=given["id_type"], job_title=given["job_title"],
                        department=given["department"])  # fmt: skip
    elif code in (EventCode.ACUSE_RECIBO.value, EventCode.RECIBO_BIEN.value):
        profile = {"id": user.id_number, "first_name": user.first_name, "family_name": user.family_name}
        if all(profile.values()):
            person = Person(id=user.id_number or "", first_name=user.first_name or "",
                            family_name=user.family_name or "", id_type=user.id_type or "13",
                            job_title=user.job_title, department=user.department)  # fmt: skip
    return EventRequest(EventCode(code), person=person, claim_reason=ClaimReason(reason) if reason else None,
                        note=fields["note"])  # fmt: skip


@bp.post("/documents/<cufe>/events")
@roles(Role.CLERK)
def send_event(cufe: str) -> Any:
    """Sign and queue 030, 031, 032 or 033 on the document, deliver it to DIAN now, and answer with its state."""
    db = _db()
    doc = _by_cufe(cufe)
    request.max_content_length = api_input.MAX_BODY_BYTES  # a longer body is a 413 (field "body") before it is read
    if (request.content_length or 0) > api_input.MAX_BODY_BYTES:
        abort(413)
    try:
        body = api_input.json_body(request.get_data(cache=False), request.content_type)
        wanted = _event_request(body, current_user.load(db))
    except InputError as exc:
        return _refused(exc)
    service = tenant.service("events")
    if service is None:
        return _error(503, "unavailable", "El envío de eventos no está disponible en este servidor.")
    # Whether the document's state allows it now is a conflict (409); a request the event cannot carry is a 422.
    decided = dict(service.decisions(db, doc)) if wanted.code in BUYER_EVENTS else {}
    decision = decided.get(wanted.code)
    if decision is not None and not decision.allowed:
        return _error(409, "conflict", decision.reason, rule=decision.rule)
    actor = current_user.actor
    try:
        emitted = service.emit(doc.id, wanted, actor=actor, source=request.remote_addr)
    except ApprovalPending as exc:  # four-eyes: nothing signed; the request waits for a second user
        return jsonify(message=exc.reason, approval={"id": exc.approval_id, "state": "pending",
                                                     "code": wanted.code.value}), 202  # fmt: skip
    except EventRefused as exc:
        return _error(409 if exc.rule else 422, "conflict" if exc.rule else "unprocessable", exc.reason,
                      rule=exc.rule)  # fmt: skip
    report = service.deliver_now(actor=actor)
    db.expire_all()
    event = db.get(DocumentEvent, emitted.id)
    assert event is not None
    response = jsonify(
        event=event_json(event),
        submission_state=event.submission_state.value,
        delivered_now=report is not None,
    )
    response.status_code = 201
    response.headers["Location"] = url_for("api.document", cufe=doc.cufe)
    return response


# --- Payables: the payment run, with the payee of each line (radian/payables.py) --------------------------------


@bp.get("/payables")
@roles(*READERS)
def payables() -> Any:
    """The unpaid received credit invoices with whom to pay (the RADIAN holder when the supplier endorsed the
    invoice), the value outstanding and the due date; a line that must not be paid now says why (``refused``)."""
    from radian.payables import PayableFilters, iter_json
    from radian.payables import payables as payment_run

    try:
        filters = PayableFilters(**api_input.payables_args(request.args))
    except InputError as exc:
        return _refused(exc)
    lines = payment_run(_db(), filters)
    refused = sum(1 for line in lines if not line.payable)
    return jsonify(payables=list(iter_json(lines)), counts={"payable": len(lines) - refused, "refused": refused})


@bp.get("/openapi.json")
@roles(*READERS)
def openapi() -> Any:
    """This API described in OpenAPI 3.1 (web/openapi.py)."""
    return jsonify(openapi_document())
