"""Aprobaciones pendientes (four-eyes, issue 20): the events that wait for a second user before they are signed.

The list shows each request with what it would send, why it needs approval, who asked and — for a 031/033 — how
long its legal window still runs, flagged from the business day before it ends. A user with the role that acts on it
(AP clerks for received documents, treasury for titles) approves or refuses it with a reason; the requester sees
theirs but cannot decide them. Approving goes through events.service / radian.service (the same signing path) and
the outcome — registered, rejected by DIAN, or queued to retry — is shown atop this page. The service enforces who
may decide; this module only shows and asks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, get_flashed_messages, redirect, render_template, request, url_for
from flask_login import current_user

from dian.calendar import BOGOTA, BusinessCalendar
from dian.codes import EventCode
from events.approvals import APPROVER_ROLES, STATE_WORDS, ApprovalError, at_risk
from events.emit import EventRefused
from store.models import Approval, ApprovalState, DocumentEvent, ReceivedDocument, Role, User
from web import tenant
from web.access import roles
from web.deadline import WEEKDAYS
from web.document_labels import CLAIM_LABELS
from web.event_outcome import FLASH_KINDS, QUEUED, EventOutcome, Result, outcome_of
from web.labels import local_time, money
from web.title_labels import event_name

bp = Blueprint("approvals", __name__)

READERS = (Role.CLERK, Role.TREASURY, Role.ADMIN, Role.AUDITOR)
DECIDERS = (Role.CLERK, Role.TREASURY)
RECENT = 20
UNAVAILABLE = "El envío de eventos no está disponible en este servidor: no se puede aprobar ahora."
MAX_ID = 2**63 - 1  # a larger id in a URL names no request (and would overflow the database's integer)


def _db() -> Any:
    return tenant.db()


@dataclass
class Row:
    """One request as the page shows it."""

    approval: Approval
    event: str  # "Reclamo (031)"
    details: list[tuple[str, str]]
    requester: str
    decider: str
    window: str  # the legal window's end in words, "" when none runs
    flagged: bool  # the window ends within a business day: decide today
    mine: bool
    may_decide: bool
    event_row: DocumentEvent | None = None

    @property
    def state_words(self) -> str:
        return STATE_WORDS[self.approval.state]


def _names(db: Any, actors: set[str]) -> dict[str, str]:
    """user:<name> → "Nombre Apellido (usuario)"; other actors as they are."""
    names = {a.removeprefix("user:") for a in actors if a and a.startswith("user:")}
    found = {u.username: u for u in db.scalars(sa.select(User).where(User.username.in_(names)))} if names else {}
    out = {}
    for actor in actors:
        user = found.get((actor or "").removeprefix("user:"))
        full = " ".join(p for p in (user.first_name, user.family_name) if p) if user else ""
        out[actor] = f"{full} ({user.username})" if user and full else (user.username if user else actor or "")
    return out


def _details(row: Approval) -> list[tuple[str, str]]:
    """The exact action, in words: what approving will sign."""
    a = row.action or {}
    out: list[tuple[str, str]] = []
    if a.get("claim_reason"):
        out.append(("Motivo del reclamo", f"{a['claim_reason']} — {CLAIM_LABELS.get(a['claim_reason'], '')}"))
    if a.get("note"):
        out.append(("Nota al proveedor", str(a["note"])))
    if a.get("to"):
        out.append(("Endosatario", f"{a['to'].get('name', '')} (NIT {a['to'].get('nit', '')})"))
    if a.get("rate") not in (None, "0"):
        out.append(("Tasa de descuento", f"{a['rate']} %".replace(".", ",")))
    if a.get("endorsement") and a.get("endorsement") != "property":
        out.append(("Endoso", {"guarantee": "en garantía", "collection": "en procuración"}.get(a["endorsement"], "")))
    if a.get("kind") in ("payment", "transfer_payment"):
        out.append(("Pago", money(a["amount"]) if a.get("amount") else "el saldo completo"))
    if a.get("paid_on"):
        out.append(("Fecha del pago", a["paid_on"]))
    return out


def _window(end: datetime | None, now: datetime, calendar: BusinessCalendar) -> tuple[str, bool]:
    if end is None:
        return "", False
    local = end.astimezone(BOGOTA)
    words = f"{WEEKDAYS[local.weekday()]} {local:%d/%m/%Y} a las 23:59"
    if end < now:
        return f"El plazo legal venció el {words}.", True
    flagged = at_risk(now, end, calendar)
    prefix = "¡Urgente! " if flagged else ""
    return f"{prefix}El plazo legal para enviarlo vence el {words}.", flagged


def rows(db: Any, states: tuple[ApprovalState, ...], now: datetime, *, limit: int = 200,
         newest_first: bool = False) -> list[Row]:  # fmt: skip
    order = (Approval.decided_at.desc(), Approval.id.desc()) if newest_first else (Approval.requested_at, Approval.id)
    found = db.execute(
        sa.select(Approval, ReceivedDocument.window_ends_at)
        .outerjoin(ReceivedDocument, ReceivedDocument.id == Approval.document_id)
        .where(Approval.state.in_(states))
        .order_by(*order)
        .limit(limit)
    ).all()
    names = _names(db, {a.requested_by for a, _ in found} | {a.decided_by or "" for a, _ in found})
    events = {e.id: e for e in db.scalars(sa.select(DocumentEvent).where(
        DocumentEvent.id.in_([a.event_id for a, _ in found if a.event_id])))}  # fmt: skip
    calendar, me = tenant.calendar(), current_user.actor
    out = []
    for approval, end in found:
        kind = "title" if approval.title_id is not None else "document"
        window_end = end if approval.code in (EventCode.RECLAMO, EventCode.ACEPTACION_EXPRESA) else None
        window, flagged = _window(window_end, now, calendar) if approval.state is ApprovalState.PENDING else ("", False)
        mine = approval.requested_by == me
        out.append(Row(
            approval=approval,
            event=f"{event_name(approval.code)} ({approval.code.value})",
            details=_details(approval),
            requester=names.get(approval.requested_by, approval.requested_by),
            decider=names.get(approval.decided_by or "", approval.decided_by or ""),
            window=window,
            flagged=flagged,
            mine=mine,
            may_decide=not mine and current_user.role in APPROVER_ROLES[kind],
            event_row=events.get(approval.event_id) if approval.event_id else None,
        ))  # fmt: skip
    return out


def summary(db: Any, now: datetime) -> tuple[int, int]:
    """(pending, flagged: a 031/033 whose window ends within a business day) for the dashboard and the nav."""
    pending = rows(db, (ApprovalState.PENDING,), now)
    return len(pending), sum(1 for r in pending if r.flagged)


def waiting_on(db: Any, document_id: int) -> list[tuple[Approval, str, str]]:
    """The document's pending requests: (row, "Reclamo (031)", who asked) — the document page says they wait."""
    rows = list(db.scalars(sa.select(Approval).where(Approval.document_id == document_id,
                                                     Approval.state == ApprovalState.PENDING).order_by(Approval.id)))
    names = _names(db, {r.requested_by for r in rows})
    return [(r, f"{event_name(r.code)} ({r.code.value})", names.get(r.requested_by, r.requested_by)) for r in rows]


