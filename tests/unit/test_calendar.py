"""Colombian business days and the 032 window; expected dates written by hand from the law (dian-facts.md 7.1)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from dian import calendar as cal
from dian.calendar import BOGOTA, BusinessCalendar, Remaining

MON_FRI = BusinessCalendar()
MON_SAT = BusinessCalendar(saturday_is_business_day=True)


def d(text: str) -> date:
    return date.fromisoformat(text)


def bogota(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BOGOTA)


# Every national holiday 2024-2030, worked out by hand: fixed (1 Jan, 1 May, 20 Jul, 7 Aug, 8 Dec, 25 Dec), moved to the
# next Monday by Ley 51 de 1983 (6 Jan, 19 Mar, 29 Jun, 15 Aug, 12 Oct, 1 Nov, 11 Nov), Easter-based (E-3, E-2, E+43,
# E+64, E+71) with Easter on 2024-03-31, 2025-04-20, 2026-04-05, 2027-03-28, 2028-04-16, 2029-04-01, 2030-04-21, and,
# from 2026, 9 Jul (Virgen de Chiquinquirá, Ley 2578 de 2026) moved to Monday. Weekend dates are listed too.
HOLIDAYS = {
    2024: "01-01 01-08 03-25 03-28 03-29 05-01 05-13 06-03 06-10 07-01 07-20 08-07 08-19 10-14 11-04 11-11 12-08 12-25",
    2025: "01-01 01-06 03-24 04-17 04-18 05-01 06-02 06-23 06-30 07-20 08-07 08-18 10-13 11-03 11-17 12-08 12-25",
    2026: "01-01 01-12 03-23 04-02 04-03 05-01 05-18 06-08 06-15 06-29 07-13 07-20 08-07 08-17 10-12 11-02 11-16 12-08 "
    "12-25",
    2027: "01-01 01-11 03-22 03-25 03-26 05-01 05-10 05-31 06-07 07-05 07-12 07-20 08-07 08-16 10-18 11-01 11-15 12-08 "
    "12-25",
    2028: "01-01 01-10 03-20 04-13 04-14 05-01 05-29 06-19 06-26 07-03 07-10 07-20 08-07 08-21 10-16 11-06 11-13 12-08 "
    "12-25",
    2029: "01-01 01-08 03-19 03-29 03-30 05-01 05-14 06-04 06-11 07-02 07-09 07-20 08-07 08-20 10-15 11-05 11-12 12-08 "
    "12-25",
    2030: "01-01 01-07 03-25 04-18 04-19 05-01 06-03 06-24 07-01 07-15 07-20 08-07 08-19 10-14 11-04 11-11 12-08 12-25",
}
HOLIDAY_DATES = {d(f"{year}-{md}") for year, text in HOLIDAYS.items() for md in text.split()}


@pytest.mark.parametrize("year", sorted(HOLIDAYS))
@pytest.mark.parametrize("calendar", [MON_FRI, MON_SAT], ids=["mon-fri", "mon-sat"])
def test_every_day_of_2024_to_2030(year: int, calendar: BusinessCalendar) -> None:
    last_workday = 5 if calendar.saturday_is_business_day else 4
    day = date(year, 1, 1)
    wrong = []
    while day.year == year:
        expected = day.weekday() <= last_workday and day not in HOLIDAY_DATES
        if calendar.is_business_day(day) != expected:
            wrong.append(day.isoformat())
        day += timedelta(days=1)
    assert wrong == []


@pytest.mark.parametrize(
    ("day", "business"),
    [
        # Ley Emiliani: the holiday moves to Monday, the original weekday is worked.
        ("2024-01-06", False),  # Reyes on a Saturday ...
        ("2024-01-08", False),  # ... is observed Monday 8
        ("2024-03-19", True),  # San José on a Tuesday is worked ...
        ("2024-03-25", False),  # ... and observed Monday 25
        ("2025-11-11", True),  # Independencia de Cartagena on a Tuesday is worked ...
        ("2025-11-17", False),  # ... and observed Monday 17
        ("2026-01-06", True),  # Reyes on a Tuesday is worked ...
        ("2026-01-12", False),  # ... and observed Monday 12
        ("2028-03-19", False),  # San José on a Sunday (weekend anyway) ...
        ("2028-03-20", False),  # ... observed Monday 20
        ("2029-03-19", False),  # San José already on a Monday stays there
        ("2025-06-30", False),  # San Pedro (Sunday 29) and Sagrado Corazón land on the same Monday
        ("2025-07-01", True),  # ... and do not push anything to Tuesday
        # Easter-based holidays.
        ("2025-04-16", True),  # Miércoles Santo is worked
        ("2025-04-17", False),  # Jueves Santo, not moved
        ("2025-04-18", False),  # Viernes Santo, not moved
        ("2027-03-25", False),  # Jueves Santo 2027 (Easter 28 March)
        ("2026-05-14", True),  # Ascension Thursday is worked ...
        ("2026-05-18", False),  # ... and observed Monday (E+43)
        ("2028-06-19", False),  # Corpus Christi (E+64)
        ("2030-07-01", False),  # Sagrado Corazón (E+71) and San Pedro together
        # Fixed holidays are never moved.
        ("2026-12-08", False),  # Inmaculada on a Tuesday
        ("2026-12-07", True),
        ("2028-07-20", False),  # Independencia on a Thursday
        ("2029-08-07", False),  # Batalla de Boyacá on a Tuesday
        # Year ends.
        ("2025-12-31", True),
        ("2026-01-01", False),
        ("2026-01-02", True),
        ("2024-12-24", True),
        ("2024-12-25", False),
    ],
)
def test_named_days(day: str, business: bool) -> None:
    assert MON_FRI.is_business_day(d(day)) is business


@pytest.mark.parametrize(
    ("day", "mon_fri", "mon_sat"),
    [
        ("2025-03-15", False, True),  # an ordinary Saturday
        ("2025-03-16", False, False),  # Sunday is never a business day
        ("2027-12-25", False, False),  # Christmas on a Saturday stays a holiday
        ("2028-01-01", False, False),  # New Year on a Saturday
        ("2024-07-20", False, False),  # Independencia on a Saturday
    ],
)
def test_saturday_policy(day: str, mon_fri: bool, mon_sat: bool) -> None:
    assert MON_FRI.is_business_day(d(day)) is mon_fri
    assert MON_SAT.is_business_day(d(day)) is mon_sat


@pytest.mark.parametrize(
    ("calendar", "start", "n", "expected"),
    [
        (MON_FRI, "2025-03-12", 0, "2025-03-12"),
        (MON_FRI, "2025-03-15", 0, "2025-03-15"),  # n=0 is the day itself, business or not
        (MON_FRI, "2025-03-12", 1, "2025-03-13"),
        (MON_FRI, "2025-03-14", 1, "2025-03-17"),  # Friday + 1 = Monday
        (MON_SAT, "2025-03-14", 1, "2025-03-15"),  # ... or Saturday
        (MON_FRI, "2025-03-21", 1, "2025-03-25"),  # over San José observed Monday 24
        (MON_FRI, "2025-04-16", 1, "2025-04-21"),  # over Jueves and Viernes Santo
        (MON_SAT, "2025-04-16", 1, "2025-04-19"),  # Sábado Santo is no holiday
        (MON_FRI, "2024-12-31", 1, "2025-01-02"),  # over New Year
        (MON_FRI, "2025-12-24", 3, "2025-12-30"),  # 26, 29, 30
        (MON_FRI, "2027-12-24", 3, "2027-12-29"),  # Christmas is on Saturday: 27, 28, 29 either way
        (MON_SAT, "2027-12-24", 3, "2027-12-29"),
        (MON_FRI, "2025-03-25", -1, "2025-03-21"),  # backwards over San José and the weekend
        (MON_FRI, "2025-01-02", -1, "2024-12-31"),
        (MON_FRI, "2026-01-05", 20, "2026-02-03"),  # across Reyes (12 Jan): 20 business days
    ],
)
def test_add_business_days(calendar: BusinessCalendar, start: str, n: int, expected: str) -> None:
    assert calendar.add_business_days(d(start), n) == d(expected)


@pytest.mark.parametrize(
    ("calendar", "first", "last", "expected"),
    [
        (MON_FRI, "2025-03-14", "2025-03-14", 0),  # same day: nothing after first
        (MON_FRI, "2025-03-13", "2025-03-14", 1),  # last counts, first does not
        (MON_FRI, "2025-03-14", "2025-03-16", 0),  # the weekend after a Friday
        (MON_SAT, "2025-03-14", "2025-03-16", 1),
        (MON_FRI, "2025-03-14", "2025-03-19", 3),
        (MON_FRI, "2025-03-14", "2025-03-20", 4),
        (MON_FRI, "2025-04-14", "2025-04-21", 3),  # 15, 16, 21
        (MON_FRI, "2025-12-30", "2026-01-05", 3),  # 31, 2, 5
        (MON_FRI, "2025-03-19", "2025-03-14", -3),  # reversed arguments give the negative count
        # The whole of 2025: 261 weekdays minus 16 holidays on weekdays (all of the 2025 row but Sunday 20 July).
        (MON_FRI, "2024-12-31", "2025-12-31", 245),
    ],
)
def test_business_days_between(calendar: BusinessCalendar, first: str, last: str, expected: int) -> None:
    assert calendar.business_days_between(d(first), d(last)) == expected


@pytest.mark.parametrize(
    ("calendar", "signed_at", "end_date"),
    [
        # Friday 20:30 in Bogota is already Saturday 01:30 in UTC: the count starts from the Bogota date (Friday).
        (MON_FRI, datetime(2025, 3, 15, 1, 30, tzinfo=UTC), "2025-03-19"),
        (MON_SAT, datetime(2025, 3, 15, 1, 30, tzinfo=UTC), "2025-03-18"),  # Sat 15, Mon 17, Tue 18
        # Mon-Fri cannot tell a Friday from a Saturday start; Thursday 21:00 Bogota (Friday 02:00 UTC) can.
        (MON_FRI, datetime(2025, 3, 14, 2, 0, tzinfo=UTC), "2025-03-18"),  # Fri 14, Mon 17, Tue 18
        (MON_FRI, bogota("2025-03-14T08:00"), "2025-03-19"),  # Mon 17, Tue 18, Wed 19 (San José moved to 24)
        (MON_FRI, bogota("2025-04-14T10:00"), "2025-04-21"),  # Tue 15, Wed 16, Mon 21 over Semana Santa
        (MON_SAT, bogota("2025-04-14T10:00"), "2025-04-19"),  # Tue 15, Wed 16, Sat 19
        (MON_FRI, bogota("2025-12-30T16:00"), "2026-01-05"),  # Wed 31, Fri 2, Mon 5 (Reyes moved to 12)
        (MON_SAT, bogota("2025-12-30T16:00"), "2026-01-03"),  # Wed 31, Fri 2, Sat 3
        (MON_FRI, bogota("2027-12-24T11:00"), "2027-12-29"),  # Christmas Saturday: Mon 27, Tue 28, Wed 29
        (MON_FRI, bogota("2025-03-15T10:00"), "2025-03-19"),  # 032 signed on a Saturday
        (MON_FRI, bogota("2026-07-08T10:00"), "2026-07-14"),  # Thu 9 (Chiquinquirá moves), Fri 10, Tue 14
        (MON_FRI, datetime(2025, 3, 14, 23, 30, tzinfo=timezone(timedelta(hours=-3))), "2025-03-19"),  # 21:30 Bogota
    ],
)
def test_window_end(calendar: BusinessCalendar, signed_at: datetime, end_date: str) -> None:
    end = calendar.window_end(signed_at)
    assert end.tzinfo is BOGOTA
    assert end == datetime.fromisoformat(f"{end_date}T23:59:59.999999-05:00")


def test_window_end_is_the_last_instant_of_the_day() -> None:
    end = MON_FRI.window_end(bogota("2025-03-14T08:00"))
    assert end.astimezone(UTC) == datetime(2025, 3, 20, 4, 59, 59, 999999, tzinfo=UTC)


END = MON_FRI.window_end(datetime(2025, 3, 15, 1, 30, tzinfo=UTC))  # Wednesday 2025-03-19, end of day


@pytest.mark.parametrize(
    ("now", "days", "hours", "urgent", "label"),
    [
        (bogota("2025-03-15T12:00"), 3, 0, False, "3 días hábiles"),  # Saturday: Mon, Tue, Wed left
        (bogota("2025-03-17T19:00"), 2, 5, False, "2 días hábiles y 5 h"),
        (bogota("2025-03-18T14:00"), 1, 10, False, "1 día hábil y 10 h"),
        (bogota("2025-03-18T00:00"), 2, 0, False, "2 días hábiles"),
        (bogota("2025-03-19T09:30"), 0, 14, True, "14 h"),
        (bogota("2025-03-19T23:30"), 0, 0, True, "Menos de 1 h"),
        (datetime(2025, 3, 19, 14, 30, tzinfo=UTC), 0, 14, True, "14 h"),  # 09:30 Bogota given in UTC
        (bogota("2025-03-20T00:00"), 0, 0, False, "Plazo vencido"),
        (bogota("2025-04-01T08:00"), 0, 0, False, "Plazo vencido"),
    ],
)
def test_remaining(now: datetime, days: int, hours: int, urgent: bool, label: str) -> None:
    left = MON_FRI.remaining(now, END)
    assert (left.days, left.hours, left.is_urgent, left.label) == (days, hours, urgent, label)
    assert left.expired is (label == "Plazo vencido")


def test_remaining_skips_holidays() -> None:
    end = MON_FRI.window_end(bogota("2025-04-14T10:00"))  # Monday 21 April
    assert MON_FRI.remaining(bogota("2025-04-16T18:00"), end) == Remaining(days=1, hours=6, expired=False)


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2025, 3, 14, 20, 30)
    with pytest.raises(ValueError, match="timezone-aware"):
        MON_FRI.window_end(naive)
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        MON_FRI.remaining(naive, END)
    with pytest.raises(ValueError, match="end must be timezone-aware"):
        MON_FRI.remaining(bogota("2025-03-14T08:00"), naive)


def test_datetimes_are_refused_where_a_date_is_meant() -> None:
    with pytest.raises(TypeError, match="bogota_date"):
        MON_FRI.is_business_day(datetime(2025, 3, 15, 1, 30, tzinfo=UTC))


def test_bogota_date() -> None:
    assert cal.bogota_date(datetime(2025, 3, 15, 1, 30, tzinfo=UTC)) == d("2025-03-14")


def test_calendar_is_frozen_and_hashable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        MON_FRI.saturday_is_business_day = True  # type: ignore[misc]
    assert {MON_FRI: "a", BusinessCalendar(): "b"} == {MON_FRI: "b"}


def test_holidays_are_built_once_per_year(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []
    real = cal.holidays.country_holidays

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(kwargs.get("years"))
        return real(*args, **kwargs)

    cal._holidays_of.cache_clear()
    monkeypatch.setattr(cal.holidays, "country_holidays", counting)
    for _ in range(1000):
        MON_FRI.window_end(bogota("2025-12-30T16:00"))  # touches 2025 and 2026
    assert sorted(calls) == [2025, 2026]
    cal._holidays_of.cache_clear()
