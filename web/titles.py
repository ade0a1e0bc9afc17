"""Treasury's value titles: the list (our invoices to collect, received invoices we owe), one title's page (the
circulation chain as a timeline, the legitimate holder and payee, limitations, mandates, balance, and what treasury may
do now), the import of an invoice we issued elsewhere, and the sync of a title with DIAN.

Reading comes from the derived rows (value_titles) and the registered events; acting goes through radian.service
(web/title_actions.py), which asks dian.rules first. Treasury acts; clerks, admins and auditors read.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from dian.codes import EventCode
from dian.nit import same_nit
from dian.radian.model import Share
from radian.store import RADIAN_CODES, derived_title, load
from store.models import (
    DocumentEvent,
    OutboundDocument,
    PartyRole,
    ReceivedDocument,
    Role,
    SubmissionState,
    TitleAlert,
    TitleRole,
    TitleState,
    ValueTitle,
)
from web import tenant
from web.access import roles
from web.event_outcome import WAITING, Result, outcome_of, result_box
from web.labels import local_time, money
from web.title_labels import (
    ALARMING_ALWAYS,
    ALERT_LABELS,
    ROLE_LABELS,
    ROLE_PARAMS,
    STATE_HINTS,
    STATE_LABELS,
    URGENT_ALERTS,
    event_name,
    operation_name,
)
from web.title_offer import availability

log = logging.getLogger(__name__)

bp = Blueprint("titles", __name__)

READERS = (Role.TREASURY, Role.CLERK, Role.ADMIN, Role.AUDITOR)
ACTORS = (Role.TREASURY,)
UNAVAILABLE = ("Las acciones sobre títulos no están disponibles en esta instalación (falta la configuración de la "
               "DIAN o del certificado de la empresa).")  # fmt: skip
PAGE_SIZE = 200
IMPORT_MAX = 5 * 1024 * 1024


def _db() -> Any:
    return tenant.db()


def title_service() -> Any:
    """The value titles façade (radian.service.TitleService), or None when the app was built without one."""
    return tenant.service("titles")


def get_title(title_id: int) -> ValueTitle:
    title = _db().get(ValueTitle, title_id)
    if title is None:
        abort(404)
    return title


def back(title_id: int) -> Any:
    """Back to the title, at its result box."""
    return redirect(url_for("titles.show", title_id=title_id) + "#resultado")


# --- The list ------------------------------------------------------------------------------------------------


def _row(title: ValueTitle) -> dict[str, Any]:
    moved = not same_nit(title.payee_nit or title.issuer_nit, title.issuer_nit)
    return {
        "id": title.id,
        "role": ROLE_LABELS[title.role],
        "receivable": title.role is TitleRole.HOLDER,
        "number": title.invoice_number,
        "state": title.state.value,
        "state_label": STATE_LABELS.get(title.state, title.state.value),
        "counterparty": (title.debtor_name, title.debtor_nit) if title.role is TitleRole.HOLDER
        else (title.issuer_name, title.issuer_nit),
        "holder": (title.holder_name or "", title.holder_nit or ""),
        "payee": (title.payee_name or "", title.payee_nit or ""),
        "moved": moved,
        "limited": title.limited,
        "due": title.due_date.strftime("%d/%m/%Y") if title.due_date else "—",
        "overdue": bool(title.due_date and title.due_date < datetime.now(UTC).date() and title.state
                        is not TitleState.PAID),
        "value": money(title.value, title.currency),
        "outstanding": money(title.outstanding, title.currency),
    }  # fmt: skip


@bp.get("/titulos")
@roles(*READERS)
def index() -> str:
    """Every title, soonest due first, filtered by role (por cobrar / por pagar) and state."""
    role_param = request.args.get("rol", "")
    role = ROLE_PARAMS.get(role_param)
    state_param = request.args.get("estado", "")
    state = next((s for s in TitleState if s.value == state_param), None)
    problem = None
    if role_param and role is None:
        problem = f"El rol «{role_param[:40]}» no existe: use por cobrar o por pagar."
    if state_param and state is None:
        problem = f"El estado «{state_param[:40]}» no existe."
    query = sa.select(ValueTitle)
    if role is not None:
        query = query.where(ValueTitle.role == role)
    if state is not None:
        query = query.where(ValueTitle.state == state)
    query = query.order_by(ValueTitle.due_date.is_(None), ValueTitle.due_date, ValueTitle.id).limit(PAGE_SIZE + 1)
    titles = list(_db().scalars(query))
    return render_template(
        "titles.html",
        rows=[_row(t) for t in titles[:PAGE_SIZE]],
        more=len(titles) > PAGE_SIZE,
        role=role_param if role else "",
        state=state.value if state else "",
        states=STATE_LABELS,
        problem=problem,
        may_import=current_user.role in ACTORS,
    )


# --- One title -----------------------------------------------------------------------------------------------


def _invoice(title: ValueTitle) -> OutboundDocument | ReceivedDocument | None:
    if title.outbound_document_id is not None:
        return _db().get(OutboundDocument, title.outbound_document_id)
    if title.document_id is not None:
        return _db().get(ReceivedDocument, title.document_id)
    return None


def _events(title: ValueTitle) -> list[DocumentEvent]:
    if title.outbound_document_id is not None:
        where = DocumentEvent.outbound_document_id == title.outbound_document_id
    else:
        where = DocumentEvent.document_id == title.document_id
    return list(_db().scalars(sa.select(DocumentEvent).where(where).order_by(DocumentEvent.id)))


def _moment(event: DocumentEvent) -> datetime:
    moment = event.signing_time or event.registered_at or event.created_at or datetime.now(UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _named(name: str | None, nit: str | None) -> str:
    if not nit:
        return name or "—"
    return f"{name} (NIT {nit})" if name else f"NIT {nit}"


def timeline(events: list[DocumentEvent], title: ValueTitle) -> list[dict[str, Any]]:
    """Every event on the invoice in signing order: date, code and name, variant, from -> to, figures, DIAN's word.
    A party whose name the event does not carry (030-034 keep only NITs) is named from the title when it is one of
    the invoice's parties."""
    known = {title.issuer_nit: title.issuer_name, title.debtor_nit: title.debtor_name}

    def _party(name: str | None, nit: str | None) -> str:
        return _named(name or known.get(nit or ""), nit)

    rows = []
    for event in sorted(events, key=lambda e: (_moment(e), e.id)):
        receivers = [p for p in event.parties if p.role is PartyRole.RECEIVER]
        to = (
            ", ".join(_party(p.name, p.nit) for p in receivers)
            if receivers
            else _party(event.receiver_name, event.receiver_nit)
        )
        registered = event.submission_state is SubmissionState.REGISTERED
        rows.append({
            "id": event.id,
            "code": event.code.value,
            "name": event_name(event.code),
            "operation": "" if operation_name(event.operation).lower() == event_name(event.code).lower()
                else operation_name(event.operation),
            "radian": event.code in RADIAN_CODES,
            "number": event.number or "",
            "at": local_time(event.signing_time or event.registered_at),
            "from": _party(event.sender_name, event.sender_nit),
            "to": to,
            "amount": money(event.amount) if event.amount is not None else "",
            "price": money(event.price) if event.price is not None else "",
            "rate": f"{event.discount_rate.normalize():f} %".replace(".", ",") if event.discount_rate is not None
            else "",
            "registered": registered,
            "outcome": None if registered else outcome_of(event),
            "cude": event.cude or "",
        })  # fmt: skip
    return rows


