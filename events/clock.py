"""The three-business-day clock: close windows that ended, and remind the assigned clerk before they do.

The window's end itself is kept on the document by store.state.refresh_state (third business day after the 032's
signing date, Colombian holidays, America/Bogota). "Business hours" before the end count only hours that fall on
business days: 8 business hours before a Monday 23:59:59 end is Monday 16:00, and 30 is the previous business day
at 18:00.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from dian.calendar import BOGOTA, BusinessCalendar
from dian.codes import DocumentState
from events.context import EventContext, utc_now
from events.notify import enqueue, new_message
from store.audit import record
from store.models import MailKind, ReceivedDocument, Role, User


def reminder_start(calendar: BusinessCalendar, end: datetime, hours: int) -> datetime:
    """The instant ``hours`` business hours before ``end``."""
    moment = end.astimezone(BOGOTA)
    if moment.time() == moment.time().max:
        moment += timedelta(microseconds=1)
    left = hours
    while left > 0:
        moment -= timedelta(hours=1)
        if calendar.is_business_day(moment.date()):
            left -= 1
    return moment


@dataclass
class ClockReport:
    closed: list[int] = field(default_factory=list)
    reminded: list[int] = field(default_factory=list)
    unassigned: int = 0  # reminders with no clerk address to send to

    def as_dict(self) -> dict[str, int]:
        return {"closed": len(self.closed), "reminded": len(self.reminded), "without_address": self.unassigned}


def close_windows(
    sessions: sessionmaker[Session],
    ctx: EventContext,
    *,
    now: Callable[[], datetime] = utc_now,
    actor: str = "job:deadlines",
    report: ClockReport | None = None,
) -> ClockReport:
    """Mark the windows that ended with no 031/033 of ours, and ask the sync to look for the seller's 034 first."""
    report = report or ClockReport()
    at = now()
    with sessions() as s:
        documents = s.execute(
            sa.select(ReceivedDocument)
            .where(
                ReceivedDocument.state == DocumentState.GOODS_RECEIVED,
                ReceivedDocument.window_ends_at < at,
                ReceivedDocument.window_closed_at.is_(None),
            )
            .order_by(ReceivedDocument.window_ends_at)
            .with_for_update(skip_locked=True)
        ).scalars()
        for document in documents:
            document.window_closed_at = at
            document.open_window_ends_at = None  # off the top of the inbox's "nearest deadline first"
            document.events_synced_at = None  # the seller may now register 034: look soon
            record(
                s,
                actor=actor,
                action="document.window.closed",
                subject=document.cufe,
                data={
                    "document_id": document.id,
                    "window_ended_at": document.window_ends_at.isoformat() if document.window_ends_at else None,
                    "note": "Venció el plazo sin reclamo ni aceptación: la factura queda aceptada tácitamente "
                    "cuando el emisor registre el evento 034.",
                },
                at=at,
            )
            report.closed.append(document.id)
        s.commit()
    return report


def _recipients(s: Session, document: ReceivedDocument) -> list[str]:
    if document.assigned_to:
        email = s.execute(
            sa.select(User.email).where(User.username == document.assigned_to, User.active.is_(True))
        ).scalar()
        if email:
            return [email]
    # Nobody assigned (or no address): every active clerk hears of it rather than nobody.
    return sorted(
        e
        for e in s.execute(
            sa.select(User.email).where(User.role == Role.CLERK, User.active.is_(True), User.email.is_not(None))
        ).scalars()
        if e
    )


def send_reminders(
    sessions: sessionmaker[Session],
    ctx: EventContext,
    *,
    hours: int,
    from_address: str,
    now: Callable[[], datetime] = utc_now,
    actor: str = "job:deadlines",
    report: ClockReport | None = None,
) -> ClockReport:
    """Queue one reminder per document and window end, ``hours`` business hours before the end."""
    report = report or ClockReport()
    at = now()
    horizon = at + timedelta(days=14)  # no window is longer than 3 business days plus a long holiday run
    with sessions() as s:
        documents = s.execute(
            sa.select(ReceivedDocument).where(
                ReceivedDocument.state == DocumentState.GOODS_RECEIVED,
                ReceivedDocument.window_ends_at >= at,
                ReceivedDocument.window_ends_at <= horizon,
            )
        ).scalars()
        for document in documents:
            end = document.window_ends_at
            assert end is not None
            if at < reminder_start(ctx.calendar, end, hours):
                continue
            recipients = _recipients(s, document)
            if not recipients:
                report.unassigned += 1
                continue
            left = ctx.calendar.remaining(at, end)
            local_end = end.astimezone(BOGOTA)
            key = f"reminder:{document.id}:{local_end.date().isoformat()}"
            message = new_message(
                to=", ".join(recipients),
                subject=f"Plazo por vencer: factura {document.number} de {document.issuer_name}",
                body=(
                    f"La factura {document.number} de {document.issuer_name} (NIT {document.issuer_nit}) tiene el "
                    f"recibo del bien registrado; el plazo para aceptarla o reclamarla vence el "
                    f"{local_end:%d/%m/%Y} a las {local_end:%H:%M} ({left.label}).\n\n"
                    "Si no se registra aceptación ni reclamo, la factura quedará aceptada tácitamente.\n"
                ),
                from_address=from_address,
                now=at,
                key=f"{document.id}.{local_end.date().isoformat()}",
            )
            row = enqueue(s, ctx, kind=MailKind.REMINDER, dedupe_key=key, message=message, now=at,
                          document_id=document.id)  # fmt: skip
            if row is not None:
                record(s, actor=actor, action="document.reminder.queued", subject=document.cufe,
                       data={"document_id": document.id, "to": recipients, "window_ends_at": end.isoformat()},
                       at=at)  # fmt: skip
                report.reminded.append(document.id)
        s.commit()
    return report
