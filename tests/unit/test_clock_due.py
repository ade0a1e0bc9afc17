"""The reminders' SQL bound (issue 21): ``latest_due_end`` never leaves out a window whose reminder has started."""

from __future__ import annotations

import datetime as dt

import pytest

from dian.calendar import BOGOTA, BusinessCalendar
from events.clock import latest_due_end, reminder_start

CALENDAR = BusinessCalendar()


def _ends(at: dt.datetime) -> list[dt.datetime]:
    """Window ends over the next 14 days: every 97 minutes, and each day's last instant (how windows end)."""
    ends = [at + dt.timedelta(minutes=97 * step) for step in range(14 * 24 * 60 // 97)]
    first = at.astimezone(BOGOTA).date()
    ends += [dt.datetime.combine(first + dt.timedelta(days=d), dt.time.max, BOGOTA) for d in range(15)]
    return [end for end in ends if end >= at]


@pytest.mark.parametrize(
    "at",
    [
        dt.datetime(2026, 3, 6, 17, 30, tzinfo=BOGOTA),  # a Friday evening: the weekend follows
        dt.datetime(2026, 3, 20, 23, 59, tzinfo=BOGOTA),  # before Monday 23 March, San José
        dt.datetime(2026, 4, 1, 9, 0, tzinfo=BOGOTA),  # Holy Wednesday: Thursday and Friday are holidays
        dt.datetime(2026, 3, 10, 4, 0, tzinfo=dt.UTC),  # a Monday night in Bogotá, Tuesday already in UTC
    ],
)
@pytest.mark.parametrize("hours", [1, 8, 30, 100])
def test_every_window_whose_reminder_started_ends_before_the_bound(at: dt.datetime, hours: int) -> None:
    bound = latest_due_end(CALENDAR, at, hours)
    due = [end for end in _ends(at) if reminder_start(CALENDAR, end, hours) <= at]
    assert due, "some window near its end must be due, or the test proves nothing"
    assert max(due) <= bound
    # The bound narrows the search: business hours ahead in whole days, plus weekends, a holiday and a day.
    assert bound - at <= dt.timedelta(days=-(-hours // 24) + 8)
