"""Restore of a backup (store/backup.py writes it) into an empty database and an empty blob folder.

Anything else is refused. The archive's members are checked against their SHA-256 first, the blobs are put in
place, the database is migrated to the archive's revision, the rows are inserted in foreign-key order in one
transaction (a reference to a row not yet inserted — a note's invoice with a larger id — is set afterwards), the
monthly totals that migration 0009's triggers keep (``DERIVED_BY_TRIGGERS``) are replaced by the archive's own rows
after the documents' triggers filled them, the PostgreSQL sequences are set past the largest id, and the row counts
are compared with the manifest. Audit entries are only inserted, with their hash-chain columns as sealed (migration
0014), which the append-only triggers allow: the restored chain verifies up to the source's head, and the entries
that were not sealed yet are sealed after it by the next seal. When the rows cannot be inserted, the blobs put in
place are removed again, so the data folder stays empty for another try. Once the rows are in and counted (and the
schema upgraded), the target's audit log gets ``backup.restored``, sealed after the restored chain.

A target that is not an empty Buzón database — rows in a table, tables without Alembic's version, another revision —
or that cannot be migrated is refused with one ``TargetError`` naming the problem (the checks run before anything
is written).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine

from store.audit_chain import chain_head
from store.backup import (
    BATCH,
    CHUNK,
    DERIVED_BY_TRIGGERS,
    FORMAT,
    MANIFEST,
    VERSION,
    BackupError,
    Summary,
    TargetError,
    decode,
    reflect,
    write_audit,
)
from store.blobs import FILENAME as BLOB_FILE
from store.blobs import BlobStore


def read_manifest(tar: tarfile.TarFile, path: Path) -> dict[str, Any]:
    """The archive's manifest, checked for format and version."""
    try:
        manifest = json.loads(_member(tar, MANIFEST).read())
    except (KeyError, ValueError) as exc:
        raise BackupError(f"{path} is not a Buzón backup (no readable {MANIFEST})") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not a Buzón backup (format {manifest.get('format')!r})")
    if manifest.get("version") != VERSION:
        raise BackupError(f"{path} is a backup of format version {manifest.get('version')}; this Buzón reads "
                          f"version {VERSION}")  # fmt: skip
    return manifest


def _member(tar: tarfile.TarFile, name: str) -> Any:
    found = tar.extractfile(name)
    if found is None:
        raise KeyError(name)
    return found


def verify_archive(tar: tarfile.TarFile, manifest: dict[str, Any], path: Path) -> None:
    """Every member is there and hashes to the manifest's SHA-256."""
    expected = {t["member"]: t["sha256"] for t in manifest["tables"]}
    expected[manifest["blobs"]["member"]] = manifest["blobs"]["sha256"]
    for name, sha in expected.items():
        digest = hashlib.sha256()
        try:
            stream = _member(tar, name)
        except KeyError as exc:
            raise BackupError(f"{path} lacks {name}: the archive is incomplete") from exc
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
        if digest.hexdigest() != sha:
            raise BackupError(f"{path}: {name} does not match its SHA-256 in the manifest (the archive is damaged)")


def require_empty(engine: Engine, blob_dir: Path) -> None:
    """Refuse a target that holds anything: a row in any table, or a blob."""
    with engine.connect() as conn:
        for table in reflect(conn):
            if conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first() is not None:
                raise TargetError(f"the database is not empty (table {table.name} has rows): restore only into an "
                                  "empty database")  # fmt: skip
    blob_file = Path(blob_dir) / BLOB_FILE
    if blob_file.exists() and _has_blobs(blob_file):
        raise TargetError(f"the blob folder {blob_dir} is not empty: restore only into an empty data folder")
    if any(p.is_dir() and len(p.name) == 2 for p in Path(blob_dir).glob("??")):
        raise TargetError(f"the blob folder {blob_dir} holds blob files: restore only into an empty data folder")


def _has_blobs(blob_file: Path) -> bool:
    conn = sqlite3.connect(blob_file)
    try:
        return conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'blobs'").fetchone() is not None and (
            conn.execute("SELECT 1 FROM blobs LIMIT 1").fetchone() is not None
        )
    finally:
        conn.close()


