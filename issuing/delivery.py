"""The buyer's copy of a document DIAN validated: one mail, subject and zip as dian-facts 4.1 lays them out (the
message itself is built by issuing/buyer_mail.py; this module finds the address and queues it).

The zip holds the AttachedDocument (our signed document and DIAN's answer, issuing/attached.py) and the PDF printed
with DIAN's validation time; at most 2 MB per message (a PDF over it is printed again without the logo, and a zip
still over it is not sent: billing sees why). The address: the one the ERP sent (the payload's, kept in
``buyer_email``), else the buyer's reception address DIAN returns (GetAcquirer by the buyer's id type and number, then
GetExchangeEmails by NIT); with none, the document's delivery is ``failed`` with the problem ``no_address`` in
``report["delivery"]`` — never dropped in silence.

**A contingency 04** (radian-issuing-facts B.3: "generates and delivers the electronic invoice to the buyer without
prior validation") is mailed as soon as it is issued, before DIAN has it: the zip holds the signed invoice itself and
its PDF titled as a contingency invoice with "Validación DIAN: pendiente", the mail says it was issued in contingency
and will be transmitted within DIAN's window (``report["delivery"]["contingency"]``). B.3 asks for nothing more, so
once DIAN validates it the job does not mail it again (its ``delivery_state`` is already set); billing may send the
validated copy (the AttachedDocument) with "Reenviar al comprador" (:func:`resend_to_buyer`).

The message goes through the mail outbox (OutgoingMail, kind ``issued``) that events/notify.py's SMTP sender sends
with retries and backoff; :func:`settle_sent` then marks the document delivered (``delivery_state`` sent,
``delivered_at``), which issuing/webhooks.py turns into ``invoice.delivered`` in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from dian.codes import DocumentType
from dian.soap import DianFault, DianTransportError
from dian.ubl import CommercialDocument, parse_document
from issuing import webhooks as _webhooks  # noqa: F401 - installs the invoice.* webhooks listener
from issuing.buyer_mail import (
    MAX_MESSAGE_BYTES,
    NO_ADDRESS,
    TOO_LARGE,
    UNDECIDED,
    WIRE_POLICY,
    DeliveryProblem,
    MailSettings,
    before_validation,
    buyer_message,
    buyer_package,
    mail_subject,
    zip_budget,
)
from issuing.context import IssuingContext, utc_now
from store.audit import record
from store.models import DeliveryState, MailKind, OutboundDocument, OutboundState, OutgoingMail

__all__ = [
    "MAX_MESSAGE_BYTES",
    "BuyerAddresses",
    "DeliveryProblem",
    "MailSettings",
    "QueueReport",
    "buyer_package",
    "mail_subject",
    "queue_buyer_mail",
    "resend_to_buyer",
    "settle_sent",
    "zip_budget",
]

NO_ADDRESS_ACTION = "outbound.delivery_no_address"
TOO_LARGE_ACTION = "outbound.delivery_too_large"
_PROBLEM_ACTIONS = {NO_ADDRESS: NO_ADDRESS_ACTION, TOO_LARGE: TOO_LARGE_ACTION}


@dataclass(frozen=True)
class BuyerAddresses:
    """DIAN's lists of reception addresses (dian.soap.DianClient.get_acquirer and get_exchange_emails)."""

    client: Any = None

    def acquirer(self, id_type: str, id_number: str) -> str | None:
        """GetAcquirer's e-mail of the buyer; None when DIAN knows none. DIAN unreachable raises."""
        if self.client is None:
            return None
        answer = self.client.get_acquirer(id_type, id_number)
        email = (answer.email or "").strip()
        return email if "@" in email else None

    def exchange(self, nit: str) -> str | None:
        """GetExchangeEmails' reception address of ``nit``; None when it is not listed. DIAN unreachable raises."""
        if self.client is None:
            return None
        for row in self.client.get_exchange_emails().rows():
            if (row.get("Nit") or "").split("-")[0].strip() == nit:
                email = (row.get("CorreoElectronico") or "").strip()
                return email if "@" in email else None
        return None


@dataclass
class QueueReport:
    queued: list[str] = field(default_factory=list)  # numbers
    no_address: list[str] = field(default_factory=list)
    too_large: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # DIAN unreachable for the address: next run
    delivered: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {"queued": len(self.queued), "no_address": len(self.no_address), "too_large": len(self.too_large),
                "waiting": len(self.waiting), "delivered": len(self.delivered)}  # fmt: skip


# -- the address ---------------------------------------------------------------------------------------------------


def buyer_address(row: OutboundDocument, document: CommercialDocument,
                  addresses: BuyerAddresses | None) -> tuple[str | None, str]:  # fmt: skip
    """The address and where it came from: the ERP's, else GetAcquirer's, else GetExchangeEmails'. DIAN unreachable
    raises (DianTransportError, DianFault): the caller tries again later rather than calling the buyer unknown."""
    given = (row.buyer_email or document.customer.email or "").strip()
    if "@" in given:
        return given, "payload"
    if addresses is None:
        return None, ""
    customer = document.customer
    email = addresses.acquirer(customer.id_scheme or "31", customer.nit)
    if email:
        return email, "GetAcquirer"
    email = addresses.exchange(customer.nit)
    if email:
        return email, "GetExchangeEmails"
    return None, ""


