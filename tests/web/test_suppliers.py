"""The Proveedores pages through the Flask test client on SQLite and PostgreSQL: the list from documents and the
suppliers table, a supplier's documents linked, its reception address (validated, audited) and its automatic 030/032
switches (audited); auditor and treasury read only; CSRF."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from dian.calendar import BOGOTA
from dian.codes import DocumentState
from store.models import AuditEntry, Role, Supplier
from store.totals import by_supplier
from tests.web.conftest import csrf_token
from tests.web.test_inbox_page import add_document
from web.period import period
from web.suppliers import AddressError, reception_address

pytestmark = pytest.mark.integration


def recent(n: int) -> dict[str, Any]:
    """Issued a few minutes ago: within the default period (the last 3 months) of the pages' amounts."""
    issued = datetime.now(UTC) - timedelta(minutes=n)
    return {"issued_at": issued, "issue_date": issued.astimezone(BOGOTA).date()}


@pytest.fixture
def suppliers(app_and_db) -> None:
    _, session = app_and_db
    add_document(session, 1, issuer_nit="800111222", issuer_name="Ferretería Andina S.A.S.",
                 payable_amount=Decimal("50000.00"), **recent(1))  # fmt: skip
    add_document(session, 2, issuer_nit="800111222", issuer_name="Ferretería Andina S.A.S.",
                 payable_amount=Decimal("2500000.50"), state=DocumentState.ACKNOWLEDGED, **recent(2))  # fmt: skip
    add_document(session, 3, issuer_nit="900555666", issuer_name="Papelería El Sol Ltda.",
                 payable_amount=Decimal("120000.00"), **recent(3))  # fmt: skip
    add_document(session, 4, issuer_nit="900555666", issuer_name="Papelería El Sol Ltda.",
                 payable_amount=Decimal("10.00"), currency="USD", **recent(4))  # fmt: skip
    # March 2025: outside the default period; counted with periodo=2025-03 or periodo=2025.
    add_document(session, 5, issuer_nit="800111222", issuer_name="Ferretería Andina S.A.S.",
                 payable_amount=Decimal("7000000.00"), state=DocumentState.ACCEPTED)  # fmt: skip
    session.add(Supplier(nit="901999888", name="Aseo Total S.A.S.", reception_email="fe@aseo.test", auto_receipt=True))
    session.flush()


def post(client: Any, path: str, **form: str) -> Any:
    return client.post(path, data={"csrf_token": csrf_token(client), **form})


