"""The three commercial documents (Invoice, CreditNote, DebitNote): their record, type, prefix, billing references
and totals."""

from __future__ import annotations

import re

from lxml import etree

from dian.codes import DocumentType, PaymentMeans
from dian.errors import ParseError, UnsupportedTypeError
from dian.ubl.model import BillingReference, CommercialDocument, DiscrepancyResponse, InvoiceControl, MonetaryTotal
from dian.ubl.parse.extensions import DIAN_EXTENSIONS, read_extensions
from dian.ubl.parse.lines import LINES, read_line, read_tax_totals
from dian.ubl.parse.parties import required_party
from dian.ubl.parse.record import Record, notes, own_text
from dian.ubl.parse.values import HEADER_PATHS, amount, day, issued, parse_environment, required_amount

# [0-9], never \d: see values.py.
_TRAILING_DIGITS = re.compile(r"^(.*?)([0-9]+)$")


def _commercial_record(monetary: str) -> Record:
    return Record(
        lists={
            "extensions": DIAN_EXTENSIONS,
            "supplier": "cac:AccountingSupplierParty/cac:Party",
            "customer": "cac:AccountingCustomerParty/cac:Party",
            "supplier_account": "cac:AccountingSupplierParty/cbc:AdditionalAccountID",
            "customer_account": "cac:AccountingCustomerParty/cbc:AdditionalAccountID",
            **{name: line for name, (line, _) in LINES.items()},
            "tax_totals": "cac:TaxTotal",
            "withholdings": "cac:WithholdingTaxTotal",
            "billing": "cac:BillingReference/cac:InvoiceDocumentReference",
            "notes": "cbc:Note",
        },
        **HEADER_PATHS,
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

_BILLING = Record(number="cbc:ID", uuid="cbc:UUID", uuid_scheme="cbc:UUID/@schemeName", issue_date="cbc:IssueDate")


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
                issue_date=day(_BILLING, f, "issue_date", where),
            )
        )
    return tuple(references)


_PAYMENT_MEANS = frozenset(member.value for member in PaymentMeans)


def read_commercial(root: etree._Element, local: str) -> CommercialDocument:
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
    ext, control = read_extensions(f["extensions"], where)
    number = record.need(f, "number", where)
    issue_date, issue_time, issued_at, assumed = issued(record, f, where)
    line_name, line_record = LINES[local]
    means = f["payment_means"]
    return CommercialDocument(
        document_type=_document_type(f["type_code"], local, where, f["note_type_code"]),
        number=number,
        prefix=_prefix(number, control),
        uuid=record.need(f, "uuid", where),
        uuid_scheme=f["uuid_scheme"],
        environment=parse_environment(record.need(f, "environment", where), where),  # type: ignore[arg-type]
        customization_id=f["customization_id"],
        profile_id=f["profile_id"],
        issue_date=issue_date,
        issue_time=issue_time,
        issued_at=issued_at,
        offset_assumed=assumed,
        due_date=day(record, f, "due_date", where) or day(record, f, "payment_due_date", where),
        payment_means=PaymentMeans(means) if means in _PAYMENT_MEANS else None,
        payment_method_code=f["payment_method_code"],
        currency=f["currency"],
        supplier=required_party(
            f["supplier"], "cac:AccountingSupplierParty/cac:Party", where, own_text(f["supplier_account"])
        ),
        customer=required_party(
            f["customer"], "cac:AccountingCustomerParty/cac:Party", where, own_text(f["customer_account"])
        ),
        lines=tuple(
            read_line(line, line_record, f"{where}/{line_name}[{index}]")
            for index, line in enumerate(f[local], start=1)
        ),
        tax_totals=read_tax_totals(f["tax_totals"], "cac:TaxTotal", where),
        withholdings=read_tax_totals(f["withholdings"], "cac:WithholdingTaxTotal", where),
        monetary_total=MonetaryTotal(
            line_extension=required_amount(record, f, "line_extension", where),
            payable=required_amount(record, f, "payable", where),
            tax_exclusive=amount(record, f, "tax_exclusive", where),
            tax_inclusive=amount(record, f, "tax_inclusive", where),
            allowance_total=amount(record, f, "allowance_total", where),
            charge_total=amount(record, f, "charge_total", where),
            prepaid=amount(record, f, "prepaid", where),
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
        notes=notes(f["notes"]),
    )
