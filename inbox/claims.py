"""Who is taking which message: several `buzon poll` processes on one mailbox and one PostgreSQL split the mail.

A poll claims a message before it takes it and gives the claim back once the message is settled (moved or flagged).
A claim is a PostgreSQL session advisory lock (store.locks) on the message's identity — (mailbox, UIDVALIDITY, UID)
for IMAP, (mailbox, SHA-256 of the bytes) for sources without UIDs — held by a connection of the poll's own: a
message claimed by another process is skipped, and a killed process's claims end with its connection, so the next
poll takes its messages (recorded ones are resumed from their row, never recorded twice). Intake's row locks
(``FOR UPDATE SKIP LOCKED`` on the pending mail rows) stay as the second guard. On SQLite (one process) every claim
is granted.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from store import locks
from store.models import MailMessage, MailStatus


def message_key(mailbox: str, uidvalidity: int | None, uid: int | None, blob_key: str | None) -> int:
    """The claim of one message: by its UID where the source has UIDs, else by its bytes."""
    if uid is not None:
        return locks.key("mail", mailbox, uidvalidity, uid)
    return locks.key("mail", mailbox, blob_key)


class Claims:
    """The claims of one poll, on a connection of their own (``None``: every claim is granted, as on SQLite)."""

    def __init__(self, conn: sa.Connection | None) -> None:
        self.conn = conn
        self.held: dict[int, int] = {}

    @property
    def shared(self) -> bool:
        """Whether other processes may hold claims (PostgreSQL): a message's status must then be read again once
        claimed, since another process may have decided it after this one listed it."""
        return self.conn is not None

    def take(self, key: int) -> bool:
        """Claim a message; False when another process holds it."""
        return key in self.take_many([key])

    def take_many(self, keys: list[int]) -> set[int]:
        """Claim several messages in one round trip; the keys granted (those another process holds are not)."""
        wanted = list(dict.fromkeys(keys))
        new = [key for key in wanted if key not in self.held]
        granted = set(wanted) - set(new)
        if new:
            granted |= locks.try_lock_many(self.conn, new) if self.conn is not None else set(new)
        for key in granted:
            self.held[key] = self.held.get(key, 0) + 1
        return granted

    def release_many(self, keys: list[int]) -> None:
        """Give several claims back in one round trip."""
        freed = []
        for key in keys:
            count = self.held.get(key, 0)
            if count > 1:
                self.held[key] = count - 1
            elif count == 1:
                del self.held[key]
                freed.append(key)
        if freed and self.conn is not None:
            locks.unlock_many(self.conn, freed)

    def release(self, key: int) -> None:
        """Give a claim back (after the message is settled, or when it is left for later)."""
        self.release_many([key])

    def pending(self, sessions: sessionmaker[Session], mailbox: str) -> list[tuple[int, int]]:
        """The mail rows of ``mailbox`` recorded but not decided (a run died after ``recorded``), oldest first, each
        with its claim: those whose claim is free are a dead run's, for this poll to resume."""
        query = (
            sa.select(MailMessage.id, MailMessage.uidvalidity, MailMessage.uid, MailMessage.blob_key)
            .where(MailMessage.status == MailStatus.PENDING, MailMessage.mailbox == mailbox)
            .order_by(MailMessage.id)
        )
        with sessions() as s:
            rows = s.execute(query).all()
        return [(mail_id, message_key(mailbox, validity, uid, blob)) for mail_id, validity, uid, blob in rows]


@contextmanager
def claims_for(sessions: sessionmaker[Session]) -> Iterator[Claims]:
    """The claims of one poll on the sessions' database: a connection of their own on PostgreSQL (autocommit: it holds
    locks, never a transaction), closed — every claim given back — when the poll ends."""
    with sessions() as s:
        bind = s.get_bind()
    if not isinstance(bind, sa.Engine) or not locks.shared(bind):
        yield Claims(None)
        return
    with bind.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        claims = Claims(conn)
        try:
            yield claims
        finally:
            # The connection goes back to the pool, where session locks would outlive the poll: give them back.
            try:
                locks.unlock_all(conn)
            except sa.exc.DBAPIError:
                conn.invalidate()  # the connection is gone, and its locks with it
