"""Build unsigned DIAN UBL 2.1 documents that parse back to what was put in.

Every builder returns UTF-8 bytes with an XML declaration, not pretty-printed. Documents that DIAN signs carry in
``ext:UBLExtensions`` first ``sts:DianExtensions``, then one ``<ds:Signature Id="placeholder"/>`` that the signer
replaces (dian-facts.md 11). The prefixes ext, cbc, cac, ds, xades, xades141 and sts are declared on the root.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from lxml import etree

from dian.codes import (
    DIAN_DV,
    DIAN_NAME,
    DIAN_NIT,
    ClaimReason,
    DocumentType,
    Environment,
    EventCode,
    PaymentMeans,
    ValidationCode,
)
from dian.cufe import KeyFields, document_key_fields, event_cude, format_amount, sha384_hex, software_security_code
from dian.errors import BuildError
from dian.ubl import namespaces as ns
from dian.ubl.model import (
    BillingReference,
    DiscrepancyResponse,
    ItemCode,
    Line,
    LineResponse,
    MonetaryTotal,
    Party,
    Person,
    TaxSubtotal,
    TaxTotal,
)

__all__ = [
    "AdditionalReference",
    "AllowanceCharge",
    "AttachedDraft",
    "DocumentDraft",
    "DocumentKey",
    "DraftLine",
    "EventDraft",
    "ExchangeRate",
    "InvoicePeriod",
    "NumberingRange",
    "Software",
    "UnitTaxSubtotal",
    "ValidationDraft",
    "build_attached_document",
    "build_credit_note",
    "build_debit_note",
    "build_event",
    "build_invoice",
    "build_validation_response",
    "document_key",
    "qr_url",
]

_DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="no"?>'
_AGENCY_ID = "195"
_AGENCY_NAME = "CO, DIAN (Dirección de Impuestos y Aduanas Nacionales)"
_ISSUE_TIME = re.compile(r"^\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")
_PLACEHOLDER_ID = "placeholder"


# --- inputs ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Software:
    """The DIAN-registered software that issues a document (sts:SoftwareProvider, dian-facts.md 1.5)."""

    provider_nit: str
    provider_dv: str
    software_id: str
    pin: str


@dataclass(frozen=True)
class NumberingRange:
    """A DIAN numbering authorization, as GetNumberingRange returns it (radian-issuing-facts B.1)."""

    authorization: str
    start_date: date
    end_date: date
    prefix: str
    from_number: int
    to_number: int
    technical_key: str


@dataclass(frozen=True)
class AllowanceCharge:
    """cac:AllowanceCharge: a discount (charge False) or a surcharge, on a line or on the whole document.

    At document level DIAN treats them as outside the tax base: they only move PayableAmount (issuing/totals.py).
    """

    charge: bool
    amount: Decimal
    base_amount: Decimal | None = None
    percent: Decimal | None = None  # cbc:MultiplierFactorNumeric
    reason: str | None = None
    reason_code: str | None = None  # cbc:AllowanceChargeReasonCode (DIAN discount code, discounts only)


@dataclass(frozen=True)
class UnitTaxSubtotal(TaxSubtotal):
    """A per-unit tax (INC on plastic bags 22, fuels 24…): cbc:BaseUnitMeasure and cbc:PerUnitAmount (peers §2.3)."""

    per_unit_amount: Decimal | None = None
    base_unit_measure: Decimal | None = None
    unit_code: str | None = None  # BaseUnitMeasure/@unitCode


@dataclass(frozen=True)
class DraftLine(Line):
    """A line to build, with what the parsed Line does not carry: its discounts/charges and free-of-charge price."""

    allowance_charges: tuple[AllowanceCharge, ...] = ()
    free_of_charge: bool = False
    reference_price: Decimal | None = None  # PricingReference/AlternativeConditionPrice, required when free
    reference_price_type: str = "03"  # PriceTypeCode: 01 valor comercial, 02 inventarios, 03 otro valor


@dataclass(frozen=True)
class ExchangeRate:
    """cac:PaymentExchangeRate of a document in another currency: 1 unit of it = ``rate`` COP on ``date``."""

    rate: Decimal
    date: date
    target_currency: str = "COP"


@dataclass(frozen=True)
class InvoicePeriod:
    """cac:InvoicePeriod: the period a note without a referenced invoice covers (peers-wave2 §2.2, CAE02/CAE04)."""

    start_date: date
    end_date: date


@dataclass(frozen=True)
class AdditionalReference:
    """cac:AdditionalDocumentReference: type 03 names the paper invoice it transmits (radian-issuing-facts B.3)."""

    id: str
    issue_date: date
    type_code: str = "01"


@dataclass(frozen=True)
class DocumentKey:
    """A document's CUFE/CUDE with the exact text hashed into it and the QR text made from those same values."""

    value: str
    scheme: str  # "CUFE-SHA384" or "CUDE-SHA384"
    fields: KeyFields
    qr_text: str

    @property
    def hashed(self) -> str:
        """The text whose SHA-384 is the key (dian-facts.md 1.2)."""
        return self.fields.text()


@dataclass(frozen=True)
class DocumentDraft:
    """What an invoice, credit note or debit note says; the builder adds the DIAN extensions and the CUFE/CUDE."""

    number: str
    issue_date: date
    issue_time: str  # "HH:MM:SS-05:00": the literal enters the CUFE (dian-facts.md 1.2)
    environment: Environment
    supplier: Party
    customer: Party
    lines: tuple[Line, ...]
    monetary_total: MonetaryTotal
    tax_totals: tuple[TaxTotal, ...] = ()
    withholdings: tuple[TaxTotal, ...] = ()  # invoices only
    currency: str = "COP"
    document_type: DocumentType | None = None  # invoices: 01 (default), 02, 03, 04; notes: implied
    customization_id: str | None = None  # defaults: 10 invoice, 20 credit note, 30 debit note
    due_date: date | None = None
    payment_means: PaymentMeans = PaymentMeans.CASH
    payment_method_code: str = "10"  # efectivo (radian-issuing-facts B.5)
    notes: tuple[str, ...] = ()
    order_reference: str | None = None
    billing_references: tuple[BillingReference, ...] = ()  # notes: the corrected invoice(s)
    discrepancy_response: DiscrepancyResponse | None = None  # notes: the concept (radian-issuing-facts B.4)
    allowance_charges: tuple[AllowanceCharge, ...] = ()  # document level
    exchange_rate: ExchangeRate | None = None  # required when currency is not COP
    invoice_period: InvoicePeriod | None = None  # notes without a referenced invoice
    additional_references: tuple[AdditionalReference, ...] = ()  # type 03: the paper invoice


