"""The dashboard ("Resumen"), the home page of clerks and treasury: what is due, what went wrong, where the money is.

Every figure is one aggregate query (counts and sums in SQL, never rows loaded to be counted), and every figure links
to the inbox or the quarantine filtered to exactly what it counts: the claim windows through the inbox's own
``due`` filter and in the rows' own words (web/deadline.py), so the number here and the rows there always agree.

What it costs follows what it shows, not the history on file: what is open now (running claim windows, events DIAN
rejected, the queue, unconfirmed documents, quarantine) is read through indexes on exactly those rows; the amounts by
state and the top suppliers cover a period of whole months (web/period.py, "últimos 3 meses" unless chosen) and
are read from the monthly totals the database keeps (store/totals.py), a few rows per supplier and month.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import cache
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, render_template, request
from sqlalchemy.orm import Session, aliased

from dian.calendar import BOGOTA, BusinessCalendar
from dian.codes import DocumentState, EventCode
from store import totals as store_totals
from store.models import (
    OPEN_EMITTED_EVENTS,
    Direction,
    DocumentEvent,
    MailMessage,
    MailStatus,
    ReceivedDocument,
    Role,
    SubmissionState,
    Verdict,
)
from web import tenant
from web.access import roles
from web.deadline import MAX_DUE, deadline
from web.labels import STATE_LABELS, money
from web.period import CHOICES, Period, PeriodError, period

bp = Blueprint("dashboard", __name__)

VIEWERS = (Role.CLERK, Role.TREASURY, Role.ADMIN, Role.AUDITOR)
WEEK = 5  # business days: "this week" is today and the next four business days
TOP_SUPPLIERS = 8
REJECTED_SHOWN = 8
PENDING = (SubmissionState.SIGNED, SubmissionState.SENT, SubmissionState.SEND_FAILED)
D = ReceivedDocument
# Said word for word so that both databases use the partial index of our queued and rejected events: SQLite's planner
# knows only that submission_state has few distinct values and would otherwise scan every event for the rare ones.
OPEN_EVENTS = sa.text(OPEN_EMITTED_EVENTS)


@dataclass(frozen=True)
class DueDay:
    """The open claim windows ending on one business day."""

    day: date
    phrase: str  # "hoy", "mañana", "en 2 días hábiles"
    due: int  # business days from today to this day: the inbox filter ``due`` that lists it (with the days before)
    count: int
    amount: Decimal


@dataclass(frozen=True)
class Figure:
    """One linked number: how many, how much, and the inbox parameters that list them."""

    label: str
    count: int
    amount: Decimal = Decimal(0)
    args: dict[str, Any] = field(default_factory=dict)
    share: float = 0.0  # of the largest figure in its group, for the bar


@dataclass(frozen=True)
class Rejected:
    document_id: int
    number: str
    supplier: str
    code: EventCode
    message: str
    at: datetime | None


@dataclass(frozen=True)
class Overview:
    period: Period  # of the amounts (by state, by supplier, invalid); every other figure is what is open now
    due: list[DueDay]
    due_today: int
    due_tomorrow: int
    due_week: int
    second_phrase: str  # the next business day in words: "mañana", or "el lunes (próximo día hábil)"
    lapsed: int  # windows past their end that the deadline sweep has not closed yet
    rejected_count: int
    rejected: list[Rejected]
    pending_events: int
    unconfirmed: int
    invalid: int  # in the period
    quarantined: int
    by_state: list[Figure]
    other_currencies: int  # documents not in COP, left out of the sums (their count still counts)
    suppliers: list[Figure]


def due_phrase(now: datetime, end: datetime, calendar: BusinessCalendar) -> str:
    """When a window ends, in the inbox rows' own words (web.deadline) without "Vence": hoy, mañana, en N días
    hábiles."""
    return deadline(now, end, calendar.remaining(now, end), calendar).words.removeprefix("Vence ")


def _business_day_end(now: datetime, days: int, calendar: BusinessCalendar) -> datetime:
    today = now.astimezone(BOGOTA).date()
    return datetime.combine(calendar.add_business_days(today, days), time.max, tzinfo=BOGOTA)


def due_cutoffs(now: datetime, calendar: BusinessCalendar) -> list[datetime]:
    """web.deadline.due_cutoff(now, n) for n = 0 … MAX_DUE, walking the business days once (calling it 31 times
    walked them 31 times: 15 ms of every dashboard view)."""
    day = calendar.add_business_days(now.astimezone(BOGOTA).date(), 1)
    cutoffs = []
    for _ in range(MAX_DUE + 1):
        cutoffs.append(datetime.combine(day, time.min, tzinfo=BOGOTA))
        day = calendar.add_business_days(day, 1)
    return cutoffs


@cache
def _buckets_statement() -> Any:
    """The running windows counted per bucket: one range of the partial index per bucket (an empty one costs a seek),
    five times cheaper than a CASE on every window; built once, the bounds bound on each call."""
    end = D.open_window_ends_at
    return sa.union_all(
        *(
            sa.select(sa.literal_column(str(n)).label("bucket"), sa.func.count(), sa.func.sum(D.payable_amount)).where(
                end >= sa.bindparam(f"start{n}"), end < sa.bindparam(f"stop{n}")
            )
            for n in range(MAX_DUE + 1)
        )
    )


def deadlines(s: Session, now: datetime, calendar: BusinessCalendar) -> tuple[list[DueDay], int]:
    """The running claim windows counted by the business day they end on, numbered as the inbox's ``due`` filter
    numbers them (bucket N ends at the filter's own cut-off for due=N, web.deadline.due_cutoff); and how many lapsed
    without the sweep closing them yet. Both read the partial index of running windows with their amounts alone, and
    the counting is done in SQL into at most MAX_DUE + 1 buckets, however many windows run."""
    cutoffs = due_cutoffs(now, calendar)
    starts = [now, *(max(now, cut) for cut in cutoffs[:-1])]
    bounds = {f"start{n}": start for n, start in enumerate(starts)} | {f"stop{n}": c for n, c in enumerate(cutoffs)}
    rows = [row for row in s.execute(_buckets_statement(), bounds).all() if row[1]]
    today = now.astimezone(BOGOTA).date()
    due = []
    for number, count, amount in sorted(rows, key=lambda row: row[0]):
        day = calendar.add_business_days(today, number)
        phrase = due_phrase(now, datetime.combine(day, time.max, tzinfo=BOGOTA), calendar)
        due.append(DueDay(day, phrase, number, count, amount or Decimal(0)))
    lapsed = s.scalar(sa.select(sa.func.count()).select_from(D).where(D.open_window_ends_at < now)) or 0
    return due, lapsed


def _within(due: list[DueDay], days: int) -> int:
    return sum(d.count for d in due if d.due <= days)


def rejected_events(s: Session) -> tuple[int, list[Rejected]]:
    """Our events DIAN rejected and nobody has sent again (no live event of that code on the document)."""
    live = aliased(DocumentEvent)
    where = (
        OPEN_EVENTS,
        DocumentEvent.direction == Direction.EMITTED,
        DocumentEvent.submission_state == SubmissionState.REJECTED,
        DocumentEvent.document_id.is_not(None),
        ~sa.exists().where(
            live.document_id == DocumentEvent.document_id,
            live.code == DocumentEvent.code,
            live.direction == Direction.EMITTED,
            live.submission_state != SubmissionState.REJECTED,
        ),
    )
    count = s.scalar(sa.select(sa.func.count(sa.distinct(DocumentEvent.document_id))).where(*where)) or 0
    E = DocumentEvent
    rows = s.execute(
        sa.select(E.document_id, D.number, D.issuer_name, E.code, E.dian_messages, E.last_error, E.updated_at)
        .join(D, D.id == E.document_id)
        .where(*where)
        .order_by(E.updated_at.desc(), E.id.desc())
        .limit(REJECTED_SHOWN)
    ).all()
    shown = []
    for document_id, number, supplier, code, messages, error, at in rows:
        text = "; ".join(str(m) for m in messages or [] if m) or (error or "")
        shown.append(Rejected(document_id, number, supplier, code, text[:300], at))
    return count, shown


def _share(figures: list[Figure], key: str) -> list[Figure]:
    top = max((getattr(f, key) for f in figures), default=0) or 1
    return [Figure(f.label, f.count, f.amount, f.args, float(getattr(f, key)) / float(top)) for f in figures]


@dataclass(frozen=True)
class Totals:
    """The period's amounts, read from store.totals (monthly totals kept by the database), never from the documents."""

    by_state: list[Figure]
    other_currencies: int  # documents not in COP: counted, left out of the sums
    suppliers: list[Figure]
    invalid: int


def totals(s: Session, period: Period, top: int = TOP_SUPPLIERS) -> Totals:
    """Amounts by state and the top suppliers over the period's months: a few rows per state (or supplier) and month,
    whatever the history on file."""
    dates = period.inbox_args()
    states = store_totals.by_state(s, period.first_month, period.last_month)
    by_state = [
        Figure(STATE_LABELS.get(t.state, t.state.value), t.documents, t.cop_amount, {"status": t.state.value, **dates})
        for t in states
    ]
    ranked, _ = store_totals.by_supplier(s, period.first_month, period.last_month, limit=top)
    return Totals(
        by_state=_share(by_state, "amount"),
        other_currencies=sum(t.other_currency for t in states),
        suppliers=_share(
            [Figure(t.name, t.documents, t.cop_amount, {"supplier": t.nit, **dates}) for t in ranked if t.documents],
            "amount",
        ),
        invalid=sum(t.documents for t in states if t.state is DocumentState.INVALID),
    )


def _count(s: Session, *where: Any, table: Any = D) -> int:
    return s.scalar(sa.select(sa.func.count()).select_from(table).where(*where)) or 0


def overview(s: Session, now: datetime, calendar: BusinessCalendar, period: Period) -> Overview:
    """Every figure of the dashboard at ``now``: what is open now (windows, rejections, queue, unconfirmed,
    quarantine), each read through an index on what is open; the amounts over ``period``."""
    due, lapsed = deadlines(s, now, calendar)
    rejected_count, rejected = rejected_events(s)
    summed = totals(s, period)
    return Overview(
        period=period,
        due=due,
        due_today=_within(due, 0),
        due_tomorrow=_within(due, 1),
        due_week=_within(due, WEEK - 1),
        second_phrase=due_phrase(now, _business_day_end(now, 1, calendar), calendar),
        lapsed=lapsed,
        rejected_count=rejected_count,
        rejected=rejected,
        pending_events=_count(
            s,
            DocumentEvent.direction == Direction.EMITTED,
            DocumentEvent.submission_state.in_(PENDING),
            OPEN_EVENTS,
            table=DocumentEvent,
        ),
        # Written as a literal so that SQLite (and a generic PostgreSQL plan) can use the partial index on it.
        unconfirmed=_count(s, sa.text(f"received_documents.verdict = '{Verdict.UNCONFIRMED.value}'")),
        invalid=summed.invalid,
        quarantined=_count(s, MailMessage.status == MailStatus.QUARANTINED, table=MailMessage),
        by_state=summed.by_state,
        other_currencies=summed.other_currencies,
        suppliers=summed.suppliers,
    )


@bp.get("/resumen")
@roles(*VIEWERS)
def index() -> tuple[str, int]:
    """The dashboard; a period the address cannot mean is refused in words above the default period's figures."""
    now = datetime.now(UTC)
    today = now.astimezone(BOGOTA).date()
    problem = None
    try:
        chosen = period(request.args.get("periodo"), today)
    except PeriodError as exc:
        problem, chosen = str(exc), period(None, today)
    db = tenant.db()
    data = overview(db, now, tenant.calendar(), chosen)
    due_top = max((d.count for d in data.due), default=0) or 1
    page = render_template(
        "dashboard.html",
        o=data,
        money=money,
        due_top=due_top,
        week=WEEK,
        today=today,
        event_labels={c: c.label for c in EventCode},
        choices=CHOICES,
        problem=problem,
    )
    return page, 400 if problem else 200
