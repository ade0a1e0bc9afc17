"""The web app on real SQLite and PostgreSQL, each test rolled back, and ways to be signed in as a role.

- ``app_and_db``: (app, session); every request of the app uses that one session (commits become savepoints).
- ``add_user(session, username, role, …)``: a users row with the password PASSWORD (or ``password=``).
- ``sign_in(app, client, user)``: a fast sign-in (writes the session cookie as the login page would).
- ``log_in(client, username, password)``: the real thing, through the login form with its CSRF token.
- ``client_as`` fixture: ``client_as(Role.CLERK)`` is a test client signed in as a user of that role.
- ``csrf_token(client)``: a valid CSRF token for the client's session, read from a rendered form.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from buzon.config import default_settings
from store.models import Role, User
from web.access import Principal
from web.app import create_app
from web.auth import create_user

PASSWORD = "contraseña-de-prueba"
_HASHES: dict[str, str] = {}  # scrypt is slow on purpose; hash each test password once per run


def password_hash(password: str) -> str:
    if password not in _HASHES:
        _HASHES[password] = generate_password_hash(password)
    return _HASHES[password]


@pytest.fixture
def app_and_db(engine, tmp_path) -> Iterator[tuple[Flask, Session]]:
    settings = default_settings(base=tmp_path)
    with engine.connect() as conn:
        outer = conn.begin()
        if conn.dialect.name == "sqlite":
            # pysqlite emits no BEGIN of its own before a SAVEPOINT, and releasing a SAVEPOINT opened outside a
            # transaction commits it: without this, the app's commits would outlive the test on SQLite.
            conn.exec_driver_sql("BEGIN")
        session = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
        app = create_app(settings, engine=engine)
        app.extensions["buzon.db"] = lambda: session
        yield app, session
        session.close()
        outer.rollback()


def add_user(
    session: Session, username: str, role: Role, *, password: str = PASSWORD, active: bool = True, **profile: Any
) -> User:
    """A user in the test's transaction."""
    user = create_user(
        session, username, role=role, password=password, password_hash=password_hash(password), actor="test", **profile
    )
    user.active = active
    session.flush()
    return user


def sign_in(app: Flask, client: FlaskClient, user: User) -> None:
    """Sign the client in as user without the login form (for walks over many routes)."""
    with app.test_request_context():
        user_id = Principal.of(user).get_id()
    with client.session_transaction() as sess:
        sess["_user_id"] = user_id
        sess["_fresh"] = True


def csrf_token(client: FlaskClient) -> str:
    """A CSRF token bound to the client's session, taken from a rendered form (login page or the logout button)."""
    page = client.get("/ingresar", follow_redirects=True).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "no form with a CSRF token on the page"
    return match.group(1)


def log_in(client: FlaskClient, username: str, password: str = PASSWORD, **form: str) -> Any:
    """Post the login form (with its CSRF token); returns the response without following the redirect."""
    return client.post(
        "/ingresar", data={"username": username, "password": password, "csrf_token": csrf_token(client), **form}
    )


@pytest.fixture
def client_as(app_and_db) -> Callable[[Role | None], FlaskClient]:
    """A factory: a new test client signed in as a user of the role (one user per role), or anonymous for None."""
    app, session = app_and_db
    users: dict[Role, User] = {}

    def make(role: Role | None) -> FlaskClient:
        client = app.test_client()
        if role is not None:
            if role not in users:
                users[role] = add_user(session, f"usuario-{role}", role, first_name="Prueba", family_name=str(role))
            sign_in(app, client, users[role])
        return client

    return make