def standing(title: ValueTitle) -> dict[str, list[dict[str, str]]]:
    """The active limitations (041) and mandates (043) by DIAN's replay (radian.title), for the page."""
    try:
        derived = derived_title(load(_db(), tenant.blobs(), title), Share(title.issuer_nit, title.issuer_name))
    except Exception:  # a broken stored event must not take the page down; the row's columns still show
        log.exception("title %s: the chain could not be replayed", title.id)
        return {"limitations": [], "mandates": []}
    if derived is None:
        return {"limitations": [], "mandates": []}

    def view(links: Any) -> list[dict[str, str]]:
        return [{"at": local_time(link.signed_at), "from": _named(link.sender.registration_name, link.sender.nit),
                 "operation": operation_name(link.operation), "cude": link.event.cude or "",
                 "mandatario": link.event.mandate.mandatario_nit if link.event.mandate else ""}
                for link in links]  # fmt: skip

    return {"limitations": view(derived.limitations), "mandates": view(derived.mandates)}


def title_result(events: list[DocumentEvent]) -> tuple[Result | None, bool]:
    """What the last action came to (flashed by it, focused), else our RADIAN events still waiting for DIAN."""
    return result_box(events, lambda e: e.code in RADIAN_CODES and e.submission_state in WAITING)


@bp.get("/titulos/<int:title_id>")
@roles(*READERS)
def show(title_id: int) -> str:
    """One title: who holds it and whom to pay, its balance, limitations and mandates, its chain, and the actions."""
    title = get_title(title_id)
    invoice = _invoice(title)
    events = _events(title)
    result, focus = title_result(events)
    service = title_service()
    may_act = current_user.role in ACTORS  # ours: circulate it; a supplier's: record our payment (045/051)
    actions = availability(service, title) if may_act and service is not None else []
    alerts = list(_db().scalars(sa.select(TitleAlert).where(TitleAlert.title_id == title.id)
                                .order_by(TitleAlert.created_at.desc()).limit(20)))  # fmt: skip
    return render_template(
        "title.html",
        title=title,
        invoice=invoice,
        row=_row(title),
        hint=STATE_HINTS.get(title.state, ""),
        holders=title.holders or [],
        standing=standing(title),
        timeline=timeline(events, title),
        result=result,
        focus_result=focus,
        may_act=may_act,
        may_sync=current_user.role in ACTORS and title.role is TitleRole.HOLDER,
        unavailable=UNAVAILABLE if may_act and service is None else None,
        actions=actions,
        alerts=[
            {
                "kind": ALERT_LABELS.get(a.kind, a.kind.value),
                "message": a.message,
                "at": local_time(a.created_at),
                "seen": a.seen_at is not None,
                "urgent": a.kind in URGENT_ALERTS and (title.role is TitleRole.OBLIGOR or a.kind in ALARMING_ALWAYS),
            }
            for a in alerts
        ],
        paid=money(title.paid, title.currency),
        limited_amount=money(title.limited_amount, title.currency) if title.limited_amount is not None else "",
        watched=local_time(title.last_watched_at),
        next_watch=local_time(title.next_watch_at),
        registered_at=local_time(title.registered_at),
        holder_since=local_time(title.holder_since),
        E=EventCode,
    )


