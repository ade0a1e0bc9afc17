"""Invoices (01-04), credit notes (91) and debit notes (92): the checks of a draft, the document-level parts in each
root's XSD order, and the builders."""

from __future__ import annotations

import dataclasses
from typing import Any

from lxml import etree

from dian.codes import DocumentType, Environment, PaymentMeans
from dian.cufe import software_security_code
from dian.errors import BuildError
from dian.ubl.build.drafts import DocumentDraft, DocumentKey, NumberingRange, Software
from dian.ubl.build.elements import check_time, money, new_root, number, serialize, sub
from dian.ubl.build.envelope import dian_extensions, header
from dian.ubl.build.key import document_key
from dian.ubl.build.lines import allowance_charges, line_extras, line_item, line_start, tax_totals
from dian.ubl.build.parties import accounting_party, check_party
from dian.ubl.model import MonetaryTotal

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


def _lines(root: etree._Element, local: str, draft: DocumentDraft) -> None:
    line_name, quantity_name, *_ = _DOCUMENTS[local]
    for index, line in enumerate(draft.lines, start=1):
        field = f"lines[{index}]"
        element = line_start(root, line_name, quantity_name, line, draft.currency)
        line_extras(element, local, line, draft.currency, field)
        if line.withholdings and local != "Invoice":
            raise BuildError(f"{field}.withholdings: only invoice lines carry cac:WithholdingTaxTotal")
        tax_totals(element, "cac:WithholdingTaxTotal", line.withholdings, draft.currency, f"{field}.withholdings")
        line_item(element, line, draft.currency, field, base_quantity=line.base_quantity)


