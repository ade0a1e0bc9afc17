"""The in-app alerts of value titles (title_alerts): above all a supplier invoice endorsed to a factor (pay the new
holder) and a 041 that froze a payment. Unseen first; treasury and AP mark them seen (audited); the nav shows the
unseen count to the roles that act on them. Raising alerts is radian's (radian/alerts.py, radian/store.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from dian.nit import same_nit
from store.audit import record
from store.models import Role, TitleAlert, TitleRole, ValueTitle
from web import tenant
from web.access import roles
from web.labels import local_time
from web.title_labels import ALARMING_ALWAYS, ALERT_LABELS, ROLE_LABELS, URGENT_ALERTS

bp = Blueprint("alerts", __name__)

READERS = (Role.TREASURY, Role.CLERK, Role.ADMIN, Role.AUDITOR)
MARKERS = (Role.TREASURY, Role.CLERK)  # treasury and AP: the people who pay
BADGED = frozenset(MARKERS)
LIMIT = 200


def _db() -> Any:
    return tenant.db()


def unseen_count() -> int:
    """The unseen alerts, for the nav's badge (treasury and AP only; 0 for the others)."""
    if not current_user.is_authenticated or current_user.role not in BADGED:
        return 0
    try:
        query = sa.select(sa.func.count()).select_from(TitleAlert).where(TitleAlert.seen_at.is_(None))
        if current_user.role is Role.CLERK:  # AP: only what it pays (received invoices), not our receivables
            query = query.join(ValueTitle, ValueTitle.id == TitleAlert.title_id).where(
                ValueTitle.role == TitleRole.OBLIGOR
            )
        return int(_db().scalar(query) or 0)
    except sa.exc.SQLAlchemyError:  # an error page about a failing database must still render its nav
        return 0


@bp.app_context_processor
def _badge() -> dict[str, Any]:
    return {"unseen_alerts": unseen_count}


@bp.get("/alertas")
@roles(*READERS)
def index() -> str:
    """The alerts, unseen first, newest first within each."""
    rows = (
        _db()
        .execute(
            sa.select(TitleAlert, ValueTitle)
            .join(ValueTitle, ValueTitle.id == TitleAlert.title_id)
            .order_by(TitleAlert.seen_at.is_not(None), TitleAlert.created_at.desc(), TitleAlert.id.desc())
            .limit(LIMIT)
        )
        .all()
    )
    alerts = [
        {
            "id": alert.id,
            "kind": ALERT_LABELS.get(alert.kind, alert.kind.value),
            # Red for what changes whom (or whether) to pay; our own endorsement of a receivable is no alarm.
            "urgent": alert.kind in URGENT_ALERTS
            and (title.role is TitleRole.OBLIGOR or alert.kind in ALARMING_ALWAYS),
            "message": alert.message,
            "at": local_time(alert.created_at),
            "seen": alert.seen_at is not None,
            "seen_by": alert.seen_by or "",
            "seen_at": local_time(alert.seen_at),
            "title_id": title.id,
            "number": title.invoice_number,
            "role": ROLE_LABELS[title.role],
            "payable": title.role is TitleRole.OBLIGOR,
            # Whom to pay today (the title's payee now, which a later event may have moved again).
            "pay_to": f"{title.payee_name} (NIT {title.payee_nit})"
            if title.role is TitleRole.OBLIGOR and title.payee_nit and not same_nit(title.payee_nit, title.issuer_nit)
            else "",
        }
        for alert, title in rows
    ]
    return render_template("alerts.html", alerts=alerts, unseen=sum(1 for a in alerts if not a.get("seen")),
                           may_mark=current_user.role in MARKERS)  # fmt: skip


def _mark(alerts: list[TitleAlert]) -> None:
    now = datetime.now(UTC)
    for alert in alerts:
        alert.seen_at, alert.seen_by = now, current_user.username
    if alerts:
        record(_db(), actor=current_user.actor, action="title.alert.seen", subject=None, source=request.remote_addr,
               data={"alert_ids": [a.id for a in alerts][:100], "count": len(alerts)}, at=now)  # fmt: skip
    _db().commit()


@bp.post("/alertas/<int:alert_id>/vista")
@roles(*MARKERS)
def mark_seen(alert_id: int) -> Any:
    """Mark one alert seen (who and when are kept)."""
    alert = _db().get(TitleAlert, alert_id)
    if alert is not None and alert.seen_at is None:
        _mark([alert])
    return redirect(url_for("alerts.index"))


@bp.post("/alertas/vistas")
@roles(*MARKERS)
def mark_all_seen() -> Any:
    """Mark every unseen alert seen."""
    alerts = list(_db().scalars(sa.select(TitleAlert).where(TitleAlert.seen_at.is_(None)).limit(1000)))
    _mark(alerts)
    flash(f"{len(alerts)} aviso{'s' if len(alerts) != 1 else ''} marcado{'s' if len(alerts) != 1 else ''} como visto"
          f"{'s' if len(alerts) != 1 else ''}.", "success")  # fmt: skip
    return redirect(url_for("alerts.index"))
