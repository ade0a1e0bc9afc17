"""Intake in batches (how `buzon poll` and `buzon import` take mail), on SQLite and PostgreSQL, each on a database of
its own so that two intakes really race: a batch decides every message exactly as taking them one at a time does,
files a CUFE once however often it appears in the batch, links what arrives together, survives a concurrent intake
filing one of its invoices mid-batch, and a message that fails does not hold back the rest of its batch."""

from __future__ import annotations

import contextlib
import itertools
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from inbox.intake import Envelope, Intake, IntakePolicy, Result
from inbox.poll import BATCH_BYTES, BATCH_MESSAGES, batches
from store.blobs import BlobStore
from store.models import AuditEntry, DocumentEvent, MailMessage, MailStatus, QuarantineReason, ReceivedDocument
from tests.integration.inbox_fixtures import (
    NOW,
    PDF,
    XXE,
    event_xml,
    mail,
    resigned,
    sample_mail,
    signed,
    tampered,
    zip_bomb,
    zip_bytes,
)
from tests.services import migrated_database

pytestmark = pytest.mark.integration
_names = itertools.count(1)


def database(kind: str, tmp_path: Path) -> contextlib.AbstractContextManager[sa.Engine]:
    """A migrated database of this test's own (a file, or a fresh PostgreSQL database), with real connections."""
    return migrated_database(kind, tmp_path)


def intake_on(engine: sa.Engine, blobs: Path, cls: type[Intake] = Intake, **kwargs: object) -> Intake:
    s_ = signed()
    policy = IntakePolicy(our_nit=s_.company_nit, trust=s_.trust, **kwargs)  # type: ignore[arg-type]
    return cls(sessionmaker(engine, expire_on_commit=False), BlobStore(blobs), policy, clock=lambda: NOW)


def envelope(data: bytes, uid: int, **kwargs: object) -> Envelope:
    return Envelope(mailbox="batch", data=data, uidvalidity=7, uid=uid, **kwargs)  # type: ignore[arg-type]


def mixed() -> list[Envelope]:
    """A poll's worth of mail in an awkward order: a note and an event before their invoice, the invoice again in
    another mail, a copy of the invoice's own mail, and every kind of refusal."""
    s_ = signed()
    invoice_mail = mail(("ad.xml", s_.invoice.attached), ("fv.pdf", PDF))
    datas = [
        mail(("nc.zip", zip_bytes(("nc.xml", s_.note.attached)))),  # the note before its invoice
        mail(("ar.xml", event_xml(s_)), subject="Evento;PLA42;034"),  # the seller's 034 before the invoice
        invoice_mail,
        mail(("factura.zip", zip_bytes(("ad.xml", s_.invoice.attached)))),  # the same invoice in another mail
        invoice_mail,  # the very same mail again (same Message-ID and bytes), under another UID
        sample_mail(),  # a real invoice for another company
        mail(("ad.xml", tampered())),
        mail(("ad.xml", XXE)),
        mail(("z.zip", zip_bomb())),
        mail(),  # nothing inside
    ]
    out = [envelope(data, uid) for uid, data in enumerate(datas, start=1)]
    out.append(envelope(b"Subject: grande\r\n\r\n", len(out) + 1, oversize=50 * 1024 * 1024))
    return out


def outcome_rows(engine: sa.Engine) -> dict[str, object]:
    with engine.connect() as conn:
        docs = conn.execute(
            sa.select(ReceivedDocument.cufe, ReceivedDocument.number, ReceivedDocument.referenced_document_id)
        ).all()
        events = conn.execute(sa.select(DocumentEvent.cude, DocumentEvent.document_id)).all()
        mails = conn.execute(sa.select(MailMessage.uid, MailMessage.status, MailMessage.reason)).all()
        actions = Counter(conn.execute(sa.select(AuditEntry.action)).scalars())
        ids = {cufe: id_ for cufe, id_ in conn.execute(sa.select(ReceivedDocument.cufe, ReceivedDocument.id))}
    return {
        "documents": sorted((number, ref is not None) for _, number, ref in docs),
        "ids": ids,
        "cufes": len({c for c, _, _ in docs}) == len(docs),
        "events": sorted(doc is not None for _, doc in events),
        "mails": sorted((uid, str(status), str(reason)) for uid, status, reason in mails),
        "audit": dict(actions),
    }


