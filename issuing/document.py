"""Turn a native payload into the signed document DIAN receives: totals → UBL → CUFE/CUDE → XAdES → zip.

Everything the document needs beyond the payload is passed in — the issuing company and its software, the signing
identity, the numbering (prefix, consecutive and, for invoices, the DIAN range with its technical key), the
environment and the moment of issue — nothing is read from configuration, files or the clock here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from dian.codes import DocumentType, Environment, PaymentMeans
from dian.errors import BuildError, SignatureError
from dian.soap.packaging import zip_one
from dian.trust import SigningIdentity
from dian.ubl.build import (
    AdditionalReference,
    AllowanceCharge,
    DocumentDraft,
    DocumentKey,
    DraftLine,
    ExchangeRate,
    InvoicePeriod,
    NumberingRange,
    Software,
    UnitTaxSubtotal,
    build_credit_note,
    build_debit_note,
    build_invoice,
    document_key,
)
from dian.ubl.model import (
    Address,
    BillingReference,
    DiscrepancyResponse,
    ItemCode,
    MonetaryTotal,
    Party,
    TaxSubtotal,
    TaxTotal,
)
from dian.xades import sign
from issuing import catalog
from issuing.payload import Customer, Payload
from issuing.problems import PayloadError, Problem
from issuing.totals import AdjustmentAmount, TaxAmount, TaxGroup, Totals, check_declared, compute_totals

__all__ = ["BOGOTA", "IssuedDocument", "Issuer", "Numbering", "draft_of", "issue_document"]

# Colombia keeps UTC-5 all year; the offset is written into IssueTime and enters the CUFE (dian-facts 1.2).
BOGOTA = dt.timezone(dt.timedelta(hours=-5))
_FILE_PREFIX = {"Invoice": "fv", "CreditNote": "nc", "DebitNote": "nd"}


@dataclass(frozen=True)
class Issuer:
    """The company that issues, its DIAN-registered software and the certificate that signs."""

    party: Party
    software: Software
    identity: SigningIdentity
    role: str = "supplier"  # "third party" when a provider signs (dian-facts 5)
    provider_code: str = "000"  # PPP of the file names: 000 for own software (dian-facts 4.3)


@dataclass(frozen=True)
class Numbering:
    """The number this document takes: prefix and consecutive; invoices also carry the DIAN range (technical key)."""

    prefix: str
    number: int
    range: NumberingRange | None = None
    file_sequence: int | None = None  # DDDDDDDD of the file names; defaults to the consecutive

    @property
    def document_number(self) -> str:
        """cbc:ID: prefix followed by the consecutive."""
        return f"{self.prefix}{self.number}"


@dataclass(frozen=True)
class IssuedDocument:
    """A signed invoice or note, its key, the QR text, and the zip to send."""

    payload: Payload
    totals: Totals
    number: str
    issued_at: dt.datetime
    key: DocumentKey
    xml: bytes  # the exact signed bytes; never re-serialize them (DESIGN.md 5)
    file_name: str
    zip_name: str

    @property
    def zip_bytes(self) -> bytes:
        """The zip DIAN receives: what the client sends (``zip_one``), byte for byte."""
        return zip_one(self.file_name, self.xml)

    @property
    def uuid(self) -> str:
        """The CUFE or CUDE."""
        return self.key.value

    @property
    def qr_text(self) -> str:
        """The QR text of radian-issuing-facts B.6, built from the values hashed into the key."""
        return self.key.qr_text


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


def _percent(value: Decimal) -> Decimal:
    # DIAN writes rates with two decimals ("19.00"); a finer rate (ReteICA 0.966) keeps its own.
    return value if value.as_tuple().exponent < -2 else value.quantize(Decimal("0.01"))  # type: ignore[operator]


def _party(customer: Customer) -> Party:
    address = customer.address
    return Party(
        nit=customer.id,
        registration_name=customer.name,
        dv=customer.dv,
        id_scheme=customer.id_type,
        trade_name=customer.trade_name,
        tax_level_codes=customer.tax_levels,
        tax_scheme_id=customer.tax_scheme,
        tax_scheme_name="IVA" if customer.tax_scheme == "01" else "No aplica",
        address=Address(
            city=address.city,
            city_code=address.city_code,
            department=address.department,
            department_code=address.department_code,
            country=address.country,
            line=address.line,
        )
        if address is not None
        else None,
        email=customer.email,
        phone=customer.phone,
        organization_type=customer.organization,
    )


def _subtotal(tax: TaxAmount) -> TaxSubtotal:
    if tax.per_unit is not None:
        return UnitTaxSubtotal(
            scheme_id=tax.scheme,
            scheme_name=tax.name,
            amount=tax.amount,
            taxable_amount=tax.base,  # the number of units taxed
            per_unit_amount=_money(tax.per_unit),
            base_unit_measure=Decimal("1"),
            unit_code=tax.unit,
        )
    return TaxSubtotal(
        scheme_id=tax.scheme,
        scheme_name=tax.name,
        amount=tax.amount,
        taxable_amount=tax.base,
        percent=_percent(tax.rate) if tax.rate is not None else None,
    )


def _tax_totals(groups: tuple[TaxGroup, ...]) -> tuple[TaxTotal, ...]:
    return tuple(
        TaxTotal(amount=group.amount, subtotals=tuple(_subtotal(s) for s in group.subtotals)) for group in groups
    )


def _charges(items: tuple[AdjustmentAmount, ...]) -> tuple[AllowanceCharge, ...]:
    return tuple(
        AllowanceCharge(
            charge=item.adjustment.charge,
            amount=item.amount,
            base_amount=item.base,
            percent=_percent(item.adjustment.percent) if item.adjustment.percent is not None else None,
            reason=item.adjustment.reason,
            reason_code=item.adjustment.code,
        )
        for item in items
    )


def draft_of(
    payload: Payload,
    totals: Totals,
    *,
    supplier: Party,
    number: str,
    issued_at: dt.datetime,
    environment: Environment,
) -> DocumentDraft:
    """The builder's draft for a payload and its computed totals (no signature, no numbering checks)."""
    local = issued_at.astimezone(BOGOTA)
    lines = []
    for index, (line, computed) in enumerate(zip(payload.lines, totals.lines, strict=True), start=1):
        codes = (ItemCode("standard", line.code, scheme_id="999"),) if line.code else ()
        lines.append(
            DraftLine(
                id=str(index),
                quantity=line.quantity,
                unit_code=line.unit,
                description=line.description,
                line_extension_amount=computed.line_extension,
                unit_price=line.unit_price,
                base_quantity=Decimal("1"),
                taxes=tuple(TaxTotal(tax.amount, (_subtotal(tax),)) for tax in computed.taxes),
                item_codes=codes,
                allowance_charges=_charges(computed.adjustments),
                free_of_charge=line.reference_price is not None,
                reference_price=line.reference_price,
                reference_price_type=line.reference_price_type,
            )
        )
    reference = payload.reference
    concepts = catalog.CREDIT_NOTE_CONCEPTS if payload.type is DocumentType.CREDIT_NOTE else catalog.DEBIT_NOTE_CONCEPTS
    return DocumentDraft(
        number=number,
        issue_date=local.date(),
        issue_time=local.strftime("%H:%M:%S-05:00"),
        environment=environment,
        supplier=supplier,
        customer=_party(payload.customer),
        lines=tuple(lines),
        monetary_total=MonetaryTotal(
            line_extension=totals.line_extension,
            payable=totals.payable,
            tax_exclusive=totals.tax_exclusive,
            tax_inclusive=totals.tax_inclusive,
            allowance_total=totals.allowance_total,
            charge_total=totals.charge_total,
        ),
        tax_totals=_tax_totals(totals.taxes),
        withholdings=_tax_totals(totals.withholdings),
        currency=payload.currency,
        document_type=payload.type,
        due_date=payload.payment.due_date,
        payment_means=PaymentMeans(payload.payment.form),
        payment_method_code=payload.payment.method,
        notes=payload.notes,
        order_reference=payload.order_reference,
        billing_references=(
            BillingReference(reference.number, reference.uuid, reference.uuid_scheme, reference.issue_date),
        )
        if reference is not None
        else (),
        discrepancy_response=DiscrepancyResponse(
            reference_id=reference.number if reference is not None else None,
            code=payload.concept,
            description=payload.concept_description or concepts[payload.concept],
        )
        if payload.is_note and payload.concept is not None
        else None,
        allowance_charges=_charges(totals.adjustments),
        exchange_rate=ExchangeRate(payload.exchange_rate.rate, payload.exchange_rate.date)
        if payload.exchange_rate is not None
        else None,
        invoice_period=InvoicePeriod(payload.period.start, payload.period.end) if payload.period is not None else None,
        additional_references=(AdditionalReference(payload.paper_invoice.number, payload.paper_invoice.issue_date),)
        if payload.paper_invoice is not None
        else (),
    )


