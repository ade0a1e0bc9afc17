"""The content-addressed blob store."""

from __future__ import annotations

import hashlib
import sqlite3
import threading

import pytest

from store.blobs import FILENAME, BlobError, BlobStore


def _rows(root) -> list[tuple[str, int]]:
    with sqlite3.connect(root / FILENAME) as conn:
        return conn.execute("SELECT key, size FROM blobs ORDER BY key").fetchall()


def test_put_returns_sha256_and_get_returns_the_bytes(tmp_path):
    store = BlobStore(tmp_path)
    data = b"<Invoice/>" * 100
    key = store.put(data)
    assert key == hashlib.sha256(data).hexdigest()
    assert store.get(key) == data
    assert store.exists(key)
    assert _rows(tmp_path) == [(key, len(data))]


def test_put_is_idempotent(tmp_path):
    store = BlobStore(tmp_path)
    assert store.put(b"same") == store.put(b"same")
    assert len(_rows(tmp_path)) == 1


def test_a_blob_is_committed_when_put_returns(tmp_path):
    store = BlobStore(tmp_path)
    key = store.put(b"committed")
    # Another connection (another process, say) sees it at once: nothing is left in an open transaction.
    assert BlobStore(tmp_path).get(key) == b"committed"
    with sqlite3.connect(tmp_path / FILENAME) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_corruption_is_detected(tmp_path):
    store = BlobStore(tmp_path)
    key = store.put(b"original bytes")
    with sqlite3.connect(tmp_path / FILENAME) as conn:
        conn.execute("UPDATE blobs SET data = ? WHERE key = ?", (b"tampered bytes", key))
    with pytest.raises(BlobError, match="corrupt"):
        store.get(key)


def test_missing_and_malformed_keys(tmp_path):
    store = BlobStore(tmp_path)
    with pytest.raises(BlobError, match="missing"):
        store.get("0" * 64)
    with pytest.raises(BlobError, match="not a SHA-256"):
        store.get("../../etc/passwd")
    with pytest.raises(BlobError, match="not a SHA-256"):
        store.exists("' OR 1=1 --")
    assert not store.exists("f" * 64)


def test_put_many_stores_each_blob_once_and_returns_the_keys_in_order(tmp_path):
    store = BlobStore(tmp_path)
    first = store.put(b"already there")
    items = [b"one", b"two", b"one", b"already there"]
    keys = store.put_many(items)
    assert keys == [hashlib.sha256(d).hexdigest() for d in items]
    assert keys[3] == first
    assert [store.get(k) for k in keys] == items
    assert len(_rows(tmp_path)) == 3


def test_put_keyed_stores_blobs_under_the_keys_already_computed(tmp_path):
    store = BlobStore(tmp_path)
    items = {BlobStore.key_of(d): d for d in (b"<Invoice/>", b"%PDF-1.4")}
    store.put_keyed(items)
    assert {k: store.get(k) for k in items} == items
    assert BlobStore(tmp_path).exists(next(iter(items)))  # committed: another connection sees it
    with pytest.raises(BlobError, match="not a SHA-256"):
        store.put_keyed({"../x": b"y"})
    # A key that is not the bytes' hash (a caller's bug) is stored, and refused as corrupt when read.
    wrong = BlobStore.key_of(b"other")
    store.put_keyed({wrong: b"not other"})
    with pytest.raises(BlobError, match="corrupt"):
        store.get(wrong)


def test_a_failed_batch_leaves_nothing(tmp_path):
    store = BlobStore(tmp_path)

    class Unreadable:
        def __bytes__(self):
            raise OSError("read error")

    def items():
        yield b"x"
        yield Unreadable()

    with pytest.raises(OSError, match="read error"):
        store.put_many(items())
    assert not store.exists(hashlib.sha256(b"x").hexdigest())
    # A failure inside the transaction (a trigger refusing the second row) rolls back the first too.
    conn = store._conn()
    conn.execute(
        "CREATE TRIGGER refuse_y BEFORE INSERT ON blobs WHEN NEW.data = X'79' BEGIN SELECT RAISE(ABORT, 'no'); END"
    )
    with pytest.raises(sqlite3.IntegrityError):
        store.put_many([b"x", b"y"])
    assert _rows(tmp_path) == []
    assert not conn.in_transaction


def test_each_thread_uses_its_own_connection(tmp_path):
    store = BlobStore(tmp_path)
    keys: list[str] = []
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(20):
                keys.append(store.put(f"{n}-{i}".encode()))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(keys)) == 80
    assert len(_rows(tmp_path)) == 80


def test_a_store_created_while_another_process_holds_its_file_waits_for_it(tmp_path):
    # Another process (here: another connection) holds the new file locked while this store sets it up; the store
    # waits for it instead of failing with "database is locked".
    other = sqlite3.connect(tmp_path / "blobs.sqlite3", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    other.execute("CREATE TABLE held (x)")
    store = BlobStore(tmp_path)
    outcome: list[object] = []
    thread = threading.Thread(target=lambda: outcome.append(_put_or_error(store, b"after the lock")))
    thread.start()
    thread.join(0.3)
    assert thread.is_alive(), "the store did not wait for the lock"
    other.execute("COMMIT")
    other.close()
    thread.join(10)
    assert outcome == [hashlib.sha256(b"after the lock").hexdigest()]
    assert store.get(outcome[0]) == b"after the lock"


class _SwitchRefusedTwice:
    """A connection on which switching to WAL is refused twice, as SQLite does while another one is switching."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.refused = 0

    def execute(self, sql: str, *args):
        if sql == "PRAGMA journal_mode=WAL" and self.refused < 2:
            self.refused += 1
            raise sqlite3.OperationalError("database is locked")
        return self.conn.execute(sql, *args)


def test_opening_a_new_sqlite_file_retries_while_another_connection_switches_it_to_wal(tmp_path):
    from store.sqlite import use_wal

    conn = _SwitchRefusedTwice(sqlite3.connect(tmp_path / "blobs.sqlite3", isolation_level=None))
    use_wal(conn)
    assert conn.refused == 2
    assert conn.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def _put_or_error(store: BlobStore, data: bytes) -> object:
    try:
        return store.put(data)
    except Exception as exc:  # reported through the assertion on the outcome
        return exc
    finally:
        store.close()


def test_blobs_of_the_older_file_layout_are_still_read(tmp_path):
    store = BlobStore(tmp_path)
    data = b"written as a file by an earlier release"
    key = hashlib.sha256(data).hexdigest()
    legacy = tmp_path / key[:2] / key[2:4] / key
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(data)
    assert store.exists(key)
    assert store.get(key) == data
    legacy.write_bytes(b"tampered")
    with pytest.raises(BlobError, match="corrupt"):
        store.get(key)
