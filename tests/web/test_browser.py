"""The web UI in a real browser: Playwright driving Debian's Chromium against the real app (werkzeug on a free port),
with a real events service talking to the DIAN simulator over HTTP (tests/integration/events_fixtures.py).

A clerk signs in, finds an invoice, sends 030, 032 and 033 and sees the simulator register each one; an auditor sees
no action and gets 403 on the action URLs. Screenshots of the inbox and of a document page are written to
test-artifacts/ at the root of the repository (gitignored) for a person to look at.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from buzon.runtime import event_service
from store.models import Role
from tests.conftest import missing
from tests.integration.events_fixtures import days_ago
from tests.integration.events_fixtures import events_bed as events_bed  # the fixture, re-exported for these tests
from tests.services import free_port
from tests.web.conftest import PASSWORD, password_hash
from web.app import create_app
from web.auth import create_user

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
# ../shared/services.md: without the background-networking flags Chromium keeps trying to reach the internet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium under Playwright (never a downloaded browser)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright is not installed (pip install playwright; never `playwright install`)")
    if not CHROMIUM.exists():
        missing(f"{CHROMIUM} is missing (scripts/install-test-services installs Debian's chromium)")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Site:
    url: str
    bed: Any
    document_id: int
    number: str

    def page(self, browser: Any) -> Any:
        context = browser.new_context(locale="es-CO", viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(20_000)
        return page


@pytest.fixture
def site(events_bed) -> Iterator[Site]:
    """The real app on a free loopback port, one credit invoice filed from the supplier's mail, and a user per role."""
    from werkzeug.serving import make_server

    bed = events_bed
    document_id = bed.receive(at=days_ago(1))
    with bed.sessions() as s:
        create_user(s, "ana", role=Role.CLERK, password=PASSWORD, password_hash=password_hash(PASSWORD), actor="test",
                    id_type="13", id_number="52111222", first_name="Ana Lucía", family_name="Torres Rivera",
                    job_title="Auxiliar contable", department="Cuentas por pagar")  # fmt: skip
        create_user(s, "olga", role=Role.AUDITOR, password=PASSWORD, password_hash=password_hash(PASSWORD),
                    actor="test", first_name="Olga", family_name="Auditora")  # fmt: skip
        s.commit()
    app = create_app(
        bed.settings, engine=bed.runtime.engine, events=lambda sessions: event_service(bed.settings, sessions)
    )
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(f"http://127.0.0.1:{port}", bed, document_id, bed.document(document_id).number)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def screenshot(page: Any, name: str) -> Path:
    """A full-page screenshot under test-artifacts/ (kept after the run, for a person to look at)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


def log_in(page: Any, site: Site, username: str) -> None:
    page.goto(f"{site.url}/")
    assert "/ingresar" in page.url
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("form.stacked button[type=submit]")
    page.wait_for_url(f"{site.url}/")


def event_row(page: Any, code: str) -> Any:
    return page.locator(f"#eventos tr[data-code='{code}']")


@pytest.mark.parametrize("events_bed", ["sqlite"], indirect=True)
def test_clerk_sends_030_032_033_and_sees_the_timeline(browser, site):
    page = site.page(browser)
    log_in(page, site, "ana")
    assert page.locator("html").get_attribute("lang") == "es-CO"
    row = page.locator("#documentos tbody tr", has_text=site.number)
    assert row.count() == 1
    assert row.locator("input[type=checkbox][name=ids]").count() == 1  # a clerk may select rows for bulk actions
    shot = screenshot(page, "inbox-clerk.png")
    assert shot.stat().st_size > 10_000

    row.get_by_role("link", name=f"Abrir {site.number}").click()
    page.wait_for_url(re.compile(rf"/documentos/{site.document_id}$"))
    assert site.number in page.locator("h1").inner_text()
    assert page.locator("#verificacion tr.check-pass").count() > 3
    assert page.locator("#representacion .paper").count() == 1  # no PDF in this mail: the XML made readable
    # The person who receives (030, then 032) is prefilled from the clerk's profile.
    assert page.locator("#p030-id").input_value() == "52111222"
    assert page.locator("#p030-first_name").input_value() == "Ana Lucía"
    assert page.locator("#accion-032 button[disabled]").count() == 1  # 032 after 030
    assert page.locator("#accion-033 button[disabled]").count() == 1  # 033 waits for 030 and 032, and says so
    assert "primero debe estar registrado el evento 030" in page.locator("#accion-033 .why").inner_text()

    screenshot(page, "document-clerk-before.png")

    page.click("#accion-030 button[type=submit]")
    page.wait_for_url(re.compile(r"#resultado$"))
    assert "registrado por la DIAN" in page.locator("#resultado").inner_text()
    assert "Registrado" in event_row(page, "030").inner_text()
    assert "Torres Rivera" in event_row(page, "030").inner_text()
    assert page.locator("#p032-family_name").input_value() == "Torres Rivera"

    page.click("#accion-032 button[type=submit]")
    page.wait_for_url(re.compile(r"#resultado$"))
    assert "Registrado" in event_row(page, "032").inner_text()
    assert "días hábiles" in page.locator("#plazo").inner_text()

    page.click("#accion-033 button[type=submit]")
    page.wait_for_selector("#confirmar")  # the confirmation step, a page of its own (no JavaScript needed)
    assert "definitiva" in page.locator("#confirmar").inner_text()
    page.click("#confirmar button[type=submit]")
    page.wait_for_url(re.compile(r"#resultado$"))
    flash = page.locator("#resultado").inner_text()
    assert "033" in flash and "registrado por la DIAN" in flash
    assert "Registrado" in event_row(page, "033").inner_text()
    assert page.locator("#estado").inner_text() == "Aceptada"
    assert page.locator("#accion-031 button[disabled]").count() == 1  # accepted: no claim any more
    shot = screenshot(page, "document-clerk.png")
    assert shot.stat().st_size > 20_000
    states = {e.code.value: e.submission_state.value for e in site.bed.events(site.document_id)}
    assert states == {"030": "registered", "032": "registered", "033": "registered"}


@pytest.mark.parametrize("events_bed", ["sqlite"], indirect=True)
def test_auditor_sees_no_actions_and_is_refused_on_the_action_urls(browser, site):
    page = site.page(browser)
    log_in(page, site, "olga")
    assert page.locator("#documentos input[type=checkbox]").count() == 0
    assert page.locator("#acciones-masivas").count() == 0
    page.goto(f"{site.url}/documentos/{site.document_id}")
    assert site.number in page.locator("h1").inner_text()
    assert page.locator("#acciones").count() == 0
    assert page.locator("form.action-form").count() == 0
    assert page.locator("#eventos").count() == 1  # reads everything else
    screenshot(page, "document-auditor.png")
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    for path, form in (
        (f"/documentos/{site.document_id}/eventos", {"code": "030"}),
        (f"/documentos/{site.document_id}/eventos", {"code": "033", "confirmado": "1"}),
        ("/acciones-masivas", {"action": "acuse", "ids": str(site.document_id)}),
        ("/cuarentena/1/reprocesar", {}),
        ("/cuarentena/1/descartar", {}),
    ):
        response = page.request.post(site.url + path, form={"csrf_token": token, **form})
        assert response.status == 403, path
        assert "Acceso denegado" in response.text()
    assert site.bed.events(site.document_id) == []
