"""The hand-issuing form's fields ↔ the native issuing payload (issuing/payload.py): what the billing team types (in
Colombian figures: 1.234.567,89) becomes the JSON the API takes, and each problem the validator names by its JSON
pointer comes back to the field it belongs to, in Spanish. An invoice's stored payload fills a note's form.

Nothing here computes an amount: issuing.totals does, on the server, for the totals shown and for the document.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from dian.nit import check_digit
from issuing import catalog

__all__ = [
    "CONCEPTS",
    "INC_RATES",
    "IVA_RATES",
    "MIN_LINES",
    "PAYMENT_METHODS",
    "field_of",
    "fields_of_payload",
    "figure",
    "line_count",
    "line_fields",
    "payload_of",
    "plain_figure",
    "problems_view",
    "stored_lines",
]

MIN_LINES = 3
MAX_FORM_LINES = 50
IVA_RATES = ("19", "5", "0")  # IVA general, reducido, exento/excluido at 0
INC_RATES = ("8", "16", "4")  # INC: restaurantes 8 %, 16 % y 4 % (vehículos, telefonía…)
# The payment means a billing team uses by hand (radian-issuing-facts B.5); the API takes the whole list.
PAYMENT_METHODS = {
    "10": "Efectivo",
    "42": "Consignación bancaria",
    "47": "Transferencia débito bancaria",
    "31": "Transferencia débito",
    "48": "Tarjeta crédito",
    "49": "Tarjeta débito",
    "20": "Cheque",
    "ZZZ": "Acuerdo mutuo",
}
CONCEPTS = {"91": catalog.CREDIT_NOTE_CONCEPTS, "92": catalog.DEBIT_NOTE_CONCEPTS}
ID_TYPES = {"31": "NIT", "13": "Cédula de ciudadanía", "22": "Cédula de extranjería", "41": "Pasaporte"}

_GROUPED = re.compile(r"^-?[0-9]{1,3}(?:\.[0-9]{3})+$")  # 1.234.567: dots are thousands


def figure(text: str) -> str:
    """'1.234.567,89' → '1234567.89'; '50000' and '12.5' stay; anything else is returned as typed (the validator
    names it)."""
    value = text.strip().replace(" ", "").replace("$", "").replace("%", "")
    if "," in value:
        value = value.replace(".", "").replace(",", ".")
    elif _GROUPED.match(value):
        value = value.replace(".", "")
    return value


# The validator speaks to a program ("digits and a decimal point"); a person typed the figure in Colombian style.
_NOT_A_NUMBER = "no es un número con dígitos ASCII"
FIGURE_HINT = "no es una cifra: escríbala como 1.250.000 o 1.250.000,50"
FIGURE_SHORT = "no es una cifra"


def problems_view(
    problems: Iterable[Any], locate: Callable[[str], tuple[str | None, str]]
) -> tuple[list[dict[str, str]], dict[str, str]]:
    """The validator's problems as a form shows them: a list (label, message, field) for the summary and the first
    message per field beside it; ``locate`` maps a JSON pointer to its field name and label."""
    listed: list[dict[str, str]] = []
    by_field: dict[str, str] = {}
    for problem in problems:
        name, label = locate(problem.pointer)
        figure = problem.message.startswith(_NOT_A_NUMBER)
        listed.append({"label": label, "message": FIGURE_HINT if figure else problem.message, "field": name or ""})
        if name and name not in by_field:  # beside a narrow figure field, the short words; the summary has the rest
            by_field[name] = FIGURE_SHORT if figure else problem.message
    return listed, by_field


def line_count(form: Mapping[str, str]) -> int:
    """How many line rows the form shows: the highest filled one, plus one empty row (at least MIN_LINES)."""
    last = 0
    for i in range(1, MAX_FORM_LINES + 1):
        if any((form.get(f"l{i}_{name}") or "").strip() for name in ("descripcion", "cantidad", "precio")):
            last = i
    return min(MAX_FORM_LINES, max(MIN_LINES, last + 1))


def _line(form: Mapping[str, str], i: int) -> dict[str, Any] | None:
    get = lambda name: (form.get(f"l{i}_{name}") or "").strip()  # noqa: E731
    if not any(get(name) for name in ("descripcion", "cantidad", "precio")):
        return None
    line: dict[str, Any] = {"description": get("descripcion"), "quantity": figure(get("cantidad")),
                            "unit_price": figure(get("precio"))}  # fmt: skip
    if get("codigo"):
        line["code"] = get("codigo")
    discount = figure(get("descuento"))
    if discount and discount not in ("0", "0.0", "0.00"):
        line["adjustments"] = [{"charge": False, "reason": "Descuento", "percent": discount, "code": "09"}]
    taxes = []
    if get("iva"):
        taxes.append({"scheme": "01", "rate": get("iva")})
    if get("inc"):
        taxes.append({"scheme": "04", "rate": get("inc")})
    if taxes:
        line["taxes"] = taxes
    return line


def payload_of(form: Mapping[str, str]) -> tuple[dict[str, Any], dict[int, int]]:
    """The native payload the form describes, and which form row each payload line came from (row numbers)."""
    get = lambda name: (form.get(name) or "").strip()  # noqa: E731
    kind = get("tipo") or "01"
    id_type = get("c_tipo_id") or "31"
    nit = re.sub(r"[.\s]", "", get("c_id"))
    customer: dict[str, Any] = {"id_type": id_type, "id": nit, "name": get("c_nombre"),
                                "organization": "1" if id_type == "31" else "2",
                                "tax_scheme": "01" if get("c_iva") == "01" else "ZZ",
                                "tax_levels": ["R-99-PN"]}  # fmt: skip
    if id_type == "31":
        dv = get("c_dv")
        if not dv and nit.isdigit():
            dv = check_digit(nit)
        customer["dv"] = dv
    if get("c_correo"):
        customer["email"] = get("c_correo")
    if get("c_direccion"):
        address: dict[str, Any] = {"line": get("c_direccion")}
        city = get("c_ciudad")
        if city:
            address["city_code"] = city
            address["department_code"] = city[:2]
        customer["address"] = address
    rows: dict[int, int] = {}
    lines = []
    for i in range(1, MAX_FORM_LINES + 1):
        line = _line(form, i)
        if line is not None:
            rows[len(lines)] = i
            lines.append(line)
    payment: dict[str, Any] = {"form": get("p_forma") or "1", "method": get("p_medio") or "10"}
    if get("p_vence"):
        payment["due_date"] = get("p_vence")
    data: dict[str, Any] = {"type": kind, "customer": customer, "lines": lines, "payment": payment}
    if get("notas"):
        data["notes"] = [get("notas")]
    if get("orden"):
        data["order_reference"] = get("orden")
    if kind in CONCEPTS:
        data["concept"] = get("concepto")
        if get("r_numero") or get("r_cufe"):
            data["reference"] = {"number": get("r_numero"), "uuid": get("r_cufe").lower(), "issue_date": get("r_fecha")}
    return data, rows


_CUSTOMER_FIELDS = {"id_type": "c_tipo_id", "id": "c_id", "dv": "c_dv", "name": "c_nombre", "email": "c_correo",
                    "address": "c_direccion", "tax_scheme": "c_iva"}  # fmt: skip
_LINE_FIELDS = {"description": "descripcion", "quantity": "cantidad", "unit_price": "precio", "code": "codigo",
                "adjustments": "descuento", "taxes": "iva"}  # fmt: skip
_TOP_FIELDS = {("payment", "form"): "p_forma", ("payment", "method"): "p_medio", ("payment", "due_date"): "p_vence",
               ("reference", "number"): "r_numero", ("reference", "uuid"): "r_cufe",
               ("reference", "issue_date"): "r_fecha", ("concept",): "concepto", ("notes",): "notas",
               ("lines",): "l1_descripcion", ("type",): "tipo", ("period",): "r_numero"}  # fmt: skip
_NAMES = {"c_tipo_id": "Tipo de identificación", "c_id": "Identificación del comprador", "c_dv": "Dígito de "
          "verificación", "c_nombre": "Nombre o razón social", "c_correo": "Correo de facturación del comprador",
          "c_direccion": "Dirección", "c_ciudad": "Municipio (código DANE)", "c_iva": "Responsable de IVA",
          "p_forma": "Forma de pago", "p_medio": "Medio de pago", "p_vence": "Vencimiento",
          "r_numero": "Factura que corrige", "r_cufe": "CUFE de la factura", "r_fecha": "Fecha de la factura",
          "concepto": "Concepto", "notas": "Observaciones", "tipo": "Tipo de documento",
          "descripcion": "descripción", "cantidad": "cantidad", "precio": "precio unitario", "codigo": "código",
          "descuento": "descuento", "iva": "impuestos"}  # fmt: skip


def field_of(pointer: str, rows: Mapping[int, int]) -> tuple[str | None, str]:
    """The form field a JSON pointer names, and its Spanish label ("Línea 2 · cantidad"); (None, "Documento") for a
    problem of the whole document."""
    parts = [p for p in pointer.split("/") if p]
    if not parts:
        return None, "Documento"
    if parts[0] == "customer" and len(parts) > 1:
        if parts[1] == "address" and len(parts) > 2 and parts[2] in ("city_code", "department_code"):
            return "c_ciudad", _NAMES["c_ciudad"]
        name = _CUSTOMER_FIELDS.get(parts[1])
        return (name, _NAMES[name]) if name else ("c_nombre", "Comprador")
    if parts[0] == "lines" and len(parts) > 1 and parts[1].isdigit():
        row = rows.get(int(parts[1]), int(parts[1]) + 1)
        sub = _LINE_FIELDS.get(parts[2], "descripcion") if len(parts) > 2 else "descripcion"
        if sub == "iva" and len(parts) > 3 and parts[3].isdigit() and int(parts[3]) > 0:
            sub = "inc"
        label = _NAMES.get(sub, "impuestos" if sub == "inc" else sub)
        return f"l{row}_{sub}", f"Línea {row} · {label}"
    for length in (2, 1):
        name = _TOP_FIELDS.get(tuple(parts[:length]))
        if name:
            return name, _NAMES.get(name, name)
    return None, "Documento"


def plain_figure(value: Any) -> str:
    """A stored JSON number ('50000', '12.5') in Colombian figures for the form: 50000 → '50000', 12.5 → '12,5'."""
    text = str(value)
    try:
        Decimal(text)
    except InvalidOperation:
        return text
    return text.replace(".", ",")


def stored_lines(data: Mapping[str, Any]) -> Iterator[tuple[int, Mapping[str, Any]]]:
    """A stored payload's lines numbered from 1, as many as a form shows (also the documento soporte's)."""
    for i, line in enumerate(data.get("lines") or [], start=1):
        if i > MAX_FORM_LINES:
            break
        yield i, line


def line_fields(i: int, line: Mapping[str, Any]) -> dict[str, str]:
    """The form fields every stored line fills: its description, quantity and unit price."""
    return {
        f"l{i}_descripcion": str(line.get("description", "")),
        f"l{i}_cantidad": plain_figure(line.get("quantity", "")),
        f"l{i}_precio": plain_figure(line.get("unit_price", "")),
    }


def fields_of_payload(data: Mapping[str, Any]) -> dict[str, str]:
    """The form fields of a stored payload (an invoice's, to prefill a note): buyer, lines, payment."""
    fields: dict[str, str] = {}
    customer = data.get("customer") or {}
    fields.update(c_tipo_id=str(customer.get("id_type", "31")), c_id=str(customer.get("id", "")),
                  c_dv=str(customer.get("dv") or ""), c_nombre=str(customer.get("name", "")),
                  c_correo=str(customer.get("email") or ""),
                  c_iva="01" if customer.get("tax_scheme") == "01" else "ZZ")  # fmt: skip
    address = customer.get("address") or {}
    fields.update(c_direccion=str(address.get("line") or ""), c_ciudad=str(address.get("city_code") or ""))
    for i, line in stored_lines(data):
        fields.update(line_fields(i, line))
        fields[f"l{i}_codigo"] = str(line.get("code") or "")
        for adjustment in line.get("adjustments") or []:
            if not adjustment.get("charge") and adjustment.get("percent") is not None:
                fields[f"l{i}_descuento"] = plain_figure(adjustment["percent"])
        for tax in line.get("taxes") or []:
            rate = tax.get("rate")
            if rate is None:
                continue
            rate_text = str(Decimal(str(rate)).normalize()) if re.match(r"^[0-9.]+$", str(rate)) else str(rate)
            if tax.get("scheme") == "01":
                fields[f"l{i}_iva"] = rate_text
            elif tax.get("scheme") == "04":
                fields[f"l{i}_inc"] = rate_text
    payment = data.get("payment") or {}
    fields.update(p_forma=str(payment.get("form", "1")), p_medio=str(payment.get("method", "10")))
    return fields