def following() -> list[Envelope]:
    """Mail that names what an earlier mail of the same batch files: a note, an event and a second event after their
    invoice, the invoice signed again (same CUFE, other bytes), and the event and the note again in other mails."""
    s_ = signed()
    datas = [
        mail(("ad.xml", s_.invoice.attached)),
        mail(("nc.xml", s_.note.attached)),  # its invoice is not committed yet: the note must still point at it
        mail(("ar.xml", event_xml(s_)), subject="Evento;PLA42;034"),
        mail(("fv.xml", resigned(s_))),  # names the document number of the invoice filed above
        mail(("ar.xml", event_xml(s_)), subject="Evento;PLA42;034 (reenvío)"),  # the same CUDE
        mail(("ar.xml", event_xml(s_, number="EV2")), subject="Evento;PLA42;034 EV2"),
        mail(("nc.zip", zip_bytes(("nc.xml", s_.note.attached)))),
    ]
    return [envelope(data, uid) for uid, data in enumerate(datas, start=1)]


def one_batch_and_one_at_a_time(
    kind: str, tmp_path: Path, envelopes: list[Envelope]
) -> tuple[list[Result], list[list[int]], dict[str, object]]:
    """The envelopes taken as one batch and one at a time, each into a database of its own: the batch's results
    (checked equal to the others, as are the rows written), the documents it had derived again, and its rows."""
    with database(kind, tmp_path) as single_db, database(kind, tmp_path) as batch_db:
        one = intake_on(single_db, tmp_path / "blobs-one")
        singles = [one.take(e) for e in envelopes]
        touched: list[list[int]] = []
        many = intake_on(batch_db, tmp_path / "blobs-many", on_documents=touched.append)
        together = many.take_many(envelopes)
        assert len(together) == len(singles) == len(envelopes)
        for a, b in zip(singles, together, strict=True):
            assert (a.mail_id, a.status, a.reason, a.detail) == (b.mail_id, b.status, b.reason, b.detail)
            assert (a.filed, a.duplicates, a.events) == (b.filed, b.duplicates, b.events)
        rows = outcome_rows(batch_db)
        assert outcome_rows(single_db) == rows
    return together, touched, rows


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_batch_decides_every_message_as_one_at_a_time_does(kind: str, tmp_path: Path) -> None:
    together, touched, _ = one_batch_and_one_at_a_time(kind, tmp_path, mixed())
    assert len(together) == 11
    statuses = [(r.status, r.reason) for r in together]
    assert statuses == [
        (MailStatus.FILED, None),  # the note, linked once its invoice is filed
        (MailStatus.FILED, None),  # the event, linked likewise
        (MailStatus.FILED, None),  # the invoice
        (MailStatus.IGNORED, QuarantineReason.DUPLICATE),  # the same invoice in another mail
        (MailStatus.IGNORED, QuarantineReason.DUPLICATE),  # the same mail again
        (MailStatus.QUARANTINED, QuarantineReason.NOT_FOR_US),
        (MailStatus.QUARANTINED, QuarantineReason.SIGNATURE_INVALID),
        (MailStatus.QUARANTINED, QuarantineReason.UNREADABLE),
        (MailStatus.QUARANTINED, QuarantineReason.TOO_LARGE),
        (MailStatus.QUARANTINED, QuarantineReason.NO_DOCUMENT),
        (MailStatus.QUARANTINED, QuarantineReason.TOO_LARGE),
    ]
    assert "mensaje #3" in (together[4].detail or "")  # the copy names the mail it copies
    assert len(touched) == 1 and len(touched[0]) == 1  # the invoice whose event arrived before it, derived again


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_what_a_batch_files_is_on_file_for_the_mail_after_it_in_the_same_batch(kind: str, tmp_path: Path) -> None:
    together, touched, rows = one_batch_and_one_at_a_time(kind, tmp_path, following())
    assert [(r.status, r.reason) for r in together] == [
        (MailStatus.FILED, None),  # the invoice
        (MailStatus.FILED, None),  # the note, pointing at it
        (MailStatus.FILED, None),  # the event, on it
        (MailStatus.QUARANTINED, QuarantineReason.DUPLICATE),  # other signed bytes under its CUFE
        (MailStatus.IGNORED, QuarantineReason.DUPLICATE),  # the event again
        (MailStatus.FILED, None),  # a second event on it
        (MailStatus.IGNORED, QuarantineReason.DUPLICATE),  # the note again
    ]
    invoice_id = rows["ids"][signed().invoice.cufe]  # type: ignore[index]
    assert f"(documento #{invoice_id})" in (together[3].detail or "")
    assert rows["documents"] == sorted([(signed().note.number, True), (signed().invoice.number, False)])
    assert rows["events"] == [True, True]  # both events point at the invoice
    assert [sorted(ids) for ids in touched] == [[invoice_id]]


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_same_batch_taken_again_changes_nothing(kind: str, tmp_path: Path) -> None:
    with database(kind, tmp_path) as engine:
        intake = intake_on(engine, tmp_path / "blobs")
        envelopes = mixed()
        first = intake.take_many(envelopes)
        before = outcome_rows(engine)
        again = intake.take_many(envelopes)
        assert all(r.earlier for r in again)
        assert [(r.mail_id, r.status) for r in again] == [(r.mail_id, r.status) for r in first]
        assert outcome_rows(engine) == before


