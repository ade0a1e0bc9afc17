"""The three-business-day clock: close windows that ended, and remind the assigned clerk before they do.

The window's end itself is kept on the document by store.state.refresh_state (third business day after the 032's
signing date, Colombian holidays, America/Bogota). "Business hours" before the end count only hours that fall on
business days: 8 business hours before a Monday 23:59:59 end is Monday 16:00, and 30 is the previous business day
at 18:00.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from dian.calendar import BOGOTA, BusinessCalendar
from dian.codes import DocumentState
from events.context import EventContext, utc_now
from events.notify import enqueue, new_message
from store.audit import entry, insert_entries, record
from store.models import MailKind, OutgoingMail, ReceivedDocument, Role, User


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


CLOSE_BATCH = 1000  # windows closed per transaction: one UPDATE … RETURNING and one multi-row audit INSERT each

CLOSED_NOTE = (
    "Venció el plazo sin reclamo ni aceptación: la factura queda aceptada tácitamente cuando el emisor registre el "
    "evento 034."
)


def close_windows(
    sessions: sessionmaker[Session],
    ctx: EventContext,
    *,
    now: Callable[[], datetime] = utc_now,
    actor: str = "job:deadlines",
    report: ClockReport | None = None,
    batch: int = CLOSE_BATCH,
) -> ClockReport:
    """Mark the windows that ended with no 031/033 of ours, and ask the sync to look for the seller's 034 first.

    Only the running windows are read: ``open_window_ends_at`` is set exactly while a goods_received window is not
    closed (store.state.refresh_state), so the partial index on it holds nothing else and a sweep with nothing due
    costs one index probe, however many lapsed windows stay goods_received. The windows close ``batch`` at a time,
    oldest end first, each batch one transaction: one UPDATE … RETURNING of the rows it selects and locks (others'
    locks skipped), and one audit entry per document inserted in one statement. The state does not change, so
    neither the monthly totals' triggers nor the state-change webhooks fire."""
    report = report or ClockReport()
    at = now()
    docs = ReceivedDocument
    due = (
        sa.select(docs.id)
        .where(
            docs.open_window_ends_at < at,
            docs.state == DocumentState.GOODS_RECEIVED,
            docs.window_closed_at.is_(None),
        )
        .order_by(docs.open_window_ends_at, docs.id)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    close = (
        sa.update(docs.__table__)
        .where(docs.id.in_(due))
        # off the top of the inbox's "nearest deadline first"; the seller may now register 034: look soon
        .values(window_closed_at=at, open_window_ends_at=None, events_synced_at=None)
        .returning(docs.id, docs.cufe, docs.window_ends_at)
    )
    while True:
        with sessions() as s:
            rows = sorted(s.execute(close).all(), key=lambda row: (row.window_ends_at, row.id))
            if not rows:
                break
            insert_entries(
                s.connection(),
                [
                    entry(
                        actor=actor,
                        action="document.window.closed",
                        subject=row.cufe,
                        data={
                            "document_id": row.id,
                            "window_ended_at": row.window_ends_at.isoformat() if row.window_ends_at else None,
                            "note": CLOSED_NOTE,
                        },
                        at=at,
                    )
                    for row in rows
                ],
            )
            s.commit()
        report.closed.extend(row.id for row in rows)
        if len(rows) < batch:
            break
    return report


def latest_due_end(calendar: BusinessCalendar, at: datetime, hours: int) -> datetime:
    """An instant no window end whose reminder has started at ``at`` lies after (``hours`` business hours ahead,
    rounded up to whole business days, the rest of today included): what the reminders select in SQL before
    ``reminder_start`` judges each candidate exactly. A full business day after today holds 24 of the hours
    ``reminder_start`` counts back, so an end past them starts its reminder after ``at``."""
    day = at.astimezone(BOGOTA).date() + timedelta(days=1)
    counted = 0
    while counted < hours:
        if calendar.is_business_day(day):
            counted += 24
        day += timedelta(days=1)
    return datetime.combine(day, time.min, BOGOTA) + timedelta(days=1)


def _recipients_by_document(s: Session, assigned: set[str]) -> tuple[dict[str, str], list[str]]:
    """The assigned clerks' addresses by user name, and every active clerk's (for documents nobody has), in one
    query."""
    rows = s.execute(
        sa.select(User.username, User.email, User.role).where(
            User.active.is_(True),
            sa.or_(User.role == Role.CLERK, User.username.in_(sorted(assigned)) if assigned else sa.false()),
        )
    ).all()
    by_name = {row.username: row.email for row in rows if row.username in assigned and row.email}
    clerks = sorted(row.email for row in rows if row.role == Role.CLERK and row.email)
    return by_name, clerks


def _queued(s: Session, keys: list[str]) -> set[str]:
    """Which of these reminder keys are already in the outbox (looked up in batches, not one query a document)."""
    found: set[str] = set()
    for first in range(0, len(keys), 500):
        batch = keys[first : first + 500]
        found.update(s.execute(sa.select(OutgoingMail.dedupe_key).where(OutgoingMail.dedupe_key.in_(batch))).scalars())
    return found


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
    """Queue one reminder per document and window end, ``hours`` business hours before the end.

    Only the windows ending before ``latest_due_end`` are read (the columns the reminder needs, through the
    state/window index), ``reminder_start`` judges each exactly, and the recipients and the reminders already
    queued are looked up once for all of them."""
    report = report or ClockReport()
    at = now()
    horizon = at + timedelta(days=14)  # no window is longer than 3 business days plus a long holiday run
    latest = min(horizon, latest_due_end(ctx.calendar, at, hours))
    with sessions() as s:
        candidates = s.execute(
            sa.select(
                ReceivedDocument.id,
                ReceivedDocument.cufe,
                ReceivedDocument.number,
                ReceivedDocument.issuer_name,
                ReceivedDocument.issuer_nit,
                ReceivedDocument.window_ends_at,
                ReceivedDocument.assigned_to,
            )
            .where(
                ReceivedDocument.state == DocumentState.GOODS_RECEIVED,
                ReceivedDocument.window_ends_at >= at,
                ReceivedDocument.window_ends_at <= latest,
            )
            .order_by(ReceivedDocument.window_ends_at, ReceivedDocument.id)
        ).all()
        due = [d for d in candidates if at >= reminder_start(ctx.calendar, d.window_ends_at, hours)]
        if not due:
            return report
        by_name, clerks = _recipients_by_document(s, {d.assigned_to for d in due if d.assigned_to})
        keyed = [(d, d.window_ends_at.astimezone(BOGOTA)) for d in due]
        queued = _queued(s, [f"reminder:{d.id}:{local_end.date().isoformat()}" for d, local_end in keyed])
        for document, local_end in keyed:
            end = document.window_ends_at
            assigned = by_name.get(document.assigned_to) if document.assigned_to else None
            # Nobody assigned (or no address): every active clerk hears of it rather than nobody.
            recipients = [assigned] if assigned else clerks
            if not recipients:
                report.unassigned += 1
                continue
            key = f"reminder:{document.id}:{local_end.date().isoformat()}"
            if key in queued:
                continue
            left = ctx.calendar.remaining(at, end)
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
