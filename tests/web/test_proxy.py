"""Behind a reverse proxy (web.proxy_hops): the client's address reaches the audit log and the throttle, and the
session cookie is Secure when the proxy says the request came over https. Without the setting, the headers are not
believed."""

from __future__ import annotations

import dataclasses

import pytest
import sqlalchemy as sa

from buzon.config import default_settings
from store.models import AuditEntry, Role
from tests.web.conftest import add_user, log_in
from web.app import create_app

FORWARDED = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "buzon.example.co"}


@pytest.mark.parametrize(("hops", "address", "secure"), [(1, "203.0.113.7", True), (0, "127.0.0.1", False)])
def test_forwarded_headers_are_believed_only_behind_a_configured_proxy(app_and_db, tmp_path, hops, address, secure):
    app, session = app_and_db
    settings = default_settings(base=tmp_path)
    settings = dataclasses.replace(settings, web=dataclasses.replace(settings.web, proxy_hops=hops))
    proxied = create_app(settings, engine=app.extensions["buzon.engine"])
    proxied.extensions["buzon.db"] = app.extensions["buzon.db"]
    add_user(session, "ana", Role.CLERK)
    client = proxied.test_client()
    client.environ_base.update({f"HTTP_{k.upper().replace('-', '_')}": v for k, v in FORWARDED.items()})
    client.environ_base["REMOTE_ADDR"] = "127.0.0.1"
    # Over https flask-wtf also wants a same-origin Referer, as a browser sends it.
    client.environ_base["HTTP_REFERER"] = "https://buzon.example.co/ingresar" if hops else "http://localhost/ingresar"
    assert log_in(client, "ana", "equivocada").status_code == 200
    failed = session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "auth.login.failed")).one()
    assert failed.source == address
    answer = log_in(client, "ana")
    assert answer.status_code == 302
    cookie = next(v for k, v in answer.headers.items() if k == "Set-Cookie" and v.startswith("session="))
    assert ("Secure" in cookie) is secure
