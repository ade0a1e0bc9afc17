"""What the JSON API accepts: every query parameter and body field checked against its DIAN or documented shape
before anything reaches the database or the XML builder. A refusal is an InputError naming the field, in Spanish
(the API answers it with a 400: {"error": "bad_request", "message", "field"}).

The shapes live here once, as constants web/openapi.py also publishes, so the document and the checks agree.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from dian.codes import ClaimReason, DocumentState, IdentificationType
from store.models import Verdict
from web.query import MAX_CLOSING_WITHIN, SORTS
from web.query import TEXT_PATTERN as TEXT_PATTERN  # the OpenAPI document reads it here, beside the others

MAX_LIMIT = 200
MAX_BODY_BYTES = 16 * 1024  # an event request is a few hundred bytes
MAX_DEPTH = 8  # objects and arrays inside one another in a body (the schema needs 2)
MAX_CURSOR = 200  # characters; a cursor is a sort value and an id
MAX_ID = 2**63 - 1  # SQLite's and PostgreSQL's largest integer
MAX_NOTE = 1000
MAX_NAME = 120  # users.first_name … and DIAN's person fields
MAX_PERSON_ID = 20  # users.id_number
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2199, 12, 31)  # the range the inbox searches (web.query)
DAY_PATTERN = r"^(19[0-9]{2}|2[01][0-9]{2})-[0-9]{2}-[0-9]{2}$"  # AAAA-MM-DD, 1900 to 2199
ASCII_DIGITS = re.compile(r"[0-9]+\Z")
CUFE = re.compile(r"[0-9A-Fa-f]{96}\Z")
CUFE_PATTERN = "^[0-9A-Fa-f]{96}$"
PERSON_ID_PATTERN = "^[0-9A-Za-z-]{1,20}$"
PERSON_ID = re.compile(r"[0-9A-Za-z-]{1,20}\Z")
# A cursor is <value>_<id>: the value a number, "n" (null) or URL-safe base64; the id at most 19 ASCII digits.
CURSOR_PATTERN = r"^[A-Za-z0-9.=-]{1,180}_[0-9]{1,19}$"
CURSOR = re.compile(CURSOR_PATTERN.strip("^$") + r"\Z")
AMOUNT_PATTERN = r"^[0-9]{1,16}(\.[0-9]{1,2})?$"
AMOUNT = re.compile(AMOUNT_PATTERN.strip("^$") + r"\Z")
# Characters an XML 1.0 document can carry (and PostgreSQL can store): tab, newline, carriage return and the rest of
# the BMP outside the C0 controls, surrogates and U+FFFE/U+FFFF; plus the astral planes.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
BODY_TEXT_PATTERN = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\uD800-\\uDFFF\\uFFFE\\uFFFF]*$"
ID_TYPES = tuple(t.value for t in IdentificationType)  # DIAN's identification types (11 … 91)
ID_TYPES_ALL_DIGITS = ("11", "12", "13", "31", "91")  # registro civil, tarjeta de identidad, cédula, NIT, NUIP
EVENT_CODES = ("030", "031", "032", "033")
BODY_KEYS = ("code", "person", "claim_reason", "note")
PERSON_KEYS = ("id", "first_name", "family_name", "id_type", "job_title", "department")


class InputError(ValueError):
    """A parameter or field the API refuses; message in Spanish, field its name (person.id_type, limit, body…)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def _shown(value: str, limit: int = 40) -> str:
    """A refused value as the message repeats it: cut, and with unprintable characters escaped."""
    cut = value[:limit] + ("…" if len(value) > limit else "")
    return ascii(cut) if _NOT_XML.search(cut) or not cut.isprintable() else repr(cut)


def xml_text(value: str, field: str, *, limit: int) -> str:
    """Text an XML document can carry, at most limit characters (refuse controls, lone surrogates, U+FFFE/FFFF)."""
    bad = _NOT_XML.search(value)
    if bad:
        char = bad.group()
        raise InputError(field, f"contiene un carácter no permitido (U+{ord(char):04X}); use texto sin controles.")
    if len(value) > limit:
        raise InputError(field, f"el texto es demasiado largo (máximo {limit} caracteres).")
    return value


def bounded_int(raw: str, field: str, low: int, high: int) -> int:
    """ASCII digits (not any Unicode digit: "²" is refused) for an integer in [low, high]."""
    text = raw.strip()
    if not ASCII_DIGITS.match(text) or len(text) > 19 or not low <= int(text) <= high:
        raise InputError(field, f"un entero entre {low} y {high} (dígitos 0-9), no {_shown(raw)}.")
    return int(text)


