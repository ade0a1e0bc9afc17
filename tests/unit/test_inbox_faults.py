"""Which failures intake waits out (a lost connection) and which it pins on one message (inbox.faults), and the poll
loop that survives every failure of a poll (inbox.poll.run)."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
import sqlalchemy as sa
from psycopg import errors as pg_errors

from inbox.faults import lost_connection, one_line, storable
from inbox.imap import ImapConfigError
from inbox.poll import Summary, run


def wrapped(orig: BaseException, **kwargs: object) -> sa.exc.DBAPIError:
    """orig as SQLAlchemy raises it (DBAPIError.instance picks the subclass by the driver's exception class)."""
    return sa.exc.DBAPIError.instance("INSERT ...", None, orig, psycopg.Error, **kwargs)  # type: ignore[arg-type]


def sqlite_error(code: int, message: str) -> sqlite3.OperationalError:
    error = sqlite3.OperationalError(message)
    error.sqlite_errorcode = code  # what sqlite3 sets on the errors it raises
    return error


@pytest.mark.parametrize(
    ("exc", "lost"),
    [
        # The database is gone, restarting, full or busy: the same work succeeds later.
        (psycopg.OperationalError("connection to server at 127.0.0.1 failed: Connection refused"), True),
        (wrapped(psycopg.OperationalError("server closed the connection unexpectedly")), True),
        (wrapped(psycopg.InterfaceError("the connection is closed")), True),
        (wrapped(pg_errors.AdminShutdown("terminating connection due to administrator command")), True),
        (wrapped(pg_errors.TooManyConnections("sorry, too many clients already")), True),
        (wrapped(pg_errors.SerializationFailure("could not serialize access")), True),
        (wrapped(pg_errors.DeadlockDetected("deadlock detected")), True),
        (sa.exc.DBAPIError("SELECT 1", None, ValueError("the driver said so"), connection_invalidated=True), True),
        (sa.exc.TimeoutError("QueuePool limit of size 5 overflow 10 reached"), True),
        (sqlite_error(5, "database is locked"), True),
        (sqlite_error(13, "database or disk is full"), True),
        (sqlite_error(266, "disk I/O error"), True),  # SQLITE_IOERR_READ: the primary code is in the low byte
        (OSError(28, "No space left on device"), True),
        # One message's values or contents: trying again fails again.
        (wrapped(pg_errors.StringDataRightTruncation("value too long for type character varying(96)")), False),
        (wrapped(pg_errors.ProgramLimitExceeded("index row size 4008 exceeds btree version 4 maximum 2704")), False),
        (wrapped(pg_errors.QueryCanceled("canceling statement due to statement timeout")), False),
        (wrapped(pg_errors.UniqueViolation("duplicate key value violates unique constraint")), False),
        (sqlite_error(18, "string or blob too big"), False),
        (sqlite3.OperationalError("no code at all"), False),
        (sqlite3.InterfaceError("Error binding parameter 3: type 'list' is not supported"), False),
        (UnicodeEncodeError("utf-8", "\udcff", 0, 1, "surrogates not allowed"), False),
        (RuntimeError("a bug"), False),
        (MemoryError(), False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else str(value),
)
def test_lost_connection_tells_the_environment_from_the_message(exc: BaseException, lost: bool) -> None:
    assert lost_connection(exc) is lost


def test_one_line_keeps_the_type_and_the_first_line_without_sql_or_parameters() -> None:
    error = wrapped(pg_errors.StringDataRightTruncation("value too long for type character varying(96)\n"))
    assert str(error).count("\n") >= 1  # SQLAlchemy adds [SQL: ...] on the lines below
    assert one_line(error) == "DataError: (psycopg.errors.StringDataRightTruncation) value too long for type " \
        "character varying(96)"  # fmt: skip
    assert one_line(KeyError("\x00clave\udcff")) == "KeyError: '\\x00clave\\udcff'"
    assert one_line(ValueError("\x00a\udcffb")) == "ValueError: a?b"
    assert one_line(RuntimeError()) == "RuntimeError"
    long = one_line(ValueError("x" * 1000))
    assert len(long) == 300 and long.endswith("…")


def test_storable_text_drops_nul_and_replaces_lone_surrogates() -> None:
    assert storable("a\x00b\udcffc") == "ab?c"
    assert storable("Factura nº 5") == "Factura nº 5"


class FakeSource:
    mailbox = "fake"

    def __init__(self) -> None:
        self.closed = False

    def scan(self, intake):  # type: ignore[no-untyped-def]
        return iter(())

    def wait(self, seconds, sleep, stop):  # type: ignore[no-untyped-def]
        sleep(seconds)

    def close(self) -> None:
        self.closed = True


def test_the_poll_loop_survives_a_failed_poll_and_backs_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """A poll that fails for no lost connection (a bug in a source, a settle that breaks) is logged and tried again
    after the backoff delay, like a lost connection; before issue 14 it ended `buzon poll`."""
    outcomes: list[object] = [RuntimeError("settle broke"), sa.exc.DataError("UPDATE ...", None, ValueError("x"))]
    polls: list[int] = []

    def poll_once(source, intake):  # type: ignore[no-untyped-def]
        polls.append(1)
        if outcomes:
            raise outcomes.pop(0)  # type: ignore[misc]
        return Summary()

    monkeypatch.setattr("inbox.poll.poll_once", poll_once)
    sources: list[FakeSource] = []
    sleeps: list[float] = []
    logged: list[str] = []

    def connect() -> FakeSource:
        sources.append(FakeSource())
        return sources[-1]

    run(connect, object(), wait_seconds=7, sleep=sleeps.append, stop=lambda: len(polls) >= 3,  # type: ignore[arg-type]
        log=logged.append)  # fmt: skip
    assert len(polls) == 3 and len(sources) == 3 and all(s.closed for s in sources)
    # The first backoff (1 s), the second (2 s, slept a second at a time), then the wait after the poll that worked.
    assert sleeps == [1.0, 1.0, 1.0, 7]
    assert logged[0] == "la lectura del buzón falló (RuntimeError: settle broke); nuevo intento en 1 s"
    assert logged[1].startswith("la lectura del buzón falló (DataError: ")
    assert logged[2:] == ["buzón al día; esperando correo nuevo"]  # once the poll works again, said once


def test_a_lost_connection_is_logged_as_such() -> None:
    attempts: list[int] = []
    logged: list[str] = []

    def connect() -> FakeSource:
        attempts.append(1)
        raise ConnectionRefusedError(111, "Connection refused")

    run(connect, object(), wait_seconds=1, sleep=lambda s: None, stop=lambda: len(attempts) >= 2,  # type: ignore[arg-type]
        log=logged.append)  # fmt: skip
    lost = "conexión perdida (ConnectionRefusedError: [Errno 111] Connection refused)"
    assert logged == [f"{lost}; nuevo intento en 1 s", f"{lost}; nuevo intento en 2 s"]


def test_settings_that_cannot_work_end_the_loop() -> None:
    def connect() -> FakeSource:
        raise ImapConfigError("imap.password or imap.oauth2_token: one of them is needed to log in")

    with pytest.raises(ImapConfigError):
        run(connect, object(), wait_seconds=1, sleep=lambda s: None, stop=lambda: False)  # type: ignore[arg-type]
