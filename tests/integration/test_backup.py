"""`buzon backup` and `buzon restore` (store/backup.py): a backup restored into an empty data folder holds every row
and every blob of its source (each row compared by its hash), on SQLite and PostgreSQL and from SQLite to
PostgreSQL; a backup taken while intake files documents restores to one consistent moment; a damaged archive, a
non-empty target and a bad path are refused with one clear line. A backup is audited in its source
(``backup.created``) and a restore in its target (``backup.restored``, written after the rows were compared); the
row-for-row comparison leaves out exactly those two entries."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import itertools
import json
import os
import subprocess
import sys
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from inbox.intake import Envelope, Intake, IntakePolicy
from store.audit import seal, verify
from store.backup import BackupError, TargetError, backup, blob_columns, read_rows, reflect, snapshot
from store.blobs import BlobStore
from store.db import make_engine
from store.models import Supplier
from store.restore import restore
from tests.integration.inbox_fixtures import NOW, PDF, event_xml, mail, signed, signed_pair, zip_bytes
from tests.services import fresh_postgres_database, migrated_database

pytestmark = pytest.mark.integration
_uids = itertools.count(1)


def intake_on(engine: sa.Engine, blobs: Path) -> Intake:
    s_ = signed()
    policy = IntakePolicy(our_nit=s_.company_nit, trust=s_.trust)
    return Intake(sessionmaker(engine, expire_on_commit=False), BlobStore(blobs), policy, clock=lambda: NOW)


def envelope(data: bytes) -> Envelope:
    return Envelope(mailbox="backup", data=data, uidvalidity=7, uid=next(_uids))


def supplier_mail() -> list[Envelope]:
    """A note and the supplier's 034 before their invoice (so the note names a document with a larger id), the
    invoice with its PDF, and a mail with nothing inside (quarantined)."""
    s_ = signed()
    datas = [
        mail(("nc.zip", zip_bytes(("nc.xml", s_.note.attached)))),
        mail(("ar.xml", event_xml(s_)), subject="Evento;PLA42;034"),
        mail(("ad.xml", s_.invoice.attached), ("fv.pdf", PDF)),
        mail(),
    ]
    return [envelope(d) for d in datas]


def more_invoices(count: int, first: int) -> list[Envelope]:
    """``count`` mails, each an invoice and its credit note (other numbers, so other CUFEs)."""
    pki = signed().pki
    out = []
    for n in range(first, first + count):
        pair = signed_pair(pki, invoice_number=n, note_number=10_000 + n)
        out.append(envelope(mail(("ad.xml", pair.invoice.attached), ("nc.xml", pair.note.attached))))
    return out


@contextlib.contextmanager
def empty_database(kind: str, folder: Path) -> Iterator[sa.Engine]:
    """A database with nothing in it, not even a schema: a new SQLite file, or a new PostgreSQL database."""
    if kind == "sqlite":
        url_cm: contextlib.AbstractContextManager[str] = contextlib.nullcontext(f"sqlite:///{folder / 'buzon.sqlite3'}")
    else:
        url_cm = fresh_postgres_database()
    with url_cm as url:
        engine = make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


def row_hashes(engine: sa.Engine, *, leave_out: int | None = None) -> dict[str, list[str]]:
    """Every table's rows, each as the SHA-256 of its canonical line, in primary-key order; without the audit entry
    whose id is ``leave_out``."""
    hashes: dict[str, list[str]] = {}
    with snapshot(engine) as conn:
        for t in reflect(conn):
            lines = read_rows(conn, t)
            if t.name == "audit_entries" and leave_out is not None:
                at = [c.name for c in t.columns].index("id")
                lines = (line for line in lines if json.loads(line)[at] != leave_out)
            hashes[t.name] = [hashlib.sha256(line).hexdigest() for line in lines]
    return hashes


def audit_of(engine: sa.Engine, action: str) -> list[sa.Row]:
    """The audit entries with ``action`` (id, actor, data)."""
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT id, actor, data FROM audit_entries WHERE action = :a ORDER BY id"),
                            {"a": action}).all()  # fmt: skip


def only_entry(engine: sa.Engine, action: str) -> sa.Row:
    """The one entry ``action`` wrote, as the newest entry of the log."""
    found = audit_of(engine, action)
    assert len(found) == 1, f"{len(found)} {action} entries"
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT max(id) FROM audit_entries")).scalar() == found[0].id
    return found[0]


def conn_count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608 - a test's own name


def blob_keys(engine: sa.Engine) -> set[str]:
    """Every blob key a row names."""
    keys: set[str] = set()
    with engine.connect() as conn:
        for table in reflect(conn):
            for column in blob_columns(table):
                keys |= {k for k in conn.execute(sa.select(table.columns[column])).scalars() if k}
    return keys


def assert_same(source: sa.Engine, source_blobs: Path, target: sa.Engine, target_blobs: Path) -> None:
    """The restore holds every row of the source, each with the same hash, and every blob byte for byte — all but
    the source's ``backup.created`` and the target's ``backup.restored`` (each the newest entry of its log)."""
    created, restored = only_entry(source, "backup.created"), only_entry(target, "backup.restored")
    before, after = row_hashes(source, leave_out=created.id), row_hashes(target, leave_out=restored.id)
    assert len(after["audit_entries"]) == conn_count(target, "audit_entries") - 1
    assert before.keys() == after.keys()
    for table, rows in before.items():
        assert after[table] == rows, f"{table}: rows differ after the restore"
    for table in ("received_documents", "document_events", "audit_entries", "mail_messages", "document_totals"):
        assert before[table], f"the source has no {table}: the comparison would prove nothing"
    keys = blob_keys(source)
    assert len(keys) >= 6
    old, new = BlobStore(source_blobs), BlobStore(target_blobs)
    for key in keys:
        assert new.get(key) == old.get(key)


@pytest.mark.parametrize(("source_kind", "target_kind"),
                         [("sqlite", "sqlite"), ("postgresql", "postgresql"), ("sqlite", "postgresql")])  # fmt: skip
def test_a_restore_into_an_empty_data_folder_holds_every_row_and_blob(source_kind, target_kind, tmp_path):
    src_blobs, dst_blobs, archive = tmp_path / "src" / "blobs", tmp_path / "dst" / "blobs", tmp_path / "b.tar"
    (tmp_path / "dst").mkdir()
    with migrated_database(source_kind, tmp_path) as source:
        intake = intake_on(source, src_blobs)
        intake.take_many(supplier_mail())
        intake.take_many(more_invoices(3, first=100))
        seal(source)  # the audit log's hash chain (store/audit_chain.py) over every entry so far
        with source.connect() as conn:
            chain = verify(conn)
        assert chain.ok and chain.count >= 8 and chain.unsealed == 0
        written = backup(source, src_blobs, archive)
        assert written.rows["received_documents"] == 8 and written.blobs >= 6
        with empty_database(target_kind, tmp_path / "dst") as target:
            restored = restore(target, dst_blobs, archive)
            assert restored.rows == written.rows
            assert_same(source, src_blobs, target, dst_blobs)
            with target.connect() as conn:  # the restored chain verifies through the source's head, then the restore's
                restored_chain = verify(conn, expect=chain.head)
            assert restored_chain.ok and restored_chain.unsealed == 0 and restored_chain.count == chain.count + 1
            assert restored_chain.head[0] == chain.head[0] + 1
            made, put = only_entry(source, "backup.created"), only_entry(target, "backup.restored")
            for entry in (made, put):
                data = entry.data if isinstance(entry.data, dict) else json.loads(entry.data)
                assert data["rows"] == sum(written.rows.values()) and data["blobs"] == written.blobs
                assert [data["audit_chain_position"], data["audit_chain_hash"]] == list(chain.head)
                assert entry.actor == "system:" + ("backup" if entry is made else "restore")
            with target.connect() as conn:  # the note came before its invoice: its reference was set afterwards
                refs = conn.execute(sa.text("SELECT id, referenced_document_id FROM received_documents "
                                            "WHERE referenced_document_id IS NOT NULL")).all()  # fmt: skip
            assert any(ref > id_ for id_, ref in refs)
            # The restored install goes on: new mail is filed under new ids (PostgreSQL's sequences were set).
            results = intake_on(target, dst_blobs).take_many(more_invoices(1, first=200))
            assert [len(r.filed) for r in results] == [2]
            with target.connect() as conn:
                count = conn.execute(sa.text("SELECT count(*) FROM received_documents")).scalar()
                totals = conn.execute(sa.text("SELECT sum(documents) FROM document_totals")).scalar()
            assert count == 10 and totals == 10  # the totals triggers count the new ones once, the restored ones once
            with pytest.raises(BackupError, match="not empty"):
                restore(target, tmp_path / "other-blobs", archive)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_backup_taken_while_intake_files_documents_restores_to_one_moment(kind, tmp_path):
    src_blobs = tmp_path / "src" / "blobs"
    waiting = more_invoices(12, first=300)
    with migrated_database(kind, tmp_path) as source:
        intake_on(source, src_blobs).take_many(supplier_mail())
        done = threading.Event()
        failures: list[BaseException] = []

        def write() -> None:
            try:
                writer = intake_on(source, src_blobs)
                for one in waiting:
                    writer.take(one)
            except BaseException as exc:  # the test reports it
                failures.append(exc)
            finally:
                done.set()

        thread = threading.Thread(target=write)
        thread.start()
        archives = []
        while not done.is_set() or not archives:
            archive = tmp_path / f"b{len(archives)}.tar"
            backup(source, src_blobs, archive)
            archives.append(archive)
        thread.join()
        assert not failures
        with source.connect() as conn:
            final = conn.execute(sa.text("SELECT count(*) FROM received_documents")).scalar()
    assert final == 2 + 24
    seen = set()
    for n, archive in enumerate(archives):
        folder = tmp_path / f"r{n}"
        folder.mkdir()
        with empty_database("sqlite", folder) as target:
            restore(target, folder / "blobs", archive)
            with target.connect() as conn:
                count = conn.execute(sa.text("SELECT count(*) FROM received_documents")).scalar()
                totals = conn.execute(sa.text("SELECT sum(documents) FROM document_totals")).scalar()
                filed = conn.execute(sa.text("SELECT count(*) FROM mail_messages WHERE status = 'filed'")).scalar()
                pairs = conn.execute(sa.text(
                    "SELECT count(*) FROM mail_messages m WHERE m.status = 'filed' AND "
                    "(SELECT count(*) FROM received_documents d WHERE d.mail_message_id = m.id) = 2"
                )).scalar()  # fmt: skip
                orphans = conn.execute(sa.text(
                    "SELECT count(*) FROM received_documents d JOIN mail_messages m ON m.id = d.mail_message_id "
                    "WHERE m.status <> 'filed'"
                )).scalar()  # fmt: skip
                audit = conn.execute(sa.text("SELECT count(*) FROM audit_entries "
                                             "WHERE action = 'document.filed'")).scalar()  # fmt: skip
            # One moment: the archived totals (kept by triggers) match the archived documents, every filed mail of
            # the writer has its two documents and no document's mail is still pending, every document has its
            # audit entry; no row names a missing blob.
            assert totals == count and 2 <= count <= final
            assert count == 2 + 2 * pairs and filed == 3 + pairs and orphans == 0  # first batch: 3 filed, 2 documents
            assert audit == count
            store = BlobStore(folder / "blobs")
            assert all(store.exists(k) for k in blob_keys(target))
            seal(target)  # entries unsealed at the snapshot are sealed after the restored ones: the chain holds
            with target.connect() as conn:
                chain = verify(conn)
            assert chain.ok and chain.unsealed == 0 and chain.count == conn_count(target, "audit_entries")
            seen.add(count)
    print(f"{len(archives)} backups while filing, documents in them: {sorted(seen)}")


def test_a_damaged_archive_and_a_bad_path_are_refused(tmp_path):
    src_blobs = tmp_path / "blobs"
    with migrated_database("sqlite", tmp_path) as source:
        intake_on(source, src_blobs).take_many(supplier_mail())
        archive = tmp_path / "b.tar"
        backup(source, src_blobs, archive)
        with pytest.raises(BackupError, match="already exists"):
            backup(source, src_blobs, archive)
        with pytest.raises(BackupError, match="does not exist"):
            backup(source, src_blobs, tmp_path / "nowhere" / "b.tar")
    with tarfile.open(archive) as tar:
        member = tar.getmember("tables/received_documents.jsonl.gz")
    damaged = tmp_path / "damaged.tar"
    data = bytearray(archive.read_bytes())
    data[member.offset_data + member.size // 2] ^= 0x01  # one bit of one row's bytes
    damaged.write_bytes(bytes(data))
    not_tar = tmp_path / "notes.txt"
    not_tar.write_text("hola")
    for path, message in ((damaged, "received_documents.jsonl.gz does not match its SHA-256"),
                          (not_tar, "not a Buzón backup"), (tmp_path / "missing.tar", "is not a file")):  # fmt: skip
        folder = tmp_path / f"t-{path.stem}"
        folder.mkdir()
        with empty_database("sqlite", folder) as target:
            with pytest.raises(BackupError, match=message):
                restore(target, folder / "blobs", path)
            with target.connect() as conn:  # nothing was written
                assert not sa.inspect(conn).get_table_names()
        assert not (folder / "blobs").exists()


def test_the_commands_back_up_restore_and_refuse_a_full_target(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    buzon = [sys.executable, "-m", "buzon.cli"]
    source, target = tmp_path / "source", tmp_path / "target"
    for folder in (source, target):
        folder.mkdir()
        (folder / "buzon.toml").write_text(f'data_dir = "{folder / "var"}"\n')
    subprocess.run([*buzon, "init"], cwd=source, env=env, check=True, capture_output=True)
    engine = make_engine(f"sqlite:///{source / 'var' / 'buzon.sqlite3'}")
    try:
        intake_on(engine, source / "var" / "blobs").take_many(supplier_mail())
    finally:
        engine.dispose()
    before = subprocess.run([*buzon, "audit", "verify"], cwd=source, env=env, capture_output=True, text=True)
    assert before.returncode == 0 and before.stdout.startswith("audit chain verified: "), before.stderr
    head = before.stdout.rsplit("head ", 1)[1].strip()
    archive = tmp_path / "copia.tar"
    made = subprocess.run([*buzon, "backup", str(archive)], cwd=source, env=env, capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith(f"backup written to {archive}: ") and " 3 rows" not in made.stdout
    put = subprocess.run([*buzon, "restore", str(archive)], cwd=target, env=env, capture_output=True, text=True)
    assert put.returncode == 0, put.stderr
    assert put.stdout.startswith(f"restored {archive}: ")
    chain = subprocess.run([*buzon, "audit", "verify", "--expect", head], cwd=target, env=env, capture_output=True,
                           text=True)  # fmt: skip
    # The same entries through the same head, then the restore's own entry sealed after them.
    count = int(before.stdout.split(": ", 1)[1].split(" entries")[0])
    assert chain.returncode == 0 and chain.stdout.startswith(f"audit chain verified: {count + 1} entries, head "), (
        chain.stdout + chain.stderr)
    for folder, action in ((source, "backup.created"), (target, "backup.restored")):
        engine = make_engine(f"sqlite:///{folder / 'var' / 'buzon.sqlite3'}")
        try:
            assert only_entry(engine, action).actor.startswith("cli:")
        finally:
            engine.dispose()
    mine = subprocess.run([*buzon, "audit", "verify"], cwd=source, env=env, capture_output=True, text=True)
    assert mine.returncode == 0 and f": {count + 1} entries" in mine.stdout  # the source's chain holds its entry too
    again = subprocess.run([*buzon, "restore", str(archive)], cwd=target, env=env, capture_output=True, text=True)
    assert again.returncode == 2
    assert again.stderr.startswith("error: the database is not empty (table ") and "Traceback" not in again.stderr
    left = subprocess.run([*buzon, "backup", str(archive)], cwd=source, env=env, capture_output=True, text=True)
    assert left.returncode == 1 and f"error: {archive} already exists" in left.stderr


def with_a_duplicated_row(archive: Path, damaged: Path, table: str) -> None:
    """A copy of the archive whose ``table`` holds its first row twice, with sums and counts made to match: an
    archive that passes every check and still cannot be inserted."""
    with tarfile.open(archive) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]
    lines = gzip.decompress(members[f"tables/{table}.jsonl.gz"]).splitlines(keepends=True)
    lines.insert(2, lines[1])
    packed = gzip.compress(b"".join(lines), mtime=0)
    members[f"tables/{table}.jsonl.gz"] = packed
    manifest = json.loads(members["manifest.json"])
    entry = next(t for t in manifest["tables"] if t["name"] == table)
    entry.update(rows=entry["rows"] + 1, sha256=hashlib.sha256(packed).hexdigest())
    members["manifest.json"] = json.dumps(manifest).encode()
    with tarfile.open(damaged, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_rows_that_cannot_be_inserted_leave_the_target_empty_for_another_try(kind, tmp_path):
    src_blobs, dst_blobs = tmp_path / "src" / "blobs", tmp_path / "dst" / "blobs"
    (tmp_path / "dst").mkdir()
    with migrated_database("sqlite", tmp_path) as source:
        intake_on(source, src_blobs).take_many(supplier_mail())
        archive = tmp_path / "b.tar"
        backup(source, src_blobs, archive)
    damaged = tmp_path / "duplicated.tar"
    with_a_duplicated_row(archive, damaged, "received_documents")
    with empty_database(kind, tmp_path / "dst") as target:
        with pytest.raises(BackupError, match="table received_documents: its rows could not be inserted"):
            restore(target, dst_blobs, damaged)
        with target.connect() as conn:  # migrated, and not one row left behind; nor a blob
            assert all(conn_count(target, t.name) == 0 for t in reflect(conn))
        blobs = BlobStore(dst_blobs)
        assert not blobs._conn().execute("SELECT 1 FROM blobs").fetchone()
        blobs.close()
        assert restore(target, dst_blobs, archive).rows["received_documents"] == 2  # the good archive, at once


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_target_with_foreign_tables_or_rows_is_refused_in_one_line(kind, tmp_path):
    """Tables without Alembic's version (a schema made by hand, or half-made) and a migrated database with rows are
    named in one line, exit 2, before anything is written — not a migration's traceback."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    buzon = [sys.executable, "-m", "buzon.cli"]
    src_blobs = tmp_path / "src" / "blobs"
    with migrated_database("sqlite", tmp_path) as source:
        intake_on(source, src_blobs).take_many(supplier_mail())
        archive = tmp_path / "b.tar"
        backup(source, src_blobs, archive)
    folder = tmp_path / "target"
    folder.mkdir()
    with empty_database(kind, folder) as target:
        with target.begin() as conn:
            conn.execute(sa.text("CREATE TABLE received_documents (id INTEGER PRIMARY KEY, cufe TEXT)"))
        url = target.url.render_as_string(hide_password=False)
        (folder / "buzon.toml").write_text(f'data_dir = "{folder / "var"}"\n[database]\nurl = "{url}"\n')
        with pytest.raises(TargetError, match=r"has tables \(received_documents\) but no Alembic version"):
            restore(target, folder / "var" / "blobs", archive)
        put = subprocess.run([*buzon, "restore", str(archive)], cwd=folder, env=env, capture_output=True, text=True)
        assert put.returncode == 2, put.stderr
        assert put.stderr.startswith("error: the database has tables (received_documents) but no Alembic version")
        assert len(put.stderr.strip().splitlines()) == 1 and "Traceback" not in put.stderr
        with target.connect() as conn:  # nothing was written: the one table, empty; no blob
            assert sa.inspect(conn).get_table_names() == ["received_documents"]
        assert not (folder / "var" / "blobs" / "blobs.sqlite3").exists() or not BlobStore(
            folder / "var" / "blobs")._conn().execute("SELECT 1 FROM blobs").fetchone()
        with target.begin() as conn:
            conn.execute(sa.text("DROP TABLE received_documents"))
        from store.db import migrate

        migrate(target, written_revision(archive))  # a version and, below, a row
        with sessionmaker(target).begin() as session:
            session.add(Supplier(nit="900123456", name="Ajeno"))
        put = subprocess.run([*buzon, "restore", str(archive)], cwd=folder, env=env, capture_output=True, text=True)
        assert put.returncode == 2 and "Traceback" not in put.stderr, put.stderr
        assert put.stderr.startswith("error: the database is not empty (table suppliers has rows)")
        assert len(put.stderr.strip().splitlines()) == 1
        assert conn_count(target, "suppliers") == 1 and conn_count(target, "audit_entries") == 0


def written_revision(archive: Path) -> str:
    with tarfile.open(archive) as tar:
        return json.loads(tar.extractfile("manifest.json").read())["revision"]  # type: ignore[union-attr]