@dataclass(frozen=True)
class EventDraft:
    """An ApplicationResponse event 030-034 about an invoice (dian-facts.md 2.5)."""

    code: EventCode
    number: str
    issue_date: date
    issue_time: str
    environment: Environment
    sender: Party
    receiver: Party
    invoice_number: str
    invoice_cufe: str
    invoice_type_code: str = "01"
    person: Person | None = None  # 030 and 032 only
    claim_reason: ClaimReason | None = None  # 031 only
    notes: tuple[str, ...] = ()  # 034: the sworn statement (dian-facts.md 2.4)
    customization_id: str = "1"  # [?] dian-facts.md 8.1: "1" per DIAN's examples


@dataclass(frozen=True)
class ValidationDraft:
    """DIAN's own validation ApplicationResponse, 02 or 04 with notifications (dian-facts.md 3.2)."""

    number: str
    issue_date: date
    issue_time: str
    environment: Environment
    receiver: Party  # the issuer of the validated document
    document_number: str
    document_uuid: str
    document_uuid_scheme: str = "CUFE-SHA384"
    code: ValidationCode = ValidationCode.VALIDATED
    line_responses: tuple[LineResponse, ...] = ()
    uuid: str | None = None  # DIAN's own key is unknown; by default a SHA-384 over the answer's identity


@dataclass(frozen=True)
class AttachedDraft:
    """An AttachedDocument wrapping signed bytes and DIAN's answer in CDATA, exactly as given (dian-facts.md 3.1)."""

    id: str
    issue_date: date
    issue_time: str
    environment: Environment
    sender: Party
    receiver: Party
    parent_document_id: str
    document_xml: bytes
    dian_response_xml: bytes
    reference_uuid: str
    reference_issue_date: date
    validation_date: date
    validation_time: str
    reference_id: str | None = None  # defaults to parent_document_id
    reference_uuid_scheme: str = "CUFE-SHA384"
    validation_result_code: str = "02"
    validator_id: str = DIAN_NAME
    profile_id: str = "Factura Electrónica de Venta"
    document_type_text: str = "Contenedor de Factura Electrónica"
    signed: bool = True  # leave a signature placeholder for the outer signature


# --- XML helpers -------------------------------------------------------------------------------------------------


def _new_root(local: str) -> etree._Element:
    namespace = ns.ROOT_NAMESPACES[local]
    return etree.Element(f"{{{namespace}}}{local}", nsmap={None: namespace, **ns.NSMAP})


@functools.cache
def _steps(path: str) -> tuple[str, ...]:
    # The Clark names of a 'cac:A/cbc:B' path, resolved once per distinct path (a document has a few dozen).
    return tuple(ns.clark(path).split("/"))


def _sub(parent: etree._Element, path: str, text: str | None = None, **attributes: str | None) -> etree._Element:
    """Append the element(s) of a 'cac:A/cbc:B' path, set the last one's text and non-None attributes."""
    element = parent
    for step in _steps(path):
        element = etree.SubElement(element, step)
    if text is not None:
        element.text = text
    for name, value in attributes.items():
        if value is not None:
            element.set(name, value)
    return element


def _sts(parent: etree._Element, local: str, text: str | None = None, **attributes: str | None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ns.STS}}}{local}")
    if text is not None:
        element.text = text
    for name, value in attributes.items():
        if value is not None:
            element.set(name, value)
    return element


def _number(value: Decimal) -> str:
    return format(value, "f")


