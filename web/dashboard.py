"""The dashboard ("Resumen"), the home page of clerks and treasury: what is due, what went wrong, where the money is.

Every figure is one aggregate query (counts and sums in SQL, never rows loaded to be counted), and every figure links
to the inbox or the quarantine filtered to exactly what it counts: the claim windows through the inbox's own
``closing_within`` cut-off (web.query.closing_cutoff), so the number here and the rows there always agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, current_app, render_template
from sqlalchemy.orm import Session, aliased

from dian.calendar import BOGOTA, BusinessCalendar
from dian.codes import DocumentState, EventCode
from store.models import (
    Direction,
    DocumentEvent,
    MailMessage,
    MailStatus,
    ReceivedDocument,
    Role,
    SubmissionState,
    Verdict,
)
from web.access import roles
from web.labels import STATE_LABELS, money
from web.query import MAX_CLOSING_WITHIN, closing_cutoff

bp = Blueprint("dashboard", __name__)

VIEWERS = (Role.CLERK, Role.TREASURY, Role.ADMIN, Role.AUDITOR)
WEEK = 5  # business days: "this week" is today and the next four business days
TOP_SUPPLIERS = 8
REJECTED_SHOWN = 8
PENDING = (SubmissionState.SIGNED, SubmissionState.SENT, SubmissionState.SEND_FAILED)
D = ReceivedDocument


@dataclass(frozen=True)
class DueDay:
    """The open claim windows ending on one business day."""

    day: date
    phrase: str  # "hoy", "mañana", "en 2 días hábiles"
    closing_within: int  # the inbox filter whose cut-off is the end of this day
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
    due: list[DueDay]
    due_today: int
    due_tomorrow: int
    due_week: int
    first_phrase: str  # the first business day from today, as the cards say it: "hoy" (or on a weekend "en 1 día
    second_phrase: str  # hábil"); the second: "mañana", "en 2 días hábiles"
    lapsed: int  # windows past their end that the deadline sweep has not closed yet
    rejected_count: int
    rejected: list[Rejected]
    pending_events: int
    unconfirmed: int
    invalid: int
    quarantined: int
    by_state: list[Figure]
    other_currencies: int  # documents not in COP, left out of the sums (their count still counts)
    suppliers: list[Figure]


def due_phrase(today: date, day: date, calendar: BusinessCalendar) -> str:
    """When a window ends, in business days from today: hoy, mañana, en N días hábiles."""
    if day <= today:
        return "hoy"
    n = calendar.business_days_between(today, day)
    if n <= 1 and day == today + timedelta(days=1):
        return "mañana"
    return "en 1 día hábil" if n <= 1 else f"en {n} días hábiles"


def _closing_within(now: datetime, end: datetime, calendar: BusinessCalendar) -> int:
    """The smallest inbox ``closing_within`` whose cut-off includes a window ending at ``end``."""
    for days in range(1, MAX_CLOSING_WITHIN + 1):
        if end <= closing_cutoff(now, days, calendar):
            return days
    return MAX_CLOSING_WITHIN


def _share(figures: list[Figure], key: str) -> list[Figure]:
    top = max((getattr(f, key) for f in figures), default=0) or 1
    return [Figure(f.label, f.count, f.amount, f.args, float(getattr(f, key)) / float(top)) for f in figures]


def deadlines(s: Session, now: datetime, calendar: BusinessCalendar) -> tuple[list[DueDay], int]:
    """The running claim windows grouped by the day they end (one GROUP BY on the open-window index), and how many
    have lapsed without the sweep closing them yet."""
    rows = s.execute(
        sa.select(D.open_window_ends_at, sa.func.count(), sa.func.sum(D.payable_amount))
        .where(D.open_window_ends_at >= now, D.open_window_ends_at <= closing_cutoff(now, MAX_CLOSING_WITHIN, calendar))
        .group_by(D.open_window_ends_at)
    ).all()
    today = now.astimezone(BOGOTA).date()
    days: dict[date, list[Any]] = {}
    for end, count, amount in rows:
        day = end.astimezone(BOGOTA).date()
        entry = days.setdefault(day, [_closing_within(now, end, calendar), 0, Decimal(0)])
        entry[0] = max(entry[0], _closing_within(now, end, calendar))
        entry[1] += count
        entry[2] += amount or 0
    due = [DueDay(d, due_phrase(today, d, calendar), w, c, a) for d, (w, c, a) in sorted(days.items())]
    lapsed = s.scalar(sa.select(sa.func.count()).select_from(D).where(D.open_window_ends_at < now)) or 0
    return due, lapsed


def _within(due: list[DueDay], days: int) -> int:
    return sum(d.count for d in due if d.closing_within <= days)


def rejected_events(s: Session) -> tuple[int, list[Rejected]]:
    """Our events DIAN rejected and nobody has sent again (no live event of that code on the document)."""
    live = aliased(DocumentEvent)
    where = (
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
    rows = s.execute(
        sa.select(DocumentEvent, D.number, D.issuer_name)
        .join(D, D.id == DocumentEvent.document_id)
        .where(*where)
        .order_by(DocumentEvent.updated_at.desc(), DocumentEvent.id.desc())
        .limit(REJECTED_SHOWN)
    ).all()
    shown = []
    for event, number, supplier in rows:
        text = "; ".join(str(m) for m in event.dian_messages or [] if m) or (event.last_error or "")
        shown.append(Rejected(event.document_id, number, supplier, event.code, text[:300], event.updated_at))
    return count, shown


def amounts_by_state(s: Session) -> tuple[list[Figure], int]:
    """Documents and their COP total per state, in the order of a document's life; the count of non-COP ones."""
    rows = s.execute(
        sa.select(
            D.state,
            sa.func.count(),
            sa.func.sum(sa.case((D.currency == "COP", D.payable_amount), else_=0)),
            sa.func.sum(sa.case((D.currency == "COP", 0), else_=1)),
        ).group_by(D.state)
    ).all()
    found = {state: (count, amount or Decimal(0), other or 0) for state, count, amount, other in rows}
    figures = [
        Figure(STATE_LABELS.get(state, state.value), found[state][0], found[state][1], {"status": state.value})
        for state in DocumentState
        if state in found
    ]
    return _share(figures, "amount"), sum(other for _, _, other in found.values())


