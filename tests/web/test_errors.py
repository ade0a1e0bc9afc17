"""Error pages in Spanish (lang es-CO, one h1, a way back) and JSON errors under /api/, on SQLite and PostgreSQL:
400, 403, 404, 405, 413, 500 and the CSRF refusal; a 500 never shows a traceback, even when the page itself fails."""

from __future__ import annotations

import logging
import re

import pytest
from flask import Blueprint, abort

from store.models import Role
from web.access import roles

pytestmark = pytest.mark.integration

SECRET = "detalle-interno-que-no-debe-verse"


def probes(app) -> None:
    bp = Blueprint("error_probe", __name__)

    @bp.get("/prueba/400")
    @roles(*Role)
    def bad() -> str:
        abort(400)

    @bp.get("/prueba/400-propio")
    @roles(*Role)
    def bad_own() -> str:
        abort(400, description="La fecha «ayer» no es una fecha.")

    @bp.get("/prueba/413")
    @roles(*Role)
    def big() -> str:
        abort(413)

    @bp.get("/prueba/500")
    @roles(*Role)
    def boom() -> str:
        raise RuntimeError(SECRET)

    @bp.get("/api/v1/prueba/500")
    @roles(*Role)
    def api_boom() -> str:
        raise RuntimeError(SECRET)

    app.register_blueprint(bp)


def assert_spanish_page(response, status: int, heading: str) -> str:
    assert response.status_code == status
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert '<html lang="es-CO">' in html
    assert len(re.findall(r"<h1[ >]", html)) == 1
    assert heading in html
    assert f"Error {status}" in html
    assert "Traceback" not in html and SECRET not in html
    return html


def test_404_is_a_spanish_page_with_a_way_back(app_and_db, client_as):
    html = assert_spanish_page(client_as(Role.CLERK).get("/no-existe"), 404, "No encontramos esta página")
    assert 'href="/"' in html  # the inbox
    anonymous = assert_spanish_page(client_as(None).get("/no-existe"), 404, "No encontramos esta página")
    assert 'href="/ingresar"' in anonymous


def test_the_way_back_is_the_referring_page_of_this_site_only(app_and_db, client_as):
    clerk = client_as(Role.CLERK)
    ours = clerk.get("/no-existe", headers={"Referer": "http://localhost/cuarentena?x=1"}).get_data(as_text=True)
    assert 'href="/cuarentena?x=1"' in ours
    theirs = clerk.get("/no-existe", headers={"Referer": "https://evil.test/x"}).get_data(as_text=True)
    assert "evil.test" not in theirs


def test_405_says_so_in_spanish_and_keeps_the_allow_header(app_and_db, client_as):
    response = client_as(Role.CLERK).get("/salir")
    assert_spanish_page(response, 405, "no admite esa acción")
    assert "POST" in response.headers["Allow"]


def test_400_and_a_views_own_spanish_description(app_and_db, client_as):
    app, _ = app_and_db
    probes(app)
    clerk = client_as(Role.CLERK)
    assert_spanish_page(clerk.get("/prueba/400"), 400, "La solicitud no es válida")
    own = assert_spanish_page(clerk.get("/prueba/400-propio"), 400, "La solicitud no es válida")
    assert "La fecha «ayer» no es una fecha." in own


def test_413_page(app_and_db, client_as):
    app, _ = app_and_db
    probes(app)
    assert_spanish_page(client_as(Role.CLERK).get("/prueba/413"), 413, "demasiado grande")


def test_csrf_refusal_is_a_styled_spanish_page(app_and_db):
    app, _ = app_and_db
    html = assert_spanish_page(app.test_client().post("/ingresar", data={"username": "x"}), 400, "No se pudo enviar")
    assert "CSRF" in html


def test_403_page(app_and_db, client_as):
    app, _ = app_and_db
    bp = Blueprint("only_admin", __name__)

    @bp.get("/prueba/admin")
    @roles(Role.ADMIN)
    def admin() -> str:
        return "ok"

    app.register_blueprint(bp)
    html = assert_spanish_page(client_as(Role.AUDITOR).get("/prueba/admin"), 403, "Acceso denegado")
    assert "Su rol (Auditor)" in html


def test_500_never_shows_the_traceback_and_logs_a_reference(app_and_db, client_as, caplog):
    app, _ = app_and_db
    probes(app)
    with caplog.at_level(logging.ERROR, logger="web.access"):
        response = client_as(Role.CLERK).get("/prueba/500")
    html = assert_spanish_page(response, 500, "Algo falló de nuestro lado")
    reference = re.search(r"Referencia del error: <code>([0-9a-f]{8})</code>", html).group(1)
    logged = [r for r in caplog.records if reference in r.getMessage()]
    assert logged and logged[0].exc_info and SECRET in str(logged[0].exc_info[1])  # the detail goes to the log


def test_500_when_even_the_error_page_fails(app_and_db, client_as, monkeypatch):
    app, _ = app_and_db
    probes(app)
    clerk = client_as(Role.CLERK)

    def broken(*args, **kwargs):
        raise RuntimeError("la base de datos no responde")

    monkeypatch.setattr("web.access.render_template", broken)
    response = clerk.get("/prueba/500")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert '<html lang="es-CO">' in html and html.count("<h1>") == 1
    assert "Algo falló" in html and SECRET not in html and "Traceback" not in html


# --- JSON under /api/ ------------------------------------------------------------------------------------------------


def test_api_errors_are_spanish_json(app_and_db, client_as):
    app, _ = app_and_db
    probes(app)
    clerk = client_as(Role.CLERK)
    missing = clerk.get("/api/v1/no-existe")
    assert (missing.status_code, missing.json["error"]) == (404, "not_found")
    assert missing.json["message"] == "No existe ningún recurso en esta dirección."
    wrong_method = client_as(None).get("/api/v1/documents/" + "a" * 96 + "/events")
    assert (wrong_method.status_code, wrong_method.json["error"]) == (405, "method_not_allowed")
    assert "use POST" in wrong_method.json["message"]
    assert "POST" in wrong_method.headers["Allow"]
    failed = clerk.get("/api/v1/prueba/500")
    assert (failed.status_code, failed.json["error"]) == (500, "internal_error")
    assert SECRET not in failed.get_data(as_text=True)
    assert failed.json["reference"] in failed.json["message"]
