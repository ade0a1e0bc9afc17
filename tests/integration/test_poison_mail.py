"""One mail never stops intake (issue 14, point 3): a message whose processing fails as no message should (a value
the database refuses, a bug) is quarantined as `error_interno` in a transaction of its own, its raw bytes kept, and the
batch and the poll go on; only a lost connection to the database is waited out and tried again. On SQLite and
PostgreSQL, through a folder source, IMAP (Dovecot) and the poll loop, with an injected fault and, on PostgreSQL, a
signed invoice whose cbc:UUID does not fit its 96-character column."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from dian.nit import check_digit
from dian.trust import SigningIdentity, TrustStore
from dian.xades import sign
from inbox.imap import TRANSIENT, ImapOptions, ImapSource
from inbox.intake import Envelope, Intake, IntakePolicy
from inbox.poll import poll_once, run
from inbox.sources import FolderSource, Handle
from store.blobs import BlobStore
from store.db import make_engine, migrate
from store.models import AuditEntry, MailMessage, MailStatus, QuarantineReason, ReceivedDocument
from tests.integration.inbox_fixtures import NOW, append, folder_counts, mail, zip_bytes
from tests.pki import COMPANY_NIT, application_response_xml, attached_document_xml, invoice_xml, pki, write_ca_folder
from tests.services import fresh_postgres_database, migrated_database

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
SIGNED_AT = dt.datetime(2025, 3, 3, 14, 0, tzinfo=dt.UTC)
POISON = 17  # the poisoned mail's place among the 50


def _identity(issued):  # type: ignore[no-untyped-def]
    return SigningIdentity(issued.key, issued.cert, issued.chain)


def cufe_of(n: int) -> str:
    return hashlib.sha384(f"poison-test-{n}".encode()).hexdigest()  # 96 hex characters, like a real CUFE


@cache
def invoice_mail(n: int, cufe: str | None = None) -> bytes:
    """A supplier's mail: a zip with a signed invoice n (under the test PKI) inside an AttachedDocument with DIAN's
    signed answer, addressed to COMPANY_NIT."""
    p = pki()
    cufe = cufe or cufe_of(n)
    number = f"SETP{n:09d}"
    signed = sign(invoice_xml(number=number, cufe=cufe), _identity(p.supplier), signing_time=SIGNED_AT)
    answer = sign(application_response_xml(number=number, cufe=cufe), _identity(p.dian), signing_time=SIGNED_AT)
    container = attached_document_xml(signed, answer, number=number, cufe=cufe)
    return mail(("z.zip", zip_bytes((f"ad{number}.xml", container))), message_id=f"<factura-{n}-{cufe[:8]}@prov.test>")


def trust() -> TrustStore:
    p = pki()
    return TrustStore(anchors=(p.root.cert, p.intermediate.cert, p.dian_root.cert))


@pytest.fixture
def database(engine: sa.Engine, tmp_path: Path) -> Iterator[sa.Engine]:
    """A migrated database of this test's own, of the `engine` fixture's kind, with real commits (intake's own
    transactions, not savepoints of a test's)."""
    with migrated_database(engine.dialect.name, tmp_path) as own:
        yield own


def intake_on(engine: sa.Engine, blobs: Path) -> Intake:
    policy = IntakePolicy(our_nit=COMPANY_NIT, trust=trust())
    return Intake(sessionmaker(engine, expire_on_commit=False), BlobStore(blobs), policy, clock=lambda: NOW)


class Poison:
    """Filing the documents whose CUFE is listed raises ``fault``: a bug, or a value the database refuses, would."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.cufes: set[str] = set()
        self.fault: Exception = RuntimeError("filing crashed")
        self.raised = 0
        original = Intake._file

        def failing(intake: Intake, *args: object, **kwargs: object) -> None:
            if any(getattr(arg, "cufe", None) in self.cufes for arg in args):
                self.raised += 1
                raise self.fault
            return original(intake, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(Intake, "_file", failing)


@pytest.fixture
def poison(monkeypatch: pytest.MonkeyPatch) -> Poison:
    return Poison(monkeypatch)


class CheckedFolder(FolderSource):
    """A folder source that records, when it settles a message, what the database says of it at that moment (read on
    a connection of its own: only committed rows are seen)."""

    def __init__(self, root: Path, engine: sa.Engine) -> None:
        super().__init__(root, mailbox="poison")
        self.engine = engine
        self.settled: dict[str, tuple[MailStatus, str | None]] = {}

    def settle(self, handle: Handle, status: MailStatus) -> None:
        key = BlobStore.key_of(handle.key.read_bytes())
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(MailMessage.status, MailMessage.reason).where(MailMessage.blob_key == key)
            ).one()
        self.settled[handle.key.name] = (row[0], row[1])
        super().settle(handle, status)


def drop(folder: Path, *mails: tuple[str, bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in mails:
        (folder / name).write_bytes(data)


def rows(engine: sa.Engine) -> dict[str, object]:
    with engine.connect() as conn:
        mails = conn.execute(sa.select(MailMessage.status, MailMessage.reason, MailMessage.blob_key)).all()
        audits = conn.execute(
            sa.select(AuditEntry.subject, AuditEntry.data).where(AuditEntry.action == "mail.quarantined")
        ).all()
        documents = conn.execute(sa.select(sa.func.count()).select_from(ReceivedDocument)).scalar()
    return {"mails": mails, "audits": audits, "documents": documents}


FAULTS = {
    "bug": lambda: RuntimeError("filing crashed"),
    # What PostgreSQL says of a value too long for its column (SQLite never says it): a database error, not a lost
    # connection. Before issue 14 the poll loop took every DBAPIError for a lost connection and retried it forever.
    "data_error": lambda: sa.exc.DataError(
        "INSERT INTO received_documents ...", None, ValueError("value too long for type character varying(96)")
    ),
    # Three IntegrityErrors in a row are not a concurrent duplicate (that is decided again as a duplicate): a value.
    "integrity_error": lambda: sa.exc.IntegrityError(
        "INSERT INTO received_documents ...", None, ValueError("null value in column violates not-null constraint")
    ),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_batch_of_50_with_one_poison_files_49_and_the_next_poll_takes_new_mail(
    fault: str, database: sa.Engine, poison: Poison, tmp_path: Path
) -> None:
    folder = tmp_path / "buzon"
    drop(folder, *((f"m{n:02d}.eml", invoice_mail(n)) for n in range(50)))
    poison.cufes.add(cufe_of(POISON))
    poison.fault = FAULTS[fault]()
    intake = intake_on(database, tmp_path / "blobs")
    source = CheckedFolder(folder, database)

    summary = poll_once(source, intake)  # before issue 14: raised, and raised again on every later poll

    assert (summary.messages, summary.filed, summary.quarantined) == (50, 49, {"error_interno": 1})
    assert poison.raised >= 2  # in the batch, then alone
    (quarantined,) = [r for r in summary.results if r.status == MailStatus.QUARANTINED]
    assert quarantined.reason == QuarantineReason.INTERNAL_ERROR
    expected = {
        "bug": "RuntimeError: filing crashed",
        "data_error": "DataError: (builtins.ValueError) value too long for type character varying(96)",
        "integrity_error": "IntegrityError: (builtins.ValueError) null value in column violates not-null constraint",
    }[fault]
    assert quarantined.detail == f"Error interno al procesar el correo: {expected}"
    found = rows(database)
    assert found["documents"] == 49
    statuses = sorted((str(status), str(reason)) for status, reason, _ in found["mails"])  # type: ignore[union-attr]
    assert statuses == [("filed", "None")] * 49 + [("quarantined", "error_interno")]
    # Its audit entry, and nothing lost: the raw bytes are the mail's blob.
    (audit_subject, audit_data), *more = found["audits"]  # type: ignore[misc]
    assert not more and audit_subject == f"mail:{quarantined.mail_id}"
    assert audit_data["reason"] == "error_interno" and audit_data["detail"] == quarantined.detail
    poison_key = next(key for status, _, key in found["mails"] if status == MailStatus.QUARANTINED)  # type: ignore[union-attr]
    assert BlobStore(tmp_path / "blobs").get(poison_key) == invoice_mail(POISON)
    # Each message settled after its outcome was committed: the poison into cuarentena/, the others into procesados/.
    assert source.settled[f"m{POISON:02d}.eml"] == (MailStatus.QUARANTINED, QuarantineReason.INTERNAL_ERROR)
    others = [status for name, (status, _) in source.settled.items() if name != f"m{POISON:02d}.eml"]
    assert others == [MailStatus.FILED] * 49
    assert [p.name for p in (folder / "cuarentena").iterdir()] == [f"m{POISON:02d}.eml"]
    assert len(list((folder / "procesados").iterdir())) == 49

    # The next poll takes new mail, and does not trip on the poison again (it is not pending).
    drop(folder, *((f"n{n:02d}.eml", invoice_mail(n)) for n in range(50, 53)))
    raised = poison.raised
    again = poll_once(source, intake)
    assert (again.messages, again.filed, again.quarantined) == (3, 3, {})
    assert poison.raised == raised
    assert rows(database)["documents"] == 52


def test_a_lost_connection_is_waited_out_not_quarantined(database: sa.Engine, poison: Poison, tmp_path: Path) -> None:
    folder = tmp_path / "buzon"
    drop(folder, *((f"m{n:02d}.eml", invoice_mail(n)) for n in range(5)))
    poison.cufes.add(cufe_of(2))
    poison.fault = sa.exc.OperationalError(
        "INSERT INTO received_documents ...", None, ValueError("server closed the connection"),
        connection_invalidated=True,
    )  # fmt: skip
    intake = intake_on(database, tmp_path / "blobs")
    source = FolderSource(folder, mailbox="poison")
    with pytest.raises(sa.exc.OperationalError):
        poll_once(source, intake)  # the poll loop waits its backoff delay and polls again
    assert len(intake.pending("poison")) == 5  # the batch was not decided: recorded, waiting, nothing settled
    assert not (folder / "cuarentena").exists() and not (folder / "procesados").exists()
    poison.cufes.clear()  # the database is back
    summary = poll_once(source, intake)
    assert (summary.filed, summary.quarantined) == (5, {})
    assert intake.pending("poison") == []
    assert len(list((folder / "procesados").iterdir())) == 5


def test_pending_mail_that_fails_is_quarantined_once_never_retried(
    database: sa.Engine, poison: Poison, tmp_path: Path
) -> None:
    """A message a crashed run left recorded but undecided is processed first by the next poll: when it fails, it is
    quarantined, and the new mail behind it is taken in the same poll."""
    folder = tmp_path / "buzon"
    intake = intake_on(database, tmp_path / "blobs")
    data = invoice_mail(60)
    mail_id, status = intake.receive(Envelope(mailbox="poison", data=data, name="left.eml"))
    assert status == MailStatus.PENDING
    drop(folder, ("left.eml", data), ("new.eml", invoice_mail(61)))
    poison.cufes.add(cufe_of(60))
    summary = poll_once(FolderSource(folder, mailbox="poison"), intake)
    assert summary.quarantined == {"error_interno": 1} and summary.filed == 1
    assert intake.outcome(mail_id).reason == QuarantineReason.INTERNAL_ERROR
    assert intake.pending() == []
    assert [p.name for p in (folder / "cuarentena").iterdir()] == ["left.eml"]
    raised = poison.raised
    assert poll_once(FolderSource(folder, mailbox="poison"), intake).messages == 0
    assert poison.raised == raised


def test_headers_no_database_can_store_are_cleaned_before_the_batch_is_recorded(
    database: sa.Engine, tmp_path: Path
) -> None:
    """What a sender puts in a header (a NUL, raw 8-bit bytes, two Subject headers, a Message-ID of 998 characters
    of four bytes each, past PostgreSQL's index limit) must not fail the INSERT that records the whole batch."""
    long_id = "<" + "".join(chr(0x10000 + (i * 7919) % 60000) for i in range(1100)) + "@x>"
    hostile = [
        b"Subject: =?utf-8?q?factura=00nula?=\r\nFrom: a@prov.test\r\nMessage-ID: <nul@prov.test>\r\n\r\nx\r\n",
        b"Subject: Factura n\xba 5\r\nSubject: otra\r\nFrom: Jos\xe9 <b@prov.test>\r\n\r\nx\r\n",
        b"Subject: largo\r\nFrom: c@prov.test\r\nMessage-ID: " + long_id.encode() + b"\r\n\r\nx\r\n",
    ]
    intake = intake_on(database, tmp_path / "blobs")
    envelopes = [Envelope(mailbox="poison", data=d, name=f"h{i}.eml") for i, d in enumerate(hostile)]
    envelopes.append(Envelope(mailbox="poison", data=b"<a/>", name="archivo-\udcff.xml"))  # an undecodable file name
    results = intake.take_many(envelopes)
    assert [r.status for r in results] == [MailStatus.QUARANTINED] * 4  # no document in any, but each recorded
    with database.connect() as conn:
        kept = conn.execute(sa.select(MailMessage.subject, MailMessage.sender, MailMessage.message_id)
                            .order_by(MailMessage.id)).all()  # fmt: skip
    assert kept[0][0] == "facturanula"
    assert kept[1][:2] == ("Factura nº 5", "b@prov.test")
    assert kept[2][2] is not None and len(kept[2][2].encode()) <= 998
    assert kept[3][0] == "archivo-?.xml"


@pytest.fixture
def postgresql(tmp_path: Path) -> Iterator[sa.Engine]:
    with migrated_database("postgresql", tmp_path) as engine:
        yield engine


def test_a_signed_invoice_whose_uuid_does_not_fit_is_quarantined_and_intake_goes_on(
    postgresql: sa.Engine, tmp_path: Path
) -> None:
    """The real poison of issue 14 on PostgreSQL: a cbc:UUID of 120 characters (the column holds 96) raised DataError
    and stopped intake for good. It may be refused earlier, for its shape; either way it is quarantined alone."""
    folder = tmp_path / "buzon"
    long_uuid = (cufe_of(POISON) + cufe_of(POISON + 1000))[:120]
    mails = [(f"m{n:02d}.eml", invoice_mail(n, long_uuid if n == POISON else None)) for n in range(50)]
    drop(folder, *mails)
    intake = intake_on(postgresql, tmp_path / "blobs")
    summary = poll_once(FolderSource(folder, mailbox="poison"), intake)
    assert (summary.messages, summary.filed, sum(summary.quarantined.values())) == (50, 49, 1)
    (quarantined,) = [r for r in summary.results if r.status == MailStatus.QUARANTINED]
    assert quarantined.reason is not None and quarantined.detail
    assert [p.name for p in (folder / "cuarentena").iterdir()] == [f"m{POISON:02d}.eml"]
    drop(folder, ("nueva.eml", invoice_mail(70)))
    again = poll_once(FolderSource(folder, mailbox="poison"), intake)
    assert (again.messages, again.filed) == (1, 1)
    assert intake.pending() == []


def test_the_imap_poll_loop_goes_on_after_a_poison_mail(dovecot, poison: Poison, tmp_path: Path) -> None:
    """`buzon poll`'s loop against Dovecot: the poison lands in the quarantine folder, the loop does not reconnect or
    stop, and mail that arrives afterwards is filed by the same loop."""
    folder, processed, quarantine = "PoisonIn", "Poison/Procesados", "Poison/Cuarentena"
    append(dovecot, folder, *(invoice_mail(n) for n in range(80, 85)))
    poison.cufes.add(cufe_of(82))
    engine = make_engine(f"sqlite:///{tmp_path / 'imap.sqlite3'}")
    migrate(engine)
    intake = intake_on(engine, tmp_path / "blobs")
    options = ImapOptions(
        host=dovecot.host, port=dovecot.port, tls="none", user=dovecot.user, password=dovecot.password, folder=folder,
        processed_folder=processed, quarantine_folder=quarantine, timeout=10,
    )  # fmt: skip
    connections: list[ImapSource] = []
    logged: list[str] = []
    state = {"appended": False}

    def connect() -> ImapSource:
        connections.append(ImapSource(options).connect())
        return connections[-1]

    def done() -> bool:
        with engine.connect() as conn:
            decided = dict(conn.execute(
                sa.select(MailMessage.status, sa.func.count()).group_by(MailMessage.status)
            ).all())  # fmt: skip
        if not state["appended"] and decided.get(MailStatus.QUARANTINED) == 1:
            append(dovecot, folder, invoice_mail(85))  # new mail, after the poison was dealt with
            state["appended"] = True
        return decided.get(MailStatus.FILED, 0) == 5

    try:
        run(connect, intake, wait_seconds=2, sleep=lambda s: None, stop=done, log=logged.append, transient=TRANSIENT)
    finally:
        engine.dispose()
    assert len(connections) == 1, logged  # never took the poison for a lost connection
    assert not any("conexión perdida" in line or "falló" in line for line in logged), logged
    assert folder_counts(dovecot, folder, processed, quarantine) == {folder: 0, processed: 5, quarantine: 1}


def test_buzon_import_takes_the_other_49_and_the_next_import_takes_new_mail(engine: sa.Engine, tmp_path: Path) -> None:
    """The same through `buzon import` (its own process, its own configuration), on SQLite and PostgreSQL: the
    120-character UUID among 50 mails, then a new file."""
    p = pki()
    trust_folder = write_ca_folder(tmp_path / "trust", p.root, p.intermediate, p.dian_root)
    url_cm: contextlib.AbstractContextManager[str] = (
        contextlib.nullcontext(f"sqlite:///{tmp_path / 'buzon.sqlite3'}")
        if engine.dialect.name == "sqlite"
        else fresh_postgres_database()
    )
    with url_cm as url:
        (tmp_path / "buzon.toml").write_text(
            f'data_dir = "{tmp_path / "var"}"\n[database]\nurl = "{url}"\n'
            f'[company]\nnit = "{COMPANY_NIT}-{check_digit(COMPANY_NIT)}"\n[dian]\ntrust_store = "{trust_folder}"\n'
        )
        env = {**os.environ, "BUZON_CONFIG": str(tmp_path / "buzon.toml")}
        env.pop("BUZON_CRASH_AT", None)

        def buzon(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([sys.executable, "-m", "buzon.cli", *args], cwd=REPO, env=env, capture_output=True,
                                  text=True, timeout=300)  # fmt: skip

        assert buzon("init").returncode == 0
        folder = tmp_path / "correo"
        long_uuid = (cufe_of(POISON) + cufe_of(POISON + 1000))[:120]
        drop(folder, *((f"m{n:02d}.eml", invoice_mail(n, long_uuid if n == POISON else None)) for n in range(50)))
        first = buzon("import", "--json", str(folder))
        assert first.returncode == 0, first.stderr[-2000:]
        summary = json.loads(first.stdout.strip().splitlines()[-1])
        assert (summary["filed"], sum(summary["quarantined"].values())) == (49, 1), summary
        drop(tmp_path / "nuevo", ("nueva.eml", invoice_mail(71)))
        second = buzon("import", "--json", str(tmp_path / "nuevo"))
        assert second.returncode == 0, second.stderr[-2000:]
        assert json.loads(second.stdout.strip().splitlines()[-1]) == {"filed": 1, "duplicates": 0, "quarantined": {}}


def test_a_mail_row_the_database_refuses_is_recorded_bare_and_quarantined(database, tmp_path, monkeypatch) -> None:
    """Recording itself fails for one message (here its row carries a naive time, which the column type refuses, as a
    header no cleaning foresaw could): that message is recorded without its headers and quarantined, the rest of the
    batch is recorded and filed, and the poll goes on."""
    original = Intake._mail_row
    spoiled = {"count": 0}

    def mail_row(intake: Intake, envelope: Envelope, key: str):  # type: ignore[no-untyped-def]
        row, received = original(intake, envelope, key)
        if envelope.uid == 3:
            spoiled["count"] += 1
            row = {**row, "received_at": dt.datetime(2025, 3, 3, 9, 0)}  # naive: UTCDateTime refuses it
        return row, received

    monkeypatch.setattr(Intake, "_mail_row", mail_row)
    intake = intake_on(database, tmp_path / "blobs")
    envelopes = [Envelope(mailbox="rows", data=invoice_mail(n), uidvalidity=1, uid=n) for n in range(1, 6)]
    results = intake.take_many(envelopes)
    assert spoiled["count"] >= 1
    assert [r.status for r in results] == [MailStatus.FILED, MailStatus.FILED, MailStatus.QUARANTINED,
                                           MailStatus.FILED, MailStatus.FILED]  # fmt: skip
    refused = results[2]
    assert refused.reason == QuarantineReason.INTERNAL_ERROR and not refused.earlier
    assert "naive datetime" in (refused.detail or "")
    with database.connect() as conn:
        row = conn.execute(sa.select(MailMessage).where(MailMessage.id == refused.mail_id)).one()
        assert row.blob_key == BlobStore.key_of(envelopes[2].data)  # the raw bytes are kept
        assert conn.execute(sa.select(sa.func.count()).select_from(MailMessage)).scalar() == 5
        assert conn.execute(
            sa.select(sa.func.count()).select_from(AuditEntry).where(AuditEntry.subject == f"mail:{refused.mail_id}")
        ).scalar() == 1
    assert intake.pending() == []
