"""The reception mailbox over IMAP against a real Dovecot: poll, file, quarantine, move after the commit; a server
restart in the middle of a poll; a folder re-created with a new UIDVALIDITY; IDLE waking on new mail."""

from __future__ import annotations

import itertools
import socket
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from dian.trust import TrustStore
from inbox.imap import TRANSIENT, ImapOptions, ImapSource
from inbox.intake import Intake, IntakePolicy
from inbox.poll import poll_once, run
from store.blobs import BlobStore
from store.db import make_engine, migrate
from store.models import MailMessage, MailStatus, ReceivedDocument
from tests.integration.inbox_fixtures import (
    NOW,
    OTHER_BUYER_SAMPLE,
    XXE,
    append,
    folder_counts,
    imap_client,
    mail,
    sample_mail,
    tampered,
    zip_bomb,
)

pytestmark = pytest.mark.integration
_names = itertools.count(1)


@pytest.fixture
def box(dovecot):
    """A fresh folder and its processed/quarantine folders for one test."""
    n = next(_names)
    return {"folder": f"Recepcion{n}", "processed": f"T{n}/Procesados", "quarantine": f"T{n}/Cuarentena"}


@pytest.fixture
def store(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'buzon.sqlite3'}")
    migrate(engine)
    yield engine, BlobStore(tmp_path / "blobs")
    engine.dispose()


def source(dovecot, box, *, moves: bool = True, max_message_bytes: int = 10 * 1024 * 1024) -> ImapSource:
    return ImapSource(
        ImapOptions(
            host=dovecot.host,
            port=dovecot.port,
            tls="none",
            user=dovecot.user,
            password=dovecot.password,
            folder=box["folder"],
            processed_folder=box["processed"] if moves else "",
            quarantine_folder=box["quarantine"] if moves else "",
            max_message_bytes=max_message_bytes,
            timeout=10,
        )
    ).connect()


def intake(store, hook=None) -> Intake:
    engine, blobs = store
    return Intake(
        sessionmaker(engine, expire_on_commit=False),
        blobs,
        IntakePolicy(our_nit="805007280", trust=TrustStore()),
        clock=lambda: NOW,
        hook=hook,
    )


def count(engine, model, *where) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(model).where(*where)).scalar()


def test_poll_files_quarantines_and_moves_after_commit(dovecot, box, store) -> None:
    append(
        dovecot,
        box["folder"],
        sample_mail(),
        sample_mail(OTHER_BUYER_SAMPLE),
        mail(("ad.xml", tampered())),
        mail(("ad.xml", XXE)),
        mail(("z.zip", zip_bomb())),
        mail(),
    )
    src = source(dovecot, box)
    try:
        summary = poll_once(src, intake(store))
    finally:
        src.close()
    assert summary.filed == 1
    assert summary.quarantined == {"not_for_us": 1, "signature_invalid": 1, "unreadable": 1, "too_large": 1,
                                   "no_document": 1}  # fmt: skip
    assert folder_counts(dovecot, box["folder"], box["processed"], box["quarantine"]) == {
        box["folder"]: 0,
        box["processed"]: 1,
        box["quarantine"]: 5,
    }
    engine, _ = store
    assert count(engine, ReceivedDocument) == 1
    assert count(engine, MailMessage, MailMessage.status == MailStatus.QUARANTINED) == 5
    # A second poll finds nothing new and changes nothing.
    src = source(dovecot, box)
    try:
        assert poll_once(src, intake(store)).messages == 0
    finally:
        src.close()


def test_a_batch_is_read_and_settled_in_a_few_commands(dovecot, box, store) -> None:
    """Reading and settling cost a few IMAP commands per batch, not three per message: one FETCH of the batch's
    bodies, one STORE of \\Seen, one MOVE of a UID set per target folder."""
    append(dovecot, box["folder"], sample_mail(), mail(("ad.xml", tampered())), mail(("ad.xml", XXE)), mail())
    src = source(dovecot, box)
    calls: list[tuple[str, int]] = []
    for name in ("fetch", "add_flags", "move", "copy"):
        original = getattr(src.client, name)

        def counted(uids, *args, _original=original, _name=name, **kwargs):  # type: ignore[no-untyped-def]
            calls.append((_name, len(uids)))
            return _original(uids, *args, **kwargs)

        setattr(src.client, name, counted)
    try:
        summary = poll_once(src, intake(store))
    finally:
        src.close()
    assert summary.messages == 4 and summary.filed == 1
    # The scan's sizes, then the four messages in one FETCH; one STORE; one MOVE per folder.
    assert sorted(calls) == [("add_flags", 4), ("fetch", 4), ("fetch", 4), ("move", 1), ("move", 3)]
    assert folder_counts(dovecot, box["folder"], box["processed"], box["quarantine"]) == {
        box["folder"]: 0,
        box["processed"]: 1,
        box["quarantine"]: 3,
    }


