"""The admin screens and the audit log in a real browser (Playwright driving Debian's Chromium) against the app served
by werkzeug on a free port, wired as the shell wires it: a whole Buzón (simulator over HTTP, Dovecot, aiosmtpd), the
jobs run by buzon.jobs' own code, the DIAN connection tested through a real DianClient.

An admin adds a user (generated password, read off the page and used to sign in), changes the role, resets the
password, disables the account; creates and revokes a token; runs a job now; tests the DIAN connection against the
simulator and against a closed port. An auditor reads the log in words, filters it, pages it and downloads the CSV.
Every screen is photographed at 1440x900 and 390x844 into test-artifacts/ and checked for sideways scrolling.
"""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from dian.simulator import SERVICE_PATH
from dian.soap import DianClient
from store.audit import record
from store.models import Role, WebhookDelivery, WebhookState
from tests.integration.events_fixtures import days_ago
from tests.integration.events_fixtures import events_bed as events_bed  # the fixture, re-exported for these tests
from tests.services import free_port
from tests.web.conftest import PASSWORD, password_hash
from tests.web.test_admin_services import job_specs
from tests.web.test_browser import ARTIFACTS
from tests.web.test_browser import browser as browser  # the fixture, re-exported for these tests
from web.app import create_app
from web.auth import create_user

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

WIDE = {"width": 1440, "height": 900}
# The elements reaching past the right edge, to name what makes a page scroll sideways.
WIDE_JS = """() => [...document.querySelectorAll('main *')]
  .filter(e => e.getBoundingClientRect().right > 392 && (!e.closest("table") || e.tagName === "TABLE"))
  .slice(0, 8).map(e => `${e.tagName}#${e.id}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`)"""
PHONE = {"width": 390, "height": 844}


@dataclass
class Site:
    url: str
    app: Any
    bed: Any
    document_id: int


