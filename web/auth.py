"""Signing in and out (Spanish pages), and the accounts behind them: users, password hashes, API tokens.

Throttling, without telling whether a user exists: after MAX_FAILURES wrong passwords an account is locked for
LOCK_TIME; a name that does not exist is treated the same way (its failures are counted in the audit log), and one
client address may fail at most ADDRESS_MAX_FAILURES times per ADDRESS_WINDOW whatever names it tries. Every login,
logout, failure and refusal is an audit entry; the address counter reads those entries, so it holds across processes.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from store import audit
from store.models import ApiToken, AuditEntry, Role, User
from web.access import Principal, hash_token, new_token, public, roles, safe_next

bp = Blueprint("auth", __name__)

MAX_FAILURES = 5
LOCK_TIME = timedelta(minutes=15)
ADDRESS_MAX_FAILURES = 20  # an office behind one NAT address has several people typing
ADDRESS_WINDOW = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")

BAD_CREDENTIALS = "Usuario o contraseña incorrectos."
THROTTLED = (
    "Demasiados intentos fallidos. Por seguridad, espere 15 minutos antes de volver a intentarlo "
    "o pida ayuda a un administrador."
)
INACTIVE = "Esta cuenta está desactivada. Pida a un administrador que la reactive."

ACTION_LOGIN = "auth.login"
ACTION_FAILED = "auth.login.failed"
ACTION_LOCKED = "auth.login.locked"
ACTION_THROTTLED = "auth.login.throttled"
ACTION_REFUSED = "auth.login.refused"
ACTION_LOGOUT = "auth.logout"


class AccountError(ValueError):
    """A user or token request that cannot be carried out; the message names the offending value."""


# --- Accounts ---------------------------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    """A salted scrypt hash (werkzeug's default) of a password that meets the length rule."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at most {MAX_PASSWORD_LENGTH} characters")
    return generate_password_hash(password)


def normalize_username(name: str) -> str:
    """The stored form of a user name: trimmed, lower case, letters, digits, dot, dash and underscore."""
    username = name.strip().lower()
    if not USERNAME_RE.match(username):
        raise AccountError(
            f"user name {name!r}: use 2-80 lower-case letters, digits, '.', '-' or '_', starting with a letter or digit"
        )
    return username


def find_user(session: Session, name: str) -> User | None:
    """The user with this name (case-insensitive), or None."""
    return session.scalar(sa.select(User).where(User.username == name.strip().lower()))


def create_user(
    session: Session,
    username: str,
    *,
    role: Role,
    password: str,
    actor: str,
    source: str | None = None,
    password_hash: str | None = None,
    **profile: Any,
) -> User:
    """Add a user (audited as user.created); the caller commits. profile: email, first_name, family_name, …"""
    name = normalize_username(username)
    if find_user(session, name) is not None:
        raise AccountError(f"user {name!r} already exists")
    unknown = set(profile) - {
        "email",
        "id_type",
        "id_number",
        "first_name",
        "family_name",
        "job_title",
        "department",
    }
    if unknown:
        raise AccountError(f"unknown profile fields: {', '.join(sorted(unknown))}")
    user = User(username=name, role=Role(role), password_hash=password_hash or hash_password(password), **profile)
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="user.created",
        subject=f"user:{name}",
        source=source,
        data={"role": str(user.role), **{k: v for k, v in profile.items() if v}},
    )
    return user


def set_password(session: Session, user: User, password: str, *, actor: str, source: str | None = None) -> None:
    """Replace the password (ending the user's other sessions) and lift a login lock; the caller commits."""
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    audit.record(session, actor=actor, action="user.password_changed", subject=f"user:{user.username}", source=source)


def set_active(session: Session, user: User, active: bool, *, actor: str, source: str | None = None) -> None:
    """Enable or disable a user (a disabled user cannot sign in and its tokens stop working); the caller commits."""
    user.active = active
    audit.record(
        session,
        actor=actor,
        action="user.enabled" if active else "user.disabled",
        subject=f"user:{user.username}",
        source=source,
    )


def issue_token(
    session: Session, user: User, *, name: str, actor: str, now: datetime, source: str | None = None
) -> tuple[ApiToken, str]:
    """A new API token for the user: the row (only the hash is stored) and the token itself, to show once."""
    raw = new_token()
    token = ApiToken(user_id=user.id, name=name, token_hash=hash_token(raw), prefix=raw[:12], created_at=now)
    session.add(token)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="api_token.created",
        subject=f"api_token:{token.id}",
        source=source,
        data={"user": user.username, "name": name, "prefix": token.prefix},
    )
    return token, raw


