"""Who works a received document: assigning it to a clerk, from the document page or in bulk from the inbox.

``assign(session, document, username, actor)`` checks the assignee (an active user with a role that may act on
documents), changes ``ReceivedDocument.assigned_to`` and records the audit entry in the caller's session; the caller
commits (a bulk assignment commits once for all its rows). The deadline job mails its reminders to the assignee
(events/clock.py), so only people who can send the events are offered.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from store.audit import record
from store.models import ReceivedDocument, Role, User

# Only clerks send 030-033: a document is theirs to work, and the claim-window reminders are theirs to act on.
ASSIGNABLE_ROLES: tuple[Role, ...] = (Role.CLERK,)


class AssignmentRefused(ValueError):
    """The assignee cannot take documents; ``reason`` is a Spanish sentence for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def assignable_users(session: Session) -> Sequence[User]:
    """Active users a document may be assigned to, by name."""
    return session.scalars(
        sa.select(User)
        .where(User.active.is_(True), User.role.in_(ASSIGNABLE_ROLES))
        .order_by(User.first_name, User.family_name, User.username)
    ).all()


def display_name(user: User) -> str:
    """The name shown in the select: «Ana Torres (ana)», or the username when the profile has no name."""
    name = " ".join(p for p in (user.first_name, user.family_name) if p)
    return f"{name} ({user.username})" if name else user.username


def assignee(session: Session, username: str) -> User:
    """The active user who may take documents, or AssignmentRefused saying why not."""
    user = session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        raise AssignmentRefused(f"No existe el usuario «{username[:80]}».")
    if not user.active:
        raise AssignmentRefused(f"El usuario {user.username} está desactivado.")
    if user.role not in ASSIGNABLE_ROLES:
        raise AssignmentRefused(f"El usuario {user.username} no es auxiliar: no puede tramitar documentos.")
    return user


def assign(
    session: Session,
    document: ReceivedDocument,
    username: str | None,
    actor: str,
    *,
    source: str | None = None,
    at: datetime | None = None,
) -> bool:
    """Assign ``document`` to ``username`` (None or "" takes the assignment away), audited; True when it changed.

    Raises AssignmentRefused for an unknown, disabled or non-clerk user. Nothing is committed here."""
    username = (username or "").strip() or None
    if username is not None:
        username = assignee(session, username).username
    previous = document.assigned_to
    if previous == username:
        return False
    document.assigned_to = username
    record(
        session,
        actor=actor,
        action="document.assigned" if username else "document.unassigned",
        subject=document.cufe,
        source=source,
        data={"document_id": document.id, "number": document.number, "from": previous, "to": username},
        at=at,
    )
    return True
