"""Signing identities (PKCS#12), certificate parsing, NIT extraction and chain building against a CA folder.

Colombian certificates (Andes SCD, GSE, Camerfirma, Olimpia…) are not in any default trust store and several fail
strict web-PKI profile checks, so the chain is judged here by hand: issuer name + issuer signature, validity period
at the *signing* time, and CA basic constraints of every issuer (dian-facts 3.2, 3.3 step 3, 9).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from dian.errors import CertificateError
from dian.nit import check_digit

# dian-facts 3.2: DIAN's certificate repeats its NIT under this OID (GSE's "NIT" attribute).
NIT_OID = x509.ObjectIdentifier("1.3.6.1.4.1.4710.1.3.2")
_CERT_SUFFIXES = {".pem", ".crt", ".cer", ".der"}
_MAX_CHAIN = 8


# --------------------------------------------------------------------------------------------------------------
# Certificates


@lru_cache(maxsize=512)
def load_der(der: bytes) -> x509.Certificate:
    """Parse a DER certificate, cached by its bytes (the same DIAN and CA certificates recur in every document)."""
    return x509.load_der_x509_certificate(der)


def load_base64(text: str) -> x509.Certificate:
    """Parse the base64 text of a ds:X509Certificate (line breaks and blanks allowed)."""
    return load_der(base64.b64decode("".join(text.split()), validate=True))


@lru_cache(maxsize=512)
def fingerprint(cert: x509.Certificate) -> str:
    """The SHA-256 fingerprint of a certificate as lowercase hex without separators (cached per certificate)."""
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def normalize_fingerprint(value: str) -> str:
    """Accept ``AB:CD:…`` or ``abcd…`` and return lowercase hex; raise ValueError when it is not SHA-256."""
    hexdigits = value.replace(":", "").replace(" ", "").strip().lower()
    if len(hexdigits) != 64 or any(c not in "0123456789abcdef" for c in hexdigits):
        raise ValueError(f"not a SHA-256 fingerprint: {value!r}")
    return hexdigits


@lru_cache(maxsize=512)
def subject_text(cert: x509.Certificate) -> str:
    """An RFC 4514 rendering of a certificate's subject, for reports (cached per certificate)."""
    return cert.subject.rfc4514_string()


@lru_cache(maxsize=512)
def issuer_text(cert: x509.Certificate) -> str:
    """An RFC 4514 rendering of a certificate's issuer, for reports (cached per certificate)."""
    return cert.issuer.rfc4514_string()


def common_name(name: x509.Name) -> str:
    """The CN of a name, or its full RFC 4514 rendering when it has none."""
    cns = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(cns[0].value) if cns else name.rfc4514_string()


def _digits(value: str) -> str:
    # "900123456-7", "NIT 900.123.456", "CC 1234" → the digits before any DV separator.
    head = value.split("-")[0]
    return "".join(c for c in head if c.isdigit())


@lru_cache(maxsize=512)
def certificate_nits(cert: x509.Certificate) -> tuple[str, ...]:
    """Candidate NITs (digits, no DV) a certificate names: OID 4710.1.3.2 first, then the subject serialNumber."""
    raw: list[str] = []
    for oid in (NIT_OID, NameOID.SERIAL_NUMBER):
        for attr in cert.subject.get_attributes_for_oid(oid):
            digits = _digits(str(attr.value))
            if digits and digits not in raw:
                raw.append(digits)
    out: list[str] = []
    for digits in raw:
        out.append(digits)
        # Andes SCD and Camerfirma run the DV into the serialNumber ("8909305340" = 890930534 + DV 0).
        if 5 < len(digits) <= 16 and check_digit(digits[:-1]) == digits[-1] and digits[:-1] not in out:
            out.append(digits[:-1])
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


def load_pkcs12(path: str | Path, password: str | bytes | None) -> SigningIdentity:
    """Load a PKCS#12 file into a SigningIdentity; CertificateError names the file on any problem."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CertificateError(f"cannot read the PKCS#12 file {path}: {exc.strerror}") from exc
    if isinstance(password, str):
        password = password.encode()
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, password)
    except ValueError as exc:
        raise CertificateError(f"cannot open the PKCS#12 file {path}: wrong password or not a PKCS#12 file") from exc
    if key is None:
        raise CertificateError(f"the PKCS#12 file {path} holds no private key")
    if cert is None:
        raise CertificateError(f"the PKCS#12 file {path} holds no certificate for its key")
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise CertificateError(f"the PKCS#12 file {path} holds an unsupported key type {type(key).__name__}")
    if cert.public_key().public_numbers() != key.public_key().public_numbers():
        raise CertificateError(f"the PKCS#12 file {path}: the certificate does not match the private key")
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


@lru_cache(maxsize=512)
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


@lru_cache(maxsize=512)
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
            raise CertificateError(f"the trust folder {folder} does not exist")
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
        """True when the certificate's SHA-256 fingerprint is pinned."""
        return fingerprint(cert) in self.pins

    def evaluate(
        self, leaf: x509.Certificate, intermediates: Iterable[x509.Certificate] = (), *, at: dt.datetime
    ) -> ChainResult:
        """Build a chain from ``leaf`` through ``intermediates`` (from the document) to an anchor, judged at ``at``."""
        if self.is_pinned(leaf):
            return ChainResult("pinned", f"certificado fijado (SHA-256 {fingerprint(leaf)[:16]}…)", (leaf,))
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
        raise CertificateError(f"cannot read the certificate file {path}: {exc.strerror}") from exc
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            return list(x509.load_pem_x509_certificates(data))
        return [load_der(data)]
    except ValueError as exc:
        raise CertificateError(f"the file {path} is not a PEM or DER certificate") from exc
