"""Colombian business days and the 3-business-day window of Código de Comercio art. 773 (dian-facts.md 2.2, 7.1).

Every datetime is timezone-aware; dates are calendar dates in America/Bogota.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

__all__ = ["BOGOTA", "WINDOW_BUSINESS_DAYS", "BusinessCalendar", "Remaining", "bogota_date"]

BOGOTA = ZoneInfo("America/Bogota")

# Art. 773 Código de Comercio and Decreto 1074/2015 art. 2.2.2.53.4: 3 business days from receipt of the goods (032);
# DIAN's BusinessDaysLimit (dian-facts.md 2.2).
WINDOW_BUSINESS_DAYS = 3

_DAY = timedelta(days=1)
_SATURDAY, _SUNDAY = 5, 6


@lru_cache(maxsize=64)
def _holidays_of(year: int) -> frozenset[date]:
    # Ley 51 de 1983 (Emiliani) and the fixed and Easter-based holidays (dian-facts.md 7.1), as the holidays package
    # knows them; one frozenset per year so a list page of 200k documents never rebuilds the table.
    return frozenset(holidays.country_holidays("CO", years=year))


def _require_date(value: date, name: str) -> None:
    if isinstance(value, datetime):
        # A datetime here usually means a UTC instant whose date is not the Bogota date.
        raise TypeError(f"{name} must be a date, got the datetime {value.isoformat()}; use bogota_date()")


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got the naive datetime {value.isoformat()}")


def bogota_date(moment: datetime) -> date:
    """Return the calendar date in America/Bogota of an aware datetime."""
    _require_aware(moment, "moment")
    return moment.astimezone(BOGOTA).date()


@dataclass(frozen=True)
class Remaining:
    """Business time left before a deadline, for a countdown such as "2 días hábiles y 5 h"."""

    days: int
    hours: int
    expired: bool

    @property
    def is_urgent(self) -> bool:
        """True when less than one whole business day is left and the deadline has not passed."""
        return not self.expired and self.days == 0

    @property
    def label(self) -> str:
        """The countdown in Spanish, as shown to a clerk."""
        if self.expired:
            return "Plazo vencido"
        parts = []
        if self.days:
            parts.append("1 día hábil" if self.days == 1 else f"{self.days} días hábiles")
        if self.hours:
            parts.append(f"{self.hours} h")
        return " y ".join(parts) if parts else "Menos de 1 h"


@dataclass(frozen=True)
class BusinessCalendar:
    """Colombian business days; Saturdays are not business days unless configured (dian-facts.md 7.1, open point 3)."""

    # DIAN's validator counts Monday to Friday only (dian-facts.md 2.2); the law is silent on Saturdays.
    saturday_is_business_day: bool = False

    def is_business_day(self, d: date) -> bool:
        """True when ``d`` is neither Sunday, a Colombian holiday nor (unless configured) Saturday."""
        _require_date(d, "d")
        weekday = d.weekday()
        if weekday == _SUNDAY or (weekday == _SATURDAY and not self.saturday_is_business_day):
            return False
        return d not in _holidays_of(d.year)

    def add_business_days(self, d: date, n: int) -> date:
        """Return the n-th business day after ``d`` (before it when n is negative); ``d`` itself when n is 0."""
        _require_date(d, "d")
        step = _DAY if n >= 0 else -_DAY
        left = abs(n)
        while left:
            d += step
            if self.is_business_day(d):
                left -= 1
        return d

    def business_days_between(self, first: date, last: date) -> int:
        """Count business days after ``first`` up to and including ``last`` (DIAN's BusinessDaysUntil, 2.2)."""
        _require_date(first, "first")
        _require_date(last, "last")
        if last < first:
            return -self.business_days_between(last, first)
        count = 0
        d = first
        while d < last:
            d += _DAY
            if self.is_business_day(d):
                count += 1
        return count

    def window_end(self, signed_at: datetime) -> datetime:
        """Return the last instant (Bogota) to claim or accept: end of the 3rd business day after the 032 date."""
        # Art. 773 C.Co.; the count starts the day after the 032 signing date, as DIAN's code does (2.2).
        last_day = self.add_business_days(bogota_date(signed_at), WINDOW_BUSINESS_DAYS)
        return datetime.combine(last_day, time.max, tzinfo=BOGOTA)

    def remaining(self, now: datetime, end: datetime) -> Remaining:
        """Return the whole business days and hours from ``now`` to ``end``; zero and expired once it is past."""
        _require_aware(now, "now")
        _require_aware(end, "end")
        if now > end:
            return Remaining(days=0, hours=0, expired=True)
        now = now.astimezone(BOGOTA)
        end = end.astimezone(BOGOTA)
        if end.timetz().replace(tzinfo=None) == time.max:
            end += timedelta(microseconds=1)  # "until the end of that day" is the next midnight
        # Business time = the part of [now, end) that falls on business days: the rest of today, the whole business
        # days in between, and the start of the last day.
        today, last = now.date(), end.date()
        midnight_after = datetime.combine(today + _DAY, time.min, tzinfo=BOGOTA)
        if today == last:
            business = end - now if self.is_business_day(today) else timedelta()
        else:
            business = midnight_after - now if self.is_business_day(today) else timedelta()
            business += _DAY * self.business_days_between(today, last - _DAY)
            if self.is_business_day(last):
                business += end - datetime.combine(last, time.min, tzinfo=BOGOTA)
        whole_days, rest = divmod(business, _DAY)
        return Remaining(days=whole_days, hours=rest // timedelta(hours=1), expired=False)
