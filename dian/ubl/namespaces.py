"""XML namespaces of DIAN's UBL 2.1 documents and the prefixes Buzón writes (dian-facts.md 2.5, 3.1, 5)."""

from __future__ import annotations

from functools import lru_cache

__all__ = [
    "CAC",
    "CBC",
    "DS",
    "EXT",
    "NSMAP",
    "ROOT_NAMESPACES",
    "STS",
    "STS_NAMESPACES",
    "XADES",
    "XADES141",
    "clark",
]

CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
EXT = "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2"
DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"
XADES141 = "http://uri.etsi.org/01903/v1.4.1#"
# Real documents use the first form; apidian's events use the "urn:" variant and DIAN tolerates it (dian-facts.md 8.7).
STS = "dian:gov:co:facturaelectronica:Structures-2-1"
STS_NAMESPACES = frozenset({STS, "urn:dian:gov:co:facturaelectronica:Structures-2-1"})

INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
DEBIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:DebitNote-2"
ATTACHED_DOCUMENT = "urn:oasis:names:specification:ubl:schema:xsd:AttachedDocument-2"
APPLICATION_RESPONSE = "urn:oasis:names:specification:ubl:schema:xsd:ApplicationResponse-2"

# Root local name -> its default namespace.
ROOT_NAMESPACES = {
    "Invoice": INVOICE,
    "CreditNote": CREDIT_NOTE,
    "DebitNote": DEBIT_NOTE,
    "AttachedDocument": ATTACHED_DOCUMENT,
    "ApplicationResponse": APPLICATION_RESPONSE,
}

# Prefixes declared on every root Buzón builds: the signer needs xades declared on the root, or its output gets
# "ns0:" prefixes (dian-facts.md 11).
NSMAP = {
    "cac": CAC,
    "cbc": CBC,
    "ext": EXT,
    "ds": DS,
    "xades": XADES,
    "xades141": XADES141,
    "sts": STS,
}

_PREFIXES = {"cac": CAC, "cbc": CBC, "ext": EXT, "ds": DS, "xades": XADES, "sts": STS}


@lru_cache(maxsize=1024)
def clark(path: str) -> str:
    """Turn 'cac:Party/cbc:ID' into lxml's Clark notation '{urn…}Party/{urn…}ID' (no namespace map per call)."""
    steps = []
    for step in path.split("/"):
        prefix, sep, local = step.partition(":")
        steps.append(f"{{{_PREFIXES[prefix]}}}{local}" if sep else step)
    return "/".join(steps)
