"""Two companies in one install (issue 20): a mail in company A's mailbox addressed to company B is filed in B's
database and never recorded in A's; one addressed to A stays with A; one addressed to neither is quarantined by A as
not for any of our companies. Through `buzon poll --once` and `buzon import`, on SQLite and PostgreSQL (each company a
database of its own), and through inbox.poll directly: every message settled only after its commit, in order, and a
message of A's mailbox that a dead run left pending in B's database resumed by A's next poll.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from buzon import demo
from dian.nit import check_digit
from dian.trust import TrustStore
from dian.ubl import Party
from inbox.imap import ImapOptions, ImapSource
from inbox.intake import Envelope, Intake, IntakePolicy
from inbox.poll import poll_once
from inbox.routing import Router
from inbox.sources import FolderSource, Handle
from store.blobs import BlobStore
from store.db import make_engine
from store.models import MailStatus
from tests.integration.inbox_fixtures import NOW, append, mail
from tests.services import migrated_database, two_databases

pytestmark = pytest.mark.integration

BUZON = [sys.executable, "-m", "buzon.cli"]
A, B, NEITHER = "900654321", "900777888", "901234567"  # our two companies, and a buyer who is neither


@dataclass(frozen=True)
class Documents:
    pki: demo.DemoPKI
    invoices: dict[str, demo.DemoDocument]  # by the buyer's NIT

    def mail(self, buyer: str) -> bytes:
        """A supplier's mail with the AttachedDocument of the invoice addressed to ``buyer``."""
        return mail(("ad.xml", self.invoices[buyer].attached), message_id=f"<factura-{buyer}@proveedor.test>",
                    subject=f"{buyer};PROVEEDOR;FV;01;PROVEEDOR")  # fmt: skip

    @property
    def trust(self) -> TrustStore:
        return TrustStore(anchors=(self.pki.ca,))


@cache
def documents() -> Documents:
    """One invoice from the same supplier to each buyer, signed and "validated" under a demo PKI (once per process)."""
    pki = demo.make_pki(NOW)
    invoices = {}
    for number, buyer in enumerate((A, B, NEITHER), start=61):
        party = Party(nit=buyer, dv=check_digit(buyer), registration_name=f"COMPRADOR {buyer} S.A.S.",
                      organization_type="1")  # fmt: skip
        invoices[buyer] = demo.make_document(pki, demo.SUPPLIERS[0], number, (("Resmas", 10, "18500.00"),),
                                             buyer=party, issued=NOW)  # fmt: skip
    return Documents(pki, invoices)


def configure(tmp_path: Path, url_a: str, url_b: str) -> Path:
    """buzon.toml for companies A (the top level) and B (a [[companies]] table), sharing a trust folder with the
    demo CA; `buzon init` run on it."""
    trust = tmp_path / "trust"
    trust.mkdir()
    (trust / "ca.pem").write_bytes(documents().pki.ca_pem)
    config = tmp_path / "buzon.toml"
    config.write_text(
        f'data_dir = "{tmp_path}"\n'
        f'[database]\nurl = "{url_a}"\n'
        f'[company]\nnit = "{A}-{check_digit(A)}"\nname = "EMPRESA A S.A.S."\n'
        f'[dian]\ntrust_store = "{trust}"\n'
        f"\n[[companies]]\n"
        f'[companies.company]\nnit = "{B}-{check_digit(B)}"\nname = "EMPRESA B S.A.S."\n'
        f'[companies.database]\nurl = "{url_b}"\n',
        encoding="utf-8",
    )
    done = buzon(config, "init")
    assert "EMPRESA A S.A.S." in done.stdout and "EMPRESA B S.A.S." in done.stdout
    return config


def buzon(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"BUZON_CONFIG", "BUZON_COMPANY", "BUZON_CRASH_AT"}}
    done = subprocess.run([*BUZON, *args, "--config", str(config)], cwd=config.parent, env=env, capture_output=True,
                          text=True, timeout=180)  # fmt: skip
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    return done


