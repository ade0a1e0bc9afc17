"""The simulator's own PKI: a CA, the "DIAN" certificate it signs answers with, and sandbox identities.

Generated on first start under the data directory and kept there (``pki/``), so answers stay verifiable across
restarts. The DIAN certificate names NIT 800197268 in its serialNumber and in OID 1.3.6.1.4.1.4710.1.3.2, as DIAN's
real one does (dian-facts 3.2). Users trust the simulator by adding ``ca.pem`` to their trust store folder.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from dian.codes import DIAN_NIT
from dian.nit import check_digit
from dian.pki import issue_certificate, new_key
from dian.trust import NIT_OID, SigningIdentity

__all__ = ["SimulatorPKI", "issue_identity", "kept_identity", "load_or_create"]

_VALIDITY = dt.timedelta(days=3650)
# Back-dated so demo and test documents may carry signing times from past years (a signature is judged at its
# signing time, dian-facts 9).
_BACKDATE = dt.timedelta(days=5 * 365)


@dataclass(frozen=True)
class SimulatorPKI:
    """The CA (certificate file path and identity) and the DIAN identity of one simulator data directory."""

    ca_path: Path
    ca: SigningIdentity
    dian: SigningIdentity


def _new_key() -> rsa.RSAPrivateKey:
    return new_key()


def _certificate(
    subject: x509.Name,
    key: rsa.RSAPrivateKey,
    *,
    issuer: SigningIdentity | None,
    ca: bool,
    now: dt.datetime,
) -> x509.Certificate:
    return issue_certificate(
        subject,
        key,
        issuer_name=issuer.certificate.subject if issuer else None,
        issuer_key=issuer.key if issuer else None,  # type: ignore[arg-type]
        ca=ca,
        not_before=now - _BACKDATE,
        not_after=now + _VALIDITY,
    )


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _pem_key(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _load(cert_path: Path, key_path: Path, chain: tuple[x509.Certificate, ...] = ()) -> SigningIdentity:
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return SigningIdentity(key=key, certificate=cert, chain=chain, source=str(cert_path))


def load_or_create(folder: Path, *, now: dt.datetime | None = None) -> SimulatorPKI:
    """Load the PKI from ``folder``, generating the missing parts (CA first, then the DIAN certificate)."""
    now = now or dt.datetime.now(dt.UTC)
    folder.mkdir(parents=True, exist_ok=True)
    ca_cert, ca_key = folder / "ca.pem", folder / "ca.key"
    if not (ca_cert.exists() and ca_key.exists()):
        key = _new_key()
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "CO"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Buzón simulador DIAN"),
                x509.NameAttribute(NameOID.COMMON_NAME, f"Buzón DIAN Simulator CA {now:%Y%m%d%H%M%S}"),
            ]
        )
        cert = _certificate(name, key, issuer=None, ca=True, now=now)
        _write_private(ca_key, _pem_key(key))
        ca_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        for stale in ("dian.pem", "dian.key"):
            (folder / stale).unlink(missing_ok=True)
    ca = _load(ca_cert, ca_key)
    dian_cert, dian_key = folder / "dian.pem", folder / "dian.key"
    if not (dian_cert.exists() and dian_key.exists()):
        key = _new_key()
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "CO"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "DIAN (simulador)"),
                x509.NameAttribute(NameOID.SERIAL_NUMBER, DIAN_NIT),
                x509.NameAttribute(NIT_OID, DIAN_NIT),
                x509.NameAttribute(NameOID.COMMON_NAME, "U.A.E. DIRECCION DE IMPUESTOS Y ADUANAS NACIONALES"),
            ]
        )
        cert = _certificate(name, key, issuer=ca, ca=False, now=now)
        _write_private(dian_key, _pem_key(key))
        dian_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    dian = _load(dian_cert, dian_key, chain=(ca.certificate,))
    return SimulatorPKI(ca_path=ca_cert, ca=ca, dian=dian)


def issue_identity(pki: SimulatorPKI, nit: str, name: str, *, now: dt.datetime | None = None) -> SigningIdentity:
    """A sandbox signing identity for ``nit`` under the simulator CA (serialNumber = NIT + DV, as Andes SCD writes)."""
    digits = "".join(c for c in nit if c.isdigit())
    if not digits:
        raise ValueError(f"NIT {nit!r}: expected digits")
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CO"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, digits + check_digit(digits)),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
    )
    key = _new_key()
    cert = _certificate(subject, key, issuer=pki.ca, ca=False, now=now or dt.datetime.now(dt.UTC))
    return SigningIdentity(key=key, certificate=cert, chain=(pki.ca.certificate,), source=f"simulator:{digits}")


def kept_identity(
    pki: SimulatorPKI, folder: Path, nit: str, name: str, *, now: dt.datetime | None = None
) -> SigningIdentity:
    """A sandbox identity for ``nit`` kept under ``folder`` (``<nit>.pem``/``<nit>.key``): issued once, then the same
    certificate across restarts (the counterparts sign with it)."""
    digits = "".join(c for c in nit if c.isdigit())
    cert_path, key_path = folder / f"{digits}.pem", folder / f"{digits}.key"
    if cert_path.exists() and key_path.exists():
        return _load(cert_path, key_path, chain=(pki.ca.certificate,))
    identity = issue_identity(pki, nit, name, now=now)
    folder.mkdir(parents=True, exist_ok=True)
    _write_private(key_path, _pem_key(identity.key))  # type: ignore[arg-type]
    cert_path.write_bytes(identity.certificate.public_bytes(serialization.Encoding.PEM))
    return _load(cert_path, key_path, chain=(pki.ca.certificate,))
