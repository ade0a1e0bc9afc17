"""The document page and the event actions through the Flask test client, on real SQLite and PostgreSQL.

The events service is a stand-in here (what it answers is the test's choice); the real one, against the DIAN
simulator, is driven in tests/web/test_browser.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from dian.codes import ClaimReason, DocumentState, DocumentType, Environment, EventCode, PaymentMeans
from dian.rules import Decision
from dian.ubl.build import DocumentDraft, build_invoice
from events.emit import Emitted, EventRefused
from store.blobs import BlobStore
from store.models import (
    Direction,
    DocumentEvent,
    MailMessage,
    MailStatus,
    ReceivedDocument,
    Role,
    SubmissionState,
    Verdict,
)
from tests.integration.dian_fixtures import BUYER, NUMBERING, SELLER, SELLER_SW, _iva
from tests.web.conftest import add_user, csrf_token, sign_in
from web.document_labels import check_label

pytestmark = pytest.mark.integration

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ALL = ("030", "031", "032", "033")


def invoice_xml(number: str = "SETP990000007") -> bytes:
    """An (unsigned) invoice of the test seller, enough for the page's reading of the XML."""
    from dian.ubl import Line, MonetaryTotal

    base = Decimal("250000.00")
    iva = _iva(base)
    draft = DocumentDraft(
        number=number,
        issue_date=date(2026, 3, 2),
        issue_time="09:00:00-05:00",
        environment=Environment.TESTING,
        supplier=SELLER,
        customer=BUYER,
        lines=(
            Line(
                id="1",
                quantity=Decimal("2.00"),
                unit_code="94",
                description="Resma de papel carta",
                line_extension_amount=base,
                unit_price=Decimal("125000.00"),
                taxes=(iva,),
            ),
        ),
        monetary_total=MonetaryTotal(
            line_extension=base, tax_exclusive=base, tax_inclusive=base + iva.amount, payable=base + iva.amount
        ),
        tax_totals=(iva,),
        due_date=date(2026, 4, 1),
        payment_means=PaymentMeans.CREDIT,
        payment_method_code="42",
    )
    return build_invoice(draft, software=SELLER_SW, numbering=NUMBERING)


@pytest.fixture
def blobs(app_and_db) -> BlobStore:
    app, _ = app_and_db
    return BlobStore(app.config["BUZON_SETTINGS"].blob_dir)


@pytest.fixture
def document(app_and_db, blobs) -> ReceivedDocument:
    _, session = app_and_db
    mail = MailMessage(mailbox="INBOX", sender="facturas@proveedor.test", subject="900123456;PROVEEDOR;SETP7;01",
                       received_at=datetime(2026, 3, 2, 14, tzinfo=UTC), blob_key=blobs.put(b"From: x\r\n\r\nhola\r\n"),
                       status=MailStatus.FILED)  # fmt: skip
    session.add(mail)
    session.flush()
    doc = ReceivedDocument(
        cufe="ab" * 48,
        document_type=DocumentType.INVOICE,
        environment=Environment.TESTING,
        number="SETP990000007",
        issuer_nit=SELLER.nit,
        issuer_dv=SELLER.dv,
        issuer_name="PROVEEDOR DE PRUEBA S.A.S.",
        buyer_nit=BUYER.nit,
        buyer_name="EMPRESA COMPRADORA S.A.S.",
        issue_date=date(2026, 3, 2),
        issued_at=datetime(2026, 3, 2, 14, tzinfo=UTC),
        due_date=date(2026, 4, 1),
        payment_means=PaymentMeans.CREDIT,
        line_extension_amount=Decimal("250000.00"),
        tax_exclusive_amount=Decimal("250000.00"),
        tax_inclusive_amount=Decimal("297500.00"),
        payable_amount=Decimal("297500.00"),
        taxes=[
            {
                "scheme_id": "01",
                "scheme_name": "IVA",
                "amount": "47500.00",
                "withholding": False,
                "subtotals": [
                    {"scheme_id": "01", "amount": "47500.00", "taxable_amount": "250000.00", "percent": "19.00"}
                ],
            }
        ],
        lines=[
            {
                "id": "1",
                "quantity": "2.00",
                "unit_code": "94",
                "description": "Resma de papel carta",
                "line_extension_amount": "250000.00",
                "unit_price": "125000.00",
            }
        ],
        line_count=1,
        signed_xml_blob=blobs.put(invoice_xml()),
        zip_blob=blobs.put(b"PK\x05\x06" + b"\x00" * 18),
        verdict=Verdict.VALID_WITH_WARNINGS,
        report={
            "checks": [
                {"name": "document.signature", "outcome": "pass", "detail": "firma válida"},
                {"name": "dian.response", "outcome": "pass", "detail": "Documento validado por la DIAN (código 02)"},
                {"name": "document.certificate.chain", "outcome": "warn", "detail": "cadena incompleta"},
                {"name": "dian.online", "outcome": "fail", "detail": "no se pudo consultar"},
            ]
        },
        mail_message_id=mail.id,
    )
    session.add(doc)
    session.flush()
    return doc


