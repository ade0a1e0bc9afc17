"""DIAN UBL 2.1 documents: namespaces, the typed model, the parser and the builders."""

from dian.ubl.model import (
    Address,
    ApplicationResponse,
    AttachedDocument,
    BillingReference,
    CommercialDocument,
    DiscrepancyResponse,
    DocumentReference,
    InvoiceControl,
    ItemCode,
    Line,
    LineResponse,
    MonetaryTotal,
    Party,
    Person,
    Response,
    TaxSubtotal,
    TaxTotal,
)
from dian.ubl.parse import Document, parse_document

__all__ = [
    "Address",
    "ApplicationResponse",
    "AttachedDocument",
    "BillingReference",
    "CommercialDocument",
    "DiscrepancyResponse",
    "Document",
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
    "parse_document",
]
