"""Four-eyes on value titles (issue 20): which RADIAN actions wait for a second user, and the exact action kept with
the request so that approving signs what was asked — the registration (036), endorsements (037-039) and our payments
as debtor (045/051). The policy and the approval rows are events/approvals.py's; TitleService.act asks here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from events import approvals
from events.context import EventContext
from radian.actions import Action, ActionError, Counterparty, Endorse, PayTransfer, RecordPayment, Register

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
