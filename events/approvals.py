"""Four-eyes approval (issue 20): an event above the configured amount, or for a listed counterpart, is not signed
when asked; it waits as an ``Approval`` row until a second user with a role allowed to act approves it.

The gate sits where every door's events are signed — ``events.emit._emit`` (the document page, bulk, the API, the
CLI, the policy jobs) and ``radian.service.TitleService.act`` (RADIAN's registration, endorsements and our payments)
— so no door can go around it. A request that needs approval is ``hold``-en: one pending row per subject and event
(asking again points at the one that waits), audited ``approval.requested``. Approving (``take`` then ``mark_sent``,
inside the emitting transaction) signs the exact action stored, through the same path, and audits
``approval.approved`` and ``approval.sent``; when the rules now refuse it nothing is written and it stays pending.
``refuse`` needs a reason; ``expire`` closes the ones whose legal window ended, and a request on a title the rules
now refuse lapses (radian.approving.lapse_refused). Nobody approves their own request.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from dian.calendar import BOGOTA, BusinessCalendar
from dian.codes import EventCode
from store.audit import record
from store.models import Approval, ApprovalState, ReceivedDocument, Role, User

PENDING_WORDS = "Pendiente de aprobación"
# Who may approve: a user with the role the door itself asks to act (events on received documents: AP clerks;
# value titles: treasury), never the requester.
APPROVER_ROLES = {"document": (Role.CLERK,), "title": (Role.TREASURY,)}
REASON_MAX = 1000
STATE_WORDS = {
    ApprovalState.PENDING: "pendiente",
    ApprovalState.APPROVED: "aprobada",
    ApprovalState.REFUSED: "rechazada",
    ApprovalState.SENT: "aprobada y enviada",
    ApprovalState.EXPIRED: "vencida",
}


class ApprovalError(ValueError):
    """The approval or refusal may not be done (a Spanish sentence for the person who tried)."""


def pesos(amount: Decimal | int) -> str:
    """$ 50.000.000 (Colombian thousands separator, no cents)."""
    return "$ " + f"{int(amount):,}".replace(",", ".")


@dataclass(frozen=True)
class ApprovalPolicy:
    """Which events wait for a second user: the listed codes, when the amount reaches ``threshold`` (pesos) or the
    counterpart's NIT is listed; with neither a threshold nor a NIT, every listed event waits."""

    events: frozenset[EventCode]
    threshold: Decimal = Decimal(0)
    suppliers: frozenset[str] = frozenset()

    @classmethod
    def of(cls, *, enabled: bool, events: Iterable[str], threshold: int | Decimal = 0,
           suppliers: Iterable[str] = ()) -> ApprovalPolicy | None:  # fmt: skip
        """From the ``[approvals]`` settings; None when four-eyes is off."""
        if not enabled:
            return None
        nits = frozenset(n.split("-")[0].strip() for n in suppliers if n.strip())
        return cls(frozenset(EventCode(c) for c in events), Decimal(threshold), nits)

    def reason(self, code: EventCode, amount: Decimal | None, nit: str | None) -> str | None:
        """Why ``code`` on this amount and counterpart needs a second user's approval (Spanish), or None."""
        if code not in self.events:
            return None
        nit = (nit or "").split("-")[0].strip()
        listed = bool(nit) and nit in self.suppliers
        large = self.threshold > 0 and amount is not None and amount >= self.threshold
        if not self.threshold and not self.suppliers:
            return f"Todo evento {code.value} requiere la aprobación de una segunda persona."
        if large and listed:
            return f"El valor es de {pesos(self.threshold)} o más y el NIT {nit} está en la lista de aprobación."
        if large:
            return f"El valor ({pesos(amount or 0)}) es de {pesos(self.threshold)} o más."
        if listed:
            return f"El NIT {nit} está en la lista de proveedores que requieren aprobación."
        return None


@dataclass(frozen=True)
class Held:
    """What the requester is told: the request waits (a new one, or the one already waiting)."""

    approval_id: int
    new: bool

    def words(self, code: EventCode, reason: str) -> str:
        again = "" if self.new else " (ya estaba pedida)"
        return (f"{PENDING_WORDS}: el evento {code.value} espera la aprobación de otra persona "
                f"(solicitud n.º {self.approval_id}{again}). {reason}")  # fmt: skip


