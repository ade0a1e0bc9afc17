"""The append-only audit log: entries are added, never changed or removed.

The ORM refuses updates and deletes here; the database refuses them too (triggers created by the migrations,
on PostgreSQL and on SQLite), so plain SQL cannot rewrite history either. Each entry is then sealed into a hash chain
(store/audit_chain.py): a transaction that wrote entries seals at its commit when the chain's lock is free
(`_seal_on_commit`), the job ``seal_audit`` seals what is left.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from store import audit_chain, locks
from store.audit_chain import chain_head, seal, verify
from store.models import AuditEntry, utcnow

__all__ = ["chain_head", "entry", "insert_entries", "mask_secrets", "record", "seal", "verify"]

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
        _mark_unsealed(conn)


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


# --- Sealing at commit ---------------------------------------------------------------------------------------------
# A connection that inserted audit entries is marked (in its DBAPI connection's info, cleared at commit and rollback);
# at its commit the entries it sees are sealed in the same transaction, only if the chain's lock is free right now and
# inside a savepoint: a busy lock or a failed seal leaves the entries to the next seal and never fails the commit.

_UNSEALED = "buzon.audit.unsealed"
_SAVEPOINT = "buzon_audit_seal"
log = logging.getLogger("store.audit")


def _mark_unsealed(conn: Any) -> None:
    """Mark the connection under ``conn`` (a Connection, a Session, or intake's SessionTx) as holding new entries."""
    session = conn if isinstance(conn, Session) else getattr(conn, "session", None)
    target = session.connection() if isinstance(session, Session) else conn
    target.info[_UNSEALED] = True


@event.listens_for(AuditEntry, "after_insert")
def _inserted(mapper: Any, connection: sa.Connection, target: AuditEntry) -> None:
    connection.info[_UNSEALED] = True


def _autocommit(conn: sa.Connection) -> bool:
    dbapi = conn.connection.dbapi_connection
    return getattr(dbapi, "autocommit", None) is True or (
        conn.dialect.name == "sqlite" and getattr(dbapi, "isolation_level", "") is None
    )


def _savepoint_and_lock(conn: sa.Connection) -> bool:
    """A savepoint, and the chain's lock if it is free now (PostgreSQL: both in one simple-protocol round trip)."""
    if not locks.shared(conn):
        conn.exec_driver_sql(f"SAVEPOINT {_SAVEPOINT}")
        return True
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(f"SAVEPOINT {_SAVEPOINT}; SELECT pg_try_advisory_xact_lock({int(audit_chain.LOCK)})")
        cursor.nextset()
        row = cursor.fetchone()
    finally:
        cursor.close()
    return bool(row and row[0])


@event.listens_for(sa.Engine, "commit")
def _seal_on_commit(conn: sa.Connection) -> None:
    if not conn.info.pop(_UNSEALED, False) or _autocommit(conn):
        return
    # A savepoint of its own, not released (the commit releases it), taken with the lock in one round trip.
    try:
        if not _savepoint_and_lock(conn):
            return
    except Exception:
        log.warning("sealing the audit chain at commit: no lock or savepoint; left to the job", exc_info=True)
        return
    try:
        audit_chain.seal_pending(conn, limit=audit_chain.HOOK_LIMIT, locked=True)
    except Exception:  # whatever it was, the commit of the entries goes on
        conn.exec_driver_sql(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
        log.warning("sealing the audit chain at commit failed; the job seal_audit will seal these entries",
                    exc_info=True)  # fmt: skip


@event.listens_for(sa.Engine, "rollback")
def _forget_unsealed(conn: sa.Connection) -> None:
    conn.info.pop(_UNSEALED, None)
