"""Treasury's RADIAN flow in Debian's Chromium (Playwright) against the real app and the DIAN simulator over HTTP.

Receivable: our invoice imported from the page, accepted by the simulated buyer (the simulator's admin), learned with
"Consultar eventos en la DIAN", registered (036), reported for payment (046), endorsed to a factor (037) with the price
shown on the confirmation step before signing, then paid in total by the buyer to the factor (045, the simulator's
admin) and learned again: the title reads "Pagada".
Payable: a supplier invoice we accepted, endorsed by its supplier to a factor (the simulator's admin); one watch sweep
and the document page says "Pagar a" the factor in red, the alert is in the list with the nav's badge, Pagos and its
CSV have the factor as payee; a judge's 041 then freezes it (banner, refused line with its reason).

Screenshots at 1440x900 and 390x844 go to test-artifacts/titulos/ for a person to look at.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from buzon import jobs
from buzon.runtime import event_service
from dian.codes import EventCode
from store.models import Role, ValueTitle
from tests.integration.events_fixtures import EventsBed, events_bed  # noqa: F401 - the fixture
from tests.integration.titles_fixtures import FACTOR_NAME, FACTOR_NIT, TitlesBed, titles_bed  # noqa: F401
from tests.services import free_port
from tests.web.conftest import PASSWORD, password_hash
from tests.web.test_browser import browser as browser  # the fixture (Debian's Chromium), shared
from tests.web.test_page_walk import AUDIT_JS
from web.app import create_app
from web.auth import create_user

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "titulos"
SIZES = {"1440x900": {"width": 1440, "height": 900}, "390x844": {"width": 390, "height": 844}}
FACTOR = {"nit": FACTOR_NIT, "name": FACTOR_NAME}


def shoot(page: Any, name: str) -> None:
    """The page at both sizes (full page), and no sideways scroll on the phone."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        page.screenshot(path=str(ARTIFACTS / f"{name}-{size}.png"), full_page=True)
        if size == "390x844":
            found = page.evaluate(AUDIT_JS)  # the page walk's checks, on pages it cannot discover (with an id)
            assert found["scrollWidth"] <= found["innerWidth"], f"{name} scrolls sideways at 390 px: {found['wide']}"
            assert (found["lang"], found["h1"], found["unlabelled"]) == ("es-CO", 1, []), (name, found)
    page.set_viewport_size(SIZES["1440x900"])


@contextmanager
def serve(app: Any) -> Iterator[str]:
    from werkzeug.serving import make_server

    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def sim(world: Any, body: dict[str, Any]) -> dict[str, Any]:
    """A counterpart's action through the simulator's admin API over HTTP (loopback)."""
    request = urllib.request.Request(  # noqa: S310 - the loopback test server
        world.server.base_url.rstrip("/") + "/_sim/counterparts", data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the loopback test server
        answer = json.loads(response.read())
    assert answer["registered"], answer
    return answer


def users(sessions: Any) -> None:
    with sessions() as s:
        for name, role, first in (("teresa", Role.TREASURY, "Teresa"), ("ana", Role.CLERK, "Ana")):
            create_user(s, name, role=role, password=PASSWORD, password_hash=password_hash(PASSWORD), actor="test",
                        first_name=first, family_name="Prueba")  # fmt: skip
        s.commit()


def log_in(browser: Any, url: str, username: str) -> Any:
    context = browser.new_context(locale="es-CO", viewport=SIZES["1440x900"], accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{url}/ingresar")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("form.stacked button[type=submit]")
    page.wait_for_load_state()
    assert "/ingresar" not in page.url
    return page


def _ago(hours: float) -> dt.datetime:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)).replace(microsecond=0)


def _confirm(page: Any) -> str:
    page.wait_for_selector("#confirmar")
    page.click("#confirmar-firma")
    page.wait_for_url(re.compile(r"#resultado$"))
    return page.locator("#resultado").inner_text()


@pytest.mark.parametrize("titles_bed", ["sqlite"], indirect=True)
def test_treasury_registers_reports_endorses_and_sees_the_title_paid(browser, titles_bed: TitlesBed, tmp_path):  # noqa: F811
    bed = titles_bed
    users(bed.sessions)
    _, attached = bed.our_invoice(at=_ago(5))
    (tmp_path / "factura.xml").write_bytes(attached)
    app = create_app(bed.settings, engine=bed.runtime.engine, titles=bed.runtime.title_service)
    with serve(app) as url:
        page = log_in(browser, url, "teresa")
        page.click("nav.areas >> text=Títulos valor")
        page.click("text=Importar una factura emitida")
        page.set_input_files("#factura", str(tmp_path / "factura.xml"))
        page.click(".import-form button[type=submit]")
        page.wait_for_selector("#cadena")
        assert "validación de la DIAN comprobada" in page.locator("#resultado").inner_text()
        assert "No disponible ahora" in page.locator("#accion-inscribir").text_content()  # not accepted yet
        cufe = page.locator(".cufe").inner_text().strip()

        # The simulated buyer acknowledges, receives and accepts (the simulator's admin, over HTTP).
        for minutes, action in enumerate(("acknowledge", "receipt", "accept")):
            sim(bed.world, {"action": action, "cufe": cufe, "at": _ago(4 - minutes / 60).isoformat()})
        page.click("#sincronizar")
        page.wait_for_url(re.compile(r"#resultado$"))
        assert "033" in page.locator("#resultado").inner_text()

        page.click("#accion-inscribir button[type=submit]")
        assert "registrado por la DIAN" in _confirm(page)
        page.click("#accion-informe-pago button[type=submit]")
        assert "registrado por la DIAN" in _confirm(page)
        shoot(page, "titulo-acciones")

        form = page.locator("#accion-endosar")
        form.locator("input[name=nit]").fill(FACTOR_NIT)
        form.locator("input[name=nombre]").fill(FACTOR_NAME)
        form.locator("input[name=tasa]").fill("2.5")
        form.locator("button[type=submit]").click()
        page.wait_for_selector("#precio")
        assert page.locator("#precio-valor").inner_text() == "$ 116.025,00"  # 119.000 × (100 − 2,5) / 100
        shoot(page, "endoso-confirmacion-precio")
        assert "registrado por la DIAN" in _confirm(page)
        assert FACTOR_NAME in page.locator("#tenedor").inner_text()
        assert page.locator("#estado-titulo").inner_text() == "Endosada"

        # The buyer pays the factor in total (045 by the debtor, the simulator's admin); the title learns it.
        sim(bed.world, {"action": "pay", "cufe": cufe})
        page.click("#sincronizar")
        page.wait_for_url(re.compile(r"#resultado$"))
        assert page.locator("#estado-titulo").inner_text() == "Pagada"
        chain = page.locator("#cadena").inner_text()
        for code in ("030", "032", "033", "036", "046", "037", "045"):
            assert code in chain, code
        assert "Pago total" in chain and "$ 116.025,00" in chain
        shoot(page, "titulo-cadena")
        assert "No disponible ahora" in page.locator("#accion-endosar").text_content()

        page.goto(f"{url}/titulos")
        assert "Pagada" in page.locator("#titulos").inner_text()
        shoot(page, "titulos")
        page.goto(f"{url}/alertas")
        shoot(page, "alertas-cobrar")


