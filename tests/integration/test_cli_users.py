"""`buzon user …`, `buzon token …` and the demo users, through click's runner on real SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from buzon.cli import main
from buzon.config import default_settings, load_file, load_settings
from buzon.demo_users import DEMO_PASSWORD, DEMO_USERS, seed_users
from buzon.runtime import Runtime
from buzon.webapp import web_app
from store.db import make_engine, migrate
from store.models import ApiToken, AuditEntry, LoginThrottle, Role, User
from tests.services import fresh_postgres_database
from web.access import authenticate_token
from web.auth import MAX_FAILURES

pytestmark = pytest.mark.integration

PASSWORD = "una-contraseña-segura"


@pytest.fixture(params=["sqlite", "postgresql"])
def config(request, tmp_path) -> Iterator[Path]:
    """A configuration (demo off) with a migrated, empty database of its own: these commands commit for real."""
    path = tmp_path / "buzon.toml"
    if request.param == "sqlite":
        path.write_text('demo = false\ndata_dir = "var"\n')
        _init(path)
        yield path
    else:
        with fresh_postgres_database() as url:
            path.write_text(f'demo = false\ndata_dir = "var"\n[database]\nurl = "{url}"\n')
            _init(path)
            yield path


def _init(path: Path) -> None:
    result = CliRunner().invoke(main, ["init", "--config", str(path)])
    assert result.exit_code == 0, result.output


def buzon(config: Path, *args: str, input: str | None = None):
    return CliRunner().invoke(main, [*args, "--config", str(config)], input=input)


def query(config: Path):
    """A session on the configuration's database (the caller closes it; the engine is disposed with it)."""
    engine = make_engine(load_file(config).database_url)
    session = Session(engine)
    session.info["engine"] = engine
    return session


def close(session: Session) -> None:
    session.close()
    session.info["engine"].dispose()


@contextmanager
def web(config: Path) -> Iterator[Flask]:
    """The web application `buzon serve` would run on this configuration (for real logins and their locks)."""
    runtime = Runtime.from_settings(load_settings(config))
    try:
        yield web_app(runtime)
    finally:
        runtime.close()


def log_in(client: FlaskClient, username: str, password: str) -> int:
    """Post the login form with its CSRF token; the answer's status (302 signed in, 200 wrong, 429 locked)."""
    page = client.get("/ingresar").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, "no CSRF token on the login page"
    data = {"username": username, "password": password, "csrf_token": token.group(1)}
    return client.post("/ingresar", data=data).status_code


def states(config: Path) -> dict[str, list[str]]:
    """`buzon user list` read back: user name -> [role, state]."""
    listing = buzon(config, "user", "list")
    assert listing.exit_code == 0, listing.output
    return {line.split()[0]: line.split()[1:3] for line in listing.stdout.splitlines()[1:]}


