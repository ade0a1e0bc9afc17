"""The pack's seal: a small XML naming the period, the company, the audit chain's head and the SHA-256 of the pack's
SHA256SUMS, signed with the company certificate in DIAN's XAdES shape (dian/xades/), so xmlsec1 checks it offline.

The seal covers SHA256SUMS; SHA256SUMS covers every other file. Signing one small document rather than every sum
keeps the export's memory flat whatever the number of files (the sums go to a temporary file as the members are
written). XAdES rather than CMS: dian/xades/ both signs and verifies it in-process (cryptography 51 can build a
PKCS#7 signature but not verify one), and xmlsec1 verifies it independently.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

from dian.trust import SigningIdentity, TrustStore
from dian.xades import Outcome, sign, verify

NAMESPACE = "urn:buzon:paquete-auditoria:1"
DS = "http://www.w3.org/2000/09/xmldsig#"
# The signature sits where DIAN documents carry theirs (dian/xades/references.py looks for it there).
EXT = "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2"
SEAL_NAME = "SELLO.xml"
SUMS_NAME = "SHA256SUMS"


@dataclass(frozen=True)
class Seal:
    """What the seal states (read back from the signed element when verifying)."""

    company_nit: str
    company_name: str
    period_from: dt.date
    period_to: dt.date
    generated_at: dt.datetime
    files: int  # files listed in SHA256SUMS
    sums_sha256: str
    chain_position: str  # the audit chain head (store/audit_chain.py) when the export began
    chain_hash: str
    documents: int = 0
    events: int = 0


class SealError(Exception):
    """The seal is missing, unreadable, not signed, or its signature does not verify; the message says which."""


def seal_xml(seal: Seal) -> bytes:
    """The unsigned seal with its ``<ds:Signature Id="placeholder"/>``."""
    a = quoteattr
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<Sello xmlns="{NAMESPACE}" xmlns:ds="{DS}" xmlns:ext="{EXT}">'
        "<ext:UBLExtensions><ext:UBLExtension><ext:ExtensionContent>"
        '<ds:Signature Id="placeholder"/>'
        "</ext:ExtensionContent></ext:UBLExtension></ext:UBLExtensions>"
        f"<Empresa nit={a(seal.company_nit)} nombre={a(seal.company_name)}/>"
        f"<Periodo desde={a(seal.period_from.isoformat())} hasta={a(seal.period_to.isoformat())}/>"
        f"<Generado>{seal.generated_at.astimezone(dt.UTC).isoformat()}</Generado>"
        f"<Contenido archivos={a(str(seal.files))} documentos={a(str(seal.documents))} "
        f"eventos={a(str(seal.events))}/>"
        f"<Sumas archivo={a(SUMS_NAME)} algoritmo=\"sha256\" valor={a(seal.sums_sha256)}/>"
        f"<CadenaAuditoria posicion={a(seal.chain_position)} hash={a(seal.chain_hash)}/>"
        "</Sello>"
    ).encode()


def signed_seal(seal: Seal, identity: SigningIdentity) -> bytes:
    """The seal signed with the company certificate (XAdES, enveloped), at its generation time."""
    return sign(seal_xml(seal), identity, signing_time=seal.generated_at, role="supplier")


@dataclass(frozen=True)
class VerifiedSeal:
    seal: Seal
    signer_subject: str | None
    signer_nit: str | None
    chain_status: str | None


def _q(local: str) -> str:
    return f"{{{NAMESPACE}}}{local}"


def read_seal(data: bytes, *, trust: TrustStore | None = None) -> VerifiedSeal:
    """Verify the seal's signature and read what it signed; SealError names what fails. The certificate's chain is
    reported (``chain_status``), not required: offline, whom to trust is the auditor's decision."""
    report = verify(data, trust=trust or TrustStore())
    failed = [c for c in report.checks if c.outcome == Outcome.FAIL and c.name != "certificate.chain"]
    if not report.core_valid or failed:
        detail = "; ".join(f"{c.name}: {c.detail}" for c in failed) or "the signature does not verify"
        raise SealError(f"{SEAL_NAME}: {detail}")
    root = report.signed_element
    if root is None or root.tag != _q("Sello"):
        raise SealError(f"{SEAL_NAME}: the signed document is not a Buzón seal")
    try:
        company, period, content = root.find(_q("Empresa")), root.find(_q("Periodo")), root.find(_q("Contenido"))
        sums, chain = root.find(_q("Sumas")), root.find(_q("CadenaAuditoria"))
        seal = Seal(
            company_nit=company.get("nit", ""),
            company_name=company.get("nombre", ""),
            period_from=dt.date.fromisoformat(period.get("desde", "")),
            period_to=dt.date.fromisoformat(period.get("hasta", "")),
            generated_at=dt.datetime.fromisoformat(root.findtext(_q("Generado")) or ""),
            files=int(content.get("archivos", "")),
            documents=int(content.get("documentos", "0")),
            events=int(content.get("eventos", "0")),
            sums_sha256=sums.get("valor", ""),
            chain_position=chain.get("posicion", ""),
            chain_hash=chain.get("hash", ""),
        )
    except (AttributeError, ValueError) as exc:
        raise SealError(f"{SEAL_NAME}: a signed field is missing or malformed ({exc})") from exc
    return VerifiedSeal(seal, report.signer_subject, report.signer_nit, report.chain_status)
