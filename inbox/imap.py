"""The reception mailbox over IMAP (imapclient): TLS or STARTTLS, password or XOAUTH2, UIDVALIDITY + UID checkpoint,
move after commit (MOVE, else COPY + UID EXPUNGE), IDLE when offered and polling otherwise.
"""

from __future__ import annotations

import imaplib
import socket
import ssl
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from inbox.intake import Envelope, Intake
from inbox.sources import Gone, Handle
from store.models import MailStatus

# Errors after which the loop reconnects with backoff instead of giving up.
TRANSIENT: tuple[type[BaseException], ...] = (
    OSError,
    socket.timeout,
    ssl.SSLError,
    imaplib.IMAP4.error,
    IMAPClientError,
)
SEEN = b"\\Seen"
# Messages read by one FETCH (fetch_many): at most this many, and no more bytes than this by their scanned sizes.
FETCH_BATCH = 25
FETCH_BYTES = 2 * 1024 * 1024


class ImapConfigError(Exception):
    """The IMAP settings cannot work (no credentials, plain text off loopback); the message names the setting."""


@dataclass(frozen=True)
class ImapOptions:
    """What the source needs from settings.imap (and inbox.max_message_bytes)."""

    host: str
    port: int
    tls: str  # "implicit", "starttls" or "none" (config only allows "none" on loopback)
    user: str
    password: str = field(default="", repr=False)
    oauth2_token: str = field(default="", repr=False)
    folder: str = "INBOX"
    processed_folder: str = "Buzon/Procesados"  # empty: leave messages in place, flagged \\Seen
    quarantine_folder: str = "Buzon/Cuarentena"
    max_message_bytes: int = 10 * 1024 * 1024
    timeout: float = 60.0
    ssl_context: ssl.SSLContext | None = None


