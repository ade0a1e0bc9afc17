"""The simulator's state in SQLite under its data directory (stdlib sqlite3: dian never imports SQLAlchemy).

One connection guarded by a lock; WAL journal. Documents and events are unique the way DIAN detects duplicates:
documents by (issuer, kind, number) and by key; events by CUDE and by (sender, event number).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dian.simulator.numbering import range_kind

__all__ = ["Store"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS software (
    software_id TEXT PRIMARY KEY, pin TEXT NOT NULL, provider_nit TEXT NOT NULL, name TEXT
);
CREATE TABLE IF NOT EXISTS authorization (
    provider_nit TEXT NOT NULL, issuer_nit TEXT NOT NULL, PRIMARY KEY (provider_nit, issuer_nit)
);
CREATE TABLE IF NOT EXISTS numbering (
    nit TEXT NOT NULL, software_id TEXT NOT NULL, resolution TEXT NOT NULL, resolution_date TEXT,
    prefix TEXT NOT NULL, from_number INTEGER NOT NULL, to_number INTEGER NOT NULL,
    valid_from TEXT NOT NULL, valid_to TEXT NOT NULL, technical_key TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'invoice',
    PRIMARY KEY (nit, resolution, prefix)
);
CREATE TABLE IF NOT EXISTS exchange_email (nit TEXT PRIMARY KEY, name TEXT, email TEXT NOT NULL, updated TEXT);
CREATE TABLE IF NOT EXISTS acquirer (
    id_type TEXT NOT NULL, id_number TEXT NOT NULL, name TEXT, email TEXT, PRIMARY KEY (id_type, id_number)
);
CREATE TABLE IF NOT EXISTS document (
    key TEXT PRIMARY KEY, kind TEXT NOT NULL, number TEXT NOT NULL, issuer_nit TEXT NOT NULL,
    receiver_nit TEXT NOT NULL, type_code TEXT NOT NULL, payment_means TEXT, signing_time TEXT,
    file_name TEXT, xml BLOB NOT NULL, answer BLOB NOT NULL, validated_at TEXT NOT NULL,
    UNIQUE (issuer_nit, kind, number)
);
CREATE TABLE IF NOT EXISTS rejection (
    key TEXT PRIMARY KEY, number TEXT, file_name TEXT, messages TEXT NOT NULL, answer BLOB, at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS event (
    cude TEXT PRIMARY KEY, invoice_key TEXT NOT NULL REFERENCES document(key), code TEXT NOT NULL,
    number TEXT NOT NULL, sender_nit TEXT NOT NULL, receiver_nit TEXT NOT NULL, signing_time TEXT NOT NULL,
    file_name TEXT, xml BLOB NOT NULL, answer BLOB NOT NULL, registered_at TEXT NOT NULL,
    UNIQUE (sender_nit, number)
);
CREATE INDEX IF NOT EXISTS event_invoice ON event (invoice_key);
CREATE TABLE IF NOT EXISTS upload (zip_key TEXT PRIMARY KEY, test_set_id TEXT, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS upload_item (
    zip_key TEXT NOT NULL, position INTEGER NOT NULL, reply TEXT NOT NULL, PRIMARY KEY (zip_key, position)
);
CREATE TABLE IF NOT EXISTS counter (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS upload_ready (zip_key TEXT PRIMARY KEY, ready_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS contingency (start TEXT NOT NULL, end TEXT, source TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS test_set (
    id TEXT PRIMARY KEY, invoices INTEGER NOT NULL, credit_notes INTEGER NOT NULL, debit_notes INTEGER NOT NULL,
    delay_seconds REAL NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS test_set_document (
    test_set_id TEXT NOT NULL, zip_key TEXT NOT NULL, position INTEGER NOT NULL, kind TEXT NOT NULL, number TEXT,
    key TEXT, status_code TEXT NOT NULL, accepted INTEGER NOT NULL, at TEXT NOT NULL, PRIMARY KEY (zip_key, position)
);
CREATE TABLE IF NOT EXISTS buyer_policy (buyer_nit TEXT PRIMARY KEY, policy TEXT NOT NULL, concept TEXT);
"""


