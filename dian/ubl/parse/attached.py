"""AttachedDocument: the container's own (unsigned) fields, read leniently, and the exact bytes of its payloads."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from lxml import etree

from dian.cdata import SetAside
from dian.errors import ParseError
from dian.ubl.model import AttachedDocument
from dian.ubl.parse.parties import required_party
from dian.ubl.parse.record import XML_WS, Fields, Record
from dian.ubl.parse.values import HEADER_PATHS, day, parse_environment, parse_time

_T = TypeVar("_T")
_XML_WS_BYTES = b" \t\r\n"
_CDATA_OPEN = b"<![CDATA["
_CDATA_CLOSE = b"]]>"
_UTF8_NAMES = frozenset({None, "", "utf-8", "utf8", "us-ascii", "ascii"})


class _Payloads:
    """Cuts CDATA payloads out of the original bytes, in document order, checking each against the parsed text."""

    def __init__(self, root: etree._Element, source: bytes | None, aside: SetAside | None = None) -> None:
        encoding = root.getroottree().docinfo.encoding
        self._source = source if encoding is None or encoding.lower() in _UTF8_NAMES else None
        self._aside = aside
        self._cursor = 0

    def take(self, element: etree._Element) -> tuple[bytes, bool]:
        """The payload's exact bytes and True, or its text re-encoded as UTF-8 and False when no source matches."""
        if self._aside is not None and (held := self._aside.payload(element)) is not None:
            raw, self._cursor = held  # a section set aside while parsing (dian.cdata): the file's bytes already
            return raw, True
        expected = (element.text or "").strip(XML_WS).encode("utf-8")
        source = self._source
        if source is not None:
            position = self._cursor
            while (start := source.find(_CDATA_OPEN, position)) >= 0:
                end = source.find(_CDATA_CLOSE, start)
                if end < 0:
                    break
                raw = source[start + len(_CDATA_OPEN) : end].strip(_XML_WS_BYTES)
                # The parser normalised line ends (CRLF -> LF, XML 1.0 section 2.11); the raw slice keeps them. One
                # real DIAN answer in samples/ uses CRLF, so compare modulo line ends and return the raw slice.
                if raw == expected or raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n") == expected:
                    self._cursor = end + len(_CDATA_CLOSE)
                    return raw, True
                position = end + len(_CDATA_CLOSE)
        # No source bytes (an element was given), or the payload was escaped text / split CDATA: re-encode the text.
        return expected, False


_PAYLOAD = "cac:Attachment/cac:ExternalReference/cbc:Description"
_LINE_REFERENCE = "cac:ParentDocumentLineReference/cac:DocumentReference"
_ATTACHED = Record(
    lists={
        "document": _PAYLOAD,
        "answer": f"{_LINE_REFERENCE}/{_PAYLOAD}",
        "sender": "cac:SenderParty",
        "receiver": "cac:ReceiverParty",
    },
    **HEADER_PATHS,
    document_type_text="cbc:DocumentType",
    parent_document_id="cbc:ParentDocumentID",
    reference_id=f"{_LINE_REFERENCE}/cbc:ID",
    reference_uuid=f"{_LINE_REFERENCE}/cbc:UUID",
    reference_uuid_scheme=f"{_LINE_REFERENCE}/cbc:UUID/@schemeName",
    reference_issue_date=f"{_LINE_REFERENCE}/cbc:IssueDate",
    validator_id=f"{_LINE_REFERENCE}/cac:ResultOfVerification/cbc:ValidatorID",
    validation_result_code=f"{_LINE_REFERENCE}/cac:ResultOfVerification/cbc:ValidationResultCode",
    validation_date=f"{_LINE_REFERENCE}/cac:ResultOfVerification/cbc:ValidationDate",
    validation_time=f"{_LINE_REFERENCE}/cac:ResultOfVerification/cbc:ValidationTime",
)


