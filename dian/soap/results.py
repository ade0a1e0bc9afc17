"""Frozen results of DIAN's web-service operations, parsed from zeep's objects (never returned to callers).

DIAN's ``ErrorMessage`` strings read ``Regla: <code>, Rechazo: <text>`` or ``Regla: <code>, Notificación: <text>``
(dian-facts 6.5, 10); they become :class:`DianMessage` values. A single ``Regla: 90 … Documento procesado
anteriormente`` means the document is already registered: the answer then carries the stored key, file name and the
original ApplicationResponse (dian-facts 10). StatusCode 98 ("En Proceso") and 66 (not found, or its batch still being
validated) are not final: DIAN has not decided yet, so they are asked again later, never taken as a rejection
(dian-facts 6.5).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from dian.codes import NOT_FINAL_STATUS

__all__ = [
    "NOT_FINAL_CODES",
    "Acquirer",
    "DianMessage",
    "DianResponse",
    "DocumentXml",
    "ExchangeEmails",
    "NumberingRangeInfo",
    "NumberingRanges",
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


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    items = getattr(value, "string", value)
    if items is None:
        return []
    return [str(s) for s in items if s is not None]


def dian_response_from(obj: Any) -> DianResponse:
    """Convert zeep's ``DianResponse`` object into the frozen dataclass."""
    if obj is None:
        return DianResponse(is_valid=False, status_code="", status_description="", status_message="")
    return DianResponse(
        is_valid=bool(obj.IsValid),
        status_code=_text(obj.StatusCode).strip(),
        status_description=_squash(_text(obj.StatusDescription)),
        status_message=_squash(_text(obj.StatusMessage)),
        messages=tuple(parse_message(s) for s in _strings(obj.ErrorMessage)),
        xml=bytes(obj.XmlBase64Bytes) if obj.XmlBase64Bytes else None,
        document_key=(_text(obj.XmlDocumentKey).strip() or None),
        file_name=(_text(obj.XmlFileName).strip() or None),
    )
