"""The seller's copy of a documento soporte DIAN validated: optional (radian-issuing-facts C.6 finds no duty to deliver
it; the seller does not sign it), asked per document with ``mail_seller`` and sent to the seller's ``email``.

One message with the PDF (printed with DIAN's validation time) and the AttachedDocument, through the mail outbox
(OutgoingMail, kind ``issued``) that events/notify.py's SMTP sender sends with retries; the document's
``delivery_state`` and ``report["delivery"]`` are kept as for the buyers of our invoices, so issuing.delivery's
``settle_sent`` marks it delivered. The invoices' buyer mail (issuing/delivery.py) leaves 05 and 95 to this module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from dian.calendar import BOGOTA
from dian.codes import DocumentType
from issuing.context import IssuingContext, utc_now
from issuing.pdf import PdfOptions, render_pdf
from store.audit import record
from store.models import DeliveryState, MailKind, OutboundDocument, OutboundState, OutgoingMail

__all__ = ["SellerMailReport", "queue_seller_mail"]

SUPPORT_TYPES = (DocumentType.SUPPORT_DOCUMENT, DocumentType.SUPPORT_ADJUSTMENT)
WIRE_POLICY = SMTP_POLICY.clone(max_line_length=998)


@dataclass
class SellerMailReport:
    queued: list[str] = field(default_factory=list)
    no_address: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {"seller_mail_queued": len(self.queued), "seller_no_address": len(self.no_address)}


def _message(row: OutboundDocument, ctx: IssuingContext, *, from_address: str, options: PdfOptions,
             now: datetime, key: str) -> EmailMessage:  # fmt: skip
    signed = ctx.blobs.get(row.xml_blob or "")
    pdf = render_pdf(signed, validated_at=row.validated_at, options=options)
    name = "el documento soporte" if row.document_type is DocumentType.SUPPORT_DOCUMENT else "la nota de ajuste"
    us = ctx.issuer.party
    message = EmailMessage()
    message["From"] = from_address
    message["To"] = row.buyer_email or ""
    message["Subject"] = f"{us.registration_name}: {name} {row.number} de su venta"
    message["Date"] = format_datetime(now.astimezone(BOGOTA))
    domain = from_address.rpartition("@")[2] or "buzon.local"
    message["Message-ID"] = f"<{key.replace(':', '.')}@{domain}>"
    message.set_content(
        f"Señor(a) {row.buyer_name},\n\n{us.registration_name} (NIT {us.nit}) expidió {name} {row.number} por la "
        f"compra que le hizo, validado por la DIAN. CUDS: {row.cufe}\n\nLe enviamos su representación gráfica (PDF) "
        "y el documento electrónico con la respuesta de la DIAN, para su información: usted no necesita firmarlo ni "
        f"responderlo.\n\nCordialmente,\n{us.registration_name}\n"
    )
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=f"{row.number}.pdf")
    if row.attached_blob:
        message.add_attachment(ctx.blobs.get(row.attached_blob), maintype="application", subtype="xml",
                               filename=f"{row.number}.xml")  # fmt: skip
    return message


def queue_seller_mail(sessions: sessionmaker[Session], ctx: IssuingContext, *, from_address: str,
                      options: PdfOptions | None = None, now: Callable[[], datetime] = utc_now, limit: int = 100,
                      actor: str = "job:deliver_to_buyers") -> SellerMailReport:  # fmt: skip
    """Queue the seller's copy of every validated 05/95 whose issuer asked for it and that is not handed over yet."""
    report = SellerMailReport()
    with sessions() as s:
        ids = list(s.execute(
            sa.select(OutboundDocument.id).where(
                OutboundDocument.document_type.in_(SUPPORT_TYPES), OutboundDocument.state == OutboundState.ACCEPTED,
                OutboundDocument.delivery_state.is_(None), OutboundDocument.buyer_email.is_not(None),
            ).order_by(OutboundDocument.id).limit(limit)).scalars())  # fmt: skip
    for document_id in ids:
        with sessions() as s:
            row = s.execute(sa.select(OutboundDocument).where(OutboundDocument.id == document_id)
                            .with_for_update()).scalar_one()  # fmt: skip
            if row.delivery_state is not None:
                s.rollback()
                continue
            at, key = now(), f"support:{row.cufe}"
            message = _message(row, ctx, from_address=from_address, options=options or PdfOptions(), now=at, key=key)
            data = message.as_bytes(policy=WIRE_POLICY)
            s.add(OutgoingMail(kind=MailKind.ISSUED, dedupe_key=key, to_address=row.buyer_email,
                               subject=str(message["Subject"]), message_blob=ctx.blobs.put(data),
                               state=DeliveryState.PENDING, next_attempt_at=at))  # fmt: skip
            row.delivery_state = DeliveryState.PENDING
            row.report = {**(row.report or {}), "delivery": {"to": row.buyer_email, "address_from": "soporte",
                                                             "mail_key": key, "bytes": len(data),
                                                             "queued_at": at.isoformat()}}  # fmt: skip
            data_ = {"id": row.id, "number": row.number, "to": row.buyer_email, "bytes": len(data)}
            record(s, actor=actor, action="support.seller_mail_queued", subject=row.cufe, data=data_, at=at)
            report.queued.append(row.number)
            s.commit()
    return report
