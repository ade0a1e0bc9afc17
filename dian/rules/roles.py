"""Who acts on a document: the roles, their Spanish labels, the sets of roles the table names, and which role a NIT
plays on a title now (dian-facts.md 2.1, radian-issuing-facts.md A.3 and A.11).
"""

from __future__ import annotations

from enum import StrEnum

from dian.nit import same_nit
from dian.rules.facts import DocumentFacts


class Role(StrEnum):
    """Who is acting on the document (dian-facts.md 2.1, radian-issuing-facts.md A.3)."""

    BUYER = "buyer"  # adquirente / deudor
    SELLER = "seller"  # the invoice issuer; also the title holder until an 037 moves the title
    HOLDER = "holder"  # a legitimate holder who acquired the title by endorsement (037)
    THIRD_PARTY = "third_party"  # avalista
    AUTHORITY = "authority"  # judicial or administrative authority (041/042)
    MANDATARY = "mandatary"  # mandatario of a 043 mandate (442 renuncia)


ROLE_LABELS = {
    Role.BUYER: "el comprador (adquirente)",
    Role.SELLER: "el vendedor (emisor de la factura)",
    Role.HOLDER: "el tenedor legítimo",
    Role.THIRD_PARTY: "un avalista",
    Role.AUTHORITY: "una autoridad judicial o administrativa",
    Role.MANDATARY: "el mandatario",
}

HOLDERS = frozenset({Role.SELLER, Role.HOLDER})
MANDANTES = frozenset({Role.SELLER, Role.HOLDER, Role.BUYER, Role.THIRD_PARTY})  # A.3, TS-annex "Responsable"


def title_role(nit: str, facts: DocumentFacts) -> Role | None:
    """The role ``nit`` plays on this title now: HOLDER (SELLER while the issuer holds it), SELLER for an issuer
    that endorsed it away, BUYER, or None for anyone else (an avalista, an authority, a mandatario), A.3 and A.11."""
    current, _ = facts.holders()
    if facts.knows_parties and any(same_nit(nit, holder.nit) for holder in current):
        return Role.SELLER if same_nit(nit, facts.issuer_nit) else Role.HOLDER
    if same_nit(nit, facts.buyer_nit):
        return Role.BUYER
    if same_nit(nit, facts.issuer_nit):
        return Role.SELLER
    return None