class _RacedIntake(Intake):
    """Lets another intake file an invoice right after this one checked it was not on file (the race's window)."""

    rival: Intake
    rival_mail: Envelope
    raced = False

    def _resolve(self, conn, plan) -> None:  # type: ignore[no-untyped-def]
        super()._resolve(conn, plan)
        if not self.raced:
            self.raced = True
            assert self.rival.take(self.rival_mail).status == MailStatus.FILED


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_rival_filing_an_invoice_mid_batch_makes_it_a_duplicate(kind: str, tmp_path: Path) -> None:
    s_ = signed()
    with database(kind, tmp_path) as engine:
        ours = intake_on(engine, tmp_path / "blobs", cls=_RacedIntake)
        assert isinstance(ours, _RacedIntake)
        ours.rival = intake_on(engine, tmp_path / "blobs")
        ours.rival_mail = envelope(mail(("otra.zip", zip_bytes(("ad.xml", s_.invoice.attached)))), 100)
        results = ours.take_many(
            [
                envelope(mail(("ad.xml", s_.invoice.attached)), 1),
                envelope(mail(("nc.zip", zip_bytes(("nc.xml", s_.note.attached)))), 2),
            ]
        )
        assert ours.raced
        # The batch's insert met the rival's CUFE; each message was decided again on its own.
        assert (results[0].status, results[0].duplicates) == (MailStatus.IGNORED, [s_.invoice.cufe.lower()])
        assert results[1].status == MailStatus.FILED
        with engine.connect() as conn:
            docs = dict(conn.execute(sa.select(ReceivedDocument.cufe, ReceivedDocument.id)).all())
            note_ref = conn.execute(
                sa.select(ReceivedDocument.referenced_document_id).where(ReceivedDocument.cufe == s_.note.cufe.lower())
            ).scalar_one()
            pending = conn.execute(
                sa.select(sa.func.count()).where(MailMessage.status == MailStatus.PENDING)
            ).scalar_one()
        assert len(docs) == 2 and note_ref == docs[s_.invoice.cufe.lower()]
        assert pending == 0


