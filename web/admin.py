"""The "Administración" area (admins only): an overview page linking to each admin screen, and what they share.

Each screen is its own module (admin_users, admin_tokens, admin_webhooks, admin_certificate, admin_dian) and the jobs
page (web/jobs.py). After an action a screen redirects to itself with the outcome flashed ("ok", "warn" or "error");
web/templates/admin/_outcome.html shows it at the top, focused and announced.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, render_template, request
from sqlalchemy.orm import Session

from store.models import ApiToken, Role, User, WebhookDelivery, WebhookState
from web import tenant
from web.access import roles
from web.certificate import company_certificate_status
from web.labels import ENVIRONMENT_LABELS

bp = Blueprint("admin", __name__)

ADMIN = Role.ADMIN


def db() -> Session:
    """The request's database session."""
    return tenant.db()


def settings() -> Any:
    """The frozen settings the app was made with."""
    return tenant.settings()


def client_address() -> str | None:
    """Where the request came from, for the audit entry's source."""
    return request.remote_addr


def no_store(response: Any) -> Any:
    """Mark a response that shows a secret once (a new password, a new token) as never to be cached."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


@bp.get("/admin")
@roles(ADMIN)
def index() -> str:
    """One card per admin screen with the figure that matters most there."""
    session = db()
    now = datetime.now(UTC)
    users = session.scalar(sa.select(sa.func.count()).select_from(User).where(User.active.is_(True))) or 0
    disabled = session.scalar(sa.select(sa.func.count()).select_from(User).where(User.active.is_(False))) or 0
    tokens = session.scalar(sa.select(sa.func.count()).select_from(ApiToken).where(ApiToken.revoked_at.is_(None))) or 0
    webhook_counts = dict(
        session.execute(sa.select(WebhookDelivery.state, sa.func.count()).group_by(WebhookDelivery.state)).all()
    )
    return render_template(
        "admin/index.html",
        users=users,
        disabled=disabled,
        tokens=tokens,
        pending=webhook_counts.get(WebhookState.PENDING, 0),
        failed=webhook_counts.get(WebhookState.FAILED, 0),
        webhook_url=settings().webhooks.url,
        certificate=company_certificate_status(settings(), now),
        environment_label=ENVIRONMENT_LABELS.get(settings().dian.environment, settings().dian.environment),
        runner=tenant.service("run_job") is not None,
    )
