"""The inbox: received documents, newest first, with their state, DIAN check and claim-window countdown."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, render_template, request, stream_with_context

from dian.calendar import BOGOTA, BusinessCalendar
from dian.codes import DocumentState, DocumentType
from store.models import MailMessage, MailStatus, ReceivedDocument, Role, Verdict
from web import query
from web.access import roles
from web.labels import QUARANTINE_LABELS, STATE_LABELS, VERDICT_LABELS, claim_window_left, local_time, money
from web.query import FilterError, InboxQuery

bp = Blueprint("inbox", __name__)
PAGE_SIZE = 50


def _db() -> Any:
    return current_app.extensions["buzon.db"]()


def _calendar() -> BusinessCalendar:
    settings = current_app.config["BUZON_SETTINGS"]
    return BusinessCalendar(saturday_is_business_day=settings.scheduler.saturday_is_business_day)


# Everyone reads the inbox and the quarantine: treasury read-only, the auditor everything, and the admin too,
# because a wrong NIT or mailbox setting shows up first as documents missing here or mail piling up in quarantine.
READERS = (Role.CLERK, Role.TREASURY, Role.ADMIN, Role.AUDITOR)


@bp.get("/")
@roles(*READERS)
def index() -> str:
    """The newest documents first; keyset pagination on (issued_at, id) stays fast on large tables."""
    db = _db()
    now = datetime.now(UTC)
    calendar = _calendar()
    filters, found = _filtered_page(db, now, calendar)
    rows = found.documents
    documents = [
        {
            "doc": d,
            "state": STATE_LABELS.get(d.state, d.state),
            "verdict": VERDICT_LABELS.get(d.verdict, d.verdict),
            "amount": money(d.payable_amount, d.currency),
            "remaining": claim_window_left(d, now, calendar),
        }
        for d in rows
    ]
    next_cursor = found.next_cursor
    quarantined = db.scalar(
        sa.select(sa.func.count()).select_from(MailMessage).where(MailMessage.status == MailStatus.QUARANTINED)
    )
    total, total_estimated = _document_count(db)
    return render_template(
        "inbox.html",
        documents=documents,
        next_cursor=next_cursor,
        quarantined=quarantined,
        total=total,
        total_estimated=total_estimated,
        settings=current_app.config["BUZON_SETTINGS"],
        **_filter_form(filters),
    )


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
        settings=current_app.config["BUZON_SETTINGS"],
    )


# --- Filters, search, sort and the CSV export (web/query.py builds the one query all three share) ---------------


def _filtered_page(db: Any, now: datetime, calendar: BusinessCalendar) -> tuple[InboxQuery, query.Page]:
    """The inbox query of the request's parameters and its page after ``after``; a malformed one is a 400."""
    try:
        filters = InboxQuery.from_args(request.args)
        found = query.page(db, filters, now=now, calendar=calendar, cursor=request.args.get("after") or None,
                           limit=PAGE_SIZE)  # fmt: skip
    except FilterError as exc:
        abort(400, description=str(exc))
    return filters, found


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
    }


CSV_COLUMNS = (
    ("Estado", ReceivedDocument.state),
    ("NIT proveedor", ReceivedDocument.issuer_nit),
    ("Proveedor", ReceivedDocument.issuer_name),
    ("Tipo", ReceivedDocument.document_type),
    ("Número", ReceivedDocument.number),
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
        filters = InboxQuery.from_args(request.args)
    except FilterError as exc:
        abort(400, description=str(exc))
    calendar = _calendar()
    columns = [column for _, column in CSV_COLUMNS]

    def lines() -> Iterator[str]:
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerow([title for title, _ in CSV_COLUMNS])
        yield "\ufeff" + out.getvalue()
        for row in query.iterate(db, filters, columns, now=now, calendar=calendar):
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
    from web.bulk import run_bulk  # web.bulk imports web.documents; imported here to keep this module's imports lean

    return run_bulk(request.form)
