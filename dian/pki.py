"""Issuing X.509 certificates shaped like those of Colombian CAs: for the simulator's "DIAN", the demo and tests."""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa


def new_key() -> rsa.RSAPrivateKey:
    """A fresh RSA-2048 key, the size Colombian CAs issue."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def issue_certificate(
    subject: x509.Name,
    key: rsa.RSAPrivateKey,
    *,
    issuer_name: x509.Name | None = None,
    issuer_key: rsa.RSAPrivateKey | None = None,
    ca: bool = False,
    not_before: dt.datetime,
    not_after: dt.datetime,
    hash_algorithm: hashes.HashAlgorithm | None = None,
) -> x509.Certificate:
    """A certificate for subject's key, signed by issuer_key (self-signed when no issuer is given).

    A CA gets keyCertSign/cRLSign; an end entity gets digitalSignature and nonRepudiation, as signing certificates of
    Colombian CAs carry. SubjectKeyIdentifier always, AuthorityKeyIdentifier when issued by another key.
    """
    signer_key = issuer_key or key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name or subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=not ca,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer_key is not None and issuer_key is not key:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
        )
    return builder.sign(signer_key, hash_algorithm or hashes.SHA256())
