"""Mail Buzón sends, through the mail outbox: our registered events to the supplier, reminders to clerks.

A message is built whole (RFC 5322 bytes, kept as a blob) and queued in the same transaction as what it tells, then
delivered by SMTP with retries. One message per purpose (``dedupe_key``); a crash between the SMTP answer and the
commit can send a message twice, so each carries a stable Message-ID the receiver can deduplicate on.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, make_msgid

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from dian.calendar import BOGOTA
from dian.errors import ParseError
from dian.nit import check_digit
from dian.soap.packaging import document_file_name, zip_dated
from dian.ubl import Party, parse_document
from dian.ubl.build import AttachedDraft, build_attached_document
from events.context import EventContext, utc_now
from events.supplier_emails import stored_address
from store.audit import record
from store.models import (
    DeliveryState,
    DocumentEvent,
    MailKind,
    OutgoingMail,
    ReceivedDocument,
    Supplier,
)


@dataclass(frozen=True)
class SmtpTarget:
    """Where outgoing mail goes (from the [smtp] section)."""

    host: str
    port: int
    tls: str = "starttls"  # implicit, starttls or none (loopback only, checked by the configuration)
    user: str = ""
    password: str = field(default="", repr=False)
    from_address: str = ""
    timeout: float = 30.0


def _stable_id(kind: str, key: str, from_address: str) -> str:
    domain = from_address.rpartition("@")[2] or "buzon.local"
    return f"<{kind}.{key}@{domain}>"


def enqueue(
    s: Session,
    ctx: EventContext,
    *,
    kind: MailKind,
    dedupe_key: str,
    message: EmailMessage,
    now: datetime,
    document_id: int | None = None,
    event_id: int | None = None,
    error: str | None = None,
) -> OutgoingMail | None:
    """Queue ``message`` once per ``dedupe_key``; None when it was already queued."""
    existing = s.execute(sa.select(OutgoingMail.id).where(OutgoingMail.dedupe_key == dedupe_key)).scalar()
    if existing is not None:
        return None
    row = OutgoingMail(
        kind=kind,
        dedupe_key=dedupe_key,
        to_address=str(message["To"] or ""),
        subject=str(message["Subject"] or ""),
        message_blob=ctx.blobs.put(message.as_bytes(policy=SMTP_POLICY)),  # CRLF line ends, as SMTP sends them
        state=DeliveryState.FAILED if error else DeliveryState.PENDING,
        next_attempt_at=None if error else now,
        last_error=error,
        document_id=document_id,
        event_id=event_id,
    )
    s.add(row)
    s.flush()
    return row


# -- where the supplier's events go ----------------------------------------------------------------------------


def _invoice_email(ctx: EventContext, document: ReceivedDocument) -> str | None:
    try:
        parsed = parse_document(ctx.blobs.get(document.signed_xml_blob))
    except (ParseError, OSError, ValueError):
        return None
    supplier = getattr(parsed, "supplier", None)
    email = getattr(supplier, "email", None) if supplier is not None else None
    return email.strip() if email and "@" in email else None


def supplier_address(
    s: Session,
    ctx: EventContext,
    document: ReceivedDocument,
    exchange_emails: Callable[[], dict[str, str]] | None = None,
) -> tuple[str | None, str]:
    """The supplier's reception address and where it came from, said in Spanish: the one a person set for the supplier
    (the Proveedores page) overrides the rest; else the invoice's; else DIAN's list as the daily job last read it
    (events/supplier_emails.py, with its date); else, for a supplier that job has not read yet, DIAN's list asked
    now (GetExchangeEmails)."""
    setting = s.execute(sa.select(Supplier.reception_email).where(Supplier.nit == document.issuer_nit)).scalar()
    if setting:
        return setting, "configuración del proveedor"
    email = _invoice_email(ctx, document)
    if email:
        return email, "factura"
    stored = stored_address(s, document.issuer_nit)
    if stored is not None:
        read = stored[1].astimezone(BOGOTA).strftime("%d/%m/%Y")
        return stored[0], f"DIAN (GetExchangeEmails, leída el {read})"
    if exchange_emails is not None:
        try:
            listed = exchange_emails().get(document.issuer_nit)
        except Exception:  # DIAN unreachable: fall through to the setting
            listed = None
        if listed:
            return listed, "DIAN (GetExchangeEmails)"
    return None, ""


# -- the event notice ----------------------------------------------------------------------------------------------


def event_notice(
    ctx: EventContext,
    document: ReceivedDocument,
    event: DocumentEvent,
    *,
    to: str,
    from_address: str,
    now: datetime,
) -> EmailMessage:
    """The mail telling the supplier about our registered event: one zip holding an AttachedDocument with our
    ApplicationResponse and DIAN's answer; subject ``Evento;<invoice>;<our NIT>;<our name>;<event number>;<code>``."""
    assert event.signed_xml_blob and event.dian_response_blob and event.cude and event.number
    signed = ctx.blobs.get(event.signed_xml_blob)
    answer = ctx.blobs.get(event.dian_response_blob)
    local = now.astimezone(BOGOTA)
    signed_local = (event.signing_time or now).astimezone(BOGOTA)
    registered_local = (event.registered_at or now).astimezone(BOGOTA)
    supplier = Party(
        nit=document.issuer_nit,
        dv=document.issuer_dv or check_digit(document.issuer_nit),
        registration_name=document.issuer_name or document.issuer_nit,
    )
    container = build_attached_document(
        AttachedDraft(
            id=f"AD{event.number}",
            issue_date=local.date(),
            issue_time=local.strftime("%H:%M:%S") + "-05:00",
            environment=ctx.environment,
            sender=ctx.company,
            receiver=supplier,
            parent_document_id=event.number,
            document_xml=signed,
            dian_response_xml=answer,
            reference_uuid=event.cude,
            reference_uuid_scheme="CUDE-SHA384",
            reference_issue_date=signed_local.date(),
            validation_date=registered_local.date(),
            validation_time=registered_local.strftime("%H:%M:%S") + "-05:00",
            profile_id="DIAN 2.1: ApplicationResponse de la Factura Electrónica de Venta",
            document_type_text="Contenedor de Evento",
            # Unsigned, as 2 of 11 real containers are (dian-facts.md 3.1): what counts is signed inside it, our
            # event and DIAN's answer; and the payloads stay verbatim CDATA, which re-parsing to sign would lose.
            signed=False,
        )
    )
    name = document_file_name("ad", ctx.company.nit, year=local.year, consecutive=event.id)
    archive = zip_dated({name: container}, local)  # dated as the container's IssueDate and IssueTime
    message = EmailMessage()
    message["From"] = from_address
    message["To"] = to
    message["Subject"] = (
        f"Evento;{document.number};{ctx.company.nit};{ctx.company.registration_name};{event.number};{event.code.value}"
    )
    message["Date"] = format_datetime(local)
    message["Message-ID"] = _stable_id("evento", event.cude[:40], from_address)
    message.set_content(
        f"Señores {document.issuer_name},\n\n"
        f"{ctx.company.registration_name} (NIT {ctx.company.nit}) registró ante la DIAN el evento "
        f"{event.code.value} ({event.code.label}) número {event.number} sobre la factura {document.number}.\n"
        f"CUDE: {event.cude}\n\n"
        "Adjuntamos el evento y la respuesta de la DIAN.\n\nCordialmente,\n"
        f"{ctx.company.registration_name}\n"
    )
    message.add_attachment(
        archive, maintype="application", subtype="zip", filename=name.replace("ad", "z", 1)[:-4] + ".zip"
    )
    return message


