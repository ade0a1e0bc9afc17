"""Raw bytes (mail, XML, zips, PDFs) content-addressed by SHA-256 under the data directory, written atomically."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections.abc import Iterable
from pathlib import Path

KEY_RE = re.compile(r"^[0-9a-f]{64}$")
_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


class BlobError(Exception):
    """A blob is missing, corrupt, or its key is malformed; the message names the key."""


class BlobStore:
    """put() returns the SHA-256 hex key; get() returns the bytes and checks they still hash to it.

    Every blob is durable when put() or put_many() returns: its bytes are flushed to disk before it is renamed into
    place, and the folder holding the new name is flushed after. put_many() writes several blobs with the same
    guarantee but flushes each folder once, after all the renames.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not KEY_RE.match(key):
            raise BlobError(f"blob key {key!r} is not a SHA-256 hex digest")
        return self.root / key[:2] / key[2:4] / key

    def put(self, data: bytes) -> str:
        """Store data (idempotent: the same bytes give the same key and are written once)."""
        return self.put_many((data,))[0]

    def put_many(self, items: Iterable[bytes]) -> list[str]:
        """Store several blobs durably; their keys, in order. Either all new ones are in place or an error is raised
        (blobs already renamed into place stay: they are whole, and storing them again is harmless)."""
        keys: list[str] = []
        pending: list[tuple[str, str]] = []  # (temporary, final) paths, data flushed, not renamed yet
        try:
            for data in items:
                key = hashlib.sha256(data).hexdigest()
                keys.append(key)
                final = os.fspath(self._path(key))
                if os.path.exists(final) or any(f == final for _, f in pending):
                    continue
                # Write a temporary file in the same folder, flush it to disk, then rename: a crash leaves either no
                # file or the whole file, never a torn one.
                tmp = f"{os.path.dirname(final)}/.tmp-{key[:16]}-{secrets.token_hex(6)}"
                try:
                    fd = os.open(tmp, _FLAGS, 0o600)
                except FileNotFoundError:
                    os.makedirs(os.path.dirname(final), exist_ok=True)
                    fd = os.open(tmp, _FLAGS, 0o600)
                pending.append((tmp, final))
                try:
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view) :]
                    os.fsync(fd)
                finally:
                    os.close(fd)
            folders: dict[str, None] = {}
            while pending:
                tmp, final = pending[0]
                os.replace(tmp, final)
                pending.pop(0)
                folders[os.path.dirname(final)] = None
        except BaseException:
            for tmp, _ in pending:
                Path(tmp).unlink(missing_ok=True)
            raise
        # The new names are durable once their folders are flushed.
        for folder in folders:
            dir_fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        return keys

    def get(self, key: str) -> bytes:
        """The bytes stored under key; BlobError when missing or when they no longer match their hash."""
        path = self._path(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise BlobError(f"blob {key} is missing from {self.root}") from exc
        if hashlib.sha256(data).hexdigest() != key:
            raise BlobError(f"blob {key} is corrupt: its bytes no longer match their SHA-256")
        return data

    def exists(self, key: str) -> bool:
        """Whether a blob is stored under key."""
        return self._path(key).exists()