def _money(value: Decimal, field: str) -> str:
    """An amount that enters the CUFE: at most 2 decimals, written with exactly 2 (dian-facts.md 1.1)."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise BuildError(f"{field}: expected a finite Decimal, got {value!r}")
    if value != value.quantize(Decimal("0.01")):
        raise BuildError(f"{field}: {value} has more than 2 decimals; the CUFE takes exactly 2 (dian-facts.md 1.1)")
    return format_amount(value)


def _serialize(root: etree._Element) -> bytes:
    return _DECLARATION + etree.tostring(root, encoding="UTF-8", xml_declaration=False)


def _check_time(value: str, field: str) -> None:
    if not _ISSUE_TIME.match(value):
        raise BuildError(f"{field}: expected HH:MM:SS-05:00 (the offset enters the CUFE/CUDE), got {value!r}")


_FOREIGN_ID = re.compile(r"^[A-Za-z0-9-]{1,20}$")


def _check_party(party: Party, field: str) -> None:
    # A NIT (scheme 31) is ASCII digits without its check digit; other identifications (a foreign buyer's tax id,
    # scheme 42/50) may carry letters and a hyphen.
    if party.id_scheme in (None, "31"):
        if not party.nit or not (party.nit.isascii() and party.nit.isdigit()):
            raise BuildError(f"{field}.nit: digits only, without the check digit, got {party.nit!r}")
    elif not _FOREIGN_ID.match(party.nit or ""):
        raise BuildError(f"{field}.nit: letters, digits or '-' (up to 20), got {party.nit!r}")
    if not party.registration_name:
        raise BuildError(f"{field}.registration_name: required")


def qr_url(key: str, environment: Environment) -> str:
    """The DIAN catalogue URL for a CUFE/CUDE; habilitación has its own host (dian-facts.md 7.2)."""
    host = "catalogo-vpfe.dian.gov.co" if environment is Environment.PRODUCTION else "catalogo-vpfe-hab.dian.gov.co"
    return f"https://{host}/document/searchqr?documentkey={key}"


def _extensions(
    root: etree._Element,
    *,
    provider_nit: str,
    provider_dv: str,
    software_id: str,
    security_code: str,
    qr_code: str | None,
    numbering: NumberingRange | None = None,
) -> None:
    """Write sts:DianExtensions, then the signature placeholder, in that order (dian-facts.md 2.5, 11)."""
    extensions = _sub(root, "ext:UBLExtensions")
    dian = etree.SubElement(_sub(extensions, "ext:UBLExtension/ext:ExtensionContent"), f"{{{ns.STS}}}DianExtensions")
    if numbering is not None:
        control = _sts(dian, "InvoiceControl")
        _sts(control, "InvoiceAuthorization", numbering.authorization)
        period = _sts(control, "AuthorizationPeriod")
        _sub(period, "cbc:StartDate", numbering.start_date.isoformat())
        _sub(period, "cbc:EndDate", numbering.end_date.isoformat())
        authorized = _sts(control, "AuthorizedInvoices")
        _sts(authorized, "Prefix", numbering.prefix)
        _sts(authorized, "From", str(numbering.from_number))
        _sts(authorized, "To", str(numbering.to_number))
    source = _sts(dian, "InvoiceSource")
    _sub(
        source,
        "cbc:IdentificationCode",
        "CO",
        listAgencyID="6",
        listAgencyName="United Nations Economic Commission for Europe",
        listSchemeURI="urn:oasis:names:specification:ubl:codelist:gc:CountryIdentificationCode-2.1",
    )
    provider = _sts(dian, "SoftwareProvider")
    _sts(
        provider,
        "ProviderID",
        provider_nit,
        schemeAgencyID=_AGENCY_ID,
        schemeAgencyName=_AGENCY_NAME,
        schemeID=provider_dv,
        schemeName="31",
    )
    _sts(provider, "SoftwareID", software_id, schemeAgencyID=_AGENCY_ID, schemeAgencyName=_AGENCY_NAME)
    _sts(dian, "SoftwareSecurityCode", security_code, schemeAgencyID=_AGENCY_ID, schemeAgencyName=_AGENCY_NAME)
    authorization = _sts(dian, "AuthorizationProvider")
    _sts(
        authorization,
        "AuthorizationProviderID",
        DIAN_NIT,
        schemeAgencyID=_AGENCY_ID,
        schemeAgencyName=_AGENCY_NAME,
        schemeID=DIAN_DV,
        schemeName="31",
    )
    if qr_code is not None:
        _sts(dian, "QRCode", qr_code)
    _placeholder(extensions)


def _placeholder(extensions: etree._Element) -> None:
    content = _sub(extensions, "ext:UBLExtension/ext:ExtensionContent")
    etree.SubElement(content, f"{{{ns.DS}}}Signature", Id=_PLACEHOLDER_ID)


def _header(
    root: etree._Element, customization_id: str, profile_id: str, environment: Environment, number: str
) -> None:
    _sub(root, "cbc:UBLVersionID", "UBL 2.1")
    _sub(root, "cbc:CustomizationID", customization_id)
    _sub(root, "cbc:ProfileID", profile_id)
    _sub(root, "cbc:ProfileExecutionID", environment.value)
    _sub(root, "cbc:ID", number)


def _company_id(parent: etree._Element, party: Party) -> None:
    _sub(
        parent,
        "cbc:CompanyID",
        party.nit,
        schemeAgencyID=_AGENCY_ID,
        schemeAgencyName=_AGENCY_NAME,
        schemeID=party.dv,
        schemeName=party.id_scheme,
    )


def _address(parent: etree._Element, path: str, party: Party) -> None:
    address = party.address
    if address is None:
        return
    element = _sub(parent, path)
    for child, value in (
        ("cbc:ID", address.city_code),
        ("cbc:CityName", address.city),
        ("cbc:CountrySubentity", address.department),
        ("cbc:CountrySubentityCode", address.department_code),
    ):
        if value is not None:
            _sub(element, child, value)
    if address.line is not None:
        _sub(element, "cac:AddressLine/cbc:Line", address.line)
    if address.country is not None:
        _sub(element, "cac:Country/cbc:IdentificationCode", address.country)


def _party_tax_scheme(parent: etree._Element, party: Party, *, with_address: bool) -> None:
    scheme = _sub(parent, "cac:PartyTaxScheme")
    _sub(scheme, "cbc:RegistrationName", party.registration_name)
    _company_id(scheme, party)
    if party.tax_level_codes:
        _sub(scheme, "cbc:TaxLevelCode", ";".join(party.tax_level_codes))
    if with_address:
        _address(scheme, "cac:RegistrationAddress", party)
    tax = _sub(scheme, "cac:TaxScheme")
    if party.tax_scheme_id is not None:
        _sub(tax, "cbc:ID", party.tax_scheme_id)
    if party.tax_scheme_name is not None:
        _sub(tax, "cbc:Name", party.tax_scheme_name)


def _accounting_party(root: etree._Element, role: str, party: Party) -> None:
    outer = _sub(root, role)
    _sub(outer, "cbc:AdditionalAccountID", party.organization_type or "1")
    element = _sub(outer, "cac:Party")
    if party.trade_name is not None:
        _sub(element, "cac:PartyName/cbc:Name", party.trade_name)
    _address(element, "cac:PhysicalLocation/cac:Address", party)
    _party_tax_scheme(element, party, with_address=True)
    legal = _sub(element, "cac:PartyLegalEntity")
    _sub(legal, "cbc:RegistrationName", party.registration_name)
    _company_id(legal, party)
    if party.phone is not None or party.email is not None:
        contact = _sub(element, "cac:Contact")
        if party.phone is not None:
            _sub(contact, "cbc:Telephone", party.phone)
        if party.email is not None:
            _sub(contact, "cbc:ElectronicMail", party.email)


def _tax_totals(parent: etree._Element, name: str, totals: Iterable[TaxTotal], currency: str, field: str) -> None:
    for index, total in enumerate(totals, start=1):
        element = _sub(parent, name)
        _sub(element, "cbc:TaxAmount", _money(total.amount, f"{field}[{index}].amount"), currencyID=currency)
        for sub in total.subtotals:
            subtotal = _sub(element, "cac:TaxSubtotal")
            if sub.taxable_amount is not None:
                _sub(subtotal, "cbc:TaxableAmount", _number(sub.taxable_amount), currencyID=currency)
            _sub(subtotal, "cbc:TaxAmount", _number(sub.amount), currencyID=currency)
            if isinstance(sub, UnitTaxSubtotal):
                # UBL 2.1 order inside cac:TaxSubtotal: Percent (unused here), BaseUnitMeasure, PerUnitAmount.
                if sub.base_unit_measure is not None:
                    _sub(subtotal, "cbc:BaseUnitMeasure", _number(sub.base_unit_measure), unitCode=sub.unit_code)
                if sub.per_unit_amount is not None:
                    _sub(subtotal, "cbc:PerUnitAmount", _number(sub.per_unit_amount), currencyID=currency)
            category = _sub(subtotal, "cac:TaxCategory")
            if sub.percent is not None:
                _sub(category, "cbc:Percent", _number(sub.percent))
            scheme = _sub(category, "cac:TaxScheme")
            _sub(scheme, "cbc:ID", sub.scheme_id)
            if sub.scheme_name is not None:
                _sub(scheme, "cbc:Name", sub.scheme_name)


_ITEM_PATHS = {
    "buyers": "cac:BuyersItemIdentification/cbc:ID",
    "sellers": "cac:SellersItemIdentification/cbc:ID",
    "standard": "cac:StandardItemIdentification/cbc:ID",
}


def _item_codes(item: etree._Element, codes: tuple[ItemCode, ...], field: str) -> None:
    by_kind = {}
    for code in codes:
        if code.kind not in _ITEM_PATHS or code.kind in by_kind:
            raise BuildError(f"{field}.item_codes: one each of {', '.join(_ITEM_PATHS)}; got {code.kind!r} again")
        by_kind[code.kind] = code
    for kind, path in _ITEM_PATHS.items():  # UBL 2.1 order inside cac:Item
        if kind in by_kind:
            _sub(item, path, by_kind[kind].value, schemeID=by_kind[kind].scheme_id)


_DOCUMENTS = {
    # root: (line element, quantity element, monetary total, profile, default customization)
    "Invoice": (
        "cac:InvoiceLine",
        "cbc:InvoicedQuantity",
        "cac:LegalMonetaryTotal",
        "DIAN 2.1: Factura Electrónica de Venta",
        "10",
    ),
    "CreditNote": (
        "cac:CreditNoteLine",
        "cbc:CreditedQuantity",
        "cac:LegalMonetaryTotal",
        "DIAN 2.1: Nota Crédito de Factura Electrónica de Venta",
        "20",
    ),
    "DebitNote": (
        "cac:DebitNoteLine",
        "cbc:DebitedQuantity",
        "cac:RequestedMonetaryTotal",
        "DIAN 2.1: Nota Débito de Factura Electrónica de Venta",
        "30",
    ),
}


def _allowance_charges(parent: etree._Element, charges: Iterable[AllowanceCharge], currency: str, field: str) -> None:
    for index, charge in enumerate(charges, start=1):
        element = _sub(parent, "cac:AllowanceCharge")
        _sub(element, "cbc:ID", str(index))
        _sub(element, "cbc:ChargeIndicator", "true" if charge.charge else "false")
        if charge.reason_code is not None:
            if charge.charge:
                raise BuildError(f"{field}[{index}].reason_code: only discounts carry a DIAN discount code")
            _sub(element, "cbc:AllowanceChargeReasonCode", charge.reason_code)
        if charge.reason is not None:
            _sub(element, "cbc:AllowanceChargeReason", charge.reason)
        if charge.percent is not None:
            _sub(element, "cbc:MultiplierFactorNumeric", _number(charge.percent))
        _sub(element, "cbc:Amount", _money(charge.amount, f"{field}[{index}].amount"), currencyID=currency)
        if charge.base_amount is not None:
            _sub(element, "cbc:BaseAmount", _number(charge.base_amount), currencyID=currency)


def _line_extras(element: etree._Element, local: str, line: Line, currency: str, field: str) -> None:
    """FreeOfChargeIndicator, PricingReference, AllowanceCharge and TaxTotal in the order each root's XSD wants."""
    extra = line if isinstance(line, DraftLine) else None
    if extra is not None and local != "DebitNote":  # DebitNoteLine has no FreeOfChargeIndicator
        _sub(element, "cbc:FreeOfChargeIndicator", "true" if extra.free_of_charge else "false")
    if extra is not None and extra.free_of_charge:
        if extra.reference_price is None:
            raise BuildError(f"{field}.reference_price: a free-of-charge line states its reference price")
        price = _sub(element, "cac:PricingReference/cac:AlternativeConditionPrice")
        _sub(price, "cbc:PriceAmount", _number(extra.reference_price), currencyID=currency)
        _sub(price, "cbc:PriceTypeCode", extra.reference_price_type)
    charges = extra.allowance_charges if extra is not None else ()
    if local == "Invoice":  # InvoiceLine: AllowanceCharge before TaxTotal; the notes the other way round
        _allowance_charges(element, charges, currency, f"{field}.allowance_charges")
        _tax_totals(element, "cac:TaxTotal", line.taxes, currency, f"{field}.taxes")
    else:
        _tax_totals(element, "cac:TaxTotal", line.taxes, currency, f"{field}.taxes")
        _allowance_charges(element, charges, currency, f"{field}.allowance_charges")


