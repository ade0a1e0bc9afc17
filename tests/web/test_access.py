"""Access control on real SQLite and PostgreSQL: every route × every role, login and its throttling, CSRF, sessions,
and the JSON API's bearer tokens through the test client and over real HTTP."""

from __future__ import annotations

import hashlib
import json
import re
import threading
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Blueprint, Flask
from werkzeug.routing import IntegerConverter
from werkzeug.serving import make_server

from buzon.demo_users import DEMO_PASSWORD, DEMO_USERS
from store.models import ApiToken, AuditEntry, LoginThrottle, Role, User
from tests.services import free_port
from tests.web.conftest import PASSWORD, add_user, csrf_token, log_in, sign_in
from web.access import declared_roles, is_public, roles, undeclared_endpoints
from web.auth import (
    ADDRESS_MAX_FAILURES,
    BAD_CREDENTIALS,
    INACTIVE,
    MAX_FAILURES,
    THROTTLED,
    issue_token,
    revoke_token,
    set_password,
)

pytestmark = pytest.mark.integration

# The only routes anyone may reach without signing in. Marking another view @public must be a decision made here.
PUBLIC = {"static", "health", "auth.login"}
LOGIN_PATH = "/ingresar"


def probe_routes(app: Flask) -> None:
    """Routes with narrow roles, so the walk also meets refusals (the real routes are open to every role today)."""
    bp = Blueprint("probe", __name__)

    @bp.get("/prueba/solo-admin")
    @roles(Role.ADMIN)
    def admin_only() -> str:
        return "solo administradores"

    @bp.post("/prueba/accion-auxiliar")
    @roles(Role.CLERK)
    def clerk_action() -> str:
        return "hecho"

    @bp.post("/api/v1/prueba/<int:n>")
    @roles(Role.CLERK, Role.TREASURY)
    def api_write(n: int) -> dict:
        return {"n": n}

    app.register_blueprint(bp)


def sample_url(app: Flask, rule) -> str:
    """The rule's URL with a placeholder for each argument (an integer where the converter wants one)."""
    values = {name: 1 if isinstance(conv, IntegerConverter) else "x" * 8 for name, conv in rule._converters.items()}
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


# --- Every route states its roles -------------------------------------------------------------------------------


def test_every_route_states_its_roles_and_only_login_static_and_health_are_public(app_and_db):
    app, _ = app_and_db
    assert undeclared_endpoints(app) == []
    public = {endpoint for endpoint, view in app.view_functions.items() if is_public(view)} | {"static"}
    assert public == PUBLIC


def test_a_route_that_states_no_roles_is_caught_by_the_check_and_refused_at_runtime(app_and_db, client_as):
    app, _ = app_and_db

    @app.get("/olvidada")
    def forgotten() -> str:
        return "sin roles"

    assert undeclared_endpoints(app) == ["forgotten"]
    response = client_as(Role.ADMIN).get("/olvidada")
    assert response.status_code == 403  # deny by default
    assert "sin roles" not in response.get_data(as_text=True)


@pytest.mark.parametrize("role", [None, *Role], ids=lambda r: str(r or "anonymous"))
def test_route_role_walk(app_and_db, client_as, role):
    app, _ = app_and_db
    probe_routes(app)
    walked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC:
            continue
        allowed = declared_roles(app.view_functions[rule.endpoint])
        assert allowed, f"{rule.rule} ({rule.endpoint}) states no roles"
        url = sample_url(app, rule)
        api = url.startswith("/api/")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            client = client_as(role)  # a fresh client each time: a POST may be the logout
            data = {"csrf_token": csrf_token(client)} if method != "GET" else None
            response = client.open(url, method=method, data=data)
            where = f"{method} {url} as {role or 'anonymous'}: {response.status_code}"
            walked += 1
            if role is None and api:
                assert response.status_code == 401, where
                assert response.json["error"] == "authentication_required", where
                assert response.headers["WWW-Authenticate"].startswith("Bearer"), where
            elif role is None:
                assert response.status_code == 302, where
                assert response.location.startswith(f"{LOGIN_PATH}?next="), where
            elif role in allowed:
                assert response.status_code not in (401, 403), where
                assert LOGIN_PATH not in (response.location or "") or rule.endpoint == "auth.logout", where
            elif api:
                assert response.status_code == 403, where
                assert response.json["error"] == "forbidden", where
            else:
                assert response.status_code == 403, where
                assert "Acceso denegado" in response.get_data(as_text=True), where
    assert walked >= 6