# -- queueing ------------------------------------------------------------------------------------------------------


def _mark(row: OutboundDocument, state: DeliveryState, delivery: dict[str, Any]) -> None:
    row.delivery_state = state
    row.report = {**(row.report or {}), "delivery": delivery}  # a new dict: the JSON column sees the change


def _prepare(row: OutboundDocument, ctx: IssuingContext, settings: MailSettings, addresses: BuyerAddresses | None,
             to: str | None, now: datetime, key: str) -> tuple[dict[str, Any], EmailMessage | None]:  # fmt: skip
    """The delivery record and the message (None with a problem). Raises what DIAN's address lookup raises."""
    document = parse_document(ctx.blobs.get(row.xml_blob or ""))
    if not isinstance(document, CommercialDocument):
        raise ValueError(f"el documento {row.number} no es una factura ni una nota")
    origin = "facturación"
    if to is None:
        to, origin = buyer_address(row, document, addresses)
    if not to:
        return {"problem": NO_ADDRESS, "detail": (
            f"No se conoce la dirección de recepción del comprador {row.buyer_nit}: el ERP no la envió y la DIAN "
            "(GetAcquirer, GetExchangeEmails) no tiene una registrada. Indíquela y reenvíe.")}, None  # fmt: skip
    try:
        package = buyer_package(row, ctx, settings)
    except DeliveryProblem as exc:
        return {"problem": exc.code, "detail": exc.detail, "to": to, "address_from": origin}, None
    message = buyer_message(row, document, package, to=to, settings=settings, now=now, message_key=key)
    size = len(message.as_bytes(policy=WIRE_POLICY))
    if size > settings.max_bytes:
        detail = f"El correo para el comprador pesa {size / 1024 / 1024:.2f} MB y se admiten 2 MB: no se envió."
        return {"problem": TOO_LARGE, "detail": detail, "to": to, "address_from": origin}, None
    delivery = {"to": to, "address_from": origin, "mail_key": key, "zip": package.zip_name, "bytes": size,
                "note": package.note, "queued_at": now.isoformat()}  # fmt: skip
    if before_validation(row):
        delivery["contingency"] = True  # the buyer got it before DIAN validated it (B.3)
    return delivery, message


def _enqueue(s: Session, ctx: IssuingContext, row: OutboundDocument, delivery: dict[str, Any],
             message: EmailMessage | None, now: datetime, actor: str) -> None:  # fmt: skip
    if message is None:
        _mark(row, DeliveryState.FAILED, delivery)
        record(s, actor=actor, action=_PROBLEM_ACTIONS[delivery["problem"]], subject=row.cufe,
               data={"id": row.id, "number": row.number, "detail": delivery["detail"]}, at=now)  # fmt: skip
        return
    s.add(OutgoingMail(
        kind=MailKind.ISSUED, dedupe_key=delivery["mail_key"], to_address=delivery["to"],
        subject=str(message["Subject"]), message_blob=ctx.blobs.put(message.as_bytes(policy=WIRE_POLICY)),
        state=DeliveryState.PENDING, next_attempt_at=now))  # fmt: skip
    _mark(row, DeliveryState.PENDING, delivery)
    record(s, actor=actor, action="outbound.delivery_queued", subject=row.cufe,
           data={"id": row.id, "number": row.number, "to": delivery["to"], "address_from": delivery["address_from"],
                 "bytes": delivery["bytes"], "note": delivery["note"]}, at=now)  # fmt: skip


