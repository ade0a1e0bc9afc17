"""The words of DIAN's XAdES signature: namespaces, the policy, the algorithms read, the limits on hostile input."""

from __future__ import annotations

import datetime as dt

from cryptography.hazmat.primitives import hashes

DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"
EXT = "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2"
SIGNED_PROPERTIES_TYPE = "http://uri.etsi.org/01903#SignedProperties"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"

# dian-facts 5: policy v2 identifier, the CADENA S3 mirror DIAN also accepts, and the hash seen in all 58 signatures.
POLICY_URL = "https://facturaelectronica.dian.gov.co/politicadefirma/v2/politicadefirmav2.pdf"
POLICY_MIRROR = "https://s3.amazonaws.com/efactura.resources/politicadefirmav2.pdf"
POLICY_HASH = "dMoMvtcG5aIzgYo0tIsSQeVJBDnUnfSOfBpxXrmor0Y="
POLICY_DESCRIPTION = "Política de firma para facturas electrónicas de la República de Colombia"
COLOMBIA = dt.timezone(dt.timedelta(hours=-5), "COT")

# Canonicalization method -> (exclusive, with_comments). C14N 1.1 differs from 1.0 only in xml:id/xml:base
# inheritance, which no DIAN document uses; lxml has no 1.1 serializer, so it is read as 1.0.
_C14N = {
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315": (False, False),
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments": (False, True),
    "http://www.w3.org/2001/10/xml-exc-c14n#": (True, False),
    "http://www.w3.org/2001/10/xml-exc-c14n#WithComments": (True, True),
    "http://www.w3.org/2006/12/xml-c14n11": (False, False),
    "http://www.w3.org/2006/12/xml-c14n11#WithComments": (False, True),
}
_DIGESTS: dict[str, str] = {
    "http://www.w3.org/2000/09/xmldsig#sha1": "sha1",
    "http://www.w3.org/2001/04/xmlenc#sha256": "sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha384": "sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512": "sha512",
}
_SIGNATURES: dict[str, tuple[str, type[hashes.HashAlgorithm]]] = {
    "http://www.w3.org/2000/09/xmldsig#rsa-sha1": ("rsa", hashes.SHA1),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": ("rsa", hashes.SHA256),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384": ("rsa", hashes.SHA384),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": ("rsa", hashes.SHA512),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256": ("ecdsa", hashes.SHA256),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384": ("ecdsa", hashes.SHA384),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512": ("ecdsa", hashes.SHA512),
}
_WEAK = {"sha1"}

# Bounded work for hostile input (issue 14): what DIAN's shape never needs is refused before any digest, detach or
# certificate parsing. DIAN's signatures carry 3 references with at most 2 transforms each, one certificate in
# KeyInfo, and a SigningCertificate list of at most the whole chain (3 or 4).
MAX_REFERENCES = 16
MAX_TRANSFORMS = 8
MAX_CERTIFICATES = 10


def _q(ns: str, local: str) -> str:
    return f"{{{ns}}}{local}"
