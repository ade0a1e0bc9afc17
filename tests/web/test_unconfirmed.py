""""Validación DIAN sin confirmar" wherever a clerk or an auditor looks (DESIGN.md 5a): the labels, the document page's
amber banner and its check list, the inbox's filter and badge, the JSON API and its OpenAPI description, and our events
that DIAN answers 98/66 for; on SQLite and PostgreSQL."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from dian.codes import DocumentState, EventCode
from store.models import Direction, DocumentEvent, MailMessage, MailStatus, Role, SubmissionState, Verdict
from tests.web.test_api import token_for  # noqa: F401 - a fixture
from tests.web.test_inbox_page import add_document
from web.document_labels import NOT_FINAL_LABEL, UNRESOLVED_LABEL
from web.labels import STATE_LABELS, VERDICT_LABELS, dian_validated
from web.openapi import openapi_document

pytestmark = pytest.mark.integration

BANNER = 'id="sin-confirmar"'


def _text(page: str) -> str:
    """The page's visible text, tags dropped and whitespace squeezed (for sentences split across lines)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


@pytest.fixture
def unconfirmed(app_and_db):
    """A bare invoice whose signatures verify, with no DIAN answer: validación DIAN sin confirmar."""
    _, session = app_and_db
    mail = MailMessage(mailbox="INBOX", sender="facturas@proveedor.test", subject="900000001;PROVEEDOR;FE1;01",
                       received_at=datetime(2025, 3, 3, 14, tzinfo=UTC), blob_key="c" * 64,
                       status=MailStatus.FILED)  # fmt: skip
    session.add(mail)
    session.flush()
    return add_document(
        session,
        1,
        verdict=Verdict.UNCONFIRMED,
        state=DocumentState.UNCONFIRMED,
        mail_message_id=mail.id,
        report={
            "checks": [
                {"name": "document.signature", "outcome": "pass", "detail": "firma válida"},
                {"name": "document.certificate.chain", "outcome": "warn", "detail": "CA no configurada"},
            ]
        },
    )


@pytest.fixture
def forged_answer(app_and_db):
    """An invoice whose "DIAN" answer says 02, signed by a certificate nobody can tie to DIAN."""
    _, session = app_and_db
    return add_document(
        session,
        2,
        verdict=Verdict.UNCONFIRMED,
        state=DocumentState.UNCONFIRMED,
        dian_response_blob="d" * 64,
        report={
            "checks": [
                {"name": "document.signature", "outcome": "pass", "detail": "firma válida"},
                {"name": "dian.response", "outcome": "pass", "detail": "Documento validado por la DIAN (código 02)"},
            ]
        },
    )


def test_labels_in_spanish():
    assert VERDICT_LABELS["unconfirmed"] == "Validación DIAN sin confirmar"
    assert STATE_LABELS[DocumentState.UNCONFIRMED] == "Sin confirmar"
    assert all(state in STATE_LABELS for state in DocumentState)  # no state shows as its code
    assert all(verdict.value in VERDICT_LABELS for verdict in Verdict)
    assert [v for v in Verdict if dian_validated(v)] == [Verdict.VALID, Verdict.VALID_WITH_WARNINGS]


def test_the_document_page_warns_in_amber_and_says_what_to_do(app_and_db, client_as, unconfirmed):
    page = client_as(Role.CLERK).get(f"/documentos/{unconfirmed.id}").get_data(as_text=True)
    assert 'class="verdict-badge verdict-unconfirmed">Verificación: Validación DIAN sin confirmar<' in page
    assert 'class="state state-unconfirmed" id="estado">Sin confirmar<' in page
    assert BANNER in page and 'class="banner-unconfirmed"' in page
    text = _text(page)
    assert "Las firmas del documento verifican, pero no está probado que la DIAN lo haya validado." in text
    assert "no trae la respuesta de validación de la DIAN" in text
    assert "ningún evento automático actuará sobre este documento" in text
    # What the clerk can do: ask DIAN (its public catalogue, by CUFE), wait for the retry, ask the supplier.
    assert f"https://catalogo-vpfe.dian.gov.co/document/searchqr?documentkey={unconfirmed.cufe}" in page
    assert "Esperar el reintento" in text
    assert "dian.online_check" in text  # off in these settings: the banner says so
    assert "Pedir al proveedor" in text and 'href="mailto:facturas@proveedor.test"' in page
    # The check list: DIAN's validation is a warning row, never a pass.
    rows = re.findall(r'<tr class="check check-(\w+)">\s*<td[^>]*>.</td>\s*<td title="([^"]+)">', page)
    assert ("warn", "dian.response") in rows
    assert ("pass", "dian.response") not in rows
    assert "1 correcta, 2 advertencias, 0 fallas." in text


