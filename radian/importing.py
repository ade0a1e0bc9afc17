"""Importing an invoice we issued elsewhere, with DIAN's answer, as the source of a receivable title (until issuing
lands, issue 18): verified from its bytes like a received document (dian.reception: the signatures, the certificate,
DIAN's answer weighed by dian.proof), our NIT checked as the seller, filed as an OutboundDocument ``imported`` with its
title row (unregistered). An unproven DIAN answer is said plainly and kept as the verdict ``unconfirmed``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from dian.codes import DocumentType
from dian.nit import same_nit
from dian.proof import DianKeys
from dian.reception import verify_received
from dian.trust import TrustStore
from radian.store import ensure_title
from store.audit import record
from store.blobs import BlobStore
from store.models import OutboundDocument, OutboundState, ValueTitle, Verdict

__all__ = ["ImportRefused", "Imported", "import_invoice"]


class ImportRefused(ValueError):
    """The file is not an invoice of ours that can be filed: a Spanish sentence saying why."""


@dataclass(frozen=True)
class Imported:
    """What the import filed: the outbound document, its title, and what was proven."""

    outbound_document_id: int
    title_id: int
    number: str
    cufe: str
    verdict: Verdict
    proven: bool  # DIAN's validation proven (offline by its signature, or online)
    already: bool  # it was on file before
    warnings: tuple[str, ...] = ()

    @property
    def summary(self) -> str:
        if self.already:
            return f"La factura {self.number} ya estaba importada."
        proof = (
            "validación de la DIAN comprobada"
            if self.proven
            else "validación de la DIAN SIN CONFIRMAR: la firma de la DIAN no se pudo comprobar"
        )
        return f"Factura {self.number} importada ({proof})."


def import_invoice(
    session: Session,
    blobs: BlobStore,
    data: bytes,
    *,
    our_nit: str,
    our_name: str,
    trust: TrustStore,
    keys: DianKeys,
    now: datetime,
    actor: str,
    source: str | None = None,
    dian_answer: bytes | None = None,
) -> Imported:
    """Verify ``data`` (an AttachedDocument, or the bare invoice with ``dian_answer``) and file it as ours; the caller
    commits. Refusals raise ImportRefused before anything is written."""
    report = verify_received(data, trust=trust, keys=keys, now=now, dian_answer=dian_answer)
    document = report.document
    if report.unreadable or (document is None and report.unverified_document is None):
        reason = next((c.detail for c in report.checks if c.outcome.value == "fail"), "no contiene una factura")
        raise ImportRefused(f"El archivo no es una factura electrónica legible: {reason}.")
    if document is None:
        failed = [c.detail for c in report.checks if c.outcome.value == "fail"]
        raise ImportRefused(f"La firma de la factura no es válida: {'; '.join(failed[:2]) or 'sin detalle'}.")
    if document.document_type is not DocumentType.INVOICE:
        raise ImportRefused(
            f"Solo una factura electrónica de venta (tipo 01) puede ser título valor; el archivo es de tipo "
            f"{document.document_type.value}."
        )
    if not same_nit(document.supplier.nit, our_nit):
        raise ImportRefused(
            f"La factura {document.number} la emitió el NIT {document.supplier.nit}, no nuestra empresa (NIT "
            f"{our_nit}): solo se importan facturas propias."
        )
    cufe = document.uuid.strip().lower()
    existing = session.execute(sa.select(OutboundDocument).where(OutboundDocument.cufe == cufe)).scalar_one_or_none()
    if existing is not None:
        title = ensure_title(session, existing, our_nit=our_nit, our_name=our_name)
        verdict = existing.verdict or Verdict.UNCONFIRMED
        return Imported(existing.id, title.id, existing.number, cufe, verdict, verdict is not Verdict.UNCONFIRMED,
                        already=True)  # fmt: skip
    verdict = Verdict(report.verdict.value)
    if verdict is Verdict.INVALID:
        failed = [c.detail for c in report.checks if c.outcome.value == "fail"]
        raise ImportRefused(f"La factura {document.number} no pasa la verificación: {'; '.join(failed[:3])}.")
    warnings = []
    if not report.dian_validated:
        warnings.append(
            "La validación de la DIAN no está probada (falta su respuesta o su firma no se pudo comprobar): "
            "la factura queda «sin confirmar»."
        )
    outbound = OutboundDocument(
        document_type=document.document_type,
        environment=document.environment,
        prefix=document.prefix or "",
        number=document.number,
        cufe=cufe,
        buyer_nit=document.customer.nit,
        buyer_name=document.customer.registration_name or document.customer.nit,
        buyer_email=document.customer.email,
        issued_at=document.issued_at,
        currency=document.currency or "COP",
        payable_amount=document.monetary_total.payable,
        state=OutboundState.ACCEPTED if report.dian_validated else OutboundState.SENT,
        xml_blob=blobs.put(report.document_xml or data),
        dian_response_blob=blobs.put(report.dian_response_xml) if report.dian_response_xml else None,
        attached_blob=blobs.put(data) if report.kind == "attached_document" else None,
        origin="imported",
        issue_date=document.issue_date,
        due_date=document.due_date,
        payment_means=document.payment_means,
        signed_at=report.document_signature.signing_time if report.document_signature else None,
        verdict=verdict,
        report=report.to_dict(),
    )
    session.add(outbound)
    session.flush()
    title: ValueTitle = ensure_title(session, outbound, our_nit=our_nit, our_name=our_name)
    record(
        session,
        actor=actor,
        action="document.filed",
        subject=cufe,
        source=source,
        data={"outbound_document_id": outbound.id, "title_id": title.id, "number": outbound.number,
              "verdict": verdict.value, "origin": "imported", "dian_proof": report.dian_proof.value},
        at=now,
    )  # fmt: skip
    return Imported(outbound.id, title.id, outbound.number, cufe, verdict, report.dian_validated, already=False,
                    warnings=tuple(warnings))  # fmt: skip