def _lenient(read: Callable[[], _T]) -> _T | None:
    """What ``read`` returns, or None when it raises ParseError: for fields no signature covers."""
    try:
        return read()
    except ParseError:
        return None


_ATTACHED_PAYLOADS = Record(lists={"document": _PAYLOAD, "answer": f"{_LINE_REFERENCE}/{_PAYLOAD}"})


def attached_payloads(
    root: etree._Element, source: bytes | None = None, aside: SetAside | None = None
) -> tuple[bytes, bytes | None, bool]:
    """What an AttachedDocument carries — the signed document's bytes, DIAN's answer's (or None) and whether both are
    the exact bytes of ``source`` — without reading the container's own fields (unsigned: for display only), which
    ``parse_document`` reads as well. ParseError when the document is missing, as ``parse_document`` says it.
    ``aside``: the sections set aside when ``root`` was parsed from ``source`` (``dian.cdata.parse_aside``)."""
    return _payloads(root, source, _ATTACHED_PAYLOADS(root), aside)


def _payloads(
    root: etree._Element, source: bytes | None, f: Fields, aside: SetAside | None = None
) -> tuple[bytes, bytes | None, bool]:
    description = f["document"][0] if f["document"] else None
    if description is None or not (description.text or "").strip(XML_WS):
        raise ParseError(f"falta el elemento obligatorio {_PAYLOAD}", where=f"AttachedDocument/{_PAYLOAD}")
    payloads = _Payloads(root, source, aside)
    document_xml, exact = payloads.take(description)
    answer_xml = None
    answer = f["answer"][0] if f["answer"] else None
    if answer is not None and (answer.text or "").strip(XML_WS):
        answer_xml, answer_exact = payloads.take(answer)
        exact = exact and answer_exact
    return document_xml, answer_xml, exact


def read_attached(root: etree._Element, source: bytes | None) -> AttachedDocument:
    """Read a container liberally: its own fields are not signed, so only a missing embedded document is fatal.

    The signed document inside (and DIAN's signed answer) decide everything; a container written sloppily (a
    ParentDocumentLineReference/IssueDate of "12/07/2022", no cbc:ID, no parties) still yields both payloads, and
    each unreadable container field becomes None (issue 14).
    """
    where = "AttachedDocument"
    f = _ATTACHED(root)
    document_xml, answer_xml, exact = _payloads(root, source, f)
    issue_date = _lenient(lambda: day(_ATTACHED, f, "issue_date", where))
    issue_time = f["issue_time"]
    clock = _lenient(lambda: parse_time(issue_time, where=f"{where}/cbc:IssueTime")) if issue_time else None
    issued_at = datetime.combine(issue_date, clock[0]) if issue_date is not None and clock is not None else None
    return AttachedDocument(
        id=f["number"],
        customization_id=f["customization_id"],
        profile_id=f["profile_id"],
        environment=_lenient(lambda: parse_environment(f["environment"], where)),
        issue_date=issue_date,
        issue_time=issue_time,
        issued_at=issued_at,
        offset_assumed=clock[1] if clock is not None else False,
        document_type_text=f["document_type_text"],
        parent_document_id=f["parent_document_id"],
        sender=_lenient(lambda: required_party(f["sender"], "cac:SenderParty", where)),
        receiver=_lenient(lambda: required_party(f["receiver"], "cac:ReceiverParty", where)),
        document_xml=document_xml,
        dian_response_xml=answer_xml,
        exact_bytes=exact,
        reference_id=f["reference_id"],
        reference_uuid=f["reference_uuid"],
        reference_uuid_scheme=f["reference_uuid_scheme"],
        reference_issue_date=_lenient(lambda: day(_ATTACHED, f, "reference_issue_date", where)),
        validator_id=f["validator_id"],
        validation_result_code=f["validation_result_code"],
        validation_date=_lenient(lambda: day(_ATTACHED, f, "validation_date", where)),
        validation_time=f["validation_time"],
    )
