"""Four-eyes through the web (issue 20), on SQLite and PostgreSQL with the DIAN simulator over HTTP: the document
page, the bulk action and the API all leave a 033 pending (nothing signed); the requester sees it on "Aprobaciones
pendientes" but cannot approve it, treasury cannot either, another clerk approves it and the page tells what DIAN
said; a refusal needs a reason and the requester reads it; the dashboard counts what waits.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any

import pytest
import sqlalchemy as sa

from buzon import jobs
from buzon.config import ApprovalSettings
from buzon.runtime import event_service
from dian.codes import EventCode
from store.models import Approval, ApprovalState, AuditEntry, DocumentEvent, Role, SubmissionState
from tests.integration.events_fixtures import EventsBed, days_ago
from tests.integration.events_fixtures import events_bed as events_bed  # the fixture, re-exported for these tests
from tests.web.conftest import PASSWORD, csrf_token, password_hash, sign_in
from web.app import create_app
from web.auth import create_user, issue_token

pytestmark = [pytest.mark.integration]


class Office:
    """Buzón with four-eyes on 031/033, three users and one invoice whose 030 and 032 are registered."""

    def __init__(self, bed: EventsBed) -> None:
        settings = dataclasses.replace(bed.settings, approvals=ApprovalSettings(enabled=True, events=("031", "033")))
        bed.settings = settings
        bed.runtime = jobs.configure(settings, engine=bed.runtime.engine)
        self.bed = bed
        self.document_id = bed.receive(at=days_ago(1))
        bed.send(self.document_id, EventCode.ACUSE_RECIBO)
        bed.send(self.document_id, EventCode.RECIBO_BIEN)
        assert bed.deliver()["events"]["registered"] == 2
        self.cufe = bed.document(self.document_id).cufe
        self.app = create_app(settings, engine=bed.runtime.engine,
                              events=lambda sessions: event_service(settings, sessions))  # fmt: skip
        self.clients: dict[str, Any] = {}
        self.tokens: dict[str, str] = {}
        with bed.sessions() as s:
            for name, role, first in (("ana", Role.CLERK, "Ana"), ("beto", Role.CLERK, "Beto"),
                                      ("tere", Role.TREASURY, "Teresa")):  # fmt: skip
                user = create_user(s, name, role=role, password=PASSWORD, password_hash=password_hash(PASSWORD),
                                   actor="test", first_name=first, family_name="Prueba", id_type="13",
                                   id_number="52111222")  # fmt: skip
                s.flush()
                if name == "ana":
                    self.tokens[name] = issue_token(s, user, name="erp", actor="test", now=dt.datetime.now(dt.UTC))[1]
                s.commit()
                s.refresh(user)
                client = self.app.test_client()
                sign_in(self.app, client, user)
                self.clients[name] = (client, csrf_token(client))

    def post(self, who: str, path: str, **form: Any) -> Any:
        client, token = self.clients[who]
        return client.post(path, data={"csrf_token": token, **form})

    def get(self, who: str, path: str) -> str:
        response = self.clients[who][0].get(path)
        assert response.status_code == 200, response.status_code
        return response.get_data(as_text=True)

    def events(self, code: EventCode) -> list[DocumentEvent]:
        with self.bed.sessions() as s:
            return list(s.scalars(sa.select(DocumentEvent).where(DocumentEvent.document_id == self.document_id,
                                                                 DocumentEvent.code == code)))  # fmt: skip

    def approvals(self) -> list[Approval]:
        with self.bed.sessions() as s:
            rows = list(s.scalars(sa.select(Approval).order_by(Approval.id)))
            s.expunge_all()
            return rows

    def audit(self, action: str) -> list[AuditEntry]:
        with self.bed.sessions() as s:
            return list(s.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


@pytest.fixture
def office(events_bed) -> Office:
    return Office(events_bed)


def _result(page: str) -> str:
    found = re.search(r'(<section id="resultado".*?</section>)', page, re.S)
    return found.group(1) if found else ""


def _card(page: str, approval_id: int) -> str:
    found = re.search(rf'(<li class="approval[^"]*" data-approval="{approval_id}".*?</li>)', page, re.S)
    return found.group(1) if found else ""


def test_no_door_signs_it_the_requester_cannot_approve_and_a_second_clerk_gets_it_registered(office) -> None:
    doc, cufe = office.document_id, office.cufe
    # The document page: a pending approval, said in the result box; nothing signed.
    response = office.post("ana", f"/documentos/{doc}/eventos", code="033", confirmado="1")
    assert response.status_code == 302
    page = office.get("ana", f"/documentos/{doc}")
    box = _result(page)
    assert "Pendiente de aprobación" in box and "Aprobaciones pendientes" in box
    waiting = re.search(r'<section class="notice approvals-waiting".*?</section>', page, re.S)
    assert waiting and "Aceptación expresa (033)" in waiting.group(0) and "No se ha" in waiting.group(0)
    assert office.events(EventCode.ACEPTACION_EXPRESA) == []
    [waiting] = office.approvals()
    assert (waiting.state, waiting.requested_by, waiting.code) == (ApprovalState.PENDING, "user:ana",
                                                                   EventCode.ACEPTACION_EXPRESA)  # fmt: skip
    # Bulk: the same request (not a second one), shown as pending approval.
    page = office.post("ana", "/acciones-masivas", action="aceptar", ids=str(doc), confirmed="1").get_data(as_text=True)
    assert "pendientes de aprobación" in page and f"n.º {waiting.id}" in page
    # The API: 202, the request that waits.
    client = office.app.test_client()
    answer = client.post(f"/api/v1/documents/{cufe}/events", json={"code": "033"},
                         headers={"Authorization": f"Bearer {office.tokens['ana']}"})  # fmt: skip
    assert answer.status_code == 202, answer.get_json()
    assert answer.get_json()["approval"] == {"id": waiting.id, "state": "pending", "code": "033"}
    # A claim (031) is held too, its own request.
    office.post("ana", f"/documentos/{doc}/eventos", code="031", claim_reason="01", note="Precio distinto",
                confirmado="1")  # fmt: skip
    assert office.events(EventCode.ACEPTACION_EXPRESA) == [] and office.events(EventCode.RECLAMO) == []
    assert len(office.approvals()) == 2 and len(office.audit("approval.requested")) == 2

    # The dashboard counts them.
    assert "2</strong> eventos pendientes de aprobación" in office.get("beto", "/resumen")
    # The requester sees hers, without the buttons, and cannot approve by posting anyway.
    mine = _card(office.get("ana", "/aprobaciones"), waiting.id)
    assert "Usted lo pidió" in mine and "aprobar-" not in mine
    office.post("ana", f"/aprobaciones/{waiting.id}/aprobar")
    assert "Quien pidió el evento no puede aprobarlo" in _result(office.get("ana", "/aprobaciones"))
    # Treasury is not a role that sends 033: the service refuses it (the page may be posted to, for titles).
    assert office.post("tere", f"/aprobaciones/{waiting.id}/aprobar").status_code == 302
    assert "Solo un usuario activo de cuentas por pagar" in _result(office.get("tere", "/aprobaciones"))
    assert "aprobar-" not in _card(office.get("tere", "/aprobaciones"), waiting.id)
    assert office.approvals()[0].state is ApprovalState.PENDING and office.events(EventCode.ACEPTACION_EXPRESA) == []

    # Beto approves: signed, sent to the simulator, registered; the page says so where he looks.
    card = _card(office.get("beto", "/aprobaciones"), waiting.id)
    assert f'id="aprobar-{waiting.id}"' in card and "Precio distinto" not in card
    response = office.post("beto", f"/aprobaciones/{waiting.id}/aprobar")
    assert response.status_code == 302 and response.location.endswith("/aprobaciones#resultado")
    page = office.get("beto", "/aprobaciones")
    box = _result(page)
    assert 'data-kind="registered"' in box and "registrado por la DIAN" in box, box
    [event] = office.events(EventCode.ACEPTACION_EXPRESA)
    assert event.submission_state is SubmissionState.REGISTERED and event.actor == "user:beto"
    done = office.approvals()[0]
    assert (done.state, done.decided_by, done.event_id) == (ApprovalState.SENT, "user:beto", event.id)
    assert "Aprobada y enviada" in _card(page, waiting.id)
    for action in ("approval.approved", "approval.sent"):
        assert len(office.audit(action)) == 1


def test_a_refusal_needs_a_reason_and_the_requester_reads_it(office) -> None:
    office.post("ana", f"/documentos/{office.document_id}/eventos", code="033", confirmado="1")
    [waiting] = office.approvals()
    office.post("beto", f"/aprobaciones/{waiting.id}/rechazar", motivo="  ")
    assert "Escriba el motivo del rechazo" in _result(office.get("beto", "/aprobaciones"))
    assert office.approvals()[0].state is ApprovalState.PENDING
    office.post("beto", f"/aprobaciones/{waiting.id}/rechazar", motivo="Falta la orden de compra firmada.")
    refused = office.approvals()[0]
    assert (refused.state, refused.decision_note) == (ApprovalState.REFUSED, "Falta la orden de compra firmada.")
    card = _card(office.get("ana", "/aprobaciones"), waiting.id)
    assert "Rechazada" in card and "Falta la orden de compra firmada." in card and "Beto Prueba" in card
    assert office.events(EventCode.ACEPTACION_EXPRESA) == []
    assert len(office.audit("approval.refused")) == 1


def test_an_approval_during_a_dian_outage_is_queued_and_says_it_will_retry(office) -> None:
    office.post("ana", f"/documentos/{office.document_id}/eventos", code="033", confirmado="1")
    [waiting] = office.approvals()
    office.bed.world.simulator.faults.add("SendEventUpdateStatus", "http503", count=None)
    office.post("beto", f"/aprobaciones/{waiting.id}/aprobar")
    box = _result(office.get("beto", "/aprobaciones"))
    assert 'data-kind="queued"' in box and "se reintentará" in box and "HTTP 503" in box, box
    [event] = office.events(EventCode.ACEPTACION_EXPRESA)
    assert event.submission_state is SubmissionState.SEND_FAILED
    assert office.approvals()[0].state is ApprovalState.SENT  # signed and queued: the outbox sends it when DIAN is back
    office.bed.world.simulator.faults.clear()
    office.post("beto", f"/documentos/{office.document_id}/reintentar")  # "Reintentar ahora"
    [event] = office.events(EventCode.ACEPTACION_EXPRESA)
    assert event.submission_state is SubmissionState.REGISTERED