def audit(session: Any, action: str) -> list[AuditEntry]:
    return list(session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def test_the_list_has_every_supplier_with_counts_and_amounts_largest_first(suppliers, client_as):
    page = client_as(Role.AUDITOR).get("/proveedores").get_data(as_text=True)
    order = [page.index(name) for name in ("Ferretería Andina", "Papelería El Sol", "Aseo Total")]
    assert order == sorted(order)
    assert "$ 2.550.000,50" in page and "$ 120.000,00" in page  # the USD invoice is counted, not added to pesos
    assert 'href="/?supplier=800111222&amp;from=' in page and 'href="/proveedores/901999888"' in page
    assert "fe@aseo.test" in page
    found = client_as(Role.AUDITOR).get("/proveedores?q=papeler").get_data(as_text=True)
    assert "Papelería El Sol" in found and "Ferretería" not in found
    by_nit = client_as(Role.AUDITOR).get("/proveedores?q=901.999").get_data(as_text=True)
    assert "Aseo Total" in by_nit and "Papelería" not in by_nit
    assert client_as(Role.AUDITOR).get("/proveedores?pagina=²").status_code == 400


def test_a_supplier_page_lists_its_documents_linked(app_and_db, suppliers, client_as):
    page = client_as(Role.TREASURY).get("/proveedores/800111222").get_data(as_text=True)
    assert "<h1>Ferretería Andina S.A.S.</h1>" in page
    assert 'aria-label="Abrir FE1"' in page and 'aria-label="Abrir FE2"' in page and "FE3" not in page
    assert 'href="/?supplier=800111222&amp;status=acknowledged&amp;from=' in page
    assert 'name="auto_acknowledge"' not in page  # treasury reads, does not switch
    assert client_as(Role.TREASURY).get("/proveedores/123").status_code == 404  # not a NIT
    assert client_as(Role.TREASURY).get("/proveedores/811000000").status_code == 404  # nobody
    only_settings = client_as(Role.CLERK).get("/proveedores/901999888").get_data(as_text=True)
    assert "Este proveedor aún no ha enviado documentos" in only_settings and "fe@aseo.test" in only_settings


def test_the_reception_address_is_validated_and_audited(app_and_db, suppliers, client_as):
    _, session = app_and_db
    client = client_as(Role.CLERK)
    for bad in ("no-es-correo", "a@b", "Ana <ana@x.co>", "a@x.co, b@x.co", "a b@x.co", "a..b@x.co"):
        post(client, "/proveedores/800111222/correo", reception_email=bad)
        page = client.get("/proveedores/800111222").get_data(as_text=True)
        assert "No se guardó la dirección" in page, bad
    assert session.scalar(sa.select(Supplier).where(Supplier.nit == "800111222")) is None  # nothing half-written
    response = post(client, "/proveedores/800111222/correo", reception_email="  facturacion@ferreteria.com.co ")
    assert response.status_code == 302 and response.location.endswith("/proveedores/800111222#ajustes")
    row = session.scalar(sa.select(Supplier).where(Supplier.nit == "800111222"))
    assert (row.reception_email, row.name) == ("facturacion@ferreteria.com.co", "Ferretería Andina S.A.S.")
    page = client.get("/proveedores/800111222").get_data(as_text=True)
    assert "irán a facturacion@ferreteria.com.co" in page and 'role="status"' in page
    post(client, "/proveedores/800111222/correo", reception_email="")
    assert row.reception_email is None
    entries = audit(session, "supplier.reception_email.changed")
    assert [(e.actor, e.subject, e.data) for e in entries] == [
        ("user:usuario-clerk", "supplier:800111222", {"before": None, "after": "facturacion@ferreteria.com.co"}),
        ("user:usuario-clerk", "supplier:800111222", {"before": "facturacion@ferreteria.com.co", "after": None}),
    ]


def test_the_switches_are_stored_and_audited(app_and_db, suppliers, client_as):
    _, session = app_and_db
    client = client_as(Role.ADMIN)
    post(client, "/proveedores/900555666/automaticos", auto_acknowledge="1", auto_receipt="1")
    row = session.scalar(sa.select(Supplier).where(Supplier.nit == "900555666"))
    assert (row.auto_acknowledge, row.auto_receipt) == (True, True)
    page = client.get("/proveedores/900555666").get_data(as_text=True)
    assert "acuse de recibo (030) automático activado" in page
    assert 'name="auto_acknowledge" value="1" checked' in page
    post(client, "/proveedores/900555666/automaticos", auto_acknowledge="1")  # the 032 box left unticked
    assert (row.auto_acknowledge, row.auto_receipt) == (True, False)
    post(client, "/proveedores/900555666/automaticos", auto_acknowledge="1")
    assert "Los automáticos no cambiaron" in client.get("/proveedores/900555666").get_data(as_text=True)
    entries = audit(session, "supplier.automation.changed")
    assert [e.data for e in entries] == [
        {"auto_acknowledge": {"before": False, "after": True}, "auto_receipt": {"before": False, "after": True}},
        {"auto_receipt": {"before": True, "after": False}},
    ]
    assert entries[0].actor == "user:usuario-admin"


def test_the_page_says_what_the_configuration_does_with_the_switch(suppliers, client_as):
    page = client_as(Role.CLERK).get("/proveedores/900555666").get_data(as_text=True)
    assert 'scheduler.auto_acknowledge = "off"' in page  # the default: the 030 switch has no effect, and says so


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.TREASURY])
def test_readers_cannot_change_a_supplier(app_and_db, suppliers, client_as, role):
    _, session = app_and_db
    client = client_as(role)
    for path, form in (("correo", {"reception_email": "x@y.co"}), ("automaticos", {"auto_acknowledge": "1"}),
                       ("consultar-dian", {})):  # fmt: skip
        assert post(client, f"/proveedores/800111222/{path}", **form).status_code == 403
    assert session.scalar(sa.select(sa.func.count()).select_from(Supplier)) == 1
    assert audit(session, "supplier.automation.changed") == []


