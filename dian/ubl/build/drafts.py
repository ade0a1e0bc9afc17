"""The builders' inputs: frozen drafts of what each document says, and the software and numbering range issuing it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from dian.codes import DIAN_NAME, ClaimReason, DocumentType, Environment, EventCode, PaymentMeans, ValidationCode
from dian.cufe import KeyFields
from dian.ubl.model import (
    BillingReference,
    DiscrepancyResponse,
    Line,
    LineResponse,
    MonetaryTotal,
    Party,
    Person,
    TaxSubtotal,
    TaxTotal,
)


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
