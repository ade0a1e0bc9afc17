"""What proves that DIAN validated a document or registered an event: the one trust policy (DESIGN.md 5a).

Mail is a transport, not a witness: a certificate whose subject says "DIAN" is text anyone can write. An answer that
claims to be DIAN's counts as proof only when its signature verifies with a certificate that names DIAN's NIT and

* chains to a configured anchor (the trust store; the simulator's CA in the simulator environment), or
* is pinned: the shipped pins of the DIAN certificates seen in real public answers (``pins.toml``), the configured
  ones (``dian.pinned_dian_certificates``), or those **learned from DIAN itself** — the signer of an answer that
  GetStatus returned over TLS from DIAN's endpoint (``store.models.DianCertificate``), never one that came by mail.

Anything else is "validación DIAN sin confirmar": never valid, never a silent warning. Intake, events, the sync job
and ``buzon verify`` all call :func:`weigh_answer` (or :func:`level_of` on a report they already hold).
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from importlib import resources

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree

from dian.codes import DIAN_NIT, NOT_FINAL_STATUS
from dian.errors import ParseError
from dian.nit import same_nit
from dian.trust import TrustStore, fingerprint, nit_matches, spki_fingerprint
from dian.ubl import ApplicationResponse, parse_document
from dian.xades import Outcome, SignatureReport, Verdict, verify
from dian.xmlsafe import parse_xml

__all__ = [
    "SHIPPED_PINS",
    "UNCONFIRMED",
    "AnswerProof",
    "CertificateFacts",
    "DianKeys",
    "LearnedCertificate",
    "Level",
    "OnlineAnswer",
    "OnlineProof",
    "ShippedPin",
    "confirm_online",
    "level_of",
    "shipped_pins",
    "weigh_answer",
]


UNCONFIRMED = "validación DIAN sin confirmar"  # how every check of an unproven DIAN answer begins (Spanish UI)


class Level(StrEnum):
    """How well DIAN's word is established (DESIGN.md 5a)."""

    PROVEN = "proven_offline"  # DIAN's signature, anchored or pinned
    CONFIRMED = "confirmed_online"  # DIAN's endpoint over TLS named it
    UNCONFIRMED = "unconfirmed"  # nothing ties it to DIAN (or no answer at all)
    INVALID = "invalid"  # a signature that fails, an answer about another document, a rejection

    @property
    def proven(self) -> bool:
        """True for the two levels that count as DIAN's validation."""
        return self in {Level.PROVEN, Level.CONFIRMED}


@dataclass(frozen=True)
class CertificateFacts:
    """What Buzón keeps of a DIAN signing certificate it trusts: its two pins, names, serial and validity."""

    spki_sha256: str
    fingerprint_sha256: str
    subject: str
    issuer: str
    serial: str
    not_before: dt.datetime
    not_after: dt.datetime

    @property
    def pins(self) -> tuple[str, str]:
        """The two pins it stands for: SPKI and certificate SHA-256."""
        return self.spki_sha256, self.fingerprint_sha256


@dataclass(frozen=True)
class ShippedPin(CertificateFacts):
    """One DIAN signing certificate shipped as data (pins.toml)."""

    seen_in: str = ""


@cache
def shipped_pins() -> tuple[ShippedPin, ...]:
    """The DIAN certificates shipped with Buzón (read once from dian/pins.toml)."""
    data = tomllib.loads(resources.files("dian").joinpath("pins.toml").read_text(encoding="utf-8"))
    return tuple(ShippedPin(**entry) for entry in data.get("certificate", ()))


SHIPPED_PINS: tuple[str, ...] = tuple(value for pin in shipped_pins() for value in pin.pins)


@dataclass(frozen=True)
class DianKeys:
    """Everything DIAN's signature may be anchored in: the trust store's anchors and every pin, by its origin."""

    trust: TrustStore = field(default_factory=TrustStore)
    configured: frozenset[str] = frozenset()
    learned: frozenset[str] = frozenset()  # SPKI or certificate SHA-256 of the certificates learned from DIAN
    shipped: bool = True

    @classmethod
    def of(
        cls, trust: TrustStore, pins: Iterable[str] = (), learned: Iterable[str] = (), *, shipped: bool = True
    ) -> DianKeys:
        """Keys from a trust store, configured pins and learned pins (normalised to lowercase hex)."""
        return cls(trust, frozenset(p.lower() for p in pins), frozenset(p.lower() for p in learned), shipped)

    @property
    def pins(self) -> frozenset[str]:
        """Every pin, whatever its origin."""
        return self.configured | self.learned | (frozenset(SHIPPED_PINS) if self.shipped else frozenset())

    def store(self) -> TrustStore:
        """The trust store to verify DIAN's signatures with (cached per set of pins by TrustStore.with_pins)."""
        return self.trust.with_pins(self.pins)

    def basis(self, report: SignatureReport) -> str:
        """Why the signer of a proven report is trusted: anchor, learned, configured or shipped pin."""
        if report.chain_status == "trusted":
            return "anchor"
        cert = report.certificate
        keys = _keys_of(cert) if cert is not None else set()
        if keys & self.learned:
            return "learned"
        if keys & self.configured:
            return "configured"
        return "shipped"


