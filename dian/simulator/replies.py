"""What the simulator answers, shared by its parts: the ``DianResponse`` it returns, DIAN's fixed wordings, the rule
line format, and the view of the simulator its RADIAN parts work on (``Host``), so that they need not import core.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from lxml import etree

from dian.calendar import BusinessCalendar
from dian.codes import Environment
from dian.cufe import software_security_code
from dian.errors import DianError, ParseError
from dian.trust import SigningIdentity, TrustStore
from dian.ubl.model import Party
from dian.xades import SignatureReport

__all__ = [
    "ERRORS",
    "FUTURE_TOLERANCE",
    "NOT_FOUND",
    "OK",
    "AcquirerReply",
    "EmailsReply",
    "Host",
    "RangesReply",
    "Reply",
    "SimulatorRejected",
    "UploadReply",
    "XmlReply",
]

OK = "Procesado Correctamente."
ERRORS = "Validación contiene errores en campos mandatorios."
NOT_FOUND = "TrackId no existe en los registros de la DIAN."
FUTURE_TOLERANCE = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Reply:
    """A ``DianResponse`` as the simulator answers it."""

    is_valid: bool
    status_code: str
    status_description: str
    status_message: str = ""
    errors: tuple[str, ...] = ()
    xml: bytes | None = None
    key: str | None = None
    file_name: str | None = None

    def to_json(self) -> dict[str, Any]:
        """For storing an asynchronous result."""
        data = self.__dict__.copy()
        data["errors"] = list(self.errors)
        data["xml"] = base64.b64encode(self.xml).decode() if self.xml else None
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Reply:
        """Back from :meth:`to_json`."""
        values = dict(data)
        values["errors"] = tuple(values["errors"])
        values["xml"] = base64.b64decode(values["xml"]) if values["xml"] else None
        return cls(**values)


@dataclass(frozen=True)
class UploadReply:
    """``UploadDocumentResponse``: a ZipKey, or errors (document key, message, file name)."""

    zip_key: str | None
    errors: tuple[tuple[str | None, str, str | None], ...] = ()


@dataclass(frozen=True)
class XmlReply:
    """``EventResponse`` of GetXmlByDocumentKey."""

    code: str
    message: str
    validation_date: str | None = None
    xml: bytes | None = None


@dataclass(frozen=True)
class RangesReply:
    """``NumberRangeResponseList``."""

    operation_code: str
    description: str
    ranges: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class EmailsReply:
    """``ExchangeEmailResponse``."""

    success: bool
    status_code: str
    message: str
    csv: bytes | None


@dataclass(frozen=True)
class AcquirerReply:
    """``AdquirienteResponse``."""

    status_code: str
    message: str
    name: str | None
    email: str | None


class SimulatorRejected(DianError):
    """The in-process API refused a document; ``reply`` holds DIAN's answer."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        super().__init__(f"StatusCode {reply.status_code}: {'; '.join(reply.errors) or reply.status_description}")


def reply_stem(file_name: str | None) -> str | None:
    """The file name a sender gave, without folders or .xml (DIAN answers with it)."""
    return (file_name or "").rsplit("/", 1)[-1].removesuffix(".xml") or None


def iso(moment: dt.datetime) -> str:
    """A moment as the simulator's store keeps it: ISO 8601 in UTC."""
    return moment.astimezone(dt.UTC).isoformat()


def covered(report: SignatureReport, root: etree._Element) -> etree._Element:
    """What the simulator reads a document from: the element its signature covers, else the document as it came (a
    document whose signature fails is still read, so that DIAN's answer can name the rules it breaks)."""
    return report.signed_element if report.signed_element is not None else root


def _unreadable(exc: ParseError) -> Reply:
    """DIAN's answer to XML it cannot read or parse: 99 with rule ZB01."""
    return Reply(False, "99", ERRORS, errors=(_rule("ZB01", f"Fallo en el esquema XML del archivo: {exc}"),))


def _rule(code: str, text: str, kind: str = "Rechazo") -> str:
    return f"Regla: {code}, {kind}: {text}"


PROCESSED_BEFORE = _rule("90", "Documento procesado anteriormente.")


def _processed_before(stored: Mapping[str, Any], key_column: str) -> Reply:
    """Regla 90 (dian-facts 10): a document or event already on file gets its stored key, file name and ORIGINAL
    answer back, with StatusCode 99 and rule 90."""
    return Reply(
        False,
        "99",
        ERRORS,
        errors=(PROCESSED_BEFORE,),
        xml=bytes(stored["answer"]),
        key=stored[key_column],
        file_name=stored["file_name"],
    )


def signing_time_problem(signed_at: dt.datetime | None, now: dt.datetime) -> str | None:
    """The rule an event's xades:SigningTime breaks: none (SIM41), or later than DIAN's clock allows (DC24, dian-facts
    2.2); None when it holds."""
    if signed_at is None:
        return _rule("SIM41", "El evento no tiene xades:SigningTime.")
    if signed_at > now + FUTURE_TOLERANCE:
        return _rule("DC24", "La fecha de firma del evento es posterior a la fecha de recepción.")
    return None


def fingerprint_problem(software: Mapping[str, Any] | None, security_code: str | None, number: str) -> str | None:
    """AAB27b when the software is unknown or the event's SoftwareSecurityCode is not its fingerprint; else None."""
    if software is None or security_code != software_security_code(software["software_id"], software["pin"], number):
        return _rule("AAB27b", "Huella no corresponde a un software autorizado para este emisor.")
    return None


def _packaging(message: str) -> Reply:
    # dian-facts 6.4-6.5: packaging and authorization errors are StatusCode 89.
    return Reply(False, "89", message, errors=(message,))


class Host(Protocol):
    """The simulator as its RADIAN parts (radian.py, counterparts.py) use it."""

    store: Any
    calendar: BusinessCalendar
    environment: Environment
    pki: Any
    clock: Callable[[], dt.datetime]
    radian: Any
    counterparts: Any

    @property
    def trust(self) -> TrustStore: ...

    def _authorized(self, caller: str | None, *owners: str | None) -> bool: ...

    def _software(self, software_id: str | None) -> Any: ...

    def _event_answer(
        self, db: Any, sender: Party, number: str, cude: str, notices: list[str], now: dt.datetime
    ) -> bytes: ...

    def issue_identity(self, nit: str, name: str) -> SigningIdentity: ...

    def process_event(
        self, xml: bytes, *, file_name: str | None, caller_nit: str | None, now: dt.datetime | None = None
    ) -> Reply: ...

    def seed(self, data: Mapping[str, Any]) -> None: ...