def pending_count(db: Any) -> int:
    """How many requests wait (the nav link's count): one COUNT, asked on every page."""
    return int(db.scalar(sa.select(sa.func.count()).select_from(Approval).where(
        Approval.state == ApprovalState.PENDING)) or 0)  # fmt: skip


@bp.app_context_processor
def _approvals_summary() -> dict[str, Any]:
    return {"approvals_summary": lambda: summary(_db(), datetime.now(UTC)),
            "approvals_waiting": lambda document_id: waiting_on(_db(), document_id),
            "approvals_pending": lambda: pending_count(_db())}


def _result(db: Any) -> tuple[Result | None, str]:
    """What the last decision came to, from the flashed messages (the approved event as DIAN left it), and the
    invoice it was about."""
    ids: list[int] = []
    notes: list[tuple[str, str]] = []
    number = "Aprobaciones"
    for category, message in get_flashed_messages(with_categories=True):
        if category == "outcome" and isinstance(message, dict):
            ids.extend(int(i) for i in message.get("events", []) if str(i).isdigit())
            number = f"factura {message.get('number') or ''}".strip()
        else:
            notes.append((FLASH_KINDS.get(category, QUEUED), str(message)))
    db.expire_all()
    items: list[EventOutcome] = [outcome_of(e) for e in db.scalars(sa.select(DocumentEvent).where(
        DocumentEvent.id.in_(ids)).order_by(DocumentEvent.id))] if ids else []  # fmt: skip
    return (Result(items, notes) if items or notes else None), number


