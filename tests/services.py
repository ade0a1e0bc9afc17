"""Real services for the tests (../shared/services.md): PostgreSQL, Dovecot, an aiosmtpd SMTP server, xmlsec1.

A missing service skips the test with its reason, or fails it under BUZON_REQUIRE_SERVICES=1 (CI).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import pytest
import sqlalchemy as sa
import sqlalchemy.orm

from tests.conftest import missing

PG_ADMIN_URL = os.environ.get("BUZON_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 10.0) -> bool:
    """Whether something accepts connections on 127.0.0.1:port within timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
        time.sleep(0.05)
    return False


# --- PostgreSQL -------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """Create an empty database buzon_test_<random>, yield its URL, drop it afterwards."""
    try:
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:
        missing(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc.__class__.__name__}")
    name = f"buzon_test_{secrets.token_hex(6)}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def two_databases(kind: str, folder: Path) -> Iterator[tuple[str, str]]:
    """Two empty databases' URLs, one per company of a two-company install: two SQLite files in ``folder``, or two
    fresh PostgreSQL databases (dropped afterwards)."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'a.sqlite3'}", f"sqlite:///{folder / 'b.sqlite3'}"
        return
    with fresh_postgres_database() as first, fresh_postgres_database() as second:
        yield first, second


@contextlib.contextmanager
def migrated_database(kind: str, folder: Path) -> Iterator[sa.Engine]:
    """A migrated database of a test's own, with real commits: a new SQLite file in ``folder``, or a fresh PostgreSQL
    database (dropped afterwards)."""
    from store.db import make_engine, migrate

    if kind == "sqlite":
        url_cm: contextlib.AbstractContextManager[str] = contextlib.nullcontext(
            f"sqlite:///{folder / f'own-{secrets.token_hex(4)}.sqlite3'}"
        )
    else:
        url_cm = fresh_postgres_database()
    with url_cm as url:
        engine = make_engine(url)
        try:
            migrate(engine)
            yield engine
        finally:
            engine.dispose()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test run."""
    with fresh_postgres_database() as url:
        yield url


# --- Dovecot (IMAP) ---------------------------------------------------------------------------------------------


@dataclass
class Dovecot:
    """A throwaway Dovecot instance on a loopback port with one user."""

    root: Path
    port: int
    user: str = "buzon@test"
    password: str = "secret-imap"
    host: str = "127.0.0.1"
    process_log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.process_log = self.root / "dovecot.out"

    @property
    def config(self) -> Path:
        return self.root / "dovecot.conf"

    @property
    def maildir(self) -> Path:
        return self.root / "mail" / self.user

    def write_config(self) -> None:
        """Write the instance's own configuration (the recipe of services.md, pitfalls included)."""
        for sub in ("base", "state", "mail", "home"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        (self.root / "users").write_text(f"{self.user}:{{PLAIN}}{self.password}\n")
        self.config.write_text(
            f"""
base_dir = {self.root}/base
state_dir = {self.root}/state
log_path = {self.root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{self.root}/mail/%u
first_valid_uid = 1
default_login_user = dovenull
default_internal_user = dovecot
default_internal_group = dovecot
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.root}/users
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={self.root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
"""
        )
        subprocess.run(["chown", "-R", "dovecot:dovecot", str(self.root / "mail"), str(self.root / "home")], check=True)

    def start(self) -> None:
        """Start the daemon (stdout to a file: dovecot keeps it open) and wait for its port."""
        with self.process_log.open("ab") as out:
            subprocess.run(["dovecot", "-c", str(self.config)], stdout=out, stderr=out, check=True)
        if not wait_for_port(self.port):
            log = (
                (self.root / "dovecot.log").read_text(errors="replace") if (self.root / "dovecot.log").exists() else ""
            )
            raise RuntimeError(f"Dovecot did not open port {self.port}: {log[-2000:]}")

    def stop(self) -> None:
        """Stop the daemon and wait until its port is closed."""
        pid_file = self.root / "base" / "master.pid"
        if not pid_file.exists():
            return
        pid = int(pid_file.read_text().strip())
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 15)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)

    def restart(self) -> None:
        """Stop and start again, same port and mail (for reconnect tests)."""
        self.stop()
        self.start()


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """A running Dovecot IMAP server on a free loopback port, started by the tests."""
    if shutil.which("dovecot") is None:
        missing("dovecot is not installed (apt-get install dovecot-imapd; `make test` does it)")
    root = Path(tempfile.mkdtemp(prefix="buzon-dovecot-"))
    os.chmod(root, 0o755)  # noqa: S103 - Dovecot's own users must traverse it
    server = Dovecot(root=root, port=free_port())
    server.write_config()
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


# --- SMTP (aiosmtpd) --------------------------------------------------------------------------------------------


class CapturingHandler:
    """An aiosmtpd handler that keeps every envelope it is given."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], Message]] = []
        self._arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        with self._arrived:
            self.messages.append(
                (envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(envelope.original_content))
            )
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[tuple[str, list[str], Message]]:
        """The captured messages once there are at least count of them (or after timeout)."""
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.messages) >= count, timeout=timeout)
            return list(self.messages)


@dataclass
class SmtpServer:
    host: str
    port: int
    handler: CapturingHandler

    @property
    def messages(self) -> list[tuple[str, list[str], Message]]:
        return self.handler.messages


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on a free loopback port that captures what it receives."""
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        missing("aiosmtpd is not installed (pip install -e '.[test]')")
    handler = CapturingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, handler)
    finally:
        controller.stop()


# --- xmlsec1 ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def xmlsec1() -> str:
    """The path of the xmlsec1 command, the independent signature checker."""
    path = shutil.which("xmlsec1")
    if path is None:
        missing("xmlsec1 is not installed (apt-get install xmlsec1; `make test` does it)")
    return path


# --- Migrated databases (SQLite and PostgreSQL), each test rolled back ------------------------------------------


@pytest.fixture(scope="session")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    """A migrated SQLite database file for this test run."""
    from store.db import make_engine, migrate

    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'buzon.sqlite3'}")
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def postgresql_engine(pg_url: str) -> Iterator[sa.Engine]:
    """The run's PostgreSQL database, migrated once."""
    from store.db import make_engine, migrate

    engine = make_engine(pg_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> sa.Engine:
    """Each test that takes it runs on SQLite and on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_engine")


@pytest.fixture
def db(engine: sa.Engine) -> Iterator[sa.orm.Session]:
    """A session inside a transaction that is rolled back after the test (commits become savepoints)."""
    from sqlalchemy.orm import Session

    with engine.connect() as conn:
        outer = conn.begin()
        session = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
        try:
            yield session
        finally:
            session.close()
            outer.rollback()