def top_suppliers(s: Session, limit: int = TOP_SUPPLIERS) -> list[Figure]:
    """The suppliers with the largest COP totals on file."""
    total = sa.func.sum(sa.case((D.currency == "COP", D.payable_amount), else_=0))
    rows = s.execute(
        sa.select(D.issuer_nit, sa.func.max(D.issuer_name), sa.func.count(), total.label("total"))
        .group_by(D.issuer_nit)
        .order_by(total.desc(), D.issuer_nit)
        .limit(limit)
    ).all()
    figures = [Figure(name, count, amount or Decimal(0), {"supplier": nit}) for nit, name, count, amount in rows]
    return _share(figures, "amount")


def _count(s: Session, *where: Any, table: Any = D) -> int:
    return s.scalar(sa.select(sa.func.count()).select_from(table).where(*where)) or 0


def overview(s: Session, now: datetime, calendar: BusinessCalendar) -> Overview:
    """Every figure of the dashboard at ``now``."""
    due, lapsed = deadlines(s, now, calendar)
    today = now.astimezone(BOGOTA).date()
    rejected_count, rejected = rejected_events(s)
    by_state, other = amounts_by_state(s)
    return Overview(
        due=due,
        due_today=_within(due, 1),
        due_tomorrow=_within(due, 2),
        due_week=_within(due, WEEK),
        first_phrase=due_phrase(today, closing_cutoff(now, 1, calendar).date(), calendar),
        second_phrase=due_phrase(today, closing_cutoff(now, 2, calendar).date(), calendar),
        lapsed=lapsed,
        rejected_count=rejected_count,
        rejected=rejected,
        pending_events=_count(
            s,
            DocumentEvent.direction == Direction.EMITTED,
            DocumentEvent.submission_state.in_(PENDING),
            table=DocumentEvent,
        ),
        unconfirmed=_count(s, D.verdict == Verdict.UNCONFIRMED),
        invalid=_count(s, D.state == DocumentState.INVALID),
        quarantined=_count(s, MailMessage.status == MailStatus.QUARANTINED, table=MailMessage),
        by_state=by_state,
        other_currencies=other,
        suppliers=top_suppliers(s),
    )


def _calendar() -> BusinessCalendar:
    settings = current_app.config["BUZON_SETTINGS"]
    return BusinessCalendar(saturday_is_business_day=settings.scheduler.saturday_is_business_day)


@bp.get("/resumen")
@roles(*VIEWERS)
def index() -> str:
    """The dashboard."""
    now = datetime.now(UTC)
    db = current_app.extensions["buzon.db"]()
    data = overview(db, now, _calendar())
    due_top = max((d.count for d in data.due), default=0) or 1
    return render_template(
        "dashboard.html",
        o=data,
        money=money,
        due_top=due_top,
        week=WEEK,
        today=now.astimezone(BOGOTA).date(),
        event_labels={c: c.label for c in EventCode},
    )
