"""Translate apidian's documento soporte JSON (peers-wave2 §3) into Buzón's native DS request (support_request.py).

apidian's DS is its invoice JSON with ``seller{}`` instead of ``customer{}`` (the same fields), ``type_document_id``
11, the DS range's ``prefix``/``resolution_number``/``number``, and per line ``type_generation_transmition_id`` (1 por
operación, 2 acumulado semanal) with ``start_date``. Its adjustment note (``/sd-credit-note``) is type 13 with
``billing_reference{number, uuid, issue_date}``, ``discrepancyresponsecode`` 1-5 and ``credit_note_lines``. Catalogue
ids are translated by issuing/apidian.py's tables (apidian_codes.toml).

The seller is resident (operation 10) unless its ``country_id`` is another country's (11). Withholdings: apidian sends
them per document (``with_holding_tax_total[]{tax_id 5|6, percent}``); a DS carries them per line (C.3), so each
applies to every line at its percent (ReteRenta on the line's amount, ReteIVA on its IVA: the document's figure to the
cent of rounding).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from issuing.apidian import _customer, _line, _Translator, pointer_join, withholding_items
from issuing.problems import Problem, Problems, pointer
from issuing.support_request import SupportRequest, read_support_request

__all__ = ["KINDS", "read_apidian_support"]

KINDS = {"support-document": ("support_document", "invoice_lines", "11"),
         "sd-credit-note": ("support_adjustment", "credit_note_lines", "13")}  # fmt: skip
_TYPES = {"11": "support-document", "13": "sd-credit-note"}
_TOTALS = {"line_extension_amount": "line_extension", "tax_exclusive_amount": "tax_exclusive",
           "tax_inclusive_amount": "tax_inclusive", "payable_amount": "payable"}  # fmt: skip
_LINE_STEPS = (("/unit_price", "/price_amount"), ("/quantity", "/invoiced_quantity"), ("/taxes", "/tax_totals"),
               ("/rate", "/percent"), ("/generation/mode", "/type_generation_transmition_id"),
               ("/generation/start", "/start_date"), ("/withholdings", "/with_holding_tax_total"))  # fmt: skip
_BACK = (("/seller", "/seller"), ("/totals", "/legal_monetary_totals"), ("/payment", "/payment_form"),
         ("/reference", "/billing_reference"), ("/concept", "/discrepancyresponsecode"))  # fmt: skip


def _withholdings(t: _Translator, data: Mapping[str, Any]) -> list[dict[str, Any]]:
    found = []
    for at, item, scheme in withholding_items(t, data):
        if scheme not in (None, "05", "06"):
            t.problems.add(pointer_join(at, "tax_id"), "el documento soporte lleva ReteIVA (5) o ReteRenta (6)")
        elif scheme is not None:
            found.append({"scheme": scheme, "rate": t.text(item.get("percent"))})
    return found


def to_native_support(data: Any, kind: str) -> tuple[dict[str, Any] | None, tuple[Problem, ...]]:
    """The native DS/95 body of an apidian body for ``kind`` ("support-document" | "sd-credit-note")."""
    if not isinstance(data, Mapping):
        return None, (Problem("", "se esperaba un objeto JSON"),)
    native_kind, lines_key, default_type = KINDS[kind]
    t = _Translator()
    given = str(data.get("type_document_id", default_type)).strip()
    if given != default_type:
        where = f"; use /api/ubl2.1/{_TYPES[given]}" if given in _TYPES else ""
        t.problems.add("/type_document_id", f"en /{kind} va el tipo {default_type}{where}")
    seller_data = data.get("seller")
    seller = _customer(t, seller_data)
    if isinstance(seller, dict):
        seller["resident"] = (seller.get("address") or {}).get("country", "CO") == "CO"
    t.problems = _seller_problems(t)
    withholdings = _withholdings(t, data)
    lines = []
    raw_lines = data.get(lines_key)
    if not isinstance(raw_lines, list):
        t.problems.add(pointer(lines_key), "se esperaba la lista de líneas")
        raw_lines = []
    for index, raw in enumerate(raw_lines):
        where = pointer(lines_key, index)
        line = _line(t, raw, where)
        if isinstance(raw, Mapping) and native_kind == "support_document":
            mode = raw.get("type_generation_transmition_id", 1)
            line["generation"] = {"mode": str(mode), "start": raw.get("start_date") or data.get("date")}
            if withholdings:
                line["withholdings"] = withholdings
        lines.append(line)
    native: dict[str, Any] = {"kind": native_kind, "seller": seller, "lines": lines}
    payment = data.get("payment_form")
    payment = payment[0] if isinstance(payment, list) and payment else payment
    if isinstance(payment, Mapping):
        form = t.code("payment_forms", payment.get("payment_form_id", 1), "/payment_form/payment_form_id",
                      "forma de pago")  # fmt: skip
        method = t.code("payment_methods", payment.get("payment_method_id", 10), "/payment_form/payment_method_id",
                        "medio de pago")  # fmt: skip
        native["payment"] = {"form": form, "method": method}
        if form == "2" and payment.get("payment_due_date") is not None:
            native["payment"]["due_date"] = payment["payment_due_date"]
    totals = data.get("legal_monetary_totals")
    if isinstance(totals, Mapping):
        native["totals"] = {ours: t.text(totals[theirs]) for theirs, ours in _TOTALS.items()
                            if totals.get(theirs) is not None}  # fmt: skip
    if data.get("notes"):
        native["notes"] = [data["notes"]] if isinstance(data["notes"], str) else data["notes"]
    if native_kind == "support_document":
        for key in ("number", "prefix", "resolution_number"):
            if data.get(key) is not None:
                native[key] = t.text(data[key])
    else:
        native["concept"] = str(data.get("discrepancyresponsecode", ""))
        if data.get("discrepancyresponsedescription") is not None:
            native["concept_description"] = data["discrepancyresponsedescription"]
        reference = data.get("billing_reference")
        if isinstance(reference, Mapping):
            native["reference"] = {"number": t.text(reference.get("number")), "uuid": reference.get("uuid"),
                                   "issue_date": reference.get("issue_date")}  # fmt: skip
        else:
            native["reference"] = reference
    return native, t.problems.items


def _seller_problems(t: _Translator) -> Any:
    # apidian._customer names its problems under /customer; here the object is /seller.
    moved = Problems()
    for problem in t.problems.items:
        moved.add(problem.pointer.replace("/customer", "/seller", 1), problem.message)
    return moved


def apidian_support_pointer(native: str, kind: str) -> str:
    """The pointer into the apidian body that a native DS pointer came from."""
    lines_key = KINDS[kind][1]
    if native.startswith("/lines"):
        mapped = pointer(lines_key) + native[len("/lines") :]
        for step, theirs in _LINE_STEPS:
            mapped = mapped.replace(step, theirs)
        return mapped
    for ours, theirs in _BACK:
        if native == ours or native.startswith(ours + "/"):
            return theirs + native[len(ours) :]
    return native


def read_apidian_support(data: Any, kind: str) -> tuple[SupportRequest | None, tuple[Problem, ...]]:
    """Read an apidian DS/95 body: ``(request, ())`` or ``(None, problems)`` with pointers into the body; never
    raises. The request's ``data`` is the body as sent (its digest keys idempotency)."""
    try:
        native, problems = to_native_support(data, kind)
        if native is None or problems:
            return None, problems
        request, native_problems = read_support_request(native, KINDS[kind][0])
        if request is None:
            return None, tuple(Problem(apidian_support_pointer(p.pointer, kind), p.message) for p in native_problems)
        return replace(request, data=dict(data)), ()
    except Exception as exc:  # a hostile body gets an answer, never a traceback
        return None, (Problem("", f"no se pudo leer el documento ({type(exc).__name__})"),)
