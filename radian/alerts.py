"""Title alerts on the payable side: what treasury and AP must know about a supplier invoice we owe — above all that
it has a new holder, who must be paid instead of the supplier, or that a 041 froze its payment.

One alert per fact (``title_alerts.dedupe_key``, e.g. ``holder_changed:<037 CUDE>``): raising it again is a no-op,
so a sweep that runs twice, or the watch and a person's refresh, never tell the same thing twice. Raising an alert
writes, in the caller's transaction: the in-app row (the treasury pages list the unseen ones), one mail per recipient
through the mail outbox (``events.notify.enqueue``), and for a change of payee or a limitation a webhook
(``title.holder_changed`` / ``title.limited``, ``store.webhooks``). Nothing is sent here; the outbox jobs send.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from events.context import EventContext
from events.notify import enqueue, new_message
from store.audit import record
from store.models import AlertKind, MailKind, ReceivedDocument, Role, TitleAlert, User, ValueTitle
from store.webhooks import HOLDER_CHANGED, TITLE_LIMITED, enqueue_webhook

__all__ = ["MAILED", "AlertDraft", "announce", "raise_alert", "recipients", "title_payload", "unseen_alerts"]

# The kinds that also go to the ERP by webhook: the ones that change whom (or whether) to pay.
_WEBHOOK = {AlertKind.HOLDER_CHANGED: HOLDER_CHANGED, AlertKind.TRANSFERRED: HOLDER_CHANGED,
            AlertKind.LIMITED: TITLE_LIMITED}  # fmt: skip
_SUBJECT = {
    AlertKind.HOLDER_CHANGED: "Cambio de tenedor",
    AlertKind.TRANSFERRED: "Derechos económicos transferidos",
    AlertKind.LIMITED: "Pago congelado (medida cautelar)",
    AlertKind.LIMITATION_LIFTED: "Medida cautelar levantada",
    AlertKind.PAID: "Factura pagada",
    AlertKind.PARTIALLY_PAID: "Pago parcial registrado",
    AlertKind.PROTESTED: "Factura protestada",
    AlertKind.REGISTERED: "Factura inscrita como título valor",
    AlertKind.REFUSED: "Evento sin verificar",
    AlertKind.HOLDER_DISPUTED: "Tenedor en duda",
}
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class AlertDraft:
    """One fact about a title: its kind, its one-fact key, the Spanish sentence, and who it moves from and to."""

    kind: AlertKind
    dedupe_key: str
    message: str
    event_id: int | None = None
    from_nit: str | None = None
    from_name: str | None = None
    to_nit: str | None = None
    to_name: str | None = None


def recipients(s: Session, document: ReceivedDocument | None, extra: tuple[str, ...] = ()) -> list[str]:
    """Who is mailed: the active treasury users with an address, the clerk the invoice is assigned to, and the
    configured addresses (``radian.alert_emails``, e.g. AP's mailbox); each once, in a stable order."""
    found = set(
        s.scalars(
            sa.select(User.email).where(User.role == Role.TREASURY, User.active.is_(True), User.email.is_not(None))
        )
    )
    if document is not None and document.assigned_to:
        clerk = s.scalar(sa.select(User.email).where(User.username == document.assigned_to, User.active.is_(True)))
        if clerk:
            found.add(clerk)
    found.update(extra)
    return sorted(address.strip() for address in found if address and "@" in address)


def title_payload(title: ValueTitle, alert: TitleAlert, at: datetime) -> dict[str, Any]:
    """The JSON body an ERP receives (documented in web/openapi.py's webhooks): the invoice, the old and new payee,
    whether payment is frozen, and what is outstanding."""
    return {
        "event": _WEBHOOK.get(alert.kind, HOLDER_CHANGED),
        "occurred_at": at.isoformat(),
        "alert": {"id": alert.id, "kind": alert.kind.value, "message": alert.message},
        "title": {
            "invoice_cufe": title.invoice_cufe,
            "invoice_number": title.invoice_number,
            "supplier": {"nit": title.issuer_nit, "name": title.issuer_name},
            "debtor_nit": title.debtor_nit,  # our company's: an install of several companies may share one URL
            "previous_payee": {"nit": alert.from_nit, "name": alert.from_name} if alert.from_nit else None,
            "payee": {"nit": title.payee_nit, "name": title.payee_name},
            "holder": {"nit": title.holder_nit, "name": title.holder_name},
            "state": title.state.value,
            "frozen": bool(title.limited),
            "due_date": title.due_date.isoformat() if title.due_date else None,
            "outstanding": None if title.outstanding is None else format(title.outstanding.quantize(_CENT), "f"),
            "currency": title.currency,
        },
    }


def _mail_body(title: ValueTitle, message: str) -> str:
    lines = [
        message,
        "",
        f"Factura: {title.invoice_number} (CUFE {title.invoice_cufe})",
        f"Proveedor: {title.issuer_name} (NIT {title.issuer_nit})",
        f"Pagar a: {title.payee_name} (NIT {title.payee_nit})",
    ]
    if title.limited:
        lines.append(
            "Pago congelado: hay una limitación a la circulación (041) vigente; no pague hasta que se levante."
        )
    if title.outstanding is not None:
        lines.append(f"Saldo pendiente: {title.currency} {title.outstanding.quantize(_CENT)}")
    if title.due_date is not None:
        lines.append(f"Vencimiento: {title.due_date.isoformat()}")
    lines += ["", "Este aviso lo envía Buzón a partir de los eventos registrados en RADIAN (DIAN)."]
    return "\n".join(lines) + "\n"


# The kinds mailed to treasury and AP (the others are in-app only): those that change whom, or whether, to pay.
MAILED = frozenset({AlertKind.HOLDER_CHANGED, AlertKind.TRANSFERRED, AlertKind.LIMITED,
                    AlertKind.LIMITATION_LIFTED, AlertKind.REFUSED, AlertKind.HOLDER_DISPUTED})  # fmt: skip


def announce(
    s: Session,
    ctx: EventContext,
    title: ValueTitle,
    alert: TitleAlert,
    now: datetime,
    *,
    from_address: str,
    extra_recipients: tuple[str, ...] = (),
    actor: str = "job:title_watch",
) -> None:
    """Tell an alert already recorded: one mail per recipient when its kind is mailed (MAILED), the webhook when it
    changes whom or whether to pay; the caller commits. Each mail is queued once per alert and address."""
    document = s.get(ReceivedDocument, title.document_id) if title.document_id is not None else None
    to = recipients(s, document, extra_recipients) if alert.kind in MAILED else []
    subject = f"{_SUBJECT.get(alert.kind, 'Aviso')}: factura {title.invoice_number} de {title.issuer_name}"
    for address in to:
        message = new_message(to=address, subject=subject[:300], body=_mail_body(title, alert.message),
                              from_address=from_address, now=now, key=f"titulo.{alert.id}.{address}")  # fmt: skip
        enqueue(s, ctx, kind=MailKind.TITLE_ALERT, dedupe_key=f"title_alert:{alert.id}:{address}"[:200],
                message=message, now=now, document_id=title.document_id)  # fmt: skip
    webhook = _WEBHOOK.get(alert.kind)
    if webhook is not None:
        enqueue_webhook(s, event=webhook, payload=title_payload(title, alert, now), document_id=title.document_id,
                        at=now)  # fmt: skip
    record(s, actor=actor, action="title.alert.raised", subject=title.invoice_cufe,
           data={"alert_id": alert.id, "kind": alert.kind.value, "to": to, "payee": title.payee_nit,
                 "webhook": webhook}, at=now)  # fmt: skip


def raise_alert(
    s: Session,
    ctx: EventContext,
    title: ValueTitle,
    draft: AlertDraft,
    now: datetime,
    *,
    from_address: str,
    extra_recipients: tuple[str, ...] = (),
    actor: str = "job:title_watch",
) -> TitleAlert | None:
    """Record ``draft`` on ``title`` once (None when already raised) and announce it; the caller commits."""
    if s.scalar(sa.select(TitleAlert.id).where(TitleAlert.dedupe_key == draft.dedupe_key[:200])) is not None:
        return None
    alert = TitleAlert(
        title_id=title.id,
        kind=draft.kind,
        dedupe_key=draft.dedupe_key[:200],
        event_id=draft.event_id,
        from_nit=draft.from_nit,
        from_name=draft.from_name,
        to_nit=draft.to_nit,
        to_name=draft.to_name,
        message=draft.message,
        created_at=now,
    )
    s.add(alert)
    s.flush()
    announce(s, ctx, title, alert, now, from_address=from_address, extra_recipients=extra_recipients, actor=actor)
    return alert


def unseen_alerts(s: Session, *, limit: int = 50) -> list[TitleAlert]:
    """The alerts nobody has marked seen, newest first (the treasury pages' list)."""
    return list(
        s.scalars(
            sa.select(TitleAlert)
            .where(TitleAlert.seen_at.is_(None))
            .order_by(TitleAlert.created_at.desc())
            .limit(limit)
        )
    )