def day(raw: str, field: str) -> str:
    """A date AAAA-MM-DD (or DD/MM/AAAA) between FIRST_DAY and LAST_DAY; returned as given, trimmed."""
    text = raw.strip()
    if not text.isascii():
        raise InputError(field, f"fecha inválida {_shown(raw)}; use AAAA-MM-DD.")
    match = re.fullmatch(r"([0-9]{4})-([0-9]{2})-([0-9]{2})|([0-9]{2})/([0-9]{2})/([0-9]{4})", text)
    if not match:
        raise InputError(field, f"fecha inválida {_shown(raw)}; use AAAA-MM-DD.")
    y, m, d = (match[1], match[2], match[3]) if match[1] else (match[6], match[5], match[4])
    try:
        value = date(int(y), int(m), int(d))
    except ValueError:
        raise InputError(field, f"fecha inexistente {_shown(raw)}.") from None
    if not FIRST_DAY <= value <= LAST_DAY:
        raise InputError(field, f"fecha fuera de rango; use un día entre {FIRST_DAY} y {LAST_DAY}.")
    return text


MAX_QUERY_TEXT = 120  # the search box's text, as the OpenAPI document publishes it

# The list parameters that take one of a few values (OpenAPI's enums); a given empty value is refused too.
_CHOICES: dict[str, tuple[str, ...]] = {
    "status": tuple(s.value for s in DocumentState),
    "verdict": tuple(v.value for v in Verdict),
    "quarantined": ("0", "1", "true", "false"),
    "sort": tuple(SORTS),
}


def list_args(args: Any) -> dict[str, Any]:
    """The checked /documents query: limit as an int; every other parameter left for web.query to read."""
    checked: dict[str, Any] = {"limit": 50}
    for name in ("q", "supplier", "status", "verdict", "sort", "quarantined"):
        for value in args.getlist(name):
            xml_text(value, name, limit=MAX_QUERY_TEXT if name == "q" else 450)
    # A parameter that is given must have its documented shape: an API client that sends `min_amount=` meant
    # something, and is told so (the inbox's form, which sends empty fields, reads them through web.query instead).
    if "limit" in args:
        checked["limit"] = bounded_int(args["limit"], "limit", 1, MAX_LIMIT)
    if "closing_within" in args:
        bounded_int(args["closing_within"], "closing_within", 1, MAX_CLOSING_WITHIN)
    for name in ("from", "to"):
        if name in args:
            day(args[name], name)
    for name in ("min_amount", "max_amount"):
        raw = args.get(name)
        if raw is not None and not AMOUNT.match(raw):
            raise InputError(name, f"un valor como 1234567.89 (dígitos 0-9 y punto), no {_shown(raw)}.")
    for name, known in _CHOICES.items():
        for value in args.getlist(name):
            parts = value.split(",") if name in ("status", "verdict") else [value]  # these two may list several
            bad = [part for part in parts if part not in known]
            if bad:
                raise InputError(name, f"{_shown(bad[0])} no es un valor admitido; use uno de: {', '.join(known)}.")
    cursor = args.get("cursor")
    if cursor is not None:
        if not CURSOR.match(cursor) or int(cursor.rpartition("_")[2]) > MAX_ID:
            raise InputError("cursor", "cursor de paginación inválido; use el next_cursor de la página anterior.")
        value = cursor.rpartition("_")[0]
        if re.fullmatch(r"-?[0-9.]+", value) and len(value.replace("-", "").replace(".", "")) > 19:
            raise InputError("cursor", "cursor de paginación inválido; use el next_cursor de la página anterior.")
    return checked


def cufe(raw: str) -> str:
    """A CUFE or CUDE: 96 hexadecimal characters (SHA-384), any case."""
    if not CUFE.match(raw):
        raise InputError("cufe", f"un CUFE o CUDE de 96 caracteres hexadecimales, no {_shown(raw, 24)}.")
    return raw.lower()


# --- The body of an event request ----------------------------------------------------------------------------------


