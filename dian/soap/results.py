"""Frozen results of DIAN's web-service operations, read from the answer's data-contract elements with lxml.

DIAN's ``ErrorMessage`` strings read ``Regla: <code>, Rechazo: <text>`` or ``Regla: <code>, Notificación: <text>``
(dian-facts 6.5, 10); they become :class:`DianMessage` values. A single ``Regla: 90 … Documento procesado
anteriormente`` means the document is already registered: the answer then carries the stored key, file name and the
original ApplicationResponse (dian-facts 10). StatusCode 98 ("En Proceso") and 66 (not found, or its batch still being
validated) are not final: DIAN has not decided yet, so they are asked again later, never taken as a rejection
(dian-facts 6.5).
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from dataclasses import dataclass, field

from lxml import etree

from dian.codes import NOT_FINAL_STATUS
from dian.errors import DianError

__all__ = [
    "NOT_FINAL_CODES",
    "Acquirer",
    "DianMessage",
    "DianResponse",
    "DocumentEvent",
    "DocumentInfo",
    "DocumentParty",
    "DocumentXml",
    "ExchangeEmails",
    "NumberingRangeInfo",
    "NumberingRanges",
    "UnreadableAnswer",
    "UploadError",
    "UploadResult",
    "parse_message",
]

_MESSAGE = re.compile(
    r"^\s*Regla\s*:\s*(?P<rule>[^,]+?)\s*,\s*(?P<kind>Rechazo|Notificaci[oó]n|Notificacion)\s*:\s*(?P<text>.*)$",
    re.DOTALL | re.IGNORECASE,
)
ALREADY_REGISTERED_RULE = "90"
NOT_FINAL_CODES = NOT_FINAL_STATUS  # StatusCodes that are not DIAN's final word (dian.codes, dian-facts 6.5)


def _squash(text: str) -> str:
    # Pretty-printed answers break lines inside the strings (dian-responses/PROVENANCE, group B).
    return " ".join(text.split())


@dataclass(frozen=True)
class DianMessage:
    """One DIAN message: the rule code, ``Rechazo`` or ``Notificación`` (None when unstructured), and the text."""

    rule: str | None
    kind: str | None
    text: str

    @property
    def is_rejection(self) -> bool:
        """True for ``Rechazo`` (and for unstructured messages, which DIAN only sends on failures)."""
        return self.kind != "Notificación"

    def render(self) -> str:
        """The message as DIAN writes it."""
        if self.rule is None:
            return self.text
        return f"Regla: {self.rule}, {self.kind}: {self.text}"


def parse_message(raw: str) -> DianMessage:
    """Parse one ``ErrorMessage`` string; anything unexpected becomes an unstructured message."""
    text = _squash(raw or "")
    match = _MESSAGE.match(text)
    if not match:
        return DianMessage(rule=None, kind=None, text=text)
    kind = match["kind"]
    folded = unicodedata.normalize("NFKD", kind).encode("ascii", "ignore").decode().lower()
    return DianMessage(
        rule=match["rule"].strip(),
        kind="Rechazo" if folded == "rechazo" else "Notificación",
        text=match["text"].strip(),
    )


@dataclass(frozen=True)
class DianResponse:
    """DIAN's ``DianResponse`` (SendBillSync, SendEventUpdateStatus, GetStatus, GetStatusZip, GetStatusEvent)."""

    is_valid: bool
    status_code: str
    status_description: str
    status_message: str
    messages: tuple[DianMessage, ...] = ()
    xml: bytes | None = None  # XmlBase64Bytes decoded: DIAN's ApplicationResponse
    document_key: str | None = None  # XmlDocumentKey: the CUFE/CUDE DIAN holds
    file_name: str | None = None  # XmlFileName

    @property
    def accepted(self) -> bool:
        """True when DIAN processed the document correctly (StatusCode 00, IsValid)."""
        return self.is_valid and self.status_code == "00"

    @property
    def notifications(self) -> tuple[DianMessage, ...]:
        """The messages that did not block validation."""
        return tuple(m for m in self.messages if not m.is_rejection)

    @property
    def rejections(self) -> tuple[DianMessage, ...]:
        """The messages that blocked it."""
        return tuple(m for m in self.messages if m.is_rejection)

    @property
    def not_final(self) -> bool:
        """True for StatusCode 98 (en proceso) and 66 (not found / batch still validating): DIAN has not decided."""
        return not self.accepted and self.status_code in NOT_FINAL_CODES

    @property
    def already_registered(self) -> bool:
        """True for StatusCode 99 whose only rejection is ``Regla: 90`` (documento procesado anteriormente)."""
        rejections = self.rejections
        return not self.is_valid and bool(rejections) and all(m.rule == ALREADY_REGISTERED_RULE for m in rejections)