class Store:
    """SQLite access for the simulator; every public method is one transaction."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)
        self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        """A data directory written before a column existed gets it with its default (the ranges' kind)."""
        with self._lock:
            names = {row["name"] for row in self._db.execute("PRAGMA table_info(numbering)")}
            if "kind" not in names:
                self._db.execute("ALTER TABLE numbering ADD COLUMN kind TEXT NOT NULL DEFAULT 'invoice'")

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock and one SQLite transaction; commit on success, roll back on error."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def one(self, sql: str, *params: Any) -> sqlite3.Row | None:
        """The first row of a query."""
        with self._lock:
            return self._db.execute(sql, params).fetchone()

    def all(self, sql: str, *params: Any) -> list[sqlite3.Row]:
        """Every row of a query."""
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def next_number(self, db: sqlite3.Connection, name: str, start: int) -> int:
        """The next value of a named counter (inside a transaction)."""
        row = db.execute("SELECT value FROM counter WHERE name = ?", (name,)).fetchone()
        value = (row["value"] + 1) if row else start
        db.execute(
            "INSERT INTO counter (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            (name, value),
        )
        return value

    # -- seeds --------------------------------------------------------------------------------------------------

    def seed(self, data: dict[str, Any]) -> None:
        """Insert or replace seed rows: software, authorizations, numbering, exchange_emails, acquirers, test_sets."""
        with self.transaction() as db:
            for item in data.get("software", ()):
                db.execute(
                    "INSERT OR REPLACE INTO software VALUES (?, ?, ?, ?)",
                    (str(item["id"]), str(item["pin"]), str(item["provider_nit"]), item.get("name")),
                )
                for issuer in item.get("issuers", ()):
                    db.execute(
                        "INSERT OR IGNORE INTO authorization VALUES (?, ?)", (str(item["provider_nit"]), str(issuer))
                    )
            for item in data.get("authorizations", ()):
                db.execute(
                    "INSERT OR IGNORE INTO authorization VALUES (?, ?)",
                    (str(item["provider_nit"]), str(item["issuer_nit"])),
                )
            for item in data.get("numbering", ()):
                db.execute(
                    "INSERT OR REPLACE INTO numbering (nit, software_id, resolution, resolution_date, prefix, "
                    "from_number, to_number, valid_from, valid_to, technical_key, kind) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        str(item["nit"]),
                        str(item["software_id"]),
                        str(item["resolution"]),
                        str(item.get("resolution_date") or item["valid_from"]),
                        str(item.get("prefix", "")),
                        int(item["from"]),
                        int(item["to"]),
                        str(item["valid_from"]),
                        str(item["valid_to"]),
                        str(item["technical_key"]),
                        range_kind(item.get("kind")),
                    ),
                )
            for item in data.get("exchange_emails", ()):
                db.execute(
                    "INSERT OR REPLACE INTO exchange_email VALUES (?, ?, ?, ?)",
                    (str(item["nit"]), item.get("name"), str(item["email"]), str(item.get("updated", ""))),
                )
            for item in data.get("test_sets", ()):
                db.execute(
                    "INSERT OR REPLACE INTO test_set VALUES (?, ?, ?, ?, ?)",
                    (
                        str(item["id"]),
                        int(item.get("invoices", 2)),
                        int(item.get("credit_notes", 1)),
                        int(item.get("debit_notes", 1)),
                        float(item.get("delay_seconds", 0)),
                    ),
                )
            for item in data.get("acquirers", ()):
                db.execute(
                    "INSERT OR REPLACE INTO acquirer VALUES (?, ?, ?, ?)",
                    (str(item["id_type"]), str(item["id_number"]), item.get("name"), item.get("email")),
                )

    @staticmethod
    def dumps(value: Any) -> str:
        """JSON for a stored reply."""
        return json.dumps(value, ensure_ascii=False)