def revoke_token(session: Session, token: ApiToken, *, actor: str, now: datetime, source: str | None = None) -> bool:
    """Revoke a token (False when it already was); the caller commits."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = now
    audit.record(
        session,
        actor=actor,
        action="api_token.revoked",
        subject=f"api_token:{token.id}",
        source=source,
        data={"user": token.user.username, "name": token.name, "prefix": token.prefix},
    )
    return True


# --- Throttling -------------------------------------------------------------------------------------------------

_DUMMY_HASH: list[str] = []


def _burn_time(password: str) -> None:
    """Check the password against a throwaway hash, so an unknown name takes as long as a known one."""
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(generate_password_hash("buzon-no-such-user"))
    check_password_hash(_DUMMY_HASH[0], password)


def _recent_failures(session: Session, now: datetime, **where: str) -> int:
    since = now - ADDRESS_WINDOW
    query = sa.select(sa.func.count()).where(AuditEntry.action == ACTION_FAILED, AuditEntry.at >= since)
    for column, value in where.items():
        query = query.where(getattr(AuditEntry, column) == value)
    return session.scalar(query.select_from(AuditEntry)) or 0


def _locked(user: User, now: datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


# --- Pages ------------------------------------------------------------------------------------------------------


def _db() -> Session:
    return current_app.extensions["buzon.db"]()


def _render(message: str | None = None, status: int = 200, username: str = "") -> Any:
    info = "Sesión cerrada." if request.method == "GET" and request.args.get("salida") else None
    return (
        render_template(
            "login.html",
            message=message,
            info=info,
            username=username,
            next=safe_next(request.values.get("next")) or "",
            settings=current_app.config["BUZON_SETTINGS"],
        ),
        status,
    )


@bp.route("/ingresar", methods=["GET", "POST"])
@public
def login() -> Any:
    """The login form; on success, back to where the user was going (a local path only)."""
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or url_for("inbox.index"))
    if request.method == "GET":
        return _render()
    db = _db()
    now = datetime.now(UTC)
    address = request.remote_addr or "unknown"
    name = request.form.get("username", "").strip().lower()[:80]
    password = request.form.get("password", "")[:MAX_PASSWORD_LENGTH]
    subject = f"user:{name}" if name else None

    def throttled(reason: str) -> Any:
        audit.record(
            db, actor="anonymous", action=ACTION_THROTTLED, subject=subject, source=address, data={"reason": reason}
        )
        db.commit()
        return _render(THROTTLED, 429, name)

    if _recent_failures(db, now, source=address) >= ADDRESS_MAX_FAILURES:
        return throttled("address")
    user = db.scalar(sa.select(User).where(User.username == name).with_for_update()) if name else None
    if user is None:
        # A name nobody has locks like a real account would, so the answer does not tell them apart.
        if name and _recent_failures(db, now, subject=subject) >= MAX_FAILURES:
            return throttled("unknown_user")
        _burn_time(password)
        audit.record(db, actor="anonymous", action=ACTION_FAILED, subject=subject, source=address)
        locks_now = bool(name) and _recent_failures(db, now, subject=subject) >= MAX_FAILURES
        db.commit()
        return _render(THROTTLED if locks_now else BAD_CREDENTIALS, 429 if locks_now else 200, name)
    if _locked(user, now):
        return throttled("locked")
    if not (user.password_hash and check_password_hash(user.password_hash, password)):
        user.failed_logins = (user.failed_logins or 0) + 1
        audit.record(db, actor="anonymous", action=ACTION_FAILED, subject=subject, source=address)
        if user.failed_logins >= MAX_FAILURES:
            user.failed_logins = 0
            user.locked_until = now + LOCK_TIME
            audit.record(
                db,
                actor="system:web",
                action=ACTION_LOCKED,
                subject=subject,
                source=address,
                data={"until": user.locked_until.isoformat()},
            )
            db.commit()
            return _render(THROTTLED, 429, name)
        db.commit()
        return _render(BAD_CREDENTIALS, 200, name)
    if not user.active:
        audit.record(
            db, actor="anonymous", action=ACTION_REFUSED, subject=subject, source=address, data={"reason": "inactive"}
        )
        db.commit()
        return _render(INACTIVE, 403, name)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    principal = Principal.of(user)
    audit.record(db, actor=principal.actor, action=ACTION_LOGIN, subject=subject, source=address)
    db.commit()
    target = safe_next(request.form.get("next")) or url_for("inbox.index")
    session.clear()  # nothing from before the login (a pre-login CSRF token included) carries over
    login_user(principal)
    session.permanent = True  # bounded by PERMANENT_SESSION_LIFETIME, renewed while in use
    return redirect(target)


@bp.post("/salir")
@roles(Role.CLERK, Role.TREASURY, Role.ADMIN, Role.AUDITOR)
def logout() -> Any:
    """Sign out (a POST with the CSRF token, so another site cannot sign the user out)."""
    db = _db()
    audit.record(
        db,
        actor=current_user.actor,
        action=ACTION_LOGOUT,
        subject=f"user:{current_user.username}",
        source=request.remote_addr,
    )
    db.commit()
    logout_user()
    session.clear()
    return redirect(url_for("auth.login", salida=1))
