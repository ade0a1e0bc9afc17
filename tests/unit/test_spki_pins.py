"""Pins by SubjectPublicKeyInfo: a DIAN certificate renewed with the same key stays pinned (dian.trust)."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from dian.trust import TrustStore, fingerprint, spki_fingerprint
from tests.pki import _name, issue, pki

AT = dt.datetime(2025, 3, 3, 14, 0, tzinfo=dt.UTC)


def _spki_of_public_key(cert: x509.Certificate) -> str:
    der = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def _renewed_dian() -> x509.Certificate:
    """DIAN's stand-in certificate issued again with the same key, two years later."""
    p = pki()
    return issue(
        p.dian.cert.subject,
        key_label="dian",
        issuer=p.dian_root,
        not_before=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
        not_after=dt.datetime(2046, 1, 1, tzinfo=dt.UTC),
    ).cert


def test_spki_fingerprint_is_the_sha256_of_the_subject_public_key_info() -> None:
    cert = pki().dian.cert
    value = spki_fingerprint(cert)
    assert value == _spki_of_public_key(cert)
    assert len(value) == 64 and value == value.lower()
    assert value != fingerprint(cert)


def test_spki_fingerprint_of_an_ec_certificate() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name("EC")
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(AT)
        .not_valid_after(AT + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    assert spki_fingerprint(cert) == _spki_of_public_key(cert)


def test_a_renewed_certificate_with_the_same_key_stays_pinned_by_spki() -> None:
    old, renewed = pki().dian.cert, _renewed_dian()
    assert fingerprint(old) != fingerprint(renewed)
    assert spki_fingerprint(old) == spki_fingerprint(renewed)
    by_spki = TrustStore(pins=frozenset({spki_fingerprint(old)}))
    assert by_spki.is_pinned(old) and by_spki.is_pinned(renewed)
    result = by_spki.evaluate(renewed, at=AT)
    assert result.status == "pinned" and result.trusted
    assert "SPKI" in result.detail
    # A pin of the whole certificate does not carry over to the renewal.
    by_certificate = TrustStore(pins=frozenset({fingerprint(old)}))
    assert by_certificate.is_pinned(old)
    assert not by_certificate.is_pinned(renewed)
    assert by_certificate.evaluate(old, at=AT).detail.startswith("certificado fijado")
    assert by_certificate.evaluate(renewed, at=AT).status == "unknown_issuer"


def test_another_key_is_not_pinned() -> None:
    p = pki()
    store = TrustStore(pins=frozenset({spki_fingerprint(p.dian.cert)}))
    assert not store.is_pinned(p.impostor.cert)
    assert store.evaluate(p.impostor.cert, at=AT).status == "unknown_issuer"


def test_with_pins_takes_spki_pins_in_any_spelling() -> None:
    p = pki()
    spki = spki_fingerprint(p.dian.cert)
    colons = ":".join(spki[i : i + 2] for i in range(0, 64, 2)).upper()
    base = TrustStore(anchors=(p.root.cert,))
    store = base.with_pins([colons])
    assert store is base.with_pins([colons])  # built once per set of pins
    assert store.is_pinned(_renewed_dian())
    assert not base.is_pinned(p.dian.cert)
    with pytest.raises(ValueError, match="not a SHA-256 fingerprint"):
        base.with_pins(["abc"])
