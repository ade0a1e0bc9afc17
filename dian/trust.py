"""Signing identities (PKCS#12), certificate parsing, NIT extraction and chain building against a CA folder.

Colombian certificates (Andes SCD, GSE, Camerfirma, Olimpia…) are not in any default trust store and several fail
strict web-PKI profile checks, so the chain is judged here by hand: issuer name + issuer signature, validity period
at the *signing* time, and CA basic constraints of every issuer (dian-facts 3.2, 3.3 step 3, 9).
"""

from __future__ import annotations

import base64
import datetime as dt
import errno
import hashlib
import re
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from functools import lru_cache, wraps
from pathlib import Path
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from dian.errors import CertificateError
from dian.nit import check_digit

# Where the Colombian CAs write the NIT. Subject attributes unless said otherwise; each is also read as an X.509
# extension of the same OID, its value a DER string (UTF8String, PrintableString, IA5String…), possibly wrapped in an
# OCTET STRING or a SEQUENCE, or bare text. What was found, and how sure it is:
#
# GSE, and DIAN's own certificate (issued by GSE): 1.3.6.1.4.1.4710.1.3.2 = the NIT without DV, beside
#   serialNumber = the same NIT (dian-facts 3.2; every DIAN answer and GSE certificate in the samples). The arc 4710 is
#   not GSE's (GSE's policies are under 1.3.6.1.4.1.31136): public code shows other CAs' subjects carrying an
#   organisation's tax number under 4710.1.3.2 and a person's id under 4710.1.3.1 (Certicámara among them).
#   Confidence: high.
NIT_OID = x509.ObjectIdentifier("1.3.6.1.4.1.4710.1.3.2")
# Certicámara (arc 1.3.6.1.4.1.23267): 23267.2.3 = the company's NIT, 23267.2.2 = the holder's cédula, both subject
#   attributes, while serialNumber is the legal representative's cédula. Three independent public integrations read
#   the NIT from 23267.2.3 in the subject DN (falling back to serialNumber) and one lists the subject's unnamed
#   attributes as 23267.2.3 then 23267.2.2. Nothing found shows it as an extension; the issue report called it one, so
#   that form is read too. Confidence: high for the attribute, low that the extension form exists.
CERTICAMARA_NIT_OID = x509.ObjectIdentifier("1.3.6.1.4.1.23267.2.3")
CERTICAMARA_PERSON_ID_OID = x509.ObjectIdentifier("1.3.6.1.4.1.23267.2.2")  # a cédula: never read as a NIT
# Camerfirma (arc 1.3.6.1.4.1.17326; Camerfirma Colombia's certificates in the samples carry SAN registeredID
#   17326.30.11): the samples' certificates write the NIT with its DV run in (company) or the cédula (person) in
#   serialNumber and nothing else. Camerfirma's Spanish and Peruvian profiles put the organisation's tax number in
#   17326.30.3 (17326.30.2 naming its kind, e.g. "RUC"), seen in public code only. Confidence: high for serialNumber,
#   medium that a Colombian certificate carries 17326.30.3; read when present.
CAMERFIRMA_ORG_ID_OID = x509.ObjectIdentifier("1.3.6.1.4.1.17326.30.3")
# Olimpia IT: ETSI EN 319 412-1 organizationIdentifier (2.5.4.97) = the NIT, beside serialNumber and
#   x500UniqueIdentifier = the same NIT (samples). Its ETSI form "VATCO-900123456" is read as well. Confidence: high.
ORGANIZATION_ID_OID = NameOID.ORGANIZATION_IDENTIFIER
# Andes SCD: the NIT with its DV run in ("8909305340" = 890930534 + DV 0) in serialNumber and no private attribute,
#   in every Andes SCD certificate of the samples; its arc is 1.3.6.1.4.1.31304 (its policy OIDs), not 27395 as once
#   guessed, and no NIT attribute of its own was found. Confidence: high for serialNumber.
#
# Order matters: an organisation's NIT OID wins over serialNumber, which in a company certificate may be a person's
# cédula (Certicámara). When one is present, serialNumber only counts where it is that NIT (or that NIT + DV).
ORGANIZATION_NIT_OIDS = (NIT_OID, CERTICAMARA_NIT_OID, CAMERFIRMA_ORG_ID_OID, ORGANIZATION_ID_OID)
_CERT_SUFFIXES = {".pem", ".crt", ".cer", ".der"}
_MAX_CHAIN = 8


