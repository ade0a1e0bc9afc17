"""The inbox: received documents, newest first, with their state, DIAN check and claim-window countdown."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import Blueprint, Response, render_template, request, stream_with_context
from flask_login import current_user

from dian.calendar import BOGOTA
from dian.codes import DocumentState, DocumentType
from store.models import (
    Direction,
    DocumentEvent,
    MailMessage,
    MailStatus,
    ReceivedDocument,
    Role,
    SubmissionState,
    User,
    Verdict,
)
from store.state import IN_FLIGHT
from web import query, search, tenant
from web.access import roles
from web.assignment import assignable_users, display_name
from web.deadline import DUE_CHOICES, deadline
from web.labels import QUARANTINE_LABELS, STATE_LABELS, VERDICT_LABELS, claim_window_left, local_time, money
from web.query import FilterError, InboxQuery

bp = Blueprint("inbox", __name__)
PAGE_SIZE = 50


def _db() -> Any:
    return tenant.db()


# Everyone reads the inbox and the quarantine: treasury read-only, the auditor everything, and the admin too,
# because a wrong NIT or mailbox setting shows up first as documents missing here or mail piling up in quarantine.
READERS = (Role.CLERK, Role.TREASURY, Role.ADMIN, Role.AUDITOR)


MAX_SELECTED = 200  # web/bulk.py's limit, repeated here so that this module does not import the events machinery
# A filtered count stops here: past it the page says "más de 1.000" (counting further reads every match, which at
# 200k documents costs more than the page itself; benchmarks/web.py).
COUNT_CAP = 1_000

# One-click views: (label, the query-string parameters). "me" is the signed-in user (InboxQuery.from_args).
SAVED_VIEWS = (
    ("Mis facturas", {"assigned": "me"}),
    ("Vencen hoy", {"due": "0", "sort": "window"}),
    ("Rechazadas por DIAN", {"dian": "rejected"}),
    ("Sin confirmar", {"verdict": "unconfirmed"}),
)

# The filter form's labels, for a refusal told on the page in the words of the form ("Emitida hasta: …").
FIELD_LABELS = {
    "status": "Estado", "verdict": "Verificación", "supplier": "Proveedor", "from": "Emitida desde",
    "to": "Emitida hasta", "min_amount": "Valor desde", "max_amount": "Valor hasta", "due": "Plazo vence",
    "closing_within": "Plazo por vencer", "quarantined": "Solo en cuarentena", "q": "Buscar", "sort": "Orden",
    "assigned": "Asignado a", "dian": "Eventos ante la DIAN", "order": "Orden de compra",
    "no_order": "Sin orden de compra",
}  # fmt: skip


def refusal(exc: FilterError) -> str:
    """A FilterError in the form's own words: "Emitida hasta: la fecha 31/12/9999 está fuera del rango …"."""
    name, sep, text = str(exc).partition(": ")
    if sep and name in FIELD_LABELS:
        return f"{FIELD_LABELS[name]}: {text}"
    return str(exc)


def _me() -> str | None:
    return getattr(current_user, "username", None)


@bp.get("/")
@roles(*READERS)
def index() -> tuple[str, int]:
    """The newest documents first; keyset pagination on (issued_at, id) stays fast on large tables.

    A filter the inbox cannot use (a date out of range, a bad value) is told on the page, beside the form, as a 400."""
    db = _db()
    now = datetime.now(UTC)
    calendar = tenant.calendar()
    problem = None
    try:
        filters = InboxQuery.from_args(request.args, user=_me())
        found = search.page(db, filters, now=now, calendar=calendar, cursor=request.args.get("after") or None,
                           limit=PAGE_SIZE)  # fmt: skip
    except FilterError as exc:
        problem = refusal(exc)
        filters, found = InboxQuery(), search.Page([], None)
    rows = found.documents
    events = _event_tags([d.id for d in rows])
    names = _assignee_names(db, {d.assigned_to for d in rows if d.assigned_to})
    documents = []
    for d in rows:
        remaining = claim_window_left(d, now, calendar)
        documents.append(
            {
                "doc": d,
                "state": STATE_LABELS.get(d.state, d.state),
                "verdict": VERDICT_LABELS.get(d.verdict, d.verdict),
                "amount": money(d.payable_amount, d.currency),
                "deadline": deadline(now, d.window_ends_at, remaining, calendar) if remaining else None,
                "event": events.get(d.id),
                "assignee": names.get(d.assigned_to or "", d.assigned_to),
            }
        )
    quarantined = db.scalar(
        sa.select(sa.func.count()).select_from(MailMessage).where(MailMessage.status == MailStatus.QUARANTINED)
    )
    total, total_estimated = _document_count(db)
    matching = None
    if filters.filtered and problem is None:
        matching = search.count(db, filters, now=now, calendar=calendar, cap=COUNT_CAP)
    page = render_template(
        "inbox.html",
        documents=documents,
        next_cursor=found.next_cursor,
        quarantined=quarantined,
        total=total,
        total_estimated=total_estimated,
        matching=matching,
        count_cap=COUNT_CAP,
        # The bulk bar: "all N that match" (when N is known and small enough), and whom to assign to.
        all_count=matching if filters.filtered else (None if total_estimated else total),
        max_selected=MAX_SELECTED,
        filter_query=urlencode(filters.to_args(), doseq=True),
        assignees=[(u.username, display_name(u)) for u in assignable_users(db)] if may_be_assigned() else [],
        me=_me(),
        problem=problem,
        views=_views(filters),
        settings=tenant.settings(),
        **_filter_form(filters),
    )
    return page, 400 if problem else 200