@dataclass
class FakeEvents:
    """events.service.EventService as the page sees it: decisions, emit, emit_many, deliver_now."""

    allowed: dict[str, str | None] = field(default_factory=lambda: dict.fromkeys(ALL))  # code -> refusal or None
    refuse: str | None = None
    emitted: list[tuple[int, Any, str]] = field(default_factory=list)
    delivered: list[str] = field(default_factory=list)

    def decisions(self, session: Any, document: Any, at: Any = None) -> list[tuple[EventCode, Decision]]:
        return [(EventCode(c), Decision(reason is None, reason or "permitido")) for c, reason in self.allowed.items()]

    def _emit(self, document_id: int, request: Any, actor: str) -> Emitted:
        if self.refuse:
            raise EventRefused(self.refuse, "LGC01")
        self.emitted.append((document_id, request, actor))
        n = len(self.emitted)
        return Emitted(10_000 + n, document_id, request.code, f"ACU{n}", f"{n:096x}", SubmissionState.SIGNED,
                       datetime.now(UTC))  # fmt: skip

    def emit(self, document_id: int, request: Any, *, actor: str, source: str | None = None) -> Emitted:
        return self._emit(document_id, request, actor)

    def emit_many(self, requests: list[tuple[int, Any]], *, actor: str, source: str | None = None) -> Any:
        sent, refused = [], {}
        for document_id, request in requests:
            reason = self.allowed.get(request.code.value)
            if reason or self.refuse:
                refused[document_id] = reason or self.refuse
            else:
                sent.append(self._emit(document_id, request, actor))
        return sent, refused

    def deliver_now(self, *, actor: str) -> None:
        self.delivered.append(actor)
        return None  # as when DIAN does not answer: the events stay queued


@pytest.fixture
def events(app_and_db) -> FakeEvents:
    app, _ = app_and_db
    fake = FakeEvents()
    app.extensions["buzon.events"] = fake
    return fake


def clerk(app_and_db, **profile: Any) -> Any:
    app, session = app_and_db
    user = add_user(session, "ana", Role.CLERK, first_name="Ana", family_name="Torres", id_number="52111222",
                    job_title="Auxiliar", department="Compras", **profile)  # fmt: skip
    client = app.test_client()
    sign_in(app, client, user)
    return client


def post_event(client: Any, doc: ReceivedDocument, **form: str) -> Any:
    return client.post(f"/documentos/{doc.id}/eventos", data={"csrf_token": csrf_token(client), **form})


def flashes(client: Any, doc: ReceivedDocument) -> str:
    page = client.get(f"/documentos/{doc.id}").get_data(as_text=True)
    found = re.search(r'(<section id="resultado".*?</section>)', page, re.S)
    return found.group(1) if found else ""


# --- Reading ------------------------------------------------------------------------------------------------------


