"""Read a native payload from parsed JSON: every problem at once, one Spanish sentence per field, never a traceback.

Numbers are taken as JSON strings ("12.50"), integers or Decimal (parse JSON with ``parse_float=Decimal``); a binary
float is refused because it has already lost cents. Digits must be ASCII ("²" or "٣" are refused), text must be
something an XML document can carry, and every list and text has a size limit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation

from dian.codes import DocumentType, IdentificationType
from dian.nit import check_digit
from issuing import catalog
from issuing.payload import (
    Address,
    Adjustment,
    Customer,
    DeclaredTotals,
    ExchangeRate,
    InvoiceReference,
    Line,
    LineTax,
    PaperInvoice,
    Payload,
    Payment,
    Period,
    Withholding,
)
from issuing.problems import PayloadError, Problem, Problems, pointer

__all__ = ["MAX_LINES", "read_payload", "require_payload"]

MAX_LINES = 1000
MAX_NOTES = 20
MAX_ADJUSTMENTS = 20
_SHORT = 200  # names, codes, references
_LONG = 1000  # descriptions, notes
_NAME = 450  # cbc:RegistrationName

_DECIMAL = re.compile(r"^-?[0-9]{1,15}(?:\.[0-9]+)?$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_DIGITS = re.compile(r"^[0-9]+$")
_ALNUM_ID = re.compile(r"^[A-Za-z0-9-]{1,20}$")
_NUMBER = re.compile(r"^[A-Za-z0-9-]{1,40}$")  # document numbers: prefix + consecutive
_UNIT = re.compile(r"^[A-Z0-9]{1,3}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
_HEX96 = re.compile(r"^[0-9a-f]{96}$")
# C0 controls other than tab/newline/CR, lone surrogates and the non-characters U+FFFE/U+FFFF cannot live in XML 1.0.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

_TYPES = {member.value: member for member in DocumentType if not member.is_support}  # 05/95: support_request.py
_NOTE_CONCEPTS = {
    DocumentType.CREDIT_NOTE: catalog.CREDIT_NOTE_CONCEPTS,
    DocumentType.DEBIT_NOTE: catalog.DEBIT_NOTE_CONCEPTS,
}

_TOP = {
    "type",
    "customer",
    "lines",
    "payment",
    "currency",
    "exchange_rate",
    "adjustments",
    "withholdings",
    "notes",
    "order_reference",
    "reference",
    "concept",
    "concept_description",
    "period",
    "paper_invoice",
    "totals",
}


def _kind(value: object) -> str:
    return {dict: "un objeto", list: "una lista", str: "un texto", bool: "un booleano", float: "un número decimal"}.get(
        type(value), type(value).__name__
    )


class _Reader:
    """Field readers that record a problem and return None instead of raising."""

    def __init__(self) -> None:
        self.problems = Problems()

    def add(self, where: str, message: str) -> None:
        self.problems.add(where, message)

    def obj(self, value: object, where: str, allowed: set[str], required: set[str] = frozenset()) -> dict | None:
        if not isinstance(value, Mapping):
            self.add(where, f"se esperaba un objeto JSON, llegó {_kind(value)}")
            return None
        for key in sorted(str(k) for k in value if k not in allowed):
            self.add(pointer_join(where, key), "campo desconocido; revise el nombre")
        for key in sorted(required):
            if value.get(key) is None:
                self.add(pointer_join(where, key), "campo obligatorio")
        return dict(value)

    def array(self, data: Mapping, key: str, where: str, *, limit: int, required: bool = False) -> list:
        value = data.get(key)
        at = pointer_join(where, key)
        if value is None:
            return []  # a missing required list was already reported by obj()
        if not isinstance(value, list):
            self.add(at, f"se esperaba una lista, llegó {_kind(value)}")
            return []
        if required and not value:
            self.add(at, "la lista no puede estar vacía")
        if len(value) > limit:
            self.add(at, f"a lo sumo {limit} elementos, llegaron {len(value)}")
            return []
        return value

    def text(
        self,
        data: Mapping,
        key: str,
        where: str,
        *,
        limit: int = _SHORT,
        pattern: re.Pattern | None = None,
        hint: str = "",
    ) -> str | None:
        value = data.get(key)
        at = pointer_join(where, key)
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool) and pattern is not None:
            value = str(value)  # identification numbers sent as JSON integers
        if not isinstance(value, str):
            self.add(at, f"se esperaba un texto, llegó {_kind(value)}")
            return None
        if _NOT_XML.search(value):
            self.add(at, "contiene caracteres de control que un documento XML no admite")
            return None
        value = value.strip()
        if not value:
            self.add(at, "no puede estar vacío")
            return None
        if len(value) > limit:
            self.add(at, f"a lo sumo {limit} caracteres, llegaron {len(value)}")
            return None
        if pattern is not None and not pattern.match(value):
            self.add(at, f"formato inválido{': ' + hint if hint else ''} (llegó {value[:40]!r})")
            return None
        return value

    def code(self, data: Mapping, key: str, where: str, allowed: Mapping | frozenset, what: str) -> str | None:
        value = data.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if value is None:
            return None
        at = pointer_join(where, key)
        if not isinstance(value, str) or value.strip() not in allowed:
            shown = ", ".join(sorted(allowed)) if len(allowed) <= 12 else "la lista de la DIAN"
            self.add(at, f"{what} desconocido ({str(value)[:20]!r}); valores admitidos: {shown}")
            return None
        return value.strip()

    def decimal(
        self,
        data: Mapping,
        key: str,
        where: str,
        *,
        places: int = 2,
        minimum: Decimal | None = Decimal(0),
        maximum: Decimal | None = None,
        positive: bool = False,
    ) -> Decimal | None:
        value = data.get(key)
        at = pointer_join(where, key)
        if value is None:
            return None
        if isinstance(value, bool | float):
            self.add(at, 'envíe el valor como texto ("1234.50") o entero; un número decimal JSON pierde centavos')
            return None
        if isinstance(value, int):
            text = str(value)
        elif isinstance(value, Decimal):
            text = format(value, "f") if value.is_finite() else "x"
        elif isinstance(value, str):
            text = value.strip()
        else:
            self.add(at, f"se esperaba un número, llegó {_kind(value)}")
            return None
        if not _DECIMAL.match(text):
            self.add(at, f"no es un número con dígitos ASCII y punto decimal (llegó {text[:30]!r})")
            return None
        try:
            number = Decimal(text)
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
            self.add(at, "número inválido")
            return None
        decimals = -number.as_tuple().exponent if number.as_tuple().exponent < 0 else 0  # type: ignore[operator]
        if decimals > places:
            self.add(at, f"a lo sumo {places} decimales, llegaron {decimals}")
            return None
        if positive and number <= 0:
            self.add(at, "debe ser mayor que cero")
            return None
        if minimum is not None and number < minimum:
            self.add(at, f"debe ser al menos {minimum}")
            return None
        if maximum is not None and number > maximum:
            self.add(at, f"debe ser a lo sumo {maximum}")
            return None
        return number

    def day(self, data: Mapping, key: str, where: str) -> date | None:
        value = data.get(key)
        at = pointer_join(where, key)
        if value is None:
            return None
        if not isinstance(value, str) or not _DATE.match(value.strip()):
            self.add(at, "se esperaba una fecha AAAA-MM-DD")
            return None
        try:
            day = date.fromisoformat(value.strip())
        except ValueError:
            self.add(at, f"la fecha {value.strip()} no existe")
            return None
        if not 2000 <= day.year <= 2199:
            self.add(at, "la fecha está fuera del rango 2000-2199")
            return None
        return day

    def flag(self, data: Mapping, key: str, where: str) -> bool | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, bool):
            self.add(pointer_join(where, key), "se esperaba true o false")
            return None
        return value


def pointer_join(where: str, *parts: str | int) -> str:
    """``where`` followed by more pointer steps."""
    return where + pointer(*parts)


_HUNDRED = Decimal(100)
_MONEY_MAX = Decimal("999999999999999.99")


def _address(r: _Reader, value: object, where: str) -> Address | None:
    allowed = {"line", "country", "city_code", "city", "department", "department_code", "postal_code"}
    data = r.obj(value, where, allowed, {"line"})
    if data is None:
        return None
    line = r.text(data, "line", where, limit=_SHORT)
    country = r.text(data, "country", where, pattern=_COUNTRY, hint="código ISO de 2 letras mayúsculas") or "CO"
    city_code = r.text(data, "city_code", where, pattern=re.compile(r"^[0-9]{5}$"), hint="código DANE de 5 dígitos")
    department_code = r.text(data, "department_code", where, pattern=re.compile(r"^[0-9]{2}$"), hint="2 dígitos")
    if country == "CO" and "city_code" not in data:
        r.add(pointer_join(where, "city_code"), "una dirección en Colombia lleva el código DANE del municipio")
    if city_code and department_code and not city_code.startswith(department_code):
        r.add(pointer_join(where, "department_code"), f"no corresponde al municipio {city_code}")
    return Address(
        line=line or "",
        country=country,
        city_code=city_code,
        city=r.text(data, "city", where),
        department=r.text(data, "department", where),
        department_code=department_code or (city_code[:2] if city_code else None),
        postal_code=r.text(data, "postal_code", where, pattern=re.compile(r"^[0-9A-Za-z-]{1,10}$")),
    )


def _customer(r: _Reader, value: object) -> Customer | None:
    where = "/customer"
    allowed = {
        "id_type",
        "id",
        "dv",
        "name",
        "organization",
        "tax_levels",
        "tax_scheme",
        "trade_name",
        "address",
        "email",
        "phone",
    }
    data = r.obj(value, where, allowed, {"id_type", "id", "name"})
    if data is None:
        return None
    id_type = r.code(data, "id_type", where, catalog.ID_TYPES, "tipo de identificación")
    nit = id_type in (IdentificationType.NIT, None)
    id_ = r.text(
        data,
        "id",
        where,
        pattern=_DIGITS if nit and id_type else _ALNUM_ID,
        hint="solo dígitos ASCII, sin el dígito de verificación" if nit else "letras, dígitos o guion",
    )
    dv = r.text(data, "dv", where, pattern=re.compile(r"^[0-9]$"), hint="un dígito")
    if id_type == IdentificationType.NIT and id_:
        if len(id_) > 15:
            r.add(pointer_join(where, "id"), "un NIT tiene a lo sumo 15 dígitos")
        elif dv is None and "dv" not in data:
            r.add(pointer_join(where, "dv"), "un NIT lleva su dígito de verificación")
        elif dv is not None and dv != check_digit(id_):
            r.add(pointer_join(where, "dv"), f"no corresponde al NIT {id_} (debería ser {check_digit(id_)})")
    levels_raw = r.array(data, "tax_levels", where, limit=5)
    levels = []
    for index, level in enumerate(levels_raw):
        if not isinstance(level, str) or level not in catalog.TAX_LEVELS:
            r.add(
                pointer_join(where, "tax_levels", index),
                f"responsabilidad fiscal desconocida; admitidas: {', '.join(catalog.TAX_LEVELS)}",
            )
        else:
            levels.append(level)
    email = r.text(data, "email", where, limit=254, pattern=_EMAIL, hint="correo electrónico")
    address = _address(r, data["address"], pointer_join(where, "address")) if data.get("address") is not None else None
    return Customer(
        id_type=id_type or "",
        id=id_ or "",
        name=r.text(data, "name", where, limit=_NAME) or "",
        dv=dv,
        organization=r.code(data, "organization", where, catalog.ORGANIZATION_TYPES, "tipo de persona") or "1",
        tax_levels=tuple(levels) or ("R-99-PN",),
        tax_scheme=r.code(data, "tax_scheme", where, frozenset({"01", "ZZ"}), "esquema tributario") or "ZZ",
        trade_name=r.text(data, "trade_name", where, limit=_NAME),
        address=address,
        email=email,
        phone=r.text(data, "phone", where, limit=50),
    )


def _adjustment(r: _Reader, value: object, where: str) -> Adjustment | None:
    data = r.obj(value, where, {"charge", "reason", "amount", "percent", "code"}, {"reason"})
    if data is None:
        return None
    charge = bool(r.flag(data, "charge", where))
    amount = r.decimal(data, "amount", where, maximum=_MONEY_MAX)
    percent = r.decimal(data, "percent", where, places=4, maximum=_HUNDRED, positive=True)
    if ("amount" in data) == ("percent" in data):
        r.add(where, "indique exactamente uno de amount (valor) o percent (porcentaje)")
    code = r.code(data, "code", where, catalog.DISCOUNT_CODES, "código de descuento")
    if code is not None and charge:
        r.add(pointer_join(where, "code"), "solo los descuentos llevan código de descuento")
    return Adjustment(
        charge=charge, reason=r.text(data, "reason", where) or "", amount=amount, percent=percent, code=code
    )


def _tax(r: _Reader, value: object, where: str) -> LineTax | None:
    data = r.obj(value, where, {"scheme", "rate", "per_unit", "name"}, {"scheme"})
    if data is None:
        return None
    scheme = r.code(data, "scheme", where, frozenset(catalog.TAX_SCHEMES), "tributo")
    rate = r.decimal(data, "rate", where, places=4, maximum=_HUNDRED)
    per_unit = r.decimal(data, "per_unit", where, places=2, maximum=_MONEY_MAX)
    if ("rate" in data) == ("per_unit" in data):
        r.add(where, "indique exactamente uno de rate (porcentaje) o per_unit (valor por unidad)")
    name = r.text(data, "name", where, limit=_SHORT)
    if scheme == "ZZ" and name is None and "name" not in data:
        r.add(pointer_join(where, "name"), "el tributo ZZ (otros) lleva su nombre")
    return LineTax(scheme=scheme or "", rate=rate, per_unit=per_unit, name=name)


def _line(r: _Reader, value: object, where: str) -> Line | None:
    allowed = {
        "description",
        "quantity",
        "unit_price",
        "unit",
        "code",
        "adjustments",
        "taxes",
        "reference_price",
        "reference_price_type",
    }
    data = r.obj(value, where, allowed, {"description", "quantity", "unit_price"})
    if data is None:
        return None
    quantity = r.decimal(data, "quantity", where, places=6, positive=True, maximum=Decimal("999999999999"))
    unit_price = r.decimal(data, "unit_price", where, places=6, maximum=_MONEY_MAX)
    reference_price = r.decimal(data, "reference_price", where, places=6, positive=True, maximum=_MONEY_MAX)
    adjustments = tuple(
        a
        for i, item in enumerate(r.array(data, "adjustments", where, limit=MAX_ADJUSTMENTS))
        if (a := _adjustment(r, item, pointer_join(where, "adjustments", i))) is not None
    )
    taxes: list[LineTax] = []
    seen: set[str] = set()
    for i, item in enumerate(r.array(data, "taxes", where, limit=10)):
        tax = _tax(r, item, pointer_join(where, "taxes", i))
        if tax is None:
            continue
        if tax.scheme in seen:
            r.add(pointer_join(where, "taxes", i, "scheme"), f"el tributo {tax.scheme} aparece dos veces en la línea")
        seen.add(tax.scheme)
        taxes.append(tax)
    if reference_price is not None:
        if unit_price not in (None, Decimal(0)):
            r.add(pointer_join(where, "unit_price"), "una línea gratuita (con reference_price) tiene unit_price 0")
        for i, tax in enumerate(taxes):
            if tax.rate not in (None, Decimal(0)):
                r.add(
                    pointer_join(where, "taxes", i, "rate"),
                    "una línea gratuita solo admite tributos por unidad o con tarifa 0 en esta versión",
                )
        if adjustments:
            r.add(pointer_join(where, "adjustments"), "una línea gratuita no lleva descuentos ni cargos")
    return Line(
        description=r.text(data, "description", where, limit=_LONG) or "",
        quantity=quantity or Decimal(0),
        unit_price=unit_price if unit_price is not None else Decimal(0),
        unit=r.text(data, "unit", where, pattern=_UNIT, hint="código UN/ECE de 1 a 3 letras o dígitos") or "94",
        code=r.text(data, "code", where, limit=50),
        adjustments=adjustments,
        taxes=tuple(taxes),
        reference_price=reference_price,
        reference_price_type=r.code(
            data, "reference_price_type", where, catalog.REFERENCE_PRICE_TYPES, "tipo de precio de referencia"
        )
        or "03",
    )


def _payment(r: _Reader, value: object) -> Payment:
    where = "/payment"
    data = r.obj(value, where, {"form", "method", "due_date"}, {"form", "method"})
    if data is None:
        return Payment()
    form = r.code(data, "form", where, catalog.PAYMENT_FORMS, "forma de pago")
    method = r.code(data, "method", where, catalog.PAYMENT_MEANS, "medio de pago")
    due = r.day(data, "due_date", where)
    if form == "2" and "due_date" not in data:
        r.add(pointer_join(where, "due_date"), "una venta a crédito lleva la fecha de vencimiento (radian B.5)")
    return Payment(form=form or "1", method=method or "10", due_date=due)


def _withholdings(r: _Reader, data: Mapping) -> tuple[Withholding, ...]:
    found: list[Withholding] = []
    seen: set[str] = set()
    for i, item in enumerate(r.array(data, "withholdings", "", limit=3)):
        where = pointer("withholdings", i)
        entry = r.obj(item, where, {"scheme", "rate", "base"}, {"scheme", "rate"})
        if entry is None:
            continue
        scheme = r.code(entry, "scheme", where, frozenset(catalog.WITHHOLDING_SCHEMES), "retención")
        rate = r.decimal(entry, "rate", where, places=4, positive=True, maximum=_HUNDRED)
        base = r.decimal(entry, "base", where, maximum=_MONEY_MAX)
        if scheme in seen:
            r.add(pointer_join(where, "scheme"), f"la retención {scheme} aparece dos veces")
        if scheme and rate is not None:
            seen.add(scheme)
            found.append(Withholding(scheme=scheme, rate=rate, base=base))
    return tuple(found)


def _declared(r: _Reader, value: object) -> DeclaredTotals | None:
    fields = ("line_extension", "tax_exclusive", "tax_inclusive", "allowance_total", "charge_total", "payable")
    data = r.obj(value, "/totals", set(fields))
    if data is None:
        return None
    return DeclaredTotals(**{name: r.decimal(data, name, "/totals", maximum=_MONEY_MAX) for name in fields})


def _read(data: object) -> Payload | None:
    r = _Reader()
    top = r.obj(data, "", _TOP, {"type", "customer", "lines"})
    if top is None:
        raise PayloadError(r.problems.items)
    kind = r.code(top, "type", "", frozenset(_TYPES), "tipo de documento")
    document_type = _TYPES.get(kind or "")
    customer = _customer(r, top["customer"]) if top.get("customer") is not None else None
    lines = tuple(
        line
        for i, item in enumerate(r.array(top, "lines", "", limit=MAX_LINES, required=True))
        if (line := _line(r, item, pointer("lines", i))) is not None
    )
    payment = _payment(r, top["payment"]) if top.get("payment") is not None else Payment()
    currency = r.code(top, "currency", "", catalog.CURRENCIES, "código de moneda ISO 4217") or "COP"
    exchange = None
    if top.get("exchange_rate") is not None:
        rate_data = r.obj(top["exchange_rate"], "/exchange_rate", {"rate", "date"}, {"rate", "date"})
        if rate_data is not None:
            rate = r.decimal(rate_data, "rate", "/exchange_rate", places=6, positive=True, maximum=_MONEY_MAX)
            day = r.day(rate_data, "date", "/exchange_rate")
            exchange = ExchangeRate(rate, day) if rate is not None and day is not None else None
    if currency != "COP" and "exchange_rate" not in top:
        r.add("/exchange_rate", f"un documento en {currency} lleva la tasa de cambio a COP (rate y date)")
    if currency == "COP" and top.get("exchange_rate") is not None:
        r.add("/exchange_rate", "solo un documento en otra moneda lleva tasa de cambio")
    adjustments = tuple(
        a
        for i, item in enumerate(r.array(top, "adjustments", "", limit=MAX_ADJUSTMENTS))
        if (a := _adjustment(r, item, pointer("adjustments", i))) is not None
    )
    withholdings = _withholdings(r, top)
    notes = tuple(
        n
        for i, item in enumerate(r.array(top, "notes", "", limit=MAX_NOTES))
        if (n := r.text({"n": item}, "n", "", limit=_LONG)) is not None
    )
    reference = None
    if top.get("reference") is not None:
        where = "/reference"
        ref = r.obj(top["reference"], where, {"number", "uuid", "issue_date"}, {"number", "uuid", "issue_date"})
        if ref is not None:
            number = r.text(ref, "number", where, pattern=_NUMBER, hint="prefijo y consecutivo")
            uuid = r.text(ref, "uuid", where, pattern=_HEX96, hint="CUFE de 96 caracteres hexadecimales en minúscula")
            issued = r.day(ref, "issue_date", where)
            if number and uuid and issued:
                reference = InvoiceReference(number=number, uuid=uuid, issue_date=issued)
    period = None
    if top.get("period") is not None:
        pd = r.obj(top["period"], "/period", {"start", "end"}, {"start", "end"})
        if pd is not None:
            start, end = r.day(pd, "start", "/period"), r.day(pd, "end", "/period")
            if start and end and start > end:
                r.add("/period/end", "el periodo termina antes de empezar")
            elif start and end:
                period = Period(start, end)
    paper = None
    if top.get("paper_invoice") is not None:
        pd = r.obj(top["paper_invoice"], "/paper_invoice", {"number", "issue_date"}, {"number", "issue_date"})
        if pd is not None:
            number = r.text(pd, "number", "/paper_invoice", pattern=_NUMBER, hint="prefijo y consecutivo")
            issued = r.day(pd, "issue_date", "/paper_invoice")
            if number and issued:
                paper = PaperInvoice(number, issued)
    concept = None
    if document_type is not None and document_type.is_invoice:
        for key in ("reference", "concept", "concept_description", "period"):
            if key in top:
                r.add(pointer(key), "solo las notas crédito y débito llevan este campo")
        if document_type is DocumentType.CONTINGENCY_INVOICE and "paper_invoice" not in top:
            r.add("/paper_invoice", "una factura tipo 03 identifica la factura de talonario que transmite")
        if document_type is not DocumentType.CONTINGENCY_INVOICE and "paper_invoice" in top:
            r.add("/paper_invoice", "solo la factura de contingencia tipo 03 lleva factura de talonario")
    elif document_type is not None:
        concepts = _NOTE_CONCEPTS[document_type]
        if "concept" not in top:
            r.add("/concept", f"una nota lleva su concepto ({', '.join(concepts)})")
        concept = r.code(top, "concept", "", concepts, "concepto de la nota")
        if "reference" not in top and "period" not in top:
            r.add("/period", "una nota sin factura referenciada lleva el periodo que cubre (start, end)")
        for key, text in (
            ("withholdings", "las retenciones van en la factura"),
            ("paper_invoice", "solo la factura tipo 03 lleva factura de talonario"),
        ):
            if key in top:
                r.add(pointer(key), text)
    payload_declared = _declared(r, top["totals"]) if top.get("totals") is not None else None
    if r.problems or customer is None or document_type is None:
        raise PayloadError(r.problems.items)
    return Payload(
        type=document_type,
        customer=customer,
        lines=lines,
        payment=payment,
        currency=currency,
        exchange_rate=exchange,
        adjustments=adjustments,
        withholdings=withholdings,
        notes=notes,
        order_reference=r.text(top, "order_reference", "", limit=_SHORT),
        reference=reference,
        concept=concept,
        concept_description=r.text(top, "concept_description", "", limit=_LONG),
        period=period,
        paper_invoice=paper,
        declared=payload_declared,
    )


def read_payload(data: object) -> tuple[Payload | None, tuple[Problem, ...]]:
    """Read a payload from parsed JSON: ``(payload, ())`` or ``(None, problems)`` — never raises."""
    try:
        return _read(data), ()
    except PayloadError as exc:
        return None, exc.problems
    except Exception as exc:  # a hostile payload must get an answer, never a traceback
        return None, (Problem("", f"no se pudo leer el documento ({type(exc).__name__}); revise su estructura"),)


def require_payload(data: object) -> Payload:
    """Like :func:`read_payload`, raising PayloadError with every problem."""
    payload, problems = read_payload(data)
    if payload is None:
        raise PayloadError(problems)
    return payload
