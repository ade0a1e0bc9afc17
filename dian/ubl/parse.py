"""Parse DIAN UBL 2.1 documents (Invoice, CreditNote, DebitNote, AttachedDocument, ApplicationResponse) into the
frozen dataclasses of ``dian.ubl.model``.

Liberal in what real documents vary on (dian-facts.md 3.1): elements are located by name, never by position; the
IssueTime offset may be missing; the sts namespace has two spellings; InvoiceTypeCode is absent on notes. A missing
mandatory element raises ParseError naming its path.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from lxml import etree

from dian.codes import DocumentType, Environment, PaymentMeans
from dian.errors import ParseError, UnsupportedTypeError
from dian.ubl import namespaces as ns
from dian.ubl.model import (
    Address,
    ApplicationResponse,
    AttachedDocument,
    BillingReference,
    CommercialDocument,
    DiscrepancyResponse,
    DocumentReference,
    InvoiceControl,
    ItemCode,
    Line,
    LineResponse,
    MonetaryTotal,
    Party,
    Person,
    Response,
    TaxSubtotal,
    TaxTotal,
)
from dian.xmlsafe import parse_xml

__all__ = ["BOGOTA", "Document", "attached_payloads", "parse_document", "parse_time"]

Document = CommercialDocument | AttachedDocument | ApplicationResponse
_T = TypeVar("_T")

# Colombia has no daylight saving time: America/Bogota is always UTC-05:00.
BOGOTA = timezone(timedelta(hours=-5))

# [0-9], never \d: \d also matches Arabic-Indic, Devanagari and other Unicode digits, which int() and Decimal() then
# read as numbers (issue 14). Dates, times, numbers and identifiers are ASCII in every DIAN document.
_TIME = re.compile(r"^([0-9]{2})[:-]([0-9]{2})[:-]([0-9]{2})(?:\.([0-9]{1,9}))?(Z|[+-][0-9]{2}:?[0-9]{2})?$")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_TRAILING_DIGITS = re.compile(r"^(.*?)([0-9]+)$")
# Years a DIAN document can mean (electronic invoicing began in 2019; references may be older). Outside them a date is
# refused, so that no later arithmetic on it (a claim window, a time zone) can leave the calendar.
_YEARS = range(1900, 3000)
_XML_WS = " \t\r\n"
_XML_WS_BYTES = b" \t\r\n"
_CDATA_OPEN = b"<![CDATA["
_CDATA_CLOSE = b"]]>"
_UTF8_NAMES = frozenset({None, "", "utf-8", "utf8", "us-ascii", "ascii"})


# Prefixes of the element paths records are written in; "sts" is bound per record to the spelling the document uses.
_PREFIXES = {"cac": ns.CAC, "cbc": ns.CBC, "ext": ns.EXT}
_Fields = dict[str, Any]  # a record's reading: text (str or None) per field, a list of elements per collected path

# What a record does at an element its paths reach (see _Record): read its text, one of its attributes, note that it
# is there, count it, or hand it back in a list.
_TEXT, _ATTRIBUTE, _FLAG, _COUNT, _COLLECT = range(5)
# Element name -> (the trie below it, text fields, (attribute field, attribute name) pairs, (kind, name) of the rest),
# or just the name of the one text field read there when nothing else is (most leaves: the walk's fast path).
_Trie = dict[Any, "str | tuple[_Trie, tuple[str, ...], tuple[tuple[str, str], ...], tuple[tuple[int, str], ...]]"]


def _string_value(element: etree._Element) -> str:
    """XPath's string(): the text of the element and its descendant elements, comments and PIs left out."""
    if len(element):
        return "".join(element.itertext())
    return element.text or ""


class _Record:
    """Many fields of one element read in one walk over the children its paths name.

    Each field is an element path relative to the element (``cac:A/cbc:B``), an attribute at its end
    (``cac:A/cbc:B/@schemeID``), or ``boolean(path)`` / ``count(path)``; and ``lists`` names paths whose elements are
    handed back in document order (lines, parties, tax totals) for their own records. A field reads as XPath's
    ``string()`` of that path would: the string value of the first element in document order (an attribute: the first
    one present), stripped of XML white space, None when empty. The paths are merged into one trie of element names,
    so one pass over the children they name, in document order, fills every field: no per-field XPath evaluation
    (which cost a document most of its parse), and nothing outside the paths (the ds:Signature) is visited.
    """

    __slots__ = ("_counts", "_initial", "_lists", "_trie", "names", "paths")

    def __init__(self, sts: str | None = None, *, lists: dict[str, str | tuple[str, ...]] | None = None,
                 **paths: str) -> None:  # fmt: skip
        self.names = tuple(paths)
        self.paths = paths
        prefixes = dict(_PREFIXES, sts=sts) if sts else _PREFIXES
        trie: dict[Any, list[Any]] = {}
        initial: dict[str, Any] = {}
        for name, path in paths.items():
            kind = _TEXT
            if path.startswith("boolean(") and path.endswith(")"):
                kind, path = _FLAG, path[len("boolean(") : -1]
                initial[name] = "false"
            elif path.startswith("count(") and path.endswith(")"):
                kind, path = _COUNT, path[len("count(") : -1]
                initial[name] = 0
            else:
                initial[name] = None
            steps = path.split("/")
            attribute = None
            if steps[-1].startswith("@"):
                if kind != _TEXT:
                    raise ValueError(f"an attribute path reads as text only: {path}")
                kind, attribute = _ATTRIBUTE, steps.pop()[1:]
            self._insert(trie, steps, (kind, name, attribute), prefixes)
        self._lists = tuple((lists or {}).keys())
        for name, spec in (lists or {}).items():
            for path in (spec,) if isinstance(spec, str) else spec:
                self._insert(trie, path.split("/"), (_COLLECT, name, None), prefixes)
        self._initial = initial
        self._counts = tuple(name for name, value in initial.items() if value == 0)
        self._trie = self._freeze(trie)

    @staticmethod
    def _insert(trie: dict[Any, list[Any]], steps: list[str], action: tuple[int, str, str | None],
                prefixes: dict[str, str]) -> None:  # fmt: skip
        node = trie
        for index, step in enumerate(steps):
            if step.startswith("{"):  # already {namespace}local
                tag = step
            else:
                prefix, _, local = step.partition(":")
                tag = f"{{{prefixes[prefix]}}}{local}"
            entry = node.setdefault(tag, [{}, []])
            if index == len(steps) - 1:
                entry[1].append(action)
            node = entry[0]

    @classmethod
    def _freeze(cls, trie: dict[Any, list[Any]]) -> _Trie:
        frozen: _Trie = {}
        for tag, (children, actions) in trie.items():
            texts = tuple(name for kind, name, _ in actions if kind == _TEXT)
            attributes = tuple((name, attribute) for kind, name, attribute in actions if kind == _ATTRIBUTE)
            rest = tuple((kind, name) for kind, name, _ in actions if kind not in (_TEXT, _ATTRIBUTE))
            if not children and len(texts) == 1 and not attributes and not rest:
                frozen[tag] = texts[0]
            else:
                frozen[tag] = (cls._freeze(children), texts, attributes, rest)
        return frozen

    def __call__(self, element: etree._Element) -> _Fields:
        fields: _Fields = dict(self._initial)
        for name in self._lists:
            fields[name] = []
        _walk(element, self._trie, fields, set())
        for name in self._counts:  # as XPath writes a number
            fields[name] = str(fields[name])
        return fields

    def need(self, fields: _Fields, name: str, where: str) -> str:
        """The value of a mandatory field, or ParseError naming its element path."""
        value = fields[name]
        if value is None:
            path = self.paths[name]
            raise ParseError(f"falta el elemento obligatorio {path}", where=f"{where}/{path}")
        return value