def test_page_shows_parties_lines_taxes_totals_checks_and_the_xml_made_readable(app_and_db, document, client_as):
    page = client_as(Role.AUDITOR).get(f"/documentos/{document.id}").get_data(as_text=True)
    assert "Factura electrónica de venta" in page
    assert "PROVEEDOR DE PRUEBA S.A.S." in page and "EMPRESA COMPRADORA S.A.S." in page
    assert "Resma de papel carta" in page
    assert "$ 297.500,00" in page and "$ 47.500,00" in page and "19 %" in page
    assert "2 <small>unidad</small>" in page
    assert "Crédito" in page
    # The report check by check, in Spanish, with its mark.
    assert "Documento · Firma digital" in page
    assert "Respuesta de la DIAN · Validación de la DIAN" in page
    assert 'class="check check-warn"' in page and 'class="check check-fail"' in page
    assert "2 correctas, 1 advertencia, 1 falla" in " ".join(page.split())
    # No PDF: the signed XML is read and shown (the numbering authorization only the XML has).
    assert 'class="paper"' in page
    assert "Autorización de numeración" in page
    assert "<iframe" not in page
    # The window has not started (no 032 yet) and the timeline is empty.
    assert "empieza con el recibo del bien" in page
    assert "Aún no hay eventos" in page
    # Downloads: the signed XML, the zip, the raw mail.
    assert f'href="/documentos/{document.id}/xml"' in page
    assert f'href="/documentos/{document.id}/zip"' in page
    assert f'href="/correos/{document.mail_message_id}/original"' in page


def test_a_number_the_supplier_used_twice_is_flagged_on_both_documents(app_and_db, document, client_as):
    _, session = app_and_db
    client = client_as(Role.CLERK)
    assert 'id="numero-repetido"' not in client.get(f"/documentos/{document.id}").get_data(as_text=True)

    def copy(n: int, **changes: Any) -> ReceivedDocument:
        row = ReceivedDocument(**{**{c.key: getattr(document, c.key) for c in ReceivedDocument.__table__.columns
                                     if c.key not in ("id", "search_text", "created_at", "updated_at")},
                                  "cufe": f"{n:02x}" * 48, "mail_message_id": None, **changes})  # fmt: skip
        session.add(row)
        session.flush()
        return row

    again = copy(1, document_type=DocumentType.EXPORT_INVOICE)  # an invoice of another kind: the same numbering
    copy(2, document_type=DocumentType.CREDIT_NOTE)  # a note has its own numbering
    copy(3, issuer_nit="800999111")  # another supplier's number
    page = client.get(f"/documentos/{document.id}").get_data(as_text=True)
    banner = page[page.index('id="numero-repetido"') : page.index("</section>", page.index('id="numero-repetido"'))]
    assert "otro documento con el número SETP990000007" in banner and "No pague los dos" in banner, banner
    assert re.findall(r'href="/documentos/(\d+)"', banner) == [str(again.id)]
    other = client.get(f"/documentos/{again.id}").get_data(as_text=True)
    assert f'href="/documentos/{document.id}"' in other[other.index('id="numero-repetido"') :]


def test_check_labels_in_spanish():
    assert check_label("dian.certificate.chain") == "Respuesta de la DIAN · Cadena de confianza del certificado"
    assert check_label("buyer.nit") == "Adquirente: nuestro NIT"
    assert check_label("document.number") == "Documento · Número sin repetir del proveedor"
    assert check_label("dian.environment") == "Respuesta de la DIAN · Ambiente de la DIAN (producción o pruebas)"
    assert check_label("algo.nuevo") == "algo.nuevo"  # unknown names stay readable as they are


def test_the_pdf_is_shown_inline_and_files_download(app_and_db, document, blobs, client_as):
    _, session = app_and_db
    document.pdf_blob = blobs.put(PDF)
    session.flush()
    client = client_as(Role.TREASURY)
    page = client.get(f"/documentos/{document.id}").get_data(as_text=True)
    assert f'<iframe class="pdf" src="/documentos/{document.id}/pdf"' in page
    assert 'class="paper"' not in page
    pdf = client.get(f"/documentos/{document.id}/pdf")
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"].startswith("inline;")
    assert pdf.data == PDF
    xml = client.get(f"/documentos/{document.id}/xml")
    assert xml.mimetype == "application/xml"
    assert xml.headers["Content-Disposition"] == f'attachment; filename="{SELLER.nit}-SETP990000007.xml"'
    assert xml.data == invoice_xml()
    assert client.get(f"/documentos/{document.id}/zip").mimetype == "application/zip"
    raw = client.get(f"/correos/{document.mail_message_id}/original")
    assert raw.mimetype == "message/rfc822"
    assert raw.data.startswith(b"From: x")
    assert client.get(f"/documentos/{document.id}/contenedor").status_code == 404  # no AttachedDocument kept
    assert client.get("/documentos/999999").status_code == 404
    # An id past the databases' integer names nothing either (SQLite's driver would overflow into a 500).
    for path in ("/documentos/{}", "/documentos/{}/xml", "/correos/{}/original", "/titulos/{}"):
        assert client.get(path.format(2**63)).status_code == 404, path