@dataclass(frozen=True)
class UploadError:
    """One ``XmlParamsResponseTrackId`` of an asynchronous upload refused at once."""

    document_key: str | None
    message: str
    sender_code: str | None
    success: bool
    file_name: str | None


@dataclass(frozen=True)
class UploadResult:
    """``UploadDocumentResponse`` of SendBillAsync / SendTestSetAsync: a ZipKey to poll, or the upload errors."""

    zip_key: str | None
    errors: tuple[UploadError, ...] = ()


@dataclass(frozen=True)
class NumberingRangeInfo:
    """One ``NumberRangeResponse``: an authorization with its technical key (the ClTec of the CUFE)."""

    resolution_number: str
    resolution_date: str | None
    prefix: str
    from_number: int
    to_number: int
    valid_from: str | None
    valid_to: str | None
    technical_key: str | None


@dataclass(frozen=True)
class NumberingRanges:
    """``NumberRangeResponseList``: OperationCode 100 with ranges, or 401/others with a description."""

    operation_code: str
    description: str
    ranges: tuple[NumberingRangeInfo, ...] = ()

    @property
    def ok(self) -> bool:
        """True when DIAN answered with the ranges (OperationCode 100)."""
        return self.operation_code == "100"


@dataclass(frozen=True)
class DocumentXml:
    """``EventResponse`` of GetXmlByDocumentKey: Code 100 with the XML, 404 not found, 401 not authorized."""

    code: str
    message: str
    validation_date: str | None
    xml: bytes | None

    @property
    def found(self) -> bool:
        """True when DIAN returned the document (Code 100)."""
        return self.code == "100" and self.xml is not None


@dataclass(frozen=True)
class ExchangeEmails:
    """``ExchangeEmailResponse``: the CSV of registered reception e-mails (dian-facts 4.1)."""

    success: bool
    status_code: str
    message: str
    csv: bytes | None

    def rows(self) -> list[dict[str, str]]:
        """The CSV as dicts keyed by its header line."""
        import csv
        import io

        if not self.csv:
            return []
        return list(csv.DictReader(io.StringIO(self.csv.decode("utf-8-sig"))))


@dataclass(frozen=True)
class Acquirer:
    """``AdquirienteResponse`` of GetAcquirer: a buyer's registered name and e-mail; empty when unknown."""

    status_code: str
    message: str
    name: str | None
    email: str | None

    @property
    def found(self) -> bool:
        """True when DIAN knows the buyer's name or e-mail."""
        return bool(self.name or self.email)


@dataclass(frozen=True)
class DocumentParty:
    """An ``Entidad`` of GetDocumentInfo: a name, an identification number and its type (DIAN may write "Nit")."""

    name: str | None
    number: str | None
    id_type: str | None


@dataclass(frozen=True)
class DocumentEvent:
    """One ``Evento`` of GetDocumentInfo: its code (030-051), description, CUDE, sender and receiver."""

    code: str
    description: str
    uuid: str | None
    issuer: DocumentParty | None
    receiver: DocumentParty | None
    issue_date: str | None


@dataclass(frozen=True)
class DocumentInfo:
    """``DocumentInfoResponse`` of GetDocumentInfo (RADIAN): the document, its events and its legitimate holder.

    DIAN's ``LegitimoTenedor`` names the holder and the date it became a título valor, and carries no NIT:
    ``holder_number`` is only set if an answer ever carries a ``NumeroDoc`` there. The NIT of a new holder is the
    receiver of the last 037 in ``events`` (for radian/ to confirm from the event's XML). Only the first
    ``Documento`` is read into fields; ``raw`` is the whole ``GetDocumentInfoResult`` element.
    """

    status_code: str
    status_description: str
    found: bool
    document_code: str | None = None
    document_type_id: str | None = None
    uuid: str | None = None
    issuer: DocumentParty | None = None
    receiver: DocumentParty | None = None
    holder_name: str | None = None
    holder_since: str | None = None
    holder_number: str | None = None
    states: tuple[tuple[int, str], ...] = ()
    events: tuple[DocumentEvent, ...] = ()
    raw: bytes = field(default=b"", repr=False)