def _restore_blobs(tar: tarfile.TarFile, member: str, blob_dir: Path) -> None:
    store = BlobStore(blob_dir)
    conn = store._conn()  # creates the store's file as the application does (WAL, schema)
    fd, name = tempfile.mkstemp(prefix=".restore-", dir=blob_dir)
    try:
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(_member(tar, member), out, CHUNK)
        conn.execute("ATTACH DATABASE ? AS archived", (name,))
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT OR IGNORE INTO blobs (key, size, data) SELECT key, size, data FROM archived.blobs")
            conn.execute("COMMIT")
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            conn.execute("DETACH DATABASE archived")
    finally:
        store.close()
        Path(name).unlink(missing_ok=True)


def _insert_table(conn: Connection, table: sa.Table, stream: Any) -> list[tuple[Any, ...]]:
    """Insert one member's rows; the references to rows not yet inserted, to set afterwards."""
    dialect = conn.dialect.name
    header = json.loads(stream.readline())
    names = [c[0] for c in header["columns"]]
    kinds = [c[1] for c in header["columns"]]
    missing = [n for n in names if n not in table.columns]
    if missing:
        raise BackupError(f"table {table.name} has no column {missing[0]} after migrating: the archive does not "
                          "match its revision")  # fmt: skip
    columns = [_insert_column(table.columns[n]) for n in names]
    target = sa.Table(table.name, sa.MetaData(), *columns)
    pk = [c.name for c in table.primary_key.columns]
    later = {fk.parent.name for fk in table.foreign_keys if fk.column.table is table}
    deferred: list[tuple[Any, ...]] = []
    batch: list[dict[str, Any]] = []
    for line in stream:
        row = {n: decode(k, v, dialect) for n, k, v in zip(names, kinds, json.loads(line), strict=True)}
        for name in later:
            if row[name] is not None and (len(pk) != 1 or row[name] >= row[pk[0]]):
                deferred.append((tuple(row[p] for p in pk), name, row[name]))
                row[name] = None
        batch.append(row)
        if len(batch) >= BATCH:
            conn.execute(target.insert(), batch)
            batch = []
    if batch:
        conn.execute(target.insert(), batch)
    return [(table, pk, *d) for d in deferred]


def _insert_column(column: sa.Column[Any]) -> sa.Column[Any]:
    """The column to insert through: JSON columns write Python None as SQL NULL, as the source held it."""
    column_type = column.type
    if isinstance(column_type, sa.JSON):
        column_type = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
    return sa.Column(column.name, column_type, primary_key=column.primary_key)


def _reset_sequences(conn: Connection, tables: list[sa.Table]) -> None:
    for table in tables:
        for column in table.columns:
            if not isinstance(column.type, sa.Integer):
                continue
            sequence = conn.execute(sa.text("SELECT pg_get_serial_sequence(:t, :c)"),
                                    {"t": table.name, "c": column.name}).scalar()  # fmt: skip
            if sequence:
                largest = sa.func.max(column)
                conn.execute(sa.select(sa.func.setval(sequence, sa.func.coalesce(largest, 1), largest.is_not(None))))


def require_buzon_schema(engine: Engine, at: str | None) -> None:
    """Refuse tables that Alembic's version does not account for (a schema made by hand, or half-made)."""
    if at is not None:
        return
    with engine.connect() as conn:
        names = sorted(t.name for t in reflect(conn))
    if names:
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        raise TargetError(f"the database has tables ({shown}) but no Alembic version: it was not made by Buzón or "
                          "was left half-made; restore into a new, empty database")  # fmt: skip


def _migrate(engine: Engine, revision: str | None = None) -> None:
    from store.db import migrate  # Alembic only when restoring

    try:
        migrate(engine, revision or "head")
    except sa.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise TargetError(f"the database could not be migrated to revision {revision or 'head'} ({reason}); "
                          "restore into a new, empty database") from exc  # fmt: skip