def _depth(data: bytes) -> int:
    """How deep objects and arrays nest in a JSON text (strings skipped), without parsing it recursively."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH:
                    return deepest
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def json_body(data: bytes, content_type: str | None) -> Any:
    """The JSON value of a request body of at most MAX_BODY_BYTES, nested at most MAX_DEPTH deep."""
    if (content_type or "").split(";")[0].strip().lower() != "application/json":
        raise InputError("body", "envíe JSON con Content-Type: application/json.")
    if len(data) > MAX_BODY_BYTES:
        raise InputError("body", f"el cuerpo es demasiado grande (máximo {MAX_BODY_BYTES} bytes).")
    if _depth(data) > MAX_DEPTH:
        raise InputError("body", f"el JSON anida demasiados niveles (máximo {MAX_DEPTH}).")
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InputError("body", 'no es un JSON válido; se espera un objeto como {"code": "030"}.') from None


def _text_field(container: dict[str, Any], key: str, field: str, *, limit: int, required: bool = False) -> str | None:
    value = container.get(key)
    if value is None:
        if required:
            raise InputError(field, "falta; es obligatorio.")
        return None
    if not isinstance(value, str):
        raise InputError(field, "debe ser un texto.")
    text = xml_text(value, field, limit=limit).strip()
    if required and not text:
        raise InputError(field, "está vacío; es obligatorio.")
    return text or None


def event_body(body: Any) -> dict[str, Any]:
    """The checked fields of an event request: code, claim_reason, note and person (a dict of texts, or None)."""
    if not isinstance(body, dict):
        raise InputError("body", 'se espera un objeto JSON como {"code": "030"}.')
    unknown = sorted(set(body) - set(BODY_KEYS))
    if unknown:
        raise InputError(unknown[0], f"campo desconocido; se aceptan {', '.join(BODY_KEYS)}.")
    code = body.get("code")
    if not isinstance(code, str) or code not in EVENT_CODES:
        raise InputError("code", f"un evento del comprador: {', '.join(EVENT_CODES)}, no {_shown(str(code))}.")
    reason = body.get("claim_reason")
    if reason is not None and (not isinstance(reason, str) or reason not in {r.value for r in ClaimReason}):
        raise InputError("claim_reason", f"01, 02, 03 o 04, no {_shown(str(reason))}.")
    note = _text_field(body, "note", "note", limit=MAX_NOTE)
    return {"code": code, "claim_reason": reason, "note": note, "person": _person(body.get("person"))}


def _person(value: Any) -> dict[str, str | None] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InputError("person", "un objeto con id, first_name y family_name.")
    unknown = sorted(set(value) - set(PERSON_KEYS))
    if unknown:
        raise InputError(f"person.{unknown[0]}", f"campo desconocido; se aceptan {', '.join(PERSON_KEYS)}.")
    person: dict[str, str | None] = {}
    for key in ("first_name", "family_name"):
        person[key] = _text_field(value, key, f"person.{key}", limit=MAX_NAME, required=True)
    for key in ("job_title", "department"):
        person[key] = _text_field(value, key, f"person.{key}", limit=MAX_NAME)
    ident = _text_field(value, "id", "person.id", limit=MAX_PERSON_ID, required=True) or ""
    if not PERSON_ID.match(ident):
        raise InputError("person.id", f"el número de documento lleva dígitos 0-9, letras o guion, no {_shown(ident)}.")
    id_type = _text_field(value, "id_type", "person.id_type", limit=2) or "13"
    if id_type not in ID_TYPES:
        known = ", ".join(ID_TYPES)
        raise InputError("person.id_type", f"un tipo de documento de la DIAN ({known}), no {_shown(id_type)}.")
    if id_type in ID_TYPES_ALL_DIGITS and not ASCII_DIGITS.match(ident):
        raise InputError("person.id", f"para el tipo {id_type} el número lleva solo dígitos 0-9.")
    person["id"], person["id_type"] = ident, id_type
    return person


PAYABLE_STATES = ("unregistered", "registered", "endorsed", "limited", "protested", "transferred", "partially_paid")
MAX_PAYABLES = 10_000


PAYABLE_KEYS = ("due_before", "supplier", "state", "payable_only", "limit")


def payables_args(args: Any) -> dict[str, Any]:
    """The checked /payables query (the same filters as `buzon title payables`): due_before, supplier, state (comma
    separated), payable_only, limit."""
    checked: dict[str, Any] = {"due_before": None, "supplier_nit": None, "states": (), "include_refused": True,
                               "limit": 1000}  # fmt: skip
    unknown = sorted(set(args) - set(PAYABLE_KEYS))
    if unknown:  # a mistyped filter must not widen a payment run silently
        raise InputError(unknown[0], f"parámetro desconocido; se aceptan {', '.join(PAYABLE_KEYS)}.")
    if "due_before" in args:
        raw = day(args["due_before"], "due_before")
        checked["due_before"] = date.fromisoformat(raw) if "-" in raw else date(*map(int, reversed(raw.split("/"))))
    if "supplier" in args:
        supplier = args["supplier"].strip()
        if not ASCII_DIGITS.match(supplier) or len(supplier) > 20:
            raise InputError("supplier", f"el NIT del proveedor, solo dígitos y sin DV, no {_shown(supplier)}.")
        checked["supplier_nit"] = supplier
    if "state" in args:
        states = tuple(part for part in args["state"].split(",") if part)
        bad = [state for state in states if state not in PAYABLE_STATES] or ([] if states else [""])
        if bad:
            known = ", ".join(PAYABLE_STATES)
            raise InputError("state", f"{_shown(bad[0])} no es un valor admitido; use uno de: {known}.")
        checked["states"] = states
    if "payable_only" in args:
        value = args["payable_only"]
        if value not in ("true", "false"):
            raise InputError("payable_only", f"true o false, no {_shown(value)}.")
        checked["include_refused"] = value == "false"
    if "limit" in args:
        checked["limit"] = bounded_int(args["limit"], "limit", 1, MAX_PAYABLES)
    return checked
