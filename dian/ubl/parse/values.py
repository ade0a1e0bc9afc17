"""Value readers: a field's text as a decimal, an amount, a date, a time (``parse_time``, ``BOGOTA``), the issue moment
and the environment; and the header paths every root carries."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation

from dian.codes import Environment
from dian.errors import ParseError
from dian.ubl.parse.record import XML_WS, Fields, Record

# Colombia has no daylight saving time: America/Bogota is always UTC-05:00.
BOGOTA = timezone(timedelta(hours=-5))

# [0-9], never \d: \d also matches Arabic-Indic, Devanagari and other Unicode digits, which int() and Decimal() then
# read as numbers (issue 14). Dates, times, numbers and identifiers are ASCII in every DIAN document.
_TIME = re.compile(r"^([0-9]{2})[:-]([0-9]{2})[:-]([0-9]{2})(?:\.([0-9]{1,9}))?(Z|[+-][0-9]{2}:?[0-9]{2})?$")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Years a DIAN document can mean (electronic invoicing began in 2019; references may be older). Outside them a date is
# refused, so that no later arithmetic on it (a claim window, a time zone) can leave the calendar.
_YEARS = range(1900, 3000)


def parse_decimal(value: str | None, where: str) -> Decimal | None:
    if value is None:
        return None
    # Decimal() also reads Unicode digits and "1_000": an xs:decimal is neither.
    if not value.isascii() or "_" in value:
        raise ParseError(f"no es un valor numérico válido: {value!r}", where=where)
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise ParseError(f"no es un valor numérico válido: {value!r}", where=where) from None
    if not result.is_finite():
        raise ParseError(f"no es un valor finito: {value!r}", where=where)
    return result


def amount(record: Record, fields: Fields, name: str, where: str) -> Decimal | None:
    return parse_decimal(fields[name], f"{where}/{record.paths[name]}")


def required_amount(record: Record, fields: Fields, name: str, where: str) -> Decimal:
    return parse_decimal(record.need(fields, name, where), f"{where}/{record.paths[name]}")  # type: ignore[return-value]


def parse_date(value: str | None, where: str) -> date | None:
    if value is None:
        return None
    # xs:date may carry a zone suffix ("2025-04-04-05:00"); the calendar date is the first ten characters.
    if _DATE.match(value) is None:
        raise ParseError(f"no es una fecha (AAAA-MM-DD): {value!r}", where=where)
    try:
        result = date.fromisoformat(value[:10])
    except ValueError:
        raise ParseError(f"no es una fecha válida: {value!r}", where=where) from None
    if result.year not in _YEARS:
        raise ParseError(f"fecha fuera de rango ({_YEARS[0]} a {_YEARS[-1]}): {value!r}", where=where)
    return result


def day(record: Record, fields: Fields, name: str, where: str) -> date | None:
    return parse_date(fields[name], f"{where}/{record.paths[name]}")


def parse_time(value: str, *, where: str = "cbc:IssueTime") -> tuple[time, bool]:
    """Parse an xs:time as DIAN writes it; return an aware time and whether -05:00 had to be assumed."""
    match = _TIME.match(value.strip(XML_WS))
    if match is None:
        raise ParseError(f"no es una hora válida: {value!r}", where=where)
    hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or "0").ljust(6, "0")[:6])
    if zone is None:
        # Real files sometimes omit the offset (dian-facts.md 3.1); DIAN documents are written in Colombian time.
        tz, assumed = BOGOTA, True
    elif zone == "Z":
        tz, assumed = UTC, False
    else:
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:])
        # xs:time offsets run from -14:00 to +14:00; timezone() itself refuses ±24:00 with a ValueError.
        if hours > 14 or minutes > 59 or (hours == 14 and minutes):
            raise ParseError(f"no es una hora válida: {value!r} (desfase UTC fuera de rango)", where=where)
        tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
        assumed = False
    try:
        return time(int(hour), int(minute), int(second), micro, tzinfo=tz), assumed
    except ValueError:
        raise ParseError(f"no es una hora válida: {value!r}", where=where) from None


def issued(record: Record, fields: Fields, where: str) -> tuple[date, str, datetime, bool]:
    issue_date = parse_date(record.need(fields, "issue_date", where), f"{where}/cbc:IssueDate")
    issue_time = record.need(fields, "issue_time", where)
    parsed, assumed = parse_time(issue_time, where=f"{where}/cbc:IssueTime")
    assert issue_date is not None
    return issue_date, issue_time, datetime.combine(issue_date, parsed), assumed


def parse_environment(value: str | None, where: str) -> Environment | None:
    if value is None:
        return None
    try:
        return Environment(value)
    except ValueError:
        raise ParseError(
            f"ambiente desconocido {value!r} (1 producción, 2 pruebas)", where=f"{where}/cbc:ProfileExecutionID"
        ) from None


# Fields every root carries (dian-facts.md 2.5, 3.1).
HEADER_PATHS = {
    "number": "cbc:ID",
    "uuid": "cbc:UUID",
    "uuid_scheme": "cbc:UUID/@schemeName",
    "environment": "cbc:ProfileExecutionID",
    "customization_id": "cbc:CustomizationID",
    "profile_id": "cbc:ProfileID",
    "issue_date": "cbc:IssueDate",
    "issue_time": "cbc:IssueTime",
}