# --------------------------------------------------------------------------------------------------------------
# Reading the answers: WCF data contracts, members by local name (their namespaces vary by type), nil as None.

_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"


class UnreadableAnswer(DianError):
    """A member of an answer cannot be read as its type (the client reports it as a DianTransportError)."""


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


class Contract:
    """A data-contract element's members by local name; a nil or absent member reads as None."""

    __slots__ = ("_members",)

    def __init__(self, element: etree._Element | None) -> None:
        members: dict[str, etree._Element] = {}
        if element is not None:
            for child in element:
                tag = child.tag
                if isinstance(tag, str) and child.get(_NIL) not in ("true", "1"):
                    members.setdefault(_local(tag), child)
        self._members = members

    def element(self, name: str) -> etree._Element | None:
        """The member element, or None."""
        return self._members.get(name)

    def text(self, name: str) -> str:
        """The member's text ("" when nil or absent)."""
        child = self._members.get(name)
        return "" if child is None else (child.text or "")

    def optional(self, name: str) -> str | None:
        """The member's text stripped, None when empty, nil or absent."""
        return self.text(name).strip() or None

    def squashed(self, name: str) -> str:
        """The member's text with runs of white space folded (DIAN pretty-prints inside strings)."""
        return _squash(self.text(name))

    def boolean(self, name: str) -> bool:
        """An ``xs:boolean`` member (false when nil or absent)."""
        return self.text(name).strip() in ("true", "1")

    def integer(self, name: str) -> int:
        """An integer member (0 when nil or absent)."""
        text = self.text(name).strip()
        try:
            return int(text) if text else 0
        except ValueError:
            raise UnreadableAnswer(f"{name} {text!r} is not a number") from None

    def base64(self, name: str) -> bytes | None:
        """An ``xs:base64Binary`` member decoded (None when nil, absent or empty)."""
        text = "".join(self.text(name).split())
        if not text:
            return None
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise UnreadableAnswer(f"{name} is not base64") from None

    def items(self, name: str) -> list[etree._Element]:
        """The element children of an array member (``ArrayOf…``)."""
        child = self._members.get(name)
        if child is None:
            return []
        return [item for item in child if isinstance(item.tag, str) and item.get(_NIL) not in ("true", "1")]

    def contract(self, name: str) -> Contract | None:
        """A nested data-contract member, or None."""
        child = self._members.get(name)
        return None if child is None else Contract(child)


def dian_response_from(element: etree._Element | None) -> DianResponse:
    """A ``DianResponse`` element as the frozen dataclass (an absent one reads as an empty answer)."""
    if element is None:
        return DianResponse(is_valid=False, status_code="", status_description="", status_message="")
    c = Contract(element)
    return DianResponse(
        is_valid=c.boolean("IsValid"),
        status_code=c.text("StatusCode").strip(),
        status_description=c.squashed("StatusDescription"),
        status_message=c.squashed("StatusMessage"),
        messages=tuple(parse_message(item.text or "") for item in c.items("ErrorMessage")),
        xml=c.base64("XmlBase64Bytes"),
        document_key=c.optional("XmlDocumentKey"),
        file_name=c.optional("XmlFileName"),
    )


def dian_responses_from(element: etree._Element | None) -> tuple[DianResponse, ...]:
    """An ``ArrayOfDianResponse`` element (GetStatusZip)."""
    if element is None:
        return ()
    return tuple(dian_response_from(item) for item in element if isinstance(item.tag, str))


def upload_result_from(element: etree._Element | None) -> UploadResult:
    """An ``UploadDocumentResponse`` element (SendBillAsync, SendTestSetAsync)."""
    c = Contract(element)
    errors = []
    for item in c.items("ErrorMessageList"):
        e = Contract(item)
        errors.append(
            UploadError(
                document_key=e.optional("DocumentKey"),
                message=e.squashed("ProcessedMessage"),
                sender_code=e.optional("SenderCode"),
                success=e.boolean("Success"),
                file_name=e.optional("XmlFileName"),
            )
        )
    return UploadResult(zip_key=c.optional("ZipKey"), errors=tuple(errors))


