"""The "Certificados DIAN" page: admins and auditors only, read-only; the shipped pins, the configured ones and those
learned from DIAN's own answers, each with why it is trusted; on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import html
import re
from datetime import UTC, datetime, timedelta

import pytest

from store.models import DianCertificate, Role
from tests.pki import pki, write_ca_folder
from tests.web.test_inbox_page import add_document

pytestmark = pytest.mark.integration

SPKI = "5a" * 32
CONFIGURED = "AB:" * 31 + "AB"


def _text(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


@pytest.fixture
def learned(app_and_db):
    """A DIAN certificate learned from the GetStatus answer about a document on file."""
    _, session = app_and_db
    doc = add_document(session, 1)
    now = datetime.now(UTC)
    cert = DianCertificate(
        spki_sha256=SPKI,
        fingerprint_sha256="6b" * 32,
        subject="CN=U.A.E. DIRECCION DE IMPUESTOS Y ADUANAS NACIONALES,serialNumber=800197268,C=CO",
        issuer="CN=Autoridad Subordinada 01 GSE,O=GSE,C=CO",
        serial="0x1234",
        not_before=now - timedelta(days=30),
        not_after=now + timedelta(days=300),
        pem="-----BEGIN CERTIFICATE-----\n…\n-----END CERTIFICATE-----\n",
        learned_at=datetime(2026, 3, 2, 19, 5, tzinfo=UTC),
        learned_from=doc.cufe,
        endpoint="https://vpfe.dian.gov.co/WcfDianCustomerServices.svc",
        environment="produccion",
    )
    session.add(cert)
    session.flush()
    return cert, doc


@pytest.mark.parametrize(("role", "status"), [(Role.ADMIN, 200), (Role.AUDITOR, 200), (Role.CLERK, 403),
                                              (Role.TREASURY, 403)])  # fmt: skip
def test_only_admins_and_auditors_see_it_and_the_menu_links_it_for_them(client_as, role, status):
    client = client_as(role)
    assert client.get("/certificados-dian").status_code == status
    inbox = client.get("/").get_data(as_text=True)
    assert ('href="/certificados-dian">Certificados DIAN</a>' in inbox) is (status == 200)


def test_anonymous_visitors_go_to_the_login_page(client_as):
    response = client_as(None).get("/certificados-dian")
    assert response.status_code == 302 and "/ingresar" in response.headers["Location"]


def test_learned_certificates_say_when_from_which_cufe_and_which_endpoint(app_and_db, client_as, learned):
    _, doc = learned
    page = client_as(Role.AUDITOR).get("/certificados-dian").get_data(as_text=True)
    table = page.split('id="certificados-aprendidos"')[1].split("</table>")[0]
    assert "U.A.E. DIRECCION DE IMPUESTOS Y ADUANAS NACIONALES" in table
    assert f'<code title="{SPKI}">{SPKI[:16]}…</code>' in table  # short, whole in the title
    assert "02/03/2026 14:05" in table  # learned at, Bogotá time
    assert f'href="/documentos/{doc.id}" title="{doc.cufe}"' in table  # from which CUFE, linked to its document
    assert f"/auditoria?subject={doc.cufe}" in table
    assert "https://vpfe.dian.gov.co/WcfDianCustomerServices.svc" in table and "produccion" in table
    assert 'class="validity validity-current">Vigente<' in table
    assert "Aprendidos de la DIAN (1)" in _text(page)


def test_shipped_pins_are_listed_with_where_they_were_seen(client_as):
    proof = pytest.importorskip("dian.proof", reason="dian.proof (the shipped pins) is not in this tree yet")
    pins = proof.shipped_pins()
    page = client_as(Role.ADMIN).get("/certificados-dian").get_data(as_text=True)
    table = page.split('id="certificados-fijados"')[1].split("</table>")[0] if pins else ""
    assert f"Fijados con Buzón ({len(pins)})" in _text(page)
    for pin in pins:
        assert html.escape(pin.subject) in table or pin.subject in html.unescape(table)
        assert pin.spki_sha256[:16] in table
        assert pin.seen_in[:40] in html.unescape(table)
    if any(pin.not_after < datetime.now(UTC) for pin in pins):
        assert 'class="validity validity-expired">Vencido<' in table


def test_configured_pins_are_normalised_and_matched_to_a_known_certificate(app_and_db, client_as, learned):
    app, _ = app_and_db
    settings = app.config["BUZON_SETTINGS"]
    app.config["BUZON_SETTINGS"] = dataclasses.replace(
        settings, dian=dataclasses.replace(settings.dian, pinned_dian_certificates=(CONFIGURED, SPKI.upper()))
    )
    page = client_as(Role.ADMIN).get("/certificados-dian").get_data(as_text=True)
    table = page.split('id="certificados-configurados"')[1].split("</table>")[0]
    assert "ab" * 32 in table  # lowercase hex, without the colons
    assert "Ningún certificado conocido aquí" in table
    assert "U.A.E. DIRECCION DE IMPUESTOS Y ADUANAS NACIONALES" in table  # the second one is the learned certificate
    assert "Configurados por el administrador (2)" in _text(page)


def test_the_trust_stores_anchors_are_listed_and_an_empty_install_says_so(app_and_db, client_as, tmp_path):
    app, _ = app_and_db
    page = client_as(Role.ADMIN).get("/certificados-dian").get_data(as_text=True)
    assert "Aún no se ha aprendido ningún certificado de la DIAN." in page
    assert "No hay huellas configuradas." in page
    assert "No hay raíces de confianza configuradas." in page

    folder = write_ca_folder(tmp_path / "raices", pki().dian_root)
    settings = app.config["BUZON_SETTINGS"]
    app.config["BUZON_SETTINGS"] = dataclasses.replace(
        settings, dian=dataclasses.replace(settings.dian, trust_store=str(folder))
    )
    page = client_as(Role.AUDITOR).get("/certificados-dian").get_data(as_text=True)
    table = page.split('id="raices-de-confianza"')[1].split("</table>")[0]
    assert "Autoridad Subordinada de Prueba GSE" in table
    assert f"<code>{folder}</code>" in page
    assert "Raíces de confianza (1)" in _text(page)
