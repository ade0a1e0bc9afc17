"""Where messages come from: a folder of files, a Maildir, a list of paths (IMAP lives in inbox/imap.py).

Every source offers the same three verbs to the poll loop: ``scan`` (the handles of messages present), ``fetch`` (one
message's bytes as an Envelope) and ``settle`` (move or flag it, called only after intake committed its outcome; the
poll settles a batch at once through ``settle_many``).
"""

from __future__ import annotations

import mailbox as stdlib_mailbox
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from inbox.intake import Envelope, Intake
from store.models import MailStatus

# Where a settled message goes, by the status intake gave it (ignored = a duplicate: nothing for the clerk).
PROCESSED = "procesados"
QUARANTINE = "cuarentena"
FILE_SUFFIXES = (".eml", ".zip", ".xml")


class Gone(Exception):
    """The message left the source between scan and fetch (another poller settled it): nothing to take."""


@dataclass(frozen=True)
class Handle:
    """A message present in a source; ``uid``/``uidvalidity`` only for IMAP."""

    key: Any
    uid: int | None = None
    uidvalidity: int | None = None
    size: int | None = None
    status: MailStatus | None = None  # what intake already recorded for this UID, if anything


class Source(Protocol):
    """What the poll loop needs of a mailbox."""

    mailbox: str

    def scan(self, intake: Intake) -> Iterator[Handle]: ...

    def fetch(self, handle: Handle) -> Envelope: ...

    def fetch_many(self, handles: Sequence[Handle]) -> Iterator[tuple[Handle, Envelope | None]]: ...

    def settle(self, handle: Handle, status: MailStatus) -> None: ...

    def settle_many(self, settled: Sequence[tuple[Handle, MailStatus]]) -> None: ...

    def wait(self, seconds: float, sleep: Callable[[float], None], stop: Callable[[], bool]) -> None: ...

    def close(self) -> None: ...


class OneAtATime:
    """A source whose messages are read and settled one by one (files: each is its own read and its own move)."""

    def fetch(self, handle: Handle) -> Envelope:
        raise NotImplementedError

    def settle(self, handle: Handle, status: MailStatus) -> None:
        raise NotImplementedError

    def fetch_many(self, handles: Sequence[Handle]) -> Iterator[tuple[Handle, Envelope | None]]:
        """Each message read in turn; None for one gone since the scan."""
        for handle in handles:
            try:
                yield handle, self.fetch(handle)
            except Gone:
                yield handle, None

    def settle_many(self, settled: Sequence[tuple[Handle, MailStatus]]) -> None:
        """Settle each message, in order."""
        for handle, status in settled:
            self.settle(handle, status)