def pending_for(s: Session, *, subject: str, code: EventCode) -> Approval | None:
    """The request waiting on this subject and event, if any (at most one: uq_approvals_pending)."""
    return s.execute(
        sa.select(Approval).where(Approval.subject == subject, Approval.code == code,
                                  Approval.state == ApprovalState.PENDING)
    ).scalar()  # fmt: skip


def hold(
    s: Session,
    *,
    subject: str,
    code: EventCode,
    action: dict[str, Any],
    reason: str,
    actor: str,
    now: datetime,
    source: str | None = None,
    document_id: int | None = None,
    title_id: int | None = None,
    amount: Decimal | None = None,
    invoice_number: str = "",
    counterparty_nit: str | None = None,
    counterparty_name: str | None = None,
    audit_subject: str | None = None,
) -> Held:
    """Record the request as pending (or find the one already pending on this subject and event), in the caller's
    transaction; audited ``approval.requested``."""
    waiting = pending_for(s, subject=subject, code=code)
    if waiting is not None:
        return Held(waiting.id, new=False)
    row = Approval(
        subject=subject, document_id=document_id, title_id=title_id, code=code, action=action, amount=amount,
        invoice_number=invoice_number[:40], counterparty_nit=counterparty_nit, counterparty_name=counterparty_name,
        reason=reason, state=ApprovalState.PENDING, requested_by=actor, requested_at=now,
    )  # fmt: skip
    s.add(row)
    s.flush()
    record(s, actor=actor, action="approval.requested", subject=audit_subject or subject, source=source,
           data={"approval_id": row.id, "code": code.value, "amount": str(amount) if amount is not None else None,
                 "counterparty_nit": counterparty_nit, "reason": reason, "action": action},
           at=now)  # fmt: skip
    return Held(row.id, new=True)


def _approver(s: Session, row: Approval, approver: str) -> None:
    """Refuse an approver who asked for it, is not a user, is disabled, or has no role allowed to act on it."""
    if approver == row.requested_by:
        raise ApprovalError("Quien pidió el evento no puede aprobarlo ni rechazarlo: debe decidirlo otra persona.")
    username = approver.removeprefix("user:") if approver.startswith("user:") else None
    user = None if username is None else s.execute(sa.select(User).where(User.username == username)).scalar()
    kind = "title" if row.title_id is not None else "document"
    if user is None or not user.active or user.role not in APPROVER_ROLES[kind]:
        who = "tesorería" if kind == "title" else "cuentas por pagar"
        raise ApprovalError(f"Solo un usuario activo de {who} distinto de quien lo pidió puede decidir esta solicitud.")


def check_approver(s: Session, approval_id: int, approver: str) -> None:
    """ApprovalError when ``approver`` may not decide this request (no such request, the requester, another role);
    a door that answers with a status (the API, the CLI) asks before the service, which checks again."""
    row = s.get(Approval, approval_id)
    if row is None:
        raise ApprovalError(f"No existe la solicitud de aprobación {approval_id}.")
    _approver(s, row, approver)


def _pending(s: Session, approval_id: int) -> Approval:
    row = s.execute(sa.select(Approval).where(Approval.id == approval_id).with_for_update()).scalar()
    if row is None:
        raise ApprovalError(f"No existe la solicitud de aprobación {approval_id}.")
    if row.state is not ApprovalState.PENDING:
        state = STATE_WORDS[row.state]
        raise ApprovalError(f"La solicitud {approval_id} ya está {state}: no se puede decidir otra vez.")
    return row


def take(s: Session, approval_id: int, *, approver: str, now: datetime, source: str | None = None) -> Approval:
    """Lock the pending request, check the approver, mark it approved (audited ``approval.approved``); the caller
    signs its action in the same transaction and calls ``mark_sent``, or rolls everything back."""
    row = _pending(s, approval_id)
    _approver(s, row, approver)
    row.state, row.decided_by, row.decided_at = ApprovalState.APPROVED, approver, now
    record(s, actor=approver, action="approval.approved", subject=row.subject, source=source,
           data={"approval_id": row.id, "code": row.code.value, "requested_by": row.requested_by}, at=now)  # fmt: skip
    s.flush()
    return row


