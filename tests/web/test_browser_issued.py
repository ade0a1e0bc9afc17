"""Billing issues an invoice by hand in Debian's Chromium against the real app, the issuing service and the DIAN
simulator over HTTP: the form's running estimate while typing, "Calcular" with the server's totals, the preview page
and its PDF (marked VISTA PREVIA, rendered to PNG with pdftoppm), "Firmar y enviar a la DIAN" coming back validated,
the list, and a credit note from the invoice's page in two clicks.

Screenshots at 1440x900 and 390x844 go to test-artifacts/emitidas/.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import requests

from buzon import jobs
from tests.integration.issuing_fixtures import IssuingBed, issuing_bed  # noqa: F401 - the fixture
from tests.web import browser_pages
from tests.web.test_browser import browser as browser  # the fixture (Debian's Chromium), shared
from tests.web.test_browser_titles import log_in, serve
from tests.web.test_issued import app_for

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "emitidas"


def shoot(page: Any, name: str) -> None:
    browser_pages.shoot(page, ARTIFACTS, name)


@pytest.mark.parametrize("issuing_bed", ["sqlite"], indirect=True)
def test_billing_issues_an_invoice_by_hand_and_sees_it_validated(browser, issuing_bed: IssuingBed):  # noqa: F811
    bed = issuing_bed
    answer = requests.post(f"{bed.world.server.base_url}/_sim/buyer-policy", json={"policy": "silence"}, timeout=10)
    assert answer.status_code == 200, answer.text  # the simulator's buyer acknowledges and receives (030, 032)
    app = app_for(bed)
    with serve(app) as url:
        page = log_in(browser, url, "diana")
        assert page.url.endswith("/facturas-emitidas")
        page.click("#nueva-factura")
        page.fill("#c_id", "901234567")  # another company than ours (900123456)
        page.fill("#c_nombre", "Distribuidora Andina S.A.S.")
        page.fill("#c_correo", "facturas@andina.test")
        page.fill("#c_direccion", "Cra 7 # 71-21")
        page.fill("#c_ciudad", "11001")
        page.fill("#l1_descripcion", "Licencia anual de software")
        page.fill("#l1_cantidad", "3")
        page.fill("#l1_precio", "1.250.000")
        page.fill("#l1_descuento", "5")
        page.fill("#l2_descripcion", "Almuerzo de capacitación")
        page.fill("#l2_cantidad", "12")
        page.fill("#l2_precio", "28.500")
        page.select_option("#l2_iva", "")
        page.select_option("#l2_inc", "8")
        # While typing: an estimate, said to be one. 3 × 1.250.000 − 5 % = 3.562.500 + 19 % = 4.239.375;
        # 12 × 28.500 = 342.000 + 8 % = 369.360.
        assert page.locator("#estimado-total").inner_text() == "$ 4.608.735,00"
        page.click("#calcular")
        page.wait_for_selector("#total-pagar")
        assert page.locator("#total-pagar").inner_text() == "$ 4.608.735,00"
        totals = page.locator("#totales").inner_text()
        assert "$ 676.875,00" in totals and "$ 27.360,00" in totals  # IVA, INC
        shoot(page, "formulario-totales")

        page.click("#vista-previa")
        page.wait_for_selector("#confirmar-envio")
        assert "Aún no se ha enviado" in page.locator("#vista").inner_text()
        shoot(page, "vista-previa")
        _pdf_png(browser_pages.preview_pdf(page, f"{url}/facturas-emitidas/vista-previa.pdf"), "vista-previa-pdf")

        page.click("#enviar")
        page.wait_for_selector("#estado-documento")
        assert page.locator("#estado-documento").inner_text() == "Validado por la DIAN"
        assert "$ 4.608.735,00" in page.locator("#totales").inner_text()
        shoot(page, "resultado")
        number = page.locator("h1").inner_text().rsplit(" ", 1)[-1]

        page.click("#nota-credito")  # click 1: the note's form, filled from the invoice
        page.wait_for_selector("#concepto")
        assert page.locator("#r_numero").input_value() == number
        assert page.locator("#l1_descripcion").input_value() == "Licencia anual de software"
        page.select_option("#concepto", "1")
        page.fill("#l2_descripcion", "")  # return only the licences
        page.fill("#l2_cantidad", "")
        page.fill("#l2_precio", "")
        page.fill("#l1_cantidad", "1")
        shoot(page, "nota-credito")
        page.click("#enviar")  # click 2
        page.wait_for_selector("#estado-documento")
        result = page.locator("#resultado").inner_text()
        assert page.locator("#estado-documento").inner_text() == "Validado por la DIAN", result
        assert "Nota crédito" in page.locator("h1").inner_text()
        page.click(f"text={number}")
        page.wait_for_selector("#descargas")
        assert "Nota crédito" in page.locator("body").inner_text()
        shoot(page, "detalle")

        assert jobs.title_sync()["outcome"] == "ok"  # the receivables sync brings the buyer's 030 and 032
        page.goto(f"{url}/facturas-emitidas")
        rows = page.locator("#emitidas tbody tr")
        assert rows.count() == 2 and "Validado por la DIAN" in rows.first.inner_text()
        assert "Recibo del bien o servicio" in rows.last.inner_text()
        shoot(page, "lista")


def _pdf_png(body: bytes, name: str) -> None:
    tool = shutil.which("pdftoppm")
    if tool is None:
        pytest.skip("pdftoppm not installed (scripts/install-test-services): the preview PDF was not looked at")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    source = ARTIFACTS / f"{name}.pdf"
    source.write_bytes(body)
    subprocess.run([tool, "-png", "-r", "80", "-singlefile", str(source), str(ARTIFACTS / name)], check=True)
    source.unlink()
    assert re.search(rb"VISTA PREVIA", body) or (ARTIFACTS / f"{name}.png").exists()
