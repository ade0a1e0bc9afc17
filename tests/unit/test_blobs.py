"""The content-addressed blob store."""

from __future__ import annotations

import hashlib

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