def test_user_add_passwd_list_disable(config):
    added = buzon(
        config,
        "user",
        "add",
        "Ana",
        "--role",
        "clerk",
        "--email",
        "ana@empresa.test",
        "--first-name",
        "Ana María",
        "--family-name",
        "Rodríguez",
        "--id-type",
        "13",
        "--id-number",
        "52123456",
        "--job-title",
        "Auxiliar contable",
        "--department",
        "Cuentas por pagar",
        "--password-stdin",
        input=PASSWORD + "\n",
    )
    assert added.exit_code == 0, added.output
    assert "user ana added with role clerk" in added.stdout
    prompted = buzon(config, "user", "add", "beto", "--role", "auditor", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert prompted.exit_code == 0, prompted.output
    assert "Repeat for confirmation" in prompted.output

    session = query(config)
    try:
        ana = session.scalar(sa.select(User).where(User.username == "ana"))
        assert ana.role == Role.CLERK
        assert (ana.email, ana.first_name, ana.family_name, ana.id_type, ana.id_number) == (
            "ana@empresa.test",
            "Ana María",
            "Rodríguez",
            "13",
            "52123456",
        )
        assert (ana.job_title, ana.department) == ("Auxiliar contable", "Cuentas por pagar")
        assert PASSWORD not in ana.password_hash
        assert ana.password_hash.startswith(("scrypt:", "pbkdf2:"))
        assert check_password_hash(ana.password_hash, PASSWORD)
        entry = session.scalars(sa.select(AuditEntry).where(AuditEntry.subject == "user:ana")).one()
        assert entry.action == "user.created"
        assert entry.actor.startswith("cli:")
        ana.failed_logins, ana.locked_until = 3, datetime(2999, 1, 1, tzinfo=UTC)
        session.add(LoginThrottle(username="ana", address="203.0.113.9", failures=0,
                                  locked_until=datetime.now(UTC) + timedelta(minutes=10)))  # fmt: skip
        session.commit()
    finally:
        close(session)
    assert states(config)["ana"] == ["clerk", "locked"]

    changed = buzon(config, "user", "passwd", "ana", input="otra-contraseña-mas\notra-contraseña-mas\n")
    assert changed.exit_code == 0, changed.output
    assert buzon(config, "user", "disable", "beto").exit_code == 0
    listing = buzon(config, "user", "list")
    assert listing.exit_code == 0
    lines = {line.split()[0]: line.split() for line in listing.stdout.splitlines()[1:]}
    assert lines["ana"][1:3] == ["clerk", "active"]  # the new password lifted the lock
    assert lines["beto"][1:3] == ["auditor", "disabled"]

    session = query(config)
    try:
        ana = session.scalar(sa.select(User).where(User.username == "ana"))
        assert check_password_hash(ana.password_hash, "otra-contraseña-mas")
        assert (ana.failed_logins, ana.locked_until) == (0, None)
        assert session.scalars(sa.select(LoginThrottle)).all() == []
        actions = session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)).all()
        assert actions == ["user.created", "user.created", "user.password_changed", "user.disabled"]
    finally:
        close(session)


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["user", "add", "ana", "--role", "clerk", "--password-stdin"], "corta\n", "at least 10 characters"),
        (["user", "add", "a b", "--role", "clerk", "--password-stdin"], PASSWORD + "\n", "user name 'a b'"),
        (["user", "add", "ana", "--role", "jefe", "--password-stdin"], PASSWORD + "\n", "'jefe' is not one of"),
        (["user", "passwd", "nadie", "--password-stdin"], PASSWORD + "\n", "user 'nadie' does not exist"),
        (["token", "create", "--user", "nadie", "--name", "ERP"], None, "user 'nadie' does not exist"),
        (["token", "revoke", "999"], None, "token 999 does not exist"),
    ],
)
def test_bad_requests_are_one_clear_line_and_exit_2(config, args, stdin, message):
    result = buzon(config, *args, input=stdin)
    assert result.exit_code == 2
    assert message in result.stderr


def test_user_list_says_locked_while_a_login_lock_lasts(config):
    for name in ("ana", "beto"):
        added = buzon(config, "user", "add", name, "--role", "clerk", "--password-stdin", input=PASSWORD)
        assert added.exit_code == 0, added.output
    with web(config) as app:
        stranger = app.test_client()
        stranger.environ_base["REMOTE_ADDR"] = "203.0.113.9"
        answers = [log_in(stranger, "ana", "equivocada") for _ in range(MAX_FAILURES)]
        assert answers == [200] * (MAX_FAILURES - 1) + [429]
        assert states(config) == {"ana": ["clerk", "locked"], "beto": ["clerk", "active"]}
        office = app.test_client()
        office.environ_base["REMOTE_ADDR"] = "198.51.100.4"
        assert log_in(office, "ana", PASSWORD) == 302  # the lock holds only the stranger's address out
        assert states(config)["ana"] == ["clerk", "locked"]

    session = query(config)
    try:
        beto = session.scalar(sa.select(User).where(User.username == "beto"))
        beto.locked_until = datetime(2999, 1, 1, tzinfo=UTC)  # the old column: login no longer writes nor reads it
        session.execute(sa.update(LoginThrottle).values(locked_until=datetime.now(UTC) - timedelta(seconds=1)))
        session.commit()
    finally:
        close(session)
    assert states(config) == {"ana": ["clerk", "active"], "beto": ["clerk", "active"]}  # the lock is over

    session = query(config)
    try:
        session.execute(sa.update(LoginThrottle).values(locked_until=datetime.now(UTC) + timedelta(minutes=5)))
        session.commit()
    finally:
        close(session)
    assert buzon(config, "user", "disable", "ana").exit_code == 0
    assert states(config)["ana"] == ["clerk", "disabled"]  # disabled says more than locked