def _walk(element: etree._Element, trie: _Trie, fields: _Fields, seen: set[str]) -> None:
    """One pre-order pass (document order) over the children of ``element`` that ``trie`` names; ``seen`` holds the
    text and attribute fields read already (the first in document order counts)."""
    for child in element:
        entry = trie.get(child.tag)
        if entry is None:  # an element no path names, a comment or a processing instruction
            continue
        if entry.__class__ is str:  # a leaf of one text field
            if entry not in seen:
                seen.add(entry)  # type: ignore[arg-type]
                text = "".join(child.itertext()) if len(child) else child.text
                fields[entry] = text.strip(_XML_WS) or None if text else None  # type: ignore[index]
            continue
        below, texts, attributes, rest = entry  # type: ignore[misc]
        for name in texts:
            if name not in seen:
                seen.add(name)
                fields[name] = _string_value(child).strip(_XML_WS) or None
        for name, attribute in attributes:
            if name not in seen:
                value = child.get(attribute)
                if value is not None:
                    seen.add(name)
                    fields[name] = value.strip(_XML_WS) or None
        for kind, name in rest:
            if kind == _COLLECT:
                fields[name].append(child)
            elif kind == _FLAG:
                fields[name] = "true"
            else:
                fields[name] += 1
        if below:
            _walk(child, below, fields, seen)


def _decimal(value: str | None, where: str) -> Decimal | None:
    if value is None:
        return None
    # Decimal() also reads Unicode digits and "1_000": an xs:decimal is neither.
    if not value.isascii() or "_" in value:
        raise ParseError(f"no es un valor numérico válido: {value!r}", where=where)
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise ParseError(f"no es un valor numérico válido: {value!r}", where=where) from None
    if not result.is_finite():
        raise ParseError(f"no es un valor finito: {value!r}", where=where)
    return result


def _amount(record: _Record, fields: _Fields, name: str, where: str) -> Decimal | None:
    return _decimal(fields[name], f"{where}/{record.paths[name]}")


def _req_amount(record: _Record, fields: _Fields, name: str, where: str) -> Decimal:
    return _decimal(record.need(fields, name, where), f"{where}/{record.paths[name]}")  # type: ignore[return-value]


def _date(value: str | None, where: str) -> date | None:
    if value is None:
        return None
    # xs:date may carry a zone suffix ("2025-04-04-05:00"); the calendar date is the first ten characters.
    if _DATE.match(value) is None:
        raise ParseError(f"no es una fecha (AAAA-MM-DD): {value!r}", where=where)
    try:
        result = date.fromisoformat(value[:10])
    except ValueError:
        raise ParseError(f"no es una fecha válida: {value!r}", where=where) from None
    if result.year not in _YEARS:
        raise ParseError(f"fecha fuera de rango ({_YEARS[0]} a {_YEARS[-1]}): {value!r}", where=where)
    return result


def _day(record: _Record, fields: _Fields, name: str, where: str) -> date | None:
    return _date(fields[name], f"{where}/{record.paths[name]}")


def parse_time(value: str, *, where: str = "cbc:IssueTime") -> tuple[time, bool]:
    """Parse an xs:time as DIAN writes it; return an aware time and whether -05:00 had to be assumed."""
    match = _TIME.match(value.strip(_XML_WS))
    if match is None:
        raise ParseError(f"no es una hora válida: {value!r}", where=where)
    hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or "0").ljust(6, "0")[:6])
    if zone is None:
        # Real files sometimes omit the offset (dian-facts.md 3.1); DIAN documents are written in Colombian time.
        tz, assumed = BOGOTA, True
    elif zone == "Z":
        tz, assumed = UTC, False
    else:
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:])
        # xs:time offsets run from -14:00 to +14:00; timezone() itself refuses ±24:00 with a ValueError.
        if hours > 14 or minutes > 59 or (hours == 14 and minutes):
            raise ParseError(f"no es una hora válida: {value!r} (desfase UTC fuera de rango)", where=where)
        tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
        assumed = False
    try:
        return time(int(hour), int(minute), int(second), micro, tzinfo=tz), assumed
    except ValueError:
        raise ParseError(f"no es una hora válida: {value!r}", where=where) from None


