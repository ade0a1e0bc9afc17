"""Four-eyes on value titles (issue 20): which RADIAN actions wait for a second user, and the exact action kept with
the request so that approving signs what was asked — the registration (036), endorsements (037-039) and our payments
as debtor (045/051). The policy and the approval rows are events/approvals.py's; TitleService.act asks here.

A title moves on while a request waits (the debtor pays it, a judge limits it, DIAN registers another endorsement):
``lapse_refused`` (the ``approvals`` job) lets each pending request the rules now refuse lapse — ``expired``, the
rules' reason kept as its note, audited ``approval.lapsed``, the requester mailed — so nobody approves, or keeps
counting, a request about a title that is no longer what it was asked on. A refusal that may pass (a limitation
lifted later) lapses too: the requester asks again about the title as it then is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from events import approvals
from events.context import EventContext
from events.notify import enqueue, new_message
from radian.actions import Action, ActionError, Counterparty, Endorse, PayTransfer, RecordPayment, Register
from store.audit import record
from store.models import Approval, ApprovalState, MailKind, User, ValueTitle

log = logging.getLogger(__name__)

_KINDS = {"register": Register, "endorse": Endorse, "payment": RecordPayment, "transfer_payment": PayTransfer}
_NAMES = {cls: name for name, cls in _KINDS.items()}


def _counterparty(c: Counterparty | None) -> dict[str, str] | None:
    return None if c is None else {"nit": c.nit, "name": c.name}


def action_dict(action: Action) -> dict[str, Any] | None:
    """The action as an approval keeps it; None for an action four-eyes cannot hold (kept out of the policy)."""
    name = _NAMES.get(type(action))
    if name is None:
        return None
    if isinstance(action, Register):
        return {"kind": name, "direct_buyer": _counterparty(action.direct_buyer)}
    if isinstance(action, Endorse):
        return {"kind": name, "to": _counterparty(action.to), "rate": str(action.rate), "endorsement": action.kind,
                "with_responsibility": action.with_responsibility, "blank": action.blank,
                "amount": None if action.amount is None else str(action.amount)}  # fmt: skip
    assert isinstance(action, RecordPayment | PayTransfer)
    return {"kind": name, "amount": None if action.amount is None else str(action.amount),
            "paid_on": action.paid_on.isoformat() if action.paid_on else None}  # fmt: skip


def unreadable(exc: Exception) -> str:
    """Why a kept action cannot be read back (a sentence for the approver)."""
    detail = f"le falta el dato {exc}" if isinstance(exc, KeyError) else str(exc)
    return f"La acción guardada no se puede leer: {detail}"


def action_of(data: dict[str, Any]) -> Action:
    """The action an approval keeps, as it was asked."""
    kind = _KINDS.get(str(data.get("kind")))
    if kind is None:
        raise ActionError(f"La solicitud guarda una acción desconocida: {data.get('kind')!r}.")
    if kind is Register:
        buyer = data.get("direct_buyer")
        return Register(direct_buyer=Counterparty(**buyer) if buyer else None)
    if kind is Endorse:
        amount = data.get("amount")
        return Endorse(to=Counterparty(**data["to"]), rate=Decimal(data["rate"]), kind=data["endorsement"],
                       with_responsibility=bool(data["with_responsibility"]), blank=bool(data["blank"]),
                       amount=Decimal(amount) if amount is not None else None)  # fmt: skip
    amount, paid_on = data.get("amount"), data.get("paid_on")
    return kind(amount=Decimal(amount) if amount is not None else None,  # type: ignore[call-arg]
                paid_on=date.fromisoformat(paid_on) if paid_on else None)  # fmt: skip


@dataclass(frozen=True)
class Gate:
    """What the request would be held with: the reason, the amount and the counterpart it was judged on."""

    reason: str
    amount: Decimal | None
    nit: str | None
    name: str | None


def gate(ctx: EventContext, code: Any, action: Action, *, value: Decimal | None, debtor: tuple[str, str],
         payee: Any = None) -> Gate | None:  # fmt: skip
    """Whether four-eyes holds ``action`` (its event ``code``): the amount is the endorsed or paid value (else the
    title's), the counterpart the endorsee, the payee of our payment, or the debtor of a registration."""
    if ctx.approvals is None:
        return None
    amount = getattr(action, "amount", None) or value
    if isinstance(action, Endorse):
        nit, name = action.to.nit, action.to.name
    elif isinstance(action, RecordPayment | PayTransfer) and payee is not None:
        nit, name = payee.nit, payee.registration_name
    else:
        nit, name = debtor
    reason = ctx.approvals.reason(code, amount, nit)
    return None if reason is None else Gate(reason, amount, nit, name)


@dataclass(frozen=True)
class Waiting:
    """The request four-eyes keeps: its approval and what the requester is told."""

    approval_id: int
    words: str


def hold_action(s: Session, ctx: EventContext, *, title_id: int, invoice: Any, action: Action, code: Any,
                value: Decimal | None, payee: Any, actor: str, source: str | None,
                now: datetime) -> Waiting | str | None:  # fmt: skip
    """None: sign it now. Else the caller's transaction (its decision and the number it took) is rolled back and the
    request kept as a pending approval, committed (``Waiting``) — or, for an action that cannot be kept, the refusal
    (a Spanish sentence)."""
    held = gate(ctx, code, action, value=value, debtor=(invoice.buyer_nit, invoice.buyer_name), payee=payee)
    if held is None:
        return None
    kept = action_dict(action)
    number, cufe = invoice.number, (invoice.cufe or "").lower()
    s.rollback()
    if kept is None:
        return f"Esta acción requiere aprobación ({held.reason}) y no se puede guardar para aprobarla."
    waiting = approvals.hold(
        s, subject=f"title:{title_id}", code=code, action=kept, reason=held.reason, actor=actor, now=now,
        source=source, title_id=title_id, amount=held.amount, invoice_number=number, counterparty_nit=held.nit,
        counterparty_name=held.name, audit_subject=cufe,
    )  # fmt: skip
    s.commit()
    return Waiting(waiting.approval_id, waiting.words(code, held.reason))


# --- requests the title has outgrown -------------------------------------------------------------------------------


class Decision(Protocol):
    allowed: bool
    reason: str


def lapse_refused(sessions: sessionmaker[Session], make_context: Callable[[], EventContext],
                  check: Callable[[int, Action, datetime], Decision], *, now: datetime, from_address: str,
                  actor: str = "job:approvals") -> list[int]:  # fmt: skip
    """Each pending request on a title whose action ``check`` (TitleService.check: the rules, nothing written) now
    refuses lapses, one transaction each; the ids. A request decided meanwhile is left as it was decided. The event
    context (the mail outbox's) is built only when one lapses."""
    with sessions() as s:
        waiting = s.execute(
            sa.select(Approval.id, Approval.title_id, Approval.action)
            .where(Approval.state == ApprovalState.PENDING, Approval.title_id.is_not(None))
            .order_by(Approval.id)
        ).all()
    lapsed = []
    for approval_id, title_id, kept in waiting:
        try:
            action = action_of(dict(kept))
        except (ActionError, KeyError, TypeError, ValueError) as exc:
            reason = unreadable(exc)
        else:
            try:
                decision = check(title_id, action, now)
            except Exception:  # one title the rules cannot judge stays pending; the others are still looked at
                log.exception("approval %s: the rules could not judge title %s: left pending", approval_id, title_id)
                continue
            if decision.allowed:
                continue
            reason = decision.reason
        with sessions() as s:
            if _lapse(s, make_context(), approval_id, reason, now=now, from_address=from_address, actor=actor):
                lapsed.append(approval_id)
            s.commit()
    return lapsed


def _lapse(s: Session, ctx: EventContext, approval_id: int, reason: str, *, now: datetime, from_address: str,
           actor: str) -> bool:  # fmt: skip
    row = s.execute(
        sa.select(Approval).where(Approval.id == approval_id, Approval.state == ApprovalState.PENDING).with_for_update()
    ).scalar_one_or_none()
    if row is None:
        return False
    row.state, row.decided_at = ApprovalState.EXPIRED, now
    row.decision_note = f"Ya no procede: {reason}"[: approvals.REASON_MAX]
    cufe = s.execute(sa.select(ValueTitle.invoice_cufe).where(ValueTitle.id == row.title_id)).scalar() or row.subject
    data = {"approval_id": row.id, "code": row.code.value, "requested_by": row.requested_by, "reason": reason}
    record(s, actor=actor, action="approval.lapsed", subject=cufe, at=now, data=data)
    address = s.execute(
        sa.select(User.email).where(User.username == row.requested_by.removeprefix("user:"), User.active.is_(True))
    ).scalar() if row.requested_by.startswith("user:") else None  # fmt: skip
    if address and "@" in address:
        message = new_message(
            to=address,
            subject=f"Su solicitud n.º {row.id} venció: la factura {row.invoice_number} cambió",
            body=(
                f"Su solicitud de aprobación n.º {row.id} del evento {row.code.value} ({row.code.label}) sobre la "
                f"factura {row.invoice_number} ya no se puede aprobar y quedó vencida:\n\n{reason}\n\n"
                "Si aún corresponde, pídalo de nuevo en Buzón sobre el título como está ahora (Títulos valor).\n"
            ),
            from_address=from_address,
            now=now,
            key=f"approval.{row.id}.lapsed",
        )
        enqueue(s, ctx, kind=MailKind.REMINDER, dedupe_key=f"approval:{row.id}:lapsed", message=message, now=now)
    return True