def test_an_answer_not_tied_to_dian_is_a_warning_not_a_pass(app_and_db, client_as, forged_answer):
    page = client_as(Role.AUDITOR).get(f"/documentos/{forged_answer.id}").get_data(as_text=True)
    assert BANNER in page
    assert "firmada con un certificado que Buzón no puede atribuir a la DIAN" in _text(page)
    (row,) = re.findall(r'<tr class="check check-(\w+)">\s*<td[^>]*>.</td>\s*<td title="dian.response">.*?</tr>', page,
                        re.DOTALL)  # fmt: skip
    assert row == "warn"
    assert "su firma no se pudo atribuir a la DIAN" in page
    assert "Acciones" not in page  # the auditor reads only


def test_a_proven_document_has_no_banner(app_and_db, client_as):
    _, session = app_and_db
    report = {"checks": [{"name": "dian.response", "outcome": "pass", "detail": "código 02"}]}
    doc = add_document(session, 3, verdict=Verdict.VALID, state=DocumentState.VALIDATED, report=report)
    page = client_as(Role.CLERK).get(f"/documentos/{doc.id}").get_data(as_text=True)
    assert BANNER not in page and "sin confirmar" not in page
    assert '<tr class="check check-pass">' in page


def test_the_inbox_filters_by_it_and_shows_its_own_badge(app_and_db, client_as, unconfirmed):
    _, session = app_and_db
    add_document(session, 5, verdict=Verdict.VALID, state=DocumentState.VALIDATED)
    add_document(session, 6, verdict=Verdict.VALID_WITH_WARNINGS, state=DocumentState.ACKNOWLEDGED)
    # A clerk's 030 sent by hand: its state moved on, its verdict is still unconfirmed.
    add_document(session, 7, verdict=Verdict.UNCONFIRMED, state=DocumentState.ACKNOWLEDGED)
    client = client_as(Role.TREASURY)
    page = client.get("/").get_data(as_text=True)
    assert page.count('class="verdict-tag verdict-unconfirmed"') == 2
    assert "Validación DIAN sin confirmar</span>" in page
    assert '<option value="unconfirmed">Validación DIAN sin confirmar</option>' in page  # the filter's option

    filtered = client.get("/?verdict=unconfirmed").get_data(as_text=True)
    assert re.findall(r'data-label="Número">(FE\d+) <a', filtered) == ["FE7", "FE1"]
    assert '<option value="unconfirmed" selected>' in filtered
    assert "/exportar.csv?verdict=unconfirmed" in filtered
    by_state = client.get("/?status=unconfirmed").get_data(as_text=True)
    assert re.findall(r'data-label="Número">(FE\d+) <a', by_state) == ["FE1"]
    assert '<option value="unconfirmed" selected>Sin confirmar</option>' in by_state
    both = client.get("/?verdict=valid,valid_with_warnings").get_data(as_text=True)
    assert re.findall(r'data-label="Número">(FE\d+) <a', both) == ["FE6", "FE5"]
    refused = client.get("/?verdict=dudosa")
    assert refused.status_code == 400 and "Verificación: verificación desconocida" in refused.get_data(as_text=True)

    csv = client.get("/exportar.csv?verdict=unconfirmed").get_data().decode("utf-8-sig")
    assert csv.count("Validación DIAN sin confirmar") == 2


def test_the_api_returns_the_verdict_and_dian_validated(app_and_db, token_for, unconfirmed):  # noqa: F811
    _, session = app_and_db
    valid = add_document(session, 5, verdict=Verdict.VALID, state=DocumentState.VALIDATED)
    add_document(session, 6, verdict=Verdict.VALID_WITH_WARNINGS, payable_amount=Decimal("10.00"))
    add_document(session, 8, verdict=Verdict.INVALID, state=DocumentState.INVALID)
    client = app_and_db[0].test_client()
    auth = token_for(Role.TREASURY)
    listed = client.get("/api/v1/documents", headers=auth).get_json()["documents"]
    seen = {d["number"]: (d["verdict"], d["dian_validated"]) for d in listed}
    assert seen == {
        "FE1": ("unconfirmed", False),
        "FE5": ("valid", True),
        "FE6": ("valid_with_warnings", True),
        "FE8": ("invalid", False),
    }
    one = client.get(f"/api/v1/documents/{unconfirmed.cufe}", headers=auth).get_json()
    assert (one["verdict"], one["dian_validated"], one["state"]) == ("unconfirmed", False, "unconfirmed")
    assert one["verdict_label"] == "Validación DIAN sin confirmar"
    assert one["state_label"] == "Sin confirmar"
    assert client.get(f"/api/v1/documents/{valid.cufe}", headers=auth).get_json()["dian_validated"] is True
    only = client.get("/api/v1/documents?verdict=unconfirmed", headers=auth).get_json()["documents"]
    assert [d["number"] for d in only] == ["FE1"]
    bad = client.get("/api/v1/documents?verdict=x", headers=auth)
    assert bad.status_code == 400 and bad.get_json()["error"] == "bad_request"