def _issued(record: _Record, fields: _Fields, where: str) -> tuple[date, str, datetime, bool]:
    issue_date = _date(record.need(fields, "issue_date", where), f"{where}/cbc:IssueDate")
    issue_time = record.need(fields, "issue_time", where)
    parsed, assumed = parse_time(issue_time, where=f"{where}/cbc:IssueTime")
    assert issue_date is not None
    return issue_date, issue_time, datetime.combine(issue_date, parsed), assumed


def _environment(value: str | None, where: str) -> Environment | None:
    if value is None:
        return None
    try:
        return Environment(value)
    except ValueError:
        raise ParseError(
            f"ambiente desconocido {value!r} (1 producción, 2 pruebas)", where=f"{where}/cbc:ProfileExecutionID"
        ) from None


def _own_text(found: list[etree._Element]) -> str | None:
    """The first element's own text (before any child), stripped; None when there is none or it is blank."""
    return (found[0].text or "").strip(_XML_WS) or None if found else None


def _notes(notes: list[etree._Element]) -> tuple[str, ...]:
    """The cbc:Note texts as written (their first text node), blank ones left out."""
    return tuple(note.text for note in notes if note.text and note.text.strip(_XML_WS))


# Fields every root carries (dian-facts.md 2.5, 3.1).
_HEADER_PATHS = {
    "number": "cbc:ID",
    "uuid": "cbc:UUID",
    "uuid_scheme": "cbc:UUID/@schemeName",
    "environment": "cbc:ProfileExecutionID",
    "customization_id": "cbc:CustomizationID",
    "profile_id": "cbc:ProfileID",
    "issue_date": "cbc:IssueDate",
    "issue_time": "cbc:IssueTime",
}


# --- parties -----------------------------------------------------------------------------------------------------

_PARTY = _Record(
    tax_id="cac:PartyTaxScheme/cbc:CompanyID",
    tax_dv="cac:PartyTaxScheme/cbc:CompanyID/@schemeID",
    tax_scheme="cac:PartyTaxScheme/cbc:CompanyID/@schemeName",
    legal_id="cac:PartyLegalEntity/cbc:CompanyID",
    legal_dv="cac:PartyLegalEntity/cbc:CompanyID/@schemeID",
    legal_scheme="cac:PartyLegalEntity/cbc:CompanyID/@schemeName",
    ident_id="cac:PartyIdentification/cbc:ID",
    ident_dv="cac:PartyIdentification/cbc:ID/@schemeID",
    ident_scheme="cac:PartyIdentification/cbc:ID/@schemeName",
    registration_name="cac:PartyTaxScheme/cbc:RegistrationName",
    legal_name="cac:PartyLegalEntity/cbc:RegistrationName",
    trade_name="cac:PartyName/cbc:Name",
    levels="cac:PartyTaxScheme/cbc:TaxLevelCode",
    tax_scheme_id="cac:PartyTaxScheme/cac:TaxScheme/cbc:ID",
    tax_scheme_name="cac:PartyTaxScheme/cac:TaxScheme/cbc:Name",
    email="cac:Contact/cbc:ElectronicMail",
    phone="cac:Contact/cbc:Telephone",
    has_registration_address="boolean(cac:PartyTaxScheme/cac:RegistrationAddress)",
    reg_city="cac:PartyTaxScheme/cac:RegistrationAddress/cbc:CityName",
    reg_city_code="cac:PartyTaxScheme/cac:RegistrationAddress/cbc:ID",
    reg_department="cac:PartyTaxScheme/cac:RegistrationAddress/cbc:CountrySubentity",
    reg_department_code="cac:PartyTaxScheme/cac:RegistrationAddress/cbc:CountrySubentityCode",
    reg_country="cac:PartyTaxScheme/cac:RegistrationAddress/cac:Country/cbc:IdentificationCode",
    reg_line="cac:PartyTaxScheme/cac:RegistrationAddress/cac:AddressLine/cbc:Line",
    has_physical_address="boolean(cac:PhysicalLocation/cac:Address)",
    phys_city="cac:PhysicalLocation/cac:Address/cbc:CityName",
    phys_city_code="cac:PhysicalLocation/cac:Address/cbc:ID",
    phys_department="cac:PhysicalLocation/cac:Address/cbc:CountrySubentity",
    phys_department_code="cac:PhysicalLocation/cac:Address/cbc:CountrySubentityCode",
    phys_country="cac:PhysicalLocation/cac:Address/cac:Country/cbc:IdentificationCode",
    phys_line="cac:PhysicalLocation/cac:Address/cac:AddressLine/cbc:Line",
)


def _party(party: etree._Element, where: str, organization_type: str | None = None) -> Party:
    f = _PARTY(party)
    # The NIT lives in PartyTaxScheme; fall back to PartyLegalEntity, then PartyIdentification.
    for key in ("tax", "legal", "ident"):
        if f[f"{key}_id"] is not None:
            nit, dv, scheme = f[f"{key}_id"], f[f"{key}_dv"], f[f"{key}_scheme"]
            break
    else:
        raise ParseError(
            "falta el elemento obligatorio cac:PartyTaxScheme/cbc:CompanyID", where=f"{where}/cac:PartyTaxScheme"
        )
    address = None
    for key in ("reg", "phys"):
        flag = "has_registration_address" if key == "reg" else "has_physical_address"
        if f[flag] == "true":
            address = Address(
                city=f[f"{key}_city"],
                city_code=f[f"{key}_city_code"],
                department=f[f"{key}_department"],
                department_code=f[f"{key}_department_code"],
                country=f[f"{key}_country"],
                line=f[f"{key}_line"],
            )
            break
    return Party(
        nit=nit,  # type: ignore[arg-type]
        registration_name=f["registration_name"] or f["legal_name"],
        dv=dv,
        id_scheme=scheme,
        trade_name=f["trade_name"],
        tax_level_codes=tuple(code.strip() for code in (f["levels"] or "").split(";") if code.strip()),
        tax_scheme_id=f["tax_scheme_id"],
        tax_scheme_name=f["tax_scheme_name"],
        address=address,
        email=f["email"],
        phone=f["phone"],
        organization_type=organization_type,
    )


