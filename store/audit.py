"""The append-only audit log: entries are added, never changed or removed.

The ORM refuses updates and deletes here; the database refuses them too (triggers created by the migrations,
on PostgreSQL and on SQLite), so plain SQL cannot rewrite history either.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from store.models import AuditEntry, utcnow

SECRET_KEY_RE = re.compile(r"pass(word)?|secret|token|pin|private|key", re.IGNORECASE)
MASK = "***"


class AuditLogIsAppendOnly(Exception):
    """Someone tried to change or delete an audit entry."""


def mask_secrets(data: Any) -> Any:
    """A copy of data with the values of secret-looking keys replaced by ***."""
    if isinstance(data, Mapping):
        return {k: MASK if SECRET_KEY_RE.search(str(k)) else mask_secrets(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [mask_secrets(v) for v in data]
    return data


def entry(
    *,
    actor: str,
    action: str,
    subject: str | None = None,
    source: str | None = None,
    data: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """The row `record` adds, for code that writes with Core statements (`insert_entries`)."""
    return {
        "at": at or utcnow(),
        "actor": actor,
        "action": action,
        "subject": subject[:200] if subject else subject,
        "source": source,
        "data": mask_secrets(data or {}),
    }


def record(session: Session, **fields: Any) -> AuditEntry:
    """Add one audit entry to the session (committed with the change it describes); ``fields`` as `entry` takes."""
    added = AuditEntry(**entry(**fields))
    session.add(added)
    return added


_INSERT = sa.insert(AuditEntry.__table__)


def insert_entries(conn: sa.Connection, entries: list[dict[str, Any]]) -> None:
    """Insert rows made by `entry` in the connection's transaction (committed with the change they describe)."""
    if entries:
        conn.execute(_INSERT, entries)


@event.listens_for(AuditEntry, "before_update")
def _refuse_update(mapper: Any, connection: Any, target: AuditEntry) -> None:
    raise AuditLogIsAppendOnly(f"audit entry {target.id} cannot be changed: the audit log is append-only")


@event.listens_for(AuditEntry, "before_delete")
def _refuse_delete(mapper: Any, connection: Any, target: AuditEntry) -> None:
    raise AuditLogIsAppendOnly(f"audit entry {target.id} cannot be deleted: the audit log is append-only")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk(state: ORMExecuteState) -> None:
    """Bulk ORM update()/delete() skip the mapper events above; refuse them here."""
    if (state.is_update or state.is_delete) and any(m.class_ is AuditEntry for m in state.all_mappers):
        raise AuditLogIsAppendOnly("the audit log is append-only: bulk UPDATE/DELETE of audit entries refused")
