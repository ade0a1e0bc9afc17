"""The demo's payable title in Debian's Chromium, as treasury opens it after `make run`: the supplier invoice its
supplier endorsed to a factor says "Pagar a" the factor on its page, in /titulos and in /pagos, and /alertas lists
the unseen change of holder — all from the demo seeded as `buzon init` seeds it (the simulator's counterparts and
one sweep of the endorsement watch). Screenshots at 1440x900 and 390x844 go to test-artifacts/demo/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from buzon.demo_titles import PAYEE_FACTOR_NAME, PAYEE_FACTOR_NIT
from store.models import TitleRole, ValueTitle
from tests.web.demo_site import DemoSite, demo_site, served
from tests.web.test_browser import browser as browser  # the fixture (Debian's Chromium), shared
from tests.web.test_page_walk import AUDIT_JS, log_in, new_page

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "demo"
SIZES = {"1440x900": {"width": 1440, "height": 900}, "390x844": {"width": 390, "height": 844}}
PAY_TO = f"Pagar a: {PAYEE_FACTOR_NAME} (NIT {PAYEE_FACTOR_NIT})"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[DemoSite]:
    with demo_site(Path(tmp_path_factory.mktemp("demo-titles"))) as found, served(found) as running:
        yield running


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        page.screenshot(path=str(ARTIFACTS / f"{name}-{size}.png"), full_page=True)
        found = page.evaluate(AUDIT_JS)
        assert found["scrollWidth"] <= found["innerWidth"], f"{name} scrolls sideways at {size}: {found['wide']}"


def test_the_endorsed_supplier_invoice_is_paid_to_the_factor_on_every_treasury_page(browser, site):
    with Session(site.engine) as s:
        payable = s.execute(sa.select(ValueTitle).where(ValueTitle.role == TitleRole.OBLIGOR,
                                                        ValueTitle.chain_length > 0)).scalar_one()  # fmt: skip
        document_id, number, supplier = payable.document_id, payable.invoice_number, payable.issuer_name
    page = new_page(browser)
    log_in(page, site, "tesoreria")

    page.goto(f"{site.url}/documentos/{document_id}")
    banner = page.locator(f"text={PAY_TO}").first
    assert banner.is_visible()
    assert "el proveedor endosó" in page.inner_text("main")
    shoot(page, "documento-pagar-a")

    page.goto(f"{site.url}/titulos")
    row = page.locator("tr", has_text=number).first
    assert PAY_TO in row.inner_text() and supplier in row.inner_text()
    shoot(page, "titulos")

    page.goto(f"{site.url}/pagos")
    row = page.locator("tr", has_text=number).first
    assert PAY_TO in row.inner_text()
    assert "1 factura se paga a un tercero" in page.inner_text("main")
    shoot(page, "pagos")

    page.goto(f"{site.url}/alertas")
    text = page.inner_text("main")
    assert f"La factura {number} de {supplier} tiene un nuevo tenedor legítimo en RADIAN" in text
    assert "No visto" in text
    shoot(page, "alertas")