def test_timeline_shows_ours_and_observed_with_dian_answers_and_who(app_and_db, document, client_as):
    _, session = app_and_db
    now = datetime.now(UTC)
    session.add_all([
        DocumentEvent(document_id=document.id, code=EventCode.ACUSE_RECIBO, direction=Direction.EMITTED, number="ACU3",
                      submission_state=SubmissionState.REGISTERED, signing_time=now - timedelta(hours=2),
                      registered_at=now - timedelta(hours=2), actor="user:ana",
                      person={"id": "52111222", "first_name": "Ana", "family_name": "Torres"}),
        DocumentEvent(document_id=document.id, code=EventCode.RECIBO_BIEN, direction=Direction.EMITTED, number="RBS3",
                      submission_state=SubmissionState.REJECTED, signing_time=now - timedelta(hours=1),
                      dian_messages=["Regla: AAH07, Rechazo: fecha de firma inválida"], actor="user:ana",
                      last_error="Regla: AAH07, Rechazo: fecha de firma inválida"),
        DocumentEvent(document_id=document.id, code=EventCode.ACEPTACION_TACITA, direction=Direction.OBSERVED,
                      number="AT1", submission_state=SubmissionState.REGISTERED, sender_nit=SELLER.nit,
                      signing_time=now, registered_at=now, actor="system:intake"),
    ])  # fmt: skip
    session.flush()
    page = client_as(Role.AUDITOR).get(f"/documentos/{document.id}").get_data(as_text=True)
    rows = re.findall(r'<tr class="event event-(\w+)" data-code="(\d+)">(.*?)</tr>', page, re.S)
    assert [(state, code) for state, code, _ in rows] == [("registered", "030"), ("rejected", "032"),
                                                          ("registered", "034")]  # fmt: skip
    assert "Registrado" in rows[0][2] and "ana" in rows[0][2] and "Ana Torres (doc. 52111222)" in rows[0][2]
    assert "Rechazado por la DIAN" in rows[1][2] and "AAH07" in rows[1][2]
    assert rows[1][2].count("AAH07") == 1  # DIAN's message once, not again as the error
    assert "Observado" in rows[2][2] and "PROVEEDOR DE PRUEBA S.A.S. (proveedor)" in rows[2][2]


def test_window_countdown(app_and_db, document, client_as):
    _, session = app_and_db
    document.state = DocumentState.GOODS_RECEIVED
    document.window_ends_at = datetime.now(UTC) + timedelta(days=10)
    session.flush()
    page = client_as(Role.CLERK).get(f"/documentos/{document.id}").get_data(as_text=True)
    assert re.search(r'id="plazo">Plazo: \d días hábiles', page)
    assert "Quedan: <strong>" in page
    document.window_ends_at = datetime.now(UTC) - timedelta(hours=1)
    session.flush()
    page = client_as(Role.CLERK).get(f"/documentos/{document.id}").get_data(as_text=True)
    assert '<span class="countdown urgent" id="plazo">Plazo vencido</span>' in page
    assert "sin reclamo ni aceptación" in page and "Quedan" not in page
    document.state = DocumentState.ACCEPTED
    session.flush()
    page = client_as(Role.CLERK).get(f"/documentos/{document.id}").get_data(as_text=True)
    assert "ya no aplica" in page and 'id="plazo"' not in page


# --- Actions offered ----------------------------------------------------------------------------------------------


