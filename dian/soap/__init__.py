"""DIAN's web service WcfDianCustomerServices: a typed SOAP 1.2 client with WS-Security (dian-facts 6, 11)."""

from dian.soap.client import ENDPOINTS, DianClient, endpoint_for, zip_name_for
from dian.soap.errors import DianFault, DianRejected, DianServiceError, DianTransportError
from dian.soap.packaging import document_file_name, read_zip, zip_file_name, zip_one
from dian.soap.results import (
    Acquirer,
    DianMessage,
    DianResponse,
    DocumentEvent,
    DocumentInfo,
    DocumentParty,
    DocumentXml,
    ExchangeEmails,
    NumberingRangeInfo,
    NumberingRanges,
    UploadError,
    UploadResult,
    parse_message,
)
from dian.soap.wsse import SecurityHeaderError, VerifiedCaller, WsSecurity, check_request

__all__ = [
    "ENDPOINTS",
    "Acquirer",
    "DianClient",
    "DianFault",
    "DianMessage",
    "DianRejected",
    "DianResponse",
    "DianServiceError",
    "DianTransportError",
    "DocumentEvent",
    "DocumentInfo",
    "DocumentParty",
    "DocumentXml",
    "ExchangeEmails",
    "NumberingRangeInfo",
    "NumberingRanges",
    "SecurityHeaderError",
    "UploadError",
    "UploadResult",
    "VerifiedCaller",
    "WsSecurity",
    "check_request",
    "document_file_name",
    "endpoint_for",
    "parse_message",
    "read_zip",
    "zip_file_name",
    "zip_name_for",
    "zip_one",
]
