"""The period of the dashboard's and the suppliers pages' amounts: whole calendar months (by issue date, Bogotá), so
each figure reads store/totals.py's monthly totals, and says in words which months it covers.

In the address as ``periodo``: one of the choices (``mes``, ``mes-anterior``, ``3-meses``, ``anio``), a month
``AAAA-MM`` or a year ``AAAA``; anything else is a PeriodError with a Spanish message, never a 500.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

DEFAULT = "3-meses"
CHOICES = {
    "mes": "Este mes",
    "mes-anterior": "El mes anterior",
    "3-meses": "Los últimos 3 meses",
    "anio": "Este año",
}
MONTHS = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
          "noviembre", "diciembre")  # fmt: skip
FIRST_YEAR, LAST_YEAR = 1900, 2199  # the inbox's own date range (web/query.py)
_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")
_YEAR = re.compile(r"^[0-9]{4}$")


class PeriodError(ValueError):
    """A period that cannot be shown; the message is Spanish and names the problem."""


@dataclass(frozen=True)
class Period:
    key: str  # as in the address
    first: date  # the first day of the first month
    last: date  # the last day of the last month (both included)
    words: str  # "octubre a diciembre de 2026"

    @property
    def first_month(self) -> date:
        return self.first

    @property
    def last_month(self) -> date:
        return self.last.replace(day=1)

    @property
    def choice(self) -> str | None:
        """The name of the choice, when the period is one ("Este año")."""
        return CHOICES.get(self.key)

    @property
    def param(self) -> str | None:
        """The value of ``periodo`` in links to the other pages of the period (none for the default)."""
        return None if self.key == DEFAULT else self.key

    def inbox_args(self) -> dict[str, str]:
        """The inbox's from/to filters for the same days (it cuts issued_at at Bogotá midnight, as the totals do)."""
        return {"from": self.first.isoformat(), "to": self.last.isoformat()}


def _month_end(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _months_before(first: date, count: int) -> date:
    index = first.year * 12 + first.month - 1 - count
    return date(index // 12, index % 12 + 1, 1)


def _words(first: date, last: date) -> str:
    if (first.year, first.month) == (last.year, last.month):
        return f"{MONTHS[first.month - 1]} de {first.year}"
    if first.month == 1 and last.month == 12 and first.year == last.year:
        return f"el año {first.year}"
    if first.year == last.year:
        return f"{MONTHS[first.month - 1]} a {MONTHS[last.month - 1]} de {first.year}"
    return f"{MONTHS[first.month - 1]} de {first.year} a {MONTHS[last.month - 1]} de {last.year}"


def _span(key: str, first: date, last_month: date) -> Period:
    last = _month_end(last_month)
    return Period(key, first, last, _words(first, last))


def period(raw: str | None, today: date) -> Period:
    """The period the address asks for (the default when it asks none), or PeriodError."""
    key = (raw or "").strip() or DEFAULT
    this_month = today.replace(day=1)
    if key == "mes":
        return _span(key, this_month, this_month)
    if key == "mes-anterior":
        before = _months_before(this_month, 1)
        return _span(key, before, before)
    if key == "3-meses":
        return _span(key, _months_before(this_month, 2), this_month)
    if key == "anio":
        return _span(key, this_month.replace(month=1), date(today.year, 12, 1))
    shown = key if len(key) <= 40 else key[:40] + "…"
    choices = ", ".join(f"«{k}»" for k in CHOICES)
    if match := _MONTH.match(key):
        year, month = int(match.group(1)), int(match.group(2))
        if not 1 <= month <= 12:
            raise PeriodError(f"Periodo: el mes «{shown}» no existe; escriba el mes como AAAA-MM, de 01 a 12.")
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise PeriodError(f"Periodo: el año {year} está fuera del rango {FIRST_YEAR}–{LAST_YEAR}.")
        first = date(year, month, 1)
        return _span(key, first, first)
    if _YEAR.match(key):
        year = int(key)
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise PeriodError(f"Periodo: el año {year} está fuera del rango {FIRST_YEAR}–{LAST_YEAR}.")
        return _span(key, date(year, 1, 1), date(year, 12, 1))
    raise PeriodError(
        f"Periodo: «{shown}» no es un periodo conocido; elija uno de la lista ({choices}), un mes (AAAA-MM) o un año "
        "(AAAA)."
    )