def test_actions_follow_the_rules_and_say_why_not(app_and_db, document, events):
    events.allowed = {"030": None, "031": "Primero debe estar registrado el evento 032.", "032": None,
                      "033": "Primero debe estar registrado el evento 032."}  # fmt: skip
    page = clerk(app_and_db).get(f"/documentos/{document.id}").get_data(as_text=True)
    assert "Enviar acuse de recibo (030)" in page
    assert "Enviar recibo del bien o servicio (032)" in page
    assert "Aceptar expresamente (033)" not in page and "Reclamar (031)" not in page
    assert page.count("Primero debe estar registrado el evento 032.") == 2
    # The person form is prefilled from the user's profile.
    assert 'id="p032-id" name="id" value="52111222"' in page
    assert 'id="p032-first_name" name="first_name" value="Ana"' in page
    assert 'id="p032-department" name="department" value="Compras"' in page


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.TREASURY, Role.ADMIN])
def test_readers_see_no_action(app_and_db, document, events, client_as, role):
    page = client_as(role).get(f"/documentos/{document.id}").get_data(as_text=True)
    assert 'id="acciones"' not in page
    assert "/eventos" not in page
    response = client_as(role).post(f"/documentos/{document.id}/eventos", data={"code": "030",
                                                                                "csrf_token": "x"})  # fmt: skip
    assert response.status_code in (400, 403)  # a forged token fails first; the role below
    response = post_event(client_as(role), document, code="030")
    assert response.status_code == 403
    assert events.emitted == []


def test_without_an_events_service_the_page_says_so(app_and_db, document):
    page = clerk(app_and_db).get(f"/documentos/{document.id}").get_data(as_text=True)
    assert "Los eventos no están disponibles" in page


# --- Sending --------------------------------------------------------------------------------------------------------


def test_an_action_needs_the_csrf_token(app_and_db, document, events):
    client = clerk(app_and_db)
    response = client.post(f"/documentos/{document.id}/eventos", data={"code": "030"})
    assert response.status_code == 400
    assert "código de seguridad" in response.get_data(as_text=True)
    assert events.emitted == []


def test_030_is_sent_with_the_form_person_then_delivered(app_and_db, document, events):
    client = clerk(app_and_db)
    response = post_event(client, document, code="030", id_type="22", id="998877", first_name="Luis",
                          family_name="Gómez", job_title="Almacenista", department="")  # fmt: skip
    assert response.status_code == 302
    assert response.location.endswith(f"/documentos/{document.id}#resultado")  # the result box, atop the page
    [(document_id, request, actor)] = events.emitted
    assert (document_id, request.code, actor) == (document.id, EventCode.ACUSE_RECIBO, "user:ana")
    assert (request.person.id, request.person.id_type, request.person.first_name) == ("998877", "22", "Luis")
    assert request.person.department is None
    assert events.delivered == ["user:ana"]


def test_a_refusal_is_a_flash_not_an_error(app_and_db, document, events):
    events.refuse = "El evento 030 ya está registrado en esta factura."
    client = clerk(app_and_db)
    response = post_event(client, document, code="030")
    assert response.status_code == 302
    shown = flashes(client, document)
    assert "No se envió el evento 030 (Acuse de recibo): El evento 030 ya está registrado en esta factura." in shown
    assert 'role="alert"' in shown
    assert events.delivered == []


def test_033_asks_for_confirmation_first(app_and_db, document, events):
    client = clerk(app_and_db)
    response = post_event(client, document, code="033")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "¿Confirma la aceptación expresa (033)?" in page
    assert 'name="confirmado" value="1"' in page
    assert "$ 297.500,00" in page
    assert events.emitted == []
    response = post_event(client, document, code="033", confirmado="1")
    assert response.status_code == 302
    assert [r.code for _, r, _ in events.emitted] == [EventCode.ACEPTACION_EXPRESA]


def test_031_needs_a_reason_then_confirmation_and_carries_the_note(app_and_db, document, events):
    client = clerk(app_and_db)
    response = post_event(client, document, code="031", note="Faltan 3 cajas")
    assert response.status_code == 302
    assert "Elija el motivo del reclamo" in flashes(client, document)
    confirm = post_event(client, document, code="031", claim_reason="03", note="Faltan 3 cajas")
    page = confirm.get_data(as_text=True)
    assert "¿Confirma el reclamo (031)?" in page
    assert "03 — Mercancía no entregada parcialmente" in page
    assert 'name="note" value="Faltan 3 cajas"' in page
    assert events.emitted == []
    post_event(client, document, code="031", claim_reason="03", note="Faltan 3 cajas", confirmado="1")
    [(_, request, _)] = events.emitted
    assert (request.claim_reason, request.note) == (ClaimReason.NOT_DELIVERED_PARTIALLY, "Faltan 3 cajas")


