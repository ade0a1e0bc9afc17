"""The supplier's page with DIAN's reception addresses as the daily job read them (events/supplier_emails.py), in a
real browser (Debian's Chromium under Playwright) at 1440×900 and 390×844: read and listed, read and unlisted, never
read. Screenshots go to test-artifacts/ for a person to look at."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from store.models import Supplier
from tests.web.test_browser import browser, screenshot  # noqa: F401 - the fixture and the helper
from tests.web.test_browser_workbench import live, page_checks, signed_in  # noqa: F401 - the fixture

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

LISTED = "recepcion.facturas@papeleriaelsol.com.co"


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_supplier_page_shows_dians_addresses_as_read(browser, live, size):  # noqa: F811
    read_at = datetime.now(UTC) - timedelta(hours=5)
    with live.sessions() as s:
        s.add(
            Supplier(nit="900555666", name="Papelería El Sol Ltda.", dian_emails=[LISTED], dian_emails_read_at=read_at)
        )
        s.add(Supplier(nit="901777888", name="Transportes del Caribe Ltda.", dian_emails=[],
                       dian_emails_read_at=read_at))  # fmt: skip
        s.commit()
        assert s.scalar(sa.select(sa.func.count()).select_from(Supplier)) == 2
    page = signed_in(browser, live, size)
    page.goto(f"{live.url}/proveedores/900555666")
    shown = page.locator("#correo-dian-diario")
    assert LISTED in shown.inner_text()
    assert "leída el " in shown.inner_text() and "se lee cada día" in shown.inner_text()
    assert shown.is_visible()
    page_checks(page)
    page.locator("#ajustes").scroll_into_view_if_needed()
    screenshot(page, f"supplier-dian-{size}.png")
    page.goto(f"{live.url}/proveedores/901777888")
    assert page.locator("#correo-dian-diario").inner_text().startswith("ninguno registrado")
    page.goto(f"{live.url}/proveedores/830777888")  # never read: no row at all
    assert page.locator("#correo-dian-diario").inner_text().startswith("aún no leída")
    page_checks(page)
