"""The claim window's deadline in the words the inbox's filter and its rows share: by the business day it ends on.

"Vence hoy", "Vence mañana", "Vence en 2 días hábiles", "Vence en 3 días hábiles": the number of business days from
today (America/Bogota) to the day the window ends, counted by dian.calendar like the countdown ("Quedan 3 días
hábiles y 9 h" ends on the third business day after today). The inbox filter ``due=N`` keeps exactly the windows
whose number is at most N (web/search.py, ``due_cutoff``), so a row and the filter it is found under say the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from dian.calendar import BOGOTA, BusinessCalendar, Remaining

WEEKDAYS = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
# The choices of the inbox's deadline filter: the last business day, counted from today, that a window may end on.
DUE_CHOICES = (
    (0, "hoy"),
    (1, "hoy o mañana (próximo día hábil)"),
    (2, "en 2 días hábiles o antes"),
    (3, "en 3 días hábiles o antes"),
)
MAX_DUE = 30


def due_day(now: datetime, end: datetime, calendar: BusinessCalendar) -> int | None:
    """Business days from today to the day the window ends (0 = today); None once it has ended."""
    if end < now:
        return None
    today = now.astimezone(BOGOTA).date()
    return calendar.business_days_between(today, end.astimezone(BOGOTA).date())


def due_cutoff(now: datetime, days: int, calendar: BusinessCalendar) -> datetime:
    """The first instant whose window no longer counts as due within ``days``: midnight starting the business day
    after the days-th one (so a window ending on a non-business day still counts with the business day before it)."""
    today = now.astimezone(BOGOTA).date()
    return datetime.combine(calendar.add_business_days(today, days + 1), time.min, tzinfo=BOGOTA)


@dataclass(frozen=True)
class Deadline:
    """What a row shows: the words, the countdown beside them, and whether to show it in red."""

    words: str
    countdown: str
    urgent: bool
    expired: bool


def deadline(now: datetime, end: datetime, remaining: Remaining, calendar: BusinessCalendar) -> Deadline:
    """The row's deadline: "Vence hoy" … "Vence en 3 días hábiles", or "Plazo vencido"."""
    day = due_day(now, end, calendar)
    if day is None or remaining.expired:
        return Deadline("Plazo vencido", "", urgent=True, expired=True)
    local_end = end.astimezone(BOGOTA).date()
    if day == 0:
        words = "Vence hoy"
    elif day == 1:
        tomorrow = now.astimezone(BOGOTA).date() + timedelta(days=1)
        weekday = WEEKDAYS[local_end.weekday()]
        words = "Vence mañana" if local_end == tomorrow else f"Vence el {weekday} (próximo día hábil)"
    else:
        words = f"Vence en {day} días hábiles"
    countdown = "quedan " + remaining.label[:1].lower() + remaining.label[1:]
    return Deadline(words, countdown, urgent=day == 0 or remaining.is_urgent, expired=False)
