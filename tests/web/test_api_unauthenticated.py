"""Every /api/ write without credentials is a 401 with a Spanish JSON message, not a CSRF 400 (web/access.py), on
SQLite and PostgreSQL with the real issuing service: the issuing paths, the apidian paths and every other POST the
app routes under /api/; nothing is issued. CSRF still guards a script riding on a signed-in session and every
browser form."""

from __future__ import annotations

import re

import sqlalchemy as sa

from store.models import OutboundDocument, User
from tests.integration.issuing_fixtures import IssuingBed, invoice_data
from tests.integration.issuing_fixtures import issuing_bed as issuing_bed  # the fixture, re-exported
from tests.web.conftest import sign_in
from tests.web.test_api_issuing import make_api


def _refused_401(answer) -> None:
    assert answer.status_code == 401, (answer.status_code, answer.get_data(as_text=True)[:200])
    assert answer.json["error"] == "authentication_required" and "Se requiere autenticación" in answer.json["message"]
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_api_posts_without_a_token_are_401_and_csrf_still_guards_sessions(issuing_bed: IssuingBed) -> None:
    api = make_api(issuing_bed)
    app, anonymous = api.client.application, api.client.application.test_client()
    assert app.config.get("WTF_CSRF_ENABLED", True)
    for path in ("/api/v1/invoices", "/api/v1/credit-notes", "/api/v1/debit-notes", "/api/ubl2.1/invoice",
                 "/api/ubl2.1/credit-note", "/api/ubl2.1/debit-note"):  # fmt: skip
        _refused_401(anonymous.post(path, json=invoice_data()))
        _refused_401(anonymous.post(path, json=invoice_data(), headers={"Authorization": "Bearer bzn_falso"}))
    # Every other write the app routes under /api/ (ids filled in): 401 as well, never a CSRF 400.
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") and rule.methods & {"POST", "PUT", "PATCH", "DELETE"}:
            path = re.sub(r"<(?:int:)?[^>]+>", "1", rule.rule)
            method = sorted(rule.methods & {"POST", "PUT", "PATCH", "DELETE"})[0]
            _refused_401(anonymous.open(path, method=method, json={}))
    _refused_401(anonymous.post("/api/v1/no-existe", json={}))
    assert anonymous.get("/api/v1/issued/1").status_code == 401  # reads were 401 already
    assert issuing_bed.count(OutboundDocument) == 0

    # A signed-in session without a bearer token still needs the CSRF token (a script riding on the cookie).
    with issuing_bed.sessions() as s:
        user = s.execute(sa.select(User).where(User.username == "api-erp")).scalar_one()
        s.expunge(user)
    browser = app.test_client()
    sign_in(app, browser, user)
    riding = browser.post("/api/v1/invoices", json=invoice_data())
    assert riding.status_code == 400 and riding.json["error"] == "csrf"
    # A browser form without its CSRF token is refused as before.
    assert anonymous.post("/ingresar", data={"username": "api-erp", "password": "x"}).status_code == 400
    # With the token, the same POST issues.
    assert api.post("/api/v1/invoices", invoice_data(), key="k-401").status_code == 201