def _required_party(found: list[etree._Element], path: str, where: str, organization_type: str | None = None) -> Party:
    """The first party element found at ``path`` (a record's list), or ParseError naming the path."""
    if not found:
        raise ParseError(f"falta el elemento obligatorio {path}", where=f"{where}/{path}")
    return _party(found[0], f"{where}/{path}", organization_type)


_PERSON = _Record(
    id="cbc:ID",
    id_type="cbc:ID/@schemeName",
    dv="cbc:ID/@schemeID",
    first_name="cbc:FirstName",
    family_name="cbc:FamilyName",
    job_title="cbc:JobTitle",
    department="cbc:OrganizationDepartment",
)


def _person(element: etree._Element | None, where: str) -> Person | None:
    if element is None:
        return None
    f = _PERSON(element)
    return Person(
        id=_PERSON.need(f, "id", where),
        first_name=f["first_name"] or "",
        family_name=f["family_name"] or "",
        id_type=f["id_type"] or "",
        dv=f["dv"],
        job_title=f["job_title"],
        department=f["department"],
    )


# --- DIAN extensions ---------------------------------------------------------------------------------------------

# Where a root carries sts:DianExtensions, in either sts spelling: a list path of the root's record.
_DIAN_EXTENSIONS = tuple(
    f"ext:UBLExtensions/ext:UBLExtension/ext:ExtensionContent/{{{uri}}}DianExtensions"
    for uri in sorted(ns.STS_NAMESPACES)
)


def _extension_record(sts: str) -> _Record:
    return _Record(
        sts=sts,
        provider_nit="sts:SoftwareProvider/sts:ProviderID",
        software_id="sts:SoftwareProvider/sts:SoftwareID",
        security_code="sts:SoftwareSecurityCode",
        qr_code="sts:QRCode",
        has_control="boolean(sts:InvoiceControl)",
        authorization="sts:InvoiceControl/sts:InvoiceAuthorization",
        start_date="sts:InvoiceControl/sts:AuthorizationPeriod/cbc:StartDate",
        end_date="sts:InvoiceControl/sts:AuthorizationPeriod/cbc:EndDate",
        prefix="sts:InvoiceControl/sts:AuthorizedInvoices/sts:Prefix",
        from_number="sts:InvoiceControl/sts:AuthorizedInvoices/sts:From",
        to_number="sts:InvoiceControl/sts:AuthorizedInvoices/sts:To",
    )


_EXTENSIONS = {sts: _extension_record(sts) for sts in ns.STS_NAMESPACES}


def _extensions(found: list[etree._Element], where: str) -> tuple[_Fields, InvoiceControl | None]:
    """Read sts:DianExtensions, found by name whatever its position and sts spelling (dian-facts.md 3.1, 8.7): the
    first of the root record's ``_DIAN_EXTENSIONS`` list."""
    if not found:
        return dict.fromkeys(_EXTENSIONS[ns.STS].names), None
    element = found[0]
    record = _EXTENSIONS[etree.QName(element).namespace]
    f = record(element)
    if f["has_control"] != "true":
        return f, None
    where = f"{where}/ext:UBLExtensions/…/sts:DianExtensions"

    def number(name: str) -> int | None:
        value = f[name]
        if value is None:
            return None
        if _INTEGER.fullmatch(value) is None:
            raise ParseError(f"no es un número: {value!r}", where=f"{where}/{record.paths[name]}")
        return int(value)

    control = InvoiceControl(
        authorization=f["authorization"] or "",
        start_date=_day(record, f, "start_date", where),
        end_date=_day(record, f, "end_date", where),
        prefix=f["prefix"],
        from_number=number("from_number"),
        to_number=number("to_number"),
    )
    return f, control


# --- taxes, lines, totals ----------------------------------------------------------------------------------------

_SUBTOTAL = _Record(
    scheme_id="cac:TaxCategory/cac:TaxScheme/cbc:ID",
    scheme_name="cac:TaxCategory/cac:TaxScheme/cbc:Name",
    amount="cbc:TaxAmount",
    taxable_amount="cbc:TaxableAmount",
    percent="cac:TaxCategory/cbc:Percent",
)


_TAX_TOTAL = _Record(lists={"subtotals": "cac:TaxSubtotal", "amount": "cbc:TaxAmount"})


def _tax_total(element: etree._Element, where: str) -> TaxTotal:
    subtotals = []
    sub_where = f"{where}/cac:TaxSubtotal"
    total = _TAX_TOTAL(element)
    for sub in total["subtotals"]:
        f = _SUBTOTAL(sub)
        subtotals.append(
            TaxSubtotal(
                scheme_id=_SUBTOTAL.need(f, "scheme_id", sub_where),
                scheme_name=f["scheme_name"],
                amount=_req_amount(_SUBTOTAL, f, "amount", sub_where),
                taxable_amount=_amount(_SUBTOTAL, f, "taxable_amount", sub_where),
                percent=_amount(_SUBTOTAL, f, "percent", sub_where),
            )
        )
    value = _own_text(total["amount"])
    if not value:
        raise ParseError("falta el elemento obligatorio cbc:TaxAmount", where=f"{where}/cbc:TaxAmount")
    return TaxTotal(amount=_decimal(value, f"{where}/cbc:TaxAmount"), subtotals=tuple(subtotals))  # type: ignore[arg-type]


def _tax_totals(totals: list[etree._Element], name: str, where: str) -> tuple[TaxTotal, ...]:
    """The tax totals a record listed at ``name`` (cac:TaxTotal, cac:WithholdingTaxTotal)."""
    return tuple(_tax_total(total, f"{where}/{name}") for total in totals)


