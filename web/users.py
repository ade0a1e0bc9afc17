"""Managing the people who sign in: list, add, disable or enable, reset a password, change a role.

The admin pages (web/admin_users.py) and, later, the `buzon user` commands call these; the account primitives they
build on (create_user, set_password, set_active) live in web/auth.py. Every change is an audit entry naming the actor
and the user; the caller commits. Two rules keep the system manageable: an admin may not disable their own account,
and no change may leave the system without an active admin.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from store import audit
from store.models import LoginThrottle, Role, User
from web.auth import AccountError, create_user, find_user, set_active, set_password

# No 0/O, 1/l/I: a generated password is read aloud or copied by hand.
PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # noqa: S105 - an alphabet
PASSWORD_GROUPS = 4
PASSWORD_GROUP_LENGTH = 4
PROFILE_FIELDS = ("email", "first_name", "family_name", "id_type", "id_number", "job_title", "department")


class LastAdminError(AccountError):
    """The change would leave no active admin, or an admin tried to disable themselves; ``spanish`` for the pages."""

    def __init__(self, message: str, spanish: str) -> None:
        super().__init__(message)
        self.spanish = spanish


def generate_password() -> str:
    """A random password of four groups of four characters (about 93 bits), e.g. ``kq7M-x2Pa-Rt9w-nE4c``."""
    return "-".join(
        "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_GROUP_LENGTH)) for _ in range(PASSWORD_GROUPS)
    )


def all_users(session: Session) -> list[User]:
    """Every user, by user name."""
    return list(session.scalars(sa.select(User).order_by(User.username)))


def active_admins(session: Session) -> int:
    """How many active users have the admin role."""
    query = sa.select(sa.func.count()).select_from(User).where(User.role == Role.ADMIN, User.active.is_(True))
    return session.scalar(query) or 0


def user_by_id(session: Session, user_id: int) -> User:
    """The user with this id; AccountError when there is none."""
    found = session.get(User, user_id)
    if found is None:
        raise AccountError(f"no user with id {user_id}")
    return found


def _leaves_no_admin(session: Session, user: User) -> bool:
    """Whether taking this user out of the active admins leaves none."""
    return user.role is Role.ADMIN and user.active and active_admins(session) <= 1


def _last_admin(user: User) -> LastAdminError:
    return LastAdminError(
        f"{user.username} is the only active admin; make another admin first",
        f"{user.username} es el único administrador activo: primero dé el rol de administrador a otra persona.",
    )


def add_user(
    session: Session, username: str, *, role: Role, password: str, actor: str, source: str | None = None, **profile: Any
) -> User:
    """A new user with this role and password (audited as user.created); empty profile fields are left out."""
    fields = {k: v.strip() for k, v in profile.items() if k in PROFILE_FIELDS and v and v.strip()}
    unknown = set(profile) - set(PROFILE_FIELDS)
    if unknown:
        raise AccountError(f"unknown profile fields: {', '.join(sorted(unknown))}")
    return create_user(session, username, role=Role(role), password=password, actor=actor, source=source, **fields)


def disable(
    session: Session, user: User, *, actor: str, actor_id: int | None = None, source: str | None = None
) -> None:
    """Disable a user: no sign-in, tokens refused, open sessions ended. Not oneself, nor the last active admin."""
    if actor_id is not None and user.id == actor_id:
        raise LastAdminError(
            "you cannot disable your own account; ask another admin",
            "No puede desactivar su propia cuenta; pídaselo a otro administrador.",
        )
    if not user.active:
        return
    if _leaves_no_admin(session, user):
        raise _last_admin(user)
    set_active(session, user, False, actor=actor, source=source)  # which ends the user's open sessions


def enable(session: Session, user: User, *, actor: str, source: str | None = None) -> None:
    """Let a disabled user sign in again."""
    if user.active:
        return
    set_active(session, user, True, actor=actor, source=source)


def reset_password(session: Session, user: User, password: str, *, actor: str, source: str | None = None) -> None:
    """Set a new password (length rules of web.auth), lift a login lock and end the user's open sessions."""
    set_password(session, user, password, actor=actor, source=source)  # which also ends the open sessions


def change_role(session: Session, user: User, role: Role, *, actor: str, source: str | None = None) -> bool:
    """Give the user another role (audited as user.role_changed with the old and new role); False when unchanged.

    Refused when it would demote the last active admin.
    """
    role = Role(role)
    if user.role is role:
        return False
    if role is not Role.ADMIN and _leaves_no_admin(session, user):
        raise _last_admin(user)
    previous = user.role
    user.role = role
    audit.record(
        session,
        actor=actor,
        action="user.role_changed",
        subject=f"user:{user.username}",
        source=source,
        data={"old_role": str(previous), "new_role": str(role)},
    )
    return True


@dataclass(frozen=True)
class UserRow:
    """A user as the admin's list shows it."""

    user: User
    state: str  # active | locked | disabled
    last_login: datetime | None


def user_rows(session: Session, now: datetime) -> list[UserRow]:
    """Every user with its state: "locked" while a login lock holds the name from some address (web.auth's
    throttle keys on name and address, so the lock may hold only a stranger out)."""
    locked_names = {
        row.username for row in session.scalars(sa.select(LoginThrottle).where(LoginThrottle.locked_until > now))
    }
    rows = []
    for user in all_users(session):
        state = "active" if user.active else "disabled"
        if user.active and user.username in locked_names:
            state = "locked"
        rows.append(UserRow(user, state, user.last_login_at))
    return rows


__all__ = [
    "AccountError",
    "LastAdminError",
    "active_admins",
    "add_user",
    "all_users",
    "change_role",
    "disable",
    "enable",
    "find_user",
    "generate_password",
    "reset_password",
    "user_by_id",
    "user_rows",
]