def document_xml_from(element: etree._Element | None) -> DocumentXml:
    """An ``EventResponse`` element (GetXmlByDocumentKey); its XmlBytesBase64 is a base64 string member."""
    c = Contract(element)
    return DocumentXml(
        code=c.text("Code").strip(),
        message=c.squashed("Message"),
        validation_date=c.optional("ValidationDate"),
        xml=c.base64("XmlBytesBase64"),
    )


def numbering_ranges_from(element: etree._Element | None) -> NumberingRanges:
    """A ``NumberRangeResponseList`` element (GetNumberingRange)."""
    c = Contract(element)
    ranges = []
    for item in c.items("ResponseList"):
        r = Contract(item)
        ranges.append(
            NumberingRangeInfo(
                resolution_number=r.text("ResolutionNumber").strip(),
                resolution_date=r.optional("ResolutionDate"),
                prefix=r.text("Prefix").strip(),
                from_number=r.integer("FromNumber"),
                to_number=r.integer("ToNumber"),
                valid_from=r.optional("ValidDateFrom"),
                valid_to=r.optional("ValidDateTo"),
                technical_key=r.optional("TechnicalKey"),
            )
        )
    return NumberingRanges(
        operation_code=c.text("OperationCode").strip(),
        description=c.squashed("OperationDescription"),
        ranges=tuple(ranges),
    )


def exchange_emails_from(element: etree._Element | None) -> ExchangeEmails:
    """An ``ExchangeEmailResponse`` element (GetExchangeEmails)."""
    c = Contract(element)
    return ExchangeEmails(
        success=c.boolean("Success"),
        status_code=c.text("StatusCode").strip(),
        message=c.squashed("Message"),
        csv=c.base64("CsvBase64Bytes"),
    )


def acquirer_from(element: etree._Element | None) -> Acquirer:
    """An ``AdquirienteResponse`` element (GetAcquirer)."""
    c = Contract(element)
    return Acquirer(
        status_code=c.text("StatusCode").strip(),
        message=c.squashed("Message"),
        name=c.optional("ReceiverName"),
        email=c.optional("ReceiverEmail"),
    )


def _party(c: Contract | None) -> DocumentParty | None:
    if c is None:
        return None
    party = DocumentParty(name=c.optional("Nombre"), number=c.optional("NumeroDoc"), id_type=c.optional("TipoDoc"))
    return party if (party.name or party.number) else None


def _states(c: Contract) -> tuple[tuple[int, str], ...]:
    states = []
    for item in c.items("Estado"):
        pair = Contract(item)
        key = pair.text("Key").strip()
        if key.lstrip("-").isdigit():
            states.append((int(key), pair.squashed("Value")))
    return tuple(states)


def _event(item: etree._Element) -> DocumentEvent:
    e = Contract(item)
    number = e.contract("NumeroDocumento")
    return DocumentEvent(
        code=e.text("Codigo").strip(),
        description=e.squashed("Descripcion"),
        uuid=e.optional("UUID"),
        issuer=_party(e.contract("Emisor")),
        receiver=_party(e.contract("Receptor")),
        issue_date=number.optional("FechaEmision") if number is not None else None,
    )


def document_info_from(element: etree._Element | None) -> DocumentInfo:
    """A ``DocumentInfoResponse`` element (GetDocumentInfo); lenient about order, nil and absent members."""
    c = Contract(element)
    raw = etree.tostring(element) if element is not None else b""
    documents = c.items("DocumentInfo")
    status = (c.text("StatusCode").strip(), c.squashed("StatusDescription"))
    if not documents:
        return DocumentInfo(status_code=status[0], status_description=status[1], found=False, raw=raw)
    d = Contract(documents[0])
    holder = d.contract("LegitimoTenedor")
    return DocumentInfo(
        status_code=status[0],
        status_description=status[1],
        found=True,
        document_code=d.optional("DocumentCode"),
        document_type_id=d.optional("DocumentTypeId"),
        uuid=d.optional("UUID"),
        issuer=_party(d.contract("Emisor")),
        receiver=_party(d.contract("Receptor")),
        holder_name=holder.optional("Nombre") if holder is not None else None,
        holder_since=holder.optional("FechaInscripcionComoTituloValor") if holder is not None else None,
        holder_number=holder.optional("NumeroDoc") if holder is not None else None,
        states=_states(d),
        events=tuple(_event(item) for item in d.items("Eventos")),
        raw=raw,
    )