def _lines(root: etree._Element, local: str, draft: DocumentDraft) -> None:
    line_name, quantity_name, *_ = _DOCUMENTS[local]
    for index, line in enumerate(draft.lines, start=1):
        field = f"lines[{index}]"
        element = _line_start(root, line_name, quantity_name, line, draft.currency)
        _line_extras(element, local, line, draft.currency, field)
        if line.withholdings and local != "Invoice":
            raise BuildError(f"{field}.withholdings: only invoice lines carry cac:WithholdingTaxTotal")
        _tax_totals(element, "cac:WithholdingTaxTotal", line.withholdings, draft.currency, f"{field}.withholdings")
        _line_item(element, line, draft.currency, field, base_quantity=line.base_quantity)


def _line_start(root: etree._Element, line_name: str, quantity_name: str, line: Any, currency: str) -> etree._Element:
    """A document line's element with its ID, quantity and amount (also the documento soporte's, dian/support)."""
    element = _sub(root, line_name)
    _sub(element, "cbc:ID", line.id)
    _sub(element, quantity_name, _number(line.quantity), unitCode=line.unit_code)
    _sub(element, "cbc:LineExtensionAmount", _number(line.line_extension_amount), currencyID=currency)
    return element


def _line_item(element: etree._Element, line: Any, currency: str, field: str, *, base_quantity: Decimal | None) -> None:
    """A line's cac:Item (description, codes) and cac:Price, with cbc:BaseQuantity when ``base_quantity`` is given."""
    item = _sub(element, "cac:Item")
    if line.description is not None:
        _sub(item, "cbc:Description", line.description)
    _item_codes(item, line.item_codes, field)
    if line.unit_price is not None:
        price = _sub(element, "cac:Price")
        _sub(price, "cbc:PriceAmount", _number(line.unit_price), currencyID=currency)
        if base_quantity is not None:
            _sub(price, "cbc:BaseQuantity", _number(base_quantity), unitCode=line.unit_code)


