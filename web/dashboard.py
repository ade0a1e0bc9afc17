"""The dashboard ("Resumen"), the home page of clerks and treasury: what is due, what went wrong, where the money is.

Every figure is one aggregate query (counts and sums in SQL, never rows loaded to be counted), and every figure links
to the inbox or the quarantine filtered to exactly what it counts: the claim windows through the inbox's own
``due`` filter and in the rows' own words (web/deadline.py), so the number here and the rows there always agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
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
from web.deadline import MAX_DUE, deadline, due_cutoff, due_day
from web.labels import STATE_LABELS, money

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
    invalid: int
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


def deadlines(s: Session, now: datetime, calendar: BusinessCalendar) -> tuple[list[DueDay], int]:
    """The running claim windows grouped by the business day they end on (one GROUP BY on the open-window index),
    numbered as the inbox's ``due`` filter numbers them; and how many lapsed without the sweep closing them yet."""
    rows = s.execute(
        sa.select(D.open_window_ends_at, sa.func.count(), sa.func.sum(D.payable_amount))
        .where(D.open_window_ends_at >= now, D.open_window_ends_at < due_cutoff(now, MAX_DUE, calendar))
        .group_by(D.open_window_ends_at)
    ).all()
    days: dict[int, list[Any]] = {}
    for end, count, amount in rows:
        number = due_day(now, end, calendar)
        if number is None:
            continue
        entry = days.setdefault(number, [end.astimezone(BOGOTA).date(), due_phrase(now, end, calendar), 0, Decimal(0)])
        entry[2] += count
        entry[3] += amount or 0
    due = [DueDay(day, phrase, number, count, amount) for number, (day, phrase, count, amount) in sorted(days.items())]
    lapsed = s.scalar(sa.select(sa.func.count()).select_from(D).where(D.open_window_ends_at < now)) or 0
    return due, lapsed


def _share(figures: list[Figure], key: str) -> list[Figure]:
    top = max((getattr(f, key) for f in figures), default=0) or 1
    return [Figure(f.label, f.count, f.amount, f.args, float(getattr(f, key)) / float(top)) for f in figures]


def _within(due: list[DueDay], days: int) -> int:
    return sum(d.count for d in due if d.due <= days)


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


@dataclass(frozen=True)
class Totals:
    """The documents summed once by (state, supplier, verdict): every amount figure comes from this one scan."""

    by_state: list[Figure]
    other_currencies: int  # documents not in COP: counted, left out of the sums
    suppliers: list[Figure]
    unconfirmed: int


def totals(s: Session, top: int = TOP_SUPPLIERS) -> Totals:
    """One GROUP BY over the documents (a few thousand groups at most: states × suppliers × verdicts), folded here
    into the amounts by state, the top suppliers and the unconfirmed count; three scans of a wide table were three
    times slower at 200k documents."""
    cop = D.currency == "COP"
    rows = s.execute(
        sa.select(
            D.state,
            D.issuer_nit,
            D.verdict,
            sa.func.max(D.issuer_name),
            sa.func.count(),
            sa.func.sum(sa.case((cop, D.payable_amount), else_=0)),
            sa.func.sum(sa.case((cop, 0), else_=1)),
        ).group_by(D.state, D.issuer_nit, D.verdict)
    ).all()
    states: dict[DocumentState, list[Any]] = {}
    suppliers: dict[str, list[Any]] = {}
    other = unconfirmed = 0
    for state, nit, verdict, name, count, amount, foreign in rows:
        amount = amount or Decimal(0)
        entry = states.setdefault(state, [0, Decimal(0)])
        entry[0] += count
        entry[1] += amount
        known = suppliers.setdefault(nit, [name, 0, Decimal(0)])
        known[0] = max(known[0], name)
        known[1] += count
        known[2] += amount
        other += foreign or 0
        unconfirmed += count if verdict is Verdict.UNCONFIRMED else 0
    by_state = [
        Figure(STATE_LABELS.get(state, state.value), *states[state], {"status": state.value})
        for state in DocumentState
        if state in states
    ]
    ranked = sorted(suppliers.items(), key=lambda item: (-item[1][2], item[0]))[:top]
    return Totals(
        by_state=_share(by_state, "amount"),
        other_currencies=other,
        suppliers=_share(
            [Figure(name, count, amount, {"supplier": nit}) for nit, (name, count, amount) in ranked], "amount"
        ),
        unconfirmed=unconfirmed,
    )


def _count(s: Session, *where: Any, table: Any = D) -> int:
    return s.scalar(sa.select(sa.func.count()).select_from(table).where(*where)) or 0


def overview(s: Session, now: datetime, calendar: BusinessCalendar) -> Overview:
    """Every figure of the dashboard at ``now``."""
    due, lapsed = deadlines(s, now, calendar)
    rejected_count, rejected = rejected_events(s)
    summed = totals(s)
    return Overview(
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
            table=DocumentEvent,
        ),
        unconfirmed=summed.unconfirmed,
        invalid=_count(s, D.state == DocumentState.INVALID),
        quarantined=_count(s, MailMessage.status == MailStatus.QUARANTINED, table=MailMessage),
        by_state=summed.by_state,
        other_currencies=summed.other_currencies,
        suppliers=summed.suppliers,
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
