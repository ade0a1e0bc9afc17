"""The four-eyes sweep (job ``approvals``): pending 031/033 requests whose claim window ended are expired, and those
that would miss it — from the business day before the window ends — are mailed once to the users who may approve
them (active, with the acting role and an address, never the requester), so nobody learns of it too late.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from dian.calendar import BOGOTA
from dian.codes import EventCode
from events.approvals import APPROVER_ROLES, at_risk, expire, pesos
from events.context import EventContext, utc_now
from events.notify import enqueue, new_message
from store.audit import record
from store.models import Approval, ApprovalState, MailKind, ReceivedDocument, User

WINDOWED = (EventCode.RECLAMO, EventCode.ACEPTACION_EXPRESA)


@dataclass
class SweepReport:
    expired: list[int] = field(default_factory=list)
    alerted: list[int] = field(default_factory=list)
    nobody: int = 0  # flagged requests with no approver address to mail

    def as_dict(self) -> dict[str, int]:
        return {"expired": len(self.expired), "alerted": len(self.alerted), "nobody": self.nobody}


def _approvers(s: Session) -> list[tuple[str, str]]:
    """(actor, address) of every active AP clerk with an address: they approve 031/033."""
    rows = s.execute(
        sa.select(User.username, User.email).where(
            User.active.is_(True), User.role.in_(APPROVER_ROLES["document"]), User.email.is_not(None)
        )
    ).all()
    return [(f"user:{name}", email) for name, email in rows if email and "@" in email]


def sweep(
    sessions: sessionmaker[Session],
    ctx: EventContext,
    *,
    from_address: str,
    now: Callable[[], datetime] = utc_now,
    actor: str = "job:approvals",
) -> SweepReport:
    report = SweepReport()
    at = now()
    with sessions() as s:
        report.expired = expire(s, at, actor=actor)
        flagged = s.execute(
            sa.select(Approval, ReceivedDocument.window_ends_at, ReceivedDocument.cufe)
            .join(ReceivedDocument, ReceivedDocument.id == Approval.document_id)
            .where(Approval.state == ApprovalState.PENDING, Approval.alerted_at.is_(None), Approval.code.in_(WINDOWED),
                   ReceivedDocument.window_ends_at >= at)
            .order_by(ReceivedDocument.window_ends_at, Approval.id)
        ).all()  # fmt: skip
        flagged = [(a, end, cufe) for a, end, cufe in flagged if at_risk(at, end, ctx.calendar)]
        approvers = _approvers(s) if flagged else []
        for approval, end, cufe in flagged:
            to = sorted({address for who, address in approvers if who != approval.requested_by})
            if not to:
                report.nobody += 1
                continue
            local_end = end.astimezone(BOGOTA)
            amount = f" por {pesos(approval.amount)}" if approval.amount is not None else ""
            message = new_message(
                to=", ".join(to),
                subject=f"Aprobación pendiente: el plazo de la factura {approval.invoice_number} vence pronto",
                body=(
                    f"El evento {approval.code.value} ({approval.code.label}) sobre la factura "
                    f"{approval.invoice_number} de {approval.counterparty_name or ''} (NIT "
                    f"{approval.counterparty_nit or ''}){amount} espera la aprobación de una segunda persona "
                    f"(solicitud n.º {approval.id}).\n\n"
                    f"El plazo legal para enviarlo vence el {local_end:%d/%m/%Y} a las {local_end:%H:%M}. "
                    "Si nadie lo aprueba antes, no se podrá enviar.\n\n"
                    "Apruébelo o recházelo en Buzón: Aprobaciones pendientes (/aprobaciones).\n"
                ),
                from_address=from_address,
                now=at,
                key=f"approval.{approval.id}",
            )
            row = enqueue(s, ctx, kind=MailKind.REMINDER, dedupe_key=f"approval:{approval.id}:due", message=message,
                          now=at, document_id=approval.document_id)  # fmt: skip
            approval.alerted_at = at
            if row is not None:
                record(s, actor=actor, action="approval.alerted", subject=cufe, at=at,
                       data={"approval_id": approval.id, "code": approval.code.value, "to": to,
                             "window_ends_at": end.isoformat()})  # fmt: skip
                report.alerted.append(approval.id)
        s.commit()
    return report
