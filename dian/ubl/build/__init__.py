"""Build unsigned DIAN UBL 2.1 documents that parse back to what was put in.

Every builder returns UTF-8 bytes with an XML declaration, not pretty-printed. Documents that DIAN signs carry in
``ext:UBLExtensions`` first ``sts:DianExtensions``, then one ``<ds:Signature Id="placeholder"/>`` that the signer
replaces (dian-facts.md 11). The prefixes ext, cbc, cac, ds, xades, xades141 and sts are declared on the root.

The inputs are in drafts; the XML pieces in elements, envelope (extensions, header), parties and lines; the
builders in commercial (invoices and notes, keyed by key), event, validation and attached.
"""

from dian.ubl.build.attached import build_attached_document
from dian.ubl.build.commercial import build_credit_note, build_debit_note, build_invoice
from dian.ubl.build.drafts import (
    AdditionalReference,
    AllowanceCharge,
    AttachedDraft,
    DocumentDraft,
    DocumentKey,
    DraftLine,
    EventDraft,
    ExchangeRate,
    InvoicePeriod,
    NumberingRange,
    Software,
    UnitTaxSubtotal,
    ValidationDraft,
)
from dian.ubl.build.envelope import qr_url
from dian.ubl.build.event import build_event
from dian.ubl.build.key import document_key
from dian.ubl.build.validation import DIAN_PARTY as DIAN_PARTY
from dian.ubl.build.validation import build_validation_response

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
