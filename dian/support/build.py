"""Build the unsigned documento soporte (05, root Invoice) and its adjustment note (95, root CreditNote),
radian-issuing-facts C.1-C.4, on the commercial builder's parts (dian.ubl.build) with what differs:

* roles inverted (C.1): the draft's ``supplier`` is the seller not obliged to invoice, its ``customer`` is us; the
  software, the InvoiceControl and the signature are ours;
* ProfileID, CustomizationID 10/11 and UUID @schemeName CUDS-SHA384 from literals.py; sts:QRCode the URL only;
* each 05 line carries cac:InvoicePeriod with its generation mode (1 por operación, 2 acumulado semanal) and start;
* withholdings (ReteIVA 05, ReteRenta 06) in cac:WithholdingTaxTotal at document and line level (05 only);
* the 95 references its 05 (BillingReference with the CUDS) and states its concept 1-5 (DiscrepancyResponse).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from dian.codes import DocumentType
from dian.cufe import software_security_code
from dian.errors import BuildError
from dian.support import literals
from dian.support.cuds import CudsFields, cuds_fields, qr_text, qr_url
from dian.ubl.build import DocumentDraft, DraftLine, NumberingRange, Software
from dian.ubl.build.commercial import check_draft, exchange_rate, key_and_dates, monetary_total, payment_means
from dian.ubl.build.elements import new_root, serialize, sub
from dian.ubl.build.envelope import dian_extensions, header
from dian.ubl.build.lines import allowance_charges, line_item, line_start, tax_totals
from dian.ubl.build.parties import accounting_party

__all__ = ["Generation", "SupportDraft", "SupportKey", "build_support", "support_key"]


@dataclass(frozen=True)
class Generation:
    """One line's forma de generación y transmisión (C.3): mode 1 por operación, 2 acumulado semanal, from ``start``."""

    mode: str
    start: date


@dataclass(frozen=True)
class SupportDraft:
    """A 05 or 95: the commercial draft (supplier = the seller, customer = us) plus what only a DS carries."""

    draft: DocumentDraft
    resident: bool = True
    generations: tuple[Generation, ...] = ()  # 05: one per line

    @property
    def document_type(self) -> DocumentType:
        return self.draft.document_type or DocumentType.SUPPORT_DOCUMENT

    @property
    def customization_id(self) -> str:
        return literals.RESIDENT if self.resident else literals.NON_RESIDENT


@dataclass(frozen=True)
class SupportKey:
    """The CUDS, the fields it hashes, and the printed QR text."""

    value: str
    fields: CudsFields
    qr_text: str
    scheme: str = literals.CUDS_SCHEME


def support_key(support: SupportDraft, *, pin: str) -> SupportKey:
    """The CUDS of a 05 or 95 (C.2): one tax pair, the first TaxTotal's (01 and 0.00 without one)."""
    draft = support.draft
    first = draft.tax_totals[0] if draft.tax_totals else None
    fields = cuds_fields(
        number=draft.number,
        issue_date=draft.issue_date,
        issue_time=draft.issue_time,
        line_extension=draft.monetary_total.line_extension,
        tax_code=(first.scheme_id or "01") if first is not None else "01",
        tax_amount=first.amount if first is not None else Decimal("0.00"),
        payable=draft.monetary_total.payable,
        seller_id=draft.supplier.nit,
        buyer_nit=draft.customer.nit,
        pin=pin,
        environment=draft.environment.value,
    )
    value = fields.digest()
    return SupportKey(value, fields, qr_text(fields, value, draft.environment))


def _zero():
    from decimal import Decimal

    return Decimal("0.00")


def _check(support: SupportDraft, numbering: NumberingRange | None) -> None:
    draft = support.draft
    check_draft(draft)
    kind = support.document_type
    if kind is DocumentType.SUPPORT_DOCUMENT:
        if numbering is None:
            raise BuildError("numbering: a documento soporte carries its own DIAN range (C.5)")
        if not draft.number.startswith(numbering.prefix) or not draft.number[len(numbering.prefix) :].isdigit():
            raise BuildError(f"number: {draft.number!r} is not prefix {numbering.prefix!r} followed by digits")
        if not numbering.from_number <= int(draft.number[len(numbering.prefix) :]) <= numbering.to_number:
            raise BuildError(f"number: {draft.number} is outside the authorized range")
        if len(support.generations) != len(draft.lines):
            raise BuildError("generations: each line of a documento soporte states its generation mode (C.3)")
        for index, generation in enumerate(support.generations, start=1):
            if generation.mode not in literals.GENERATION_MODES:
                raise BuildError(f"generations[{index}].mode: 1 or 2, got {generation.mode!r}")
        if draft.billing_references or draft.discrepancy_response is not None:
            raise BuildError("billing_references: only the adjustment note (95) references a documento soporte")
    elif kind is DocumentType.SUPPORT_ADJUSTMENT:
        if not draft.billing_references or draft.discrepancy_response is None:
            raise BuildError("billing_references/discrepancy_response: a 95 references its 05 and states its concept")
        if draft.discrepancy_response.code not in literals.ADJUSTMENT_CONCEPTS:
            raise BuildError(f"discrepancy_response.code: 1-5, got {draft.discrepancy_response.code!r}")
        if draft.withholdings or any(line.withholdings for line in draft.lines):
            raise BuildError("withholdings: CreditNote has no cac:WithholdingTaxTotal")
    else:
        raise BuildError(f"document_type: 05 or 95, got {kind.value}")
    if support.resident and draft.supplier.address is None:
        raise BuildError("supplier.address: a resident seller (CustomizationID 10) states its address (C.1)")


