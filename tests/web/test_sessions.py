"""Sessions end where the server decides, on real SQLite and PostgreSQL: after web.session_hours of inactivity (Flask
checks the cookie's signed timestamp), on logout for every copy of the cookie, on a password reset and on disabling;
and the login throttle keyed on (account, client address), so a stranger's wrong passwords lock only the stranger."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner

from store.models import AuditEntry, LoginThrottle, Role
from tests.web.conftest import add_user, csrf_token, log_in
from web.access import session_lifetime
from web.auth import BAD_CREDENTIALS, MAX_FAILURES, THROTTLED, set_active, set_password

pytestmark = pytest.mark.integration

STRANGER = "203.0.113.9"
CLERK_DESK = "198.51.100.4"


def signed_in(app, username: str, address: str = "127.0.0.1") -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    assert log_in(client, username).status_code == 302
    assert client.get("/").status_code == 200
    return client


def last_used(app, client: FlaskClient, hours_ago: float, monkeypatch) -> None:
    """Make the client's session cookie one that was last re-signed hours_ago (as if idle since then)."""
    serializer = app.session_interface.get_signing_serializer(app)
    data = serializer.loads(client.get_cookie("session").value)
    then = int(time.time() - hours_ago * 3600)
    with monkeypatch.context() as m:
        m.setattr(TimestampSigner, "get_timestamp", lambda self: then)
        client.set_cookie("session", serializer.dumps(data))


# --- Inactivity -------------------------------------------------------------------------------------------------


def test_the_session_lifetime_is_twelve_hours_not_flasks_31_days(app_and_db):
    app, _ = app_and_db
    assert app.permanent_session_lifetime == timedelta(hours=12)
    assert session_lifetime(SimpleNamespace(web=SimpleNamespace(session_hours=2))) == timedelta(hours=2)
    assert session_lifetime(SimpleNamespace(web=SimpleNamespace())) == timedelta(hours=12)
    for bad in (0, 721, True, "3", 2.5):
        assert session_lifetime(SimpleNamespace(web=SimpleNamespace(session_hours=bad))) == timedelta(hours=12), bad


@pytest.mark.parametrize(("idle_hours", "still_in"), [(11.5, True), (12.5, False), (24 * 30, False)])
def test_a_session_ends_after_twelve_idle_hours(app_and_db, monkeypatch, idle_hours, still_in):
    app, session = app_and_db
    add_user(session, "ana", Role.CLERK)
    client = signed_in(app, "ana")
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.expires is not None
    assert cookie.expires - datetime.now(UTC) < timedelta(hours=12, minutes=1)  # the browser forgets it too
    last_used(app, client, idle_hours, monkeypatch)
    response = client.get("/")
    assert (response.status_code == 200) is still_in
    if not still_in:
        assert response.location.startswith("/ingresar?next=")


def test_use_keeps_the_session_alive(app_and_db, monkeypatch):
    app, session = app_and_db
    add_user(session, "ana", Role.CLERK)
    client = signed_in(app, "ana")
    last_used(app, client, 11, monkeypatch)
    assert client.get("/").status_code == 200  # this request re-signs the cookie now
    assert client.get("/").status_code == 200


# --- Ended server-side --------------------------------------------------------------------------------------------


def copy_of(app, client: FlaskClient) -> FlaskClient:
    """Another client carrying the same session cookie (a stolen or a second browser's copy)."""
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def test_logout_ends_every_copy_of_the_session_cookie(app_and_db):
    app, session = app_and_db
    user = add_user(session, "ana", Role.CLERK)
    client = signed_in(app, "ana")
    copy = copy_of(app, client)
    assert copy.get("/").status_code == 200
    version = user.session_version
    assert client.post("/salir", data={"csrf_token": csrf_token(client)}).status_code == 302
    assert user.session_version == version + 1
    assert copy.get("/").status_code == 302  # the copy no longer opens a session
    assert signed_in(app, "ana").get("/").status_code == 200  # a new login works


