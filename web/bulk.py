"""Bulk actions from the inbox: acknowledge (030), mark received (030 + 032), accept expressly (033, after a
confirmation page listing what will be sent) and assign to a clerk, on the ticked rows or on every document the
filters match.

Events go through events.service.emit_many (dian.rules decides per document), then deliver_now, as the document
page does; assignment goes through web.assignment.assign. The answer is a page with one row per document saying
honestly what became of it: registered, queued (DIAN did not answer; the outbox retries), rejected by DIAN with its
reason, or not sent and why.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import sqlalchemy as sa
from flask import render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from dian.calendar import BusinessCalendar
from dian.codes import EventCode
from events.approvals import PENDING_WORDS
from events.emit import EventRequest
from store.models import Direction, DocumentEvent, ReceivedDocument, SubmissionState
from store.state import IN_FLIGHT
from web import query, search, tenant
from web.assignment import AssignmentRefused, assign, assignable_users, display_name
from web.document_labels import EVENT_SHORT
from web.document_view import UNAVAILABLE, person_of, profile_person
from web.labels import local_time, money

MAX_SELECTED = 200
BULK_ACTIONS = {
    "acuse": ("Acusar recibo (030)", (EventCode.ACUSE_RECIBO,)),
    "recibido": ("Marcar recibido (030 + 032)", (EventCode.ACUSE_RECIBO, EventCode.RECIBO_BIEN)),
    "aceptar": ("Aceptación expresa (033)", (EventCode.ACEPTACION_EXPRESA,)),
}
ASSIGN = "asignar"
CONFIRMED = {"aceptar"}  # actions that show what will be sent and wait for a second click
WITH_PERSON = (EventCode.ACUSE_RECIBO, EventCode.RECIBO_BIEN)  # the events that name the person who received

# What became of one document, by kind: the result page colours and counts them.
OK, QUEUED, REJECTED, REFUSED, SKIPPED = "ok", "queued", "rejected", "refused", "skip"
PENDING = "pending"  # four-eyes holds it: a second user approves it on /aprobaciones (events/approvals.py)
KIND_LABELS = {  # after a count: "2 registrados por la DIAN"
    OK: "registrados por la DIAN",
    QUEUED: "en cola: la DIAN no respondió, se reintentará",
    REJECTED: "rechazados por la DIAN",
    REFUSED: "no enviados (no se permitía)",
    PENDING: "pendientes de aprobación: otra persona debe aprobarlos en Aprobaciones pendientes",
    SKIPPED: "sin cambios",
}


def _db() -> Any:
    return tenant.db()


def _done(db: Any, ids: list[int], code: EventCode) -> set[int]:
    """The documents on which this event is already registered, or ours and on its way to DIAN."""
    live = sa.or_(
        DocumentEvent.submission_state == SubmissionState.REGISTERED,
        sa.and_(DocumentEvent.direction == Direction.EMITTED, DocumentEvent.submission_state.in_(IN_FLIGHT)),
    )
    return set(
        db.scalars(
            sa.select(DocumentEvent.document_id).where(
                DocumentEvent.document_id.in_(ids), DocumentEvent.code == code, live
            )
        )
    )


def selected_ids(form: Any) -> list[int]:
    """The ticked document ids, in the order ticked, without repeats or junk."""
    seen: dict[int, None] = {}
    for value in form.getlist("ids"):
        value = str(value)
        if value.isascii() and value.isdigit() and len(value) <= 18:
            seen[int(value)] = None
    return list(seen)


class Refusal(Exception):
    """The bulk request cannot be done as asked; the message is for the page."""


def _filters(form: Any) -> query.InboxQuery:
    """The inbox filters the bulk bar carried (the page's own query string)."""
    args = MultiDict(parse_qsl(form.get("filters", ""), keep_blank_values=False))
    try:
        return query.InboxQuery.from_args(args, user=current_user.username)
    except query.FilterError as exc:
        raise Refusal(f"Los filtros de la bandeja no son válidos: {exc}") from None


def chosen_ids(db: Any, form: Any, calendar: BusinessCalendar) -> list[int]:
    """The documents the action is for: the ticked ones, or (scope=all) every one the inbox's filters match."""
    if form.get("scope") == "all":
        filters = _filters(form)
        ids = search.matching_ids(db, filters, now=datetime.now(UTC), calendar=calendar, limit=MAX_SELECTED + 1)
        if len(ids) > MAX_SELECTED:
            raise Refusal(
                f"Los filtros abarcan más de {MAX_SELECTED} documentos; una acción masiva llega hasta {MAX_SELECTED} "
                "a la vez. Afine los filtros (proveedor, fechas, estado) y vuelva a intentarlo."
            )
        return ids
    ids = selected_ids(form)
    if len(ids) > MAX_SELECTED:
        raise Refusal(f"Marcó {len(ids)} documentos; una acción masiva llega hasta {MAX_SELECTED} a la vez.")
    return ids


def _back(form: Any) -> str:
    """The inbox as the user left it (same filters)."""
    filters = form.get("filters", "")
    return url_for("inbox.index") + (f"?{filters}" if filters else "")


def _page(title: str, *, status: int = 200, **values: Any) -> tuple[str, int]:
    values.setdefault("rows", [])
    values.setdefault("codes", ())
    values.setdefault("problem", None)
    values.setdefault("summary", [])
    return render_template("bulk_result.html", title=title, back=_back(request.form), **values), status


def run_bulk(form: Any) -> tuple[str, int]:
    """The chosen action on the chosen documents: a confirmation page first for 033, then the result row by row."""
    db = _db()
    action = form.get("action", "")
    if action != ASSIGN and action not in BULK_ACTIONS:
        return _page("Acción masiva", status=400, problem="Acción desconocida.")
    title = "Asignar" if action == ASSIGN else BULK_ACTIONS[action][0]
    try:
        ids = chosen_ids(db, form, tenant.calendar())
    except Refusal as exc:
        return _page(title, status=400, problem=str(exc))
    if not ids:
        return _page(title, problem="No seleccionó ningún documento: marque las casillas de la bandeja, o elija "
                     "«todos los que coinciden», y vuelva a intentarlo.")  # fmt: skip
    documents = {d.id: d for d in db.scalars(sa.select(ReceivedDocument).where(ReceivedDocument.id.in_(ids)))}
    ids = [i for i in ids if i in documents]
    if action == ASSIGN:
        return _assign(db, form, ids, documents)
    service = tenant.service("events")
    if service is None:
        return _page(title, problem=UNAVAILABLE)
    if action in CONFIRMED and form.get("confirmed") != "1":
        return _confirm(db, service, action, ids, documents)
    return _send(db, service, action, ids, documents)


def _confirm(db: Any, service: Any, action: str, ids: list[int], documents: dict[int, Any]) -> tuple[str, int]:
    """What will be sent and what will not (dian.rules' reason), with one button to send it."""
    title, codes = BULK_ACTIONS[action]
    code = codes[-1]
    will, wont = [], []
    for i in ids:
        decision = dict(service.decisions(db, documents[i])).get(code)
        if decision is not None and decision.allowed:
            will.append(documents[i])
        else:
            wont.append((documents[i], decision.reason if decision else "Este evento no aplica a este documento."))
    return render_template(
        "bulk_confirm.html",
        title=title,
        action=action,
        code=code,
        event_name=EVENT_SHORT.get(code.value, code.label),
        will=will,
        wont=wont,
        filters=request.form.get("filters", ""),
        back=_back(request.form),
        money=money,
    ), 200


def _send(db: Any, service: Any, action: str, ids: list[int], documents: dict[int, Any]) -> tuple[str, int]:
    title, codes = BULK_ACTIONS[action]
    actor = current_user.actor
    person = person_of(profile_person(current_user.load(db)))
    outcome: dict[int, dict[str, dict[str, str]]] = {i: {} for i in ids}
    emitted_ids: dict[int, tuple[int, str]] = {}  # event id -> (document id, code)
    blocked: set[int] = set()  # a refused 030 makes the 032 after it pointless
    for code in codes:
        done = _done(db, ids, code)
        requests = []
        for i in ids:
            if i in done:
                outcome[i][code.value] = {"kind": SKIPPED, "text": "Ya enviado antes"}
            elif i in blocked:
                outcome[i][code.value] = {"kind": SKIPPED, "text": "No se envió (ver el evento anterior)"}
            else:
                # Only 030 and 032 name the person who received (dian.rules refuses a person on the others).
                requests.append((i, EventRequest(code, person=person if code in WITH_PERSON else None)))
        if not requests:
            continue
        sent, refused = service.emit_many(requests, actor=actor, source=request.remote_addr)
        for emitted in sent:
            emitted_ids[emitted.id] = (emitted.document_id, code.value)
            outcome[emitted.document_id][code.value] = {"kind": QUEUED, "text": f"Firmado ({emitted.number})"}
        for document_id, reason in refused.items():
            if reason.startswith(PENDING_WORDS):
                outcome[document_id][code.value] = {"kind": PENDING, "text": reason}
            else:
                outcome[document_id][code.value] = {"kind": REFUSED, "text": f"No se envió: {reason}"}
            blocked.add(document_id)
    if emitted_ids:
        delivered = service.deliver_now(actor=actor)
        db.expire_all()
        for event in db.scalars(sa.select(DocumentEvent).where(DocumentEvent.id.in_(list(emitted_ids)))):
            document_id, code_value = emitted_ids[event.id]
            outcome[document_id][code_value] = _event_outcome(event, reachable=delivered is not None)
    rows = [
        {"doc": documents[i], "results": [(c.value, EVENT_SHORT[c.value], outcome[i].get(c.value)) for c in codes]}
        for i in ids
    ]
    return _page(title, rows=rows, codes=codes, summary=_summary(rows))


def _event_outcome(event: DocumentEvent, *, reachable: bool) -> dict[str, str]:
    """One emitted event as it stands after the delivery attempt, in the clerk's words."""
    state, number = event.submission_state, event.number
    if state is SubmissionState.REGISTERED:
        return {"kind": OK, "text": f"Registrado por la DIAN ({number})"}
    if state is SubmissionState.REJECTED:
        why = "; ".join(str(m) for m in event.dian_messages or []) or event.last_error or "sin motivo indicado"
        return {"kind": REJECTED, "text": f"Rechazado por la DIAN ({number}): {why}"}
    when = ""
    if event.next_attempt_at is not None:
        when = f" hacia las {local_time(event.next_attempt_at)[-5:]}"
    reason = "la DIAN no responde ahora" if not reachable else "la DIAN aún no da respuesta definitiva"
    return {"kind": QUEUED, "text": f"En cola ({number}): {reason}; se reintentará automáticamente{when}"}


def _summary(rows: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    """(kind, label, how many documents) — each document counted by its last event's outcome."""
    counts: dict[str, int] = {}
    for row in rows:
        results = [r for _, _, r in row["results"] if r]
        kind = results[-1]["kind"] if results else SKIPPED
        if any(r["kind"] in (REJECTED, REFUSED) for r in results):
            kind = next(r["kind"] for r in results if r["kind"] in (REJECTED, REFUSED))
        counts[kind] = counts.get(kind, 0) + 1
    return [(k, KIND_LABELS[k], counts[k]) for k in (OK, QUEUED, PENDING, REJECTED, REFUSED, SKIPPED) if counts.get(k)]


def _assign(db: Any, form: Any, ids: list[int], documents: dict[int, Any]) -> tuple[str, int]:
    """Assign every chosen document to one clerk (or take the assignment away), audited one by one, one commit."""
    wanted = form.get("assignee", "").strip()
    if wanted == "me":
        wanted = current_user.username
    names = {u.username: display_name(u) for u in assignable_users(db)}
    if wanted and wanted not in names:
        return _page("Asignar", status=400, problem=f"No se puede asignar a «{wanted[:80]}»: no es un auxiliar activo.")
    who = names.get(wanted, "")
    rows = []
    for i in ids:
        doc = documents[i]
        try:
            changed = assign(db, doc, wanted or None, current_user.actor, source=request.remote_addr)
        except AssignmentRefused as exc:
            result = {"kind": REFUSED, "text": exc.reason}
        else:
            if not changed:
                result = {"kind": SKIPPED, "text": f"Ya estaba asignado a {who}" if wanted else "Ya estaba sin asignar"}
            else:
                result = {"kind": OK, "text": f"Asignado a {who}" if wanted else "Quedó sin asignar"}
        rows.append({"doc": doc, "results": [("asignar", "Asignación", result)]})
    db.commit()
    summary = _summary(rows)
    summary = [(k, {OK: "asignados", REFUSED: "no asignados"}.get(k, label), n) for k, label, n in summary]
    return _page(f"Asignar a {who}" if wanted else "Quitar la asignación", rows=rows, summary=summary,
                 columns=["Asignación"])  # fmt: skip
