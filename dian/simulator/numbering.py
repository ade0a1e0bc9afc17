"""The simulator's numbering ranges: one table answers GetNumberingRange and checks what is issued against it.

A range is seeded per issuer NIT and software (``Simulator.seed({"numbering": [...]})``); :func:`habilitacion_range`
gives DIAN's own habilitación range for own software (radian-issuing-facts B.1) as such a seed row, so a sandbox and a
test configure it the same way. :func:`ranges_for` is the query GetNumberingRange answers with, and
:func:`range_of_number` finds the range a document's number belongs to among the same rows.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "HABILITACION_KEY",
    "HABILITACION_RESOLUTION",
    "habilitacion_range",
    "range_of_number",
    "ranges_for",
]

# radian-issuing-facts B.1: DIAN's habilitación range for own software and its one technical key.
HABILITACION_RESOLUTION = "18760000001"
HABILITACION_KEY = "fc8eac422eba16e22ffd8c6f94b3f40a6e38162c"


def habilitacion_range(nit: str, software_id: str, *, prefix: str = "SETP") -> dict[str, Any]:
    """The seed row of DIAN's habilitación range SETP 990000000-995000000 (2019-01-19 → 2030-01-19) for a software."""
    return {
        "nit": nit,
        "software_id": software_id,
        "resolution": HABILITACION_RESOLUTION,
        "resolution_date": "2019-01-19",
        "prefix": prefix,
        "from": 990000000,
        "to": 995000000,
        "valid_from": "2019-01-19",
        "valid_to": "2030-01-19",
        "technical_key": HABILITACION_KEY,
    }


def ranges_for(store: Any, nit: str, software_id: str | None = None) -> list[Any]:
    """The issuer's ranges (of one software when given), as GetNumberingRange lists them."""
    if software_id is None:
        return store.all("SELECT * FROM numbering WHERE nit = ? ORDER BY prefix, from_number", nit)
    return store.all(
        "SELECT * FROM numbering WHERE nit = ? AND software_id = ? ORDER BY prefix, from_number", nit, software_id
    )


def range_of_number(rows: list[Any], number: str, prefix: str | None) -> tuple[Any | None, Any | None]:
    """(the range holding ``number``, a range of the same prefix that does not hold it) among ``rows``."""
    near = None
    for row in rows:
        if row["prefix"] != (prefix or "") or not number.startswith(row["prefix"]):
            continue
        tail = number[len(row["prefix"]) :]
        if tail.isdigit() and row["from_number"] <= int(tail) <= row["to_number"]:
            return row, None
        near = near or row
    return None, near