def _numbering_problems(payload: Payload, numbering: Numbering, day: dt.date) -> list[Problem]:
    problems = []
    if payload.type.is_invoice:
        authorized = numbering.range
        if authorized is None:
            return [Problem("", "una factura necesita el rango de numeración autorizado por la DIAN")]
        if numbering.prefix != authorized.prefix:
            problems.append(
                Problem("/prefix", f"el prefijo {numbering.prefix} no es el del rango ({authorized.prefix})")
            )
        if not authorized.from_number <= numbering.number <= authorized.to_number:
            problems.append(
                Problem(
                    "/number",
                    f"el consecutivo {numbering.number} está fuera del rango autorizado "
                    f"{authorized.from_number}-{authorized.to_number}",
                )
            )
        if not authorized.start_date <= day <= authorized.end_date:
            problems.append(
                Problem(
                    "",
                    f"la resolución {authorized.authorization} no está vigente el {day} "
                    f"({authorized.start_date} a {authorized.end_date})",
                )
            )
    elif numbering.number < 0:
        problems.append(Problem("/number", "el consecutivo no puede ser negativo"))
    return problems


def _date_problems(payload: Payload, day: dt.date) -> list[Problem]:
    problems = []
    if payload.payment.due_date is not None and payload.payment.due_date < day:
        problems.append(Problem("/payment/due_date", f"el vencimiento es anterior a la fecha de expedición {day}"))
    if payload.reference is not None and payload.reference.issue_date > day:
        problems.append(Problem("/reference/issue_date", "la factura referenciada es posterior a la nota"))
    if payload.paper_invoice is not None and payload.paper_invoice.issue_date > day:
        problems.append(Problem("/paper_invoice/issue_date", "la factura de talonario es posterior a su transmisión"))
    return problems


