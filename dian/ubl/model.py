"""Typed, frozen views of DIAN's UBL 2.1 documents: money is Decimal, dates are dates, sequences are tuples.

The same types serve the parser (what a supplier sent us) and the builders (what we send), so a build → parse round
trip can be compared field by field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from dian.codes import (
    ClaimReason,
    DocumentType,
    Environment,
    EventCode,
    PaymentMeans,
    ValidationCode,
)

__all__ = [
    "Address",
    "ApplicationResponse",
    "AttachedDocument",
    "BillingReference",
    "CommercialDocument",
    "DiscrepancyResponse",
    "DocumentReference",
    "InvoiceControl",
    "ItemCode",
    "Line",
    "LineResponse",
    "MonetaryTotal",
    "Party",
    "Person",
    "Response",
    "TaxSubtotal",
    "TaxTotal",
]


@dataclass(frozen=True)
class Address:
    """A party's address (cac:RegistrationAddress or cac:PhysicalLocation/cac:Address)."""

    city: str | None = None
    city_code: str | None = None  # DANE municipality code, cbc:ID
    department: str | None = None  # cbc:CountrySubentity
    department_code: str | None = None
    country: str | None = None  # cac:Country/cbc:IdentificationCode, e.g. "CO"
    line: str | None = None  # cac:AddressLine/cbc:Line


@dataclass(frozen=True)
class Party:
    """A company or person as DIAN identifies it: NIT (or other ID) without DV, DV in its own field."""

    nit: str
    registration_name: str | None = None
    dv: str | None = None  # CompanyID/@schemeID
    id_scheme: str | None = "31"  # CompanyID/@schemeName: 31 NIT, 13 cédula… (IdentificationType)
    trade_name: str | None = None  # cac:PartyName/cbc:Name
    tax_level_codes: tuple[str, ...] = ()  # cbc:TaxLevelCode split on ";" (e.g. "O-13", "R-99-PN")
    tax_scheme_id: str | None = "01"
    tax_scheme_name: str | None = "IVA"
    address: Address | None = None
    email: str | None = None
    phone: str | None = None
    organization_type: str | None = None  # cbc:AdditionalAccountID: 1 legal entity, 2 natural person


@dataclass(frozen=True)
class Person:
    """cac:Person: the natural person who acts (IssuerParty/Person on events 030 and 032, dian-facts.md 2.5)."""

    id: str
    first_name: str
    family_name: str
    id_type: str = "13"  # cbc:ID/@schemeName, IdentificationType
    dv: str | None = None  # cbc:ID/@schemeID
    job_title: str | None = None
    department: str | None = None  # cbc:OrganizationDepartment


@dataclass(frozen=True)
class TaxSubtotal:
    """One cac:TaxSubtotal: a tax scheme applied at one rate."""

    scheme_id: str  # TaxScheme/cbc:ID, e.g. "01" IVA (codes.TaxScheme)
    scheme_name: str | None
    amount: Decimal
    taxable_amount: Decimal | None = None
    percent: Decimal | None = None


@dataclass(frozen=True)
class TaxTotal:
    """One cac:TaxTotal (or cac:WithholdingTaxTotal): DIAN writes one per scheme."""

    amount: Decimal
    subtotals: tuple[TaxSubtotal, ...] = ()

    @property
    def scheme_id(self) -> str | None:
        """The scheme of the first subtotal (DIAN groups one scheme per total)."""
        return self.subtotals[0].scheme_id if self.subtotals else None

    @property
    def scheme_name(self) -> str | None:
        """The scheme name of the first subtotal."""
        return self.subtotals[0].scheme_name if self.subtotals else None


@dataclass(frozen=True)
class ItemCode:
    """An item identification: kind is "standard", "sellers" or "buyers" (cac:<Kind>ItemIdentification)."""

    kind: str
    value: str
    scheme_id: str | None = None


