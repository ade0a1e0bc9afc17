"""A signer's certificate as verification reads it: read once per text, its names, digests and validity."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from functools import cached_property, lru_cache

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from dian.trust import (
    certificate_nit,
    common_name,
    issuer_text,
    load_base64,
    subject_text,
)


def _b64_digest(data: bytes, algorithm: str = "sha256") -> str:
    return base64.b64encode(hashlib.new(algorithm, data).digest()).decode("ascii")


@lru_cache(maxsize=512)
def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


@lru_cache(maxsize=64)
def _cert_digest(cert: x509.Certificate, algorithm: str = "sha256") -> str:
    return _b64_digest(_der(cert), algorithm)


class _Certificate:
    """A ds:X509Certificate read once, with what the report says of it: the same supplier and DIAN certificates come
    in every document, and reading one (about 25 µs) and its names (about 35 µs more) cost a verification a tenth."""

    def __init__(self, cert: x509.Certificate) -> None:
        self.cert = cert
        self._digests: dict[str, str] = {}

    @cached_property
    def subject(self) -> str:
        return subject_text(self.cert)

    @cached_property
    def issuer(self) -> str:
        return issuer_text(self.cert)

    @cached_property
    def serial(self) -> str:
        return str(self.cert.serial_number)

    @cached_property
    def nit(self) -> str | None:
        return certificate_nit(self.cert)

    @cached_property
    def validity(self) -> tuple[dt.datetime, dt.datetime]:
        """notBefore and notAfter (cryptography builds both datetimes again on every read)."""
        return self.cert.not_valid_before_utc, self.cert.not_valid_after_utc

    @cached_property
    def period(self) -> str:
        """The validity as the report words it."""
        start, end = self.validity
        return f"vigencia {start.date()} a {end.date()}"

    @cached_property
    def issuer_name(self) -> str:
        """The issuer's common name, as the chain check names it."""
        return common_name(self.cert.issuer)

    def digest(self, algorithm: str) -> str:
        """The base64 digest of its DER, as xades:CertDigest writes it."""
        found = self._digests.get(algorithm)
        if found is None:
            der = self.cert.public_bytes(serialization.Encoding.DER)
            found = self._digests[algorithm] = _b64_digest(der, algorithm)
        return found


@lru_cache(maxsize=256)
def _certificate(text: str) -> _Certificate:
    """The certificate a ds:X509Certificate's text holds (ValueError when it holds none), read once per text."""
    return _Certificate(load_base64(text))


def _valid_at(cert: _Certificate, at: dt.datetime) -> bool:
    start, end = cert.validity
    return start <= at <= end
