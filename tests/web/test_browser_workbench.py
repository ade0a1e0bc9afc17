"""The dashboard, 'Subir documentos' and Proveedores in a real browser (Debian's Chromium under Playwright) against
the real app on a migrated SQLite file, with the real intake: a clerk lands on the dashboard and clicks through to
the filtered inbox, uploads a real sample (read in place from ../shared/samples) and a bad file, and switches a
supplier's automatic 030 on. Screenshots at 1440×900 and 390×844 go to test-artifacts/ for a person to look at."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from buzon.config import default_settings
from dian.calendar import BOGOTA, BusinessCalendar
from dian.codes import DocumentState
from dian.trust import TrustStore
from inbox.intake import Intake, IntakePolicy
from store.blobs import BlobStore
from store.db import make_engine, migrate
from store.models import Role, Supplier, Verdict
from tests.conftest import SAMPLES, missing
from tests.integration.inbox_fixtures import OUR_NIT, OUR_SAMPLE
from tests.services import free_port
from tests.web.conftest import PASSWORD, add_user
from tests.web.test_browser import browser, screenshot  # noqa: F401 - the fixture and the helper
from tests.web.test_browser_unconfirmed import OVERFLOW, SIZES
from tests.web.test_inbox_page import add_document
from web.app import create_app

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

# Only this page's own content (main): the header belongs to base.html and is checked by its own tests.
MAIN_OVERFLOW = OVERFLOW.replace("querySelectorAll('body *')", "querySelectorAll('main *')")

CALENDAR = BusinessCalendar()


@dataclass
class Live:
    url: str
    sessions: sessionmaker


def _end(now: datetime, days: int) -> datetime:
    today = now.astimezone(BOGOTA).date()
    return datetime.combine(CALENDAR.add_business_days(today, days), time.max, tzinfo=BOGOTA)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    from werkzeug.serving import make_server

    if not (SAMPLES / OUR_SAMPLE).is_file():
        missing(f"sample {OUR_SAMPLE} is not at {SAMPLES}")
    engine = make_engine(f"sqlite:///{tmp_path / 'buzon.sqlite3'}")
    migrate(engine)
    sessions = sessionmaker(engine, expire_on_commit=False)
    settings = default_settings(base=tmp_path).replace(demo=False)
    now = datetime.now(UTC)
    gr = DocumentState.GOODS_RECEIVED
    with sessions() as s:
        add_user(s, "ana", Role.CLERK, first_name="Ana", family_name="Torres")
        rows = [
            ("800111222", "Ferretería Andina S.A.S.", "1250000.00", dict(state=gr, window_ends_at=_end(now, 0))),
            ("800111222", "Ferretería Andina S.A.S.", "830000.00", dict(state=gr, window_ends_at=_end(now, 0))),
            ("900555666", "Papelería El Sol Ltda.", "410000.00", dict(state=gr, window_ends_at=_end(now, 1))),
            ("900555666", "Papelería El Sol Ltda.", "96000.00", dict(state=gr, window_ends_at=_end(now, 3))),
            ("901777888", "Transportes del Caribe Ltda.", "4300000.00", dict(state=DocumentState.ACCEPTED)),
            ("901777888", "Transportes del Caribe Ltda.", "2750000.00", dict(state=DocumentState.ACKNOWLEDGED)),
            ("830777888", "Soluciones TI de Colombia S.A.", "5100000.00",
             dict(state=DocumentState.UNCONFIRMED, verdict=Verdict.UNCONFIRMED)),
            ("830777888", "Soluciones TI de Colombia S.A.", "640000.00", dict(state=DocumentState.VALIDATED)),
        ]  # fmt: skip
        for n, (nit, name, amount, extra) in enumerate(rows, start=1):
            add_document(s, n, issuer_nit=nit, issuer_name=name, payable_amount=Decimal(amount),
                         issued_at=now - timedelta(days=n), **extra)  # fmt: skip
        s.commit()
    policy = IntakePolicy(our_nit=OUR_NIT, trust=TrustStore())

    def intake(app_sessions: Any) -> Any:
        blobs = BlobStore(settings.blob_dir)
        return lambda actor: Intake(app_sessions, blobs, policy, clock=lambda: datetime.now(UTC), actor=actor)

    app = create_app(settings, engine=engine, intake=intake)
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Live(f"http://127.0.0.1:{port}", sessions)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
        engine.dispose()


def signed_in(browser: Any, live: Live, size: str) -> Any:  # noqa: F811
    context = browser.new_context(locale="es-CO", viewport=SIZES[size])
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{live.url}/ingresar")
    page.fill("#username", "ana")
    page.fill("#password", PASSWORD)
    page.click("form.stacked button[type=submit]")
    page.wait_for_url(f"{live.url}/resumen")  # a clerk lands on the dashboard
    return page


def page_checks(page: Any) -> None:
    assert page.locator("html").get_attribute("lang") == "es-CO"
    assert page.locator("h1").count() == 1
    assert MAIN_OVERFLOW != OVERFLOW
    assert page.evaluate(MAIN_OVERFLOW) == ""  # nothing of the page sticks out sideways


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_dashboard_click_through_to_the_filtered_inbox(browser, live, size):  # noqa: F811
    page = signed_in(browser, live, size)
    assert page.locator("#cifra-hoy .figure").inner_text() == "2"
    assert page.locator("#cifra-sin-confirmar .figure").inner_text() == "1"
    assert page.locator("#por-proveedor .bars li").count() == 4
    page_checks(page)
    screenshot(page, f"dashboard-{size}.png")
    page.click("#cifra-hoy")
    page.wait_for_url(lambda url: "due=0" in url)
    text = page.locator("main").inner_text()
    assert "FE1" in text and "FE2" in text and "FE3" not in text
    page.go_back()
    page.click("#cifra-sin-confirmar")
    page.wait_for_url(lambda url: "verdict=unconfirmed" in url)
    assert "FE7" in page.locator("main").inner_text() and "FE8" not in page.locator("main").inner_text()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_upload_a_real_sample_and_a_bad_file(browser, live, size):  # noqa: F811
    page = signed_in(browser, live, size)
    if size == "phone":
        page.click("details.menu > summary")
    page.get_by_role("link", name="Subir documentos").click()
    page.wait_for_url(f"{live.url}/subir")
    page.set_input_files(
        "#archivos",
        [
            {"name": OUR_SAMPLE, "mimeType": "application/xml", "buffer": (SAMPLES / OUR_SAMPLE).read_bytes()},
            {"name": "leeme.txt", "mimeType": "text/plain", "buffer": b"no es factura"},
        ],
    )
    page.click("form.upload button[type=submit]")
    page.wait_for_selector("#resultados")
    rows = page.locator("#resultados tbody tr")
    assert rows.count() == 2
    assert rows.nth(0).get_attribute("data-kind") == "filed" and "DP20602" in rows.nth(0).inner_text()
    assert rows.nth(1).get_attribute("data-kind") == "refused" and "no admitido" in rows.nth(1).inner_text()
    assert page.evaluate("document.activeElement.id") == "resultado"  # the outcome has the focus
    page_checks(page)
    screenshot(page, f"upload-result-{size}.png")
    rows.nth(0).get_by_role("link").first.click()
    page.wait_for_url(lambda url: "/documentos/" in url)
    assert "DP20602" in page.locator("h1").inner_text()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_switch_a_suppliers_automatic_acknowledgement(browser, live, size):  # noqa: F811
    page = signed_in(browser, live, size)
    page.goto(f"{live.url}/proveedores")
    page_checks(page)
    screenshot(page, f"suppliers-{size}.png")
    page.get_by_role("link", name="Papelería El Sol Ltda.", exact=True).click()
    page.wait_for_url(f"{live.url}/proveedores/900555666")
    page.check("#automaticos input[name=auto_acknowledge]")
    page.fill("#reception_email", "no es correo")
    page.click("#automaticos button[type=submit]")
    page.wait_for_url(f"{live.url}/proveedores/900555666#ajustes")
    flash = page.locator("#ajustes .flashes")
    assert "acuse de recibo (030) automático activado" in flash.inner_text()
    assert flash.is_visible() and flash.evaluate("e => e.getBoundingClientRect().top >= 0")  # in view
    assert page.locator("#automaticos input[name=auto_acknowledge]").is_checked()
    page.fill("#reception_email", "fe@papeleriaelsol.com.co")
    page.get_by_role("button", name="Guardar correo").click()
    page.locator("#correo-manual", has_text="fe@papeleriaelsol.com.co").wait_for()
    assert "irán a fe@papeleriaelsol.com.co" in page.locator("#ajustes .flashes").inner_text()
    page_checks(page)
    screenshot(page, f"supplier-{size}.png")
    with live.sessions() as s:
        row = s.scalar(sa.select(Supplier).where(Supplier.nit == "900555666"))
        assert row.auto_acknowledge and not row.auto_receipt
        assert row.reception_email == "fe@papeleriaelsol.com.co"
