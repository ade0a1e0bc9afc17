"""Raw bytes (mail, XML, zips, PDFs) content-addressed by SHA-256 under the data directory, written atomically."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

KEY_RE = re.compile(r"^[0-9a-f]{64}$")


class BlobError(Exception):
    """A blob is missing, corrupt, or its key is malformed; the message names the key."""


class BlobStore:
    """put() returns the SHA-256 hex key; get() returns the bytes and checks they still hash to it."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not KEY_RE.match(key):
            raise BlobError(f"blob key {key!r} is not a SHA-256 hex digest")
        return self.root / key[:2] / key[2:4] / key

    def put(self, data: bytes) -> str:
        """Store data (idempotent: the same bytes give the same key and are written once)."""
        key = hashlib.sha256(data).hexdigest()
        path = self._path(key)
        if path.exists():
            return key
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write a temporary file in the same folder, flush it to disk, then rename: a crash leaves either no
        # file or the whole file, never a torn one.
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return key

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