def test_pages_and_links_follow_the_role(app_and_db, client_as):
    app, _ = app_and_db
    probe_routes(app)
    page = client_as(Role.TREASURY).get("/").get_data(as_text=True)
    assert "Cerrar sesión" in page
    assert "(Tesorería)" in page
    assert 'href="/cuarentena"' in page
    refused = client_as(Role.AUDITOR).get("/prueba/solo-admin")
    assert refused.status_code == 403
    assert "Su rol (Auditor) no tiene permiso" in refused.get_data(as_text=True)
    assert client_as(Role.ADMIN).get("/prueba/solo-admin").get_data(as_text=True) == "solo administradores"


# --- Login, logout, sessions ------------------------------------------------------------------------------------


def test_login_page_is_spanish_and_login_returns_to_the_page_asked_for(app_and_db):
    app, session = app_and_db
    add_user(session, "ana", Role.CLERK)
    client = app.test_client()
    first = client.get("/cuarentena")
    assert first.status_code == 302
    assert first.location == f"{LOGIN_PATH}?next=/cuarentena"
    page = client.get(first.location).get_data(as_text=True)
    assert 'lang="es-CO"' in page
    assert "Contraseña" in page
    response = log_in(client, "Ana", next="/cuarentena")  # user names are case-insensitive
    assert response.status_code == 302
    assert response.location == "/cuarentena"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http here; see the https test
    assert client.get("/cuarentena").status_code == 200
    user = session.scalar(sa.select(User).where(User.username == "ana"))
    assert user.last_login_at is not None
    entry = session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "auth.login")).one()
    assert (entry.actor, entry.subject, entry.source) == ("user:ana", "user:ana", "127.0.0.1")


@pytest.mark.parametrize("target", ["https://evil.test/", "//evil.test/x", "/\\evil.test", "javascript:alert(1)"])
def test_login_never_redirects_to_another_site(app_and_db, target):
    app, session = app_and_db
    add_user(session, "ana", Role.CLERK)
    response = log_in(app.test_client(), "ana", next=target)
    assert response.status_code == 302
    assert response.location == "/resumen"  # a clerk's home (web.access.home_endpoint), never the other site


def test_session_cookie_is_secure_over_https(app_and_db):
    app, session = app_and_db
    add_user(session, "ana", Role.CLERK)
    client = app.test_client()
    page = client.get(LOGIN_PATH, base_url="https://buzon.example").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post(
        LOGIN_PATH,
        data={"username": "ana", "password": PASSWORD, "csrf_token": token},
        base_url="https://buzon.example",
        headers={"Referer": "https://buzon.example/ingresar"},  # flask-wtf checks the referrer over https
    )
    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"]