def _mtime(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


class FolderSource(OneAtATime):
    """A plain folder where .eml, .zip and .xml files are dropped; settled files move to procesados/ or cuarentena/.

    The demo delivers its supplier mail here (settings.mailbox_path), and another tool's export can be pointed at it.
    """

    def __init__(self, root: Path, *, mailbox: str | None = None) -> None:
        self.root = Path(root)
        self.mailbox = mailbox or f"folder:{self.root.resolve()}"

    def scan(self, intake: Intake) -> Iterator[Handle]:
        """Files directly in the folder (hidden and partial files skipped), oldest name first."""
        if not self.root.is_dir():
            return iter(())
        files = sorted(
            p for p in self.root.iterdir() if p.is_file() and not p.name.startswith(".") and not p.name.endswith(".tmp")
        )
        return iter(Handle(key=p) for p in files)

    def fetch(self, handle: Handle) -> Envelope:
        path: Path = handle.key
        try:
            return Envelope(mailbox=self.mailbox, data=path.read_bytes(), name=path.name, received_at=_mtime(path))
        except FileNotFoundError as exc:
            raise Gone(path.name) from exc

    def settle(self, handle: Handle, status: MailStatus) -> None:
        """Move the file out of the way: procesados/ (filed, duplicate) or cuarentena/ (quarantined)."""
        path: Path = handle.key
        target = self.root / (QUARANTINE if status == MailStatus.QUARANTINED else PROCESSED)
        target.mkdir(exist_ok=True)
        destination = target / path.name
        if destination.exists():  # a same-named file settled before: keep both
            destination = target / f"{path.stem}-{os.urandom(4).hex()}{path.suffix}"
        if path.exists():
            os.replace(path, destination)

    def wait(self, seconds: float, sleep: Callable[[float], None], stop: Callable[[], bool]) -> None:
        _sleep_until(seconds, sleep, stop)

    def close(self) -> None:
        return None


class PathsSource(OneAtATime):
    """Files and folders named on the command line (`buzon import`): read in place, never moved."""

    def __init__(self, paths: list[Path], *, mailbox: str = "import") -> None:
        self.paths = [Path(p) for p in paths]
        self.mailbox = mailbox

    def files(self) -> list[Path]:
        """Every file to import: named files as they are, folders walked for .eml, .zip and .xml files."""
        found: list[Path] = []
        for path in self.paths:
            if path.is_dir():
                found.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in FILE_SUFFIXES))
            else:
                found.append(path)
        return found

    def scan(self, intake: Intake) -> Iterator[Handle]:
        return iter(Handle(key=p) for p in self.files())

    def fetch(self, handle: Handle) -> Envelope:
        path: Path = handle.key
        return Envelope(mailbox=self.mailbox, data=path.read_bytes(), name=path.name, received_at=_mtime(path))

    def settle(self, handle: Handle, status: MailStatus) -> None:
        return None  # the user's own files stay where they are

    def wait(self, seconds: float, sleep: Callable[[float], None], stop: Callable[[], bool]) -> None:
        _sleep_until(seconds, sleep, stop)

    def close(self) -> None:
        return None


class MaildirSource(OneAtATime):
    """A Maildir (new/ and cur/), e.g. one exported by another tool; settled messages move to Maildir++ subfolders
    ``.Buzon.Procesados`` and ``.Buzon.Cuarentena``."""

    processed = "Buzon.Procesados"
    quarantine = "Buzon.Cuarentena"

    def __init__(self, root: Path, *, mailbox: str | None = None) -> None:
        self.root = Path(root)
        self.mailbox = mailbox or f"maildir:{self.root.resolve()}"
        self.box = stdlib_mailbox.Maildir(str(self.root), create=True)

    def scan(self, intake: Intake) -> Iterator[Handle]:
        keys = sorted(self.box.keys())
        return iter(Handle(key=k) for k in keys)

    def fetch(self, handle: Handle) -> Envelope:
        try:
            data = self.box.get_bytes(handle.key)
        except KeyError as exc:
            raise Gone(handle.key) from exc
        return Envelope(mailbox=self.mailbox, data=data, name=f"{handle.key}.eml")

    def settle(self, handle: Handle, status: MailStatus) -> None:
        """Deliver a copy into the target folder, then remove the original (a crash between leaves a duplicate
        copy that intake recognises by its bytes, never a lost message)."""
        name = self.quarantine if status == MailStatus.QUARANTINED else self.processed
        try:
            folder = self.box.get_folder(name)
        except stdlib_mailbox.NoSuchMailboxError:
            folder = self.box.add_folder(name)
        try:
            message = self.box.get_message(handle.key)
        except KeyError:
            return
        message.add_flag("S")
        folder.add(message)
        self.box.discard(handle.key)

    def wait(self, seconds: float, sleep: Callable[[float], None], stop: Callable[[], bool]) -> None:
        _sleep_until(seconds, sleep, stop)

    def close(self) -> None:
        self.box.close()


def _sleep_until(seconds: float, sleep: Callable[[float], None], stop: Callable[[], bool]) -> None:
    remaining = seconds
    while remaining > 0 and not stop():
        step = min(1.0, remaining)
        sleep(step)
        remaining -= step
