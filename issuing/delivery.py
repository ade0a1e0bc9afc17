"""The buyer's copy of a document DIAN validated: one mail, subject and zip as dian-facts 4.1 lays them out.

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

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from dian.calendar import BOGOTA
from dian.codes import DocumentType
from dian.soap import DianFault, DianTransportError
from dian.soap.packaging import document_file_name, zip_file_name
from dian.ubl import CommercialDocument, parse_document
from issuing import webhooks as _webhooks  # noqa: F401 - installs the invoice.* webhooks listener
from issuing.context import IssuingContext, utc_now
from issuing.pdf import PdfOptions, render_pdf
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

MAX_MESSAGE_BYTES = 2 * 1024 * 1024  # dian-facts 4.1: 2 MB per message
NO_ADDRESS = "no_address"
TOO_LARGE = "too_large"
NO_ADDRESS_ACTION = "outbound.delivery_no_address"
TOO_LARGE_ACTION = "outbound.delivery_too_large"
# CRLF line ends as SMTP sends them; headers folded only past 998 characters, so the subject that receivers split on
# ";" stays on one line (a long company name would otherwise fold it at 78).
WIRE_POLICY = SMTP_POLICY.clone(max_line_length=998)
_PROBLEM_ACTIONS = {NO_ADDRESS: NO_ADDRESS_ACTION, TOO_LARGE: TOO_LARGE_ACTION}
# A 04 on its way to DIAN (B.3): the buyer has it before DIAN validates it.
_UNDECIDED = (OutboundState.SIGNED, OutboundState.SENT, OutboundState.SEND_FAILED)


def before_validation(row: OutboundDocument) -> bool:
    """Whether ``row`` is a contingency 04 DIAN has not decided yet: its buyer gets the signed invoice meanwhile."""
    return row.document_type is DocumentType.DIAN_CONTINGENCY_INVOICE and row.state in _UNDECIDED


def zip_budget(max_bytes: int) -> int:
    """How large the zip may be in a message of ``max_bytes``: base64 takes 4/3 of it, headers and body ~16 KB."""
    return (max_bytes - 16 * 1024) * 3 // 4


@dataclass(frozen=True)
class MailSettings:
    """Who sends (the [smtp] from address), the optional sixth subject field and the PDF's options."""

    from_address: str
    business_line: str | None = None
    pdf: PdfOptions = field(default_factory=PdfOptions)
    max_bytes: int = MAX_MESSAGE_BYTES


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