@dataclass(frozen=True)
class Line:
    """One InvoiceLine / CreditNoteLine / DebitNoteLine."""

    id: str
    quantity: Decimal
    unit_code: str | None
    description: str | None
    line_extension_amount: Decimal
    unit_price: Decimal | None = None  # cac:Price/cbc:PriceAmount
    base_quantity: Decimal | None = None  # cac:Price/cbc:BaseQuantity
    taxes: tuple[TaxTotal, ...] = ()
    withholdings: tuple[TaxTotal, ...] = ()
    item_codes: tuple[ItemCode, ...] = ()


@dataclass(frozen=True)
class MonetaryTotal:
    """cac:LegalMonetaryTotal (invoice, credit note) or cac:RequestedMonetaryTotal (debit note)."""

    line_extension: Decimal
    payable: Decimal
    tax_exclusive: Decimal | None = None
    tax_inclusive: Decimal | None = None
    allowance_total: Decimal | None = None
    charge_total: Decimal | None = None
    prepaid: Decimal | None = None


@dataclass(frozen=True)
class InvoiceControl:
    """sts:InvoiceControl: the DIAN numbering authorization of an invoice (radian-issuing-facts B.1)."""

    authorization: str
    start_date: date | None = None
    end_date: date | None = None
    prefix: str | None = None
    from_number: int | None = None
    to_number: int | None = None


@dataclass(frozen=True)
class BillingReference:
    """cac:BillingReference/cac:InvoiceDocumentReference: the invoice a note corrects (radian-issuing-facts B.4)."""

    number: str
    uuid: str | None = None
    uuid_scheme: str | None = "CUFE-SHA384"
    issue_date: date | None = None


@dataclass(frozen=True)
class DiscrepancyResponse:
    """cac:DiscrepancyResponse of a note: referenced number, concept code and text (radian-issuing-facts B.4)."""

    reference_id: str | None
    code: str
    description: str | None = None


@dataclass(frozen=True)
class CommercialDocument:
    """A parsed Invoice (01-04), CreditNote (91) or DebitNote (92)."""

    document_type: DocumentType
    number: str
    prefix: str
    uuid: str
    uuid_scheme: str | None  # "CUFE-SHA384" or "CUDE-SHA384"
    environment: Environment
    customization_id: str | None
    profile_id: str | None
    issue_date: date
    issue_time: str  # the literal cbc:IssueTime, as it enters the CUFE (dian-facts.md 1.2)
    issued_at: datetime  # aware; -05:00 assumed when IssueTime has no offset (then offset_assumed is True)
    offset_assumed: bool
    due_date: date | None
    payment_means: PaymentMeans | None  # cac:PaymentMeans/cbc:ID: 1 contado, 2 crédito
    payment_method_code: str | None  # cbc:PaymentMeansCode (radian-issuing-facts B.5)
    currency: str | None
    supplier: Party
    customer: Party
    lines: tuple[Line, ...]
    tax_totals: tuple[TaxTotal, ...]
    withholdings: tuple[TaxTotal, ...]
    monetary_total: MonetaryTotal
    order_reference: str | None = None
    billing_references: tuple[BillingReference, ...] = ()
    discrepancy_response: DiscrepancyResponse | None = None
    invoice_control: InvoiceControl | None = None
    software_provider_nit: str | None = None
    software_id: str | None = None
    software_security_code: str | None = None
    qr_code: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def tax_amounts(self) -> Mapping[str, Decimal]:
        """Total tax per scheme id (the ValImp inputs of the CUFE, dian-facts.md 1.2)."""
        # Sum of cac:TaxTotal/cbc:TaxAmount by the scheme of its subtotals, as the annex words it.
        sums: dict[str, Decimal] = {}
        for total in self.tax_totals:
            if total.scheme_id is not None:
                sums[total.scheme_id] = sums.get(total.scheme_id, Decimal(0)) + total.amount
        return sums

    @property
    def is_credit_sale(self) -> bool:
        """True for a sale on credit (PaymentMeans ID 2), the only kind that takes events (rule LGC62)."""
        return self.payment_means is PaymentMeans.CREDIT


