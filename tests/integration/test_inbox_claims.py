"""Claims between pollers (inbox.claims) on both databases: a batch of messages claimed and given back in one round
trip each, and on PostgreSQL a message another poller holds is never granted until that poller gives it back."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from inbox.claims import Claims, claims_for, message_key

KEYS = [message_key("imap:recepcion", 7, uid, None) for uid in range(1, 11)]


def test_a_batch_is_split_between_two_pollers_and_given_back(engine: sa.Engine) -> None:
    sessions = sessionmaker(engine)
    with claims_for(sessions) as first, claims_for(sessions) as second, _statements(engine) as statements:
        assert first.take_many(KEYS[:6]) == set(KEYS[:6])
        if engine.dialect.name == "postgresql":
            assert first.shared and second.shared
            # The second poller gets only what the first does not hold; one statement each way.
            assert second.take_many(KEYS) == set(KEYS[6:])
            assert statements() == 2
            first.release_many(KEYS[:3])
            assert statements() == 3
            assert second.take_many(KEYS[:6]) == set(KEYS[:3])
        else:  # SQLite serves one process: every claim is granted, with no statement at all
            assert not first.shared
            assert second.take_many(KEYS) == set(KEYS)
            assert statements() == 0
        # A claim taken twice by one poller is held until it is given back twice.
        assert first.take_many(KEYS[3:4]) == set(KEYS[3:4])
        first.release_many(KEYS[3:4])
        if engine.dialect.name == "postgresql":
            assert not _free(engine, KEYS[3])
            first.release_many(KEYS[3:4])
            assert _free(engine, KEYS[3])


def test_a_poller_that_ends_gives_every_claim_back(engine: sa.Engine) -> None:
    sessions = sessionmaker(engine)
    with claims_for(sessions) as claims:
        assert claims.take_many(KEYS) == set(KEYS)
    with claims_for(sessions) as later:
        assert later.take_many(KEYS) == set(KEYS)
        later.release_many(KEYS)
    assert Claims(None).take_many(KEYS[:2]) == set(KEYS[:2])


def _free(engine: sa.Engine, key: int) -> bool:
    """Whether a third connection can take the lock now (it gives it back at once)."""
    with engine.connect() as conn:
        taken = conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
        if taken:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
        return bool(taken)


@contextlib.contextmanager
def _statements(engine: sa.Engine) -> Iterator[Callable[[], int]]:
    """A counter of the advisory-lock statements run on ``engine`` while the block runs."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if "advisory" in statement:
            seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield lambda: len(seen)
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
