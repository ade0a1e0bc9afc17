"""Which failures belong to the environment and which to one message.

A lost connection to the database (or a database or blob store that is busy, full or restarting) is the
environment's: the same work succeeds later, so the poll loop waits and tries again. Anything else that goes wrong
while one message is taken in (a value that does not fit a column, a parse surprise, a bug) is that message's: it is
quarantined with the failure's one-line summary, and intake goes on with the next one. Retrying such a failure would
fail again, on every poll, and hold back every message after it.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy import exc as sa_exc

# SQLite's primary result codes that say the database is busy or its storage failed, not that a value is wrong
# (https://sqlite.org/rescode.html): BUSY, LOCKED, NOMEM, IOERR, FULL, CANTOPEN, PROTOCOL.
_SQLITE_TRANSIENT = {5, 6, 7, 10, 13, 14, 15}
# PostgreSQL SQLSTATE classes that say the server or the connection is in trouble, not the statement: connection
# exception, insufficient resources, operator intervention (shutdown, restart), system error, and transaction
# rollback (serialization failure, deadlock: the same transaction succeeds when tried again).
_PG_TRANSIENT_CLASSES = {"08", "53", "57", "58", "40"}
# ...except a statement cancelled by its timeout (57014), which a message's own work can cause every time.
_PG_NOT_TRANSIENT = {"57014"}
SUMMARY_LENGTH = 300


def _psycopg_classes() -> tuple[type[BaseException], ...]:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency; SQLite-only installs still work
        return ()
    return (psycopg.OperationalError, psycopg.InterfaceError)


_PSYCOPG = _psycopg_classes()


def lost_connection(exc: BaseException) -> bool:
    """Whether exc means the database (or the blob store) cannot serve us right now, so the same work should be
    tried again later; False for a failure that one message's values or contents cause."""
    if isinstance(exc, sa_exc.DisconnectionError | sa_exc.TimeoutError):
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        return _driver_lost(exc.orig)
    if isinstance(exc, OSError):
        return True  # the disk or the network under the blob store (zip and mail parsing never raise it here)
    return _driver_lost(exc)


def _driver_lost(exc: BaseException | None) -> bool:
    if exc is None:
        return False
    if _PSYCOPG and isinstance(exc, _PSYCOPG):
        state = getattr(exc, "sqlstate", None)
        if state is None:  # raised by the client: no connection, connection closed, server gone
            return True
        return state not in _PG_NOT_TRANSIENT and state[:2] in _PG_TRANSIENT_CLASSES
    if isinstance(exc, sqlite3.OperationalError):
        code = getattr(exc, "sqlite_errorcode", None)
        return code is not None and code & 0xFF in _SQLITE_TRANSIENT
    return False


def storable(text: str) -> str:
    """The text as every database can store it: no NUL characters (PostgreSQL refuses them) and no lone
    surrogates (what Python keeps of undecodable bytes; no UTF-8 encoder takes them)."""
    cleaned = text.replace("\x00", "")
    try:
        cleaned.encode("utf-8")
    except UnicodeEncodeError:
        cleaned = cleaned.encode("utf-8", "replace").decode("utf-8")
    return cleaned


def one_line(exc: BaseException, length: int = SUMMARY_LENGTH) -> str:
    """The exception's type and the first line of its message, clipped, as kept with a quarantined message
    (a database error's SQL and parameters, on its later lines, are left out)."""
    try:
        message = str(exc)
    except Exception:  # an exception whose __str__ fails still has a name
        message = ""
    first = next((line.strip() for line in message.splitlines() if line.strip()), "")
    summary = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    summary = storable(summary)
    return summary if len(summary) <= length else summary[: length - 1] + "…"
