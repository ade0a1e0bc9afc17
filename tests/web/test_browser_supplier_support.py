"""The seller of a documento soporte, reached from the DS's page in Debian's Chromium: a farmer we only bought from
with DS (no invoice, no suppliers row) has a supplier page with its DS and 95, at 1440x900 and 390x844 (screenshots
to test-artifacts/soporte/); the real app, issuing service and the DIAN
simulator over HTTP."""

from __future__ import annotations

import pytest

from store.models import Supplier
from tests.integration.support_fixtures import (  # noqa: F401 - fixtures
    adjustment_data,
    issue_support,
    issuing_bed,
    support_bed,
    support_data,
)
from tests.web.test_browser import browser as browser  # the fixture (Debian's Chromium), shared
from tests.web.test_browser_support import shoot
from tests.web.test_browser_titles import log_in, serve
from tests.web.test_support_pages import app_for

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

@pytest.mark.parametrize("issuing_bed", ["sqlite"], indirect=True)
def test_the_ds_seller_link_opens_its_history(browser, support_bed, monkeypatch):  # noqa: F811
    ds = issue_support(support_bed, support_data(), deliver=True)
    note = issue_support(support_bed, adjustment_data(ds, concept="4") | {"lines": [
        {"description": "Descuento por calidad", "quantity": "1", "unit_price": "50000",
         "taxes": [{"scheme": "01", "rate": "0"}]}]}, deliver=True)  # fmt: skip
    app = app_for(support_bed)
    with serve(app) as url:
        page = log_in(browser, url, "ana")
        page.goto(f"{url}/soporte/{ds.id}")
        assert page.locator("#vendedor a").inner_text() == "Pedro Campesino Rojas"
        shoot(page, "soporte-enlace-vendedor")
        page.click("#vendedor a")
        page.wait_for_selector("#solo-soporte")
        assert page.url.endswith("/proveedores/79123456")
        assert page.locator("h1").inner_text() == "Pedro Campesino Rojas"
        history = page.locator("#soporte-proveedor").inner_text()
        assert ds.number in history and note.number in history and "Validado por la DIAN" in history, history
        shoot(page, "proveedor-solo-soporte")
        # Once it is a supplier in the full sense (a suppliers row), its full page lists the DS below the rest.
        with support_bed.sessions() as s:
            s.add(Supplier(nit="79123456", name="Pedro Campesino Rojas"))
            s.commit()
        page.reload()
        assert page.locator("#solo-soporte").count() == 0 and page.locator("#ajustes").is_visible()
        assert ds.number in page.locator("#soporte-proveedor").inner_text()
        shoot(page, "proveedor-con-soporte")