class ImapSource:
    """One logged-in IMAP connection reading one folder."""

    def __init__(self, options: ImapOptions) -> None:
        self.options = options
        self.mailbox = f"imap:{options.user}@{options.host}/{options.folder}"
        self.client: IMAPClient | None = None
        self.uidvalidity: int = 0
        self.delimiter = "/"
        self._targets: dict[MailStatus, str | None] = {}

    # --- connection -------------------------------------------------------------------------------------------

    def connect(self) -> ImapSource:
        """Connect, secure, log in, create the target folders if missing and select the folder to read."""
        o = self.options
        if not o.password and not o.oauth2_token:
            raise ImapConfigError("imap.password or imap.oauth2_token: one of them is needed to log in")
        context = o.ssl_context or ssl.create_default_context()
        client = IMAPClient(o.host, port=o.port, ssl=o.tls == "implicit", ssl_context=context, timeout=o.timeout)
        try:
            if o.tls == "starttls":
                client.starttls(context)
            if o.oauth2_token:
                client.oauth2_login(o.user, o.oauth2_token)
            else:
                client.login(o.user, o.password)
            self.client = client
            self.delimiter = self._find_delimiter()
            for status, configured in (
                (MailStatus.FILED, o.processed_folder),
                (MailStatus.IGNORED, o.processed_folder),
                (MailStatus.QUARANTINED, o.quarantine_folder),
            ):
                self._targets[status] = self._ensure(configured) if configured else None
            self._select()
        except BaseException:
            self.client = None
            _quietly_logout(client)
            raise
        return self

    def _find_delimiter(self) -> str:
        assert self.client is not None
        for _flags, delimiter, _name in self.client.list_folders(directory="", pattern=""):
            if delimiter:
                return delimiter.decode() if isinstance(delimiter, bytes) else str(delimiter)
        return "/"

    def _ensure(self, configured: str) -> str:
        """The server's name for a configured folder ('/' becomes the server's delimiter), created when missing."""
        assert self.client is not None
        name = self.delimiter.join(p for p in configured.split("/") if p)
        if not self.client.folder_exists(name):
            try:
                self.client.create_folder(name)
            except IMAPClientError:
                if not self.client.folder_exists(name):  # created meanwhile by another poller: fine
                    raise
        return name

    def _select(self) -> None:
        assert self.client is not None
        info = self.client.select_folder(self.options.folder)
        self.uidvalidity = int(info[b"UIDVALIDITY"])

    def close(self) -> None:
        """Log out (quietly: the connection may already be gone)."""
        client, self.client = self.client, None
        if client is not None:
            _quietly_logout(client)

    def __enter__(self) -> ImapSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the three verbs --------------------------------------------------------------------------------------

    @property
    def moves(self) -> bool:
        """Whether settled messages leave the folder (else they stay, flagged \\Seen, and the checkpoint skips them)."""
        return any(self._targets.values())

    def scan(self, intake: Intake) -> Iterator[Handle]:
        """Messages to look at: all of them when settled ones move away, else those past the UID checkpoint and the
        unseen ones before it."""
        client = self._client()
        self._select()  # re-read UIDVALIDITY: a re-created folder starts a new UID space (RFC 3501 2.3.1.1)
        if self.moves:
            uids = sorted(client.search(["ALL"]))
        else:
            last = intake.checkpoint(self.mailbox, self.uidvalidity)
            found = {u for u in client.search(["UID", f"{last + 1}:*"]) if u > last}
            if last:
                # Below the checkpoint, the unseen ones: another poller may have claimed a message and died before
                # recording it while later UIDs were recorded (settled messages are flagged \Seen).
                found.update(client.search(["UNSEEN", "UID", f"1:{last}"]))
            uids = sorted(found)
        if not uids:
            return iter(())
        known = intake.known_uids(self.mailbox, self.uidvalidity)
        handles: list[Handle] = []
        new = [u for u in uids if u not in known]
        sizes: dict[int, int] = {}
        for start in range(0, len(new), 500):
            chunk = new[start : start + 500]
            for uid, data in client.fetch(chunk, ["RFC822.SIZE"]).items():
                sizes[uid] = int(data.get(b"RFC822.SIZE", 0))
        for uid in uids:
            handles.append(
                Handle(key=uid, uid=uid, uidvalidity=self.uidvalidity, size=sizes.get(uid), status=known.get(uid))
            )
        return iter(handles)

    def fetch(self, handle: Handle) -> Envelope:
        """The message's bytes (BODY.PEEK: fetching does not mark it read); only its headers when it is too large."""
        ((_, envelope),) = self._fetch_group([handle])
        if envelope is None:
            raise Gone(f"UID {handle.uid} vanished from {self.options.folder} while it was being read")
        return envelope

    def fetch_many(self, handles: Sequence[Handle]) -> Iterator[tuple[Handle, Envelope | None]]:
        """Each message's bytes, in order, several per FETCH (up to FETCH_BATCH messages and FETCH_BYTES by their
        scanned sizes, so what is read at once stays small); None for one gone since the scan. One too large is
        read alone, its headers only."""
        group: list[Handle] = []
        size = 0
        for handle in handles:
            if self._oversize(handle) is not None:
                yield from self._fetch_group(group)
                group, size = [], 0
                yield from self._fetch_group([handle])
                continue
            group.append(handle)
            size += handle.size or 0
            if len(group) >= FETCH_BATCH or size >= FETCH_BYTES:
                yield from self._fetch_group(group)
                group, size = [], 0
        yield from self._fetch_group(group)

    def _oversize(self, handle: Handle) -> int | None:
        return handle.size if handle.size and handle.size > self.options.max_message_bytes else None

    def _fetch_group(self, handles: list[Handle]) -> list[tuple[Handle, Envelope | None]]:
        """One FETCH for these messages (all of normal size, or one oversize)."""
        if not handles:
            return []
        client = self._client()
        oversize = self._oversize(handles[0])
        part = b"BODY[HEADER]" if oversize else b"BODY[]"
        uids = [h.uid for h in handles]
        response = client.fetch(uids, [b"BODY.PEEK[HEADER]" if oversize else b"BODY.PEEK[]", b"INTERNALDATE"])
        out: list[tuple[Handle, Envelope | None]] = []
        for handle in handles:
            data = response.get(handle.uid)
            if data is None or part not in data:
                out.append((handle, None))
                continue
            received = data.get(b"INTERNALDATE")
            if isinstance(received, datetime):
                received = received.replace(tzinfo=received.tzinfo or UTC)
            envelope = Envelope(
                mailbox=self.mailbox,
                data=bytes(data[part]),
                name=f"uid-{handle.uid}.eml",
                uidvalidity=handle.uidvalidity,
                uid=handle.uid,
                received_at=received if isinstance(received, datetime) else None,
                oversize=oversize,
            )
            out.append((handle, envelope))
        return out

    def settle(self, handle: Handle, status: MailStatus) -> None:
        """Flag the message \\Seen and move it to the processed or quarantine folder (called after the commit)."""
        self.settle_many([(handle, status)])

    def settle_many(self, settled: Sequence[tuple[Handle, MailStatus]]) -> None:
        """Settle a batch in a few commands, whatever its size: one STORE of \\Seen, then one MOVE per target folder
        (each a UID set; a UID another poller moved meanwhile is simply not there)."""
        client = self._client()
        # A handle of an older UIDVALIDITY is skipped: the folder was re-created, that UID names another message now.
        current = [(h.uid, status) for h, status in settled if h.uid is not None and h.uidvalidity == self.uidvalidity]
        if not current:
            return
        client.add_flags([uid for uid, _ in current], [SEEN])
        by_target: dict[str, list[int]] = {}
        for uid, status in current:
            target = self._targets.get(status)
            if target:
                by_target.setdefault(target, []).append(uid)
        for target, uids in by_target.items():
            if client.has_capability("MOVE"):
                client.move(uids, target)
                continue
            client.copy(uids, target)
            client.delete_messages(uids)
            if client.has_capability("UIDPLUS"):
                client.uid_expunge(uids)
            else:  # pragma: no cover - Dovecot offers UIDPLUS; plain EXPUNGE also removes others' \\Deleted mail
                client.expunge()

    def wait(self, seconds: float, sleep: Callable[[float], None], stop: Callable[[], bool]) -> None:
        """Wait for new mail: IDLE when the server offers it (woken by EXISTS), else sleep ``seconds``."""
        client = self._client()
        if not client.has_capability("IDLE"):
            remaining = seconds
            while remaining > 0 and not stop():
                sleep(min(1.0, remaining))
                remaining -= 1.0
            client.noop()
            return
        client.idle()
        try:
            remaining = seconds
            while remaining > 0 and not stop():
                responses = client.idle_check(timeout=min(5.0, remaining))
                if any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses):
                    break
                remaining -= 5.0
        finally:
            client.idle_done()

    def _client(self) -> IMAPClient:
        if self.client is None:
            raise IMAPClientError("not connected")
        return self.client


def _quietly_logout(client: IMAPClient) -> None:
    try:
        client.logout()
    except (*TRANSIENT, AttributeError):
        try:
            client.shutdown()
        except (*TRANSIENT, AttributeError):
            pass
