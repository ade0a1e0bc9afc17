"""The intake service: ``Intake`` takes batches of messages through their steps, in order, and commits each step's
transaction before the next begins — ``receiving`` (fetched, stored, recorded), then for the pending messages a lock,
``planning`` (verified), ``applying`` (the writes), the parts stored and the outcome ``committed`` in one transaction.
A batch that fails is taken again one message at a time, and a message that fails on its own is quarantined
(error_interno): no mail stops the others or the poll; only a lost database connection is raised.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from email.message import Message
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from inbox.faults import lost_connection
from inbox.intake import applying, receiving
from inbox.intake.keys import RunKeys
from inbox.intake.known import Known
from inbox.intake.plan import Item, Mail, Plan
from inbox.intake.planning import Planner
from inbox.intake.reasons import audit_internal_error, internal_error
from inbox.intake.receiving import Received
from inbox.intake.terms import ACTOR, Envelope, IntakePolicy, Result
from inbox.intake.tx import SessionTx, Tx
from inbox.intake.writes import Writes
from store import audit, locks
from store.blobs import BlobStore
from store.models import DocumentEvent, MailMessage, MailStatus, QuarantineReason, ReceivedDocument

log = logging.getLogger("buzon.intake")

_MAILS = MailMessage.__table__
_DOCS = ReceivedDocument.__table__
_EVENTS = DocumentEvent.__table__
_EARLIER = _MAILS.alias("earlier")
# The messages of a batch, locked for this process (those another holds are skipped), each with the first message
# already decided that has the same Message-ID and the same bytes (a copy of the same mail), in one round trip.
_LOCK_MAILS = (
    sa.select(
        _MAILS.c.id,
        _MAILS.c.status,
        _MAILS.c.blob_key,
        _MAILS.c.message_id,
        _MAILS.c.subject,
        sa.select(_EARLIER.c.id)
        .where(
            _EARLIER.c.message_id == _MAILS.c.message_id,
            _EARLIER.c.blob_key == _MAILS.c.blob_key,
            _EARLIER.c.id != _MAILS.c.id,
            _EARLIER.c.status != MailStatus.PENDING,
        )
        .order_by(_EARLIER.c.id)
        .limit(1)
        .scalar_subquery()
        .label("earlier"),
    )
    .where(_MAILS.c.id.in_(sa.bindparam("mail_ids", expanding=True)))
    .order_by(_MAILS.c.id)
    .with_for_update(skip_locked=True, of=_MAILS)
)
_SETTLE_MAIL = (
    _MAILS.update()
    .where(_MAILS.c.id == sa.bindparam("settled_id"))
    .values(status=sa.bindparam("new_status"), reason=sa.bindparam("new_reason"), reason_detail=sa.bindparam("detail"))
)
# After the commit, for the CUFEs a batch filed or referred to without finding: notes and events still unlinked whose
# document is now on file point at it. A concurrent intake may have filed a note (or an event) while our invoice was
# in flight, or the invoice while our note was: neither transaction saw the other, and whichever commits second links
# them here.
_ON_FILE = _DOCS.alias("on_file")


def _relink_statement(table: sa.Table, link: sa.Column[Any]) -> sa.Update:
    target = sa.select(_ON_FILE.c.id).where(_ON_FILE.c.cufe == table.c.referenced_cufe).scalar_subquery()
    return (
        table.update()
        .where(link.is_(None), table.c.referenced_cufe.in_(sa.bindparam("cufes", expanding=True)), target.is_not(None))
        .values({link.name: target})
    )


_RELINK_NOTES = _relink_statement(_DOCS, _DOCS.c.referenced_document_id)
_RELINK_EVENTS = _relink_statement(_EVENTS, _EVENTS.c.document_id).returning(_EVENTS.c.document_id)

RACE_ATTEMPTS = 5  # a batch that deadlocks with another intake this often in a row is left to the poll's backoff
# A message to process: its id, the real size when the source refused to download it, what receive read of it.
_Todo = tuple[int, int | None, Received | None]


class Intake:
    """The intake service; one instance serves a whole poll or import run."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        blobs: BlobStore,
        policy: IntakePolicy,
        *,
        clock: Callable[[], datetime],
        actor: str = ACTOR,
        hook: Callable[[str], None] | None = None,
    ) -> None:
        self.sessions = sessions
        self.blobs = blobs
        self.policy = policy
        self.clock = clock
        self.actor = actor
        self.hook = hook or (lambda step: None)
        self._engine: sa.Engine | Literal[False] | None = None
        self._keys = RunKeys(sessions, policy)
        self._planner = Planner(policy, self._keys, blobs)
        self._refused: set[int] = set()  # mail rows recorded quarantined by this run (receiving.Recording)

    # --- what is recorded ---------------------------------------------------------------------------------------

    def known_many(self, mailbox: str, uidvalidity: int, uids: list[int]) -> dict[int, tuple[int, MailStatus]]:
        """The id and status of each of these UIDs recorded under (mailbox, UIDVALIDITY), in one query."""
        if not uids:
            return {}
        with self.sessions() as s:
            rows = s.execute(
                sa.select(MailMessage.uid, MailMessage.id, MailMessage.status).where(
                    MailMessage.mailbox == mailbox, MailMessage.uidvalidity == uidvalidity, MailMessage.uid.in_(uids)
                )
            ).all()
        return {uid: (mail_id, status) for uid, mail_id, status in rows}

    def known_uids(self, mailbox: str, uidvalidity: int) -> dict[int, MailStatus]:
        """Every UID recorded for this mailbox and UIDVALIDITY, with its status."""
        with self.sessions() as s:
            rows = s.execute(
                sa.select(MailMessage.uid, MailMessage.status).where(
                    MailMessage.mailbox == mailbox, MailMessage.uidvalidity == uidvalidity
                )
            ).all()
        return {uid: status for uid, status in rows if uid is not None}

    def checkpoint(self, mailbox: str, uidvalidity: int) -> int:
        """The highest UID recorded for this mailbox under this UIDVALIDITY (0 when none: start over)."""
        with self.sessions() as s:
            value = s.execute(
                sa.select(sa.func.max(MailMessage.uid)).where(
                    MailMessage.mailbox == mailbox, MailMessage.uidvalidity == uidvalidity
                )
            ).scalar()
        return int(value or 0)

    def pending(self, mailbox: str | None = None) -> list[int]:
        """Ids of recorded messages not processed yet (a crash after ``recorded``), oldest first."""
        with self.sessions() as s:
            query = sa.select(MailMessage.id).where(MailMessage.status == MailStatus.PENDING)
            if mailbox is not None:
                query = query.where(MailMessage.mailbox == mailbox)
            return list(s.execute(query.order_by(MailMessage.id)).scalars())

    def outcome(self, mail_id: int, *, earlier: bool = False) -> Result:
        """The recorded outcome of a processed message."""
        with self.sessions() as s:
            mail = s.get(MailMessage, mail_id)
            assert mail is not None
            cufes = list(
                s.execute(sa.select(ReceivedDocument.cufe).where(ReceivedDocument.mail_message_id == mail_id)).scalars()
            )
            return Result(mail_id, mail.status, mail.reason, mail.reason_detail, filed=cufes, earlier=earlier)

    # --- taking messages ----------------------------------------------------------------------------------------

    def take(self, envelope: Envelope) -> Result:
        """Receive and process one message; a message processed by an earlier run comes back with earlier=True."""
        return self.take_many([envelope])[0]

    def take_many(self, envelopes: Sequence[Envelope]) -> list[Result]:
        """Receive and process a batch of messages, one Result each, in order.

        The batch shares its transactions: the raw bytes and the mail rows are committed together, then the outcomes
        of all its messages are committed together (``inbox.poll.batches`` says how large a batch should be). A message
        processed by an earlier run (or a second copy in the same batch) comes back with earlier=True.
        """
        if not envelopes:
            return []
        self._keys.forget()  # the certificates learned meanwhile (by any process) count from this run on
        self._refused.clear()
        with self._connect() as conn:  # one connection for both transactions
            recorded = self._receive(conn, envelopes)
            todo: dict[int, _Todo] = {}
            for envelope, (mail_id, status, received) in zip(envelopes, recorded, strict=True):
                if status == MailStatus.PENDING:
                    todo.setdefault(mail_id, (mail_id, envelope.oversize, received))
            done = self._process(conn, list(todo.values())) if todo else {}
        results = []
        for mail_id, _, _ in recorded:
            result = done.pop(mail_id, None)
            if result is None:  # decided by an earlier run, or refused as it was recorded just now
                result = self.outcome(mail_id, earlier=mail_id not in self._refused)
            results.append(result)
        return results

    def receive(self, envelope: Envelope) -> tuple[int, MailStatus]:
        """Store the raw bytes and record the message (status pending); a message already recorded is returned."""
        with self._connect() as conn:
            mail_id, status, _ = self._receive(conn, [envelope])[0]
        return mail_id, status

    def process(self, mail_id: int, *, oversize: int | None = None) -> Result:
        """Verify a recorded message and commit its outcome; a message already processed is left as it is."""
        self._keys.forget()
        with self._connect() as conn:
            return self._process(conn, [(mail_id, oversize, None)])[mail_id]

    @contextmanager
    def _connect(self) -> Iterator[Tx]:
        """Where a message's statements go (Core, not the ORM): one connection of the sessions' engine, kept for all
        the transactions of a take, or a session when the sessions are bound to a connection (tests)."""
        if self._engine is None:
            with self.sessions() as s:
                bind = s.get_bind()
            self._engine = bind if isinstance(bind, sa.Engine) else False
        if self._engine is False:
            with self.sessions() as s:
                yield SessionTx(s)
        else:
            with self._engine.connect() as conn:
                yield conn

    # --- fetched, stored, recorded ------------------------------------------------------------------------------

    def _receive(self, conn: Tx, envelopes: Sequence[Envelope]) -> list[receiving.Recorded]:
        """Store the raw bytes of a batch and record its messages (receiving.Recording.batch)."""
        recording = receiving.Recording(conn, self.blobs, self.clock, self.actor, self.hook, self._refused)
        return recording.batch(envelopes, self._mail_row)

    def _mail_row(self, envelope: Envelope, key: str) -> tuple[dict[str, Any], Received]:
        """The MailMessage row of one message (receiving.mail_row), a step of its own that a test may spoil."""
        return receiving.mail_row(envelope, key, self.clock)

    # --- verified, parts_stored, committed ----------------------------------------------------------------------

    def _process(self, conn: Tx, batch: list[_Todo]) -> dict[int, Result]:
        """Process a batch; when it fails, each message on its own. A message that fails on its own is quarantined
        (error_interno) so that the others and the next poll go on; only a lost database connection is raised."""
        if len(batch) > 1:
            try:
                return self._process_raced(conn, batch)
            except Exception as exc:
                if lost_connection(exc):
                    raise  # the database is unreachable: the poll loop waits and tries again
                if not isinstance(exc, IntegrityError):  # else a concurrent intake filed one of its CUFEs first
                    log.warning("a batch of %d messages failed; taking them one by one", len(batch), exc_info=True)
            done: dict[int, Result] = {}
            for entry in batch:
                done.update(self._process(conn, [entry]))
            return done
        failure: Exception | None = None
        for _ in range(3):
            try:
                return self._process_raced(conn, batch)
            except IntegrityError as exc:
                # A concurrent intake filed the same CUFE (or event CUDE) first: decide again, now as a duplicate.
                # Three times in a row is not a race: it is this message's own values.
                failure = exc
            except Exception as exc:
                if lost_connection(exc):
                    raise
                failure = exc
                break
        assert failure is not None
        mail_id = batch[0][0]
        return {mail_id: self._quarantine_failure(conn, mail_id, failure)}

    def _process_raced(self, conn: Tx, batch: list[_Todo]) -> dict[int, Result]:
        """``_process_batch``, taken again at once when it lost a race with another intake process (PostgreSQL's
        deadlock or serialization failure: the transaction was rolled back whole; store.locks)."""
        for attempt in range(RACE_ATTEMPTS):
            try:
                return self._process_batch(conn, batch)
            except Exception as exc:
                if not locks.lost_race(exc) or attempt == RACE_ATTEMPTS - 1:
                    raise
                log.info("a batch of %d messages lost a race with another intake; taking it again", len(batch))
        raise AssertionError("unreachable")

    def _quarantine_failure(self, conn: Tx, mail_id: int, failure: Exception) -> Result:
        """Quarantine a pending message whose processing failed (reason error_interno, with the failure's one-line
        summary and an audit entry) in a transaction of its own; its raw bytes stay its blob, for a later reprocess."""
        reason = QuarantineReason.INTERNAL_ERROR
        detail = internal_error(failure)
        log.error("message #%d failed and is quarantined (%s)", mail_id, reason.value, exc_info=failure)
        try:
            quarantine = (
                _MAILS.update()
                .where(_MAILS.c.id == mail_id, _MAILS.c.status == MailStatus.PENDING)
                .values(status=MailStatus.QUARANTINED, reason=reason, reason_detail=detail)
            )
            if not conn.execute(quarantine).rowcount:
                # Decided meanwhile (by this run, when the failure came after its commit, or by another process).
                conn.rollback()
                return self.outcome(mail_id)
            subject = conn.execute(sa.select(_MAILS.c.subject).where(_MAILS.c.id == mail_id)).scalar_one()
            audit_internal_error(conn, mail_id, detail, failure, subject=subject, actor=self.actor, at=self.clock())
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        return Result(mail_id, MailStatus.QUARANTINED, reason, detail)

    def _process_batch(self, conn: Tx, batch: list[_Todo]) -> dict[int, Result]:
        """Lock the batch's messages, verify each (no write yet), then write every outcome and commit once.

        Verification runs before the first write, so SQLite's write lock is held only while the rows are written.
        The outcomes are written in order, each after its dedupe look-ups, so a CUFE (or a copy of a mail) seen
        twice in one batch is filed once, exactly as in two batches.
        """
        done: dict[int, Result] = {}
        todo: list[tuple[Mail, Plan]] = []
        writes = Writes(self.clock(), self.actor)
        try:
            locked = {row.id: Mail(*row) for row in conn.execute(_LOCK_MAILS, {"mail_ids": [e[0] for e in batch]})}
            copies: dict[tuple[str, str], int] = {}  # (Message-ID, blob) -> the first message of this batch
            for mail_id, oversize, received in batch:
                mail = locked.get(mail_id)
                if mail is None:  # another process holds it right now; it will commit the outcome
                    done[mail_id] = Result(mail_id, MailStatus.PENDING, earlier=True)
                    continue
                if mail.status != MailStatus.PENDING:
                    continue  # decided by an earlier run: its outcome is read below
                if mail.message_id and mail.earlier is None:
                    first = copies.setdefault((mail.message_id, mail.blob_key), mail.id)
                    mail.earlier = first if first != mail.id else None
                if received is not None and received.key == mail.blob_key:
                    data, message = received.data, received.message  # the very bytes the key hashes
                else:
                    data, message = self.blobs.get(mail.blob_key), None
                todo.append((mail, self._verify(mail, data, oversize, message)))
                self.hook("verified")
            if not todo:
                conn.rollback()
            else:
                known = Known(conn, (plan for _, plan in todo), writes)
                for mail, plan in todo:
                    self._resolve(plan, known)
                    done[mail.id] = applying.apply(conn, mail, plan, writes, known, keys=self._keys, file=self._file)
                writes.flush(conn)
                if writes.parts:
                    self.blobs.put_keyed(writes.parts)  # durable before the rows that name them commit
                for _ in todo:
                    self.hook("parts_stored")
                assert None not in writes.audits  # every reserved entry was written by the flush
                audit.insert_entries(conn, writes.audits)  # type: ignore[arg-type]
                settled = [
                    {"settled_id": m.id, "new_status": m.status, "new_reason": m.reason, "detail": m.reason_detail}
                    for m, _ in todo
                ]
                conn.execute(_SETTLE_MAIL, settled)
                conn.commit()
        except BaseException:
            conn.rollback()
            raise
        for _ in todo:
            self.hook("committed")
        for mail_id, _, _ in batch:
            if mail_id not in done:
                done[mail_id] = self.outcome(mail_id, earlier=True)
        touched = {d for mail, _ in todo for d in done[mail.id].touched}
        if writes.relink:
            touched.update(self._relink(conn, sorted(writes.relink)))
        if touched and self.policy.on_documents is not None:
            try:
                self.policy.on_documents(sorted(touched))
            except Exception:  # the outcome is committed; the sync job derives the state again
                log.exception("deriving the state of documents %s after intake failed", sorted(touched))
        receivables = sorted({d for mail, _ in todo for d in done[mail.id].receivables})
        if receivables and self.policy.on_receivables is not None:
            try:
                self.policy.on_receivables(receivables)
            except Exception:  # committed; the receivables sync (job title_sync) derives them again
                log.exception("deriving our receivables %s after intake failed", receivables)
        return done

    def _relink(self, conn: Tx, cufes: list[str]) -> list[int]:
        """Link what a concurrent intake left unlinked (see _RELINK_NOTES); the documents whose events were linked."""
        try:
            conn.execute(_RELINK_NOTES, {"cufes": cufes})
            linked = [row[0] for row in conn.execute(_RELINK_EVENTS, {"cufes": cufes})]
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        return linked

    # The steps a message's batch goes through, each a method of its own (a test may fail or race one of them).

    def _verify(self, mail: Mail, data: bytes, oversize: int | None, message: Message | None = None) -> Plan:
        """What to do with a message, from its bytes alone (planning.Planner.verify)."""
        return self._planner.verify(mail, data, oversize, message)

    def _resolve(self, plan: Plan, known: Known) -> None:
        """The plan's items against what is on file (planning.Planner.resolve)."""
        self._planner.resolve(plan, known)

    def _file(
        self,
        mail: Mail,
        item: Item,
        keys: dict[str, str | None],
        pdf_key: str | None,
        writes: Writes,
        known: Known,
        result: Result,
    ) -> None:
        """File one verified document (applying.file_document)."""
        applying.file_document(mail, item, keys, pdf_key, writes, known, result)
