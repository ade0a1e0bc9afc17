"""The buyer's mail on the issued document's page and the list (web/issued_delivery.py), through the Flask client, the
real issuing service, the DIAN simulator over HTTP and a real SMTP server (aiosmtpd), on SQLite and PostgreSQL: a
rejected document says its mail waits for DIAN; a validated one is "en preparación" until the job queues it, then
"en cola" to the payload's address; an SMTP server that does not answer shows its error and the retry; the mail the
server took shows when and to which address; a buyer nobody knows an address for says so, and billing's "Reenviar
al comprador" with an address queues it. The PDF served by the page carries the configured footer."""

from __future__ import annotations

import dataclasses
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from buzon import jobs
from buzon.config import Settings, SmtpSettings
from dian.nit import check_digit
from events.notify import deliver_mail
from store.models import DeliveryState, NumberingRange
from tests.integration.issuing_fixtures import CUSTOMER, IssuingBed, invoice_data, open_bed
from tests.services import free_port
from tests.web.test_issued import app_for, client, text

pytestmark = pytest.mark.integration

FOOTER = "Pague en la cuenta corriente 987-654321-00 del Banco Demo"


@pytest.fixture(params=["sqlite", "postgresql"])
def bed(request, tmp_path: Path, smtp_server) -> Iterator[IssuingBed]:
    def with_smtp(settings: Settings) -> Settings:
        smtp = SmtpSettings(host=smtp_server.host, port=smtp_server.port, tls="none",
                            from_address="facturacion@proveedor.test")  # fmt: skip
        issuing = dataclasses.replace(settings.issuing, pdf_footer=FOOTER)
        return dataclasses.replace(settings, smtp=smtp, issuing=issuing)

    with open_bed(request.param, tmp_path, with_smtp) as bed:
        bed.smtp = smtp_server  # type: ignore[attr-defined]
        yield bed


def _app(bed: IssuingBed):
    app = app_for(bed)
    app.extensions["buzon.issued_mail"] = bed.runtime.buyer_mail_settings  # as buzon/webapp.py hands it in
    return app


def _panel(page: str) -> str:
    found = re.search(r'<section class="panel delivery[^"]*" id="entrega" data-delivery="([a-z_]+)">(.*?)</section>',
                      page, re.S)  # fmt: skip
    assert found, "no delivery panel"
    body = re.sub(r"<h2>.*?</h2>|<span[^>]*aria-hidden[^>]*>.*?</span>", " ", found.group(2), flags=re.S)
    return found.group(1) + " " + " ".join(re.sub(r"<[^>]+>", " ", body).split())