def _monetary_total(root: etree._Element, name: str, total: MonetaryTotal, currency: str) -> None:
    element = _sub(root, name)
    _sub(
        element,
        "cbc:LineExtensionAmount",
        _money(total.line_extension, "monetary_total.line_extension"),
        currencyID=currency,
    )
    for child, value in (
        ("cbc:TaxExclusiveAmount", total.tax_exclusive),
        ("cbc:TaxInclusiveAmount", total.tax_inclusive),
        ("cbc:AllowanceTotalAmount", total.allowance_total),
        ("cbc:ChargeTotalAmount", total.charge_total),
        ("cbc:PrepaidAmount", total.prepaid),
    ):
        if value is not None:
            _sub(element, child, _number(value), currencyID=currency)
    _sub(element, "cbc:PayableAmount", _money(total.payable, "monetary_total.payable"), currencyID=currency)


def _tax_amounts(draft: DocumentDraft) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = {}
    for total in draft.tax_totals:
        if total.scheme_id is not None:
            sums[total.scheme_id] = sums.get(total.scheme_id, Decimal(0)) + total.amount
    return sums


def _qr_text(draft: DocumentDraft, fields: KeyFields, key_name: str, key: str) -> str:
    # One "Key: value" per line, then the URL (radian-issuing-facts B.6). Every value that also enters the CUFE is
    # taken from the hashed fields themselves, so the printed figures cannot differ from the validated ones.
    other = sum((amount for scheme, amount in _tax_amounts(draft).items() if scheme != "01"), Decimal(0))
    return "\n".join(
        (
            f"NumFac: {fields.number}",
            f"FecFac: {fields.issue_date}",
            f"HorFac: {fields.issue_time}",
            f"NitFac: {fields.supplier_nit}",
            f"DocAdq: {fields.customer_nit}",
            f"ValFac: {fields.line_extension}",
            f"ValIva: {fields.tax('01')}",
            f"ValOtroIm: {format_amount(other)}",
            f"ValTolFac: {fields.payable}",
            f"{key_name}: {key}",
            qr_url(key, draft.environment),
        )
    )


def _check_draft(draft: DocumentDraft) -> None:
    _check_time(draft.issue_time, "issue_time")
    _check_party(draft.supplier, "supplier")
    _check_party(draft.customer, "customer")
    if not isinstance(draft.environment, Environment):
        raise BuildError(f"environment: expected an Environment, got {draft.environment!r}")
    if not draft.lines:
        raise BuildError("lines: a document needs at least one line")
    if draft.payment_means is PaymentMeans.CREDIT and draft.due_date is None:
        raise BuildError("due_date: a credit sale (PaymentMeans 2) needs a payment due date (dian-facts.md 2.4)")
    for index, total in enumerate(draft.tax_totals, start=1):
        if len({sub.scheme_id for sub in total.subtotals}) != 1:
            raise BuildError(f"tax_totals[{index}]: one tax scheme per cac:TaxTotal, with at least one subtotal")
    if draft.currency != "COP" and draft.exchange_rate is None:
        raise BuildError(f"exchange_rate: a document in {draft.currency} states its rate to COP (PaymentExchangeRate)")
    if draft.invoice_period is not None and draft.invoice_period.start_date > draft.invoice_period.end_date:
        raise BuildError("invoice_period: the start date is after the end date")
    _money(draft.monetary_total.line_extension, "monetary_total.line_extension")
    _money(draft.monetary_total.payable, "monetary_total.payable")
    for index, total in enumerate(draft.tax_totals, start=1):
        _money(total.amount, f"tax_totals[{index}].amount")


def _payment(root: etree._Element, draft: DocumentDraft) -> None:
    payment = _sub(root, "cac:PaymentMeans")
    _sub(payment, "cbc:ID", draft.payment_means.value)
    _sub(payment, "cbc:PaymentMeansCode", draft.payment_method_code)
    if draft.due_date is not None:
        _sub(payment, "cbc:PaymentDueDate", draft.due_date.isoformat())


def _exchange_rate(root: etree._Element, draft: DocumentDraft) -> None:
    rate = draft.exchange_rate
    if rate is None:
        return
    element = _sub(root, "cac:PaymentExchangeRate")
    _sub(element, "cbc:SourceCurrencyCode", draft.currency)
    _sub(element, "cbc:SourceCurrencyBaseRate", "1.00")
    _sub(element, "cbc:TargetCurrencyCode", rate.target_currency)
    _sub(element, "cbc:TargetCurrencyBaseRate", "1.00")
    _sub(element, "cbc:CalculationRate", _number(rate.rate))
    _sub(element, "cbc:Date", rate.date.isoformat())


def _key_and_dates(root: etree._Element, local: str, draft: DocumentDraft, document_type: DocumentType,
                   key: Any) -> None:  # fmt: skip
    """What follows the header in an Invoice or CreditNote (also the documento soporte's, dian/support): the key,
    the dates, the type code, the notes, the currency and the line count."""
    _sub(root, "cbc:UUID", key.value, schemeID=draft.environment.value, schemeName=key.scheme)
    _sub(root, "cbc:IssueDate", draft.issue_date.isoformat())
    _sub(root, "cbc:IssueTime", draft.issue_time)
    if local == "Invoice":
        if draft.due_date is not None:
            _sub(root, "cbc:DueDate", draft.due_date.isoformat())
        _sub(root, "cbc:InvoiceTypeCode", document_type.value)
    elif local == "CreditNote":
        _sub(root, "cbc:CreditNoteTypeCode", document_type.value)
    for note in draft.notes:
        _sub(root, "cbc:Note", note)
    _sub(root, "cbc:DocumentCurrencyCode", draft.currency)
    _sub(root, "cbc:LineCountNumeric", str(len(draft.lines)))