def test_the_last_active_admin_is_never_disabled_nor_demoted_but_its_password_changes(config):
    first = buzon(config, "user", "add", "root", "--role", "admin", "--password-stdin", input=PASSWORD)
    assert first.exit_code == 0, first.output  # the first admin, on an empty database
    for args in (("disable", "root"), ("role", "root", "clerk")):
        refused = buzon(config, "user", *args)
        assert refused.exit_code == 2, refused.output
        assert refused.stderr == "error: root is the only active admin; make another admin first\n"
    assert states(config) == {"root": ["admin", "active"]}
    changed = buzon(config, "user", "passwd", "root", "--password-stdin", input="otra-contraseña-mas\n")
    assert changed.exit_code == 0, changed.output

    assert buzon(config, "user", "add", "eva", "--role", "clerk", "--password-stdin", input=PASSWORD).exit_code == 0
    promoted = buzon(config, "user", "role", "eva", "admin")
    assert promoted.exit_code == 0, promoted.output
    assert "user eva now has role admin" in promoted.stdout
    assert "already had role admin" in buzon(config, "user", "role", "eva", "admin").stdout
    disabled = buzon(config, "user", "disable", "root")  # another admin is active now
    assert disabled.exit_code == 0, disabled.output
    assert "already disabled" in buzon(config, "user", "disable", "root").stdout
    refused = buzon(config, "user", "role", "eva", "auditor")
    assert refused.exit_code == 2
    assert "eva is the only active admin" in refused.stderr
    assert buzon(config, "user", "disable", "eva").exit_code == 2
    assert states(config) == {"eva": ["admin", "active"], "root": ["admin", "disabled"]}
    assert buzon(config, "user", "role", "root", "clerk").exit_code == 0  # a disabled admin is not the last one
    assert buzon(config, "user", "passwd", "root", "--password-stdin", input=PASSWORD).exit_code == 0  # disabled too
    assert buzon(config, "user", "enable", "root").exit_code == 0
    assert states(config) == {"eva": ["admin", "active"], "root": ["clerk", "active"]}

    session = query(config)
    try:
        entries = session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()
        assert [(e.action, e.subject) for e in entries] == [
            ("user.created", "user:root"),
            ("user.password_changed", "user:root"),
            ("user.created", "user:eva"),
            ("user.role_changed", "user:eva"),
            ("user.disabled", "user:root"),
            ("user.role_changed", "user:root"),
            ("user.password_changed", "user:root"),
            ("user.enabled", "user:root"),
        ]  # the refusals and the no-ops wrote nothing
        assert all(e.actor.startswith("cli:") for e in entries)
        assert entries[3].data == {"old_role": "clerk", "new_role": "admin"}
    finally:
        close(session)