def test_unknown_codes_and_half_filled_persons_are_refused(app_and_db, document, events):
    client = clerk(app_and_db)
    assert post_event(client, document, code="034").status_code == 400
    assert post_event(client, document, code="abc").status_code == 400
    response = post_event(client, document, code="032", id="123", first_name="", family_name="")
    assert response.status_code == 302
    assert "necesita número de documento, nombres y apellidos" in flashes(client, document)
    assert events.emitted == []


# --- Bulk -----------------------------------------------------------------------------------------------------------


def bulk(client: Any, action: str, *ids: int) -> Any:
    return client.post("/acciones-masivas", data={"csrf_token": csrf_token(client), "action": action,
                                                  "ids": [str(i) for i in ids]})  # fmt: skip


def test_the_inbox_offers_bulk_actions_to_clerks_only(app_and_db, document, client_as):
    page = clerk(app_and_db).get("/").get_data(as_text=True)
    assert f'<input type="checkbox" name="ids" value="{document.id}" form="acciones-masivas"' in page
    assert "Acusar recibo (030)" in page and "Marcar recibido (030+032)" in page
    assert f'href="/documentos/{document.id}"' in page
    auditor = client_as(Role.AUDITOR).get("/").get_data(as_text=True)
    assert 'name="ids"' not in auditor and "acciones-masivas" not in auditor
    assert bulk(client_as(Role.AUDITOR), "acuse", document.id).status_code == 403


def test_bulk_mark_received_reports_row_by_row(app_and_db, document, events):
    _, session = app_and_db
    other = ReceivedDocument(**{c.key: getattr(document, c.key) for c in ReceivedDocument.__table__.columns
                                if c.key not in ("id", "cufe", "number", "created_at", "updated_at")},
                             cufe="cd" * 48, number="SETP990000008")  # fmt: skip
    session.add(other)
    session.flush()
    session.add(
        DocumentEvent(
            document_id=other.id,
            code=EventCode.ACUSE_RECIBO,
            direction=Direction.EMITTED,
            number="ACU9",
            submission_state=SubmissionState.REGISTERED,
            actor="user:beto",
        )
    )
    session.flush()
    events.allowed["032"] = None
    client = clerk(app_and_db)
    response = bulk(client, "recibido", document.id, other.id, 424242)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    rows = dict(re.findall(r'<tr data-document="(\d+)">(.*?)</tr>', page, re.S))
    assert set(rows) == {str(document.id), str(other.id)}  # an unknown id is left out
    assert rows[str(other.id)].count("Ya enviado antes") == 1  # its 030 was registered already: only 032 now
    sent = [(d, r.code.value) for d, r, _ in events.emitted]
    assert sent == [(document.id, "030"), (document.id, "032"), (other.id, "032")]
    assert all(r.person is not None and r.person.id == "52111222" for _, r, _ in events.emitted)
    assert events.delivered == ["user:ana"]


def test_bulk_refusals_are_shown_per_row(app_and_db, document, events):
    events.allowed["030"] = "La factura es de contado: no admite eventos."
    client = clerk(app_and_db)
    page = bulk(client, "recibido", document.id).get_data(as_text=True)
    assert "No se envió: La factura es de contado: no admite eventos." in page  # refused here, not by DIAN
    assert "No se envió (ver el evento anterior)" in page
    assert events.emitted == []
    empty = bulk(client, "acuse").get_data(as_text=True)
    assert "No seleccionó ningún documento" in empty
    assert bulk(client, "borrar", document.id).status_code == 400


def test_bulk_033_lists_what_will_be_sent_then_sends_it_without_a_person(app_and_db, document, events):
    client = clerk(app_and_db)
    confirm = bulk(client, "aceptar", document.id)
    assert confirm.status_code == 200
    page = confirm.get_data(as_text=True)
    assert document.number in page and 'name="confirmed" value="1"' in page
    assert events.emitted == []  # nothing signed before the second click
    sent = client.post("/acciones-masivas", data={"csrf_token": csrf_token(client), "action": "aceptar",
                                                  "ids": [str(document.id)], "confirmed": "1"})  # fmt: skip
    assert sent.status_code == 200
    assert [(d, r.code, r.person) for d, r, _ in events.emitted] == [(document.id, EventCode.ACEPTACION_EXPRESA, None)]