def _line_record(quantity: str) -> _Record:
    return _Record(
        lists={"taxes": "cac:TaxTotal", "withholdings": "cac:WithholdingTaxTotal"},
        id="cbc:ID",
        quantity=quantity,
        unit_code=f"{quantity}/@unitCode",
        line_extension_amount="cbc:LineExtensionAmount",
        description="cac:Item/cbc:Description",
        unit_price="cac:Price/cbc:PriceAmount",
        base_quantity="cac:Price/cbc:BaseQuantity",
        standard="cac:Item/cac:StandardItemIdentification/cbc:ID",
        standard_scheme="cac:Item/cac:StandardItemIdentification/cbc:ID/@schemeID",
        sellers="cac:Item/cac:SellersItemIdentification/cbc:ID",
        sellers_scheme="cac:Item/cac:SellersItemIdentification/cbc:ID/@schemeID",
        buyers="cac:Item/cac:BuyersItemIdentification/cbc:ID",
        buyers_scheme="cac:Item/cac:BuyersItemIdentification/cbc:ID/@schemeID",
        # Most lines carry one TaxTotal with one subtotal: read it in the same call (fast path, see _line_taxes).
        tax_count="count(cac:TaxTotal)",
        tax_subtotal_count="count(cac:TaxTotal/cac:TaxSubtotal)",
        tax_amount="cac:TaxTotal/cbc:TaxAmount",
        tax_scheme_id="cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cac:TaxScheme/cbc:ID",
        tax_scheme_name="cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cac:TaxScheme/cbc:Name",
        tax_subtotal_amount="cac:TaxTotal/cac:TaxSubtotal/cbc:TaxAmount",
        tax_taxable_amount="cac:TaxTotal/cac:TaxSubtotal/cbc:TaxableAmount",
        tax_percent="cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:Percent",
    )


def _line_taxes(record: _Record, f: _Fields, where: str) -> tuple[TaxTotal, ...]:
    if f["tax_count"] == "0":
        return ()
    if f["tax_count"] != "1" or f["tax_subtotal_count"] != "1":
        return _tax_totals(f["taxes"], "cac:TaxTotal", where)
    subtotal = TaxSubtotal(
        scheme_id=record.need(f, "tax_scheme_id", where),
        scheme_name=f["tax_scheme_name"],
        amount=_req_amount(record, f, "tax_subtotal_amount", where),
        taxable_amount=_amount(record, f, "tax_taxable_amount", where),
        percent=_amount(record, f, "tax_percent", where),
    )
    return (TaxTotal(amount=_req_amount(record, f, "tax_amount", where), subtotals=(subtotal,)),)


# Document root local name -> (line element, quantity element, its record).
_LINES = {
    "Invoice": ("cac:InvoiceLine", _line_record("cbc:InvoicedQuantity")),
    "CreditNote": ("cac:CreditNoteLine", _line_record("cbc:CreditedQuantity")),
    "DebitNote": ("cac:DebitNoteLine", _line_record("cbc:DebitedQuantity")),
}


def _line(element: etree._Element, record: _Record, where: str) -> Line:
    f = record(element)
    codes = tuple(
        ItemCode(kind=kind, value=f[kind], scheme_id=f[f"{kind}_scheme"])  # type: ignore[arg-type]
        for kind in ("buyers", "sellers", "standard")  # the order of cac:Item in UBL 2.1
        if f[kind] is not None
    )
    return Line(
        id=record.need(f, "id", where),
        quantity=_req_amount(record, f, "quantity", where),
        unit_code=f["unit_code"],
        description=f["description"],
        line_extension_amount=_req_amount(record, f, "line_extension_amount", where),
        unit_price=_amount(record, f, "unit_price", where),
        base_quantity=_amount(record, f, "base_quantity", where),
        taxes=_line_taxes(record, f, where),
        withholdings=_tax_totals(f["withholdings"], "cac:WithholdingTaxTotal", where),
        item_codes=codes,
    )


# --- the three commercial documents ------------------------------------------------------------------------------


def _commercial_record(monetary: str) -> _Record:
    return _Record(
        lists={
            "extensions": _DIAN_EXTENSIONS,
            "supplier": "cac:AccountingSupplierParty/cac:Party",
            "customer": "cac:AccountingCustomerParty/cac:Party",
            "supplier_account": "cac:AccountingSupplierParty/cbc:AdditionalAccountID",
            "customer_account": "cac:AccountingCustomerParty/cbc:AdditionalAccountID",
            **{name: line for name, (line, _) in _LINES.items()},
            "tax_totals": "cac:TaxTotal",
            "withholdings": "cac:WithholdingTaxTotal",
            "billing": "cac:BillingReference/cac:InvoiceDocumentReference",
            "notes": "cbc:Note",
        },
        **_HEADER_PATHS,
        type_code="cbc:InvoiceTypeCode",
        note_type_code="cbc:CreditNoteTypeCode",
        due_date="cbc:DueDate",
        currency="cbc:DocumentCurrencyCode",
        payment_means="cac:PaymentMeans/cbc:ID",
        payment_method_code="cac:PaymentMeans/cbc:PaymentMeansCode",
        payment_due_date="cac:PaymentMeans/cbc:PaymentDueDate",
        order_reference="cac:OrderReference/cbc:ID",
        has_totals=f"boolean({monetary})",
        line_extension=f"{monetary}/cbc:LineExtensionAmount",
        payable=f"{monetary}/cbc:PayableAmount",
        tax_exclusive=f"{monetary}/cbc:TaxExclusiveAmount",
        tax_inclusive=f"{monetary}/cbc:TaxInclusiveAmount",
        allowance_total=f"{monetary}/cbc:AllowanceTotalAmount",
        charge_total=f"{monetary}/cbc:ChargeTotalAmount",
        prepaid=f"{monetary}/cbc:PrepaidAmount",
        has_discrepancy="boolean(cac:DiscrepancyResponse)",
        discrepancy_reference="cac:DiscrepancyResponse/cbc:ReferenceID",
        discrepancy_code="cac:DiscrepancyResponse/cbc:ResponseCode",
        discrepancy_description="cac:DiscrepancyResponse/cbc:Description",
        has_billing="boolean(cac:BillingReference)",
    )


