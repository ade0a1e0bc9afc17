"""Documents to issue from a CSV file (`buzon issue FILE.csv`): one row per line item, rows grouped into documents by
the ``document`` column; the document's fields (type, numbering, buyer, payment, references, withholdings) may be
repeated on each of its rows or written on its first row only (a later row that repeats one must say the same).

Each document becomes the same native request as a JSON file (issuing/payload.py, issuing/request.py) and is read by
the same validation; its problems come back addressed by CSV row and column instead of JSON pointer
("fila 3, columna iva: …"). Rows count as a spreadsheet shows them: the header is row 1. The delimiter is a comma, or
a semicolon when the header has more of them (a spreadsheet saved in Spanish). Empty cells are absent fields.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from issuing.problems import Problem, pointer
from issuing.request import IssueRequest, read_request
from issuing.validation import MAX_LINES

__all__ = ["COLUMNS", "CsvDocument", "columns_help", "read_csv"]

KEY_COLUMN = "document"
MAX_DOCUMENTS = 500

# column → (where it goes in the native payload, what it holds). Document columns first, then line columns.
DOCUMENT_COLUMNS: dict[str, tuple[tuple[str | int, ...], str]] = {
    "type": (("type",), "01 venta (default), 02 exportación, 03/04 contingencia, 91 nota crédito, 92 nota débito"),
    "number": (("number",), "consecutive chosen by the ERP (optional; inside a DIAN range)"),
    "prefix": (("prefix",), "DIAN range prefix (optional)"),
    "resolution_number": (("resolution_number",), "DIAN resolution (optional)"),
    "currency": (("currency",), "ISO 4217, COP by default"),
    "exchange_rate": (("exchange_rate", "rate"), "COP per unit of the currency (other currencies)"),
    "exchange_date": (("exchange_rate", "date"), "date of the exchange rate, YYYY-MM-DD"),
    "order_reference": (("order_reference",), "buyer's purchase order"),
    "note": (("notes", 0), "a note printed on the document"),
    "customer_id_type": (("customer", "id_type"), "31 NIT, 13 cédula, 22 cédula de extranjería…"),
    "customer_id": (("customer", "id"), "buyer's number, without check digit"),
    "customer_dv": (("customer", "dv"), "NIT check digit"),
    "customer_name": (("customer", "name"), "buyer's name or razón social"),
    "customer_organization": (("customer", "organization"), "1 persona jurídica, 2 persona natural"),
    "customer_tax_levels": (("customer", "tax_levels"), "fiscal responsibilities separated by spaces: O-13 O-15"),
    "customer_tax_scheme": (("customer", "tax_scheme"), "01 responsable de IVA, ZZ no aplica"),
    "customer_trade_name": (("customer", "trade_name"), "buyer's commercial name"),
    "customer_email": (("customer", "email"), "buyer's reception address"),
    "customer_phone": (("customer", "phone"), "buyer's phone"),
    "customer_address": (("customer", "address", "line"), "street address"),
    "customer_city_code": (("customer", "address", "city_code"), "DANE municipality, 5 digits"),
    "customer_city": (("customer", "address", "city"), "city name"),
    "customer_department": (("customer", "address", "department"), "department name"),
    "customer_department_code": (("customer", "address", "department_code"), "department, 2 digits"),
    "customer_country": (("customer", "address", "country"), "ISO 3166 alpha-2, CO by default"),
    "customer_postal_code": (("customer", "address", "postal_code"), "postal code"),
    "payment_form": (("payment", "form"), "1 contado, 2 crédito"),
    "payment_method": (("payment", "method"), "medio de pago: 10 efectivo, 42 consignación, 48 tarjeta…"),
    "due_date": (("payment", "due_date"), "YYYY-MM-DD, required on credit"),
    "reference_number": (("reference", "number"), "notes: the corrected invoice's number"),
    "reference_uuid": (("reference", "uuid"), "notes: its CUFE"),
    "reference_issue_date": (("reference", "issue_date"), "notes: its issue date"),
    "concept": (("concept",), "notes: the concept code"),
    "concept_description": (("concept_description",), "notes: why"),
    "period_start": (("period", "start"), "notes without an invoice: period start"),
    "period_end": (("period", "end"), "notes without an invoice: period end"),
    "paper_number": (("paper_invoice", "number"), "type 03: the paper invoice's number"),
    "paper_date": (("paper_invoice", "issue_date"), "type 03: its date"),
    "reteiva": (("withholdings", "05"), "ReteIVA rate, percent"),
    "reterenta": (("withholdings", "06"), "ReteRenta rate, percent"),
    "reteica": (("withholdings", "07"), "ReteICA rate, percent"),
    "total_payable": (("totals", "payable"), "the ERP's own total, checked within ±2.00"),
}
LINE_COLUMNS: dict[str, tuple[tuple[str | int, ...], str]] = {
    "description": (("description",), "what is sold (required)"),
    "quantity": (("quantity",), "quantity (required)"),
    "unit_price": (("unit_price",), "price per unit before taxes (required)"),
    "unit": (("unit",), "UN/ECE unit code, 94 unidad by default"),
    "code": (("code",), "the seller's item code"),
    "reference_price": (("reference_price",), "a free line's reference price (unit_price 0)"),
    "discount": (("adjustments", "amount"), "line discount, an amount"),
    "discount_percent": (("adjustments", "percent"), "line discount, a percentage"),
    "discount_reason": (("adjustments", "reason"), "why (Descuento by default)"),
    "iva": (("taxes", "01", "rate"), "IVA rate, percent (19, 5, 0)"),
    "inc": (("taxes", "04", "rate"), "INC rate, percent (8)"),
    "ica": (("taxes", "03", "rate"), "ICA rate, percent"),
    "inc_bolsas": (("taxes", "22", "per_unit"), "INC on plastic bags, pesos per unit"),
}
COLUMNS = (KEY_COLUMN, *DOCUMENT_COLUMNS, *LINE_COLUMNS)
_LINE_POINTER = re.compile(r"^/lines/(\d+)(/.*)?$")


def columns_help() -> str:
    """The column list for --help and the README."""
    found = [f"{KEY_COLUMN}: the document key grouping rows (required)"]
    found += [f"{name}: {text}" for name, (_, text) in DOCUMENT_COLUMNS.items()]
    found += [f"{name}: {text}" for name, (_, text) in LINE_COLUMNS.items()]
    return "; ".join(found)


@dataclass
class CsvDocument:
    """One document of the file: its key, its first row, the request read from it, and where each field came from."""

    key: str
    first_row: int
    data: dict[str, Any] = field(default_factory=dict)
    line_rows: list[int] = field(default_factory=list)
    origins: dict[str, tuple[int, str]] = field(default_factory=dict)  # JSON pointer → (row, column)
    given: dict[str, tuple[int, str]] = field(default_factory=dict)  # document column → (row, value) first given
    request: IssueRequest | None = None


def _set(data: dict[str, Any], steps: tuple[str | int, ...], value: Any) -> None:
    for step in steps[:-1]:
        data = data.setdefault(str(step), {})
    data[str(steps[-1])] = value


def _document_field(doc: CsvDocument, column: str, value: str, row: int) -> None:
    steps, _ = DOCUMENT_COLUMNS[column]
    if steps[0] == "withholdings":
        items = doc.data.setdefault("withholdings", [])
        index = len(items)
        items.append({"scheme": steps[1], "rate": value})
        for where in (pointer("withholdings", index), pointer("withholdings", index, "rate")):
            doc.origins[where] = (row, column)
        return
    if steps == ("notes", 0):
        doc.data["notes"] = [value]
    elif steps == ("customer", "tax_levels"):
        _set(doc.data, steps, [level for level in re.split(r"[\s;,]+", value) if level])
    else:
        _set(doc.data, steps, value)
    doc.origins[pointer(*steps)] = (row, column)


def _line(cells: dict[str, str], row: int, index: int, origins: dict[str, tuple[int, str]]) -> dict[str, Any]:
    line: dict[str, Any] = {}
    taxes: list[dict[str, Any]] = []
    adjustment: dict[str, Any] = {}
    for column, (steps, _) in LINE_COLUMNS.items():
        value = cells.get(column, "")
        if not value:
            continue
        if steps[0] == "taxes":
            k = len(taxes)
            taxes.append({"scheme": steps[1], steps[2]: value})
            for where in (pointer("lines", index, "taxes", k), pointer("lines", index, "taxes", k, steps[2])):
                origins[where] = (row, column)
        elif steps[0] == "adjustments":
            adjustment[str(steps[1])] = value
            origins[pointer("lines", index, "adjustments", 0, steps[1])] = (row, column)
            origins.setdefault(pointer("lines", index, "adjustments", 0), (row, column))
        else:
            line[str(steps[0])] = value
            origins[pointer("lines", index, steps[0])] = (row, column)
    if taxes:
        line["taxes"] = taxes
    if adjustment.keys() - {"reason"}:
        line["adjustments"] = [{"charge": False, "reason": adjustment.get("reason", "Descuento"),
                                **{k: v for k, v in adjustment.items() if k != "reason"}}]  # fmt: skip
    return line


def _column_of(where: str) -> str | None:
    """The column a JSON pointer with no recorded origin belongs to (a missing required field)."""
    match = _LINE_POINTER.match(where)
    table, rest = (LINE_COLUMNS, match.group(2) or "") if match else (DOCUMENT_COLUMNS, where)
    for column, (steps, _) in table.items():
        if rest == pointer(*steps):
            return column
    return None


def _locate(doc: CsvDocument, problem: Problem) -> Problem:
    """The problem addressed by CSV row and column."""
    where = problem.pointer
    found = doc.origins.get(where)
    if found is None:  # a field inside one the file gave (its nearest), or an object holding some (its first)
        inside = [p for p in doc.origins if p and where.startswith(p + "/")]
        holding = [p for p in doc.origins if p.startswith(where + "/")]
        if inside or holding:
            found = doc.origins[max(inside, key=len) if inside else min(holding, key=len)]
    if found is not None:
        return Problem(f"fila {found[0]}, columna {found[1]}", problem.message)
    match = _LINE_POINTER.match(where)
    row = doc.line_rows[int(match.group(1))] if match and int(match.group(1)) < len(doc.line_rows) else doc.first_row
    column = _column_of(where)
    place = f"fila {row}, columna {column}" if column else f"fila {row} (documento {doc.key}, campo {where or '/'})"
    return Problem(place, problem.message)


def _delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    return ";" if header.count(";") > header.count(",") else ","


def read_csv(text: str) -> tuple[list[CsvDocument], tuple[Problem, ...]]:
    """Read every document of the file: ``(documents, ())`` with each one's request, or ``(…, problems)`` with every
    problem of the file addressed by row and column. Never raises."""
    text = text.removeprefix("\ufeff")
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True))
    except csv.Error as exc:
        return [], (Problem("archivo CSV", f"no se puede leer: {exc}"),)
    if not records or not any(cell.strip() for cell in records[0]):
        return [], (Problem("fila 1", "el archivo no tiene encabezado con los nombres de las columnas"),)
    header = [cell.strip().lower() for cell in records[0]]
    problems = [Problem(f"fila 1, columna {name or '(vacía)'}", "columna desconocida; vea `buzon issue --help`")
                for name in header if name not in COLUMNS]  # fmt: skip
    problems += [Problem(f"fila 1, columna {name}", "la columna aparece dos veces")
                 for name in sorted({n for n in header if header.count(n) > 1})]  # fmt: skip
    if KEY_COLUMN not in header:
        problems.append(Problem("fila 1", f"falta la columna {KEY_COLUMN}, que agrupa las filas en documentos"))
    if problems:
        return [], tuple(problems)
    documents: dict[str, CsvDocument] = {}
    for offset, record in enumerate(records[1:]):
        row = offset + 2
        if not any(cell.strip() for cell in record):
            continue
        if len(record) > len(header):
            problems.append(Problem(f"fila {row}", f"tiene {len(record)} celdas y el encabezado {len(header)}"))
            continue
        cells = {name: value.strip() for name, value in zip(header, record, strict=False)}
        key = cells.get(KEY_COLUMN, "")
        if not key:
            problems.append(Problem(f"fila {row}, columna {KEY_COLUMN}", "cada fila nombra su documento"))
            continue
        doc = documents.get(key)
        if doc is None:
            if len(documents) >= MAX_DOCUMENTS:
                problems.append(Problem(f"fila {row}", f"a lo sumo {MAX_DOCUMENTS} documentos por archivo"))
                break
            doc = documents[key] = CsvDocument(key, row, {"type": "01"})
            doc.origins[""] = (row, KEY_COLUMN)
        problems.extend(_document_row(doc, cells, row))
        lines = doc.data.setdefault("lines", [])
        if len(lines) >= MAX_LINES:
            problems.append(Problem(f"fila {row}", f"el documento {key} pasa de {MAX_LINES} líneas"))
            continue
        doc.line_rows.append(row)
        lines.append(_line(cells, row, len(lines), doc.origins))
    if not documents and not problems:
        problems.append(Problem("fila 2", "el archivo no trae ninguna línea"))
    for doc in documents.values():
        request, found = read_request(doc.data)
        doc.request = request
        problems.extend(_locate(doc, p) for p in found)
    return list(documents.values()), tuple(problems)


def _document_row(doc: CsvDocument, cells: dict[str, str], row: int) -> Iterable[Problem]:
    """Record a row's document fields: the first row that gives one sets it; a later one must repeat it."""
    for column in DOCUMENT_COLUMNS:
        value = cells.get(column, "")
        if not value:
            continue
        seen = doc.given.get(column)
        if seen is None:
            _document_field(doc, column, value, row)
            doc.given[column] = (row, value)
        elif seen[1] != value:
            yield Problem(f"fila {row}, columna {column}",
                          f"dice {value!r} y la fila {seen[0]} del documento {doc.key} dice {seen[1]!r}")  # fmt: skip
