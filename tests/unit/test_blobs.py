"""The content-addressed blob store."""

from __future__ import annotations

import hashlib
import os
import stat

import pytest

from store.blobs import BlobError, BlobStore


def test_put_returns_sha256_and_get_returns_the_bytes(tmp_path):
    store = BlobStore(tmp_path)
    data = b"<Invoice/>" * 100
    key = store.put(data)
    assert key == hashlib.sha256(data).hexdigest()
    assert store.get(key) == data
    assert store.exists(key)
    assert (tmp_path / key[:2] / key[2:4] / key).is_file()


def test_put_is_idempotent_and_leaves_no_temporary_files(tmp_path):
    store = BlobStore(tmp_path)
    assert store.put(b"same") == store.put(b"same")
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) == 1
    assert not any(p.name.startswith(".tmp-") for p in files)


def test_corruption_is_detected(tmp_path):
    store = BlobStore(tmp_path)
    key = store.put(b"original bytes")
    (tmp_path / key[:2] / key[2:4] / key).write_bytes(b"tampered bytes")
    with pytest.raises(BlobError, match="corrupt"):
        store.get(key)


def test_missing_and_malformed_keys(tmp_path):
    store = BlobStore(tmp_path)
    with pytest.raises(BlobError, match="missing"):
        store.get("0" * 64)
    with pytest.raises(BlobError, match="not a SHA-256"):
        store.get("../../etc/passwd")
    assert not store.exists("f" * 64)


def test_a_failed_write_leaves_nothing(tmp_path, monkeypatch):
    store = BlobStore(tmp_path)

    def boom(*_a, **_k):
        raise OSError("disk full")

    monkeypatch.setattr("store.blobs.os.replace", boom)
    with pytest.raises(OSError, match="disk full"):
        store.put(b"data")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_put_many_stores_each_blob_once_and_returns_the_keys_in_order(tmp_path):
    store = BlobStore(tmp_path)
    first = store.put(b"already there")
    items = [b"one", b"two", b"one", b"already there"]
    keys = store.put_many(items)
    assert keys == [hashlib.sha256(d).hexdigest() for d in items]
    assert keys[3] == first
    assert [store.get(k) for k in keys] == items
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) == 3
    assert not any(p.name.startswith(".tmp-") for p in files)


def test_put_many_flushes_every_file_and_each_folder_once(tmp_path, monkeypatch):
    store = BlobStore(tmp_path)
    synced: list[str] = []
    real = os.fsync

    def fsync(fd):
        synced.append("folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real(fd)

    monkeypatch.setattr("store.blobs.os.fsync", fsync)
    store.put_many([b"a", b"b", b"c"])
    assert synced[:3] == ["file", "file", "file"]  # every file flushed before anything is renamed into place
    assert synced.count("folder") == 3
    synced.clear()
    store.put_many([b"a", b"b"])
    assert synced == []  # nothing new to write


def test_a_failed_batch_leaves_no_temporary_files(tmp_path, monkeypatch):
    store = BlobStore(tmp_path)

    def boom(*_a, **_k):
        raise OSError("disk full")

    monkeypatch.setattr("store.blobs.os.replace", boom)
    with pytest.raises(OSError, match="disk full"):
        store.put_many([b"x", b"y"])
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