def test_the_page_tells_where_the_buyers_mail_went_or_why_not(bed: IssuingBed) -> None:
    diana = client(_app(bed), "diana")
    with bed.sessions() as s:  # the technical key wrong for one invoice: DIAN's FAD06
        key = s.execute(sa.select(NumberingRange.technical_key).where(NumberingRange.kind == "invoice")).scalar()
        s.execute(sa.update(NumberingRange).values(technical_key="0" * 40))
        s.commit()
    rejected = bed.issue(invoice_data(), deliver=True)
    assert rejected.state.value == "rejected", rejected
    with bed.sessions() as s:
        s.execute(sa.update(NumberingRange).where(NumberingRange.kind == "invoice").values(technical_key=key))
        s.commit()
    assert _panel(text(diana.get(f"/facturas-emitidas/{rejected.id}"))).startswith(
        "rejected No se envía al comprador La DIAN rechazó el documento")
    bed.fault("SendBillSync", "http503")  # DIAN down: queued, the mail waits for the validation
    queued = bed.issue(invoice_data(), deliver=True)
    assert queued.state.value == "send_failed", queued
    assert _panel(text(diana.get(f"/facturas-emitidas/{queued.id}"))).startswith(
        "waiting_dian Aún no se envía El correo al comprador sale cuando la DIAN valida el documento.")

    done = bed.issue(invoice_data(), deliver=True)
    page = text(diana.get(f"/facturas-emitidas/{done.id}"))
    assert _panel(page).startswith("not_yet En preparación")
    assert 'id="reenviar-boton"' in page and "Reenviar al comprador" in page

    jobs.deliver_to_buyers()
    panel = _panel(text(diana.get(f"/facturas-emitidas/{done.id}")))
    assert panel.startswith(f"pending En cola para {CUSTOMER['email']}") and "la dirección que envió el ERP" in panel

    # The SMTP server does not answer: its error and the next attempt are shown, not "enviado".
    rt = bed.runtime
    down = dataclasses.replace(rt.smtp, port=free_port())
    assert deliver_mail(rt.sessions, rt.ctx, down).retrying == 1
    panel = _panel(text(diana.get(f"/facturas-emitidas/{done.id}")))
    assert panel.startswith(f"retrying Reintentando el envío a {CUSTOMER['email']}"), panel
    assert "Error del servidor de correo" in panel and "Connection refused" in panel and "Próximo intento" in panel
    listing = text(diana.get("/facturas-emitidas"))
    assert 'data-mail="pending"' in listing and "Correo en cola" in listing

    # The real server takes it; once settled the page says when and to whom.
    assert deliver_mail(rt.sessions, rt.ctx, rt.smtp, now=lambda: bed.row(done.id).issued_at.replace(
        year=bed.row(done.id).issued_at.year + 1)).sent == 1  # past the backoff  # fmt: skip
    jobs.deliver_to_buyers()
    row = bed.row(done.id)
    assert row.delivery_state is DeliveryState.SENT
    panel = _panel(text(diana.get(f"/facturas-emitidas/{done.id}")))
    assert panel.startswith(f"sent Enviado a {CUSTOMER['email']} El servidor de correo lo recibió el "), panel
    listing = text(diana.get("/facturas-emitidas"))
    assert 'data-mail="sent"' in listing and "Correo enviado" in listing

    # The PDF the page serves carries the configured footer.
    pdf = bed.tmp_path / "page.pdf"
    pdf.write_bytes(diana.get(f"/facturas-emitidas/{done.id}/pdf").data)
    assert FOOTER in subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def test_no_address_is_said_and_billing_gives_one(bed: IssuingBed) -> None:
    nit = "800111222"
    customer = {**{k: v for k, v in CUSTOMER.items() if k != "email"}, "id": nit, "dv": check_digit(nit)}
    done = bed.issue(invoice_data(customer=customer), deliver=True)
    assert jobs.deliver_to_buyers()["summary"]["no_address"] == 1
    app = _app(bed)
    diana = client(app, "diana")
    panel = _panel(text(diana.get(f"/facturas-emitidas/{done.id}")))
    assert panel.startswith("no_address No se envió: falta el correo del comprador"), panel
    assert f"No se conoce la dirección de recepción del comprador {nit}" in panel
    assert "la DIAN no tiene uno registrado" in panel  # the address is asked for, not offered as "empty: DIAN's"
    listing = text(diana.get("/facturas-emitidas"))
    assert 'data-mail="failed"' in listing and "Sin correo del comprador" in listing

    page = text(diana.post(f"/facturas-emitidas/{done.id}/reenviar", data={"correo": "cartera@nueva.test"},
                           follow_redirects=True))  # fmt: skip
    assert "Reenvío en cola para cartera@nueva.test" in page
    panel = _panel(page)
    assert panel.startswith("pending En cola para cartera@nueva.test"), panel
    assert "la dirección que escribió facturación al reenviar" in panel and "(envío 2)" in panel
    jorge = client(app, "jorge")  # the auditor reads the state, has no button
    page = text(jorge.get(f"/facturas-emitidas/{done.id}"))
    assert _panel(page).startswith("pending") and 'id="reenviar-boton"' not in page