# DebitNote carries RequestedMonetaryTotal instead of LegalMonetaryTotal (radian-issuing-facts B.4).
_COMMERCIAL = {
    "cac:LegalMonetaryTotal": _commercial_record("cac:LegalMonetaryTotal"),
    "cac:RequestedMonetaryTotal": _commercial_record("cac:RequestedMonetaryTotal"),
}

_BILLING = _Record(number="cbc:ID", uuid="cbc:UUID", uuid_scheme="cbc:UUID/@schemeName", issue_date="cbc:IssueDate")


def _document_type(code: str | None, local: str, where: str, note_code: str | None = None) -> DocumentType:
    if local == "CreditNote":
        if note_code == DocumentType.SUPPORT_ADJUSTMENT.value:  # the adjustment note to a documento soporte (C.4)
            return DocumentType.SUPPORT_ADJUSTMENT
        return DocumentType.CREDIT_NOTE  # CreditNoteTypeCode is optional and often absent (dian-facts.md 3.1)
    if local == "DebitNote":
        return DocumentType.DEBIT_NOTE
    code = code or DocumentType.INVOICE.value
    try:
        document_type = DocumentType(code)
    except ValueError:
        raise UnsupportedTypeError(
            f"tipo de documento {code!r} no admitido: Buzón lee facturas electrónicas de venta (tipos 01 a 04), sus "
            "notas y documentos soporte",
            where=f"{where}/cbc:InvoiceTypeCode",
        ) from None
    if not (document_type.is_invoice or document_type is DocumentType.SUPPORT_DOCUMENT):
        raise ParseError(f"el tipo {code!r} es de una nota, no de una factura", where=f"{where}/cbc:InvoiceTypeCode")
    return document_type


def _prefix(number: str, control: InvoiceControl | None) -> str:
    # The numbering range's prefix when the number carries it; otherwise everything before the trailing digits.
    if control is not None and control.prefix and number.startswith(control.prefix):
        return control.prefix
    match = _TRAILING_DIGITS.match(number)
    return match.group(1) if match else ""


def _billing_references(found: list[etree._Element], where: str) -> tuple[BillingReference, ...]:
    where = f"{where}/cac:BillingReference/cac:InvoiceDocumentReference"
    references = []
    for reference in found:
        f = _BILLING(reference)
        references.append(
            BillingReference(
                number=_BILLING.need(f, "number", where),
                uuid=f["uuid"],
                uuid_scheme=f["uuid_scheme"],
                issue_date=_day(_BILLING, f, "issue_date", where),
            )
        )
    return tuple(references)


_PAYMENT_MEANS = frozenset(member.value for member in PaymentMeans)


def _commercial(root: etree._Element, local: str) -> CommercialDocument:
    where = local
    record = _COMMERCIAL["cac:LegalMonetaryTotal"]
    f = record(root)
    if f["has_totals"] != "true":
        alternative = _COMMERCIAL["cac:RequestedMonetaryTotal"]
        g = alternative(root)
        if g["has_totals"] == "true":
            record, f = alternative, g
    if f["has_totals"] != "true":
        name = "cac:RequestedMonetaryTotal" if local == "DebitNote" else "cac:LegalMonetaryTotal"
        raise ParseError(f"falta el elemento obligatorio {name}", where=f"{where}/{name}")
    ext, control = _extensions(f["extensions"], where)
    number = record.need(f, "number", where)
    issue_date, issue_time, issued_at, assumed = _issued(record, f, where)
    line_name, line_record = _LINES[local]
    means = f["payment_means"]
    return CommercialDocument(
        document_type=_document_type(f["type_code"], local, where, f["note_type_code"]),
        number=number,
        prefix=_prefix(number, control),
        uuid=record.need(f, "uuid", where),
        uuid_scheme=f["uuid_scheme"],
        environment=_environment(record.need(f, "environment", where), where),  # type: ignore[arg-type]
        customization_id=f["customization_id"],
        profile_id=f["profile_id"],
        issue_date=issue_date,
        issue_time=issue_time,
        issued_at=issued_at,
        offset_assumed=assumed,
        due_date=_day(record, f, "due_date", where) or _day(record, f, "payment_due_date", where),
        payment_means=PaymentMeans(means) if means in _PAYMENT_MEANS else None,
        payment_method_code=f["payment_method_code"],
        currency=f["currency"],
        supplier=_required_party(
            f["supplier"], "cac:AccountingSupplierParty/cac:Party", where, _own_text(f["supplier_account"])
        ),
        customer=_required_party(
            f["customer"], "cac:AccountingCustomerParty/cac:Party", where, _own_text(f["customer_account"])
        ),
        lines=tuple(
            _line(line, line_record, f"{where}/{line_name}[{index}]") for index, line in enumerate(f[local], start=1)
        ),
        tax_totals=_tax_totals(f["tax_totals"], "cac:TaxTotal", where),
        withholdings=_tax_totals(f["withholdings"], "cac:WithholdingTaxTotal", where),
        monetary_total=MonetaryTotal(
            line_extension=_req_amount(record, f, "line_extension", where),
            payable=_req_amount(record, f, "payable", where),
            tax_exclusive=_amount(record, f, "tax_exclusive", where),
            tax_inclusive=_amount(record, f, "tax_inclusive", where),
            allowance_total=_amount(record, f, "allowance_total", where),
            charge_total=_amount(record, f, "charge_total", where),
            prepaid=_amount(record, f, "prepaid", where),
        ),
        order_reference=f["order_reference"],
        billing_references=_billing_references(f["billing"], where) if f["has_billing"] == "true" else (),
        discrepancy_response=DiscrepancyResponse(
            reference_id=f["discrepancy_reference"],
            code=record.need(f, "discrepancy_code", where),
            description=f["discrepancy_description"],
        )
        if f["has_discrepancy"] == "true"
        else None,
        invoice_control=control,
        software_provider_nit=ext["provider_nit"],
        software_id=ext["software_id"],
        software_security_code=ext["security_code"],
        qr_code=ext["qr_code"],
        notes=_notes(f["notes"]),
    )


