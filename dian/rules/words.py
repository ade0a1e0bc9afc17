"""The Spanish phrasing of the refusals: dates, an event's name, lists joined with "o", holders by name and NIT."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from dian.calendar import BOGOTA
from dian.codes import EventCode
from dian.radian.model import Share

_MONTHS = (
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
)


def fecha(d: date) -> str:
    return f"{d.day} de {_MONTHS[d.month - 1]} de {d.year}"


def fecha_hora(moment: datetime) -> str:
    local = moment.astimezone(BOGOTA)
    return f"{fecha(local.date())} a las {local:%H:%M}"


def event(code: EventCode) -> str:
    return f"el evento {code.value} ({code.label})"


def either(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " o " + items[-1]


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def nit_list(shares: Sequence[Share]) -> str:
    return either(
        [
            f"{share.registration_name} (NIT {share.nit})" if share.registration_name else f"NIT {share.nit}"
            for share in shares
        ]
    )