def _keys_of(cert: x509.Certificate) -> set[str]:
    return {fingerprint(cert), spki_fingerprint(cert)}


def level_of(report: SignatureReport) -> tuple[Level, str]:
    """The level a verified DIAN signature reaches, with a sentence that says why (Spanish)."""
    if report.signed_c14n is None or not report.core_valid or report.verdict == Verdict.INVALID:
        failed = [f"{c.name}: {c.detail}" for c in report.checks if c.outcome == Outcome.FAIL]
        return Level.INVALID, f"la firma de la respuesta atribuida a DIAN no verifica ({'; '.join(failed[:2])})"
    cert = report.certificate
    if cert is None or not nit_matches(cert, DIAN_NIT):
        return Level.INVALID, (
            f"la respuesta no está firmada con un certificado de DIAN (NIT {DIAN_NIT}): firmante "
            f"«{report.signer_subject or 'desconocido'}»"
        )
    if report.chain_status in {"trusted", "pinned"}:
        how = "encadena a una raíz de confianza" if report.chain_status == "trusted" else "es un certificado fijado"
        return Level.PROVEN, f"firmada por DIAN: el certificado {how}"
    return Level.UNCONFIRMED, (
        f"{UNCONFIRMED}: la respuesta dice venir de DIAN, pero su certificado "
        f"(«{report.signer_subject}», emitido por «{report.signer_issuer}») no encadena a una raíz de confianza, "
        "no está fijado y no se aprendió de la DIAN en línea"
    )


@dataclass(frozen=True)
class AnswerProof:
    """DIAN's answer as weighed: its level, why, the signature report and the answer parsed from the signed bytes."""

    level: Level
    detail: str
    signature: SignatureReport | None = None
    answer: ApplicationResponse | None = None
    basis: str | None = None  # anchor, shipped, configured, learned (proven levels only)

    @property
    def proven(self) -> bool:
        """True when the answer counts as DIAN's."""
        return self.level.proven


def weigh_answer(
    xml: bytes | etree._Element,
    keys: DianKeys,
    *,
    about: str | None,
    now: dt.datetime | None = None,
    owned: bool = False,
) -> AnswerProof:
    """Weigh an ApplicationResponse that claims to be DIAN's: its signature against ``keys``, and that it is about
    ``about`` (a CUFE or CUDE; None skips that check). Never raises on hostile input."""
    try:
        report = verify(xml, trust=keys.store(), expected_nits=(DIAN_NIT,), now=now, owned=owned)
    except ParseError as exc:
        return AnswerProof(Level.INVALID, f"la respuesta atribuida a DIAN no es un XML legible: {exc}")
    level, detail = level_of(report)
    if level is Level.INVALID:
        return AnswerProof(level, detail, report)
    try:
        parsed = parse_document(report.signed_element)
    except ParseError as exc:
        return AnswerProof(Level.INVALID, f"la respuesta atribuida a DIAN no se puede leer: {exc}", report)
    if not isinstance(parsed, ApplicationResponse):
        return AnswerProof(Level.INVALID, "la respuesta atribuida a DIAN no es un ApplicationResponse", report)
    if about is not None:
        reference = parsed.document_reference
        named = (reference.uuid or "").strip().lower() if reference else ""
        if named != about.strip().lower():
            return AnswerProof(
                Level.INVALID,
                f"la respuesta de DIAN es sobre otro documento (CUFE/CUDE {named[:16] or '?'}…, "
                f"no {about.strip().lower()[:16]}…)",
                report,
                parsed,
            )
    basis = keys.basis(report) if level.proven else None
    return AnswerProof(level, detail, report, parsed, basis)


# --------------------------------------------------------------------------------------------------------------
# Online confirmation: DIAN's own answer over TLS (GetStatus, GetXmlByDocumentKey)


@dataclass(frozen=True)
class OnlineAnswer:
    """What DIAN's endpoint said about one CUFE: GetStatus (and, where served, GetXmlByDocumentKey).

    ``learnable`` is True only when the answer came from DIAN's endpoint over TLS (or from the local simulator in
    the simulator environment): only then may the certificate that signed it be learned.
    """

    status_code: str
    description: str = ""
    answer_xml: bytes | None = field(default=None, repr=False)  # GetStatus XmlBase64Bytes: DIAN's ApplicationResponse
    document_xml: bytes | None = field(default=None, repr=False)  # GetXmlByDocumentKey: the document DIAN holds
    endpoint: str = ""
    environment: str = ""
    learnable: bool = False