# --------------------------------------------------------------------------------------------------------------
# Certificates


_R = TypeVar("_R")


def _per_certificate(function: Callable[[x509.Certificate], _R]) -> Callable[[x509.Certificate], _R]:
    """A cache of a function of one certificate, keyed by the certificate object: the same DIAN, supplier and CA
    certificates recur in every document (read once by ``load_der`` and dian.xades), and hashing a cryptography
    Certificate for an lru_cache walks its whole structure, as long as the work it saves (about 11 µs). The object is
    held with its result, so its id cannot stand for another certificate while cached; 512 kept, oldest out first."""
    cache: dict[int, tuple[x509.Certificate, _R]] = {}

    @wraps(function)
    def cached(cert: x509.Certificate) -> _R:
        hit = cache.get(id(cert))
        if hit is not None and hit[0] is cert:
            return hit[1]
        value = function(cert)
        if len(cache) >= 512:
            with suppress(RuntimeError, StopIteration, KeyError):  # another thread changed it meanwhile: no matter
                del cache[next(iter(cache))]
        cache[id(cert)] = (cert, value)
        return value

    return cached


@lru_cache(maxsize=512)
def load_der(der: bytes) -> x509.Certificate:
    """Parse a DER certificate, cached by its bytes (the same DIAN and CA certificates recur in every document)."""
    return x509.load_der_x509_certificate(der)


def load_base64(text: str) -> x509.Certificate:
    """Parse the base64 text of a ds:X509Certificate (line breaks and blanks allowed)."""
    return load_der(base64.b64decode("".join(text.split()), validate=True))


@_per_certificate
def fingerprint(cert: x509.Certificate) -> str:
    """The SHA-256 fingerprint of a certificate as lowercase hex without separators (cached per certificate)."""
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


@_per_certificate
def spki_fingerprint(cert: x509.Certificate) -> str:
    """The SHA-256 of the certificate's SubjectPublicKeyInfo (DER) as lowercase hex: the public-key pin (cached)."""
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).hexdigest()


