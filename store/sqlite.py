"""What every SQLite file of Buzón's needs when a connection opens it: WAL mode, set without racing other openers."""

from __future__ import annotations

import sqlite3
import time

TIMEOUT = 30.0


def use_wal(conn: sqlite3.Connection, timeout: float = TIMEOUT) -> None:
    """Put the connection's file in WAL mode (it persists in the file), waiting out other connections that switch it.

    Switching a file to WAL takes an exclusive lock, and SQLite answers "database is locked" at once, without waiting
    on its busy timeout, to a connection that asks while another one (of this process or another) is switching. This
    is only met while a new file is being set up; it is retried until the timeout.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
