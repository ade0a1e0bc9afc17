"""The deadline filter and the countdown speak one language, checked against the real clock code: windows ended by
dian.calendar.window_end (what store.state keeps), counted down by BusinessCalendar.remaining (the document page),
and found by the inbox's ``due`` filter under the words their row shows — on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest

from dian.calendar import BOGOTA, BusinessCalendar
from dian.codes import DocumentState
from store.models import Role
from tests.web.test_inbox_page import add_document
from web import search
from web.deadline import deadline, due_day
from web.query import InboxQuery

pytestmark = pytest.mark.integration
CALENDAR = BusinessCalendar()


def bogota(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BOGOTA).astimezone(UTC)


def _found(session, now: datetime, due: int) -> set[str]:
    found = search.page(session, InboxQuery(due=due), now=now, calendar=CALENDAR, limit=500)
    return {d.number for d in found.documents}


def _days_in_label(label: str) -> int:
    match = re.match(r"(\d+) día", label)
    return int(match.group(1)) if match else 0


def test_the_issues_example_quedan_3_dias_habiles_y_9_h_is_due_in_3(app_and_db, monkeypatch):
    """Monday 10 March 2025, 14:47 in Bogota: a 032 signed this morning leaves the window open until Thursday."""
    app, session = app_and_db
    now = bogota(date(2025, 3, 10), 14, 47)
    end = CALENDAR.window_end(bogota(date(2025, 3, 10), 9))
    add_document(session, 1, number="STI1063", state=DocumentState.GOODS_RECEIVED, window_ends_at=end)
    remaining = CALENDAR.remaining(now, end)
    assert remaining.label == "3 días hábiles y 9 h"
    assert deadline(now, end, remaining, CALENDAR).words == "Vence en 3 días hábiles"
    assert _found(session, now, 3) == {"STI1063"}
    assert _found(session, now, 2) == set()

    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):
            return now.astimezone(tz) if tz else now.replace(tzinfo=None)

    monkeypatch.setattr("web.inbox.datetime", Frozen)
    monkeypatch.setattr("web.documents.datetime", Frozen)
    from tests.web.conftest import add_user, sign_in

    clerk = add_user(session, "ana", Role.CLERK)
    client = app.test_client()
    sign_in(app, client, clerk)
    inbox = client.get("/", query_string={"due": "3"}).get_data(as_text=True)
    assert "STI1063" in inbox
    assert "Vence en 3 días hábiles" in inbox and "quedan 3 días hábiles y 9 h" in inbox
    assert "STI1063" not in client.get("/", query_string={"due": "2"}).get_data(as_text=True)
    document = client.get(f"/documentos/{session.scalar(_id_of('STI1063'))}").get_data(as_text=True)
    assert re.search(r"Quedan:?\s*(<strong>)?3 días hábiles y 9 h", document)


def _id_of(number: str):
    import sqlalchemy as sa

    from store.models import ReceivedDocument

    return sa.select(ReceivedDocument.id).where(ReceivedDocument.number == number)


def test_every_window_is_found_under_the_words_of_its_countdown(app_and_db):
    """Windows started every day of three weeks around the San José holiday (Monday 24 March 2025), looked at
    every three hours: the countdown's whole business days are the filter's day, and the filter finds it there."""
    _, session = app_and_db
    first = date(2025, 3, 12)
    ends = {}
    for n in range(21):
        signed = bogota(first + timedelta(days=n), 10)
        ends[f"W{n}"] = CALENDAR.window_end(signed)
        add_document(session, n + 1, number=f"W{n}", state=DocumentState.GOODS_RECEIVED, window_ends_at=ends[f"W{n}"])
    checked = 0
    for step in range(0, 24 * 18, 3):
        now = bogota(first, 0, 17) + timedelta(hours=step)
        expected: dict[int, set[str]] = {}
        for number, end in ends.items():
            remaining = CALENDAR.remaining(now, end)
            if remaining.expired:
                continue
            day = due_day(now, end, CALENDAR)
            assert day is not None
            assert _days_in_label(remaining.label) == remaining.days == day, (now, end, remaining.label)
            words = deadline(now, end, remaining, CALENDAR).words
            assert words == {0: "Vence hoy"}.get(day, words)
            if day >= 2:
                assert words == f"Vence en {day} días hábiles"
            expected.setdefault(day, set()).add(number)
        for due in range(4):
            wanted = set().union(*(v for k, v in expected.items() if k <= due))
            assert _found(session, now, due) == wanted, (now, due)
            checked += 1
    assert checked == 4 * len(range(0, 24 * 18, 3))


def test_friday_counts_monday_as_the_next_business_day():
    friday = bogota(date(2025, 3, 7), 16)
    end = CALENDAR.window_end(bogota(date(2025, 3, 6), 9))  # Thursday's 032: ends Tuesday 11 March
    remaining = CALENDAR.remaining(friday, end)
    assert (remaining.days, due_day(friday, end, CALENDAR)) == (2, 2)
    monday_end = datetime.combine(date(2025, 3, 10), time.max, tzinfo=BOGOTA)
    assert deadline(friday, monday_end, CALENDAR.remaining(friday, monday_end), CALENDAR).words == (
        "Vence el lunes (próximo día hábil)"
    )
    thursday = bogota(date(2025, 3, 6), 16)
    friday_end = datetime.combine(date(2025, 3, 7), time.max, tzinfo=BOGOTA)
    assert deadline(thursday, friday_end, CALENDAR.remaining(thursday, friday_end), CALENDAR).words == "Vence mañana"
