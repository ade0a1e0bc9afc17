"""Backup and restore of one install: every table's rows and every blob, in one versioned tar archive.

The archive (format ``buzon-backup`` version 1) holds, in this order:

* ``manifest.json`` — the format and its version, the Alembic revision, the source's dialect, when it was taken, and
  per table its member, its columns, its row count, the SHA-256 of the member's bytes and of its uncompressed lines;
  the blob store's member, its blob count and its SHA-256.
* ``tables/<table>.jsonl.gz`` — one gzip'd JSON-lines file per table: a header line (the table and its columns, each
  with the kind its values are written as) and then one JSON array per row, in primary-key order.
* ``blobs.sqlite3`` — a copy of the blob store (store/blobs.py), blobs of the older one-file-per-blob layout included.

Consistency while the web and the scheduler write: every table is read in ONE snapshot transaction (REPEATABLE READ
on PostgreSQL, one read transaction on SQLite's WAL), streamed, never a whole table in memory. The blob store is
copied *after* that snapshot, with SQLite's online backup API. This is consistent because a blob is always committed
before the row that names it: BlobStore.put*() return only after their own commit (fsync'd), and the writers —
intake's ``writes.py`` (parts stored, then the rows committed), events' ``emit.py`` and the issuing service (the
signed XML stored before the event or document row is flushed), the mail outbox (the message stored before its row)
— all put the bytes first. So every key a snapshot row names was in the blob store before the snapshot began, and
blobs are never rewritten or deleted. The backup does not trust this: it reads its own table members again and
refuses to finish when a row names a blob the copy lacks (``BackupError`` naming the table, column and key).

The source's audit log gets ``backup.created`` once the archive is in place (after the snapshot, so the archive does
not hold it), naming the file, its counts and the audit chain's head the archive carries.

Restore: store/restore.py.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from store.audit import entry, insert_entries
from store.audit_chain import chain_head
from store.blobs import FILENAME as BLOB_FILE
from store.blobs import KEY_RE

FORMAT = "buzon-backup"
VERSION = 1
MANIFEST = "manifest.json"
BLOBS_MEMBER = "blobs.sqlite3"
DERIVED_BY_TRIGGERS = ("document_totals", "supplier_totals")  # kept by triggers on received_documents (0009)
SKIPPED = frozenset({"alembic_version"})
BATCH = 1000
CHUNK = 1 << 20


class BackupError(Exception):
    """A backup or a restore cannot be done; the message says why and what to do."""


class TargetError(BackupError):
    """The restore's target is not an empty Buzón database and data folder (fix the target, not the archive)."""


@dataclass(frozen=True)
class Summary:
    """What a backup wrote or a restore put back."""

    path: Path
    revision: str
    rows: dict[str, int]
    blobs: int
    size: int  # bytes of the archive
    seconds: float
    notes: list[str] = field(default_factory=list)
    chain: tuple[int, str] = (0, "")  # the audit chain's sealed head the archive holds

    def audit_data(self) -> dict[str, Any]:
        """What the audit entry of this backup or restore says (no secret: the file's name and counts)."""
        return {"file": str(self.path), "revision": self.revision, "tables": len(self.rows),
                "rows": sum(self.rows.values()), "blobs": self.blobs, "size": self.size,
                "audit_chain_position": self.chain[0], "audit_chain_hash": self.chain[1]}  # fmt: skip

    def line(self, verb: str) -> str:
        return (f"{verb} {self.path}: {len(self.rows)} tables, {sum(self.rows.values())} rows, {self.blobs} blobs, "
                f"{self.size / 1e6:.1f} MB, revision {self.revision}, {self.seconds:.1f} s")  # fmt: skip


# --- values ------------------------------------------------------------------------------------------------------


def kind_of(column_type: sa.types.TypeEngine[Any]) -> str:
    """How a column's values are written: json, datetime, date, decimal, bytes, or plain (JSON's own types)."""
    if isinstance(column_type, sa.JSON):
        return "json"
    if isinstance(column_type, sa.DateTime):
        return "datetime"
    if isinstance(column_type, sa.Date):
        return "date"
    if isinstance(column_type, sa.Numeric) and not isinstance(column_type, sa.Float):
        return "decimal"
    if isinstance(column_type, sa.LargeBinary):
        return "bytes"
    return "plain"


def encode(kind: str, value: Any) -> Any:
    """A column value as JSON; datetimes in UTC (SQLite's naive ones are UTC wall time, store/types.py)."""
    if value is None or kind in ("plain", "json"):
        return value
    if kind == "datetime":
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    if kind == "date":
        return value.isoformat()
    if kind == "decimal":
        return str(value)
    return base64.b64encode(value).decode("ascii")