@pytest.mark.parametrize("rival_brings", ["note", "event"])
@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_note_or_event_filed_by_a_rival_while_its_invoice_is_in_flight_gets_linked(
    kind: str, rival_brings: str, tmp_path: Path
) -> None:
    """Neither transaction sees the other's uncommitted rows; the link is made after the second commit."""
    s_ = signed()
    with database(kind, tmp_path) as engine:
        touched: list[list[int]] = []
        ours = intake_on(engine, tmp_path / "blobs", cls=_RacedIntake, on_documents=touched.append)
        assert isinstance(ours, _RacedIntake)
        ours.rival = intake_on(engine, tmp_path / "blobs")
        if rival_brings == "note":
            ours.rival_mail = envelope(mail(("nc.zip", zip_bytes(("nc.xml", s_.note.attached)))), 100)
        else:
            ours.rival_mail = envelope(mail(("ar.xml", event_xml(s_)), subject="Evento;034"), 100)
        [result] = ours.take_many([envelope(mail(("ad.xml", s_.invoice.attached)), 1)])
        assert ours.raced and result.status == MailStatus.FILED
        with engine.connect() as conn:
            invoice_id = conn.execute(
                sa.select(ReceivedDocument.id).where(ReceivedDocument.cufe == s_.invoice.cufe.lower())
            ).scalar_one()
            if rival_brings == "note":
                linked = conn.execute(
                    sa.select(ReceivedDocument.referenced_document_id).where(
                        ReceivedDocument.cufe == s_.note.cufe.lower()
                    )
                ).scalar_one()
            else:
                linked = conn.execute(sa.select(DocumentEvent.document_id)).scalar_one()
        assert linked == invoice_id
        if rival_brings == "event":
            assert touched == [[invoice_id]]  # its state is derived again with the event


class _FailingIntake(Intake):
    """Fails on the message whose subject says so, as a bug or a broken disk would."""

    def _verify(self, mail, data, oversize, message=None):  # type: ignore[no-untyped-def]
        if "ROMPER" in mail.subject:
            raise RuntimeError("verification crashed")
        return super()._verify(mail, data, oversize, message)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_failing_message_does_not_hold_back_its_batch(kind: str, tmp_path: Path) -> None:
    s_ = signed()
    with database(kind, tmp_path) as engine:
        intake = intake_on(engine, tmp_path / "blobs", cls=_FailingIntake)
        batch = [
            envelope(mail(("ad.xml", s_.invoice.attached)), 1),
            envelope(mail(("ad.xml", s_.note.attached), subject="ROMPER"), 2),
            envelope(mail(("ar.xml", event_xml(s_)), subject="Evento"), 3),
        ]
        results = intake.take_many(batch)
        with engine.connect() as conn:
            statuses = dict(conn.execute(sa.select(MailMessage.uid, MailMessage.status)).all())
        # The others were decided and committed; the failing one is quarantined as an internal error (its own
        # transaction, nothing half-written), so that no later run trips on it again.
        assert statuses == {1: MailStatus.FILED, 2: MailStatus.QUARANTINED, 3: MailStatus.FILED}
        assert (results[1].reason, results[1].detail) == (
            QuarantineReason.INTERNAL_ERROR, "Error interno al procesar el correo: RuntimeError: verification crashed"
        )
        assert intake.pending("batch") == []


def test_batches_close_at_their_count_or_their_bytes() -> None:
    small = [envelope(b"x" * 10, uid) for uid in range(1, BATCH_MESSAGES * 2 + 2)]
    assert [len(b) for b in batches(small)] == [BATCH_MESSAGES, BATCH_MESSAGES, 1]
    large = [envelope(b"x" * (BATCH_BYTES // 2 + 1), uid) for uid in range(1, 6)]
    assert [len(b) for b in batches(large)] == [2, 2, 1]
    assert list(batches([])) == []
