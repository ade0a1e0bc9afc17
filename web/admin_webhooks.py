"""The webhooks admin screen: the configured endpoint ([webhooks]: URL, timeout, attempts; never the secret), the
delivery outbox by state, the deliveries not delivered (pending, failed, skipped) with their last status and error,
and "Reintentar": the delivery becomes due now (audited as webhook.retry_requested) and, when the app can run jobs,
the deliver_webhooks job runs at once so the page shows what happened.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from dian.codes import DocumentState
from store import audit
from store.models import ReceivedDocument, WebhookDelivery, WebhookState
from web import tenant
from web.access import roles
from web.admin import ADMIN, client_address, db, settings
from web.labels import STATE_LABELS, local_time

bp = Blueprint("admin_webhooks", __name__)
PAGE_SIZE = 50
JOB_ID = "deliver_webhooks"
WEBHOOK_STATE_LABELS = {
    WebhookState.PENDING: "Pendiente",
    WebhookState.DELIVERED: "Entregado",
    WebhookState.FAILED: "Fallido (sin más intentos)",
    WebhookState.SKIPPED: "Omitido (no había URL configurada)",
}
RETRYABLE = (WebhookState.PENDING, WebhookState.FAILED, WebhookState.SKIPPED)


def _state_label(value: Any) -> str:
    try:
        return STATE_LABELS.get(DocumentState(value), str(value))
    except ValueError:
        return str(value or "—")


def _row(d: WebhookDelivery, numbers: dict[int, tuple[str, str]]) -> dict[str, Any]:
    document = (d.payload or {}).get("document", {}) if isinstance(d.payload, dict) else {}
    number, supplier = numbers.get(
        d.document_id or 0, (document.get("number") or "", document.get("issuer_name") or "")
    )
    return {
        "d": d,
        "state_label": WEBHOOK_STATE_LABELS.get(d.state, str(d.state)),
        "number": number or "—",
        "supplier": supplier,
        "change": f"{_state_label(document.get('previous_state'))} → {_state_label(document.get('state'))}",
        "created": local_time(d.created_at),
        "next": local_time(d.next_attempt_at) if d.state is WebhookState.PENDING else "",
        "delivered": local_time(d.delivered_at),
    }


@bp.get("/admin/webhooks")
@roles(ADMIN)
def index() -> str:
    """The endpoint, the counts by state, and the deliveries still owed (oldest first), a page at a time."""
    session = db()
    config = settings().webhooks
    counts = dict(
        session.execute(sa.select(WebhookDelivery.state, sa.func.count()).group_by(WebhookDelivery.state)).all()
    )
    shown = request.args.get("estado", "")
    shown = shown if shown in {s.value for s in WebhookState} else ""  # an unknown state shows what is still owed
    states = [WebhookState(shown)] if shown else list(RETRYABLE)
    after = request.args.get("desde", "")
    query = sa.select(WebhookDelivery).where(WebhookDelivery.state.in_(states))
    if after.isascii() and after.isdigit() and len(after) < 18:
        query = query.where(WebhookDelivery.id > int(after))
    rows = list(session.scalars(query.order_by(WebhookDelivery.id).limit(PAGE_SIZE + 1)))
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    ids = {r.document_id for r in rows if r.document_id}
    numbers = {
        ident: (number or "", name or "")
        for ident, number, name in session.execute(
            sa.select(ReceivedDocument.id, ReceivedDocument.number, ReceivedDocument.issuer_name).where(
                ReceivedDocument.id.in_(ids)
            )
        )
    } if ids else {}  # fmt: skip
    return render_template(
        "admin/webhooks.html",
        config=config,
        counts={s: counts.get(s, 0) for s in WebhookState},
        labels=WEBHOOK_STATE_LABELS,
        rows=[_row(r, numbers) for r in rows],
        shown=shown,
        next_after=rows[-1].id if more else None,
        runner=tenant.service("run_job") is not None,
        retry_seconds=settings().events.retry_seconds,
    )


@bp.post("/admin/webhooks/<int:delivery_id>/reintentar")
@roles(ADMIN)
def retry(delivery_id: int) -> Any:
    """Make a delivery due now (one more attempt); then run the delivery job when the app can."""
    session = db()
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        abort(404, description=f"No existe el envío de webhook n.º {delivery_id}.")
    if delivery.state is WebhookState.DELIVERED:
        when = local_time(delivery.delivered_at)
        flash(f"El envío n.º {delivery_id} ya fue entregado el {when}: nada que reintentar.", "warn")
        return redirect(url_for("admin_webhooks.index"))
    previous = delivery.state
    now = datetime.now(UTC)
    delivery.state, delivery.next_attempt_at = WebhookState.PENDING, now
    audit.record(
        session,
        actor=current_user.actor,
        action="webhook.retry_requested",
        subject=f"webhook:{delivery.id}",
        source=client_address(),
        data={"document_id": delivery.document_id, "previous_state": str(previous), "attempts": delivery.attempts},
    )
    session.commit()
    if not settings().webhooks.url:
        flash(f"Envío n.º {delivery_id} marcado para reintentar, pero no hay URL de webhook configurada "
              "([webhooks] url): se volverá a omitir hasta que la configure.", "warn")  # fmt: skip
        return redirect(url_for("admin_webhooks.index"))
    run_job = tenant.service("run_job")
    if run_job is None:
        flash(f"Envío n.º {delivery_id} marcado para reintentar: la tarea «Webhooks de cambios de estado» lo enviará "
              "en su próxima ejecución.", "ok")  # fmt: skip
        return redirect(url_for("admin_webhooks.index"))
    result = run_job(JOB_ID) or {}
    session.expire_all()
    after = session.get(WebhookDelivery, delivery_id)
    if after is not None and after.state is WebhookState.DELIVERED:
        flash(f"Envío n.º {delivery_id} entregado: el receptor respondió HTTP {after.last_status}.", "ok")
    elif after is not None and after.last_error:
        flash(f"Envío n.º {delivery_id}: el receptor no lo aceptó ({after.last_error}). "
              + ("Sin más intentos automáticos." if after.state is WebhookState.FAILED else
                 f"Se reintentará el {local_time(after.next_attempt_at)}."), "error")  # fmt: skip
    else:
        flash(f"Envío n.º {delivery_id} marcado para reintentar; la tarea terminó con «{result.get('outcome', '?')}»"
              f"{': ' + str(result.get('error')) if result.get('error') else ''}.", "warn")  # fmt: skip
    return redirect(url_for("admin_webhooks.index"))