# --- ApplicationResponse -----------------------------------------------------------------------------------------

_APPLICATION_RESPONSE = _Record(
    lists={
        "extensions": _DIAN_EXTENSIONS,
        "blocks": "cac:DocumentResponse",
        "sender": "cac:SenderParty",
        "receiver": "cac:ReceiverParty",
        "notes": "cbc:Note",
    },
    **_HEADER_PATHS,
)
_DOCUMENT_RESPONSE = _Record(
    lists={"person": "cac:IssuerParty/cac:Person", "lines": "cac:LineResponse"},
    code="cac:Response/cbc:ResponseCode",
    list_id="cac:Response/cbc:ResponseCode/@listID",
    name="cac:Response/cbc:ResponseCode/@name",
    description="cac:Response/cbc:Description",
    has_reference="boolean(cac:DocumentReference)",
    reference_id="cac:DocumentReference/cbc:ID",
    reference_uuid="cac:DocumentReference/cbc:UUID",
    reference_uuid_scheme="cac:DocumentReference/cbc:UUID/@schemeName",
    reference_type_code="cac:DocumentReference/cbc:DocumentTypeCode",
    has_person="boolean(cac:IssuerParty/cac:Person)",
    has_lines="boolean(cac:LineResponse)",
)
_LINE_RESPONSE = _Record(
    line_id="cac:LineReference/cbc:LineID",
    code="cac:Response/cbc:ResponseCode",
    description="cac:Response/cbc:Description",
)


def _application_response(root: etree._Element) -> ApplicationResponse:
    where = "ApplicationResponse"
    f = _APPLICATION_RESPONSE(root)
    ext, _ = _extensions(f["extensions"], where)
    issue_date, issue_time, issued_at, assumed = _issued(_APPLICATION_RESPONSE, f, where)
    responses: list[Response] = []
    line_responses: list[LineResponse] = []
    reference = None
    person = None
    for index, block in enumerate(f["blocks"], start=1):
        block_where = f"{where}/cac:DocumentResponse[{index}]"
        b = _DOCUMENT_RESPONSE(block)
        responses.append(
            Response(
                code=_DOCUMENT_RESPONSE.need(b, "code", block_where),
                description=b["description"],
                list_id=b["list_id"],
                name=b["name"],
            )
        )
        if reference is None and b["has_reference"] == "true":
            reference = DocumentReference(
                id=_DOCUMENT_RESPONSE.need(b, "reference_id", block_where),
                uuid=b["reference_uuid"],
                uuid_scheme=b["reference_uuid_scheme"],
                type_code=b["reference_type_code"],
            )
        if person is None and b["has_person"] == "true":
            person = _person(b["person"][0], f"{block_where}/cac:IssuerParty/cac:Person")
        if b["has_lines"] == "true":
            for line in b["lines"]:
                g = _LINE_RESPONSE(line)
                line_responses.append(
                    LineResponse(
                        line_id=g["line_id"],
                        code=_LINE_RESPONSE.need(g, "code", f"{block_where}/cac:LineResponse"),
                        description=g["description"],
                    )
                )
    if not responses:
        raise ParseError("falta el elemento obligatorio cac:DocumentResponse", where=f"{where}/cac:DocumentResponse")
    return ApplicationResponse(
        id=_APPLICATION_RESPONSE.need(f, "number", where),
        uuid=f["uuid"],
        uuid_scheme=f["uuid_scheme"],
        environment=_environment(f["environment"], where),
        customization_id=f["customization_id"],
        profile_id=f["profile_id"],
        issue_date=issue_date,
        issue_time=issue_time,
        issued_at=issued_at,
        offset_assumed=assumed,
        sender=_required_party(f["sender"], "cac:SenderParty", where),
        receiver=_required_party(f["receiver"], "cac:ReceiverParty", where),
        responses=tuple(responses),
        document_reference=reference,
        line_responses=tuple(line_responses),
        notes=_notes(f["notes"]),
        issuer_person=person,
        software_provider_nit=ext["provider_nit"],
        software_id=ext["software_id"],
        software_security_code=ext["security_code"],
        qr_code=ext["qr_code"],
    )


# --- AttachedDocument --------------------------------------------------------------------------------------------


class _Payloads:
    """Cuts CDATA payloads out of the original bytes, in document order, checking each against the parsed text."""

    def __init__(self, root: etree._Element, source: bytes | None) -> None:
        encoding = root.getroottree().docinfo.encoding
        self._source = source if encoding is None or encoding.lower() in _UTF8_NAMES else None
        self._cursor = 0

    def take(self, element: etree._Element) -> tuple[bytes, bool]:
        """The payload's exact bytes and True, or its text re-encoded as UTF-8 and False when no source matches."""
        expected = (element.text or "").strip(_XML_WS).encode("utf-8")
        source = self._source
        if source is not None:
            position = self._cursor
            while (start := source.find(_CDATA_OPEN, position)) >= 0:
                end = source.find(_CDATA_CLOSE, start)
                if end < 0:
                    break
                raw = source[start + len(_CDATA_OPEN) : end].strip(_XML_WS_BYTES)
                # The parser normalised line ends (CRLF -> LF, XML 1.0 section 2.11); the raw slice keeps them. One
                # real DIAN answer in samples/ uses CRLF, so compare modulo line ends and return the raw slice.
                if raw == expected or raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n") == expected:
                    self._cursor = end + len(_CDATA_CLOSE)
                    return raw, True
                position = end + len(_CDATA_CLOSE)
        # No source bytes (an element was given), or the payload was escaped text / split CDATA: re-encode the text.
        return expected, False