def granted(s: Session, approval_id: int | None, *, subject: str, code: EventCode) -> Approval | None:
    """The approval a signing may go ahead under: taken in this transaction, for this subject and event."""
    if approval_id is None:
        return None
    row = s.get(Approval, approval_id)
    if row is None or row.state is not ApprovalState.APPROVED or row.subject != subject or row.code is not code:
        return None
    return row


def was_sent(s: Session, approval_id: int) -> bool:
    """Whether the approval taken in this transaction was used by the signing (``mark_sent``)."""
    row = s.get(Approval, approval_id)
    return row is not None and row.state is ApprovalState.SENT


def mark_sent(s: Session, row: Approval, *, event_id: int, number: str, actor: str, now: datetime,
              source: str | None = None) -> None:  # fmt: skip
    """The approved event is signed and queued: ``sent``, audited ``approval.sent`` (in the signing transaction)."""
    row.state, row.event_id = ApprovalState.SENT, event_id
    record(s, actor=actor, action="approval.sent", subject=row.subject, source=source,
           data={"approval_id": row.id, "code": row.code.value, "event_id": event_id, "number": number,
                 "requested_by": row.requested_by},
           at=now)  # fmt: skip
    s.flush()


def refuse(s: Session, approval_id: int, *, approver: str, note: str, now: datetime,
           source: str | None = None) -> Approval:  # fmt: skip
    """Refuse the pending request with a reason (audited ``approval.refused``); the caller commits."""
    note = " ".join(note.split())[:REASON_MAX]
    if not note:
        raise ApprovalError("Escriba el motivo del rechazo: quien lo pidió lo verá.")
    row = _pending(s, approval_id)
    _approver(s, row, approver)
    row.state, row.decided_by, row.decided_at, row.decision_note = ApprovalState.REFUSED, approver, now, note
    record(s, actor=approver, action="approval.refused", subject=row.subject, source=source,
           data={"approval_id": row.id, "code": row.code.value, "requested_by": row.requested_by, "note": note},
           at=now)  # fmt: skip
    s.flush()
    return row


# --- the legal window of 031/033: three business days after the 032 (store.state keeps its end) ----------------


def window_end(s: Session, row: Approval) -> datetime | None:
    """When the claim window of the request's document ends (031/033 only; None when no 032 opened it)."""
    if row.document_id is None or row.code not in (EventCode.RECLAMO, EventCode.ACEPTACION_EXPRESA):
        return None
    return s.execute(
        sa.select(ReceivedDocument.window_ends_at).where(ReceivedDocument.id == row.document_id)
    ).scalar()


def at_risk(now: datetime, end: datetime | None, calendar: BusinessCalendar) -> bool:
    """Flag a pending request from the start of the business day before its window ends (or later)."""
    if end is None:
        return False
    last_day = end.astimezone(BOGOTA).date()
    flag_from = datetime.combine(calendar.add_business_days(last_day, -1), time.min, tzinfo=BOGOTA)
    return now >= flag_from


def expire(s: Session, now: datetime, *, actor: str = "job:approvals") -> list[int]:
    """Pending 031/033 requests whose window has ended become ``expired`` (audited); the ids."""
    rows = list(
        s.execute(
            sa.select(Approval)
            .join(ReceivedDocument, ReceivedDocument.id == Approval.document_id)
            .where(Approval.state == ApprovalState.PENDING, ReceivedDocument.window_ends_at < now,
                   Approval.code.in_((EventCode.RECLAMO, EventCode.ACEPTACION_EXPRESA)))
            .with_for_update(of=Approval)
        ).scalars()
    )  # fmt: skip
    for row in rows:
        row.state, row.decided_at = ApprovalState.EXPIRED, now
        record(s, actor=actor, action="approval.expired", subject=row.subject, at=now,
               data={"approval_id": row.id, "code": row.code.value, "requested_by": row.requested_by})  # fmt: skip
    return [row.id for row in rows]
