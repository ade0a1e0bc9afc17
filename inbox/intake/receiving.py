"""Receiving: the steps ``fetched``, ``stored`` and ``recorded`` of a batch of messages.

The batch's raw bytes become blobs in one blob transaction (content-addressed: storing them again is harmless), then
its messages become MailMessage rows with status ``pending``, inserted in one statement and committed together. A
message recorded already (by UID, or by its bytes when the source has no UIDs) comes back with its id and status; a
row the database refuses as a sender's headers made it is recorded bare and quarantined, so no mail stops the poll.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from inbox import unpack  # called through the module: tests count the parses of inbox.unpack.parse_mail
from inbox.faults import lost_connection, storable
from inbox.intake.reasons import audit_internal_error, internal_error
from inbox.intake.terms import Envelope
from inbox.intake.tx import Tx
from store.blobs import BlobStore
from store.models import MailMessage, MailStatus, QuarantineReason

log = logging.getLogger("buzon.intake")

_MAILS = MailMessage.__table__
# Many mail rows in one statement, their ids back in the order of the rows.
_INSERT_MAILS = _MAILS.insert().returning(_MAILS.c.id, sort_by_parameter_order=True)
_MAIL_BY_UID = (
    sa.select(_MAILS.c.id, _MAILS.c.status)
    .where(
        _MAILS.c.mailbox == sa.bindparam("mailbox"),
        _MAILS.c.uidvalidity == sa.bindparam("uidvalidity"),
        _MAILS.c.uid == sa.bindparam("uid"),
    )
    .order_by(_MAILS.c.id)
    .limit(1)
)
_MAIL_BY_KEY = (
    sa.select(_MAILS.c.id, _MAILS.c.status)
    .where(
        _MAILS.c.mailbox == sa.bindparam("mailbox"), _MAILS.c.uid.is_(None), _MAILS.c.blob_key == sa.bindparam("key")
    )
    .order_by(_MAILS.c.id)
    .limit(1)
)


@dataclass(frozen=True)
class Received:
    """What receive read of a message, handed straight to process when one run does both (take): the bytes are not
    read back from the blob store and the mail is not parsed twice. After a restart, process reads and parses anew."""

    key: str
    data: bytes = field(repr=False)
    message: Message | None = field(default=None, repr=False)


Recorded = tuple[int, MailStatus, Received]
MailRow = Callable[[Envelope, str], tuple[dict[str, Any], Received]]


def mail_row(envelope: Envelope, key: str, clock: Callable[[], datetime]) -> tuple[dict[str, Any], Received]:
    """The MailMessage row of a message whose bytes are the blob ``key``, and what was read of it."""
    info = None
    message = None
    if envelope.oversize is not None or unpack.is_mail(envelope.data, envelope.name):
        try:
            message = unpack.parse_mail(envelope.data)
            info = unpack.mail_info(message)
        except Exception:  # a mangled header must not stop the raw bytes being kept
            info = None
    received = Received(key, envelope.data, message if envelope.oversize is None else None)

    def text(value: object, length: int) -> str:
        # Whatever a sender put in a header, the row must insert: a NUL, an undecodable byte or a list (two
        # Subject headers) would fail the batch's INSERT, and with it every message of the poll.
        return storable(value if isinstance(value, str) else "")[:length]

    # The Message-ID is indexed: PostgreSQL refuses an index entry past 2,704 bytes, so clip its bytes too.
    message_id = text(info.message_id if info else None, 998).encode()[:998].decode("utf-8", "ignore") or None
    row = {
        "mailbox": text(envelope.mailbox, 300),
        "uidvalidity": envelope.uidvalidity,
        "uid": envelope.uid,
        "message_id": message_id,
        "sender": text(info.sender if info else "", 998),
        "subject": text(info.subject if info else envelope.name, 998),
        "received_at": envelope.received_at or clock(),
        "size": envelope.oversize or len(envelope.data),
        "blob_key": key,
        "status": MailStatus.PENDING,
    }
    return row, received


@dataclass
class Recording:
    """One batch being received on ``conn`` by ``actor``; ``refused`` collects, for the run, the ids of the messages
    recorded quarantined because the database refused their row."""

    conn: Tx
    blobs: BlobStore
    clock: Callable[[], datetime]
    actor: str
    hook: Callable[[str], None]
    refused: set[int]

    def batch(self, envelopes: Sequence[Envelope], mail_row: MailRow) -> list[Recorded]:
        """Store the raw bytes of a batch (one blob transaction) and record its messages (one statement, one commit).

        A message recorded already (by UID, or by its bytes when the source has no UIDs) comes back with its id and
        status; a second copy of the same bytes in one batch of such a source is the first one's id.
        """
        conn = self.conn
        for _ in envelopes:
            self.hook("fetched")
        keys = self.blobs.put_many(e.data for e in envelopes)  # durable before the rows that name them commit
        for _ in envelopes:
            self.hook("stored")
        out: list[Recorded | None] = [None] * len(envelopes)
        rows: dict[int, dict[str, Any]] = {}
        received: list[Received] = []
        copies: dict[tuple[str, str], int] = {}  # (mailbox, key) -> index of its first copy in this batch
        for index, (envelope, key) in enumerate(zip(envelopes, keys, strict=True)):
            row, got = mail_row(envelope, key)
            received.append(got)
            if envelope.uid is None:  # no unique constraint names such a message: look it up first
                if copies.setdefault((envelope.mailbox, key), index) != index:
                    continue
                existing = self.existing(envelope, key)
                if existing is not None:
                    out[index] = (*existing, got)
                    continue
            rows[index] = row
        if rows:
            try:
                ids = conn.execute(_INSERT_MAILS, list(rows.values())).scalars().all()
                conn.commit()
            except Exception as exc:
                # A UID recorded already (by an earlier run, or by another intake process between our look-up and our
                # insert), or a row one message's headers spoil: record them one by one. A lost connection waits.
                conn.rollback()
                if lost_connection(exc):
                    raise
                ids = [self._record_one(envelopes[index], keys[index], row) for index, row in rows.items()]
            except BaseException:
                conn.rollback()
                raise
            for index, found in zip(rows, ids, strict=True):
                mail_id, status = found if isinstance(found, tuple) else (found, MailStatus.PENDING)
                out[index] = (mail_id, status, received[index])
                self.hook("recorded")
        else:
            conn.rollback()
        for index, envelope in enumerate(envelopes):
            if out[index] is None:  # a second copy of the same bytes: the first one's message
                first = out[copies[envelope.mailbox, keys[index]]]
                assert first is not None
                out[index] = (first[0], first[1], received[index])
        return [entry for entry in out if entry is not None]

    def _record_one(self, envelope: Envelope, key: str, row: dict[str, Any]) -> tuple[int, MailStatus]:
        conn = self.conn
        try:
            mail_id = conn.execute(_INSERT_MAILS, [row]).scalar_one()
            conn.commit()
            return mail_id, MailStatus.PENDING
        except IntegrityError:
            conn.rollback()
            found = self.existing(envelope, key)
            conn.rollback()
            if found is None:
                raise
            return found
        except Exception as exc:
            conn.rollback()
            if lost_connection(exc):
                raise
            return self._record_refused(row, exc)
        except BaseException:
            conn.rollback()
            raise

    def _record_refused(self, row: dict[str, Any], failure: Exception) -> tuple[int, MailStatus]:
        """A message whose row the database refuses as its headers made it: recorded without them, quarantined
        (error_interno) with the failure's summary, so the source settles it and the poll goes on; its raw bytes are
        its blob, as for every message."""
        conn = self.conn
        detail = internal_error(failure)
        log.error("the mail row of blob %s was refused and is quarantined", row["blob_key"], exc_info=failure)
        bare = {"mailbox": storable(str(row["mailbox"]))[:300], "uidvalidity": row["uidvalidity"], "uid": row["uid"],
                "message_id": None, "sender": "", "subject": "", "received_at": self.clock(), "size": row["size"],
                "blob_key": row["blob_key"], "status": MailStatus.QUARANTINED,
                "reason": QuarantineReason.INTERNAL_ERROR, "reason_detail": detail}  # fmt: skip
        try:
            mail_id = conn.execute(_INSERT_MAILS, [bare]).scalar_one()
            audit_internal_error(conn, mail_id, detail, failure, subject="", actor=self.actor, at=self.clock())
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        self.refused.add(mail_id)
        return mail_id, MailStatus.QUARANTINED

    def existing(self, envelope: Envelope, key: str) -> tuple[int, MailStatus] | None:
        """The id and status of the message recorded already under the envelope's UID (or its bytes), if any."""
        if envelope.uid is not None:
            params = {"mailbox": envelope.mailbox, "uidvalidity": envelope.uidvalidity, "uid": envelope.uid}
            row = self.conn.execute(_MAIL_BY_UID, params).first()
        else:
            row = self.conn.execute(_MAIL_BY_KEY, {"mailbox": envelope.mailbox, "key": key}).first()
        return (row[0], row[1]) if row else None