def decode(kind: str, value: Any, dialect: str) -> Any:
    """The value to insert for what ``encode`` wrote."""
    if value is None or kind in ("plain", "json"):
        return value
    if kind == "datetime":
        moment = datetime.fromisoformat(value)
        return moment.astimezone(UTC).replace(tzinfo=None) if dialect == "sqlite" else moment
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "decimal":
        return Decimal(value)
    return base64.b64decode(value)


def row_line(values: Any) -> bytes:
    """One row as the archive writes it (also what the tests hash to compare a source with its restore)."""
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode() + b"\n"


def _order(table: sa.Table) -> list[sa.Column[Any]]:
    return list(table.primary_key.columns) or list(table.columns)


def read_rows(conn: Connection, table: sa.Table) -> Iterator[bytes]:
    """The table's rows as archive lines, in primary-key order, streamed."""
    kinds = [kind_of(c.type) for c in table.columns]
    result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(
        sa.select(*table.columns).order_by(*_order(table))
    )
    for row in result:
        yield row_line([encode(k, v) for k, v in zip(kinds, row, strict=True)])


def reflect(conn: Connection) -> list[sa.Table]:
    """The database's tables in foreign-key order (a table after those it refers to), Alembic's own left out."""
    metadata = sa.MetaData()
    metadata.reflect(conn)
    return [t for t in metadata.sorted_tables if t.name not in SKIPPED]


def blob_columns(table: sa.Table) -> list[str]:
    """The columns that name a blob by its key (``blob_key``, ``*_blob``)."""
    return [c.name for c in table.columns if c.name == "blob_key" or c.name.endswith("_blob")]


# --- backup ------------------------------------------------------------------------------------------------------


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection whose reads all see one moment of the database."""
    if engine.dialect.name == "postgresql":
        options = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
        with engine.connect().execution_options(**options) as conn, conn.begin():
            yield conn
        return
    with engine.connect() as conn:
        conn.exec_driver_sql("BEGIN")  # pysqlite opens no transaction for reads: the snapshot is this one's
        try:
            yield conn
        finally:
            conn.rollback()


class _Member:
    """A file being written that counts its bytes' SHA-256 (and, for a table, its uncompressed lines')."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.digest = hashlib.sha256()
        self.lines = hashlib.sha256()
        self.rows = 0
        self._raw = path.open("wb")
        self._gzip = gzip.GzipFile(fileobj=self, mode="wb", mtime=0)

    def write(self, data: bytes) -> int:  # called by GzipFile with compressed bytes
        self.digest.update(data)
        return self._raw.write(data)

    def flush(self) -> None:
        self._raw.flush()

    def add(self, line: bytes, *, row: bool = True) -> None:
        self.lines.update(line)
        self.rows += row
        self._gzip.write(line)

    def close(self) -> None:
        self._gzip.close()
        self._raw.flush()
        os.fsync(self._raw.fileno())
        self._raw.close()


def _copy_blobs(blob_dir: Path, target: Path) -> int:
    """Copy the blob store (and the older layout's files) into ``target``; the number of blobs."""
    dest = sqlite3.connect(target)
    try:
        source_file = blob_dir / BLOB_FILE
        if source_file.exists():
            source = sqlite3.connect(f"file:{source_file}?mode=ro", uri=True)
            try:
                source.backup(dest)  # one step: a consistent copy, read in one read transaction of the WAL
            finally:
                source.close()
        dest.execute("PRAGMA journal_mode=DELETE")
        dest.execute("CREATE TABLE IF NOT EXISTS blobs (key TEXT PRIMARY KEY, size INTEGER NOT NULL, data BLOB NOT "
                     "NULL)")  # fmt: skip
        for legacy in sorted(blob_dir.glob("??/??/*")) if blob_dir.is_dir() else []:
            if KEY_RE.match(legacy.name) and legacy.is_file():
                data = legacy.read_bytes()
                if hashlib.sha256(data).hexdigest() != legacy.name:
                    raise BackupError(f"blob {legacy.name} is corrupt in {blob_dir}: its bytes no longer match")
                dest.execute("INSERT OR IGNORE INTO blobs (key, size, data) VALUES (?, ?, ?)",
                             (legacy.name, len(data), data))  # fmt: skip
        dest.commit()
        return int(dest.execute("SELECT count(*) FROM blobs").fetchone()[0])
    finally:
        dest.close()


