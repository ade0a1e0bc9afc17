"""Quarantine reasons: the sentence a clerk reads for each reason code, the reason of a verified document, and the
``error_interno`` of a message whose processing failed (its detail and its audit entry)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from dian.reception import ReceptionReport
from dian.xades import Check, Outcome, Verdict
from inbox.faults import one_line
from inbox.intake.tx import Tx
from store import audit
from store.models import QuarantineReason

# What a clerk reads on the quarantine screen (es-CO), one sentence per reason code.
REASON_TEXT = {
    QuarantineReason.NOT_FOR_US: "El documento no es para ninguna de nuestras empresas",
    QuarantineReason.SIGNATURE_INVALID: "La firma del documento no es válida",
    QuarantineReason.NOT_VALIDATED: "El documento no está validado por la DIAN",
    QuarantineReason.NO_DOCUMENT: "El correo no trae ningún documento electrónico",
    QuarantineReason.DUPLICATE: "Ya existe un documento con el mismo CUFE y contenido distinto",
    QuarantineReason.TOO_LARGE: "El correo o sus adjuntos superan el tamaño permitido",
    QuarantineReason.UNREADABLE: "El adjunto no se puede leer",
    QuarantineReason.INTERNAL_ERROR: "Error interno al procesar el correo",
    QuarantineReason.FORGED: "El evento o la respuesta de DIAN no corresponde a quien dice enviarlo",
    QuarantineReason.UNSUPPORTED: "El documento es de un tipo que Buzón no recibe como factura",
}

# Checks on the shape of signed identifiers (dian.reception): their failure is not the signature's.
_SHAPE_CHECKS = frozenset(
    {"document.uuid", "document.reference.uuid", "document.number", "document.supplier.nit", "document.customer.nit"}
)


def quarantine_reason(report: ReceptionReport) -> QuarantineReason | None:
    """The quarantine reason code for a verified document, or None when it may be filed."""
    if report.unreadable:
        return QuarantineReason.UNREADABLE
    if report.verdict != Verdict.INVALID:
        return None
    failed = [c.name for c in report.checks if c.outcome == Outcome.FAIL]
    if "document.type" in failed:  # its signature held (the check is made only then): readable, not ours to take
        return QuarantineReason.UNSUPPORTED
    if report.document is None:
        signature = report.document_signature
        if signature is not None and any(n.startswith("document.") and n != "document.parse" for n in failed):
            return QuarantineReason.SIGNATURE_INVALID
        return QuarantineReason.UNREADABLE
    if any(n.startswith("document.") and n not in _SHAPE_CHECKS for n in failed):
        return QuarantineReason.SIGNATURE_INVALID
    if any(n in _SHAPE_CHECKS for n in failed):
        return QuarantineReason.UNREADABLE  # signed, but an identifier DIAN never issues: the detail names it
    if "buyer.nit" in failed:
        return QuarantineReason.NOT_FOR_US
    if any(n.startswith("dian.") for n in failed):
        return QuarantineReason.NOT_VALIDATED
    return QuarantineReason.UNREADABLE


def first_failure(checks: Iterable[Check]) -> str:
    """The details of the first three failed checks, for a reason's detail."""
    failed = [c.detail for c in checks if c.outcome == Outcome.FAIL]
    return "; ".join(failed[:3])


def internal_error(failure: Exception) -> str:
    """The reason a clerk reads for a message quarantined as error_interno: the failure's one-line summary."""
    return f"{REASON_TEXT[QuarantineReason.INTERNAL_ERROR]}: {one_line(failure)}"


def audit_internal_error(
    conn: Tx, mail_id: int, detail: str, failure: Exception, *, subject: str, actor: str, at: datetime
) -> None:
    """The audit entry of a message quarantined as error_interno (what applying.quarantine writes for the others)."""
    data = {"reason": QuarantineReason.INTERNAL_ERROR.value, "detail": detail, "subject": subject,
            "error": type(failure).__name__}  # fmt: skip
    entry = audit.entry(actor=actor, action="mail.quarantined", subject=f"mail:{mail_id}", source="inbox",
                        data=data, at=at)  # fmt: skip
    audit.insert_entries(conn, [entry])  # type: ignore[arg-type]
