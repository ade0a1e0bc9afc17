"""Signing in and out (Spanish pages), and the accounts behind them: users, password hashes, API tokens.

Throttling, keyed on (account, client address) in login_throttles so that a stranger's wrong passwords lock only
the stranger out: after MAX_FAILURES wrong passwords for one name from one address, that name is locked for
LOCK_TIME from that address only. A name that does not exist is counted and locked the same way, so the answer does
not tell names apart; and one client address may fail at most ADDRESS_MAX_FAILURES times per ADDRESS_WINDOW whatever
names it tries (counted from the audit log, so it holds across processes). Every login, logout, failure and refusal
is an audit entry. Sessions end server-side: logout, a new password and disabling bump users.session_version, which
every session cookie is bound to (web.access.session_key).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from store import audit
from store.models import ApiToken, AuditEntry, LoginThrottle, Role, User
from web import company_switch, tenant
from web.access import Principal, hash_token, home_endpoint, new_token, public, roles, safe_next

bp = Blueprint("auth", __name__)

MAX_FAILURES = 5
LOCK_TIME = timedelta(minutes=15)
ADDRESS_MAX_FAILURES = 20  # an office behind one NAT address has several people typing
ADDRESS_WINDOW = timedelta(minutes=15)
FAILURE_MEMORY = timedelta(minutes=15)  # failures older than this (without a lock) start the count again
THROTTLE_KEEP = timedelta(days=1)  # rows idle and unlocked this long are deleted
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


def end_sessions(user: User) -> None:
    """End every open session of the user, on every device (their cookies carry the old session version)."""
    user.session_version = (user.session_version or 0) + 1


def set_password(session: Session, user: User, password: str, *, actor: str, source: str | None = None) -> None:
    """Replace the password (ending the user's sessions) and lift every login lock on the name; the caller commits."""
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    end_sessions(user)
    session.execute(sa.delete(LoginThrottle).where(LoginThrottle.username == user.username))
    audit.record(session, actor=actor, action="user.password_changed", subject=f"user:{user.username}", source=source)


def set_active(session: Session, user: User, active: bool, *, actor: str, source: str | None = None) -> None:
    """Enable or disable a user (a disabled user cannot sign in, its sessions end and its tokens stop working); the
    caller commits."""
    user.active = active
    if not active:
        end_sessions(user)
    audit.record(
        session,
        actor=actor,
        action="user.enabled" if active else "user.disabled",
        subject=f"user:{user.username}",
        source=source,
    )


TOKEN_NAME_MAX = 120  # what a token is for ("ERP SIIGO"), to tell tokens apart in the list


def issue_token(
    session: Session, user: User, *, name: str, actor: str, now: datetime, source: str | None = None
) -> tuple[ApiToken, str]:
    """A new API token for the user: the row (only the hash is stored) and the token itself, to show once.

    AccountError when the user is disabled or the name is empty, longer than TOKEN_NAME_MAX or holds a control
    character (the admin page says the same in Spanish before calling; the command line prints this message)."""
    if not user.active:
        raise AccountError(f"user {user.username!r} is disabled: enable it first")
    if not name or len(name) > TOKEN_NAME_MAX or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise AccountError(
            f"token name: say what the token is for, at most {TOKEN_NAME_MAX} characters, no control characters"
        )
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


def _throttle(session: Session, name: str, address: str) -> LoginThrottle:
    """The (name, address) row, locked for update; made when missing (a concurrent maker wins, we read theirs)."""
    where = (LoginThrottle.username == name, LoginThrottle.address == address)
    row = session.scalar(sa.select(LoginThrottle).where(*where).with_for_update())
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = LoginThrottle(username=name, address=address, failures=0)
            session.add(row)
    except sa.exc.IntegrityError:
        row = session.scalars(sa.select(LoginThrottle).where(*where).with_for_update()).one()
    return row


def locked_from(session: Session, name: str, address: str, now: datetime) -> datetime | None:
    """Until when the name is locked from this address, or None."""
    until = session.scalar(
        sa.select(LoginThrottle.locked_until).where(LoginThrottle.username == name, LoginThrottle.address == address)
    )
    return until if until is not None and until > now else None


def active_locks(session: Session, name: str, now: datetime) -> list[LoginThrottle]:
    """The addresses the name is locked from right now (for an admin's user list)."""
    return list(
        session.scalars(
            sa.select(LoginThrottle).where(LoginThrottle.username == name, LoginThrottle.locked_until > now)
        )
    )


def _count_failure(session: Session, name: str, address: str, now: datetime) -> datetime | None:
    """Count a wrong password for (name, address); when it reaches MAX_FAILURES, lock and return until when."""
    row = _throttle(session, name, address)
    if row.updated_at is not None and now - row.updated_at > FAILURE_MEMORY:
        row.failures = 0
    row.failures = (row.failures or 0) + 1
    row.updated_at = now
    if row.failures >= MAX_FAILURES:
        row.failures = 0
        row.locked_until = now + LOCK_TIME
        return row.locked_until
    return None


def _forget(session: Session, name: str, address: str, now: datetime) -> None:
    """After a good login: this address's count for the name starts over; long-idle rows of anyone are dropped."""
    session.execute(sa.delete(LoginThrottle).where(LoginThrottle.username == name, LoginThrottle.address == address))
    stale = now - THROTTLE_KEEP
    session.execute(
        sa.delete(LoginThrottle).where(
            LoginThrottle.updated_at < stale,
            sa.or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until < now),
        )
    )


