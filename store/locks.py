"""Locks between processes on one PostgreSQL: advisory locks named by text, and what a lost race looks like.

Several `buzon poll`, `buzon scheduler` and outbox processes may share one PostgreSQL database. They agree through
PostgreSQL's advisory locks: a session lock (held by a connection until released or until the connection ends — a
killed process gives its locks back with its connection) or a transaction lock (given back at commit or rollback).
A lock is named by text (``key``): its first 8 bytes of BLAKE2b are the 64-bit lock id; two names that happen to share
an id only make one wait for the other. SQLite serves one process: every lock here is granted at once there.
"""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

# SQLSTATEs of a transaction that lost a race and succeeds when tried again: deadlock detected, serialization failure.
RETRY_STATES = frozenset({"40P01", "40001"})
_TRY = sa.text("SELECT pg_try_advisory_lock(:lock_id)")
_UNLOCK = sa.text("SELECT pg_advisory_unlock(:lock_id)")
_UNLOCK_ALL = sa.text("SELECT pg_advisory_unlock_all()")
_XACT = sa.text("SELECT pg_advisory_xact_lock(:lock_id)")
_TRY_XACT = sa.text("SELECT pg_try_advisory_xact_lock(:lock_id)")
_TRY_MANY = sa.text(
    "SELECT lock_id FROM unnest(CAST(:lock_ids AS BIGINT[])) AS lock_id WHERE pg_try_advisory_lock(lock_id)"
)
_UNLOCK_MANY = sa.text("SELECT pg_advisory_unlock(lock_id) FROM unnest(CAST(:lock_ids AS BIGINT[])) AS lock_id")


def key(*parts: object) -> int:
    """The signed 64-bit advisory lock id of a name made of ``parts``."""
    name = "\x1f".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(name, digest_size=8).digest(), "big", signed=True)


def shared(bind: Any) -> bool:
    """Whether this engine, connection (or session standing for one) has a database shared by processes (PostgreSQL):
    its locks mean something."""
    dialect = getattr(bind, "dialect", None)
    if dialect is None and hasattr(bind, "session"):  # inbox.intake.tx.SessionTx
        dialect = bind.session.get_bind().dialect
    return dialect is not None and dialect.name == "postgresql"


def try_lock(conn: sa.Connection, lock_id: int) -> bool:
    """Take a session lock without waiting: False when another connection holds it (granted at once on SQLite)."""
    if not shared(conn):
        return True
    return bool(conn.execute(_TRY, {"lock_id": lock_id}).scalar())


def try_lock_many(conn: sa.Connection, lock_ids: list[int]) -> set[int]:
    """Take several session locks without waiting, in one round trip: the ids granted (all of them on SQLite).
    ``lock_ids`` must be distinct: a lock taken twice needs two unlocks."""
    if not shared(conn):
        return set(lock_ids)
    if not lock_ids:
        return set()
    return set(conn.execute(_TRY_MANY, {"lock_ids": lock_ids}).scalars())


def unlock_many(conn: sa.Connection, lock_ids: list[int]) -> None:
    """Give back several session locks taken on this connection, in one round trip."""
    if shared(conn) and lock_ids:
        conn.execute(_UNLOCK_MANY, {"lock_ids": lock_ids})


def unlock(conn: sa.Connection, lock_id: int) -> None:
    """Give back a session lock taken by ``try_lock`` on this connection."""
    if shared(conn):
        conn.execute(_UNLOCK, {"lock_id": lock_id})


def unlock_all(conn: sa.Connection) -> None:
    """Give back every session lock this connection holds (before it returns to the pool)."""
    if shared(conn):
        conn.execute(_UNLOCK_ALL)


def lock_for_transaction(conn: Any, lock_ids: list[int]) -> None:
    """Wait for each transaction lock, in ascending order (so that two transactions taking several never deadlock on
    them); they are given back at commit or rollback. Nothing on SQLite, whose writer lock is the whole database."""
    if not shared(conn):
        return
    for lock_id in sorted(set(lock_ids)):
        conn.execute(_XACT, {"lock_id": lock_id})


def lost_race(exc: BaseException) -> bool:
    """Whether ``exc`` is PostgreSQL's deadlock or serialization failure: the transaction, tried again, succeeds."""
    if not isinstance(exc, DBAPIError):
        return False
    return getattr(exc.orig, "sqlstate", None) in RETRY_STATES


def try_lock_for_transaction(conn: Any, lock_id: int) -> bool:
    """Take a transaction lock without waiting (given back at commit or rollback): False when another transaction
    holds it. Granted at once on SQLite."""
    if not shared(conn):
        return True
    return bool(conn.execute(_TRY_XACT, {"lock_id": lock_id}).scalar())