def _build_commercial(
    local: str,
    draft: DocumentDraft,
    document_type: DocumentType,
    key: DocumentKey,
    software: Software,
    numbering: NumberingRange | None,
) -> bytes:
    _, _, total_name, profile, customization = _DOCUMENTS[local]
    root = _new_root(local)
    _extensions(
        root,
        provider_nit=software.provider_nit,
        provider_dv=software.provider_dv,
        software_id=software.software_id,
        security_code=software_security_code(software.software_id, software.pin, draft.number),
        qr_code=key.qr_text,
        numbering=numbering,
    )
    customization_id = draft.customization_id or _default_customization(draft, customization)
    _header(root, customization_id, profile, draft.environment, draft.number)
    _key_and_dates(root, local, draft, document_type, key)
    if draft.invoice_period is not None:
        period = _sub(root, "cac:InvoicePeriod")
        _sub(period, "cbc:StartDate", draft.invoice_period.start_date.isoformat())
        _sub(period, "cbc:EndDate", draft.invoice_period.end_date.isoformat())
    if draft.discrepancy_response is not None:
        discrepancy = _sub(root, "cac:DiscrepancyResponse")
        if draft.discrepancy_response.reference_id is not None:
            _sub(discrepancy, "cbc:ReferenceID", draft.discrepancy_response.reference_id)
        _sub(discrepancy, "cbc:ResponseCode", draft.discrepancy_response.code)
        if draft.discrepancy_response.description is not None:
            _sub(discrepancy, "cbc:Description", draft.discrepancy_response.description)
    if draft.order_reference is not None:
        _sub(root, "cac:OrderReference/cbc:ID", draft.order_reference)
    for reference in draft.billing_references:
        element = _sub(root, "cac:BillingReference/cac:InvoiceDocumentReference")
        _sub(element, "cbc:ID", reference.number)
        if reference.uuid is not None:
            _sub(element, "cbc:UUID", reference.uuid, schemeName=reference.uuid_scheme)
        if reference.issue_date is not None:
            _sub(element, "cbc:IssueDate", reference.issue_date.isoformat())
    for additional in draft.additional_references:
        element = _sub(root, "cac:AdditionalDocumentReference")
        _sub(element, "cbc:ID", additional.id)
        _sub(element, "cbc:IssueDate", additional.issue_date.isoformat())
        _sub(element, "cbc:DocumentTypeCode", additional.type_code)
    _accounting_party(root, "cac:AccountingSupplierParty", draft.supplier)
    _accounting_party(root, "cac:AccountingCustomerParty", draft.customer)
    # Each root orders AllowanceCharge, PaymentMeans and PaymentExchangeRate its own way (UBL 2.1 XSDs).
    charges = draft.allowance_charges
    if local == "Invoice":
        _payment(root, draft)
        _allowance_charges(root, charges, draft.currency, "allowance_charges")
        _exchange_rate(root, draft)
    elif local == "CreditNote":
        _payment(root, draft)
        _exchange_rate(root, draft)
        _allowance_charges(root, charges, draft.currency, "allowance_charges")
    else:
        _allowance_charges(root, charges, draft.currency, "allowance_charges")
        _payment(root, draft)
        _exchange_rate(root, draft)
    _tax_totals(root, "cac:TaxTotal", draft.tax_totals, draft.currency, "tax_totals")
    if draft.withholdings and local != "Invoice":
        raise BuildError("withholdings: only invoices carry cac:WithholdingTaxTotal")
    _tax_totals(root, "cac:WithholdingTaxTotal", draft.withholdings, draft.currency, "withholdings")
    _monetary_total(root, total_name, draft.monetary_total, draft.currency)
    _lines(root, local, draft)
    return _serialize(root)


def _default_customization(draft: DocumentDraft, default: str) -> str:
    # Notes without a referenced invoice are operation 22 (credit) / 32 (debit), radian-issuing-facts B.4.
    if default in {"20", "30"} and not draft.billing_references:
        return "22" if default == "20" else "32"
    return default


def document_key(draft: DocumentDraft, *, software: Software, numbering: NumberingRange | None = None) -> DocumentKey:
    """The CUFE (technical key of ``numbering``) or CUDE (software PIN: types 03, 91, 92) of a draft, with its QR text.

    radian-issuing-facts B.2: 01, 02 and 04 take a CUFE, 03 and the notes a CUDE.
    """
    document_type = draft.document_type or DocumentType.INVOICE
    if document_type in (DocumentType.CONTINGENCY_INVOICE, DocumentType.CREDIT_NOTE, DocumentType.DEBIT_NOTE):
        secret, scheme = software.pin, "CUDE-SHA384"
    elif numbering is None:
        raise BuildError(f"numbering: an invoice of type {document_type.value} takes the range's technical key")
    else:
        secret, scheme = numbering.technical_key, "CUFE-SHA384"
    fields = document_key_fields(
        number=draft.number,
        issue_date=draft.issue_date,
        issue_time=draft.issue_time,
        line_extension_amount=draft.monetary_total.line_extension,
        tax_amounts=_tax_amounts(draft),
        payable_amount=draft.monetary_total.payable,
        supplier_nit=draft.supplier.nit,
        customer_nit=draft.customer.nit,
        key=secret,
        environment=draft.environment.value,
    )
    value = fields.digest()
    return DocumentKey(value, scheme, fields, _qr_text(draft, fields, scheme.split("-")[0], value))


# --- public builders ---------------------------------------------------------------------------------------------


def build_invoice(draft: DocumentDraft, *, software: Software, numbering: NumberingRange) -> bytes:
    """Build an unsigned invoice (01-04) with InvoiceControl and its CUFE (03: CUDE), radian-issuing-facts B.1-B.2."""
    _check_draft(draft)
    document_type = draft.document_type or DocumentType.INVOICE
    if not document_type.is_invoice:
        raise BuildError(f"document_type: {document_type.value} is not an invoice type (01-04)")
    if draft.billing_references or draft.discrepancy_response is not None:
        raise BuildError("billing_references/discrepancy_response: only notes reference an invoice")
    if draft.additional_references and document_type is not DocumentType.CONTINGENCY_INVOICE:
        raise BuildError("additional_references: only a type 03 invoice names the paper invoice it transmits")
    if not draft.number.startswith(numbering.prefix) or not draft.number[len(numbering.prefix) :].isdigit():
        raise BuildError(f"number: {draft.number!r} is not prefix {numbering.prefix!r} followed by digits")
    consecutive = int(draft.number[len(numbering.prefix) :])
    if not numbering.from_number <= consecutive <= numbering.to_number:
        raise BuildError(
            f"number: {consecutive} is outside the authorized range {numbering.from_number}-{numbering.to_number}"
        )
    if not numbering.start_date <= draft.issue_date <= numbering.end_date:
        raise BuildError(f"issue_date: {draft.issue_date} is outside the authorization period")
    key = document_key(draft, software=software, numbering=numbering)
    return _build_commercial("Invoice", draft, document_type, key, software, numbering)


