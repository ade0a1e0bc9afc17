"""The documento soporte form's fields ↔ the DS/95 payload (issuing/support_request.py): what AP types (Colombian
figures, as on the invoice form) becomes the JSON the API takes — the seller not obliged to invoice (resident with
NIT/cédula and address, or non-resident with a foreign ID and its country), lines with IVA, ReteFuente (06) and ReteIVA
(05) and their generation mode — and each problem the reader names by its JSON pointer comes back to its field.

Nothing here computes an amount: issuing.support_document.support_totals does, on the server.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dian.support.literals import ADJUSTMENT_CONCEPTS, GENERATION_MODES
from issuing.support_request import FOREIGN_ID_TYPES
from web.issued_fields import (
    IVA_RATES,
    MAX_FORM_LINES,
    MIN_LINES,
    PAYMENT_METHODS,
    figure,
    line_fields,
    plain_figure,
    stored_lines,
)

__all__ = [
    "CONCEPTS",
    "FOREIGN_ID_TYPES_ES",
    "GENERATION_MODES",
    "IVA_RATES",
    "MODES",
    "PAYMENT_METHODS",
    "RESIDENT_ID_TYPES",
    "FormMap",
    "field_of",
    "fields_of_support",
    "figure",
    "figure_text",
    "line_count",
    "payload_of",
]

CONCEPTS = ADJUSTMENT_CONCEPTS
RESIDENT_ID_TYPES = {"13": "Cédula de ciudadanía", "31": "NIT", "22": "Cédula de extranjería", "12": "Tarjeta de "
                     "identidad"}  # fmt: skip
FOREIGN_ID_TYPES_ES = {"41": "Pasaporte", "42": "Documento de identificación extranjero", "50": "NIT de otro país"}
assert set(FOREIGN_ID_TYPES_ES) == set(FOREIGN_ID_TYPES)
_LINE_NAMES = ("descripcion", "cantidad", "precio")


@dataclass
class FormMap:
    """Which form row each payload line came from, and which withholding field each withholding index is."""

    rows: dict[int, int] = field(default_factory=dict)
    withholdings: dict[int, list[str]] = field(default_factory=dict)


def line_count(form: Mapping[str, str]) -> int:
    """The highest filled line row plus one empty row (at least MIN_LINES)."""
    last = 0
    for i in range(1, MAX_FORM_LINES + 1):
        if any((form.get(f"l{i}_{name}") or "").strip() for name in _LINE_NAMES):
            last = i
    return min(MAX_FORM_LINES, max(MIN_LINES, last + 1))


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _line(form: Mapping[str, str], i: int, kind: str, today: dt.date) -> tuple[dict[str, Any] | None, list[str]]:
    get = lambda name: (form.get(f"l{i}_{name}") or "").strip()  # noqa: E731
    if not any(get(name) for name in _LINE_NAMES):
        return None, []
    line: dict[str, Any] = {"description": get("descripcion"), "quantity": figure(get("cantidad")),
                            "unit_price": figure(get("precio"))}  # fmt: skip
    line["taxes"] = [{"scheme": "01", "rate": figure(get("iva")) or "0"}]
    held, names = [], []
    if kind == "05":
        for name, scheme in (("retefuente", "06"), ("reteiva", "05")):
            rate = figure(get(name))
            if rate and rate not in ("0", "0.0", "0.00"):
                held.append({"scheme": scheme, "rate": rate})
                names.append(name)
        if held:
            line["withholdings"] = held
        mode = get("modo") or "1"
        start = get("inicio") or (_monday(today) if mode == "2" else today).isoformat()
        line["generation"] = {"mode": mode, "start": start}
    return line, names


def seller_of(form: Mapping[str, str]) -> dict[str, Any]:
    """The ``seller{}`` the form describes (resident: NIT/cédula and a Colombian address; else foreign ID, country)."""
    get = lambda name: (form.get(name) or "").strip()  # noqa: E731
    resident = get("v_residente") != "0"
    id_type = get("v_tipo_id") or ("13" if resident else "41")
    number = re.sub(r"[.\s]", "", get("v_id")) if id_type in ("13", "31", "22", "12") else get("v_id")
    seller: dict[str, Any] = {"id_type": id_type, "id": number, "name": get("v_nombre"),
                              "organization": "1" if id_type in ("31", "50") else "2"}  # fmt: skip
    if not resident:
        seller["resident"] = False
    if id_type == "31":
        seller["dv"] = get("v_dv")  # typed, never guessed: the reader checks it against the NIT (DV)
    if get("v_correo"):
        seller["email"] = get("v_correo")
    address: dict[str, Any] = {}
    if get("v_direccion"):
        address["line"] = get("v_direccion")
    if resident:
        if get("v_ciudad"):
            address["city_code"] = get("v_ciudad")
            address["department_code"] = get("v_ciudad")[:2]
    else:
        address["country"] = get("v_pais").upper()
    if address:
        seller["address"] = address
    return seller


def payload_of(form: Mapping[str, str], today: dt.date) -> tuple[dict[str, Any], FormMap]:
    """The DS/95 payload the form describes, and where each payload line came from."""
    get = lambda name: (form.get(name) or "").strip()  # noqa: E731
    kind = "95" if get("tipo") == "95" else "05"
    found = FormMap()
    lines = []
    for i in range(1, MAX_FORM_LINES + 1):
        line, names = _line(form, i, kind, today)
        if line is not None:
            found.rows[len(lines)] = i
            found.withholdings[len(lines)] = names
            lines.append(line)
    data: dict[str, Any] = {"kind": "support_adjustment" if kind == "95" else "support_document",
                            "seller": seller_of(form), "lines": lines}  # fmt: skip
    if kind == "05":
        payment: dict[str, Any] = {"form": get("p_forma") or "1", "method": get("p_medio") or "10"}
        if get("p_vence"):
            payment["due_date"] = get("p_vence")
        data["payment"] = payment
        data["mail_seller"] = get("enviar_correo") == "1"
    else:
        data["concept"] = get("concepto")
        data["reference"] = {"number": get("r_numero"), "uuid": get("r_cuds").lower(), "issue_date": get("r_fecha")}
    if get("notas"):
        data["notes"] = [get("notas")]
    return data, found


_SELLER_FIELDS = {"id_type": "v_tipo_id", "id": "v_id", "dv": "v_dv", "name": "v_nombre", "email": "v_correo",
                  "address": "v_direccion", "resident": "v_residente", "organization": "v_tipo_id"}  # fmt: skip
_LINE_FIELDS = {"description": "descripcion", "quantity": "cantidad", "unit_price": "precio", "taxes": "iva",
                "generation": "inicio"}  # fmt: skip
_TOP_FIELDS = {("payment", "form"): "p_forma", ("payment", "method"): "p_medio", ("payment", "due_date"): "p_vence",
               ("reference", "number"): "r_numero", ("reference", "uuid"): "r_cuds",
               ("reference", "issue_date"): "r_fecha", ("reference",): "r_numero", ("concept",): "concepto",
               ("notes",): "notas", ("lines",): "l1_descripcion", ("mail_seller",): "enviar_correo",
               ("seller",): "v_nombre", ("fecha",): "fecha", ("semana",): "semana"}  # fmt: skip
NAMES = {"v_residente": "Residencia del vendedor", "v_tipo_id": "Tipo de identificación",
         "v_id": "Identificación del vendedor", "v_dv": "Dígito de verificación", "v_nombre": "Nombre del vendedor",
         "v_correo": "Correo del vendedor", "v_direccion": "Dirección", "v_ciudad": "Municipio (código DANE)",
         "v_pais": "País", "p_forma": "Forma de pago", "p_medio": "Medio de pago", "p_vence": "Vencimiento",
         "r_numero": "Documento soporte que ajusta", "r_cuds": "CUDS del documento soporte",
         "r_fecha": "Fecha del documento soporte", "concepto": "Concepto", "notas": "Observaciones",
         "enviar_correo": "Correo al vendedor", "descripcion": "descripción", "cantidad": "cantidad",
         "precio": "precio unitario", "iva": "IVA", "retefuente": "ReteFuente", "reteiva": "ReteIVA",
         "modo": "forma de generación", "inicio": "inicio del periodo", "fecha": "Fecha de la compra",
         "semana": "Semana"}  # fmt: skip


def _line_field(parts: list[str], found: FormMap) -> tuple[str, str]:
    index = int(parts[1])
    row = found.rows.get(index, index + 1)
    sub = _LINE_FIELDS.get(parts[2], "descripcion") if len(parts) > 2 else "descripcion"
    if len(parts) > 2 and parts[2] == "withholdings":
        names = found.withholdings.get(index) or ["retefuente"]
        at = int(parts[3]) if len(parts) > 3 and parts[3].isdigit() else None
        sub = names[at] if at is not None and at < len(names) else ("reteiva" if "reteiva" in names else names[0])
    elif len(parts) > 3 and parts[2] == "generation" and parts[3] == "mode":
        sub = "modo"
    return f"l{row}_{sub}", f"Línea {row} · {NAMES[sub]}"


def field_of(pointer: str, found: FormMap) -> tuple[str | None, str]:
    """The form field a JSON pointer names and its Spanish label; (None, "Documento") for the whole document."""
    parts = [p for p in pointer.split("/") if p]
    if not parts:
        return None, "Documento"
    if parts[0] == "seller" and len(parts) > 1:
        if parts[1] == "address" and len(parts) > 2:
            name = {"city_code": "v_ciudad", "department_code": "v_ciudad", "country": "v_pais"}.get(
                parts[2], "v_direccion")  # fmt: skip
        else:
            name = _SELLER_FIELDS.get(parts[1], "v_nombre")
        return name, NAMES[name]
    if parts[0] == "lines" and len(parts) > 1 and parts[1].isdigit():
        return _line_field(parts, found)
    for length in (2, 1):
        name = _TOP_FIELDS.get(tuple(parts[:length]))
        if name:
            return name, NAMES.get(name, "Líneas" if name == "l1_descripcion" else name)
    return None, "Documento"


def fields_of_support(data: Mapping[str, Any]) -> dict[str, str]:
    """The form fields of a stored DS payload (to prefill its adjustment note): the seller and the lines."""
    seller = data.get("seller") or {}
    address = seller.get("address") or {}
    resident = seller.get("resident", True) is not False
    fields = {"v_residente": "1" if resident else "0", "v_tipo_id": str(seller.get("id_type", "13")),
              "v_id": str(seller.get("id", "")), "v_dv": str(seller.get("dv") or ""),
              "v_nombre": str(seller.get("name", "")), "v_correo": str(seller.get("email") or ""),
              "v_direccion": str(address.get("line") or ""), "v_ciudad": str(address.get("city_code") or ""),
              "v_pais": str(address.get("country") or "")}  # fmt: skip
    for i, line in stored_lines(data):
        fields.update(line_fields(i, line))
        for tax in line.get("taxes") or []:
            if tax.get("scheme") in (None, "01") and tax.get("rate") is not None:
                fields[f"l{i}_iva"] = plain_figure(tax["rate"]).replace(",00", "")
    return fields


def figure_text(value: Any) -> str:
    """A Decimal for a form field in Colombian figures (12500.5 → '12500,50')."""
    return f"{value:.2f}".replace(".", ",")


MODES = GENERATION_MODES
