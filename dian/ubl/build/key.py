"""The CUFE or CUDE of an invoice or note draft, and the QR text made from the same hashed values
(dian-facts.md 1.2, radian-issuing-facts B.2 and B.6)."""

from __future__ import annotations

from decimal import Decimal

from dian.codes import DocumentType
from dian.cufe import KeyFields, document_key_fields, format_amount
from dian.errors import BuildError
from dian.ubl.build.drafts import DocumentDraft, DocumentKey, NumberingRange, Software
from dian.ubl.build.envelope import qr_url


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