def _lines(root, support: SupportDraft, local: str) -> None:
    draft = support.draft
    invoice = ("cac:InvoiceLine", "cbc:InvoicedQuantity")
    line_name, quantity_name = invoice if local == "Invoice" else ("cac:CreditNoteLine", "cbc:CreditedQuantity")
    for index, line in enumerate(draft.lines, start=1):
        field = f"lines[{index}]"
        element = line_start(root, line_name, quantity_name, line, draft.currency)
        charges = line.allowance_charges if isinstance(line, DraftLine) else ()
        if local == "Invoice":
            generation = support.generations[index - 1]
            period = sub(element, "cac:InvoicePeriod")
            sub(period, "cbc:StartDate", generation.start.isoformat())
            sub(period, "cbc:DescriptionCode", generation.mode)
            sub(period, "cbc:Description", literals.GENERATION_MODES[generation.mode])
            allowance_charges(element, charges, draft.currency, f"{field}.allowance_charges")
            tax_totals(element, "cac:TaxTotal", line.taxes, draft.currency, f"{field}.taxes")
            tax_totals(element, "cac:WithholdingTaxTotal", line.withholdings, draft.currency, f"{field}.withholdings")
        else:
            tax_totals(element, "cac:TaxTotal", line.taxes, draft.currency, f"{field}.taxes")
            allowance_charges(element, charges, draft.currency, f"{field}.allowance_charges")
        line_item(element, line, draft.currency, field, base_quantity=line.base_quantity or line.quantity)


def build_support(support: SupportDraft, *, software: Software, numbering: NumberingRange | None = None) -> bytes:
    """The unsigned 05 (with its DIAN range, ``numbering``) or 95, keyed with the CUDS (software PIN)."""
    _check(support, numbering)
    draft = support.draft
    kind = support.document_type
    key = support_key(support, pin=software.pin)
    local = "Invoice" if kind is DocumentType.SUPPORT_DOCUMENT else "CreditNote"
    root = new_root(local)
    dian_extensions(
        root,
        provider_nit=software.provider_nit,
        provider_dv=software.provider_dv,
        software_id=software.software_id,
        security_code=software_security_code(software.software_id, software.pin, draft.number),
        qr_code=qr_url(key.value, draft.environment) if literals.QR_RULE_URL_ONLY else key.qr_text,
        numbering=numbering if local == "Invoice" else None,
    )
    profile = literals.DS_PROFILE_ID if local == "Invoice" else literals.ADJUSTMENT_PROFILE_ID
    customization = support.customization_id
    if local == "CreditNote":
        customization = literals.ADJUSTMENT_CUSTOMIZATION[customization]
    header(root, customization, profile, draft.environment, draft.number)
    key_and_dates(root, local, draft, kind, key)
    if draft.discrepancy_response is not None:
        discrepancy = sub(root, "cac:DiscrepancyResponse")
        response = draft.discrepancy_response
        sub(discrepancy, "cbc:ReferenceID", response.reference_id or draft.billing_references[0].number)
        sub(discrepancy, "cbc:ResponseCode", response.code)
        sub(discrepancy, "cbc:Description", response.description or literals.ADJUSTMENT_CONCEPTS[response.code])
    for reference in draft.billing_references:
        element = sub(root, "cac:BillingReference/cac:InvoiceDocumentReference")
        sub(element, "cbc:ID", reference.number)
        sub(element, "cbc:UUID", reference.uuid, schemeName=literals.CUDS_SCHEME)
        if reference.issue_date is not None:
            sub(element, "cbc:IssueDate", reference.issue_date.isoformat())
    accounting_party(root, "cac:AccountingSupplierParty", draft.supplier)
    accounting_party(root, "cac:AccountingCustomerParty", draft.customer)
    payment_means(root, draft)
    if local == "Invoice":
        allowance_charges(root, draft.allowance_charges, draft.currency, "allowance_charges")
        exchange_rate(root, draft)
    else:
        exchange_rate(root, draft)
        allowance_charges(root, draft.allowance_charges, draft.currency, "allowance_charges")
    tax_totals(root, "cac:TaxTotal", draft.tax_totals, draft.currency, "tax_totals")
    tax_totals(root, "cac:WithholdingTaxTotal", draft.withholdings, draft.currency, "withholdings")
    monetary_total(root, "cac:LegalMonetaryTotal", draft.monetary_total, draft.currency)
    _lines(root, support, local)
    return serialize(root)
