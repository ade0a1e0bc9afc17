"""The inbox: received documents, newest first, with their state, DIAN check and claim-window countdown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, render_template, request

from dian.calendar import BusinessCalendar
from store.models import MailMessage, MailStatus, ReceivedDocument, Role
from web.access import roles
from web.labels import QUARANTINE_LABELS, STATE_LABELS, VERDICT_LABELS, money

bp = Blueprint("inbox", __name__)
PAGE_SIZE = 50


def _db() -> Any:
    return current_app.extensions["buzon.db"]()


def _calendar() -> BusinessCalendar:
    settings = current_app.config["BUZON_SETTINGS"]
    return BusinessCalendar(saturday_is_business_day=settings.scheduler.saturday_is_business_day)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _cursor(doc: ReceivedDocument) -> str:
    """Where the next page starts: microseconds since the epoch and the id (URL-safe, exact)."""
    delta = doc.issued_at - _EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return f"{micros}_{doc.id}"


def _parse_cursor(text: str) -> tuple[datetime, int]:
    """The (issued_at, id) of a cursor; a malformed one is a 400, never a silent first page."""
    micros, _, ident = text.partition("_")
    if not (micros.lstrip("-").isdigit() and ident.isdigit()):
        abort(400, description="Cursor de paginación inválido.")
    return _EPOCH + timedelta(microseconds=int(micros)), int(ident)


# Everyone reads the inbox and the quarantine: treasury read-only, the auditor everything, and the admin too,
# because a wrong NIT or mailbox setting shows up first as documents missing here or mail piling up in quarantine.
READERS = (Role.CLERK, Role.TREASURY, Role.ADMIN, Role.AUDITOR)


@bp.get("/")
@roles(*READERS)
def index() -> str:
    """The newest documents first; keyset pagination on (issued_at, id) stays fast on large tables."""
    db = _db()
    query = sa.select(ReceivedDocument).order_by(ReceivedDocument.issued_at.desc(), ReceivedDocument.id.desc())
    after = request.args.get("after", "")
    if after:
        stamp, ident = _parse_cursor(after)
        # Bind through the columns' own types, so the stamp is compared in stored-format UTC on every backend.
        key = sa.tuple_(ReceivedDocument.issued_at, ReceivedDocument.id)
        query = query.where(
            key < sa.tuple_(sa.literal(stamp, ReceivedDocument.issued_at.type), sa.literal(ident, sa.Integer()))
        )
    rows = db.scalars(query.limit(PAGE_SIZE + 1)).all()
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    now = datetime.now(UTC)
    calendar = _calendar()
    documents = [
        {
            "doc": d,
            "state": STATE_LABELS.get(d.state, d.state),
            "verdict": VERDICT_LABELS.get(d.verdict, d.verdict),
            "amount": money(d.payable_amount, d.currency),
            "remaining": calendar.remaining(now, d.window_ends_at) if d.window_ends_at else None,
        }
        for d in rows
    ]
    next_cursor = _cursor(rows[-1]) if more else None
    quarantined = db.scalar(
        sa.select(sa.func.count()).select_from(MailMessage).where(MailMessage.status == MailStatus.QUARANTINED)
    )
    total = db.scalar(sa.select(sa.func.count()).select_from(ReceivedDocument))
    return render_template(
        "inbox.html",
        documents=documents,
        next_cursor=next_cursor,
        quarantined=quarantined,
        total=total,
        settings=current_app.config["BUZON_SETTINGS"],
    )


@bp.get("/cuarentena")
@roles(*READERS)
def quarantine() -> str:
    """Mail that was not filed, with the reason a clerk can act on."""
    db = _db()
    rows = db.scalars(
        sa.select(MailMessage)
        .where(MailMessage.status == MailStatus.QUARANTINED)
        .order_by(MailMessage.received_at.desc(), MailMessage.id.desc())
        .limit(200)
    ).all()
    return render_template(
        "quarantine.html",
        messages=[{"mail": m, "reason": QUARANTINE_LABELS.get(m.reason or "", m.reason or "")} for m in rows],
        settings=current_app.config["BUZON_SETTINGS"],
    )