@dataclass(frozen=True, kw_only=True)
class LearnedCertificate(CertificateFacts):
    """A DIAN signing certificate taken from an answer DIAN's endpoint returned over TLS, to pin from now on."""

    pem: str
    learned_from: str
    endpoint: str
    environment: str


@dataclass(frozen=True)
class OnlineProof:
    """The online confirmation of one document: its level, why, and a DIAN certificate to learn (if any)."""

    level: Level
    detail: str
    retry: bool = False  # DIAN has not decided yet (98 en proceso, 66 no encontrado): ask again later
    learned: LearnedCertificate | None = None


def _learned(report: SignatureReport, cufe: str, online: OnlineAnswer) -> LearnedCertificate | None:
    cert = report.certificate
    if cert is None or not online.learnable:
        return None
    return LearnedCertificate(
        spki_sha256=spki_fingerprint(cert),
        fingerprint_sha256=fingerprint(cert),
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        serial=hex(cert.serial_number),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        pem=cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        learned_from=cufe,
        endpoint=online.endpoint,
        environment=online.environment,
    )


def _signature_value(xml: bytes) -> str | None:
    """The ds:SignatureValue text of a signed document, whitespace removed (None when absent or unreadable)."""
    try:
        root = parse_xml(xml)
    except ParseError:
        return None
    found = root.find(".//{http://www.w3.org/2000/09/xmldsig#}SignatureValue")
    return "".join((found.text or "").split()) if found is not None else None


def confirm_online(
    online: OnlineAnswer,
    keys: DianKeys,
    *,
    cufe: str,
    number: str,
    issuer_nit: str,
    signed_xml: bytes,
    now: dt.datetime | None = None,
) -> OnlineProof:
    """Weigh DIAN's online answer for a mailed document (DESIGN.md 5a, "confirmed online").

    DIAN must say 00 and return an ApplicationResponse signed with a DIAN certificate that names this CUFE and number;
    when DIAN serves its copy of the document, that copy must carry the very signature that was mailed (a mailed
    invoice that borrows a real CUFE with other amounts is refused). A DIAN certificate that verifies here, over TLS,
    is returned to be learned, so later answers signed by it are proven offline.
    """
    code = (online.status_code or "").strip()
    if code in NOT_FINAL_STATUS:
        why = f"DIAN aún no da su respuesta final sobre el documento: {NOT_FINAL_STATUS[code]} ({code})"
        return OnlineProof(Level.UNCONFIRMED, f"{why}; se vuelve a consultar más tarde", retry=True)
    if code != "00":
        return OnlineProof(
            Level.INVALID, f"DIAN no valida este CUFE (GetStatus {code or '?'}: {online.description or 'sin detalle'})"
        )
    if not online.answer_xml:
        return OnlineProof(Level.UNCONFIRMED, "DIAN respondió 00 pero sin su ApplicationResponse firmado", retry=True)
    weighed = weigh_answer(online.answer_xml, keys, about=cufe, now=now)
    if weighed.level is Level.INVALID or weighed.answer is None:
        return OnlineProof(Level.INVALID, f"la respuesta de DIAN en línea no corresponde: {weighed.detail}")
    answer = weighed.answer
    ref = answer.document_reference
    if ref is not None and ref.id.strip() and ref.id.strip() != number.strip():
        return OnlineProof(
            Level.INVALID, f"DIAN registra el CUFE con el número {ref.id}, pero el documento recibido dice {number}"
        )
    receiver = answer.receiver.nit
    if receiver and issuer_nit and not same_nit(receiver, issuer_nit):
        return OnlineProof(
            Level.INVALID, f"DIAN registra el CUFE a nombre del NIT {receiver}, no del emisor {issuer_nit}"
        )
    if online.document_xml:
        held, mailed = _signature_value(online.document_xml), _signature_value(signed_xml)
        if online.document_xml != signed_xml and (held is None or held != mailed):
            return OnlineProof(
                Level.INVALID,
                "el documento que guarda la DIAN con este CUFE no es el recibido (otra firma, otro contenido)",
            )
    learned = _learned(weighed.signature, cufe, online) if weighed.signature is not None else None
    compared = " y su copia del documento coincide con la recibida" if online.document_xml else ""
    detail = f"DIAN confirma en línea que el documento está validado (GetStatus 00){compared}"
    return OnlineProof(Level.CONFIRMED, detail, learned=learned)