_PAYLOAD = "cac:Attachment/cac:ExternalReference/cbc:Description"
_LINE_REFERENCE = "cac:ParentDocumentLineReference/cac:DocumentReference"
_ATTACHED = _Record(
    lists={
        "document": _PAYLOAD,
        "answer": f"{_LINE_REFERENCE}/{_PAYLOAD}",
        "sender": "cac:SenderParty",
        "receiver": "cac:ReceiverParty",
    },
    **_HEADER_PATHS,
    document_type_text="cbc:DocumentType",
    parent_document_id="cbc:ParentDocumentID",
    reference_id=f"{_LINE_REFERENCE}/cbc:ID",
    reference_uuid=f"{_LINE_REFERENCE}/cbc:UUID",
    reference_uuid_scheme=f"{_LINE_REFERENCE}/cbc:UUID/@schemeName",
    reference_issue_date=f"{_LINE_REFERENCE}/cbc:IssueDate",
    validator_id=f"{_LINE_REFERENCE}/cac:ResultOfVerification/cbc:ValidatorID",
    validation_result_code=f"{_LINE_REFERENCE}/cac:ResultOfVerification/cbc:ValidationResultCode",
    validation_date=f"{_LINE_REFERENCE}/cac:ResultOfVerification/cbc:ValidationDate",
    validation_time=f"{_LINE_REFERENCE}/cac:ResultOfVerification/cbc:ValidationTime",
)


def _lenient(read: Callable[[], _T]) -> _T | None:
    """What ``read`` returns, or None when it raises ParseError: for fields no signature covers."""
    try:
        return read()
    except ParseError:
        return None


_ATTACHED_PAYLOADS = _Record(lists={"document": _PAYLOAD, "answer": f"{_LINE_REFERENCE}/{_PAYLOAD}"})


def attached_payloads(root: etree._Element, source: bytes | None = None) -> tuple[bytes, bytes | None, bool]:
    """What an AttachedDocument carries — the signed document's bytes, DIAN's answer's (or None) and whether both are
    the exact bytes of ``source`` — without reading the container's own fields (unsigned: for display only), which
    ``parse_document`` reads as well. ParseError when the document is missing, as ``parse_document`` says it."""
    return _payloads(root, source, _ATTACHED_PAYLOADS(root))


def _payloads(root: etree._Element, source: bytes | None, f: _Fields) -> tuple[bytes, bytes | None, bool]:
    description = f["document"][0] if f["document"] else None
    if description is None or not (description.text or "").strip(_XML_WS):
        raise ParseError(f"falta el elemento obligatorio {_PAYLOAD}", where=f"AttachedDocument/{_PAYLOAD}")
    payloads = _Payloads(root, source)
    document_xml, exact = payloads.take(description)
    answer_xml = None
    answer = f["answer"][0] if f["answer"] else None
    if answer is not None and (answer.text or "").strip(_XML_WS):
        answer_xml, answer_exact = payloads.take(answer)
        exact = exact and answer_exact
    return document_xml, answer_xml, exact


def _attached(root: etree._Element, source: bytes | None) -> AttachedDocument:
    """Read a container liberally: its own fields are not signed, so only a missing embedded document is fatal.

    The signed document inside (and DIAN's signed answer) decide everything; a container written sloppily (a
    ParentDocumentLineReference/IssueDate of "12/07/2022", no cbc:ID, no parties) still yields both payloads, and
    each unreadable container field becomes None (issue 14).
    """
    where = "AttachedDocument"
    f = _ATTACHED(root)
    document_xml, answer_xml, exact = _payloads(root, source, f)
    issue_date = _lenient(lambda: _day(_ATTACHED, f, "issue_date", where))
    issue_time = f["issue_time"]
    clock = _lenient(lambda: parse_time(issue_time, where=f"{where}/cbc:IssueTime")) if issue_time else None
    issued_at = datetime.combine(issue_date, clock[0]) if issue_date is not None and clock is not None else None
    return AttachedDocument(
        id=f["number"],
        customization_id=f["customization_id"],
        profile_id=f["profile_id"],
        environment=_lenient(lambda: _environment(f["environment"], where)),
        issue_date=issue_date,
        issue_time=issue_time,
        issued_at=issued_at,
        offset_assumed=clock[1] if clock is not None else False,
        document_type_text=f["document_type_text"],
        parent_document_id=f["parent_document_id"],
        sender=_lenient(lambda: _required_party(f["sender"], "cac:SenderParty", where)),
        receiver=_lenient(lambda: _required_party(f["receiver"], "cac:ReceiverParty", where)),
        document_xml=document_xml,
        dian_response_xml=answer_xml,
        exact_bytes=exact,
        reference_id=f["reference_id"],
        reference_uuid=f["reference_uuid"],
        reference_uuid_scheme=f["reference_uuid_scheme"],
        reference_issue_date=_lenient(lambda: _day(_ATTACHED, f, "reference_issue_date", where)),
        validator_id=f["validator_id"],
        validation_result_code=f["validation_result_code"],
        validation_date=_lenient(lambda: _day(_ATTACHED, f, "validation_date", where)),
        validation_time=f["validation_time"],
    )


# --- entry point -------------------------------------------------------------------------------------------------


def parse_document(xml: bytes | etree._Element | etree._ElementTree, *, source: bytes | None = None) -> Document:
    """Parse a DIAN document from bytes or an already-parsed lxml element; dispatch on the root's name."""
    if isinstance(xml, bytes | bytearray | memoryview):
        source = bytes(xml)
        root = parse_xml(source)
    elif isinstance(xml, etree._ElementTree):
        root = xml.getroot()
    elif isinstance(xml, etree._Element):
        # The signature verifier hands over the element its signature covers: every field is read from it.
        # ``source`` (the bytes it was parsed from) only serves to cut exact CDATA payloads out of an AttachedDocument.
        root = xml
    else:
        raise ParseError(f"se esperaban los bytes de un XML o un elemento lxml, no {type(xml).__name__}")
    tag = root.tag
    if not isinstance(tag, str):
        raise ParseError("no es un documento de la DIAN: la raíz no es un elemento")
    namespace, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    if ns.ROOT_NAMESPACES.get(local) != namespace:
        raise ParseError(f"no es un documento de la DIAN: su raíz es {tag}")
    if local == "AttachedDocument":
        return _attached(root, source)
    if local == "ApplicationResponse":
        return _application_response(root)
    return _commercial(root, local)