def _views(filters: InboxQuery) -> list[dict[str, Any]]:
    """The saved views as links, the one the page shows marked current."""
    shown = filters.to_args()
    out = []
    for label, args in SAVED_VIEWS:
        if args.get("assigned") == "me" and not may_be_assigned():
            continue
        resolved = InboxQuery.from_args(_multi(args), user=_me()).to_args()
        out.append({"label": label, "args": args, "current": resolved == shown})
    return out


def may_be_assigned() -> bool:
    """Only clerks are given documents (web/assignment.py), so only they see "Mis facturas"."""
    return getattr(current_user, "role", None) is Role.CLERK


def _multi(args: dict[str, str]) -> Any:
    from werkzeug.datastructures import MultiDict

    return MultiDict(args)


def _event_tags(ids: list[int]) -> dict[int, dict[str, str]]:
    """Per document, our event that is still on its way or whose last attempt DIAN rejected ("033 en cola",
    "031 rechazado por la DIAN"), the latest one when several; documents with neither are left out."""
    if not ids:
        return {}
    rows = (
        _db()
        .execute(
            sa.select(DocumentEvent.document_id, DocumentEvent.code, DocumentEvent.submission_state)
            .where(DocumentEvent.document_id.in_(ids), DocumentEvent.direction == Direction.EMITTED)
            .order_by(DocumentEvent.id)
        )
        .all()
    )
    latest: dict[tuple[int, str], SubmissionState] = {}
    for document_id, code, state in rows:
        latest.pop((document_id, code.value), None)  # re-inserted last: dict order is then the order of the events
        latest[(document_id, code.value)] = state
    tags: dict[int, dict[str, str]] = {}
    for (document_id, code), state in latest.items():
        if state is SubmissionState.REJECTED:
            tags[document_id] = {"kind": "rejected", "text": f"{code} rechazado por la DIAN"}
        elif state is SubmissionState.SENT:
            tags[document_id] = {"kind": "queued", "text": f"{code} enviado, esperando a la DIAN"}
        elif state is SubmissionState.SEND_FAILED:
            tags[document_id] = {"kind": "queued", "text": f"{code} en cola, se reintentará"}
        elif state in IN_FLIGHT:
            tags[document_id] = {"kind": "queued", "text": f"{code} en cola"}
    return tags


def _assignee_names(db: Any, usernames: set[str]) -> dict[str, str]:
    """Each assignee's name as people say it ("Ana Torres"), the username when the profile has none."""
    if not usernames:
        return {}
    users = db.execute(sa.select(User.username, User.first_name, User.family_name).where(User.username.in_(usernames)))
    return {u: " ".join(p for p in (first, family) if p) or u for u, first, family in users}


@bp.get("/cuarentena")
@roles(*READERS)
def quarantine() -> str:
    """Mail that was not filed, with the reason a clerk can act on."""
    db = _db()
    rows = db.scalars(
        sa.select(MailMessage)
        .where(MailMessage.status == MailStatus.QUARANTINED)
        .order_by(MailMessage.received_at.desc(), MailMessage.id.desc())
        .limit(200)
    ).all()
    return render_template(
        "quarantine.html",
        messages=[
            {
                "mail": m,
                "received": local_time(m.received_at),
                "reason": QUARANTINE_LABELS.get(m.reason or "", m.reason or ""),
            }
            for m in rows
        ],
        settings=tenant.settings(),
    )


# --- Filters, search, sort and the CSV export (web/query.py reads the query all three share, web/search.py runs it) ---