def test_disabling_from_the_command_line_ends_the_users_open_sessions(config):
    assert buzon(config, "user", "add", "ana", "--role", "clerk", "--password-stdin", input=PASSWORD).exit_code == 0
    with web(config) as app:
        browser = app.test_client()
        assert log_in(browser, "ana", PASSWORD) == 302
        assert browser.get("/").status_code == 200  # signed in
        assert buzon(config, "user", "disable", "ana").exit_code == 0
        assert browser.get("/").status_code == 302  # the cookie no longer opens a session
        assert buzon(config, "user", "enable", "ana").exit_code == 0
        assert browser.get("/").status_code == 302  # enabling does not bring an ended session back
        assert log_in(browser, "ana", PASSWORD) == 302


def test_a_user_name_is_added_once(config):
    assert buzon(config, "user", "add", "ana", "--role", "clerk", "--password-stdin", input=PASSWORD).exit_code == 0
    again = buzon(config, "user", "add", "ANA", "--role", "admin", "--password-stdin", input=PASSWORD)
    assert again.exit_code == 2
    assert "user 'ana' already exists" in again.stderr


def test_token_create_prints_it_once_stores_only_its_hash_and_revoke_stops_it(config):
    assert buzon(config, "user", "add", "erp", "--role", "treasury", "--password-stdin", input=PASSWORD).exit_code == 0
    created = buzon(config, "token", "create", "--user", "erp", "--name", "SAP")
    assert created.exit_code == 0, created.output
    raw = created.stdout.strip()
    assert raw.startswith("bzn_")
    assert len(raw) > 40
    assert "shown only now" in created.stderr
    session = query(config)
    try:
        token = session.scalars(sa.select(ApiToken)).one()
        assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
        assert raw not in (token.name, token.prefix, token.token_hash)
        assert raw.startswith(token.prefix)
        found = authenticate_token(session, raw, now=datetime.now(UTC))
        assert found is not None
        assert (found[0].username, found[1].id) == ("erp", token.id)
        session.commit()
        token_id = token.id
    finally:
        close(session)
    listing = buzon(config, "token", "list")
    assert token.prefix in listing.stdout
    assert raw not in listing.stdout
    revoked = buzon(config, "token", "revoke", str(token_id))
    assert revoked.exit_code == 0
    assert f"token {token_id} revoked" in revoked.stdout
    assert "already revoked" in buzon(config, "token", "revoke", str(token_id)).stdout
    session = query(config)
    try:
        assert authenticate_token(session, raw, now=datetime.now(UTC)) is None
        entries = session.scalars(sa.select(AuditEntry).where(AuditEntry.action.like("api_token.%"))).all()
        assert [e.action for e in entries] == ["api_token.created", "api_token.revoked"]
        assert all(e.actor.startswith("cli:") and e.subject == f"api_token:{token_id}" for e in entries)
        assert raw not in str([e.data for e in entries])
    finally:
        close(session)


def test_commands_refuse_an_uninitialised_database(tmp_path):
    path = tmp_path / "buzon.toml"
    path.write_text('demo = false\ndata_dir = "var"\n')
    result = buzon(path, "user", "list")
    assert result.exit_code == 2
    assert "run `buzon init` first" in result.stderr


def test_demo_users_one_per_role_added_once_with_the_documented_password(tmp_path):
    settings = default_settings(base=tmp_path)
    engine = make_engine(settings.database_url)
    migrate(engine)
    note = seed_users(settings)
    assert note is not None
    assert DEMO_PASSWORD in note
    assert seed_users(settings) is None  # a second run adds nothing
    with Session(engine) as session:
        users = session.scalars(sa.select(User).order_by(User.id)).all()
        assert [u.username for u in users] == [d.username for d in DEMO_USERS]
        assert {u.role for u in users} == set(Role)
        assert all(check_password_hash(u.password_hash, DEMO_PASSWORD) and u.active for u in users)
        assert all(u.first_name and u.family_name and u.id_type == "13" and u.id_number for u in users)
        assert session.scalar(sa.select(sa.func.count()).where(AuditEntry.actor == "system:demo")) == len(users)
    engine.dispose()
    assert seed_users(dataclasses.replace(settings, demo=False)) is None
