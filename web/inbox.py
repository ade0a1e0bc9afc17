"""The inbox: received documents, newest first, with their state, DIAN check and claim-window countdown."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, current_app, render_template, request

from dian.calendar import BusinessCalendar
from store.models import MailMessage, MailStatus, ReceivedDocument
from web.labels import QUARANTINE_LABELS, STATE_LABELS, VERDICT_LABELS, money

bp = Blueprint("inbox", __name__)
PAGE_SIZE = 50


def _db() -> Any:
    return current_app.extensions["buzon.db"]()


def _calendar() -> BusinessCalendar:
    settings = current_app.config["BUZON_SETTINGS"]
    return BusinessCalendar(saturday_is_business_day=settings.scheduler.saturday_is_business_day)


@bp.get("/")
def index() -> str:
    """The newest documents first; keyset pagination on (issued_at, id) stays fast on large tables."""
    db = _db()
    query = sa.select(ReceivedDocument).order_by(ReceivedDocument.issued_at.desc(), ReceivedDocument.id.desc())
    after = request.args.get("after", "")
    if after:
        stamp, _, ident = after.partition("_")
        try:
            cursor = (datetime.fromisoformat(stamp), int(ident))
        except ValueError:
            cursor = None
        if cursor is not None:
            query = query.where(sa.tuple_(ReceivedDocument.issued_at, ReceivedDocument.id) < sa.tuple_(*cursor))
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
    next_cursor = f"{rows[-1].issued_at.isoformat()}_{rows[-1].id}" if more else None
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