def queue_event_notice(
    s: Session,
    ctx: EventContext,
    event: DocumentEvent,
    document: ReceivedDocument,
    now: datetime,
    *,
    from_address: str,
    exchange_emails: Callable[[], dict[str, str]] | None = None,
    actor: str = "job:deliver_outbox",
) -> OutgoingMail | None:
    """Queue the supplier's notice of our registered event (once per event); with no address, a failed row says so."""
    to, origin = supplier_address(s, ctx, document, exchange_emails)
    error = None
    if to is None:
        error = (
            f"No se encontró la dirección de recepción del proveedor NIT {document.issuer_nit}: ni en la factura, ni "
            "en la lista de la DIAN, ni en la configuración del proveedor."
        )
    message = event_notice(ctx, document, event, to=to or "", from_address=from_address, now=now)
    row = enqueue(
        s,
        ctx,
        kind=MailKind.EVENT_NOTICE,
        dedupe_key=f"event:{event.cude}",
        message=message,
        now=now,
        document_id=document.id,
        event_id=event.id,
        error=error,
    )
    if row is not None:
        record(
            s,
            actor=actor,
            action=f"event.{event.code.value}.notice_queued",
            subject=document.cufe,
            data={"event_id": event.id, "to": to, "address_from": origin, "error": error},
            at=now,
        )
    return row


