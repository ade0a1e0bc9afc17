"""The simulator's numbering ranges: one table answers GetNumberingRange and checks what is issued against it.

A range is seeded per issuer NIT and software (``Simulator.seed({"numbering": [...]})``); :func:`habilitacion_range`
gives DIAN's own habilitación range for own software (radian-issuing-facts B.1) as such a seed row, so a sandbox and a
test configure it the same way. :func:`ranges_for` is the query GetNumberingRange answers with, and
:func:`range_of_number` finds the range a document's number belongs to among the same rows.

Each range numbers one kind of document (radian-issuing-facts B.1 and C.5: DIAN keys its range table by
``prefix|type|resolution``; 01, 02 and 04 share the invoice range, the documento soporte 05 has its own authorization).
GetNumberingRange lists both kinds without saying which is which (its answer has no type: the issuer says it on its
side, Buzón's ``buzon ranges kind``); :func:`kind_problem` is DIAN's refusal of a document numbered from a range
authorized for the other kind — FAB05b for an invoice, DSAB05b for a documento soporte. The simulator does not tell
the contingency 03's range apart from the invoices'.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "HABILITACION_KEY",
    "HABILITACION_RESOLUTION",
    "INVOICE",
    "KINDS",
    "SUPPORT_DOCUMENT",
    "habilitacion_range",
    "kind_problem",
    "range_kind",
    "range_of_number",
    "ranges_for",
]

# radian-issuing-facts B.1: DIAN's habilitación range for own software and its one technical key.
HABILITACION_RESOLUTION = "18760000001"
HABILITACION_KEY = "fc8eac422eba16e22ffd8c6f94b3f40a6e38162c"

INVOICE = "invoice"  # 01, 02, 04 (and the simulator's 03)
SUPPORT_DOCUMENT = "support_document"  # 05, its own authorization (form 1876)
KINDS = (INVOICE, SUPPORT_DOCUMENT)  # the words of issuing.ranges.RangeKind, so a seed reads like `ranges kind`
_KIND_WORDS = {
    INVOICE: ("FAB05b", "de facturación del emisor", "documentos soporte"),
    SUPPORT_DOCUMENT: ("DSAB05b", "de documento soporte del adquiriente", "facturas"),
}


def range_kind(value: Any) -> str:
    """A seed row's kind (``invoice`` when absent); ValueError naming the allowed words otherwise."""
    kind = INVOICE if value is None else str(value)
    if kind not in KINDS:
        raise ValueError(f"numbering kind {value!r} is not one of {', '.join(KINDS)}")
    return kind


def kind_problem(row: Any, kind: str) -> tuple[str, str] | None:
    """(rule, DIAN's words) when ``row`` — the range a document's number fell in — is authorized for another kind than
    the document's ``kind``; None when it is the document's own kind."""
    if row["kind"] == kind:
        return None
    rule, whose, other = _KIND_WORDS[kind]
    return rule, (f"Número de la autorización de numeración ({row['resolution']}) no corresponde a una autorización "
                  f"de numeración {whose}: el rango {row['prefix']} está autorizado para {other}.")  # fmt: skip


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
        "kind": INVOICE,
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
