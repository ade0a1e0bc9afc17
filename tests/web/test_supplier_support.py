"""A seller we only bought from with documentos soporte (no received invoice, no suppliers row) has a supplier page
with its DS history, reached from the DS's page; through the Flask client, the real issuing service and the DIAN
simulator over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from store.models import OutboundState, Supplier
from tests.integration.support_fixtures import (  # noqa: F401 - fixtures
    SAAS,
    adjustment_data,
    issue_support,
    issuing_bed,
    support_bed,
    support_data,
)
from tests.web.test_support_pages import app_for, client, text

pytestmark = [pytest.mark.integration]


def test_a_seller_with_only_documentos_soporte_has_its_page(support_bed) -> None:  # noqa: F811
    bed = support_bed
    ds = issue_support(bed, support_data(), deliver=True)
    note = issue_support(bed, adjustment_data(ds), deliver=True)
    foreign = issue_support(bed, support_data(seller=SAAS), deliver=True)
    assert {ds.state, note.state, foreign.state} == {OutboundState.ACCEPTED}, ds.dian_messages
    app = app_for(bed)
    ana = client(app, "ana")

    detail = text(ana.get(f"/soporte/{ds.id}"))
    assert '<a href="/proveedores/79123456">Pedro Campesino Rojas</a>' in detail
    page = text(ana.get("/proveedores/79123456"))
    assert 'id="solo-soporte"' in page and "Pedro Campesino Rojas" in page and "Identificación 79123456" in page
    history = page[page.index('id="soporte-proveedor"') :]
    assert ds.number in history and note.number in history and foreign.number not in history
    assert "Validado por la DIAN" in history and "/soporte?vendedor=79123456" in history
    assert "Correo de recepción" not in page and 'id="por-estado"' not in page  # nothing of received invoices
    # A foreign seller's identification is its page's address too.
    assert 'href="/proveedores/US-98-7654321"' in text(ana.get(f"/soporte/{foreign.id}"))
    page = text(ana.get("/proveedores/US-98-7654321"))
    assert "Cloud Tools Inc." in page and foreign.number in page and ds.number not in page

    # Nobody else: an identification we never bought from, or not one at all, is not found.
    for path in ("/proveedores/80000001", "/proveedores/a%20b", "/proveedores/" + "9" * 21):
        assert ana.get(path).status_code == 404, path
    # Its page offers no settings, and they cannot be written behind it (no suppliers row appears).
    for path in ("/proveedores/79123456/correo", "/proveedores/79123456/automaticos"):
        assert ana.post(path, data={"reception_email": "pedro@vereda.test", "auto_receipt": "1"}).status_code == 404
    with bed.sessions() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Supplier)) == 0

    for name in ("teresa", "jorge"):  # treasury and auditors read it as they read the DS
        assert ds.number in text(client(app, name).get("/proveedores/79123456"))
    assert client(app, "diana").get("/proveedores/79123456").status_code == 403  # billing: not AP's pages

    # Once it is a supplier in the full sense (a suppliers row), the full page shows, the DS still listed.
    with bed.sessions() as s:
        s.add(Supplier(nit="79123456", name="Pedro Campesino Rojas"))
        s.commit()
    page = text(ana.get("/proveedores/79123456"))
    assert 'id="solo-soporte"' not in page and "Correo de recepción" in page and ds.number in page
