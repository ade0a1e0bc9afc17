"""The API tokens admin screen: create one for a user (shown once), list them with prefix and last use, revoke.

Only a token's SHA-256 is stored (web/access.py); the token itself appears once, on the answer to the POST that made
it. Creating and revoking are audit entries (web/auth.py's issue_token and revoke_token) with the admin as actor.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from store.models import ApiToken, Role, User
from web.access import ROLE_LABELS, roles
from web.admin import ADMIN, client_address, db, no_store
from web.auth import TOKEN_NAME_MAX, issue_token, revoke_token
from web.labels import local_time

bp = Blueprint("admin_tokens", __name__)
NAME_MAX = TOKEN_NAME_MAX


def _page(*, shown: dict[str, Any] | None = None, error: str | None = None, form: Any = None, status: int = 200) -> Any:
    session = db()
    tokens = list(session.scalars(sa.select(ApiToken).order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())))
    users = list(session.scalars(sa.select(User).where(User.active.is_(True)).order_by(User.username)))
    rows = [
        {
            "token": t,
            "user": t.user.username,
            "user_active": t.user.active,
            "role": ROLE_LABELS[Role(t.user.role)],
            "created": local_time(t.created_at),
            "last_used": local_time(t.last_used_at) or "Nunca",
            "revoked": local_time(t.revoked_at),
        }
        for t in tokens
    ]
    body = render_template(
        "admin/tokens.html",
        rows=rows,
        users=[(u.id, u.username, ROLE_LABELS[Role(u.role)]) for u in users],
        shown=shown,
        error=error,
        form=form or {},
    )
    response = make_response(body, status)
    return no_store(response) if shown else response


@bp.get("/admin/tokens")
@roles(ADMIN)
def index() -> Any:
    """Every token (never the secret): prefix, user, name, created, last used, revoked; and the form to create one."""
    return _page()


@bp.post("/admin/tokens")
@roles(ADMIN)
def create() -> Any:
    """Create a token for an active user; the answer shows it once."""
    session = db()
    raw_user = request.form.get("user_id", "")
    name = request.form.get("name", "").strip()
    owner = session.get(User, int(raw_user)) if raw_user.isascii() and raw_user.isdigit() else None
    if owner is None:
        return _page(error="Usuario: elija de la lista la persona en cuyo nombre actuará el token.", form=request.form,
                     status=400)  # fmt: skip
    if not owner.active:
        return _page(error=f"Usuario {owner.username}: está desactivado; actívelo antes de darle un token.",
                     form=request.form, status=400)  # fmt: skip
    if not name:
        return _page(error="Nombre: diga para qué es el token (p. ej. «ERP SIIGO»), para reconocerlo luego.",
                     form=request.form, status=400)  # fmt: skip
    if len(name) > NAME_MAX or any(ord(c) < 32 or ord(c) == 127 for c in name):
        return _page(error=f"Nombre: como máximo {NAME_MAX} caracteres, sin caracteres de control.", form=request.form,
                     status=400)  # fmt: skip
    token, raw = issue_token(session, owner, name=name, actor=current_user.actor, now=datetime.now(UTC),
                             source=client_address())  # fmt: skip
    session.commit()
    return _page(shown={"id": token.id, "raw": raw, "user": owner.username, "name": name,
                        "role": ROLE_LABELS[Role(owner.role)]})  # fmt: skip


@bp.post("/admin/tokens/<int:token_id>/revocar")
@roles(ADMIN)
def revoke(token_id: int) -> Any:
    """Revoke a token: requests with it get 401 from then on."""
    session = db()
    token = session.get(ApiToken, token_id)
    if token is None:
        abort(404, description=f"No existe el token n.º {token_id}.")
    label = f"«{token.name}» ({token.prefix}…) de {token.user.username}"
    if revoke_token(session, token, actor=current_user.actor, now=datetime.now(UTC), source=client_address()):
        session.commit()
        flash(f"Token {label} revocado: quien lo use recibirá 401 desde ahora.", "ok")
    else:
        flash(f"El token {label} ya estaba revocado.", "warn")
    return redirect(url_for("admin_tokens.index"))
