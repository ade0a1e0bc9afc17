"""The native issuing payload: what the ERP sends for one invoice or note, as typed frozen dataclasses.

Rate-based like Factus (peers-wave2 §2.2): the caller sends quantities, prices, discounts/charges and tax RATES; Buzón
computes every amount (issuing/totals.py). Read from JSON with issuing.validation.read_payload, which refuses a bad
payload with one Spanish message per field. The issuing company, the numbering and the clock are not in the payload:
they are passed to issuing.document.issue_document.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from dian.codes import DocumentType

__all__ = [
    "Address",
    "Adjustment",
    "Customer",
    "DeclaredTotals",
    "ExchangeRate",
    "InvoiceReference",
    "Line",
    "LineTax",
    "PaperInvoice",
    "Payload",
    "Payment",
    "Period",
    "Withholding",
]


@dataclass(frozen=True)
class Address:
    """The buyer's address; a Colombian one names its DANE municipality (city_code) and department."""

    line: str
    country: str = "CO"  # ISO 3166-1 alpha-2
    city_code: str | None = None  # DANE municipality, 5 digits
    city: str | None = None
    department: str | None = None
    department_code: str | None = None  # the first 2 digits of city_code
    postal_code: str | None = None


@dataclass(frozen=True)
class Customer:
    """The buyer (AccountingCustomerParty)."""

    id_type: str  # 31 NIT, 13 cédula… (dian.codes.IdentificationType)
    id: str
    name: str
    dv: str | None = None  # required with NIT
    organization: str = "1"  # 1 persona jurídica, 2 persona natural
    tax_levels: tuple[str, ...] = ("R-99-PN",)
    tax_scheme: str = "ZZ"  # 01 responsable de IVA, ZZ no aplica
    trade_name: str | None = None
    address: Address | None = None
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class LineTax:
    """One tax on a line: a percentage ``rate`` of the line amount, or a fixed ``per_unit`` amount per unit sold."""

    scheme: str  # catalog.TAX_SCHEMES
    rate: Decimal | None = None
    per_unit: Decimal | None = None
    name: str | None = None  # scheme ZZ names its tax

    @property
    def is_per_unit(self) -> bool:
        """True for a nominal tax (INC on bags 22, fuels…), peers-wave2 §2.3."""
        return self.per_unit is not None


@dataclass(frozen=True)
class Adjustment:
    """A discount (charge False) or a surcharge: a fixed ``amount`` or a ``percent`` of the gross amount."""

    charge: bool
    reason: str
    amount: Decimal | None = None
    percent: Decimal | None = None
    code: str | None = None  # discounts: catalog.DISCOUNT_CODES


@dataclass(frozen=True)
class Line:
    """One line of the sale."""

    description: str
    quantity: Decimal
    unit_price: Decimal
    unit: str = "94"  # UN/ECE rec. 20; 94 = unidad
    code: str | None = None  # the seller's item code
    adjustments: tuple[Adjustment, ...] = ()
    taxes: tuple[LineTax, ...] = ()
    reference_price: Decimal | None = None  # set: the line is free of charge, valued at this price
    reference_price_type: str = "03"


@dataclass(frozen=True)
class Withholding:
    """A withholding the buyer will apply (ReteIVA 05, ReteRenta 06, ReteICA 07) at ``rate`` percent.

    ``base`` defaults to the document's IVA for ReteIVA and to its line extension otherwise.
    """

    scheme: str
    rate: Decimal
    base: Decimal | None = None


@dataclass(frozen=True)
class Payment:
    """Forma de pago (1 contado, 2 crédito), medio de pago (B.5) and, on credit, the due date."""

    form: str = "1"
    method: str = "10"
    due_date: date | None = None


@dataclass(frozen=True)
class ExchangeRate:
    """COP per unit of the document's currency, agreed on ``date`` (cac:PaymentExchangeRate)."""

    rate: Decimal
    date: date


@dataclass(frozen=True)
class InvoiceReference:
    """The invoice a note corrects (cac:BillingReference, radian-issuing-facts B.4)."""

    number: str
    uuid: str
    issue_date: date
    uuid_scheme: str = "CUFE-SHA384"


@dataclass(frozen=True)
class Period:
    """The period a note without a referenced invoice covers (cac:InvoicePeriod)."""

    start: date
    end: date


@dataclass(frozen=True)
class PaperInvoice:
    """Type 03: the paper invoice issued during the issuer's own outage (radian-issuing-facts B.3)."""

    number: str
    issue_date: date


@dataclass(frozen=True)
class DeclaredTotals:
    """Totals the caller computed too; each is checked against ours within ±2.00 (radian-issuing-facts B.1)."""

    line_extension: Decimal | None = None
    tax_exclusive: Decimal | None = None
    tax_inclusive: Decimal | None = None
    allowance_total: Decimal | None = None
    charge_total: Decimal | None = None
    payable: Decimal | None = None


@dataclass(frozen=True)
class Payload:
    """One invoice (01-04) or note (91, 92) as the ERP describes it."""

    type: DocumentType
    customer: Customer
    lines: tuple[Line, ...]
    payment: Payment = Payment()
    currency: str = "COP"
    exchange_rate: ExchangeRate | None = None
    adjustments: tuple[Adjustment, ...] = ()  # document level: outside the tax base, they move PayableAmount only
    withholdings: tuple[Withholding, ...] = ()
    notes: tuple[str, ...] = ()
    order_reference: str | None = None
    reference: InvoiceReference | None = None  # notes
    concept: str | None = None  # notes: catalog.CREDIT_NOTE_CONCEPTS / DEBIT_NOTE_CONCEPTS
    concept_description: str | None = None
    period: Period | None = None  # notes without reference
    paper_invoice: PaperInvoice | None = None  # type 03
    declared: DeclaredTotals | None = None

    @property
    def is_note(self) -> bool:
        """True for a credit (91) or debit (92) note."""
        return not self.type.is_invoice