class DeliveryProblem(Exception):
    """The buyer's copy cannot be sent as it is (Spanish reason); ``code`` is no_address or too_large."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


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


# -- the message ---------------------------------------------------------------------------------------------------


def _field(text: str | None) -> str:
    """A subject field: one line, without the separator."""
    return " ".join((text or "").replace(";", ",").split())


def mail_subject(document: CommercialDocument, business_line: str | None = None) -> str:
    """``NIT;Razón social;Número;Código tipo;Nombre comercial[;Línea de negocio]`` (dian-facts 4.1): the issuer's NIT
    without check digit, its registration name, cbc:ID, the type code (01-04, 91, 92), its trade name (the
    registration name when it has none) and the business line when configured."""
    supplier = document.supplier
    name = _field(supplier.registration_name) or supplier.nit
    fields = [supplier.nit, name, document.number, document.document_type.value, _field(supplier.trade_name) or name]
    if business_line and _field(business_line):
        fields.append(_field(business_line))
    return ";".join(fields)


@dataclass(frozen=True)
class BuyerPackage:
    """The zip for the buyer, its name and what was given up to fit 2 MB."""

    zip_name: str
    data: bytes
    members: tuple[str, ...]
    note: str | None = None  # e.g. the PDF went without its logo


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def buyer_package(row: OutboundDocument, ctx: IssuingContext, settings: MailSettings) -> BuyerPackage:
    """The zip of ``row`` (accepted): ``ad….xml`` (the AttachedDocument) and ``ad….pdf`` (printed with DIAN's
    validation time), named as dian-facts 4.3 (NIT, provider code, year, hexadecimal consecutive); for a contingency
    04 not yet validated, the signed invoice under its own name (``fv….xml``) and its PDF (validation pending).
    Raises DeliveryProblem(too_large) when even without the logo it does not fit the message."""
    early = before_validation(row)
    assert row.xml_blob and (early or row.attached_blob)
    signed = ctx.blobs.get(row.xml_blob)
    attached = signed if early else ctx.blobs.get(row.attached_blob or "")
    year = (row.issue_date or (row.validated_at or utc_now()).astimezone(BOGOTA).date()).year
    consecutive = row.consecutive or row.id
    naming = {"nit": ctx.nit, "year": year, "consecutive": consecutive, "provider_code": ctx.issuer.provider_code}
    xml_name = document_file_name("fv" if early else "ad", **naming)
    pdf_name = xml_name[:-4] + ".pdf"
    zip_name = zip_file_name(**naming)
    budget = zip_budget(settings.max_bytes)
    data = _zip({xml_name: attached, pdf_name: render_pdf(signed, validated_at=row.validated_at, options=settings.pdf)})
    note = None
    if len(data) > budget and settings.pdf.logo is not None:
        plain = replace(settings.pdf, logo=None)
        data = _zip({xml_name: attached, pdf_name: render_pdf(signed, validated_at=row.validated_at, options=plain)})
        note = "La representación gráfica se envió sin el logo para no superar 2 MB por correo."
    if len(data) > budget:
        raise DeliveryProblem(TOO_LARGE, (
            f"El zip para el comprador pesa {len(data) / 1024 / 1024:.2f} MB y el correo admite 2 MB "
            "(anexo 1.9 §9.1): no se envió. Descargue el zip y entréguelo por otro medio."))  # fmt: skip
    return BuyerPackage(zip_name, data, (xml_name, pdf_name), note)


def buyer_message(row: OutboundDocument, document: CommercialDocument, package: BuyerPackage, *, to: str,
                  settings: MailSettings, now: datetime, message_key: str) -> EmailMessage:  # fmt: skip
    supplier = document.supplier
    kind = {"91": "la nota crédito", "92": "la nota débito"}.get(document.document_type.value, "la factura electrónica")
    label = "CUDE" if (document.uuid_scheme or "").startswith("CUDE") else "CUFE"
    message = EmailMessage()
    message["From"] = settings.from_address
    message["To"] = to
    message["Subject"] = mail_subject(document, settings.business_line)
    message["Date"] = format_datetime(now.astimezone(BOGOTA))
    domain = settings.from_address.rpartition("@")[2] or "buzon.local"
    message["Message-ID"] = f"<{message_key.replace(':', '.')}@{domain}>"
    if before_validation(row):
        deadline = row.contingency_deadline.astimezone(BOGOTA) if row.contingency_deadline else None
        by = f", a más tardar el {deadline:%Y-%m-%d %H:%M} (hora de Colombia)" if deadline else ""
        lines = [
            f"Señores {document.customer.registration_name or row.buyer_name},",
            "",
            f"{supplier.registration_name} (NIT {supplier.nit}) les envía la factura electrónica de venta de "
            f"CONTINGENCIA {document.number} (tipo 04).",
            f"{label}: {document.uuid}",
            "",
            "Se expidió mientras la DIAN no podía recibir documentos electrónicos, por lo que aún no está validada: "
            f"se le transmitirá dentro de las 48 horas siguientes al restablecimiento de su servicio{by}.",
            "",
            "El archivo adjunto contiene la factura electrónica firmada (XML) y su representación gráfica en PDF.",
        ]
    else:
        lines = [
            f"Señores {document.customer.registration_name or row.buyer_name},",
            "",
            f"{supplier.registration_name} (NIT {supplier.nit}) les envía {kind} {document.number}, validada por la "
            "DIAN.",
            f"{label}: {document.uuid}",
            "",
            "El archivo adjunto contiene el documento electrónico con la respuesta de la DIAN (AttachedDocument) y su "
            "representación gráfica en PDF.",
        ]
    if package.note:
        lines += ["", package.note]
    lines += ["", "Cordialmente,", supplier.registration_name or supplier.nit]
    message.set_content("\n".join(lines) + "\n")
    message.add_attachment(package.data, maintype="application", subtype="zip", filename=package.zip_name)
    return message


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
                OutboundDocument.state.in_(_UNDECIDED)),
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