@pytest.fixture
def site(events_bed) -> Iterator[Site]:
    from werkzeug.serving import make_server

    from buzon import jobs

    bed = events_bed
    document_id = bed.receive(at=days_ago(1))
    with bed.sessions() as s:
        for name, role, first, family in [("ada", Role.ADMIN, "Ada", "Administradora"),
                                          ("olga", Role.AUDITOR, "Olga", "Auditora")]:  # fmt: skip
            create_user(s, name, role=role, password=PASSWORD, password_hash=password_hash(PASSWORD), actor="test",
                        first_name=first, family_name=family)  # fmt: skip
        change = {"document": {"state": "acknowledged", "previous_state": "validated"}}
        s.add(WebhookDelivery(event="document.state_changed", state=WebhookState.FAILED, attempts=10, last_status=503,
                              last_error="HTTP 503", document_id=document_id, payload=change))  # fmt: skip
        for n in range(70):  # enough for two pages of the log
            record(s, actor="user:olga", action="auth.login", subject="user:olga", source=f"10.0.0.{n % 250}")
        s.commit()
    app = create_app(
        bed.settings,
        engine=bed.runtime.engine,
        jobs=lambda: job_specs(bed.settings),
        run_job=lambda job_id: jobs.JOBS[job_id](),
        dian_client=lambda: DianClient(bed.world.url, bed.world.buyer),
    )
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(f"http://127.0.0.1:{port}", app, bed, document_id)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def new_page(browser: Any) -> Any:
    context = browser.new_context(locale="es-CO", viewport=WIDE, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    return page


def log_in(page: Any, site: Site, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{site.url}/ingresar")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("form.stacked button[type=submit]")
    page.wait_for_load_state()
    assert "/ingresar" not in page.url, page.inner_text("main")


def both_sizes(page: Any, name: str) -> None:
    """Screenshots at 1440x900 and 390x844; at 390 the page must not scroll sideways and must be es-CO, one h1."""
    ARTIFACTS.mkdir(exist_ok=True)
    assert page.evaluate("document.documentElement.lang") == "es-CO"
    assert page.locator("h1").count() == 1
    page.screenshot(path=str(ARTIFACTS / f"{name}-1440.png"), full_page=True)
    page.set_viewport_size(PHONE)
    try:
        wide = page.evaluate("document.documentElement.scrollWidth")
        culprits = page.evaluate(WIDE_JS) if wide > PHONE["width"] else []
        assert wide <= PHONE["width"], f"{name}: {wide} px wide at 390: {culprits}"
        page.screenshot(path=str(ARTIFACTS / f"{name}-390.png"), full_page=True)
    finally:
        page.set_viewport_size(WIDE)


def go(page: Any, selector: str) -> None:
    """Click something that loads another page, and wait for that page."""
    with page.expect_navigation():
        page.click(selector)


def focused_outcome(page: Any) -> str:
    """The outcome shown at the top: it has the focus and the text of its status/alert."""
    page.wait_for_selector("#resultado, #resultado-secreto")
    page.wait_for_load_state()
    assert page.evaluate("document.activeElement && document.activeElement.id") in ("resultado", "resultado-secreto")
    return page.locator("#resultado, #resultado-secreto").first.inner_text()


@pytest.mark.parametrize("events_bed", ["sqlite"], indirect=True)
def test_the_admin_manages_users_tokens_jobs_and_the_dian_connection(browser, site):
    page = new_page(browser)
    log_in(page, site, "ada")
    # An administrator's sixteen areas are grouped: Administración is in the bar's Control menu (web/nav.py).
    assert not page.locator("nav.areas >> text=Administración").is_visible()
    page.click("nav.areas summary:has-text('Control')")
    page.click("nav.areas >> text=Administración")
    page.wait_for_url(f"{site.url}/admin")
    assert page.locator("nav.areas details.here summary").text_content() == "Control"
    both_sizes(page, "admin-resumen")

    # A new user with a generated password, shown once; it signs in.
    page.click(".admin-nav >> text=Usuarios")
    page.fill("#nuevo-usuario", "juan.perez")
    page.select_option("#nuevo-rol", "clerk")
    page.fill("#nuevo-nombres", "Juan")
    page.fill("#nuevo-apellidos", "Pérez")
    go(page, "#form-nuevo-usuario button[type=submit]")
    assert "Usuario Juan Pérez (juan.perez) creado con el rol Auxiliar" in focused_outcome(page)
    password = page.inner_text("#contrasena-generada")
    both_sizes(page, "admin-usuarios-creado")
    juan = new_page(browser)
    log_in(juan, site, "juan.perez", password)
    page.goto(f"{site.url}/admin/usuarios")
    assert password not in page.content()

    # Role, password typed twice, disable.
    row = page.locator("#usuario-juan\\.perez")
    row.locator("select").select_option("treasury")
    with page.expect_navigation():
        row.locator("text=Cambiar rol").click()
    assert "ahora tiene el rol Tesorería" in focused_outcome(page)
    page.locator("#usuario-juan\\.perez >> text=Restablecer contraseña").click()
    page.check("#restablecer-escribir")
    page.fill("#restablecer-password", "una-clave-nueva-1")
    page.fill("#restablecer-password2", "otra-clave-nueva-2")
    go(page, "form.admin-form button[type=submit]")
    assert "no coinciden" in page.inner_text("#error-formulario")
    page.check("#restablecer-escribir")
    page.fill("#restablecer-password", "una-clave-nueva-1")
    page.fill("#restablecer-password2", "una-clave-nueva-1")
    go(page, "form.admin-form button[type=submit]")
    assert "sesiones abiertas se cerraron" in focused_outcome(page)
    juan.reload()
    assert "/ingresar" in juan.url  # the reset ended Juan's session
    log_in(juan, site, "juan.perez", "una-clave-nueva-1")
    with page.expect_navigation():
        page.locator("#usuario-juan\\.perez >> button.danger").click()
    assert "desactivado" in focused_outcome(page)
    both_sizes(page, "admin-usuarios")
    juan.reload()
    assert "/ingresar" in juan.url
    assert page.locator("#usuario-ada button.danger").count() == 0  # no "Desactivar" on oneself

    # A token, shown once, then revoked.
    page.click(".admin-nav >> text=Tokens de API")
    page.select_option("#token-usuario", label="olga (Auditor)")
    page.fill("#token-nombre", "ERP contable")
    go(page, "#form-nuevo-token button[type=submit]")
    raw = page.inner_text("#token-nuevo")
    assert raw.startswith("bzn_") and "no se volverá a mostrar" in focused_outcome(page)
    both_sizes(page, "admin-tokens")
    page.goto(f"{site.url}/admin/tokens")
    assert raw not in page.content()
    with page.expect_navigation():
        page.locator("#tokens button.danger").first.click()
    assert "revocado" in focused_outcome(page)

    # The webhook outbox and the certificate.
    page.click(".admin-nav >> text=Webhooks")
    assert "HTTP 503" in page.inner_text("#webhook-envios")
    both_sizes(page, "admin-webhooks")
    page.click(".admin-nav >> text=Certificado de la empresa")
    assert "días para el vencimiento" in page.inner_text("#cuenta-regresiva")
    both_sizes(page, "admin-certificado")

    # The DIAN connection: the simulator over HTTP answers; a closed port does not.
    page.click(".admin-nav >> text=Conexión DIAN")
    go(page, "#probar-dian")
    said = focused_outcome(page)
    assert said.startswith("Conectado: la DIAN respondió en ") and "StatusCode 66" in said
    both_sizes(page, "admin-dian")
    closed = f"http://127.0.0.1:{free_port()}{SERVICE_PATH}"
    site.app.extensions["buzon.dian_client"] = lambda: DianClient(closed, site.bed.world.buyer, connect_timeout=2)
    go(page, "#probar-dian")
    assert focused_outcome(page).startswith("No se pudo conectar")
    assert "Sin conexión" in page.inner_text("#ultima-prueba")
    both_sizes(page, "admin-dian-sin-conexion")

    # Ejecutar ahora: the scheduler's own code, the outcome at the top.
    page.click(".admin-nav >> text=Tareas")
    # The fixture's poll ran through buzon.jobs a moment ago, as the scheduler would: the page calls that running.
    assert "El programador está en marcha" in page.inner_text("#programador")
    with page.expect_navigation():
        page.locator("#tarea-deadlines >> text=Ejecutar ahora").click()
    assert focused_outcome(page).startswith("Tarea «Cerrar plazos y enviar recordatorios» ejecutada en ")
    assert "Correcta" in page.inner_text("#tarea-deadlines")
    both_sizes(page, "admin-tareas")
    page.click(".admin-nav >> text=Certificados DIAN aprendidos")
    page.wait_for_url(f"{site.url}/certificados-dian")
    page.context.close()
    juan.context.close()


@pytest.mark.parametrize("events_bed", ["sqlite"], indirect=True)
def test_the_auditor_reads_filters_pages_and_exports_the_log(browser, site):
    page = new_page(browser)
    log_in(page, site, "olga")
    page.goto(f"{site.url}/auditoria")
    table = page.inner_text("#auditoria")
    assert "Olga Auditora (auditor) inició sesión" in table
    assert page.locator("#auditoria tbody tr").count() == 50
    height = page.evaluate("document.documentElement.scrollHeight")
    both_sizes(page, "auditoria")
    go(page, "#pagina-anteriores")
    assert page.locator("#auditoria tbody tr").count() >= 1
    go(page, "#pagina-recientes")
    assert page.locator("#auditoria tbody tr").count() == 50

    # The document's story: filed by the mailbox reader, named by number and supplier, linked.
    number = site.bed.document(site.document_id).number
    page.fill("#f-documento", number)
    go(page, "#filtros-auditoria button[type=submit]")
    story = page.inner_text("#auditoria")
    assert "archivó el documento" in story and f"Factura {number}" in story and "PROVEEDOR DE PRUEBA S.A.S." in story
    page.locator(f"#auditoria a:has-text('Factura {number}')").first.click()
    page.wait_for_url(f"{site.url}/documentos/{site.document_id}")
    page.go_back()
    both_sizes(page, "auditoria-documento")

    # Who and kind; a date out of range is refused with a message.
    page.goto(f"{site.url}/auditoria")
    page.select_option("#f-quien", "user:olga")
    page.select_option("#f-tipo", "sesiones")
    go(page, "#filtros-auditoria button[type=submit]")
    assert set(page.locator("#auditoria .actor").all_inner_texts()) == {"Olga Auditora (auditor)"}
    page.goto(f"{site.url}/auditoria?hasta=9999-12-31")
    assert "fuera del rango" in page.inner_text("#error-filtro")
    both_sizes(page, "auditoria-fecha-invalida")

    # The CSV: the filtered view, Spanish headers.
    page.goto(f"{site.url}/auditoria?tipo=documentos")
    with page.expect_download() as download:
        page.click("#exportar-csv")
    text = download.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][:3] == ["Fecha y hora (Bogotá)", "Quién", "Qué hizo"]
    assert len(rows) > 1 and all(r[7].startswith("document.") for r in rows[1:])
    # Fifty entries a page, each a line or two: long data (an error, a CUDE) folds into a <details>.
    assert height < 5_000, height
    page.context.close()