@bp.post("/titulos/<int:title_id>/sincronizar")
@roles(*ACTORS)
def sync(title_id: int) -> Any:
    """Ask DIAN what is registered on our invoice (the buyer's acceptance, a factor's events) and derive it again."""
    title = get_title(title_id)
    service = title_service()
    if service is None:
        flash(UNAVAILABLE, "error")
        return back(title_id)
    if title.role is not TitleRole.HOLDER:
        flash("La vigilancia de endosos consulta sola a la DIAN las facturas por pagar (tarea programada).", "info")
        return back(title_id)
    result = service.sync(title_id, actor=current_user.actor)
    if result.error:
        flash(f"No se pudo consultar la DIAN: {result.error}", "error")
    elif result.observed or result.confirmed:
        found = ", ".join(result.observed + result.confirmed)
        flash(f"Consulta a la DIAN: registrados {found}. El título se recalculó con ellos.", "success")
    else:
        flash("Consulta a la DIAN: no hay eventos nuevos sobre esta factura.", "info")
    return back(title_id)


# --- Importing our own invoice ---------------------------------------------------------------------------------


@bp.get("/titulos/importar")
@roles(*ACTORS)
def import_form() -> str:
    """The form to import an invoice we issued elsewhere, with DIAN's answer."""
    return render_template("title_import.html", unavailable=UNAVAILABLE if title_service() is None else None)


@bp.post("/titulos/importar")
@roles(*ACTORS)
def import_invoice() -> Any:
    """File our invoice (AttachedDocument, or the invoice plus DIAN's answer) as a receivable title."""
    from radian.importing import ImportRefused

    service = title_service()
    if service is None:
        flash(UNAVAILABLE, "error")
        return redirect(url_for("titles.import_form"))
    upload, answer = request.files.get("factura"), request.files.get("respuesta")
    data = upload.read(IMPORT_MAX + 1) if upload is not None else b""
    answer_data = answer.read(IMPORT_MAX + 1) if answer is not None and answer.filename else None
    if not data:
        flash("Elija el archivo XML de la factura (el AttachedDocument con la respuesta de la DIAN).", "error")
        return redirect(url_for("titles.import_form"))
    if len(data) > IMPORT_MAX or (answer_data is not None and len(answer_data) > IMPORT_MAX):
        flash(f"El archivo supera {IMPORT_MAX // (1024 * 1024)} MB: no es una factura electrónica.", "error")
        return redirect(url_for("titles.import_form"))
    try:
        imported = service.import_invoice(data, actor=current_user.actor, source=request.remote_addr,
                                          dian_answer=answer_data)  # fmt: skip
    except ImportRefused as exc:
        flash(f"No se importó la factura: {exc}", "error")
        return redirect(url_for("titles.import_form"))
    flash(imported.summary, "success" if imported.proven else "warning")
    for warning in imported.warnings:
        flash(warning, "warning")
    return redirect(url_for("titles.show", title_id=imported.title_id) + "#resultado")