def test_openapi_documents_the_verdict_dian_validated_and_the_filter():
    spec = openapi_document()
    summary = spec["components"]["schemas"]["DocumentSummary"]["properties"]
    assert "unconfirmed" in summary["verdict"]["enum"]
    assert "sin confirmar" in summary["verdict"]["description"]
    assert summary["dian_validated"]["type"] == "boolean"
    assert "valid_with_warnings" in summary["dian_validated"]["description"]
    (listing,) = [op for path, item in spec["paths"].items() if path.endswith("/documents") for op in item.values()]
    (param,) = [p for p in listing["parameters"] if p["name"] == "verdict"]
    assert param["schema"]["items"]["enum"] == [v.value for v in Verdict]


def _event(session, doc, *, state, code="98", next_at=None, error="DIAN aún procesa el evento (98 En Proceso)"):
    event = DocumentEvent(document_id=doc.id, code=EventCode.ACUSE_RECIBO, direction=Direction.EMITTED,
                          number="ACU1", cude=f"{doc.id:096x}", referenced_cufe=doc.cufe, submission_state=state,
                          dian_status_code=code, next_attempt_at=next_at, last_error=error, attempts=3,
                          signing_time=datetime(2025, 3, 3, 15, tzinfo=UTC), actor="user:ana")  # fmt: skip
    session.add(event)
    session.flush()
    return event


def test_an_event_dian_answers_98_for_says_so_and_once_unresolved_asks_for_review(app_and_db, client_as):
    _, session = app_and_db
    retrying = add_document(session, 10, state=DocumentState.VALIDATED)
    _event(session, retrying, state=SubmissionState.SEND_FAILED, next_at=datetime(2030, 1, 1, tzinfo=UTC))
    page = client_as(Role.CLERK).get(f"/documentos/{retrying.id}").get_data(as_text=True)
    assert f'class="sub-state sub-not_final">{NOT_FINAL_LABEL}<' in page
    assert "DIAN aún procesa el evento (98 En Proceso)" in page
    assert "La DIAN lo recibió pero no ha decidido (98 en proceso)." in page  # from the status code, not the text

    stuck = add_document(session, 11, state=DocumentState.VALIDATED)
    _event(session, stuck, state=SubmissionState.SEND_FAILED, code="66",
           error="… sin respuesta definitiva de la DIAN tras 8 intentos; ya no se envía automáticamente.")  # fmt: skip
    page = client_as(Role.AUDITOR).get(f"/documentos/{stuck.id}").get_data(as_text=True)
    assert f'class="sub-state sub-unresolved">{UNRESOLVED_LABEL}<' in page
    assert "ya no se consulta sola" in page  # said in Spanish atop the page, not the outbox's raw error
    assert "Tras 3 intentos la DIAN sigue sin decidir (66 no encontrado o el lote aún se está validando)" in page


def test_the_api_says_which_events_are_unresolved(app_and_db, token_for):  # noqa: F811
    _, session = app_and_db
    retrying, stuck = add_document(session, 10), add_document(session, 11)
    _event(session, retrying, state=SubmissionState.SEND_FAILED, next_at=datetime(2030, 1, 1, tzinfo=UTC))
    _event(session, stuck, state=SubmissionState.SEND_FAILED, code="66")
    client, auth = app_and_db[0].test_client(), token_for(Role.AUDITOR)
    (first,) = client.get(f"/api/v1/documents/{retrying.cufe}", headers=auth).get_json()["events"]
    (second,) = client.get(f"/api/v1/documents/{stuck.cufe}", headers=auth).get_json()["events"]
    assert (first["submission_state"], first["dian_status_code"], first["unresolved"]) == ("send_failed", "98", False)
    assert (second["submission_state"], second["dian_status_code"], second["unresolved"]) == ("send_failed", "66", True)
    event_schema = openapi_document()["components"]["schemas"]["Event"]["properties"]
    assert event_schema["unresolved"]["type"] == "boolean"