def _tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """The (tag, contents start, contents end) of the DER element at ``pos``; ValueError when it is malformed."""
    if pos + 2 > len(data):
        raise ValueError("truncated DER element")
    tag, first = data[pos], data[pos + 1]
    if tag & 0x1F == 0x1F:
        raise ValueError("multi-byte DER tags are not used here")
    pos += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if not 0 < count <= 4 or pos + count > len(data):
            raise ValueError("bad DER length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise ValueError("DER element runs past its container")
    return tag, pos, pos + length


def _children(data: bytes, start: int, end: int) -> Iterable[tuple[int, int, int, int]]:
    """(tag, element start, contents start, contents end) of each DER element between ``start`` and ``end``."""
    pos = start
    while pos < end:
        tag, body, stop = _tlv(data, pos)
        if stop > end:
            raise ValueError("DER element runs past its container")
        yield tag, pos, body, stop
        pos = stop


def normalize_fingerprint(value: str) -> str:
    """Accept ``AB:CD:…`` or ``abcd…`` and return lowercase hex; raise ValueError when it is not SHA-256."""
    hexdigits = value.replace(":", "").replace(" ", "").strip().lower()
    if len(hexdigits) != 64 or any(c not in "0123456789abcdef" for c in hexdigits):
        raise ValueError(f"not a SHA-256 fingerprint: {value!r}")
    return hexdigits


@_per_certificate
def subject_text(cert: x509.Certificate) -> str:
    """An RFC 4514 rendering of a certificate's subject, for reports (cached per certificate)."""
    return cert.subject.rfc4514_string()


@_per_certificate
def issuer_text(cert: x509.Certificate) -> str:
    """An RFC 4514 rendering of a certificate's issuer, for reports (cached per certificate)."""
    return cert.issuer.rfc4514_string()


def common_name(name: x509.Name) -> str:
    """The CN of a name, or its full RFC 4514 rendering when it has none."""
    cns = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(cns[0].value) if cns else name.rfc4514_string()


_NUMBER = re.compile(r"[0-9][0-9. ]*")
_EXPLICIT_DV = re.compile(r"\s*-\s*[0-9]\b")
# DER string types an extension's value may be written in, with the codec of each.
_DER_STRINGS = {0x0C: "utf-8", 0x13: "ascii", 0x16: "ascii", 0x14: "latin-1", 0x1A: "ascii", 0x1E: "utf-16-be"}
_MAX_DER_DEPTH = 4


def _number(value: str) -> tuple[str, bool]:
    """The first number a value writes (ASCII digits; dots and blanks inside it dropped), and whether a DV follows it
    after a dash: "900123456-7", "NIT 900.123.456-7", "VATCO-900123456" and "CC 1234" give 900123456, …, 1234."""
    match = _NUMBER.search(value)
    if match is None:
        return "", False
    digits = match.group().replace(".", "").replace(" ", "")
    return digits, bool(_EXPLICIT_DV.match(value, match.end()))


def _digits(value: str) -> str:
    # "900123456-7", "NIT 900.123.456", "CC 1234" → the digits before any DV separator.
    return _number(value)[0]


# An organisation's NIT has 9 digits: only 10 or more in an organisation NIT attribute can be NIT + DV run in, while
# a serialNumber may be a person's cédula (6 to 10 digits) with its DV run in.
_ORGANIZATION_RUN_IN = 10
_PERSON_RUN_IN = 6


def _nit_forms(value: str, *, run_in_from: int = _PERSON_RUN_IN) -> list[str]:
    """The NIT candidates one written value gives: its number, and that number without its last digit when the value
    may run the DV in (no dash before one, at least ``run_in_from`` digits) and the last digit is the DV of the others
    (Andes SCD, Camerfirma)."""
    digits, explicit_dv = _number(value)
    if not digits:
        return []
    if not explicit_dv and run_in_from <= len(digits) <= 16 and check_digit(digits[:-1]) == digits[-1]:
        return [digits, digits[:-1]]
    return [digits]


def _der_texts(data: bytes, depth: int = 0) -> list[str]:
    """The strings inside a DER value: a string element, or those within an OCTET STRING or a constructed element."""
    out: list[str] = []
    for tag, _, body, stop in _children(data, 0, len(data)):
        if tag in _DER_STRINGS:
            out.append(data[body:stop].decode(_DER_STRINGS[tag], errors="replace"))
        elif depth < _MAX_DER_DEPTH and (tag == 0x04 or tag & 0x20):
            out.extend(_der_texts(data[body:stop], depth + 1))
    return out


def _extension_texts(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> list[str]:
    """The text an extension of ``oid`` carries (a CA's private NIT extension); [] when there is none."""
    try:
        extension = cert.extensions.get_extension_for_oid(oid)
    except (x509.ExtensionNotFound, ValueError):  # ValueError: some other extension is malformed or repeated
        return []
    value = extension.value
    if not isinstance(value, x509.UnrecognizedExtension):
        return []
    raw = value.value
    try:
        texts = _der_texts(raw)
    except ValueError:
        texts = []
    if not texts and raw.isascii() and raw.decode("ascii").isprintable():
        texts = [raw.decode("ascii")]  # bare text, not DER
    return texts


def _organization_values(cert: x509.Certificate) -> list[str]:
    values: list[str] = []
    for oid in ORGANIZATION_NIT_OIDS:
        values.extend(str(attr.value) for attr in cert.subject.get_attributes_for_oid(oid))
        values.extend(_extension_texts(cert, oid))
    return values


@_per_certificate
def certificate_nits(cert: x509.Certificate) -> tuple[str, ...]:
    """Candidate NITs (digits, no DV) a certificate names, the organisation's first: its NIT OIDs (GSE 4710.1.3.2,
    Certicámara 23267.2.3, Camerfirma 17326.30.3, organizationIdentifier; as attributes or extensions), then the
    subject serialNumber — which, beside an organisation NIT, counts only when it is that NIT (a person's cédula in a
    company certificate is not the company's NIT)."""
    out: list[str] = []
    for value in _organization_values(cert):
        out.extend(form for form in _nit_forms(value, run_in_from=_ORGANIZATION_RUN_IN) if form not in out)
    organization = set(out)
    for attr in cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER):
        forms = _nit_forms(str(attr.value))
        if organization:
            # Beside an organisation NIT, serialNumber counts only as that NIT or that NIT with its DV run in.
            if not forms or (forms[0] not in organization and forms[-1] not in organization):
                continue
            forms = forms[:1]
        out.extend(form for form in forms if form not in out)
    return tuple(out)


def certificate_nit(cert: x509.Certificate) -> str | None:
    """The certificate's NIT without DV: the DV-stripped form when the last digit is a valid DV, else the digits."""
    nits = certificate_nits(cert)
    if not nits:
        return None
    first = nits[0]
    stripped = first[:-1]
    return stripped if stripped in nits else first


def nit_matches(cert: x509.Certificate, nit: str) -> bool:
    """True when ``nit`` (with or without DV, dots or dash) is one the certificate names."""
    wanted = _digits(nit)
    return bool(wanted) and wanted in certificate_nits(cert)


# --------------------------------------------------------------------------------------------------------------
# Validity


# Colombia keeps UTC-05:00 all year (no daylight saving): the dates a clerk reads are Bogotá's.
_COLOMBIA = dt.timezone(dt.timedelta(hours=-5))


def _day(moment: dt.datetime) -> str:
    return moment.astimezone(_COLOMBIA).date().isoformat()


def _require_aware(at: dt.datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"the moment must be timezone-aware, got the naive datetime {at.isoformat()}")


def validity_problem(cert: x509.Certificate, at: dt.datetime) -> str | None:
    """Why ``cert`` may not sign at ``at`` (expired, or not yet valid), naming its dates (Bogotá); None while valid."""
    _require_aware(at)
    start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
    span = f"vigente del {_day(start)} al {_day(end)}"
    name = common_name(cert.subject)
    if at > end:
        return f"el certificado de firma «{name}» venció el {_day(end)} ({span})"
    if at < start:
        return f"el certificado de firma «{name}» aún no está vigente: rige desde el {_day(start)} ({span})"
    return None


def expiry_warning(cert: x509.Certificate, at: dt.datetime, *, days: int = 30) -> str | None:
    """A warning when ``cert`` expires within ``days`` of ``at`` (or is already outside its validity, see
    :func:`validity_problem`); None while more than ``days`` remain."""
    problem = validity_problem(cert, at)
    if problem is not None:
        return problem
    end = cert.not_valid_after_utc
    left = end - at
    if left > dt.timedelta(days=days):
        return None
    whole = left.days
    remaining = "vence en menos de un día" if whole == 0 else "queda 1 día" if whole == 1 else f"quedan {whole} días"
    return (
        f"el certificado de firma «{common_name(cert.subject)}» vence el {_day(end)} ({remaining}; vigente del "
        f"{_day(cert.not_valid_before_utc)} al {_day(end)}): renuévelo antes de esa fecha"
    )


# --------------------------------------------------------------------------------------------------------------
# Signing identity


@dataclass(frozen=True)
class SigningIdentity:
    """A loaded private key with its certificate and chain; load once, sign many times (dian-facts 9)."""

    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()
    source: str = ""

    @property
    def nit(self) -> str | None:
        """The NIT of the signing certificate."""
        return certificate_nit(self.certificate)

    def check_valid_at(self, at: dt.datetime) -> None:
        """Raise CertificateError naming the dates when the certificate is expired or not yet valid at ``at``."""
        problem = validity_problem(self.certificate, at)
        if problem is not None:
            raise CertificateError(problem)


class PasswordError(CertificateError):
    """A PKCS#12 file opened with the wrong password (or none when it has one); the message names the file."""


def _looks_like_pfx(data: bytes) -> bool:
    # PFX ::= SEQUENCE { version INTEGER (3), authSafe ContentInfo, macData OPTIONAL } (RFC 7292 4).
    try:
        _, body, end = _tlv(data, 0)
        tag, value, stop = _tlv(data, body)
    except ValueError:
        return False
    return data[0] == 0x30 and tag == 0x02 and data[value:stop] == b"\x03" and stop < end


_OS_REASONS = {
    errno.ENOENT: "no existe",
    errno.EISDIR: "es una carpeta, no un archivo",
    errno.EACCES: "no hay permiso para leerlo",
    errno.EPERM: "no hay permiso para leerlo",
}


def _os_reason(exc: OSError) -> str:
    """Why a file could not be read, in Spanish for the usual causes (the system's own words otherwise)."""
    return _OS_REASONS.get(exc.errno or 0) or exc.strerror or type(exc).__name__


def pkcs12_unreadable(path: str | Path, exc: OSError) -> str:
    """The sentence for a PKCS#12 file that cannot be read (missing, a folder, no permission)."""
    return f"no se puede leer el archivo PKCS#12 {path}: {_os_reason(exc)}"


def load_pkcs12(path: str | Path, password: str | bytes | None) -> SigningIdentity:
    """Load a PKCS#12 file into a SigningIdentity; CertificateError names the file on any problem."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CertificateError(pkcs12_unreadable(path, exc)) from exc
    if isinstance(password, str):
        password = password.encode()
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, password)
    except ValueError as exc:
        if _looks_like_pfx(data):
            raise PasswordError(
                f"no se puede abrir el archivo PKCS#12 {path}: la contraseña no es la correcta"
            ) from exc
        raise CertificateError(f"no se puede abrir el archivo PKCS#12 {path}: no es un archivo PKCS#12") from exc
    if key is None:
        raise CertificateError(f"el archivo PKCS#12 {path} no contiene la llave privada")
    if cert is None:
        raise CertificateError(f"el archivo PKCS#12 {path} no contiene el certificado de su llave")
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise CertificateError(
            f"el archivo PKCS#12 {path} contiene una llave de un tipo no admitido ({type(key).__name__})"
        )
    if cert.public_key().public_numbers() != key.public_key().public_numbers():
        raise CertificateError(f"el archivo PKCS#12 {path}: el certificado no corresponde a la llave privada")
    return SigningIdentity(key=key, certificate=cert, chain=tuple(extra or ()), source=str(path))


# --------------------------------------------------------------------------------------------------------------
# Trust store and chain building


@dataclass(frozen=True)
class ChainResult:
    """What the store concluded about one certificate at one moment."""

    status: str  # "trusted" | "pinned" | "unknown_issuer" | "invalid"
    detail: str
    path: tuple[x509.Certificate, ...] = ()
    missing_issuer: str | None = None

    @property
    def trusted(self) -> bool:
        """True when the certificate chains to an anchor or is pinned."""
        return self.status in {"trusted", "pinned"}


def _valid_at(cert: x509.Certificate, at: dt.datetime) -> bool:
    return cert.not_valid_before_utc <= at <= cert.not_valid_after_utc


@_per_certificate
def _is_ca(cert: x509.Certificate) -> bool:
    try:
        bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        # v1 roots carry no extensions; only the store (not the document) may supply such a certificate.
        return cert.version == x509.Version.v1
    if not bc.ca:
        return False
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return True
    return ku.key_cert_sign


@_per_certificate
def _issuer_key(cert: x509.Certificate) -> bytes:
    """The DER of a certificate's issuer name, to look its issuer up by subject (cached per certificate)."""
    return cert.issuer.public_bytes()


@lru_cache(maxsize=1024)
def _issued_by(child: x509.Certificate, parent: x509.Certificate) -> bool:
    """Whether parent's key signed child (and the names chain); cached per pair, as the same supplier, DIAN and CA
    certificates recur in every document (certificates compare and hash by their DER bytes)."""
    try:
        child.verify_directly_issued_by(parent)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


@dataclass
class TrustStore:
    """CA certificates the user trusts (the ONAC-accredited CAs) plus pinned leaf fingerprints (DIAN's certificate)."""

    anchors: tuple[x509.Certificate, ...] = ()
    pins: frozenset[str] = frozenset()
    source: str = ""
    _by_subject: dict[bytes, list[x509.Certificate]] = field(default_factory=dict, repr=False)
    _anchor_fps: frozenset[str] = field(default=frozenset(), repr=False)
    _pinned: dict[frozenset[str], TrustStore] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.pins = frozenset(normalize_fingerprint(p) for p in self.pins)
        for cert in self.anchors:
            self._by_subject.setdefault(cert.subject.public_bytes(), []).append(cert)
        self._anchor_fps = frozenset(fingerprint(c) for c in self.anchors)

    @classmethod
    def from_folder(cls, folder: str | Path, *, pins: Iterable[str] = ()) -> TrustStore:
        """Load every .pem/.crt/.cer/.der file of ``folder`` (PEM bundles or DER); CertificateError names bad files."""
        folder = Path(folder)
        if not folder.is_dir():
            raise CertificateError(f"la carpeta de raíces de confianza {folder} no existe")
        anchors: list[x509.Certificate] = []
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() not in _CERT_SUFFIXES or not path.is_file():
                continue
            anchors.extend(load_certificate_file(path))
        return cls(anchors=tuple(anchors), pins=frozenset(pins), source=str(folder))

    def with_pins(self, pins: Iterable[str]) -> TrustStore:
        """This store with more pinned fingerprints (DIAN's certificates): built once per set of pins, as every
        received document asks for it; ValueError names a pin that is not a SHA-256 fingerprint."""
        key = frozenset(pins)
        store = self._pinned.get(key)
        if store is None:
            extra = frozenset(normalize_fingerprint(p) for p in key)
            store = self if extra <= self.pins else TrustStore(self.anchors, self.pins | extra, self.source)
            self._pinned[key] = store
        return store

    @property
    def empty(self) -> bool:
        """True when the store has neither anchors nor pins."""
        return not self.anchors and not self.pins

    def is_pinned(self, cert: x509.Certificate) -> bool:
        """True when the SHA-256 of the certificate, or of its SubjectPublicKeyInfo (same key, renewed), is pinned."""
        return self._pin_of(cert) is not None

    def _pin_of(self, cert: x509.Certificate) -> str | None:
        if not self.pins:
            return None
        if fingerprint(cert) in self.pins:
            return f"certificado fijado (SHA-256 {fingerprint(cert)[:16]}…)"
        if spki_fingerprint(cert) in self.pins:
            return f"clave pública fijada (SPKI SHA-256 {spki_fingerprint(cert)[:16]}…)"
        return None

    def evaluate(
        self, leaf: x509.Certificate, intermediates: Iterable[x509.Certificate] = (), *, at: dt.datetime
    ) -> ChainResult:
        """Build a chain from ``leaf`` through ``intermediates`` (from the document) to an anchor, judged at ``at``."""
        pinned = self._pin_of(leaf)
        if pinned is not None:
            return ChainResult("pinned", pinned, (leaf,))
        pool: dict[bytes, list[x509.Certificate]] = {}
        for cert in intermediates:
            pool.setdefault(cert.subject.public_bytes(), []).append(cert)
        path = [leaf]
        current = leaf
        for _ in range(_MAX_CHAIN):
            if fingerprint(current) in self._anchor_fps:
                return self._finish(path, at)
            issuer_key = _issuer_key(current)
            anchor = next((a for a in self._by_subject.get(issuer_key, ()) if _issued_by(current, a)), None)
            if anchor is not None:
                path.append(anchor)
                return self._finish(path, at)
            candidate = next(
                (c for c in pool.get(issuer_key, ()) if c not in path and _issued_by(current, c)),
                None,
            )
            if candidate is None:
                # Self-signed roots inside the document are never anchors; they only name the missing issuer.
                missing = common_name(current.issuer)
                return ChainResult(
                    "unknown_issuer",
                    f"el emisor «{missing}» no está en el almacén de confianza",
                    tuple(path),
                    missing_issuer=current.issuer.rfc4514_string(),
                )
            path.append(candidate)
            current = candidate
        return ChainResult("invalid", "cadena de certificados demasiado larga", tuple(path))

    def _finish(self, path: list[x509.Certificate], at: dt.datetime) -> ChainResult:
        for i, cert in enumerate(path):
            if not _valid_at(cert, at):
                return ChainResult(
                    "invalid",
                    f"el certificado «{common_name(cert.subject)}» no estaba vigente el {at.isoformat()} "
                    f"(vigencia {cert.not_valid_before_utc.date()} a {cert.not_valid_after_utc.date()})",
                    tuple(path),
                )
            if i > 0 and not _is_ca(cert):
                return ChainResult(
                    "invalid", f"«{common_name(cert.subject)}» no es una autoridad certificadora", tuple(path)
                )
        anchor = path[-1]
        return ChainResult("trusted", f"encadena a «{common_name(anchor.subject)}»", tuple(path))


def load_certificate_file(path: Path) -> list[x509.Certificate]:
    """Every certificate in one PEM (possibly a bundle) or DER file; CertificateError names the file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CertificateError(f"no se puede leer el archivo de certificado {path}: {_os_reason(exc)}") from exc
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            return list(x509.load_pem_x509_certificates(data))
        return [load_der(data)]
    except ValueError as exc:
        raise CertificateError(f"el archivo {path} no es un certificado PEM ni DER") from exc