def mails_in(url: str) -> dict[str, tuple[str, str, str | None]]:
    """Each mail row of a database by Message-ID: (mailbox, status, reason)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT message_id, mailbox, status, reason FROM mail_messages")).all()
    finally:
        engine.dispose()
    return {message_id: (mailbox, status, reason) for message_id, mailbox, status, reason in rows}


def cufes_in(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return set(conn.execute(sa.text("SELECT cufe FROM received_documents")).scalars())
    finally:
        engine.dispose()


def message_id(buyer: str) -> str:
    return f"<factura-{buyer}@proveedor.test>"


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_poll_files_a_mail_for_the_other_company_in_its_database(tmp_path: Path, kind: str) -> None:
    docs = documents()
    with two_databases(kind, tmp_path) as (url_a, url_b):
        config = configure(tmp_path, url_a, url_b)
        mailbox = tmp_path / "mailbox"  # company A's (data_dir/mailbox); B's is under empresas/<B>/
        mailbox.mkdir(exist_ok=True)
        for index, buyer in enumerate((A, B, NEITHER)):
            (mailbox / f"{index}-{buyer}.eml").write_bytes(docs.mail(buyer))
        polled = buzon(config, "poll", "--once")
        in_a, in_b = mails_in(url_a), mails_in(url_b)
        cufes_a, cufes_b = cufes_in(url_a), cufes_in(url_b)
    folder = f"folder:{mailbox.resolve()}"
    assert in_a == {
        message_id(A): (folder, "filed", None),
        message_id(NEITHER): (folder, "quarantined", "not_for_us"),
    }
    assert in_b == {message_id(B): (folder, "filed", None)}  # recorded as a mail of A's mailbox, in B's database
    assert cufes_a == {docs.invoices[A].cufe}
    assert cufes_b == {docs.invoices[B].cufe}
    assert "archivados: 2" in polled.stdout and "not_for_us: 1" in polled.stdout
    assert f"para la empresa {B}: 1" in polled.stdout, polled.stdout
    # Each file settled in A's mailbox: filed ones (B's too) to procesados, the stranger's to cuarentena.
    assert sorted(p.name for p in (mailbox / "procesados").iterdir()) == [f"0-{A}.eml", f"1-{B}.eml"]
    assert [p.name for p in (mailbox / "cuarentena").iterdir()] == [f"2-{NEITHER}.eml"]
    assert not list(mailbox.glob("*.eml"))


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_import_for_company_b_routes_a_file_for_company_a_to_a(tmp_path: Path, kind: str) -> None:
    docs = documents()
    files = tmp_path / "files"
    files.mkdir()
    names = []
    for buyer in (A, B, NEITHER):
        (files / f"{buyer}.eml").write_bytes(docs.mail(buyer))
        names.append(str(files / f"{buyer}.eml"))
    with two_databases(kind, tmp_path) as (url_a, url_b):
        config = configure(tmp_path, url_a, url_b)
        imported = buzon(config, "import", "--json", "--company", B, *names)
        in_a, in_b = mails_in(url_a), mails_in(url_b)
        cufes_a, cufes_b = cufes_in(url_a), cufes_in(url_b)
    summary = json.loads(imported.stdout.strip().splitlines()[-1])
    assert summary == {"filed": 2, "duplicates": 0, "quarantined": {"not_for_us": 1}, "routed": {A: 1}}
    assert in_a == {message_id(A): ("import", "filed", None)}
    assert in_b == {message_id(B): ("import", "filed", None), message_id(NEITHER): ("import", "quarantined",
                                                                                      "not_for_us")}  # fmt: skip
    assert cufes_a == {docs.invoices[A].cufe} and cufes_b == {docs.invoices[B].cufe}


# --- inbox.poll with a router, directly ---------------------------------------------------------------------------


class Recorder:
    """Every intake step of both companies' intakes and every settle of the source, in the order they happen."""

    def __init__(self) -> None:
        self.steps: list[str] = []

    def hook(self, company: str):  # type: ignore[no-untyped-def]
        return lambda step: self.steps.append(f"{company}:{step}")


class RecordingFolder(FolderSource):
    def __init__(self, root: Path, recorder: Recorder) -> None:
        super().__init__(root, mailbox="folder:recepcion-a")
        self.recorder = recorder

    def settle(self, handle: Handle, status: MailStatus) -> None:
        self.recorder.steps.append(f"settle:{handle.key.name}")
        super().settle(handle, status)


@contextlib.contextmanager
def two_intakes(kind: str, tmp_path: Path, recorder: Recorder) -> Iterator[tuple[Intake, Intake]]:
    trust = documents().trust
    with migrated_database(kind, tmp_path) as engine_a, migrated_database(kind, tmp_path) as engine_b:
        yield tuple(  # type: ignore[misc]
            Intake(
                sessionmaker(engine, expire_on_commit=False),
                BlobStore(tmp_path / f"blobs-{nit}"),
                IntakePolicy(our_nit=nit, trust=trust),
                clock=lambda: NOW,
                hook=recorder.hook(nit),
            )
            for nit, engine in ((A, engine_a), (B, engine_b))
        )


