"""The JSON API for ERP integration under /api/v1, authenticated by `Authorization: Bearer <token>`.

Tokens come from `buzon token create --user NAME`; a request with a bearer token is that token's user, whatever
cookie it carries. Errors are JSON: 401 without a valid token, 403 when the user's role may not use the route.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from flask_login import current_user

from store.models import Role
from web.access import roles

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.get("/me")
@roles(Role.CLERK, Role.TREASURY, Role.ADMIN, Role.AUDITOR)
def me() -> Any:
    """Who the token (or session) belongs to, with the role that decides what else the API allows."""
    return jsonify(
        username=current_user.username,
        name=current_user.display_name,
        email=current_user.email,
        role=str(current_user.role),
        role_label=current_user.role_label,
        authenticated_by=current_user.via,
    )