def test_changes_need_the_csrf_token(app_and_db, suppliers, client_as):
    _, session = app_and_db
    client = client_as(Role.CLERK)
    response = client.post("/proveedores/800111222/automaticos", data={"auto_acknowledge": "1"})
    assert response.status_code == 400
    assert session.scalar(sa.select(sa.func.count()).select_from(Supplier)) == 1


def test_asking_dian_without_a_dian_client_says_it_is_unavailable(suppliers, client_as):
    client = client_as(Role.CLERK)
    assert "Consultar el correo registrado en la DIAN" not in client.get("/proveedores/800111222").get_data(True)
    post(client, "/proveedores/800111222/consultar-dian")
    assert "no está disponible" in client.get("/proveedores/800111222").get_data(as_text=True)


def test_reception_address_rules():
    assert reception_address(" fe@proveedor.com.co ") == "fe@proveedor.com.co"
    assert reception_address("") is None
    for bad in ("x", "x@y", "@y.co", "x@-y.co", "x@y..co", "x" * 65 + "@y.co", "a@" + "b" * 250 + ".co"):
        with pytest.raises(AddressError):
            reception_address(bad)


def test_the_amounts_cover_the_chosen_period_and_the_search_folds_accents(suppliers, client_as):
    client = client_as(Role.CLERK)
    page = client.get("/proveedores").get_data(as_text=True)
    assert "$ 2.550.000,50" in page and "$ 7.000.000,00" not in page  # March 2025 is not in the last 3 months
    assert "y 1 en otra moneda" in page  # Papelería's USD invoice: counted, not added to pesos
    march = client.get("/proveedores?periodo=2025-03").get_data(as_text=True)
    assert "$ 7.000.000,00" in march and "Papelería El Sol" not in march
    assert "Aseo Total" in march  # configured, no documents in the period: listed after, with 0
    assert 'href="/?supplier=800111222&amp;from=2025-03-01&amp;to=2025-03-31"' in march
    assert "marzo de 2025" in march and '<option value="2025-03" selected>Marzo de 2025</option>' in march
    folded = client.get("/proveedores?q=FERRETERIA&periodo=2025").get_data(as_text=True)
    assert "Ferretería Andina" in folded and "Papelería" not in folded and "$ 7.000.000,00" in folded
    assert "Ningún proveedor con documentos de marzo de 2025 coincide con «papel»" in client.get(
        "/proveedores?q=papel&periodo=2025-03"
    ).get_data(as_text=True)
    one = client.get("/proveedores/800111222?periodo=2025").get_data(as_text=True)
    assert "en el año 2025: 1 documento · $ 7.000.000,00" in one
    assert 'href="/?supplier=800111222&amp;status=accepted&amp;from=2025-01-01&amp;to=2025-12-31"' in one
    assert 'aria-label="Abrir FE5"' in one and 'aria-label="Abrir FE1"' in one  # the latest, of any date
    now = client.get("/proveedores/800111222").get_data(as_text=True)
    assert ": 2 documentos · $ 2.550.000,50" in now


def test_pages_run_from_the_suppliers_with_documents_into_the_configured_ones(app_and_db, suppliers):
    _, session = app_and_db
    session.add(Supplier(nit="800111222", name="Ferretería Andina S.A.S.", reception_email="fe@andina.test"))
    session.add(Supplier(nit="700000001", name="Configurado Dos"))
    session.flush()
    chosen = period(None, datetime.now(UTC).astimezone(BOGOTA).date())
    pages, more, offset = [], True, 0
    while more:
        rows, more = by_supplier(session, chosen.first_month, chosen.last_month, offset=offset, limit=2)
        pages.append([(r.nit, r.documents, r.setting.reception_email if r.setting else None) for r in rows])
        offset += 2
    assert pages == [
        [("800111222", 2, "fe@andina.test"), ("900555666", 2, None)],  # with documents, largest first
        [("700000001", 0, None), ("901999888", 0, "fe@aseo.test")],  # configured, none in the period, by NIT
    ]
    assert by_supplier(session, chosen.first_month, chosen.last_month, offset=4, limit=2) == ([], False)