def test_a_message_past_the_size_limit_is_read_alone_its_headers_only(dovecot, box, store) -> None:
    big = mail(("fv.pdf", b"%PDF-1.4\n" + bytes(300_000)))
    append(dovecot, box["folder"], sample_mail(), big, mail())
    src = source(dovecot, box, max_message_bytes=200_000)
    read: list[tuple[int, bytes]] = []
    original = src.client.fetch

    def counted(uids, parts, *args, **kwargs):  # type: ignore[no-untyped-def]
        read.append((len(uids), parts[0]))
        return original(uids, parts, *args, **kwargs)

    src.client.fetch = counted
    try:
        summary = poll_once(src, intake(store))
    finally:
        src.close()
    assert summary.filed == 1 and summary.quarantined == {"too_large": 1, "no_document": 1}
    # The sizes, then the first message, the large one's headers alone, the last message.
    assert read == [(3, "RFC822.SIZE"), (1, b"BODY.PEEK[]"), (1, b"BODY.PEEK[HEADER]"), (1, b"BODY.PEEK[]")]


def test_dovecot_restart_in_the_middle_of_a_poll(dovecot, box, store) -> None:
    """Dovecot restarts and our connection drops while the second message is half-way; the loop reconnects after a
    backoff delay and finishes: every message decided once, every one moved once."""
    append(dovecot, box["folder"], sample_mail(), sample_mail("attached_aragon_FE6711_sw890930534.xml"), mail())
    engine, _ = store
    sources: list[ImapSource] = []
    seen = {"recorded": 0}

    def restart_on_second(step: str) -> None:
        if step == "recorded":
            seen["recorded"] += 1
            if seen["recorded"] == 2:
                dovecot.restart()
                # Dovecot keeps running sessions across a master restart; drop ours as a network failure would.
                sources[-1].client.socket().shutdown(socket.SHUT_RDWR)

    def connect() -> ImapSource:
        sources.append(source(dovecot, box))
        return sources[-1]

    def done() -> bool:
        decided = count(engine, MailMessage, MailMessage.status != MailStatus.PENDING) == 3 and len(sources) >= 2
        # The batch of three commits before the drop is noticed (while settling): the next poll settles them.
        return (
            decided and folder_counts(dovecot, box["folder"], box["processed"], box["quarantine"])[box["folder"]] == 0
        )

    delays: list[float] = []
    run(
        connect,
        intake(store, hook=restart_on_second),
        wait_seconds=0.1,
        sleep=delays.append,
        stop=done,
        transient=TRANSIENT,
    )
    assert len(sources) == 2 and delays and delays[0] == 1.0  # one reconnect, after the first backoff delay
    assert all(s.client is None for s in sources)  # both connections closed
    assert count(engine, ReceivedDocument) == 2
    assert count(engine, MailMessage) == 3
    assert folder_counts(dovecot, box["folder"], box["processed"], box["quarantine"]) == {
        box["folder"]: 0,
        box["processed"]: 2,
        box["quarantine"]: 1,
    }


def test_new_uidvalidity_reads_the_folder_again_without_filing_twice(dovecot, box, store) -> None:
    first, second = sample_mail(), sample_mail("attached_aragon_FE6711_sw890930534.xml")
    append(dovecot, box["folder"], first)
    src = source(dovecot, box, moves=False)  # messages stay in place, flagged \Seen; the checkpoint skips them
    try:
        assert poll_once(src, intake(store)).filed == 1
        old_validity = src.uidvalidity
        assert poll_once(src, intake(store)).messages == 0  # past the checkpoint: nothing to read
    finally:
        src.close()
    client = imap_client(dovecot)
    try:
        client.delete_folder(box["folder"])
        client.create_folder(box["folder"])
    finally:
        client.logout()
    append(dovecot, box["folder"], first, second)
    src = source(dovecot, box, moves=False)
    try:
        assert src.uidvalidity != old_validity
        summary = poll_once(src, intake(store))
    finally:
        src.close()
    assert (summary.filed, summary.duplicates) == (1, 1)
    engine, _ = store
    assert count(engine, ReceivedDocument) == 2
    assert count(engine, MailMessage) == 3
    assert count(engine, MailMessage, MailMessage.status == MailStatus.IGNORED) == 1


def test_idle_wakes_up_when_mail_arrives(dovecot, box, store) -> None:
    append(dovecot, box["folder"], mail())  # creates the folder
    src = source(dovecot, box)
    try:
        poll_once(src, intake(store))
        assert src.client.has_capability("IDLE")
        arriving = sample_mail()  # read here: a missing sample skips the test, not the timer's thread
        timer = threading.Timer(0.5, lambda: append(dovecot, box["folder"], arriving))
        timer.start()
        started = time.monotonic()
        src.wait(30, time.sleep, lambda: False)
        waited = time.monotonic() - started
        timer.join()
        assert waited < 10, f"IDLE did not wake up on new mail ({waited:.1f} s)"
        assert poll_once(src, intake(store)).filed == 1
    finally:
        src.close()
