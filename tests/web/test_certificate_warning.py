"""The company certificate's expiry warning on /health and the jobs page (/tareas): 30 days ahead, and when it has
expired or cannot be opened; nothing with a fresh certificate or none configured. SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re
from pathlib import Path

import pytest

from store.models import Role
from tests.pki import _name, issue, pki, write_pkcs12

pytestmark = pytest.mark.integration

BOGOTA = dt.timezone(dt.timedelta(hours=-5))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _day(moment: dt.datetime) -> str:
    return moment.astimezone(BOGOTA).date().isoformat()


def _p12(path: Path, *, not_before: dt.datetime, not_after: dt.datetime, label: str) -> Path:
    identity = issue(
        _name("EMPRESA COMPRADORA S.A.S.", serial="900654321-0"),
        key_label=f"web-{label}",
        issuer=pki().intermediate,
        not_before=not_before,
        not_after=not_after,
    )
    return write_pkcs12(identity, path)


def _configure(app, path: Path, password: str = "prueba") -> None:  # noqa: S107 - the test PKI's password
    settings = app.config["BUZON_SETTINGS"]
    certificate = dataclasses.replace(settings.certificate, pkcs12_path=str(path), password=password)
    app.config["BUZON_SETTINGS"] = dataclasses.replace(settings, certificate=certificate)


def _notice(page: str) -> tuple[str, str] | None:
    """The (class, text) of the jobs page's certificate notice, if it shows one."""
    match = re.search(r'<p class="([^"]+)" id="certificado-aviso" role="alert">([^<]+)</p>', page)
    return (match.group(1), html.unescape(match.group(2))) if match else None


def _health(client) -> tuple[int, dict]:
    response = client.get("/health")
    return response.status_code, response.get_json()


def test_a_certificate_expiring_within_30_days_is_announced(app_and_db, client_as, tmp_path) -> None:
    app, _ = app_and_db
    end = _now() + dt.timedelta(days=12, hours=3)
    _configure(app, _p12(tmp_path / "firma.p12", not_before=_now() - dt.timedelta(days=300), not_after=end,
                         label="pronto"))  # fmt: skip

    status, health = _health(app.test_client())  # the probe is public
    assert status == 200 and health["status"] == "ok"
    assert health["certificate"]["status"] == "expiring"
    assert health["certificate"]["days_left"] == 12
    assert dt.datetime.fromisoformat(health["certificate"]["not_after"]) == end.replace(microsecond=0)
    assert f"vence el {_day(end)} (quedan 12 días" in health["certificate"]["warning"]

    page = client_as(Role.ADMIN).get("/tareas").get_data(as_text=True)
    notice = _notice(page)
    assert notice is not None, page
    css, text = notice
    assert css == "notice"
    assert text.startswith("El certificado de firma «EMPRESA COMPRADORA S.A.S.» vence el")
    assert "quedan 12 días" in text and "certificate.pkcs12_path" in text
    # The auditor, who also reads the jobs page, sees it too.
    assert _notice(client_as(Role.AUDITOR).get("/tareas").get_data(as_text=True)) == notice


def test_an_expired_certificate_is_an_error(app_and_db, client_as, tmp_path) -> None:
    app, _ = app_and_db
    start, end = dt.datetime(2023, 2, 1, 15, tzinfo=dt.UTC), _now() - dt.timedelta(days=1)
    _configure(app, _p12(tmp_path / "firma.p12", not_before=start, not_after=end, label="vencido"))
    status, health = _health(app.test_client())
    assert status == 200  # the certificate never makes the probe fail
    assert health["certificate"]["status"] == "expired"
    assert f"venció el {_day(end)} (vigente del {_day(start)} al {_day(end)})" in health["certificate"]["warning"]
    css, text = _notice(client_as(Role.ADMIN).get("/tareas").get_data(as_text=True)) or ("", "")
    assert css == "error"
    assert f"venció el {_day(end)}" in text and "no puede firmar eventos" in text


def test_a_fresh_certificate_shows_no_warning(app_and_db, client_as, tmp_path) -> None:
    app, _ = app_and_db
    end = _now() + dt.timedelta(days=400)
    _configure(app, _p12(tmp_path / "firma.p12", not_before=_now() - dt.timedelta(days=1), not_after=end,
                         label="fresco"))  # fmt: skip
    _, health = _health(app.test_client())
    assert health["certificate"]["status"] == "ok"
    assert health["certificate"]["warning"] is None
    page = client_as(Role.ADMIN).get("/tareas").get_data(as_text=True)
    assert _notice(page) is None
    assert f"«EMPRESA COMPRADORA S.A.S.», vigente hasta el {_day(end)}" in html.unescape(page)


def test_a_renewed_file_shows_at_once(app_and_db, client_as, tmp_path) -> None:
    app, _ = app_and_db
    path = tmp_path / "firma.p12"
    _p12(path, not_before=_now() - dt.timedelta(days=300), not_after=_now() + dt.timedelta(days=5), label="viejo")
    _configure(app, path)
    admin = client_as(Role.ADMIN)
    assert _notice(admin.get("/tareas").get_data(as_text=True)) is not None
    _p12(path, not_before=_now() - dt.timedelta(days=1), not_after=_now() + dt.timedelta(days=400), label="nuevo")
    assert _notice(admin.get("/tareas").get_data(as_text=True)) is None
    assert _health(app.test_client())[1]["certificate"]["status"] == "ok"


@pytest.mark.parametrize("problem", ["missing", "password"])
def test_a_certificate_that_cannot_be_opened_is_an_error(app_and_db, client_as, tmp_path, problem) -> None:
    app, _ = app_and_db
    path = tmp_path / "firma.p12"
    if problem == "password":
        _p12(path, not_before=_now() - dt.timedelta(days=1), not_after=_now() + dt.timedelta(days=400), label="clave")
    _configure(app, path, password="otra" if problem == "password" else "prueba")
    _, health = _health(app.test_client())
    assert health["certificate"]["status"] == "unreadable"
    css, text = _notice(client_as(Role.ADMIN).get("/tareas").get_data(as_text=True)) or ("", "")
    assert css == "error"
    assert text.startswith("No se pudo abrir el certificado de firma de la empresa (certificate.pkcs12_path)")
    assert str(path) in text
    assert ("la contraseña no es la correcta" if problem == "password" else "no existe") in text


def test_no_certificate_configured_says_nothing(app_and_db, client_as) -> None:
    app, _ = app_and_db
    assert not app.config["BUZON_SETTINGS"].certificate.pkcs12_path
    status, health = _health(app.test_client())
    assert status == 200 and "certificate" not in health
    page = client_as(Role.ADMIN).get("/tareas").get_data(as_text=True)
    assert _notice(page) is None and 'id="certificado"' not in page