def restore(engine: Engine, blob_dir: Path, path: Path, *, actor: str = "system:restore") -> Summary:
    """Put the archive at ``path`` back into an empty database and blob folder, then audit it as ``actor``; see the
    module's docstring."""
    from store.db import current_revision, head_revision  # Alembic only when restoring

    started = time.monotonic()
    path, blob_dir = Path(path), Path(blob_dir)
    if not path.is_file():
        raise BackupError(f"{path} is not a file")
    try:
        tar = tarfile.open(path, "r:")  # noqa: SIM115 - closed by the with below
    except tarfile.TarError as exc:
        raise BackupError(f"{path} is not a Buzón backup (not a tar archive)") from exc
    with tar:
        manifest = read_manifest(tar, path)
        verify_archive(tar, manifest, path)
        revision = manifest["revision"]
        at = current_revision(engine)
        if at is not None and at != revision:
            raise TargetError(f"the database is at revision {at} and the backup at {revision}: restore into a new, "
                              "empty database")  # fmt: skip
        require_buzon_schema(engine, at)
        require_empty(engine, blob_dir)
        _restore_blobs(tar, manifest["blobs"]["member"], blob_dir)  # blobs before the rows that name them
        try:
            _migrate(engine, revision)
            rows = _restore_rows(engine, tar, manifest)
        except BaseException:
            _empty_blobs(blob_dir)  # the folder was empty: leave it so, and the restore can be tried again
            raise
        notes = []
        head = head_revision()
        if revision != head:
            _migrate(engine)
            notes.append(f"upgraded from revision {revision} to {head}")
    with engine.connect() as conn:
        chain = chain_head(conn)  # the source's sealed head, as the archive held it
    summary = Summary(path, revision, rows, manifest["blobs"]["count"], path.stat().st_size,
                      time.monotonic() - started, notes, chain)  # fmt: skip
    write_audit(engine, actor=actor, action="backup.restored", summary=summary)  # after the rows were compared
    return summary


def _empty_blobs(blob_dir: Path) -> None:
    store = BlobStore(blob_dir)
    try:
        store._conn().execute("DELETE FROM blobs")
    finally:
        store.close()


def _restore_rows(engine: Engine, tar: tarfile.TarFile, manifest: dict[str, Any]) -> dict[str, int]:
    """Insert every table's rows in one transaction and compare the counts with the manifest."""
    revision = manifest["revision"]
    rows: dict[str, int] = {}
    with engine.begin() as conn:
        live = {t.name: t for t in reflect(conn)}
        unknown = [t["name"] for t in manifest["tables"] if t["name"] not in live]
        if unknown:
            raise BackupError(f"revision {revision} has no table {unknown[0]}: the archive does not match it")
        entries = sorted(manifest["tables"], key=lambda t: t["name"] in DERIVED_BY_TRIGGERS)
        deferred: list[tuple[Any, ...]] = []
        for entry in entries:
            table = live[entry["name"]]
            if table.name in DERIVED_BY_TRIGGERS:  # the documents' triggers filled it: the archive's rows win
                conn.execute(table.delete())
            with gzip.open(_member(tar, entry["member"]), "rb") as stream:
                try:
                    deferred += _insert_table(conn, table, stream)
                except sa.exc.DBAPIError as exc:  # an archive whose sums hold but whose rows do not fit
                    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else exc.__class__.__name__
                    raise BackupError(f"table {table.name}: its rows could not be inserted ({reason}); nothing "
                                      "was restored") from exc  # fmt: skip
        for table, pk, key, name, value in deferred:
            where = [table.columns[p] == v for p, v in zip(pk, key, strict=True)]
            conn.execute(table.update().where(*where).values({name: value}))
        if conn.dialect.name == "postgresql":
            _reset_sequences(conn, list(live.values()))
        for entry in manifest["tables"]:
            count = conn.execute(sa.select(sa.func.count()).select_from(live[entry["name"]])).scalar_one()
            if count != entry["rows"]:
                raise BackupError(f"table {entry['name']}: {count} rows restored, the backup has {entry['rows']}")
            rows[entry["name"]] = count
    return rows