def test_logout_ends_the_session_and_is_audited(app_and_db):
    app, session = app_and_db
    add_user(session, "ana", Role.CLERK)
    client = app.test_client()
    assert log_in(client, "ana").status_code == 302
    response = client.post("/salir", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 302
    assert response.location.startswith(LOGIN_PATH)
    assert "Sesión cerrada" in client.get(response.location).get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert session.scalar(sa.select(AuditEntry.actor).where(AuditEntry.action == "auth.logout")) == "user:ana"


@pytest.mark.parametrize("role", list(Role))
def test_every_role_can_sign_out_and_ask_who_it_is(app_and_db, role):
    """Billing could not sign out (403) nor read /api/v1/me when those routes listed the four older roles."""
    app, session = app_and_db
    add_user(session, "quien", role)
    client = app.test_client()
    assert log_in(client, "quien").status_code == 302
    assert client.get("/api/v1/me").get_json()["role"] == role.value
    response = client.post("/salir", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 302 and response.location.startswith(LOGIN_PATH)
    assert client.get("/api/v1/me").status_code == 401


def test_inactive_user_is_refused_and_deactivation_ends_open_sessions(app_and_db):
    app, session = app_and_db
    user = add_user(session, "ana", Role.CLERK)
    add_user(session, "beto", Role.CLERK, active=False)
    refused = log_in(app.test_client(), "beto")
    assert refused.status_code == 403
    assert INACTIVE in refused.get_data(as_text=True)
    assert session.scalar(sa.select(AuditEntry.data).where(AuditEntry.action == "auth.login.refused")) == {
        "reason": "inactive"
    }
    inactive_wrong = log_in(app.test_client(), "beto", "otra-contraseña")
    assert BAD_CREDENTIALS in inactive_wrong.get_data(as_text=True)  # no hint without the right password
    client = app.test_client()
    sign_in(app, client, user)
    assert client.get("/").status_code == 200
    user.active = False
    session.flush()
    assert client.get("/").status_code == 302


def test_a_password_change_ends_the_other_sessions(app_and_db):
    app, session = app_and_db
    user = add_user(session, "ana", Role.CLERK)
    client = app.test_client()
    assert log_in(client, "ana").status_code == 302
    assert client.get("/").status_code == 200
    set_password(session, user, "una-contraseña-nueva", actor="test")
    session.flush()
    assert client.get("/").status_code == 302
    assert log_in(client, "ana", "una-contraseña-nueva").status_code == 302


# --- Throttling ---------------------------------------------------------------------------------------------------


def test_account_locks_after_repeated_failures_and_opens_after_the_lock(app_and_db):
    app, session = app_and_db
    user = add_user(session, "ana", Role.CLERK)
    client = app.test_client()
    for _ in range(MAX_FAILURES - 1):
        response = log_in(client, "ana", "equivocada")
        assert response.status_code == 200
        assert BAD_CREDENTIALS in response.get_data(as_text=True)
    locked = log_in(client, "ana", "equivocada")
    assert locked.status_code == 429
    assert THROTTLED in locked.get_data(as_text=True)
    right_but_locked = log_in(client, "ana")
    assert right_but_locked.status_code == 429
    throttle = session.scalars(sa.select(LoginThrottle).where(LoginThrottle.username == "ana")).one()
    assert throttle.address == "127.0.0.1"
    assert throttle.locked_until is not None and user.locked_until is None  # the name from this address only
    actions = session.scalars(sa.select(AuditEntry.action).where(AuditEntry.subject == "user:ana")).all()
    assert actions.count("auth.login.failed") == MAX_FAILURES
    assert "auth.login.locked" in actions
    assert "auth.login.throttled" in actions
    throttle.locked_until = datetime.now(UTC) - timedelta(seconds=1)  # the lock has run out
    session.flush()
    assert log_in(client, "ana").status_code == 302
    assert session.scalars(sa.select(LoginThrottle).where(LoginThrottle.username == "ana")).all() == []


def test_an_unknown_user_name_is_answered_exactly_like_a_real_one(app_and_db):
    app, session = app_and_db
    add_user(session, "ana", Role.CLERK)
    answers = {}
    for name in ("ana", "nadie"):
        client = app.test_client()
        answers[name] = [
            (r.status_code, re.sub(r'value="[^"]*"', "", r.get_data(as_text=True)))  # the name, the CSRF token
            for r in (log_in(client, name, "equivocada") for _ in range(MAX_FAILURES + 1))
        ]
    assert answers["ana"] == answers["nadie"]
    assert [status for status, _ in answers["nadie"]] == [200] * (MAX_FAILURES - 1) + [429, 429]


def test_one_client_address_is_throttled_whatever_names_it_tries(app_and_db):
    app, session = app_and_db
    add_user(session, "ana", Role.CLERK)
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    for n in range(ADDRESS_MAX_FAILURES):
        assert log_in(attacker, f"nombre{n}", "equivocada").status_code == 200
    blocked = log_in(attacker, "ana")
    assert blocked.status_code == 429
    assert THROTTLED in blocked.get_data(as_text=True)
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "198.51.100.4"
    assert log_in(elsewhere, "ana").status_code == 302


# --- CSRF ---------------------------------------------------------------------------------------------------------


def test_csrf_is_required_on_every_cookie_borne_post(app_and_db, client_as):
    app, session = app_and_db
    probe_routes(app)
    assert app.config["WTF_CSRF_ENABLED"]
    add_user(session, "ana", Role.CLERK)
    anonymous = app.test_client()
    no_token = anonymous.post(LOGIN_PATH, data={"username": "ana", "password": PASSWORD})
    assert no_token.status_code == 400
    assert "código de seguridad" in no_token.get_data(as_text=True)
    forged = anonymous.post(LOGIN_PATH, data={"username": "ana", "password": PASSWORD, "csrf_token": "falso"})
    assert forged.status_code == 400
    assert anonymous.get("/").status_code == 302  # not signed in
    clerk = client_as(Role.CLERK)
    assert clerk.post("/salir").status_code == 400
    assert clerk.get("/").status_code == 200  # still signed in
    assert clerk.post("/prueba/accion-auxiliar").status_code == 400
    assert clerk.post("/prueba/accion-auxiliar", data={"csrf_token": csrf_token(clerk)}).status_code == 200
    # A script riding on the session cookie is a cookie-borne POST too.
    session_api = clerk.post("/api/v1/prueba/3")
    assert session_api.status_code == 400
    assert session_api.json["error"] == "csrf"
    assert clerk.post("/api/v1/prueba/3", headers={"X-CSRFToken": csrf_token(clerk)}).json == {"n": 3}


# --- The JSON API and its bearer tokens ---------------------------------------------------------------------------


@pytest.fixture
def api_user(app_and_db):
    app, session = app_and_db
    user = add_user(session, "erp", Role.TREASURY, first_name="Integración", family_name="ERP", email="erp@x.test")
    with app.app_context():
        token, raw = issue_token(session, user, name="ERP", actor="test", now=datetime.now(UTC))
    session.flush()
    return user, token, raw


def test_bearer_token_authenticates_the_api_without_csrf_or_cookies(app_and_db, api_user):
    app, _ = app_and_db
    probe_routes(app)
    _, token, raw = api_user
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in json.dumps([token.name, token.prefix, token.token_hash])
    client = app.test_client()
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200
    assert response.json == {
        "username": "erp",
        "name": "Integración ERP",
        "email": "erp@x.test",
        "role": "treasury",
        "role_label": "Tesorería",
        "authenticated_by": "token",
    }
    assert "Set-Cookie" not in response.headers  # a token request opens no session
    assert token.last_used_at is not None
    written = client.post("/api/v1/prueba/7", headers={"Authorization": f"Bearer {raw}"})
    assert written.status_code == 200  # no CSRF token: the bearer header cannot be forged cross-site
    assert written.json == {"n": 7}


def test_the_bearer_token_wins_over_a_session_cookie(app_and_db, api_user, client_as):
    _, _, raw = api_user
    clerk = client_as(Role.CLERK)
    assert clerk.get("/api/v1/me").json["authenticated_by"] == "session"
    as_token = clerk.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert as_token.json["username"] == "erp"
    bad = clerk.get("/api/v1/me", headers={"Authorization": "Bearer bzn_no-existe"})
    assert bad.status_code == 401  # a wrong token is not rescued by the cookie


@pytest.mark.parametrize("header", ["Bearer bzn_no-existe", "Bearer ", "Basic ZXJwOng=", "bzn_sin-esquema"])
def test_a_missing_or_wrong_token_is_401(app_and_db, api_user, header):
    app, _ = app_and_db
    response = app.test_client().get("/api/v1/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json["error"] == "authentication_required"


def test_revoked_tokens_and_disabled_users_get_401(app_and_db, api_user):
    app, session = app_and_db
    user, token, raw = api_user
    client = app.test_client()
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    user.active = False
    session.flush()
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    user.active = True
    revoke_token(session, token, actor="test", now=datetime.now(UTC))
    session.flush()
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert session.scalar(sa.select(AuditEntry.subject).where(AuditEntry.action == "api_token.revoked")) == (
        f"api_token:{token.id}"
    )


def test_the_api_over_real_http(app_and_db, api_user):
    app, session = app_and_db
    probe_routes(app)
    _, token, raw = api_user
    port = free_port()
    server = make_server("127.0.0.1", port, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"

    def call(path: str, method: str = "GET", token_text: str | None = raw) -> tuple[int, dict, dict]:
        request = urllib.request.Request(  # noqa: S310 - a loopback http:// URL built here
            base + path, method=method, data=b"" if method == "POST" else None
        )
        if token_text is not None:
            request.add_header("Authorization", f"Bearer {token_text}")
        try:
            with urllib.request.urlopen(request, timeout=10) as resp:  # noqa: S310
                return resp.status, dict(resp.headers), json.load(resp)
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, dict(exc.headers), json.load(exc)

    try:
        status, headers, body = call("/api/v1/me")
        assert (status, body["username"], body["role"]) == (200, "erp", "treasury")
        assert headers["Content-Type"] == "application/json"
        assert "Set-Cookie" not in headers
        status, _, body = call("/api/v1/prueba/5", "POST")  # a write without any CSRF token
        assert (status, body) == (200, {"n": 5})
        status, headers, body = call("/api/v1/me", token_text=None)
        assert (status, body["error"]) == (401, "authentication_required")
        assert headers["WWW-Authenticate"] == 'Bearer realm="buzon"'
        revoke_token(session, token, actor="test", now=datetime.now(UTC))
        session.flush()
        assert call("/api/v1/me")[0] == 401
        assert call("/api/v1/no-existe")[0] == 404
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
    assert session.get(ApiToken, token.id).last_used_at is not None


# --- Demo ---------------------------------------------------------------------------------------------------------


def test_demo_login_page_names_the_demo_users(app_and_db):
    app, _ = app_and_db
    assert app.config["BUZON_SETTINGS"].demo
    page = app.test_client().get(LOGIN_PATH).get_data(as_text=True)
    assert "Modo demostración" in page
    for demo in DEMO_USERS:
        assert f"<code>{demo.username}</code>" in page
    assert f"<code>{DEMO_PASSWORD}</code>" in page
