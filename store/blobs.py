"""Raw bytes (mail, XML, zips, PDFs) content-addressed by SHA-256 under the data directory, durable when stored.

The bytes live in one SQLite file, ``<root>/blobs.sqlite3`` (WAL, ``synchronous=FULL``), whatever database holds the
rows. Until 2026-11 each blob was a file of its own (``root/ab/cd/<key>``), written to a temporary name, flushed,
renamed and its folder flushed: on our ext4 machines creating those files cost 4-6 ms of CPU per supplier mail, more
than verifying it, where one SQLite transaction per batch costs a few hundredths of that (SQLite's own measurements
find small blobs faster in SQLite than in files: https://www.sqlite.org/fasterthanfs.html). Blobs of that older layout
are still read, so an existing data folder keeps working.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path

from store.sqlite import TIMEOUT, use_wal

KEY_RE = re.compile(r"^[0-9a-f]{64}$")
FILENAME = "blobs.sqlite3"
_SCHEMA = "CREATE TABLE IF NOT EXISTS blobs (key TEXT PRIMARY KEY, size INTEGER NOT NULL, data BLOB NOT NULL)"


_SETUP = threading.Lock()  # threads of one process set a new store up one at a time


def _prepare(conn: sqlite3.Connection) -> None:
    use_wal(conn)
    conn.execute(_SCHEMA)
    conn.execute("PRAGMA synchronous=FULL")  # a commit is on disk before put() returns


class BlobError(Exception):
    """A blob is missing, corrupt, or its key is malformed; the message names the key."""


class BlobStore:
    """put() returns the SHA-256 hex key; get() returns the bytes and checks they still hash to it.

    Every blob is durable when put(), put_many() or put_keyed() returns: it is committed to the store's SQLite file,
    whose commit flushes its write-ahead log to disk. put_many() and put_keyed() store several in one transaction: all
    of them, or none and an error. Safe to share between threads (each thread has its own connection) and between
    processes (SQLite's locks, with a busy timeout).
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._local = threading.local()

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            self.root.mkdir(parents=True, exist_ok=True)
            # Autocommit mode: transactions are opened explicitly, so nothing is held open between calls.
            conn = sqlite3.connect(self.root / FILENAME, timeout=TIMEOUT, isolation_level=None)
            try:
                with _SETUP:
                    _prepare(conn)
            except BaseException:
                conn.close()
                raise
            self._local.conn = conn
        return conn

    def close(self) -> None:
        """Close this thread's connection (a later call opens a new one)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            self._local.conn = None
            conn.close()

    @staticmethod
    def _check(key: str) -> str:
        if not isinstance(key, str) or not KEY_RE.match(key):
            raise BlobError(f"blob key {key!r} is not a SHA-256 hex digest")
        return key

    @staticmethod
    def key_of(data: bytes) -> str:
        """The key the bytes are stored under: their SHA-256, in hex."""
        return hashlib.sha256(data).hexdigest()

    def put(self, data: bytes) -> str:
        """Store data (idempotent: the same bytes give the same key and are stored once)."""
        return self.put_many((data,))[0]

    def put_many(self, items: Iterable[bytes]) -> list[str]:
        """Store several blobs durably in one transaction; their keys, in order."""
        rows: dict[str, bytes] = {}
        keys: list[str] = []
        for data in items:
            data = bytes(data)
            key = self.key_of(data)
            keys.append(key)
            rows.setdefault(key, data)
        self._insert(rows)
        return keys

    def put_keyed(self, rows: Mapping[str, bytes]) -> None:
        """Store blobs whose keys the caller already computed with ``key_of`` (intake stages a batch's parts by key
        as it decides them): durably, in one transaction, without hashing each one a second time. A key that is not
        the hash of its bytes is refused when read (``get``), as a corrupt blob."""
        self._insert({self._check(key): bytes(data) for key, data in rows.items()})

    def _insert(self, rows: Mapping[str, bytes]) -> None:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(
                "INSERT OR IGNORE INTO blobs (key, size, data) VALUES (?, ?, ?)",
                [(key, len(data), data) for key, data in rows.items()],
            )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _legacy(self, key: str) -> Path | None:
        path = self.root / key[:2] / key[2:4] / key
        return path if path.is_file() else None

    def get(self, key: str) -> bytes:
        """The bytes stored under key; BlobError when missing or when they no longer match their hash."""
        self._check(key)
        row = self._conn().execute("SELECT data FROM blobs WHERE key = ?", (key,)).fetchone()
        if row is not None:
            data = bytes(row[0])
        else:
            legacy = self._legacy(key)
            if legacy is None:
                raise BlobError(f"blob {key} is missing from {self.root}")
            data = legacy.read_bytes()
        if self.key_of(data) != key:
            raise BlobError(f"blob {key} is corrupt: its bytes no longer match their SHA-256")
        return data

    def exists(self, key: str) -> bool:
        """Whether a blob is stored under key."""
        self._check(key)
        found = self._conn().execute("SELECT 1 FROM blobs WHERE key = ?", (key,)).fetchone()
        return found is not None or self._legacy(key) is not None