# Past this many documents PostgreSQL's own estimate is shown: count(*) reads every row (75 ms at 200k).
EXACT_COUNT_UP_TO = 50_000


def _document_count(db: Any) -> tuple[int, bool]:
    """How many documents there are, and whether that is the planner's estimate (PostgreSQL, large tables)."""
    if db.get_bind().dialect.name == "postgresql":
        estimate = db.scalar(
            sa.text("SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass('received_documents')")
        )
        if estimate is not None and estimate > EXACT_COUNT_UP_TO:
            return int(estimate), True
    return db.scalar(sa.select(sa.func.count()).select_from(ReceivedDocument)), False


def _filter_form(filters: InboxQuery) -> dict[str, Any]:
    """What the template needs to show the filter form filled in, and to keep the filters on the next page link."""
    return {
        "filters": filters,
        "filter_args": filters.to_args(),
        "state_choices": [(s.value, STATE_LABELS.get(s, s.value)) for s in query.STATES],
        "verdict_choices": [(v.value, VERDICT_LABELS.get(v.value, v.value)) for v in query.VERDICTS],
        "sort_choices": [(s.key, s.label) for s in query.SORTS.values()],
        "due_choices": DUE_CHOICES,
        "dian_choices": list(query.DIAN_FILTERS.items()),
    }


CSV_COLUMNS = (
    ("Estado", ReceivedDocument.state),
    ("NIT proveedor", ReceivedDocument.issuer_nit),
    ("Proveedor", ReceivedDocument.issuer_name),
    ("Tipo", ReceivedDocument.document_type),
    ("Número", ReceivedDocument.number),
    ("Orden de compra", ReceivedDocument.order_reference),
    ("Fecha de emisión", ReceivedDocument.issue_date),
    ("Vencimiento", ReceivedDocument.due_date),
    ("Valor a pagar", ReceivedDocument.payable_amount),
    ("Moneda", ReceivedDocument.currency),
    ("Verificación", ReceivedDocument.verdict),
    ("Plazo hasta", ReceivedDocument.window_ends_at),
    ("Asignado a", ReceivedDocument.assigned_to),
    ("CUFE", ReceivedDocument.cufe),
)


def _csv_cell(value: Any) -> str:
    """One value as Excel in Colombia reads it: dd/mm/aaaa dates, decimal comma, Bogota times, labels in Spanish."""
    if value is None:
        return ""
    if isinstance(value, DocumentState):
        return STATE_LABELS.get(value, value.value)
    if isinstance(value, DocumentType):
        return value.label
    if isinstance(value, Verdict):
        return VERDICT_LABELS.get(value, value.value)
    if isinstance(value, datetime):
        return value.astimezone(BOGOTA).strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, Decimal):
        return format(value.quantize(Decimal("0.01")), "f").replace(".", ",")
    text = str(value)
    # A cell starting with = + - @ is a formula to Excel: a supplier's name must never run as one (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.get("/exportar.csv")
@roles(*READERS)
def export_csv() -> Any:
    """The inbox view as CSV for Excel (es-CO): same filters and order, `;` separated, UTF-8 with BOM, streamed."""
    db = _db()
    now = datetime.now(UTC)
    try:
        filters = InboxQuery.from_args(request.args, user=_me())
    except FilterError as exc:
        # Refused before the first byte: a bad filter never turns into a CSV that stops half-way.
        return Response(f"No se exportó: {refusal(exc)}\n", status=400, mimetype="text/plain")
    calendar = tenant.calendar()
    columns = [column for _, column in CSV_COLUMNS]

    def lines() -> Iterator[str]:
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerow([title for title, _ in CSV_COLUMNS])
        yield "\ufeff" + out.getvalue()
        for row in search.iterate(db, filters, columns, now=now, calendar=calendar):
            out.seek(0)
            out.truncate()
            writer.writerow([_csv_cell(v) for v in row[: len(columns)]])
            yield out.getvalue()

    stamp = now.astimezone(BOGOTA).strftime("%Y%m%d-%H%M")
    return Response(
        stream_with_context(lines()),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="buzon-{stamp}.csv"',
            "Content-Type": "text/csv; charset=utf-8",
        },
    )


# --- Bulk actions on the ticked rows (web/bulk.py does the work) ----------------------------------------------------


@bp.post("/acciones-masivas")
@roles(Role.CLERK)
def bulk() -> Any:
    """Acknowledge (030) or mark received (030 + 032) the ticked documents; the result is shown row by row."""
    from web.bulk import run_bulk  # web.bulk imports web.document_view; imported here to keep imports lean

    return run_bulk(request.form)
