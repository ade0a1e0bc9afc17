"""The demo's own invoices in Debian's Chromium, as the billing user `facturacion` meets them after `make run`: the
list at /facturas-emitidas shows every state buzon/demo_issued.py seeded through the issuing service and the
simulator (validated, rejected by DIAN, a credit note, the buyer's acceptance, its claim and our tacit acceptance),
and the documents' pages tell the buyer's mail: delivered (the scheduler's SMTP run to a real aiosmtpd server, then
settled, as `make run` does with its sink), or not sent for want of an address, with "Reenviar al comprador".
Screenshots at 1440x900 and 390x844 go to test-artifacts/demo/."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from buzon.demo_issued import ACCEPTS, CLAIMS, NO_ADDRESS, SILENT
from store.models import OutboundDocument
from tests.web.demo_site import DemoSite, demo_site, served
from tests.web.test_browser import browser as browser  # the fixture (Debian's Chromium), shared
from tests.web.test_page_walk import AUDIT_JS, log_in, new_page

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "demo"
SIZES = {"1440x900": {"width": 1440, "height": 900}, "390x844": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[DemoSite]:
    with demo_site(Path(tmp_path_factory.mktemp("demo-issued"))) as found, served(found) as running:
        yield running


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        path = ARTIFACTS / f"{name}-{size}.png"
        page.screenshot(path=str(path), full_page=True)
        found = page.evaluate(AUDIT_JS)
        assert found["scrollWidth"] <= found["innerWidth"], f"{name} scrolls sideways at {size}: {found['wide']}"


def _deliver_mail(site: DemoSite, smtp_server) -> None:
    """What the scheduler of `make run` does with the queued buyers' mails: send them, then mark them delivered."""
    from buzon.config import SmtpSettings
    from buzon.runtime import Runtime
    from events.notify import deliver_mail
    from issuing.delivery import settle_sent

    smtp = SmtpSettings(host=smtp_server.host, port=smtp_server.port, tls="none",
                        from_address=site.settings.smtp.from_address)  # fmt: skip
    runtime = Runtime.from_settings(dataclasses.replace(site.settings, smtp=smtp), engine=site.engine)
    assert deliver_mail(runtime.sessions, runtime.ctx, runtime.smtp).sent >= 5  # + the demo's suppliers' notices
    assert len(settle_sent(runtime.sessions)) == 5


def _ids(site: DemoSite) -> dict[str, int]:
    with Session(site.engine) as s:
        rows = s.execute(sa.select(OutboundDocument.id, OutboundDocument.buyer_nit, OutboundDocument.state,
                                   OutboundDocument.document_type)
                         .where(OutboundDocument.origin == "issued")).all()  # fmt: skip
    found = {nit: id_ for id_, nit, state, kind in rows if state.value == "accepted" and kind.value == "01"}
    found["rejected"] = next(id_ for id_, _, state, _ in rows if state.value == "rejected")
    found["note"] = next(id_ for id_, _, _, kind in rows if kind.value == "91")
    return found


def test_billing_sees_every_state_and_where_the_buyers_mail_went(browser, site, smtp_server):
    _deliver_mail(site, smtp_server)
    received = [rcpt for _, (rcpt,), message in smtp_server.handler.wait_for(5)
                if message["Subject"].startswith(f"{site.settings.company.nit_number};")]  # fmt: skip
    assert sorted(received) == sorted([ACCEPTS["email"], CLAIMS["email"], SILENT["email"],
                                       "compras@papeleriacentral.test", "compras@papeleriacentral.test"])  # fmt: skip
    ids = _ids(site)
    page = new_page(browser)
    log_in(page, site, "facturacion")
    assert page.url.endswith("/facturas-emitidas")  # billing lands on its list

    table = page.locator("#emitidas")
    text = table.inner_text()
    for words in ("Validado por la DIAN", "Rechazado por la DIAN", "Nota crédito", "Aceptación expresa", "Reclamo",
                  "Aceptación tácita", "Correo enviado", "Sin correo del comprador"):
        assert words in text, words
    tacit = table.locator(f"tr[data-id='{ids[SILENT['id']]}']").inner_text()
    assert "Aceptación tácita" in tacit and SILENT["name"] in tacit and "Correo enviado" in tacit
    claimed = table.locator(f"tr[data-id='{ids[CLAIMS['id']]}']").inner_text()
    assert "Reclamo" in claimed
    shoot(page, "facturas-emitidas")

    page.goto(f"{site.url}/facturas-emitidas/{ids[SILENT['id']]}")
    delivery = page.locator("#entrega")
    assert delivery.get_attribute("data-delivery") == "sent"
    assert page.inner_text("#entrega-estado") == f"Enviado a {SILENT['email']}"
    assert "El servidor de correo lo recibió el " in page.inner_text("#entrega-detalle")
    assert page.locator("#reenviar-boton").is_visible()
    events = page.inner_text("#comprador-eventos")
    assert "Aceptación tácita" in events and "Recibo del bien o servicio" in events
    received = page.locator("#comprador-eventos li", has_text="Recibo del bien o servicio").inner_text()
    assert received.split(" · ")[1][:10] != events.split("Aceptación tácita · ")[1][:10]  # the 032 days before the 034
    assert "ya la aceptó (evento 034)" in page.inner_text("#notas")  # no note on a tacitly accepted invoice
    shoot(page, "emitida-aceptacion-tacita-enviada")

    page.goto(f"{site.url}/facturas-emitidas/{ids[NO_ADDRESS['id']]}")
    assert page.locator("#entrega").get_attribute("data-delivery") == "no_address"
    assert page.inner_text("#entrega-estado") == "No se envió: falta el correo del comprador"
    assert f"del comprador {NO_ADDRESS['id']}" in page.inner_text("#entrega-detalle")
    shoot(page, "emitida-sin-correo")
    page.fill("#correo", "compras@ferreterialaochenta.test")
    page.click("#reenviar-boton")
    page.wait_for_load_state()
    assert "Reenvío en cola para compras@ferreterialaochenta.test" in page.inner_text("main")
    assert page.inner_text("#entrega-estado") == "En cola para compras@ferreterialaochenta.test"
    shoot(page, "emitida-reenviada")

    page.goto(f"{site.url}/facturas-emitidas/{ids['rejected']}")
    assert "Regla FAD06" in page.inner_text("#reglas")
    assert page.inner_text("#entrega-estado") == "No se envía al comprador"
    shoot(page, "emitida-rechazada")
