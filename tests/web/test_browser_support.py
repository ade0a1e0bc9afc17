"""An AP clerk issues a documento soporte by hand in Debian's Chromium against the real app, the issuing service and
the DIAN simulator over HTTP: the running estimate while typing, "Calcular" with the server's totals and withholdings,
the preview, "Firmar y enviar a la DIAN" coming back validated with the CUDS, the list, the annulment (95) from the
DS's page in two clicks, and the week's purchases gathered into one DS.

Screenshots at 1440x900 and 390x844 go to test-artifacts/soporte/.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.integration.support_fixtures import issuing_bed, support_bed  # noqa: F401 - fixtures
from tests.web import browser_pages
from tests.web.test_browser import browser as browser  # the fixture (Debian's Chromium), shared
from tests.web.test_browser_titles import log_in, serve
from tests.web.test_support_pages import app_for

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "soporte"


def shoot(page: Any, name: str) -> None:
    """The page at both sizes (tests/web/browser_pages.py)."""
    browser_pages.shoot(page, ARTIFACTS, name)


@pytest.mark.parametrize("issuing_bed", ["sqlite"], indirect=True)
def test_a_clerk_issues_a_ds_annuls_it_and_gathers_a_week(browser, support_bed):  # noqa: F811
    app = app_for(support_bed)
    with serve(app) as url:
        page = log_in(browser, url, "ana")
        page.goto(f"{url}/soporte")
        page.click("#nuevo-soporte")
        # Bad input first: a NIT with the wrong DV, a quantity in words; each named at its field, in Spanish.
        page.select_option("#v_tipo_id", "31")
        page.fill("#v_id", "900123456")
        page.fill("#v_dv", "3")
        page.fill("#l1_descripcion", "Papa pastusa, bulto de 50 kg")
        page.fill("#l1_cantidad", "diez")
        page.click("#calcular")
        page.wait_for_selector("#problemas")
        problems = page.locator("#problemas").inner_text()
        assert "Dígito de verificación" in problems and "debería ser 8" in problems, problems
        assert "Línea 1 · cantidad" in problems and page.locator("#error-l1_cantidad").is_visible()
        shoot(page, "formulario-errores")
        page.select_option("#v_tipo_id", "13")
        page.fill("#v_dv", "")
        page.fill("#v_id", "79.123.456")
        page.fill("#v_nombre", "Pedro Campesino Rojas")
        page.fill("#v_direccion", "Vereda El Rosal, finca La Esperanza")
        page.fill("#v_ciudad", "25754")
        page.fill("#l1_descripcion", "Papa pastusa, bulto de 50 kg")
        page.fill("#l1_cantidad", "10")
        page.fill("#l1_precio", "85.000")
        page.fill("#l1_retefuente", "1,5")
        page.fill("#l2_descripcion", "Transporte a bodega")
        page.fill("#l2_cantidad", "1")
        page.fill("#l2_precio", "120.000")
        page.select_option("#l2_iva", "19")
        # While typing: an estimate, said to be one. 850.000 + 120.000 + 19 % of 120.000 = 992.800.
        assert page.locator("#estimado-total").inner_text() == "$ 992.800,00"
        page.click("#calcular")
        page.wait_for_selector("#total-pagar")
        assert page.locator("#total-pagar").inner_text() == "$ 992.800,00"
        totals = page.locator("#totales").inner_text()
        assert "$ 22.800,00" in totals and "$ 12.750,00" in totals and "$ 980.050,00" in totals  # IVA, ReteRenta, net
        shoot(page, "formulario")

        page.click("#vista-previa")
        page.wait_for_selector("#confirmar-envio")
        assert "Aún no se ha enviado" in page.locator("#vista").inner_text()
        shoot(page, "vista-previa")
        _pdf_png(browser_pages.preview_pdf(page, f"{url}/soporte/vista-previa.pdf"), "vista-previa-pdf")

        page.click("#enviar")
        page.wait_for_selector("#estado-documento")
        assert page.locator("#estado-documento").inner_text() == "Validado por la DIAN"
        assert len(page.locator("#cuds").inner_text()) == 96
        shoot(page, "documento")
        printed = page.context.request.get(url + page.locator("#descargar-pdf").get_attribute("href"))
        assert printed.ok and printed.body().startswith(b"%PDF")
        _pdf_png(printed.body(), "documento-pdf")

        page.select_option("#concepto", "2")  # click 1: the concept (annulment: the whole DS)
        page.click("#expedir-nota")  # click 2
        page.wait_for_selector("#estado-documento")
        assert page.locator("#estado-documento").inner_text() == "Validado por la DIAN"
        assert page.locator("h1").inner_text().startswith("Nota de ajuste")
        shoot(page, "nota-ajuste")

        page.goto(f"{url}/soporte/semana")
        for description, price in (("Huevos AA, cubeta", "14.000"), ("Gallina criolla", "35.000")):
            page.fill("#v_id", "79123456")
            page.fill("#v_nombre", "Pedro Campesino Rojas")
            page.fill("#v_direccion", "Vereda El Rosal, finca La Esperanza")
            page.fill("#v_ciudad", "25754")
            page.fill("#l1_descripcion", description)
            page.fill("#l1_cantidad", "10")
            page.fill("#l1_precio", price)
            page.click("#registrar-compra")
            page.wait_for_selector(".week-seller")
        assert "2 compras · $ 490.000,00" in page.locator(".week-seller").inner_text()
        shoot(page, "semana")
        page.click("text=Generar documento soporte de la semana")
        page.wait_for_selector("#estado-documento")
        assert page.locator("#estado-documento").inner_text() == "Validado por la DIAN"
        assert "Acumulado semanal" in page.locator("body").inner_text()

        page.goto(f"{url}/soporte")
        assert page.locator("#soportes tbody tr").count() == 3
        shoot(page, "lista")


def _pdf_png(data: bytes, name: str) -> None:
    """The PDF's first page as a PNG beside the screenshots, for a person to look at (pdftoppm when installed)."""
    if shutil.which("pdftoppm") is None:
        return
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    source = ARTIFACTS / f"{name}.pdf"
    source.write_bytes(data)
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-singlefile", str(source), str(ARTIFACTS / name)], check=True,
                   timeout=60)  # fmt: skip
    source.unlink()