# -- delivery ----------------------------------------------------------------------------------------------------


def _connect(target: SmtpTarget) -> smtplib.SMTP:
    if target.tls == "implicit":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            target.host, target.port, timeout=target.timeout, context=ssl.create_default_context()
        )
    else:
        client = smtplib.SMTP(target.host, target.port, timeout=target.timeout)
        if target.tls == "starttls":
            client.starttls(context=ssl.create_default_context())
    if target.user:
        client.login(target.user, target.password)
    return client


@dataclass
class MailReport:
    sent: int = 0
    retrying: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {"sent": self.sent, "retrying": self.retrying}


def deliver_mail(
    sessions: sessionmaker[Session],
    ctx: EventContext,
    target: SmtpTarget,
    *,
    now: Callable[[], datetime] = utc_now,
    limit: int = 100,
    actor: str = "job:deliver_outbox",
) -> MailReport:
    """Send every due message once over one SMTP connection; failures wait with exponential backoff."""
    report = MailReport()
    with sessions() as s:
        ids = list(
            s.execute(
                sa.select(OutgoingMail.id)
                .where(
                    OutgoingMail.state == DeliveryState.PENDING,
                    sa.or_(OutgoingMail.next_attempt_at.is_(None), OutgoingMail.next_attempt_at <= now()),
                )
                .order_by(OutgoingMail.id)
                .limit(limit)
            ).scalars()
        )
    if not ids:
        return report
    client: smtplib.SMTP | None = None
    try:
        for mail_id in ids:
            with sessions() as s:
                row = s.get(OutgoingMail, mail_id)
                if row is None or row.state is not DeliveryState.PENDING:
                    continue
                error = None
                try:
                    if client is None:
                        client = _connect(target)
                    data = ctx.blobs.get(row.message_blob)
                    client.sendmail(target.from_address, [row.to_address], data)
                except (smtplib.SMTPException, OSError) as exc:
                    error = f"{exc.__class__.__name__}: {exc}"
                    if client is not None:
                        try:
                            client.close()
                        finally:
                            client = None
                at = now()
                row.attempts += 1
                if error is None:
                    row.state, row.sent_at, row.next_attempt_at, row.last_error = DeliveryState.SENT, at, None, None
                    report.sent += 1
                else:
                    row.last_error = error[:2000]
                    row.next_attempt_at = at + ctx.backoff.delay(row.attempts)
                    report.retrying += 1
                    report.errors.append(error)
                record(
                    s,
                    actor=actor,
                    action=f"mail.{row.kind.value}.{'sent' if error is None else 'send_failed'}",
                    subject=row.dedupe_key,
                    data={"mail_id": row.id, "to": row.to_address, "attempts": row.attempts, "error": error},
                    at=at,
                )
                s.commit()
    finally:
        if client is not None:
            try:
                client.quit()
            except smtplib.SMTPException:
                client.close()
    return report


def new_message(*, to: str, subject: str, body: str, from_address: str, now: datetime, key: str) -> EmailMessage:
    """A plain-text message (reminders)."""
    message = EmailMessage()
    message["From"] = from_address
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(now.astimezone(BOGOTA))
    message["Message-ID"] = _stable_id("aviso", key, from_address) if key else make_msgid()
    message.set_content(body)
    return message
