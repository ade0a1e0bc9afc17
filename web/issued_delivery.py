"""The buyer's copy of one issued document, in words: when and to which address the mail went, or why not.

issuing/delivery.py keeps the facts: ``OutboundDocument.delivery_state`` (pending, sent, failed), ``delivered_at``,
and ``report["delivery"]`` (the address and where it came from, the mail outbox's key, the problem ``no_address`` or
``too_large`` with its Spanish detail); the mail outbox row (``OutgoingMail``, kind issued) keeps the SMTP server's
last error, the attempts and the next one. This module reads both for web/issued.py's document page and list; it
never says "enviado" before the SMTP server took the message.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from store.models import DeliveryState, OutboundDocument, OutboundState, OutgoingMail
from web import tenant
from web.labels import local_time

__all__ = ["delivery_marker", "delivery_view", "mail_settings", "pdf_options"]

ORIGINS = {
    "payload": "la dirección que envió el ERP",
    "GetAcquirer": "la dirección de recepción que la DIAN tiene registrada (GetAcquirer)",
    "GetExchangeEmails": "la lista de correos de recepción de la DIAN (GetExchangeEmails)",
    "facturación": "la dirección que escribió facturación al reenviar",
}
# The list's small marker: (css class, words) by delivery state.
MARKERS = {
    DeliveryState.SENT: ("sent", "Correo enviado"),
    DeliveryState.PENDING: ("pending", "Correo en cola"),
    DeliveryState.FAILED: ("failed", "Correo no enviado"),
}


def mail_settings() -> Any:
    """How the buyer's copy is mailed and printed (issuing.delivery.MailSettings) as the shell configured it
    (create_app's ``issued_mail``), else the [smtp] sender with the plain PDF."""
    make = tenant.service("issued_mail")
    if make is not None:
        return make()
    from issuing.delivery import MailSettings

    return MailSettings(tenant.settings().smtp.from_address)


def pdf_options() -> Any:
    """The PDF's logo, business line and footer (issuing.pdf.PdfOptions) as configured."""
    return mail_settings().pdf


def _when(text: str | None) -> str:
    try:
        return local_time(datetime.fromisoformat(text)) if text else ""
    except ValueError:
        return ""


def delivery_marker(row: OutboundDocument) -> dict[str, str] | None:
    """The list's marker of the buyer's mail (None before DIAN validates or before the job prepared it)."""
    if row.delivery_state is None:
        return None
    css, words = MARKERS[row.delivery_state]
    problem = (row.report or {}).get("delivery", {}).get("problem")
    if problem == "no_address":
        words = "Sin correo del comprador"
    return {"css": css, "words": words}


def delivery_view(db: Session, row: OutboundDocument) -> dict[str, Any]:
    """What the document page says about the buyer's mail: ``state`` (rejected, waiting_dian, not_yet, pending,
    retrying, sent, no_address, too_large, failed), a ``title``, a ``detail`` sentence, the address and its origin,
    the SMTP server's last error, the attempts and the next one."""
    record: dict[str, Any] = dict((row.report or {}).get("delivery") or {})
    view: dict[str, Any] = {"to": record.get("to"), "origin": ORIGINS.get(record.get("address_from") or ""),
                            "error": None, "attempts": 0, "next": "", "queued": _when(record.get("queued_at")),
                            "sends": int(record.get("sends", 1)), "note": record.get("note")}  # fmt: skip
    if row.state is OutboundState.REJECTED:
        return {**view, "state": "rejected", "title": "No se envía al comprador",
                "detail": "La DIAN rechazó el documento: no tiene validez y no se entrega al comprador."}  # fmt: skip
    if row.state is not OutboundState.ACCEPTED:
        return {**view, "state": "waiting_dian", "title": "Aún no se envía",
                "detail": "El correo al comprador sale cuando la DIAN valida el documento."}  # fmt: skip
    if row.delivery_state is None:
        return {**view, "state": "not_yet", "title": "En preparación",
                "detail": "La tarea «Enviar al comprador lo validado» lo prepara y lo pone en cola en su próxima "
                          "ejecución."}  # fmt: skip
    problem = record.get("problem")
    if row.delivery_state is DeliveryState.FAILED and problem:
        title = "No se envió: falta el correo del comprador" if problem == "no_address" else "No se envió"
        return {**view, "state": problem, "title": title, "detail": record.get("detail") or problem}
    mail = None
    if record.get("mail_key"):
        mail = db.execute(sa.select(OutgoingMail).where(OutgoingMail.dedupe_key == record["mail_key"])).scalar()
    if mail is not None:
        view.update(error=mail.last_error, attempts=mail.attempts,
                    next=local_time(mail.next_attempt_at) if mail.next_attempt_at else "")  # fmt: skip
    if row.delivery_state is DeliveryState.SENT:
        when = local_time(row.delivered_at or (mail.sent_at if mail is not None else None))
        return {**view, "state": "sent", "title": f"Enviado a {view['to']}",
                "detail": f"El servidor de correo lo recibió el {when}."}  # fmt: skip
    if mail is not None and mail.state is DeliveryState.FAILED:
        return {**view, "state": "failed", "title": f"No se pudo enviar a {view['to']}",
                "detail": "El servidor de correo no lo aceptó y no se reintentará. Revise la dirección y reenvíe."}
    if mail is not None and mail.state is DeliveryState.SENT:
        return {**view, "state": "pending", "title": f"Entregado al servidor de correo para {view['to']}",
                "detail": "La tarea «Enviar al comprador lo validado» lo marcará como enviado en su próxima "
                          "ejecución."}  # fmt: skip
    if view["error"]:
        return {**view, "state": "retrying", "title": f"Reintentando el envío a {view['to']}",
                "detail": f"El servidor de correo falló {view['attempts']} vez/veces; Buzón reintenta solo."}
    return {**view, "state": "pending", "title": f"En cola para {view['to']}",
            "detail": "Sale con el próximo envío de correo (tarea «Enviar correos pendientes»)."}  # fmt: skip