def monetary_total(root: etree._Element, name: str, total: MonetaryTotal, currency: str) -> None:
    element = sub(root, name)
    sub(
        element,
        "cbc:LineExtensionAmount",
        money(total.line_extension, "monetary_total.line_extension"),
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
            sub(element, child, number(value), currencyID=currency)
    sub(element, "cbc:PayableAmount", money(total.payable, "monetary_total.payable"), currencyID=currency)


def check_draft(draft: DocumentDraft) -> None:
    check_time(draft.issue_time, "issue_time")
    check_party(draft.supplier, "supplier")
    check_party(draft.customer, "customer")
    if not isinstance(draft.environment, Environment):
        raise BuildError(f"environment: expected an Environment, got {draft.environment!r}")
    if not draft.lines:
        raise BuildError("lines: a document needs at least one line")
    if draft.payment_means is PaymentMeans.CREDIT and draft.due_date is None:
        raise BuildError("due_date: a credit sale (PaymentMeans 2) needs a payment due date (dian-facts.md 2.4)")
    for index, total in enumerate(draft.tax_totals, start=1):
        if len({part.scheme_id for part in total.subtotals}) != 1:
            raise BuildError(f"tax_totals[{index}]: one tax scheme per cac:TaxTotal, with at least one subtotal")
    if draft.currency != "COP" and draft.exchange_rate is None:
        raise BuildError(f"exchange_rate: a document in {draft.currency} states its rate to COP (PaymentExchangeRate)")
    if draft.invoice_period is not None and draft.invoice_period.start_date > draft.invoice_period.end_date:
        raise BuildError("invoice_period: the start date is after the end date")
    money(draft.monetary_total.line_extension, "monetary_total.line_extension")
    money(draft.monetary_total.payable, "monetary_total.payable")
    for index, total in enumerate(draft.tax_totals, start=1):
        money(total.amount, f"tax_totals[{index}].amount")


def payment_means(root: etree._Element, draft: DocumentDraft) -> None:
    payment = sub(root, "cac:PaymentMeans")
    sub(payment, "cbc:ID", draft.payment_means.value)
    sub(payment, "cbc:PaymentMeansCode", draft.payment_method_code)
    if draft.due_date is not None:
        sub(payment, "cbc:PaymentDueDate", draft.due_date.isoformat())


def exchange_rate(root: etree._Element, draft: DocumentDraft) -> None:
    rate = draft.exchange_rate
    if rate is None:
        return
    element = sub(root, "cac:PaymentExchangeRate")
    sub(element, "cbc:SourceCurrencyCode", draft.currency)
    sub(element, "cbc:SourceCurrencyBaseRate", "1.00")
    sub(element, "cbc:TargetCurrencyCode", rate.target_currency)
    sub(element, "cbc:TargetCurrencyBaseRate", "1.00")
    sub(element, "cbc:CalculationRate", number(rate.rate))
    sub(element, "cbc:Date", rate.date.isoformat())


def key_and_dates(root: etree._Element, local: str, draft: DocumentDraft, document_type: DocumentType,
                   key: Any) -> None:  # fmt: skip
    """What follows the header in an Invoice or CreditNote (also the documento soporte's, dian/support): the key,
    the dates, the type code, the notes, the currency and the line count."""
    sub(root, "cbc:UUID", key.value, schemeID=draft.environment.value, schemeName=key.scheme)
    sub(root, "cbc:IssueDate", draft.issue_date.isoformat())
    sub(root, "cbc:IssueTime", draft.issue_time)
    if local == "Invoice":
        if draft.due_date is not None:
            sub(root, "cbc:DueDate", draft.due_date.isoformat())
        sub(root, "cbc:InvoiceTypeCode", document_type.value)
    elif local == "CreditNote":
        sub(root, "cbc:CreditNoteTypeCode", document_type.value)
    for note in draft.notes:
        sub(root, "cbc:Note", note)
    sub(root, "cbc:DocumentCurrencyCode", draft.currency)
    sub(root, "cbc:LineCountNumeric", str(len(draft.lines)))


def _build_commercial(
    local: str,
    draft: DocumentDraft,
    document_type: DocumentType,
    key: DocumentKey,
    software: Software,
    numbering: NumberingRange | None,
) -> bytes:
    _, _, total_name, profile, customization = _DOCUMENTS[local]
    root = new_root(local)
    dian_extensions(
        root,
        provider_nit=software.provider_nit,
        provider_dv=software.provider_dv,
        software_id=software.software_id,
        security_code=software_security_code(software.software_id, software.pin, draft.number),
        qr_code=key.qr_text,
        numbering=numbering,
    )
    customization_id = draft.customization_id or _default_customization(draft, customization)
    header(root, customization_id, profile, draft.environment, draft.number)
    key_and_dates(root, local, draft, document_type, key)
    if draft.invoice_period is not None:
        period = sub(root, "cac:InvoicePeriod")
        sub(period, "cbc:StartDate", draft.invoice_period.start_date.isoformat())
        sub(period, "cbc:EndDate", draft.invoice_period.end_date.isoformat())
    if draft.discrepancy_response is not None:
        discrepancy = sub(root, "cac:DiscrepancyResponse")
        if draft.discrepancy_response.reference_id is not None:
            sub(discrepancy, "cbc:ReferenceID", draft.discrepancy_response.reference_id)
        sub(discrepancy, "cbc:ResponseCode", draft.discrepancy_response.code)
        if draft.discrepancy_response.description is not None:
            sub(discrepancy, "cbc:Description", draft.discrepancy_response.description)
    if draft.order_reference is not None:
        sub(root, "cac:OrderReference/cbc:ID", draft.order_reference)
    for reference in draft.billing_references:
        element = sub(root, "cac:BillingReference/cac:InvoiceDocumentReference")
        sub(element, "cbc:ID", reference.number)
        if reference.uuid is not None:
            sub(element, "cbc:UUID", reference.uuid, schemeName=reference.uuid_scheme)
        if reference.issue_date is not None:
            sub(element, "cbc:IssueDate", reference.issue_date.isoformat())
    for additional in draft.additional_references:
        element = sub(root, "cac:AdditionalDocumentReference")
        sub(element, "cbc:ID", additional.id)
        sub(element, "cbc:IssueDate", additional.issue_date.isoformat())
        sub(element, "cbc:DocumentTypeCode", additional.type_code)
    accounting_party(root, "cac:AccountingSupplierParty", draft.supplier)
    accounting_party(root, "cac:AccountingCustomerParty", draft.customer)
    # Each root orders AllowanceCharge, PaymentMeans and PaymentExchangeRate its own way (UBL 2.1 XSDs).
    charges = draft.allowance_charges
    if local == "Invoice":
        payment_means(root, draft)
        allowance_charges(root, charges, draft.currency, "allowance_charges")
        exchange_rate(root, draft)
    elif local == "CreditNote":
        payment_means(root, draft)
        exchange_rate(root, draft)
        allowance_charges(root, charges, draft.currency, "allowance_charges")
    else:
        allowance_charges(root, charges, draft.currency, "allowance_charges")
        payment_means(root, draft)
        exchange_rate(root, draft)
    tax_totals(root, "cac:TaxTotal", draft.tax_totals, draft.currency, "tax_totals")
    if draft.withholdings and local != "Invoice":
        raise BuildError("withholdings: only invoices carry cac:WithholdingTaxTotal")
    tax_totals(root, "cac:WithholdingTaxTotal", draft.withholdings, draft.currency, "withholdings")
    monetary_total(root, total_name, draft.monetary_total, draft.currency)
    _lines(root, local, draft)
    return serialize(root)


def _default_customization(draft: DocumentDraft, default: str) -> str:
    # Notes without a referenced invoice are operation 22 (credit) / 32 (debit), radian-issuing-facts B.4.
    if default in {"20", "30"} and not draft.billing_references:
        return "22" if default == "20" else "32"
    return default


def build_invoice(draft: DocumentDraft, *, software: Software, numbering: NumberingRange) -> bytes:
    """Build an unsigned invoice (01-04) with InvoiceControl and its CUFE (03: CUDE), radian-issuing-facts B.1-B.2."""
    check_draft(draft)
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
    check_draft(draft)
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