def issue_document(
    payload: Payload,
    *,
    issuer: Issuer,
    numbering: Numbering,
    environment: Environment,
    issued_at: dt.datetime,
) -> IssuedDocument:
    """Compute, build, key, sign and zip one document; PayloadError lists every reason it cannot be issued."""
    if issued_at.tzinfo is None or issued_at.utcoffset() is None:
        raise ValueError(f"issued_at must carry a UTC offset, got {issued_at!r}")
    day = issued_at.astimezone(BOGOTA).date()
    totals = compute_totals(payload)
    problems = [*check_declared(totals, payload.declared), *_numbering_problems(payload, numbering, day)]
    problems += _date_problems(payload, day)
    if problems:
        raise PayloadError(problems)
    number = numbering.document_number
    draft = draft_of(
        payload, totals, supplier=issuer.party, number=number, issued_at=issued_at, environment=environment
    )
    try:
        if payload.type.is_invoice:
            assert numbering.range is not None  # checked above
            unsigned = build_invoice(draft, software=issuer.software, numbering=numbering.range)
        elif payload.type is DocumentType.CREDIT_NOTE:
            unsigned = build_credit_note(draft, software=issuer.software)
        else:
            unsigned = build_debit_note(draft, software=issuer.software)
        key = document_key(draft, software=issuer.software, numbering=numbering.range)
        signed = sign(unsigned, issuer.identity, signing_time=issued_at.astimezone(BOGOTA), role=issuer.role)
    except (BuildError, SignatureError) as exc:
        raise PayloadError([Problem("", f"no se pudo construir el documento: {exc}")]) from exc
    local = (
        "Invoice"
        if payload.type.is_invoice
        else ("CreditNote" if payload.type is DocumentType.CREDIT_NOTE else "DebitNote")
    )
    sequence = numbering.file_sequence if numbering.file_sequence is not None else numbering.number
    stem = f"{issuer.party.nit.zfill(10)}{issuer.provider_code}{day:%y}{sequence % 0x100000000:08X}"
    file_name = f"{_FILE_PREFIX[local]}{stem}.xml"
    zip_name = f"z{stem}.zip"
    return IssuedDocument(
        payload=payload,
        totals=totals,
        number=number,
        issued_at=issued_at,
        key=key,
        xml=signed,
        file_name=file_name,
        zip_name=zip_name,
    )
