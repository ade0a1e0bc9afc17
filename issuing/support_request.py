"""One request to issue a documento soporte (05) or its adjustment note (95): the native JSON read with every problem
at once, each addressed by a JSON pointer with a Spanish sentence, like the invoices' (validation.py, request.py).

The shape is the invoice's with the roles inverted (radian-issuing-facts C.1): ``seller{}`` (the invoice's
``customer{}`` fields plus ``resident``, default true) instead of ``customer{}``; each line may carry
``withholdings[]`` (ReteIVA 05 on the line's IVA, ReteRenta 06 on its amount) and, on a 05, ``generation{mode,
start}`` (1 por operación, 2 acumulado semanal, C.3). A 95 carries ``reference{number, uuid, issue_date}`` (the DS and
its CUDS) and ``concept`` 1-5 (C.4). ``kind`` says which ("support_document" | "support_adjustment"); ``mail_seller``
asks for the PDF by mail to the seller. The common part is read by issuing.request.read_request, so quantities,
prices, rates, payment and totals are refused with the same words as an invoice's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from dian.codes import DocumentType
from dian.support import literals
from issuing.payload import InvoiceReference, Payload
from issuing.problems import PayloadError, Problem, pointer
from issuing.request import digest, read_request

__all__ = [
    "FOREIGN_ID_TYPES",
    "KINDS",
    "LineWithholding",
    "SupportRequest",
    "read_support_request",
    "require_support_request",
]

KINDS = {"support_document": DocumentType.SUPPORT_DOCUMENT, "support_adjustment": DocumentType.SUPPORT_ADJUSTMENT}
FOREIGN_ID_TYPES = frozenset({"41", "42", "50"})  # pasaporte, documento extranjero, NIT de otro país (C.1)
_WITHHOLDINGS = {"05": "ReteIVA", "06": "ReteRenta"}  # C.3: the DS's tax list is 01, 05, 06
_COMMON = {"payment", "currency", "exchange_rate", "notes", "order_reference", "totals", "number", "prefix",
           "resolution_number"}  # fmt: skip
_OWN = {"kind", "seller", "lines", "reference", "concept", "concept_description", "mail_seller"}
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_HEX96 = re.compile(r"^[0-9a-f]{96}$")
_NUMBER = re.compile(r"^[A-Za-z0-9-]{1,40}$")


@dataclass(frozen=True)
class LineWithholding:
    """A withholding on one line of a DS: ``scheme`` 05 (on the line's IVA) or 06 (on its amount) at ``rate`` %."""

    scheme: str
    rate: Decimal


@dataclass(frozen=True)
class SupportRequest:
    """A 05 or 95 to issue. ``payload`` is the invoice payload with the seller in ``customer`` (so totals.py computes
    it) and ``type`` 05/95; ``generations`` and ``withholdings`` are per line; ``data`` the JSON as sent."""

    payload: Payload
    data: Mapping[str, Any]
    resident: bool = True
    generations: tuple[tuple[str, date] | None, ...] = ()
    withholdings: tuple[tuple[LineWithholding, ...], ...] = ()
    mail_seller: bool = False
    number: int | None = None
    prefix: str | None = None
    resolution_number: str | None = None

    @property
    def kind(self) -> DocumentType:
        return self.payload.type

    @property
    def digest(self) -> str:
        return digest(self.data)

    def json_data(self) -> dict[str, Any]:
        import json

        return json.loads(json.dumps(self.data, ensure_ascii=False, default=str))


def _seller_pointer(problem: Problem) -> Problem:
    if problem.pointer.startswith("/customer"):
        return Problem("/seller" + problem.pointer[len("/customer") :], problem.message)
    return problem


def _day(value: object, where: str, problems: list[Problem]) -> date | None:
    if not isinstance(value, str) or not _DATE.match(value):
        problems.append(Problem(where, "se esperaba una fecha AAAA-MM-DD"))
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        problems.append(Problem(where, f"la fecha {value} no existe"))
        return None


def _rate(value: object, where: str, problems: list[Problem]) -> Decimal | None:
    text = str(value) if isinstance(value, int | str | Decimal) and not isinstance(value, bool) else ""
    try:
        rate = Decimal(text)
    except InvalidOperation:
        rate = None
    if rate is None or not rate.is_finite() or not 0 < rate <= 100 or rate.as_tuple().exponent < -4:  # type: ignore[operator]
        problems.append(Problem(where, "la tarifa es un porcentaje mayor que 0 y hasta 100, con hasta 4 decimales"))
        return None
    return rate


def _line_extras(
    kind: DocumentType, line: object, index: int, problems: list[Problem]
) -> tuple[dict[str, Any] | None, tuple[str, date] | None, tuple[LineWithholding, ...]]:
    """Split a line into its invoice part and what only a DS line carries."""
    if not isinstance(line, Mapping):
        return line, None, ()  # type: ignore[return-value]  # read_request says what is wrong with it
    where = pointer("lines", index)
    rest = {key: value for key, value in line.items() if key not in ("generation", "withholdings")}
    generation = None
    raw = line.get("generation")
    if kind is DocumentType.SUPPORT_DOCUMENT:
        if not isinstance(raw, Mapping):
            problems.append(Problem(where + "/generation", 'cada línea lleva su forma de generación: {"mode": '
                                    '"1" por operación o "2" acumulado semanal, "start": AAAA-MM-DD}'))  # fmt: skip
        else:
            mode = str(raw.get("mode", ""))
            if mode not in literals.GENERATION_MODES:
                problems.append(Problem(where + "/generation/mode", '"1" por operación o "2" acumulado semanal'))
            for key in sorted(str(k) for k in raw if k not in ("mode", "start")):
                problems.append(Problem(f"{where}/generation/{key}", "campo desconocido; revise el nombre"))
            start = _day(raw.get("start"), where + "/generation/start", problems)
            if mode in literals.GENERATION_MODES and start is not None:
                generation = (mode, start)
    elif raw is not None:
        problems.append(Problem(where + "/generation", "solo las líneas del documento soporte (05) la llevan"))
    taxes = line.get("taxes")
    for i, tax in enumerate(taxes if isinstance(taxes, list) else ()):
        if isinstance(tax, Mapping) and tax.get("scheme") not in (None, "01"):
            problems.append(Problem(pointer("lines", index, "taxes", i, "scheme"), "el documento soporte solo lleva "
                                    "IVA (01); las retenciones (05, 06) van en withholdings"))  # fmt: skip
    found: list[LineWithholding] = []
    items = line.get("withholdings") or []
    if items and kind is DocumentType.SUPPORT_ADJUSTMENT:
        problems.append(Problem(where + "/withholdings", "la nota de ajuste no lleva retenciones (van en el 05)"))
    elif not isinstance(items, list) or len(items) > 2:
        problems.append(Problem(where + "/withholdings", "una lista de hasta 2 retenciones (05 ReteIVA, 06 ReteRenta)"))
    else:
        for i, item in enumerate(items):
            at = pointer("lines", index, "withholdings", i)
            scheme = str(item.get("scheme", "")) if isinstance(item, Mapping) else ""
            if scheme not in _WITHHOLDINGS:
                problems.append(Problem(at + "/scheme", "retención 05 (ReteIVA) o 06 (ReteRenta)"))
                continue
            if any(w.scheme == scheme for w in found):
                problems.append(Problem(at + "/scheme", f"la retención {scheme} aparece dos veces en la línea"))
                continue
            rate = _rate(item.get("rate"), at + "/rate", problems)
            if rate is not None:
                found.append(LineWithholding(scheme, rate))
    return rest, generation, tuple(found)


def _reference(data: Mapping[str, Any], problems: list[Problem]) -> InvoiceReference | None:
    raw = data.get("reference")
    if not isinstance(raw, Mapping):
        problems.append(Problem("/reference", "la nota de ajuste referencia su documento soporte "
                                "(number, uuid: el CUDS, issue_date)"))  # fmt: skip
        return None
    number, uuid = raw.get("number"), raw.get("uuid")
    if not isinstance(number, str) or not _NUMBER.match(number):
        problems.append(Problem("/reference/number", "el número del documento soporte (prefijo y consecutivo)"))
    if not isinstance(uuid, str) or not _HEX96.match(uuid):
        problems.append(Problem("/reference/uuid", "el CUDS: 96 caracteres hexadecimales en minúscula"))
    issued = _day(raw.get("issue_date"), "/reference/issue_date", problems)
    if isinstance(number, str) and isinstance(uuid, str) and issued is not None:
        return InvoiceReference(number=number, uuid=uuid, issue_date=issued, uuid_scheme=literals.CUDS_SCHEME)
    return None


def read_support_request(data: object, kind: str | None = None) -> tuple[SupportRequest | None, tuple[Problem, ...]]:
    """Read a 05/95 request; ``kind`` is the endpoint's (the body's ``kind`` must then agree). Never raises."""
    try:
        return _read(data, kind), ()
    except PayloadError as exc:
        return None, exc.problems
    except Exception as exc:  # a hostile payload gets an answer, never a traceback
        return None, (Problem("", f"no se pudo leer el documento ({type(exc).__name__}); revise su estructura"),)


def require_support_request(data: object, kind: str | None = None) -> SupportRequest:
    request, problems = read_support_request(data, kind)
    if request is None:
        raise PayloadError(problems)
    return request


def _read(data: object, expected: str | None) -> SupportRequest:
    if not isinstance(data, Mapping):
        raise PayloadError([Problem("", "se esperaba un objeto JSON con el documento")])
    problems: list[Problem] = []
    given = data.get("kind", expected)
    if given not in KINDS:
        raise PayloadError([Problem("/kind", '"support_document" (documento soporte 05) o "support_adjustment" '
                                    "(nota de ajuste 95)")])  # fmt: skip
    if expected is not None and given != expected:
        problems.append(Problem("/kind", f"este servicio recibe {expected}, no {given}"))
    kind = KINDS[given]
    for key in sorted(str(k) for k in data if k not in _COMMON | _OWN):
        problems.append(Problem(pointer(key), "campo desconocido; revise el nombre"))
    seller = data.get("seller")
    resident = True
    if isinstance(seller, Mapping):
        resident = seller.get("resident", True)
        if not isinstance(resident, bool):
            problems.append(Problem("/seller/resident", "true (reside en Colombia) o false"))
            resident = True
        seller = {key: value for key, value in seller.items() if key != "resident"}
        if resident and not seller.get("address"):
            problems.append(Problem("/seller/address", "un vendedor residente lleva su dirección (operación 10)"))
        if not resident and str(seller.get("id_type")) not in FOREIGN_ID_TYPES:
            problems.append(Problem("/seller/id_type", "un vendedor no residente se identifica con 41 pasaporte, "
                                    "42 documento extranjero o 50 NIT de otro país"))  # fmt: skip
    elif seller is None:
        problems.append(Problem("/seller", "campo obligatorio: el vendedor no obligado a facturar"))
    lines, generations, withholdings = [], [], []
    raw_lines = data.get("lines")
    for index, line in enumerate(raw_lines if isinstance(raw_lines, list) else ()):
        rest, generation, held = _line_extras(kind, line, index, problems)
        lines.append(rest)
        generations.append(generation)
        withholdings.append(held)
    core = {key: data[key] for key in _COMMON if key in data}
    core.update(type="01", customer=seller, lines=lines if isinstance(raw_lines, list) else raw_lines)
    if kind is DocumentType.SUPPORT_ADJUSTMENT and "number" in data:
        problems.append(Problem("/number", "la nota de ajuste se numera en la serie propia"))
    request, common = read_request({k: v for k, v in core.items() if v is not None})
    problems.extend(_seller_pointer(p) for p in common)
    mail = data.get("mail_seller", False)
    if not isinstance(mail, bool):
        problems.append(Problem("/mail_seller", "true o false"))
    reference, concept = None, None
    if kind is DocumentType.SUPPORT_ADJUSTMENT:
        reference = _reference(data, problems)
        concept = str(data.get("concept", ""))
        if concept not in literals.ADJUSTMENT_CONCEPTS:
            problems.append(Problem("/concept", "el concepto de la nota de ajuste: " + "; ".join(
                f"{code} {text}" for code, text in literals.ADJUSTMENT_CONCEPTS.items())))  # fmt: skip
    else:
        for key in ("reference", "concept", "concept_description"):
            if key in data:
                problems.append(Problem(pointer(key), "solo la nota de ajuste (95) lleva este campo"))
    if request is not None:
        payload = request.payload
        customer = payload.customer
        if resident and customer.address is not None and customer.address.country != "CO":
            problems.append(Problem("/seller/address/country", "un vendedor residente tiene dirección en Colombia"))
    if problems or request is None:
        raise PayloadError(problems)
    payload = replace(request.payload, type=kind, reference=reference, concept=concept,
                      concept_description=data.get("concept_description") if concept else None)  # fmt: skip
    return SupportRequest(payload=payload, data=dict(data), resident=resident, generations=tuple(generations),
                          withholdings=tuple(withholdings), mail_seller=bool(mail), number=request.number,
                          prefix=request.prefix, resolution_number=request.resolution_number)  # fmt: skip
