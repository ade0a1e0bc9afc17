"""Parse DIAN UBL 2.1 documents (Invoice, CreditNote, DebitNote, AttachedDocument, ApplicationResponse) into the
frozen dataclasses of ``dian.ubl.model``.

Liberal in what real documents vary on (dian-facts.md 3.1): elements are located by name, never by position; the
IssueTime offset may be missing; the sts namespace has two spellings; InvoiceTypeCode is absent on notes. A missing
mandatory element raises ParseError naming its path.

The entry point ``parse_document`` dispatches on the root's name to ``commercial``, ``application_response`` or
``attached``; ``record`` is the walker each reads with, ``values``, ``parties``, ``extensions`` and ``lines`` the
readers they share.
"""

from __future__ import annotations

from lxml import etree

from dian.errors import ParseError
from dian.ubl import namespaces as ns
from dian.ubl.model import ApplicationResponse, AttachedDocument, CommercialDocument
from dian.ubl.parse.application_response import read_application_response
from dian.ubl.parse.attached import attached_payloads, read_attached
from dian.ubl.parse.commercial import read_commercial
from dian.ubl.parse.values import BOGOTA, parse_time
from dian.xmlsafe import parse_xml

__all__ = ["BOGOTA", "Document", "attached_payloads", "parse_document", "parse_time"]

Document = CommercialDocument | AttachedDocument | ApplicationResponse


def parse_document(xml: bytes | etree._Element | etree._ElementTree, *, source: bytes | None = None) -> Document:
    """Parse a DIAN document from bytes or an already-parsed lxml element; dispatch on the root's name."""
    if isinstance(xml, bytes | bytearray | memoryview):
        source = bytes(xml)
        root = parse_xml(source)
    elif isinstance(xml, etree._ElementTree):
        root = xml.getroot()
    elif isinstance(xml, etree._Element):
        # The signature verifier hands over the element its signature covers: every field is read from it.
        # ``source`` (the bytes it was parsed from) only serves to cut exact CDATA payloads out of an AttachedDocument.
        root = xml
    else:
        raise ParseError(f"se esperaban los bytes de un XML o un elemento lxml, no {type(xml).__name__}")
    tag = root.tag
    if not isinstance(tag, str):
        raise ParseError("no es un documento de la DIAN: la raíz no es un elemento")
    namespace, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    if ns.ROOT_NAMESPACES.get(local) != namespace:
        raise ParseError(f"no es un documento de la DIAN: su raíz es {tag}")
    if local == "AttachedDocument":
        return read_attached(root, source)
    if local == "ApplicationResponse":
        return read_application_response(root)
    return read_commercial(root, local)