def _check_blob_references(members: dict[str, Path], blob_copy: Path) -> None:
    """Refuse the backup when a row names a blob the copy lacks (the ordering this module relies on failed)."""
    conn = sqlite3.connect(blob_copy)
    try:
        for table, path in members.items():
            with gzip.open(path, "rb") as lines:
                header = json.loads(lines.readline())
                names = [c[0] for c in header["columns"]]
                wanted = [names.index(c) for c in names if c == "blob_key" or c.endswith("_blob")]
                if not wanted:
                    continue
                keys: dict[str, str] = {}
                for line in lines:
                    values = json.loads(line)
                    keys.update({values[i]: names[i] for i in wanted if values[i]})
                    if len(keys) >= 500:
                        _look_up(conn, table, keys)
                        keys = {}
                _look_up(conn, table, keys)
    finally:
        conn.close()


def _look_up(conn: sqlite3.Connection, table: str, keys: dict[str, str]) -> None:
    if not keys:
        return
    marks = ",".join("?" * len(keys))
    found = {k for (k,) in conn.execute(f"SELECT key FROM blobs WHERE key IN ({marks})", list(keys))}  # noqa: S608
    for key, column in keys.items():
        if key not in found:
            raise BackupError(f"{table}.{column} names blob {key}, which the blob store lacks: backup not written")


def write_audit(engine: Engine, *, actor: str, action: str, summary: Summary) -> None:
    """One audit entry about a backup or a restore, in its own transaction (sealed at its commit)."""
    with engine.begin() as conn:
        insert_entries(conn, [entry(actor=actor, action=action, subject=f"backup:{summary.path.name}",
                                    source="cli" if actor.startswith("cli:") else None,
                                    data=summary.audit_data())])  # fmt: skip


def backup(engine: Engine, blob_dir: Path, path: Path, *, now: datetime | None = None,
           actor: str = "system:backup") -> Summary:  # fmt: skip
    """Write the archive to ``path`` (a new file), then audit it as ``actor``; see the module's docstring."""
    started = time.monotonic()
    path = Path(path)
    if path.exists():
        raise BackupError(f"{path} already exists: name a new file for the backup")
    if not path.parent.is_dir():
        raise BackupError(f"folder {path.parent} does not exist")
    work = Path(tempfile.mkdtemp(prefix=".buzon-backup-", dir=path.parent))
    try:
        tables: list[dict[str, Any]] = []
        members: dict[str, Path] = {}
        with snapshot(engine) as conn:
            if not sa.inspect(conn).has_table("alembic_version"):
                raise BackupError("the database is empty (no schema): nothing to back up")
            revision = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
            chain = chain_head(conn)
            (work / "tables").mkdir()
            for table in reflect(conn):
                columns = [[c.name, kind_of(c.type)] for c in table.columns]
                member = _Member(work / "tables" / f"{table.name}.jsonl.gz")
                member.add(row_line({"table": table.name, "columns": columns}), row=False)
                for line in read_rows(conn, table):
                    member.add(line)
                member.close()
                members[table.name] = member.path
                tables.append({"name": table.name, "member": f"tables/{table.name}.jsonl.gz", "columns": columns,
                               "rows": member.rows, "sha256": member.digest.hexdigest(),
                               "lines_sha256": member.lines.hexdigest()})  # fmt: skip
        blob_copy = work / BLOBS_MEMBER
        blobs = _copy_blobs(Path(blob_dir), blob_copy)  # after the snapshot: see the module's docstring
        _check_blob_references(members, blob_copy)
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "revision": revision,
            "dialect": engine.dialect.name,
            "taken_at": (now or datetime.now(UTC)).isoformat(),
            "tables": tables,
            "blobs": {"member": BLOBS_MEMBER, "count": blobs, "sha256": _sha256_file(blob_copy)},
        }
        partial = path.with_name(path.name + ".partial")
        with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:
            data = json.dumps(manifest, indent=1).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime = len(data), int(time.time())
            tar.addfile(info, io.BytesIO(data))
            for entry in tables:
                tar.add(work / entry["member"], arcname=entry["member"])
            tar.add(blob_copy, arcname=BLOBS_MEMBER)
        with partial.open("rb") as done:
            os.fsync(done.fileno())
        partial.rename(path)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows = {t["name"]: t["rows"] for t in tables}
    summary = Summary(path, revision, rows, blobs, path.stat().st_size, time.monotonic() - started, chain=chain)
    write_audit(engine, actor=actor, action="backup.created", summary=summary)
    return summary


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
