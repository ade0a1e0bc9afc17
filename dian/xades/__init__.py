"""DIAN's XAdES-EPES signature: signing in DIAN's exact shape and a graded verification report.

Signing (dian-facts 5, 9, 11): inclusive C14N 1.0, RSA-SHA256, SHA-256 digests, ``ds:Object/xades:QualifyingProperties``
and the KeyInfo and SignedProperties references, written with lxml and cryptography in the shape signxml's
``XMLSigner`` wrote (see ``sign``).

Verification (dian-facts 5, 9): the core XMLDSig signature is checked strictly with lxml + cryptography against the
document's own ``ds:X509Certificate``; the XAdES layer and the certificate are graded check by check (pass / warn /
fail), because DIAN accepts real documents that a single yes/no library call rejects (CADENA's uncovered
SignedProperties, whole-chain SigningCertificate lists, an rsa-sha1 invoice, a relative namespace URI).

Checks, in report order: ``signature`` (SignatureValue over SignedInfo), ``reference.document`` (enveloped URI=""),
``reference.key_info`` and ``reference.signed_properties`` (warn when not covered), ``reference.other`` (only when
present), ``signing_time``, ``policy.identifier``, ``policy.hash``, ``signing_certificate``, ``certificate.validity``
(at the signing time), ``certificate.chain`` (warn when the issuer is not in the store), ``signer.nit`` (only when
NITs are expected), ``algorithms`` (warn on SHA-1).

The modules, each one noun: ``vocabulary`` (namespaces, the policy, algorithms, limits), ``sign``, ``verify``,
``references`` (what a signature covers: finding it, resolving and digesting its references, C14N), ``report`` (the
graded checks and their verdict), ``certificates`` (a signer's certificate read once) and ``signing_time``.
"""

from __future__ import annotations

from dian.xades.references import has_signature
from dian.xades.report import Check, CheckResults, Outcome, SignatureReport, Verdict, verdict_of
from dian.xades.sign import sign
from dian.xades.signing_time import parse_signing_time
from dian.xades.verify import iter_signatures, verify
from dian.xades.vocabulary import (
    COLOMBIA,
    DS,
    ENVELOPED,
    EXT,
    MAX_CERTIFICATES,
    MAX_REFERENCES,
    MAX_TRANSFORMS,
    POLICY_DESCRIPTION,
    POLICY_HASH,
    POLICY_MIRROR,
    POLICY_URL,
    SIGNED_PROPERTIES_TYPE,
    XADES,
)

__all__ = [
    "COLOMBIA",
    "DS",
    "ENVELOPED",
    "EXT",
    "MAX_CERTIFICATES",
    "MAX_REFERENCES",
    "MAX_TRANSFORMS",
    "POLICY_DESCRIPTION",
    "POLICY_HASH",
    "POLICY_MIRROR",
    "POLICY_URL",
    "SIGNED_PROPERTIES_TYPE",
    "XADES",
    "Check",
    "CheckResults",
    "Outcome",
    "SignatureReport",
    "Verdict",
    "has_signature",
    "iter_signatures",
    "parse_signing_time",
    "sign",
    "verdict_of",
    "verify",
]
