"""Translate apidian's de-facto JSON (peers-wave2 §2.2) into Buzón's native payload.

apidian sends catalogue row ids, not DIAN codes; they are translated by the shipped table ``apidian_codes.toml``. Its
caller computes every amount; Buzón recomputes them from quantities, prices and percents and keeps the caller's
``legal_monetary_totals`` / ``requested_monetary_totals`` as declared totals, checked within ±2.00 at issue time.
Zero-amount discounts (apidian's examples send "DESCUENTO GENERAL" of 0.00 everywhere) are dropped.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

from issuing.payload import Payload
from issuing.problems import Problem, Problems, pointer
from issuing.validation import read_payload

__all__ = ["ApidianRequest", "apidian_pointer", "codes", "read_apidian", "to_native"]

_KINDS = {"invoice": "invoice_lines", "credit-note": "credit_note_lines", "debit-note": "debit_note_lines"}
_DEFAULT_TYPE = {"invoice": "1", "credit-note": "4", "debit-note": "5"}
_TOTALS = {
    "line_extension_amount": "line_extension",
    "tax_exclusive_amount": "tax_exclusive",
    "tax_inclusive_amount": "tax_inclusive",
    "allowance_total_amount": "allowance_total",
    "charge_total_amount": "charge_total",
    "payable_amount": "payable",
}


@cache
def codes() -> dict[str, dict[str, str]]:
    """The shipped id → DIAN code tables, read once."""
    return tomllib.loads(resources.files("issuing").joinpath("apidian_codes.toml").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class ApidianRequest:
    """An apidian request read into a native payload, with the numbering fields it may carry."""

    payload: Payload
    number: int | None = None
    prefix: str | None = None
    resolution_number: str | None = None
    issue_date: date | None = None  # apidian's `date`; Buzón issues with the clock and only compares


class _Translator:
    def __init__(self) -> None:
        self.problems = Problems()

    def code(self, table: str, value: Any, where: str, what: str) -> str | None:
        if value is None:
            return None
        key = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else None
        found = codes()[table].get(key or "")
        if found is None:
            self.problems.add(where, f"{what}: id de apidian desconocido ({str(value)[:20]!r})")
        return found

    @staticmethod
    def text(value: Any) -> Any:
        # apidian sends numbers and identifications as JSON numbers as often as text; the native reader takes text.
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _is_zero(value: Any) -> bool:
    try:
        return float(str(value)) == 0.0
    except ValueError:
        return False


def _adjustments(t: _Translator, items: Any, where: str) -> list[dict]:
    found = []
    if not isinstance(items, list):
        return found
    for index, item in enumerate(items):
        at = pointer_join(where, index)
        if not isinstance(item, Mapping):
            t.problems.add(at, "se esperaba un objeto")
            continue
        if _is_zero(item.get("amount")):
            continue  # apidian examples carry 0.00 discounts; they change nothing
        entry: dict[str, Any] = {
            "charge": _flag(item.get("charge_indicator")),
            "reason": item.get("allowance_charge_reason")
            or ("Cargo" if _flag(item.get("charge_indicator")) else "Descuento"),
            "amount": t.text(item.get("amount")),
        }
        discount = item.get("discount_id")
        if discount is not None and not entry["charge"]:
            entry["code"] = t.code("discounts", discount, pointer_join(at, "discount_id"), "descuento")
        found.append(entry)
    return found


def pointer_join(where: str, *parts: str | int) -> str:
    """``where`` followed by more pointer steps."""
    return where + pointer(*parts)


def withholding_items(t: _Translator, data: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any], str | None]]:
    """Each object of apidian's ``with_holding_tax_total`` with its pointer and its tax code translated (None, with a
    problem, when unknown); an item that is not an object is a problem and skipped."""
    for index, item in enumerate(data.get("with_holding_tax_total") or []):
        at = pointer("with_holding_tax_total", index)
        if not isinstance(item, Mapping):
            t.problems.add(at, "se esperaba un objeto")
            continue
        yield at, item, t.code("taxes", item.get("tax_id"), pointer_join(at, "tax_id"), "retención")


def _line(t: _Translator, line: Any, where: str) -> dict:
    if not isinstance(line, Mapping):
        t.problems.add(where, "se esperaba un objeto")
        return {}
    native: dict[str, Any] = {
        "description": line.get("description"),
        "quantity": t.text(line.get("invoiced_quantity")),
        "unit_price": t.text(line.get("price_amount")),
        "unit": t.code(
            "unit_measures", line.get("unit_measure_id", 70), pointer_join(where, "unit_measure_id"), "unidad"
        ),
    }
    if line.get("code") is not None:
        native["code"] = t.text(line.get("code"))
    if _flag(line.get("free_of_charge_indicator")):
        native["reference_price"] = native["unit_price"]
        native["unit_price"] = "0"
        kind = line.get("reference_price_id")
        if kind is not None:
            native["reference_price_type"] = t.code(
                "reference_prices", kind, pointer_join(where, "reference_price_id"), "precio de referencia"
            )
    adjustments = _adjustments(t, line.get("allowance_charges"), pointer_join(where, "allowance_charges"))
    if adjustments and "reference_price" not in native:
        native["adjustments"] = adjustments
    taxes = []
    for index, tax in enumerate(line.get("tax_totals") or []):
        at = pointer_join(where, "tax_totals", index)
        if not isinstance(tax, Mapping):
            t.problems.add(at, "se esperaba un objeto")
            continue
        scheme = t.code("taxes", tax.get("tax_id"), pointer_join(at, "tax_id"), "tributo")
        entry: dict[str, Any] = {"scheme": scheme}
        if tax.get("per_unit_amount") is not None:
            entry["per_unit"] = t.text(tax.get("per_unit_amount"))
        else:
            entry["rate"] = t.text(tax.get("percent"))
        if scheme == "ZZ":
            entry["name"] = tax.get("tax_name")
        taxes.append(entry)
    if taxes:
        native["taxes"] = taxes
    return native


def _customer(t: _Translator, customer: Any) -> Any:
    if not isinstance(customer, Mapping):
        return customer  # the native reader names the problem
    where = "/customer"
    default_type = 3 if customer.get("dv") is None else 6  # cédula without a DV, NIT with one
    id_type = t.code(
        "identification_types",
        customer.get("type_document_identification_id", default_type),
        pointer_join(where, "type_document_identification_id"),
        "tipo de identificación",
    )
    native: dict[str, Any] = {
        "id_type": id_type,
        "id": t.text(customer.get("identification_number")),
        "name": customer.get("name"),
        "organization": t.code(
            "organization_types",
            customer.get("type_organization_id", 2),
            pointer_join(where, "type_organization_id"),
            "tipo de persona",
        ),
    }
    if customer.get("dv") is not None:
        native["dv"] = t.text(customer["dv"])
    regime = t.code("regimes", customer.get("type_regime_id", 2), pointer_join(where, "type_regime_id"), "régimen")
    native["tax_scheme"] = "01" if regime == "48" else "ZZ"  # 48 responsable de IVA, 49 no responsable
    if customer.get("type_liability_id") is not None:
        liability = t.code(
            "liabilities",
            customer["type_liability_id"],
            pointer_join(where, "type_liability_id"),
            "responsabilidad fiscal",
        )
        native["tax_levels"] = [liability] if liability else []
    for key in ("email", "phone"):
        if customer.get(key) is not None:
            native[key] = t.text(customer[key])
    if customer.get("address") is not None:
        country = "CO"
        if customer.get("country_id") is not None:
            country = t.code("countries", customer["country_id"], pointer_join(where, "country_id"), "país") or "CO"
        address: dict[str, Any] = {"line": customer["address"], "country": country}
        if customer.get("municipality_id_fact") is not None:
            address["city_code"] = t.text(customer["municipality_id_fact"])
        elif customer.get("municipality_id") is not None:
            address["city_code"] = t.code(
                "municipalities", customer["municipality_id"], pointer_join(where, "municipality_id"), "municipio"
            )
        native["address"] = address
    return native


def to_native(data: Any, kind: str = "invoice") -> tuple[dict | None, tuple[Problem, ...]]:
    """Translate an apidian body for ``kind`` ("invoice", "credit-note", "debit-note") into a native JSON object."""
    t = _Translator()
    if not isinstance(data, Mapping):
        return None, (Problem("", "se esperaba un objeto JSON"),)
    if kind not in _KINDS:
        raise ValueError(f"unknown apidian document kind {kind!r}")
    document_type = t.code(
        "document_types", data.get("type_document_id", _DEFAULT_TYPE[kind]), "/type_document_id", "tipo de documento"
    )
    native: dict[str, Any] = {"type": document_type, "customer": _customer(t, data.get("customer"))}
    lines_key = _KINDS[kind]
    lines = data.get(lines_key)
    if not isinstance(lines, list):
        t.problems.add(pointer(lines_key), "se esperaba la lista de líneas")
        lines = []
    native["lines"] = [_line(t, line, pointer(lines_key, index)) for index, line in enumerate(lines)]
    payment = data.get("payment_form")
    if isinstance(payment, list):
        payment = payment[0] if payment else None
    if isinstance(payment, Mapping):
        form = t.code(
            "payment_forms", payment.get("payment_form_id", 1), "/payment_form/payment_form_id", "forma de pago"
        )
        method = t.code(
            "payment_methods", payment.get("payment_method_id", 10), "/payment_form/payment_method_id", "medio de pago"
        )
        native["payment"] = {"form": form, "method": method}
        if form == "2" and payment.get("payment_due_date") is not None:
            native["payment"]["due_date"] = payment["payment_due_date"]
    adjustments = _adjustments(t, data.get("allowance_charges"), "/allowance_charges")
    if adjustments:
        native["adjustments"] = adjustments
    withholdings = [
        {"scheme": scheme, "rate": t.text(item.get("percent")), "base": t.text(item.get("taxable_amount"))}
        for _, item, scheme in withholding_items(t, data)
    ]
    if withholdings:
        native["withholdings"] = withholdings
    totals = data.get("requested_monetary_totals" if kind == "debit-note" else "legal_monetary_totals")
    if isinstance(totals, Mapping):
        if not _is_zero(totals.get("pre_paid_amount", 0)):
            t.problems.add("/legal_monetary_totals/pre_paid_amount", "los anticipos aún no se admiten en Buzón")
        native["totals"] = {
            ours: t.text(totals[theirs]) for theirs, ours in _TOTALS.items() if totals.get(theirs) is not None
        }
    if data.get("notes"):
        native["notes"] = [data["notes"]] if isinstance(data["notes"], str) else data["notes"]
    order = data.get("order_reference")
    if isinstance(order, Mapping) and order.get("id_order") is not None:
        native["order_reference"] = t.text(order["id_order"])
    if kind != "invoice":
        table = "credit_note_concepts" if kind == "credit-note" else "debit_note_concepts"
        concept = data.get("discrepancyresponsecode")
        if kind == "credit-note" and str(concept) == "5":
            t.problems.add(
                "/discrepancyresponsecode", "el concepto 5 'Otros' de apidian no existe en el anexo 1.9; use 1 a 4"
            )
        elif concept is not None:
            native["concept"] = t.code(table, concept, "/discrepancyresponsecode", "concepto de la nota")
        if data.get("discrepancyresponsedescription") is not None:
            native["concept_description"] = data["discrepancyresponsedescription"]
        reference = data.get("billing_reference")
        if isinstance(reference, Mapping):
            native["reference"] = {
                "number": t.text(reference.get("number")),
                "uuid": reference.get("uuid"),
                "issue_date": reference.get("issue_date"),
            }
        period = data.get("invoice_period")
        if isinstance(period, Mapping):
            native["period"] = {"start": period.get("start_date"), "end": period.get("end_date")}
    if document_type == "03":
        extra = data.get("additional_document_reference")
        if isinstance(extra, Mapping):
            native["paper_invoice"] = {"number": t.text(extra.get("id")), "issue_date": extra.get("date")}
        elif data.get("AdditionalDocumentReferenceID") is not None:
            native["paper_invoice"] = {
                "number": t.text(data["AdditionalDocumentReferenceID"]),
                "issue_date": data.get("AdditionalDocumentReferenceDate"),
            }
    return native, t.problems.items


# Where a native pointer came from in the apidian body, so a refusal names the field the caller sent.
def apidian_pointer(native: str, kind: str) -> str:
    """The pointer into the apidian body that a native pointer came from (for refusals at issue time too)."""
    for ours, theirs in (
        ("/lines", pointer(_KINDS[kind])),
        ("/totals", "/requested_monetary_totals" if kind == "debit-note" else "/legal_monetary_totals"),
        ("/payment", "/payment_form"),
        ("/adjustments", "/allowance_charges"),
        ("/withholdings", "/with_holding_tax_total"),
        ("/reference", "/billing_reference"),
        ("/period", "/invoice_period"),
        ("/concept", "/discrepancyresponsecode"),
    ):
        if native == ours or native.startswith(ours + "/"):
            mapped = theirs + native[len(ours) :]
            for step, their_step in _STEPS:
                mapped = mapped.replace(step + "/", their_step + "/")
                if mapped.endswith(step):
                    mapped = mapped[: -len(step)] + their_step
            return mapped
    return native


# Field names inside a line, a tax or a total that differ between the two shapes.
_STEPS = (
    ("/unit_price", "/price_amount"),
    ("/quantity", "/invoiced_quantity"),
    ("/taxes", "/tax_totals"),
    ("/adjustments", "/allowance_charges"),
    ("/rate", "/percent"),
    ("/per_unit", "/per_unit_amount"),
    ("/line_extension", "/line_extension_amount"),
    ("/payable", "/payable_amount"),
    ("/tax_inclusive", "/tax_inclusive_amount"),
    ("/tax_exclusive", "/tax_exclusive_amount"),
)


def read_apidian(data: Any, kind: str = "invoice") -> tuple[ApidianRequest | None, tuple[Problem, ...]]:
    """Read an apidian body: ``(request, ())`` or ``(None, problems)``, pointers into the body sent; never raises."""
    try:
        native, problems = to_native(data, kind)
        if native is None or problems:
            return None, problems
        payload, native_problems = read_payload(native)
        if payload is None:
            return None, tuple(Problem(apidian_pointer(p.pointer, kind), p.message) for p in native_problems)
        assert isinstance(data, Mapping)
        number = data.get("number")
        issued = data.get("date")
        return (
            ApidianRequest(
                payload=payload,
                number=int(number)
                if isinstance(number, int | str) and str(number).isdigit() and str(number).isascii()
                else None,
                prefix=data.get("prefix") if isinstance(data.get("prefix"), str) else None,
                resolution_number=str(data["resolution_number"]) if data.get("resolution_number") is not None else None,
                issue_date=date.fromisoformat(issued) if isinstance(issued, str) and len(issued) == 10 else None,
            ),
            (),
        )
    except ValueError as exc:
        return None, (Problem("", f"valor inválido: {exc}"),)
    except Exception as exc:  # a hostile body must get an answer, never a traceback
        return None, (Problem("", f"no se pudo leer el documento ({type(exc).__name__})"),)