def _build_note(local: str, document_type: DocumentType, draft: DocumentDraft, software: Software) -> bytes:
    _check_draft(draft)
    if draft.document_type not in (None, document_type):
        raise BuildError(f"document_type: a {local} is {document_type.value}, got {draft.document_type.value}")
    if draft.discrepancy_response is None:
        raise BuildError("discrepancy_response: a note states its concept (radian-issuing-facts B.4)")
    if not draft.billing_references and draft.invoice_period is None:
        raise BuildError("invoice_period: a note without a referenced invoice states the period it covers (CAE02)")
    if draft.additional_references:
        raise BuildError("additional_references: only a type 03 invoice names the paper invoice it transmits")
    key = document_key(dataclasses.replace(draft, document_type=document_type), software=software)
    return _build_commercial(local, draft, document_type, key, software, None)


def build_credit_note(draft: DocumentDraft, *, software: Software) -> bytes:
    """Build an unsigned credit note (91) with its CUDE (dian-facts.md 1.3, radian-issuing-facts B.4)."""
    return _build_note("CreditNote", DocumentType.CREDIT_NOTE, draft, software)


def build_debit_note(draft: DocumentDraft, *, software: Software) -> bytes:
    """Build an unsigned debit note (92, RequestedMonetaryTotal) with its CUDE (dian-facts.md 1.3)."""
    return _build_note("DebitNote", DocumentType.DEBIT_NOTE, draft, software)


def _application_party(root: etree._Element, role: str, party: Party) -> None:
    _party_tax_scheme(_sub(root, role), party, with_address=False)


_EVENTS = frozenset(
    {
        EventCode.ACUSE_RECIBO,
        EventCode.RECLAMO,
        EventCode.RECIBO_BIEN,
        EventCode.ACEPTACION_EXPRESA,
        EventCode.ACEPTACION_TACITA,
    }
)
_WITH_PERSON = frozenset({EventCode.ACUSE_RECIBO, EventCode.RECIBO_BIEN})


def _check_event(draft: EventDraft) -> None:
    if draft.code not in _EVENTS:
        raise BuildError(f"code: only events 030-034 are built here, got {draft.code!r}")
    _check_time(draft.issue_time, "issue_time")
    _check_party(draft.sender, "sender")
    _check_party(draft.receiver, "receiver")
    for field, party in (("sender", draft.sender), ("receiver", draft.receiver)):
        if not party.dv:
            raise BuildError(f"{field}.dv: CompanyID/@schemeID carries the check digit (dian-facts.md 2.5)")
    if not draft.number:
        raise BuildError("number: the event's own consecutive is required (rule AAD05)")
    if not draft.invoice_number or not draft.invoice_cufe:
        raise BuildError("invoice_number/invoice_cufe: the event references an invoice (dian-facts.md 2.5)")
    if draft.code is EventCode.RECLAMO and draft.claim_reason is None:
        raise BuildError("claim_reason: event 031 needs a claim reason 01-04 (dian-facts.md 2.3)")
    if draft.code is not EventCode.RECLAMO and draft.claim_reason is not None:
        raise BuildError(f"claim_reason: only event 031 carries a claim reason, not {draft.code.value}")
    if draft.code in _WITH_PERSON and draft.person is None:
        raise BuildError(f"person: event {draft.code.value} names the person who received (IssuerParty/Person)")
    if draft.code not in _WITH_PERSON and draft.person is not None:
        raise BuildError(f"person: only events 030 and 032 carry IssuerParty/Person, not {draft.code.value}")
    if draft.code is EventCode.ACEPTACION_TACITA:
        if draft.receiver.nit != DIAN_NIT or draft.receiver.dv != DIAN_DV:
            raise BuildError(
                f"receiver: event 034 goes to DIAN (NIT {DIAN_NIT}, DV {DIAN_DV}), got {draft.receiver.nit}"
            )
        if not draft.notes:
            raise BuildError("notes: event 034 carries the sworn statement of tacit acceptance (dian-facts.md 2.4)")


def build_event(draft: EventDraft, *, software: Software) -> bytes:
    """Build an unsigned ApplicationResponse event 030-034 in the element order of dian-facts.md 2.5."""
    _check_event(draft)
    cude = event_cude(
        number=draft.number,
        issue_date=draft.issue_date,
        issue_time=draft.issue_time,
        sender_nit=draft.sender.nit,
        receiver_nit=draft.receiver.nit,
        response_code=draft.code.value,
        document_number=draft.invoice_number,
        document_type_code=draft.invoice_type_code,
        software_pin=software.pin,
    )
    root = _new_root("ApplicationResponse")
    _extensions(
        root,
        provider_nit=software.provider_nit,
        provider_dv=software.provider_dv,
        software_id=software.software_id,
        security_code=software_security_code(software.software_id, software.pin, draft.number),
        # Events point the QR at the referenced invoice's CUFE (dian-facts.md 7.2).
        qr_code=qr_url(draft.invoice_cufe, draft.environment),
    )
    _header(
        root,
        draft.customization_id,
        "DIAN 2.1: ApplicationResponse de la Factura Electrónica de Venta",
        draft.environment,
        draft.number,
    )
    _sub(root, "cbc:UUID", cude, schemeID=draft.environment.value, schemeName="CUDE-SHA384")
    _sub(root, "cbc:IssueDate", draft.issue_date.isoformat())
    _sub(root, "cbc:IssueTime", draft.issue_time)
    for note in draft.notes:
        _sub(root, "cbc:Note", note)
    _application_party(root, "cac:SenderParty", draft.sender)
    _application_party(root, "cac:ReceiverParty", draft.receiver)
    block = _sub(root, "cac:DocumentResponse")
    response = _sub(block, "cac:Response")
    reason = draft.claim_reason
    _sub(
        response,
        "cbc:ResponseCode",
        draft.code.value,
        listID=reason.value if reason else None,
        name=reason.label if reason else None,
    )
    _sub(response, "cbc:Description", draft.code.label)
    reference = _sub(block, "cac:DocumentReference")
    _sub(reference, "cbc:ID", draft.invoice_number)
    _sub(reference, "cbc:UUID", draft.invoice_cufe, schemeName="CUFE-SHA384")
    _sub(reference, "cbc:DocumentTypeCode", draft.invoice_type_code)
    if draft.person is not None:
        person = _sub(block, "cac:IssuerParty/cac:Person")
        _sub(person, "cbc:ID", draft.person.id, schemeID=draft.person.dv, schemeName=draft.person.id_type)
        _sub(person, "cbc:FirstName", draft.person.first_name)
        _sub(person, "cbc:FamilyName", draft.person.family_name)
        if draft.person.job_title is not None:
            _sub(person, "cbc:JobTitle", draft.person.job_title)
        if draft.person.department is not None:
            _sub(person, "cbc:OrganizationDepartment", draft.person.department)
    return _serialize(root)