def queue_buyer_mail(
    sessions: sessionmaker[Session],
    ctx: IssuingContext,
    settings: MailSettings,
    *,
    addresses: BuyerAddresses | None = None,
    now: Callable[[], datetime] = utc_now,
    limit: int = 100,
    actor: str = "job:deliver_to_buyers",
) -> QueueReport:
    """Queue the buyer's copy of every accepted document not yet handed to the mail outbox (delivery_state NULL), and
    of every contingency 04 DIAN has not decided yet (B.3: the buyer gets it meanwhile). A document is mailed once:
    a 04 the buyer got before validation is not mailed again once DIAN validates it (:func:`resend_to_buyer` may)."""
    report = QueueReport()
    due = sa.or_(
        OutboundDocument.state == OutboundState.ACCEPTED,
        sa.and_(OutboundDocument.document_type == DocumentType.DIAN_CONTINGENCY_INVOICE,
                OutboundDocument.state.in_(UNDECIDED)),
    )  # fmt: skip
    with sessions() as s:
        ids = list(s.execute(
            sa.select(OutboundDocument.id)
            .where(OutboundDocument.origin == "issued", due, OutboundDocument.delivery_state.is_(None),
                   # a documento soporte goes to its seller, and only when asked (issuing/support_mail.py)
                   OutboundDocument.document_type.not_in((DocumentType.SUPPORT_DOCUMENT,
                                                          DocumentType.SUPPORT_ADJUSTMENT)))
            .order_by(OutboundDocument.id).limit(limit)).scalars())  # fmt: skip
    for document_id in ids:
        with sessions() as s:
            row = s.get(OutboundDocument, document_id)
            if row is None or row.delivery_state is not None:
                continue
            at = now()
            try:
                delivery, message = _prepare(row, ctx, settings, addresses, None, at, f"issued:{row.cufe}")
            except (DianTransportError, DianFault) as exc:
                report.waiting.append(row.number)
                record(s, actor=actor, action="outbound.delivery_waiting", subject=row.cufe,
                       data={"id": row.id, "error": f"dirección del comprador sin respuesta de la DIAN: {exc}"},
                       at=at)  # fmt: skip
                s.commit()
                continue
            locked = s.execute(sa.select(OutboundDocument.delivery_state).where(OutboundDocument.id == row.id)
                               .with_for_update()).scalar_one()  # fmt: skip
            if locked is not None:  # another worker queued it meanwhile
                s.rollback()
                continue
            _enqueue(s, ctx, row, delivery, message, at, actor)
            (report.queued if message is not None else getattr(report, delivery["problem"])).append(row.number)
            s.commit()
    return report


def resend_to_buyer(
    sessions: sessionmaker[Session],
    ctx: IssuingContext,
    settings: MailSettings,
    document_id: int,
    *,
    actor: str,
    to: str | None = None,
    addresses: BuyerAddresses | None = None,
    now: Callable[[], datetime] = utc_now,
) -> dict[str, Any]:
    """Queue the buyer's copy again (the "Reenviar al comprador" of the UI), to ``to`` when billing gives one, else
    to the address found as for the first mail. Returns the new delivery record (its ``problem`` when it could not
    be queued). A validated document goes with its AttachedDocument (also a 04 its buyer first got before
    validation); a 04 still on its way to DIAN goes again as before. Raises ValueError for any other document DIAN
    has not accepted."""
    if to is not None:
        to = to.strip()
        if "@" not in to or any(c in to for c in " ,;\r\n"):
            raise ValueError(f"«{to}» no es una dirección de correo")
    with sessions() as s:
        row = s.execute(sa.select(OutboundDocument).where(OutboundDocument.id == document_id)
                        .with_for_update()).scalar_one_or_none()  # fmt: skip
        if row is None or row.origin != "issued":
            raise ValueError(f"no existe el documento expedido {document_id}")
        if row.state is not OutboundState.ACCEPTED and not before_validation(row):
            raise ValueError(f"el documento {row.number} no está validado por la DIAN: no se envía al comprador")
        at = now()
        count = int((row.report or {}).get("delivery", {}).get("sends", 1)) + 1
        delivery, message = _prepare(row, ctx, settings, addresses, to, at, f"issued:{row.cufe}:{count}")
        delivery["sends"] = count
        _enqueue(s, ctx, row, delivery, message, at, actor)
        record(s, actor=actor, action="outbound.delivery_resent", subject=row.cufe,
               data={"id": row.id, "to": delivery.get("to"), "problem": delivery.get("problem")}, at=at)  # fmt: skip
        s.commit()
        return delivery


def settle_sent(
    sessions: sessionmaker[Session], *, now: Callable[[], datetime] = utc_now, limit: int = 500
) -> list[str]:
    """Mark delivered the documents whose buyer's mail the SMTP server took; their numbers. The listener of
    issuing/webhooks.py adds ``invoice.delivered`` to the same commit."""
    done: list[str] = []
    with sessions() as s:
        rows = list(s.execute(
            sa.select(OutboundDocument).where(OutboundDocument.delivery_state == DeliveryState.PENDING)
            .order_by(OutboundDocument.id).limit(limit).with_for_update(skip_locked=True)).scalars())  # fmt: skip
        keys = {(row.report or {}).get("delivery", {}).get("mail_key"): row for row in rows}
        keys.pop(None, None)
        if not keys:
            return done
        sent = s.execute(
            sa.select(OutgoingMail.dedupe_key, OutgoingMail.sent_at).where(
                OutgoingMail.dedupe_key.in_(list(keys)), OutgoingMail.state == DeliveryState.SENT
            )
        ).all()
        for key, sent_at in sent:
            row = keys[key]
            row.delivered_at = sent_at or now()
            row.delivery_state = DeliveryState.SENT
            record(s, actor="job:deliver_to_buyers", action="outbound.delivered", subject=row.cufe,
                   data={"id": row.id, "number": row.number, "to": row.report["delivery"].get("to")},
                   at=row.delivered_at)  # fmt: skip
            done.append(row.number)
        s.commit()
    return done