@bp.get("/aprobaciones")
@roles(*READERS)
def index() -> str:
    """Pending requests first (the flagged on top), then the recently decided ones."""
    db, now = _db(), datetime.now(UTC)
    result, number = _result(db)
    pending = rows(db, (ApprovalState.PENDING,), now)
    pending.sort(key=lambda r: (not r.flagged, r.approval.requested_at))
    decided = rows(db, (ApprovalState.SENT, ApprovalState.REFUSED, ApprovalState.EXPIRED, ApprovalState.APPROVED),
                   now, limit=RECENT, newest_first=True)  # fmt: skip
    return render_template("approvals.html", pending=pending, decided=decided, result=result, money=money,
                           local_time=local_time, outcome_of=outcome_of, focus_result=result is not None,
                           result_number=number)  # fmt: skip


def _back() -> Any:
    return redirect(url_for("approvals.index") + "#resultado")


@bp.post("/aprobaciones/<int:approval_id>/aprobar")
@roles(*DECIDERS)
def approve(approval_id: int) -> Any:
    """Approve: the stored action is signed and sent now through the service, which checks who may approve."""
    row = _db().get(Approval, approval_id) if approval_id <= MAX_ID else None
    if row is None:
        flash(f"No existe la solicitud {approval_id}.", "error")
        return _back()
    actor, source = current_user.actor, request.remote_addr
    if row.title_id is not None:
        titles = tenant.service("titles")
        if titles is None:
            flash(UNAVAILABLE, "error")
            return _back()
        outcome = titles.approve(approval_id, approver=actor, source=source)
        if not outcome.allowed or outcome.event_id is None:
            flash(f"No se aprobó la solicitud {approval_id}: {outcome.reason}"
                  + (f" [regla {outcome.rule}]" if outcome.rule else ""), "error")  # fmt: skip
            return _back()
        flash({"events": [outcome.event_id], "number": row.invoice_number}, "outcome")
        return _back()
    events = tenant.service("events")
    if events is None:
        flash(UNAVAILABLE, "error")
        return _back()
    try:
        emitted = events.approve(approval_id, approver=actor, source=source)
    except ApprovalError as exc:
        flash(f"No se aprobó la solicitud {approval_id}: {exc}", "error")
        return _back()
    except EventRefused as exc:
        flash(f"No se aprobó la solicitud {approval_id}: las reglas ya no permiten enviarlo ({exc.reason}). "
              "Sigue pendiente: puede rechazarla con el motivo.", "error")  # fmt: skip
        return _back()
    flash({"events": [emitted.id], "number": row.invoice_number}, "outcome")
    return _back()


@bp.post("/aprobaciones/<int:approval_id>/rechazar")
@roles(*DECIDERS)
def refuse(approval_id: int) -> Any:
    """Refuse with a reason the requester reads; the service checks who may refuse."""
    events = tenant.service("events")
    titles = tenant.service("titles")
    service = events or titles
    if service is None:
        flash(UNAVAILABLE, "error")
        return _back()
    note = str(request.form.get("motivo", ""))
    if approval_id > MAX_ID:
        flash(f"No existe la solicitud {approval_id}.", "error")
        return _back()
    try:
        if events is not None:
            events.refuse(approval_id, approver=current_user.actor, note=note, source=request.remote_addr)
        else:
            titles.refuse(approval_id, approver=current_user.actor, note=note, source=request.remote_addr)
    except ApprovalError as exc:
        flash(f"No se rechazó la solicitud {approval_id}: {exc}", "error")
        return _back()
    flash(f"Solicitud {approval_id} rechazada. Quien la pidió verá el motivo.", "success")
    return _back()