def _accepted(bed: EventsBed) -> tuple[int, str]:
    doc_id = bed.receive(at=_ago(30))
    for code in (EventCode.ACUSE_RECIBO, EventCode.RECIBO_BIEN, EventCode.ACEPTACION_EXPRESA):
        bed.send(doc_id, code)
        assert bed.deliver()["events"]["registered"] == 1
    return doc_id, bed.document(doc_id).cufe


def _sweep(bed: EventsBed) -> dict[str, Any]:
    with bed.sessions() as s:
        s.execute(sa.update(ValueTitle).values(next_watch_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
        s.commit()
    result = jobs.title_watch()
    assert result["outcome"] == "ok", result
    return result["summary"]


@pytest.mark.parametrize("events_bed", ["sqlite"], indirect=True)
def test_an_endorsed_supplier_invoice_shows_pay_the_factor_everywhere(browser, events_bed: EventsBed):  # noqa: F811
    bed = events_bed
    users(bed.sessions)
    doc_id, cufe = _accepted(bed)
    assert _sweep(bed)["enrolled"] == 1
    sim(bed.world, {"action": "register", "cufe": cufe})
    sim(bed.world, {"action": "endorse", "cufe": cufe, "to": FACTOR, "rate": "2.5"})
    assert _sweep(bed)["holder_changed"] == 1
    app = create_app(bed.settings, engine=bed.runtime.engine, events=lambda s: event_service(bed.settings, s),
                     titles=bed.runtime.title_service)  # fmt: skip
    with serve(app) as url:
        page = log_in(browser, url, "teresa")
        badge = page.locator("#nav-avisos .nav-count")
        assert badge.inner_text() == "1"
        page.goto(f"{url}/documentos/{doc_id}")
        pay_to = page.locator("#pagar-a")
        assert f"Pagar a: {FACTOR_NAME} (NIT {FACTOR_NIT})" in pay_to.inner_text()
        assert pay_to.evaluate("el => getComputedStyle(el.querySelector('strong')).color") == "rgb(185, 28, 28)"
        shoot(page, "documento-pagar-a")

        page.click("#nav-avisos")
        alert = page.locator("#avisos li").first
        assert "Cambio de tenedor" in alert.inner_text() and FACTOR_NAME in alert.inner_text()
        shoot(page, "alertas")

        page.goto(f"{url}/pagos")
        row = page.locator(f"#pagos tr[data-cufe='{cufe}']")
        assert f"Pagar a: {FACTOR_NAME} (NIT {FACTOR_NIT})" in row.inner_text()
        shoot(page, "pagos")
        with page.expect_download() as download:
            page.click("#csv")
        rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text("utf-8"))))
        assert [(r["cufe"], r["nit_beneficiario"], r["beneficiario"]) for r in rows] == [(cufe, FACTOR_NIT,
                                                                                            FACTOR_NAME)]  # fmt: skip

        page.click(f"#pagos tr[data-cufe='{cufe}'] >> text=Endosada")
        assert "Endoso en propiedad" in page.locator("#cadena").inner_text()
        assert page.locator("#accion-endosar").count() == 0  # a payable title: nothing to circulate here, only
        assert page.locator("#accion-pagar").count() == 1  # our payment to record (045)
        shoot(page, "titulo-por-pagar")

        # A judge's 041 freezes the payment: the banner on the document, the line refused with its reason.
        sim(bed.world, {"action": "limit", "cufe": cufe})
        assert _sweep(bed)["limited"] == 1
        page.goto(f"{url}/documentos/{doc_id}")
        assert "Pago congelado" in page.locator("#pago-congelado").inner_text()
        shoot(page, "documento-pago-congelado")
        page.goto(f"{url}/pagos")
        assert page.locator("#pagos").count() == 0
        assert "041" in page.locator(f"#pagos-rechazados tr[data-cufe='{cufe}']").inner_text()
        shoot(page, "pagos-congelado")

        clerk = log_in(browser, url, "ana")
        clerk.goto(f"{url}/documentos/{doc_id}")
        assert FACTOR_NAME in clerk.locator("#pagar-a").inner_text()  # clerks see the payee too