def test_a_password_reset_ends_the_session_and_lifts_the_locks(app_and_db):
    app, session = app_and_db
    user = add_user(session, "ana", Role.CLERK)
    client = signed_in(app, "ana")
    stranger = app.test_client()
    stranger.environ_base["REMOTE_ADDR"] = STRANGER
    for _ in range(MAX_FAILURES):
        log_in(stranger, "ana", "equivocada")
    assert session.scalar(sa.select(sa.func.count()).select_from(LoginThrottle)) == 1
    set_password(session, user, "una-contraseña-nueva", actor="user:admin")
    session.flush()
    assert client.get("/").status_code == 302
    assert session.scalar(sa.select(sa.func.count()).select_from(LoginThrottle)) == 0


def test_disabling_ends_the_session_and_enabling_does_not_revive_it(app_and_db):
    app, session = app_and_db
    user = add_user(session, "ana", Role.CLERK)
    client = signed_in(app, "ana")
    set_active(session, user, False, actor="user:admin")
    session.flush()
    assert client.get("/").status_code == 302
    set_active(session, user, True, actor="user:admin")
    session.flush()
    assert client.get("/").status_code == 302  # the old cookie stays dead; a new login is needed
    assert signed_in(app, "ana").get("/").status_code == 200


# --- Throttling by (account, address) -----------------------------------------------------------------------------


def test_a_strangers_wrong_passwords_do_not_lock_the_clerk_out_of_their_own_desk(app_and_db):
    app, session = app_and_db
    add_user(session, "ana", Role.CLERK)
    stranger = app.test_client()
    stranger.environ_base["REMOTE_ADDR"] = STRANGER
    answers = [log_in(stranger, "ana", "equivocada").status_code for _ in range(MAX_FAILURES)]
    assert answers == [200] * (MAX_FAILURES - 1) + [429]
    right_from_there = log_in(stranger, "ana")
    assert right_from_there.status_code == 429  # even the right password, from the stranger's address
    assert THROTTLED in right_from_there.get_data(as_text=True)
    desk = app.test_client()
    desk.environ_base["REMOTE_ADDR"] = CLERK_DESK
    assert log_in(desk, "ana").status_code == 302
    locked = session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "auth.login.locked")).one()
    assert (locked.subject, locked.source, locked.data["address"]) == ("user:ana", STRANGER, STRANGER)
    throttled = session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "auth.login.throttled")).one()
    assert throttled.data == {"reason": "locked"}
    row = session.scalars(sa.select(LoginThrottle)).one()
    assert (row.username, row.address) == ("ana", STRANGER)  # the desk's good login kept the stranger's lock


def test_unknown_accounts_are_throttled_the_same_way(app_and_db):
    app, session = app_and_db
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = STRANGER
    answers = [log_in(client, "nadie", "equivocada") for _ in range(MAX_FAILURES + 1)]
    assert [r.status_code for r in answers] == [200] * (MAX_FAILURES - 1) + [429, 429]
    assert BAD_CREDENTIALS in answers[0].get_data(as_text=True)
    row = session.scalars(sa.select(LoginThrottle).where(LoginThrottle.username == "nadie")).one()
    assert row.locked_until is not None and row.locked_until > datetime.now(UTC)
    failed = session.scalar(
        sa.select(sa.func.count()).select_from(AuditEntry).where(AuditEntry.action == "auth.login.failed")
    )
    assert failed == MAX_FAILURES


def test_old_failures_are_forgotten(app_and_db):
    app, session = app_and_db
    add_user(session, "ana", Role.CLERK)
    client = app.test_client()
    for _ in range(MAX_FAILURES - 1):
        assert log_in(client, "ana", "equivocada").status_code == 200
    row = session.scalars(sa.select(LoginThrottle)).one()
    assert row.failures == MAX_FAILURES - 1
    row.updated_at = datetime.now(UTC) - timedelta(hours=1)
    session.flush()
    assert log_in(client, "ana", "equivocada").status_code == 200  # counted from one again, not locked
    assert row.failures == 1