@dataclass(frozen=True)
class Response:
    """cac:DocumentResponse/cac:Response: the event or validation code; listID/name carry the 031 claim reason."""

    code: str
    description: str | None = None
    list_id: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class DocumentReference:
    """cac:DocumentResponse/cac:DocumentReference: the document an ApplicationResponse is about."""

    id: str
    uuid: str | None = None
    uuid_scheme: str | None = "CUFE-SHA384"
    type_code: str | None = None  # cbc:DocumentTypeCode, "01" for an invoice


@dataclass(frozen=True)
class LineResponse:
    """cac:LineResponse: one of DIAN's notifications (RUT01, FAJ43b…) or an event's line answer (dian-facts.md 3.2)."""

    line_id: str | None
    code: str
    description: str | None = None


@dataclass(frozen=True)
class ApplicationResponse:
    """A parsed ApplicationResponse: an event 030-051, or DIAN's validation answer 02/04."""

    id: str
    uuid: str | None
    uuid_scheme: str | None
    environment: Environment | None
    customization_id: str | None
    profile_id: str | None
    issue_date: date
    issue_time: str
    issued_at: datetime
    offset_assumed: bool
    sender: Party
    receiver: Party
    responses: tuple[Response, ...]
    document_reference: DocumentReference | None
    line_responses: tuple[LineResponse, ...] = ()
    notes: tuple[str, ...] = ()
    issuer_person: Person | None = None
    software_provider_nit: str | None = None
    software_id: str | None = None
    software_security_code: str | None = None
    qr_code: str | None = None

    @property
    def response_code(self) -> str:
        """The code of the first response: "030".."051", or "02"/"04" for DIAN's validation."""
        return self.responses[0].code if self.responses else ""

    @property
    def is_validation(self) -> bool:
        """True for DIAN's own validation answer (02 validated, 04 rejected), dian-facts.md 3.2."""
        return self.response_code in {code.value for code in ValidationCode}

    @property
    def is_event(self) -> bool:
        """True for an event 030-051."""
        return self.response_code in {code.value for code in EventCode}

    @property
    def event_code(self) -> EventCode | None:
        """The event code, or None for a validation answer."""
        return EventCode(self.response_code) if self.is_event else None

    @property
    def claim_reason(self) -> ClaimReason | None:
        """The claim concept of a 031 (ResponseCode/@listID, dian-facts.md 2.3)."""
        if self.response_code != EventCode.RECLAMO or not self.responses:
            return None
        try:
            return ClaimReason(self.responses[0].list_id or "")
        except ValueError:
            return None


@dataclass(frozen=True)
class AttachedDocument:
    """A parsed AttachedDocument: the container a supplier mails, holding the signed document and DIAN's answer.

    No signature covers the container's own fields: they are read liberally, None when absent or unreadable.
    """

    id: str | None
    customization_id: str | None
    profile_id: str | None
    environment: Environment | None
    issue_date: date | None
    issue_time: str | None
    issued_at: datetime | None
    offset_assumed: bool
    document_type_text: str | None  # cbc:DocumentType, "Contenedor de Factura Electrónica"
    parent_document_id: str | None
    sender: Party | None
    receiver: Party | None
    # The exact signed bytes inside the CDATA, stripped only of surrounding whitespace (dian-facts.md 3.1).
    document_xml: bytes
    dian_response_xml: bytes | None
    exact_bytes: bool  # True when cut from the original bytes; False when re-encoded from parsed text
    reference_id: str | None = None  # ParentDocumentLineReference/DocumentReference/cbc:ID
    reference_uuid: str | None = None
    reference_uuid_scheme: str | None = None
    reference_issue_date: date | None = None
    validator_id: str | None = None
    validation_result_code: str | None = None  # "02" (one provider writes "002"); see is_validated
    validation_date: date | None = None
    validation_time: str | None = None

    @property
    def is_validated(self) -> bool:
        """True when ResultOfVerification says validated: "02", tolerating the "002" variant (dian-facts.md 3.1)."""
        code = (self.validation_result_code or "").lstrip("0")
        return code == "2"