def rows(intake: Intake) -> list[tuple[str, str, str | None]]:
    """The intake's mail rows: (Message-ID, status, reason), in the order they were recorded."""
    with intake.sessions() as s:
        found = s.execute(sa.text("SELECT message_id, status, reason FROM mail_messages ORDER BY id")).all()
    return [tuple(row) for row in found]  # type: ignore[misc]


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_each_message_is_settled_after_its_commit_in_the_mailboxs_order(tmp_path: Path, kind: str) -> None:
    docs, recorder = documents(), Recorder()
    folder = tmp_path / "recepcion"
    folder.mkdir()
    order = [(B, "1"), (A, "2"), (NEITHER, "3"), (B, "4")]  # the second mail to B: a copy, a duplicate in B
    for buyer, n in order:
        (folder / f"{n}.eml").write_bytes(docs.mail(buyer))
    with two_intakes(kind, tmp_path, recorder) as (intake_a, intake_b):
        summary = poll_once(RecordingFolder(folder, recorder), intake_a, router=Router(intake_a, {B: intake_b}))
        in_a, in_b = rows(intake_a), rows(intake_b)
    settles = [s for s in recorder.steps if s.startswith("settle:")]
    assert settles == [f"settle:{n}.eml" for _, n in order]  # in the mailbox's order, whatever company took it
    first_settle = recorder.steps.index(settles[0])
    commits = [i for i, s in enumerate(recorder.steps) if s.endswith(":committed")]
    assert len(commits) == 4 and max(commits) < first_settle  # two in each database, every one before any settle
    assert in_a == [(message_id(A), "filed", None), (message_id(NEITHER), "quarantined", "not_for_us")]
    assert in_b == [(message_id(B), "filed", None), (message_id(B), "ignored", "duplicate")]  # the copy
    assert summary.filed == 2 and summary.duplicates == 1 and summary.routed == {B: 2}
    assert sorted(p.name for p in (folder / "procesados").iterdir()) == ["1.eml", "2.eml", "4.eml"]


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_message_left_pending_in_the_other_companys_database_is_resumed(tmp_path: Path, kind: str) -> None:
    docs, recorder = documents(), Recorder()
    folder = tmp_path / "recepcion"
    folder.mkdir()
    source = RecordingFolder(folder, recorder)
    with two_intakes(kind, tmp_path, recorder) as (intake_a, intake_b):
        # A run routed it to B, which recorded it (pending), and died; the message left the mailbox meanwhile.
        _, status = intake_b.receive(Envelope(mailbox=source.mailbox, data=docs.mail(B), name="1.eml"))
        assert status == MailStatus.PENDING
        alone = poll_once(source, intake_a)  # A alone never looks in B's database
        assert alone.messages == 0 and rows(intake_b) == [(message_id(B), "pending", None)]
        summary = poll_once(source, intake_a, router=Router(intake_a, {B: intake_b}))
        in_a, in_b = rows(intake_a), rows(intake_b)
    assert summary.filed == 1 and summary.routed == {B: 1}
    assert in_b == [(message_id(B), "filed", None)] and in_a == []


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_imap_flagging_in_place_does_not_fetch_again_what_the_other_company_took(
    dovecot, tmp_path: Path, kind: str
) -> None:
    docs, recorder = documents(), Recorder()
    folder = f"RecepcionRuteo{kind}{os.getpid()}"
    append(dovecot, folder, docs.mail(A), docs.mail(B))  # B's has the highest UID
    options = ImapOptions(host=dovecot.host, port=dovecot.port, tls="none", user=dovecot.user,
                          password=dovecot.password, folder=folder, processed_folder="", quarantine_folder="",
                          timeout=10)  # fmt: skip
    with two_intakes(kind, tmp_path, recorder) as (intake_a, intake_b):
        router = Router(intake_a, {B: intake_b})
        src = ImapSource(options).connect()  # no folders to move to: settled mail is flagged \Seen where it is
        try:
            first = poll_once(src, intake_a, router=router)
            # A's own database stops at the first UID; the second is recorded in B's only.
            checkpoints = [intake.checkpoint(src.mailbox, src.uidvalidity) for intake in (intake_a, intake_b)]
            assert checkpoints == [1, 2]
            again = poll_once(src, intake_a, router=router)
        finally:
            src.close()
        in_a, in_b = rows(intake_a), rows(intake_b)
    assert first.filed == 2 and first.routed == {B: 1}
    assert again.messages == 0  # past every company's checkpoint: nothing fetched, peeked or taken again
    assert in_a == [(message_id(A), "filed", None)] and in_b == [(message_id(B), "filed", None)]