_VALIDATION_TEXT = {
    ValidationCode.VALIDATED: "Documento validado por la DIAN",
    ValidationCode.REJECTED: "Documento rechazado por la DIAN",
}

DIAN_PARTY = Party(nit=DIAN_NIT, dv=DIAN_DV, registration_name=DIAN_NAME, id_scheme="31")


def build_validation_response(draft: ValidationDraft) -> bytes:
    """Build DIAN's own validation ApplicationResponse (02/04 with LineResponse notifications, dian-facts.md 3.2)."""
    _check_time(draft.issue_time, "issue_time")
    _check_party(draft.receiver, "receiver")
    uuid = draft.uuid or sha384_hex(
        draft.number
        + draft.issue_date.isoformat()
        + draft.issue_time
        + DIAN_NIT
        + draft.receiver.nit
        + draft.code.value
        + draft.document_uuid
    )
    root = _new_root("ApplicationResponse")
    # DIAN's answer writes "..." as its own SoftwareID and SoftwareSecurityCode, and has no QR (dian-facts.md 3.2).
    _extensions(
        root,
        provider_nit=DIAN_NIT,
        provider_dv=DIAN_DV,
        software_id="...",
        security_code="...",
        qr_code=None,
    )
    _header(root, "1", "DIAN 2.1", draft.environment, draft.number)
    _sub(root, "cbc:UUID", uuid, schemeName="CUDE-SHA384")
    _sub(root, "cbc:IssueDate", draft.issue_date.isoformat())
    _sub(root, "cbc:IssueTime", draft.issue_time)
    _application_party(root, "cac:SenderParty", DIAN_PARTY)
    _application_party(root, "cac:ReceiverParty", draft.receiver)
    block = _sub(root, "cac:DocumentResponse")
    response = _sub(block, "cac:Response")
    _sub(response, "cbc:ResponseCode", draft.code.value)
    _sub(response, "cbc:Description", _VALIDATION_TEXT[draft.code])
    reference = _sub(block, "cac:DocumentReference")
    _sub(reference, "cbc:ID", draft.document_number)
    _sub(reference, "cbc:UUID", draft.document_uuid, schemeName=draft.document_uuid_scheme)
    for line in draft.line_responses:
        element = _sub(block, "cac:LineResponse")
        if line.line_id is not None:
            _sub(element, "cac:LineReference/cbc:LineID", line.line_id)
        answer = _sub(element, "cac:Response")
        _sub(answer, "cbc:ResponseCode", line.code)
        if line.description is not None:
            _sub(answer, "cbc:Description", line.description)
    return _serialize(root)


def _cdata(payload: bytes, field: str) -> etree.CDATA:
    if not payload.strip():
        raise BuildError(f"{field}: empty")
    if payload != payload.strip(b" \t\r\n"):
        raise BuildError(f"{field}: surrounding whitespace would not survive the round trip; strip it first")
    if b"]]>" in payload:  # one CDATA section cannot hold its own terminator
        raise BuildError(f"{field}: contains ']]>' and cannot be wrapped in CDATA")
    try:
        return etree.CDATA(payload.decode("utf-8"))
    except UnicodeDecodeError:
        raise BuildError(f"{field}: not UTF-8") from None
    except ValueError as exc:  # lxml refuses text that is not XML (control characters)
        raise BuildError(f"{field}: {exc}") from None


def _attachment(parent: etree._Element, payload: etree.CDATA) -> None:
    reference = _sub(parent, "cac:Attachment/cac:ExternalReference")
    _sub(reference, "cbc:MimeCode", "text/xml")
    _sub(reference, "cbc:EncodingCode", "UTF-8")
    _sub(reference, "cbc:Description").text = payload


def build_attached_document(draft: AttachedDraft) -> bytes:
    """Build an AttachedDocument holding the signed document and DIAN's answer verbatim in CDATA (dian-facts.md 3.1)."""
    _check_time(draft.issue_time, "issue_time")
    _check_party(draft.sender, "sender")
    _check_party(draft.receiver, "receiver")
    document = _cdata(draft.document_xml, "document_xml")
    answer = _cdata(draft.dian_response_xml, "dian_response_xml")
    root = _new_root("AttachedDocument")
    if draft.signed:
        _placeholder(_sub(root, "ext:UBLExtensions"))
    _header(root, "Documentos adjuntos", draft.profile_id, draft.environment, draft.id)
    _sub(root, "cbc:IssueDate", draft.issue_date.isoformat())
    _sub(root, "cbc:IssueTime", draft.issue_time)
    _sub(root, "cbc:DocumentType", draft.document_type_text)
    _sub(root, "cbc:ParentDocumentID", draft.parent_document_id)
    _application_party(root, "cac:SenderParty", draft.sender)
    _application_party(root, "cac:ReceiverParty", draft.receiver)
    _attachment(root, document)
    line = _sub(root, "cac:ParentDocumentLineReference")
    _sub(line, "cbc:LineID", "1")
    reference = _sub(line, "cac:DocumentReference")
    _sub(reference, "cbc:ID", draft.reference_id or draft.parent_document_id)
    _sub(reference, "cbc:UUID", draft.reference_uuid, schemeName=draft.reference_uuid_scheme)
    _sub(reference, "cbc:IssueDate", draft.reference_issue_date.isoformat())
    _sub(reference, "cbc:DocumentType", "ApplicationResponse")
    _attachment(reference, answer)
    result = _sub(reference, "cac:ResultOfVerification")
    _sub(result, "cbc:ValidatorID", draft.validator_id)
    _sub(result, "cbc:ValidationResultCode", draft.validation_result_code)
    _sub(result, "cbc:ValidationDate", draft.validation_date.isoformat())
    _sub(result, "cbc:ValidationTime", draft.validation_time)
    output = _serialize(root)
    # The payloads are the exact signed bytes: make sure serialization kept them verbatim.
    if draft.document_xml not in output or draft.dian_response_xml not in output:
        raise BuildError("document_xml/dian_response_xml: the payload did not survive serialization byte for byte")
    return output
