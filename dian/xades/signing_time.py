"""xades:SigningTime as DIAN writes it (Colombian time, sometimes labelled UTC) and as it is read back."""

from __future__ import annotations

import datetime as dt
import re

from dian.xades.vocabulary import COLOMBIA


def _format_signing_time(signing_time: dt.datetime) -> str:
    # dian-facts 5 and 2.2: DIAN compares SigningTime with IssueDate/IssueTime, written in Colombian time.
    return signing_time.astimezone(COLOMBIA).isoformat(timespec="milliseconds")


_SIGNING_TIME = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})?"
)


def parse_signing_time(text: str) -> tuple[dt.datetime | None, bool]:
    """Parse an xs:dateTime SigningTime; return (UTC-aware time, ambiguous) — ambiguous when labelled UTC.

    dian-facts 2.2: DIAN's own signatures write Colombian local time labelled ``+00:00``; a time labelled UTC may
    therefore really be five hours later. A time without offset is read as Colombian time.
    """
    value = text.strip()
    # [0-9], not \d: \d also matches Arabic-Indic and other Unicode digits, which int() then reads as numbers.
    match = _SIGNING_TIME.fullmatch(value)
    if not match:
        return None, False
    base, fraction, offset = match.groups()
    try:
        parsed = dt.datetime.fromisoformat(base)
        if not 1 < parsed.year < 9999:  # shifting by an offset (or the 5 h of an ambiguous UTC label) stays in range
            return None, False
        if fraction:  # .NET writes 7 fractional digits; keep microseconds
            parsed = parsed.replace(microsecond=int((fraction[1:] + "000000")[:6]))
        if offset is None:
            return parsed.replace(tzinfo=COLOMBIA).astimezone(dt.UTC), False
        if offset == "Z":
            return parsed.replace(tzinfo=dt.UTC), True
        sign = 1 if offset[0] == "+" else -1
        hours, minutes = int(offset[1:3]), int(offset[4:6])
        if hours > 14 or minutes > 59 or (hours == 14 and minutes):  # xs:dateTime offsets run from -14:00 to +14:00
            return None, False
        tz = dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
        aware = parsed.replace(tzinfo=tz)
        return aware.astimezone(dt.UTC), tz.utcoffset(None) == dt.timedelta(0)
    except ValueError:
        return None, False


def _moments(signing_time: dt.datetime, ambiguous: bool) -> list[dt.datetime]:
    # A UTC label may hide Colombian local time: the real instant is then five hours later.
    return [signing_time, signing_time + dt.timedelta(hours=5)] if ambiguous else [signing_time]