# --- Pages ------------------------------------------------------------------------------------------------------


def _db() -> Session:
    return tenant.db()


def _render(message: str | None = None, status: int = 200, username: str = "") -> Any:
    info = "Sesión cerrada." if request.method == "GET" and request.args.get("salida") else None
    return (
        render_template(
            "login.html",
            message=message,
            info=info,
            username=username,
            next=safe_next(request.values.get("next")) or "",
            settings=tenant.settings(),
        ),
        status,
    )


@bp.route("/ingresar", methods=["GET", "POST"])
@public
def login() -> Any:
    """The login form; on success, back to where the user was going (a local path only)."""
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or url_for(home_endpoint(current_user.role)))
    if request.method == "GET":
        return _render()
    now = datetime.now(UTC)
    address = (request.remote_addr or "unknown")[:64]
    name = request.form.get("username", "").strip().lower()[:80]
    password = request.form.get("password", "")[:MAX_PASSWORD_LENGTH]
    members = company_switch.sign_in_companies(name, password)  # several companies: which one signs in
    db = _db()
    subject = f"user:{name}" if name else None

    def throttled(reason: str) -> Any:
        audit.record(
            db, actor="anonymous", action=ACTION_THROTTLED, subject=subject, source=address, data={"reason": reason}
        )
        db.commit()
        return _render(THROTTLED, 429, name)

    if _recent_failures(db, now, source=address) >= ADDRESS_MAX_FAILURES:
        return throttled("address")
    if name and locked_from(db, name, address, now) is not None:
        return throttled("locked")
    user = db.scalar(sa.select(User).where(User.username == name)) if name else None
    # Proven already when the name has accounts in several companies (company_switch tried each; this is the first).
    right = tenant.tenant().key in members or bool(
        user and user.password_hash and check_password_hash(user.password_hash, password)
    )
    if user is None:
        _burn_time(password)  # an unknown name takes as long as a known one
    if not right:
        # A name nobody has is counted and locked like a real account, so the answer does not tell them apart.
        audit.record(db, actor="anonymous", action=ACTION_FAILED, subject=subject, source=address)
        until = _count_failure(db, name, address, now) if name else None
        if until is not None:
            audit.record(db, actor="system:web", action=ACTION_LOCKED, subject=subject, source=address,
                         data={"until": until.isoformat(), "address": address})  # fmt: skip
        db.commit()
        return _render(THROTTLED if until else BAD_CREDENTIALS, 429 if until else 200, name)
    assert user is not None
    if not user.active:
        audit.record(
            db, actor="anonymous", action=ACTION_REFUSED, subject=subject, source=address, data={"reason": "inactive"}
        )
        db.commit()
        return _render(INACTIVE, 403, name)
    _forget(db, name, address, now)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    principal = Principal.of(user)
    audit.record(db, actor=principal.actor, action=ACTION_LOGIN, subject=subject, source=address)
    db.commit()
    target = safe_next(request.form.get("next")) or url_for(home_endpoint(principal.role))
    session.clear()  # nothing from before the login (a pre-login CSRF token included) carries over
    login_user(principal)
    company_switch.remember(members, principal)
    session.permanent = True  # bounded by PERMANENT_SESSION_LIFETIME, renewed while in use
    return redirect(target)


@bp.post("/salir")
@roles(*Role)
def logout() -> Any:
    """Sign out everywhere (a POST with the CSRF token, so another site cannot sign the user out)."""
    db = _db()
    user = current_user.load(db)
    end_sessions(user)  # a copy of the cookie kept elsewhere stops working too
    company_switch.sign_out_elsewhere(end_sessions)  # and in the install's other companies
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
