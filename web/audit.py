"""The audit log page: who did what and when, filtered by user, document (subject), action and dates; newest first.

Keyset pages on the id (entries are append-only, so the id order is the order they were written).
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, render_template, request

from dian.calendar import BOGOTA
from store.models import AuditEntry, Role
from web.access import roles

bp = Blueprint("audit", __name__)
PAGE_SIZE = 100


def _day(value: str, name: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        abort(400, description=f"{name}: fecha inválida {value!r}; use AAAA-MM-DD.")


def _local(moment: datetime) -> str:
    return moment.astimezone(BOGOTA).strftime("%d/%m/%Y %H:%M:%S")


def audit_conditions(args: Any) -> tuple[list[Any], dict[str, str]]:
    """The WHERE clauses of the page's filters, and the filters as given (to refill the form and the links)."""
    asked = {k: args.get(k, "").strip()[:200] for k in ("user", "subject", "action", "from", "to")}
    where: list[Any] = []
    if asked["user"]:
        # "ana" means the person user:ana; "system:scheduler" or "cli:root" are taken as written.
        actor = asked["user"] if ":" in asked["user"] else f"user:{asked['user'].lower()}"
        where.append(AuditEntry.actor == actor)
    if asked["subject"]:
        subject = asked["subject"]
        # A CUFE is stored in lower case; other subjects (user:ana, mail:12) as written.
        where.append(AuditEntry.subject.in_({subject, subject.lower()}))
    if asked["action"]:
        # "document.event" finds document.event.033.sent too.
        action = asked["action"]
        where.append(sa.or_(AuditEntry.action == action, AuditEntry.action.startswith(action + ".", autoescape=True)))
    first, last = _day(asked["from"], "from"), _day(asked["to"], "to")
    if first:
        where.append(AuditEntry.at >= datetime.combine(first, time.min, tzinfo=BOGOTA))
    if last:
        where.append(AuditEntry.at < datetime.combine(last + timedelta(days=1), time.min, tzinfo=BOGOTA))
    return where, {k: v for k, v in asked.items() if v}


@bp.get("/auditoria")
@roles(Role.AUDITOR, Role.ADMIN)
def index() -> str:
    """The audit log, newest first, with filters; the `before` link goes to older entries."""
    db = current_app.extensions["buzon.db"]()
    where, asked = audit_conditions(request.args)
    before = request.args.get("before", "").strip()
    if before:
        if not before.isdigit():
            abort(400, description="Cursor de paginación inválido.")
        where.append(AuditEntry.id < int(before))
    rows = list(db.scalars(sa.select(AuditEntry).where(*where).order_by(AuditEntry.id.desc()).limit(PAGE_SIZE + 1)))
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    entries = [
        {
            "entry": e,
            "at": _local(e.at),
            "data": json.dumps(e.data, ensure_ascii=False, sort_keys=True) if e.data else "",
        }
        for e in rows
    ]
    return render_template(
        "audit.html",
        entries=entries,
        asked=asked,
        next_before=rows[-1].id if more else None,
    )
