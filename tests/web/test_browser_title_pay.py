"""Treasury records in RADIAN that we paid a supplier invoice that is a title (045 as the debtor), in Debian's Chromium
against the real app and the DIAN simulator over HTTP: the supplier endorsed the invoice to a factor (the simulator's
admin), one watch sweep moved the payee; from "Pagos" the line's "Registrar pago en RADIAN" opens the title, whose
confirmation step shows the amount, the payee (the factor, never typed) and the listID before signing; the result box
says DIAN registered it and the title reads "Pagada parcialmente", then "Pagada", and leaves the payment run.

Screenshots at 1440x900 and 390x844 go to test-artifacts/titulos/ (pago-proveedor-*).
"""

from __future__ import annotations

import re

import pytest

from buzon.runtime import event_service
from tests.integration.events_fixtures import EventsBed, events_bed  # noqa: F401 - the fixture
from tests.web.test_browser import browser as browser  # the fixture (Debian's Chromium), shared
from tests.web.test_browser_titles import FACTOR, _accepted, _sweep, log_in, serve, shoot, sim, users
from web.app import create_app

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]


@pytest.mark.parametrize("events_bed", ["sqlite"], indirect=True)
def test_treasury_records_our_payment_to_the_factor(browser, events_bed: EventsBed):  # noqa: F811
    bed = events_bed
    users(bed.sessions)
    _, cufe = _accepted(bed)
    assert _sweep(bed)["enrolled"] == 1
    sim(bed.world, {"action": "register", "cufe": cufe})
    sim(bed.world, {"action": "endorse", "cufe": cufe, "to": FACTOR, "rate": "2.5"})
    assert _sweep(bed)["holder_changed"] == 1
    app = create_app(bed.settings, engine=bed.runtime.engine, events=lambda s: event_service(bed.settings, s),
                     titles=bed.runtime.title_service)  # fmt: skip
    with serve(app) as url:
        page = log_in(browser, url, "teresa")
        page.goto(f"{url}/pagos")
        page.click(f"#pagos tr[data-cufe='{cufe}'] >> text=Registrar pago en RADIAN")
        page.wait_for_selector("#accion-pagar")
        card = page.locator("#accion-pagar")
        assert f"Pagado a: {FACTOR['name']} (NIT {FACTOR['nit']})" in card.inner_text()
        assert page.locator("#accion-endosar").count() == 0  # a payable title: nothing to circulate

        # Above the balance: refused with the sentence, nothing signed.
        card.locator("input[name=valor]").fill("119000,01")
        card.locator("button[type=submit]").click()
        page.wait_for_url(re.compile(r"#resultado$"))
        refused = page.locator("#resultado").inner_text()
        assert "No se puede registrar pago en RADIAN (045)" in refused and "saldo del título" in refused, refused
        shoot(page, "pago-proveedor-rechazo")

        card = page.locator("#accion-pagar")
        card.locator("input[name=valor]").fill("19000")
        card.locator("button[type=submit]").click()
        page.wait_for_selector("#confirmar")
        summary = page.locator("#confirmar").inner_text()
        assert "451" in summary and "$ 19.000,00" in summary and "$ 100.000,00" in summary
        assert "1 — pago sin limitación" in summary
        assert f"Pagado a: {FACTOR['name']} (NIT {FACTOR['nit']})" in page.locator("#beneficiario").inner_text()
        shoot(page, "pago-proveedor-confirmacion")
        page.click("#confirmar-firma")
        page.wait_for_url(re.compile(r"#resultado$"))
        assert "registrado por la DIAN" in page.locator("#resultado").inner_text()
        assert page.locator("#estado-titulo").inner_text() == "Pagada parcialmente"
        shoot(page, "pago-proveedor-resultado")

        card = page.locator("#accion-pagar")
        card.locator("button[type=submit]").click()  # the rest: the field holds the balance
        page.wait_for_selector("#confirmar")
        assert "452" in page.locator("#confirmar").inner_text()
        page.click("#confirmar-firma")
        page.wait_for_url(re.compile(r"#resultado$"))
        assert page.locator("#estado-titulo").inner_text() == "Pagada"
        assert "Pago total" in page.locator("#cadena").inner_text()
        page.goto(f"{url}/pagos")
        assert page.locator(f"tr[data-cufe='{cufe}']").count() == 0  # no longer in the payment run
