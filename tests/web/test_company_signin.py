"""Signing in to an install of several companies (web/company_switch.py), on SQLite and PostgreSQL: the companies a
browser may enter are those whose account of that name has that password and is active, and is the same person;
signing out ends the sessions in every one of them."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from buzon.webapp import web_app
from store.models import Role
from tests.web.companies_bed import PASSWORD, two_companies

pytestmark = pytest.mark.integration

UNO, DOS = "900123456", "805007280"


def account(username: str, role: Role = Role.CLERK, password: str = PASSWORD, **profile: object) -> dict[str, object]:
    return {"username": username, "role": role, "password": password, **profile}


def signed_in(app: object, name: str, password: str = PASSWORD) -> FlaskClient:
    client = app.test_client()  # type: ignore[attr-defined]
    assert client.post("/ingresar", data={"username": name, "password": password}).status_code == 302
    return client


def choices(client: FlaskClient) -> list[str]:
    page = client.get("/", follow_redirects=True).get_data(as_text=True)
    return [key for key in (UNO, DOS) if f'<option value="{key}"' in page]


def switched(client: FlaskClient, key: str) -> str:
    return client.post("/empresa", data={"empresa": key}, follow_redirects=True).get_data(as_text=True)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_companies_a_browser_may_enter(tmp_path: Path, kind: str) -> None:
    users = {
        UNO: [account("ana", email="ana@grupo.test"), account("beto"), account("carla", id_number="52123456"),
              account("dario", password="otra-clave-de-dario")],
        DOS: [account("ana", Role.TREASURY, email="ANA@grupo.test"), account("beto", active=False),
              account("carla", id_number="1019123456"), account("dario"), account("elena")],
    }  # fmt: skip
    with two_companies(kind, tmp_path, users) as group:
        app = web_app(group)
        app.config["WTF_CSRF_ENABLED"] = False
        ana = signed_in(app, "ana")  # one person (the same e-mail, any case): both, with her role in each
        assert choices(ana) == [UNO, DOS]
        assert "como Tesorería" in switched(ana, DOS)
        assert signed_in(app, "elena").get("/", follow_redirects=True).status_code == 200
        assert choices(signed_in(app, "elena")) == []  # one company: no selector
        # Disabled in Dos; another person in Dos (another cédula); another password in Uno.
        for name, elsewhere in (("beto", DOS), ("carla", DOS), ("dario", UNO)):
            client = signed_in(app, name)
            assert choices(client) == [], name
            assert "Su usuario no tiene acceso a esa empresa" in switched(client, elsewhere), name
        # Dario's password in Dos signs him in there (the first company where it is right), and only there.
        dario = signed_in(app, "dario")
        assert "Dos S.A.S. · NIT 805007280-8" in dario.get("/", follow_redirects=True).get_data(as_text=True)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_signing_out_ends_the_sessions_in_every_company(tmp_path: Path, kind: str) -> None:
    with two_companies(kind, tmp_path) as group:
        app = web_app(group)
        app.config["WTF_CSRF_ENABLED"] = False
        ana = signed_in(app, "ana")
        switched(ana, DOS)
        with ana.session_transaction() as copied:  # a copy of the cookie kept elsewhere
            kept = dict(copied)
        ana.post("/salir")
        thief = app.test_client()
        with thief.session_transaction() as session:
            session.update(kept)
        assert thief.get("/").status_code == 302  # Dos's session ended
        with thief.session_transaction() as session:
            session["empresa"] = UNO
        assert thief.get("/").status_code == 302  # and Uno's too
