"""The document page's failure paths through the Flask test client with the real events service, the DIAN simulator over
HTTP, on SQLite and on PostgreSQL: a DIAN outage queued and retried, a rejection explained, "Consultar en DIAN"
answered and failing, comments refused; plus the Spanish explanations themselves.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from markupsafe import escape

from buzon.runtime import event_service
from store.models import AuditEntry, DocumentComment, Role, SubmissionState
from tests.integration.dian_fixtures import BUYER_SW
from tests.integration.events_fixtures import days_ago
from tests.integration.events_fixtures import events_bed as events_bed  # the fixture, re-exported for these tests
from tests.web.conftest import PASSWORD, csrf_token, password_hash, sign_in
from web.app import create_app
from web.auth import create_user
from web.dian_rules_es import RULES, explain, explain_all

pytestmark = [pytest.mark.integration, pytest.mark.slow]


class Clerk:
    def __init__(self, bed: Any) -> None:
        self.bed = bed
        self.document_id = bed.receive(at=days_ago(1))
        with bed.sessions() as s:
            user = create_user(s, "ana", role=Role.CLERK, password=PASSWORD, password_hash=password_hash(PASSWORD),
                               actor="test", first_name="Ana", family_name="Torres", id_number="52111222")  # fmt: skip
            s.commit()
            s.refresh(user)
            app = create_app(bed.settings, engine=bed.runtime.engine,
                             events=lambda sessions: event_service(bed.settings, sessions))  # fmt: skip
            self.client = app.test_client()
            sign_in(app, self.client, user)
        self.token = csrf_token(self.client)

    def post(self, path: str, **form: str) -> Any:
        response = self.client.post(f"/documentos/{self.document_id}{path}", data={"csrf_token": self.token, **form})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        assert response.location.endswith(f"/documentos/{self.document_id}#resultado")
        return response

    def result(self) -> str:
        page = self.client.get(f"/documentos/{self.document_id}").get_data(as_text=True)
        found = re.search(r'(<section id="resultado".*?</section>)', page, re.S)
        return found.group(1) if found else ""

    def audit(self, action: str) -> list[AuditEntry]:
        with self.bed.sessions() as s:
            return list(s.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


@pytest.fixture
def clerk(events_bed) -> Clerk:
    return Clerk(events_bed)


def test_outage_is_queued_then_retry_now_registers_it(clerk):
    faults = clerk.bed.world.simulator.faults
    faults.add("SendEventUpdateStatus", "http503", count=None)
    clerk.post("/eventos", code="030")
    box = clerk.result()
    assert 'data-kind="queued"' in box and 'role="status"' in box and "data-focus" in box
    assert "la DIAN no respondió; se reintentará a" in box and "HTTP 503 (servicio no disponible)" in box
    assert "Reintentar ahora" in box
    (event,) = clerk.bed.events(clerk.document_id)
    assert event.submission_state is SubmissionState.SEND_FAILED
    # Still DIAN down: the retry is audited, and the event stays queued, said again.
    clerk.post("/reintentar")
    assert 'data-kind="queued"' in clerk.result()
    assert clerk.bed.events(clerk.document_id)[0].attempts == 2
    faults.clear()
    clerk.post("/reintentar")
    box = clerk.result()
    assert 'data-kind="registered"' in box and "registrado por la DIAN" in box
    (event,) = clerk.bed.events(clerk.document_id)
    assert event.submission_state is SubmissionState.REGISTERED and event.attempts == 3
    assert len(clerk.audit("event.030.retry_requested")) == 2
    assert len(clerk.audit("event.030.registered")) == 1
    # Nothing queued any more: saying so is not an error.
    clerk.post("/reintentar")
    assert "nada que reintentar" in clerk.result()


def test_a_rejection_is_explained_and_acuse_y_recibo_stops_before_the_032(clerk):
    clerk.bed.world.simulator.seed(
        {"software": [{"id": BUYER_SW.software_id, "pin": "99999", "provider_nit": BUYER_SW.provider_nit}]}
    )
    clerk.post("/acuse-y-recibo")
    box = clerk.result()
    assert 'data-kind="rejected"' in box and 'role="alert"' in box
    assert 'data-rule="AAB27b"' in box and "dian.software_pin" in box
    assert "no se envió porque la DIAN rechazó el acuse de recibo (030)" in box
    assert [(e.code.value, e.submission_state) for e in clerk.bed.events(clerk.document_id)] == [
        ("030", SubmissionState.REJECTED)
    ]


def test_consultar_en_dian_keeps_the_answer_and_says_when_dian_cannot_be_asked(clerk):
    faults = clerk.bed.world.simulator.faults
    faults.add("GetStatus", "http503")
    clerk.post("/consulta-dian")
    box = clerk.result()
    assert 'data-kind="error"' in box and 'role="alert"' in box
    assert "No se pudo consultar la DIAN: el servicio de la DIAN respondió HTTP 503" in box
    assert len(clerk.audit("document.dian.status_failed")) == 1
    clerk.post("/consulta-dian")
    box = clerk.result()
    assert 'data-kind="registered"' in box and "código 00" in box
    (entry,) = clerk.audit("document.dian.status_checked")
    assert entry.data["status_code"] == "00" and entry.data["answer_blob"]
    page = clerk.client.get(f"/documentos/{clerk.document_id}").get_data(as_text=True)
    link = re.search(rf'href="(/documentos/{clerk.document_id}/consulta-dian/{entry.id})"', page)
    assert link is not None
    answer = clerk.client.get(link.group(1))
    assert answer.status_code == 200 and b"ApplicationResponse" in answer.data


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("   ", "está vacío"),
        ("x" * 2001, "tiene 2001 caracteres; el máximo es 2000"),
        ("hola\u0001mundo", "U+0001"),
        ("nulo\u0000", "U+0000"),
    ],
)
def test_bad_comments_are_refused_with_a_message_and_nothing_is_kept(clerk, body, says):
    clerk.post("/comentarios", body=body)
    page = clerk.client.get(f"/documentos/{clerk.document_id}").get_data(as_text=True)
    box = re.search(r'(<section id="resultado".*?</section>)', page, re.S).group(1)
    assert 'role="alert"' in box and says in box
    if body.strip():  # the refused text is given back to the form, to be corrected
        assert f"required>{escape(body[:4000])}</textarea>" in page
    with clerk.bed.sessions() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(DocumentComment)) == 0
    assert clerk.audit("document.comment.added") == []


def test_a_comment_is_kept_listed_and_audited(clerk):
    clerk.post("/comentarios", body="Llamar a Pedro: falta la OC.\r\nSegunda línea\tcon tabulador")
    assert "Comentario guardado" in clerk.result()
    page = clerk.client.get(f"/documentos/{clerk.document_id}").get_data(as_text=True)
    assert "Llamar a Pedro: falta la OC.\nSegunda línea\tcon tabulador" in page
    (entry,) = clerk.audit("document.comment.added")
    assert entry.actor == "user:ana" and entry.data["document_id"] == clerk.document_id


def test_assignment_from_the_page_refuses_strangers(clerk):
    clerk.post("/asignacion", username="yo")
    assert "Documento asignado a ana" in clerk.result()
    clerk.post("/asignacion", username="nadie")
    box = clerk.result()
    assert 'role="alert"' in box and "No existe el usuario «nadie»" in box
    assert clerk.bed.document(clerk.document_id).assigned_to == "ana"
    assert len(clerk.audit("document.assigned")) == 1


# --- The Spanish explanations (pure) --------------------------------------------------------------------------------


def test_known_rules_are_explained_and_unknown_ones_keep_dian_s_text():
    known = explain("Regla: DC24c, Rechazo: Fuera de plazo para aceptar.")
    assert (known.rule, known.known, known.is_rejection) == ("DC24c", True, True)
    assert "3 días hábiles" in known.meaning and "aceptación tácita" in known.next_step
    assert known.text == "Fuera de plazo para aceptar."
    unknown = explain("Regla: ZZ99, Rechazo: Algo nuevo de la DIAN.")
    assert unknown.known is False and unknown.text == "Algo nuevo de la DIAN." and "administrador" in unknown.next_step
    free = explain("Un texto sin regla")
    assert free.rule is None and free.text == "Un texto sin regla"
    notice = explain_all(["Regla: RUT01, Notificación: El RUT…", "Regla: LGC01, Rechazo: Ya registrado"])
    assert [e.rule for e in notice] == ["LGC01", "RUT01"]  # what blocked it first


def test_every_rule_dian_rules_and_the_simulator_give_for_030_033_is_in_the_table():
    import inspect

    from dian.codes import EventCode
    from dian.rules import RULES as EVENT_RULES
    from dian.simulator import replies
    from dian.simulator.events import EventDesk

    codes: set[str] = {"LGC62"}  # credit_only (dian.rules.check)
    for code in (EventCode.ACUSE_RECIBO, EventCode.RECLAMO, EventCode.RECIBO_BIEN, EventCode.ACEPTACION_EXPRESA):
        rule = EVENT_RULES[code]
        codes |= {rule.sender_rule, rule.requires_any_rule, rule.window_rule, rule.duplicate_rule}
        codes |= {r for _, r in (*rule.requires, *rule.excluded_by)} | {a.rule for a in rule.after}
    source = "".join(
        inspect.getsource(f)
        for f in (EventDesk.process, EventDesk._rules, replies.signing_time_problem, replies.fingerprint_problem)
    )
    codes |= set(re.findall(r'_rule\("([A-Za-z0-9]+)"', source)) - {"SIM40"}  # SIM40: not an event at all
    if "_processed_before(" in source:  # Regla 90's answer, built in dian/simulator/replies.py
        codes.add(re.search(r'PROCESSED_BEFORE = _rule\("([0-9]+)"', inspect.getsource(replies)).group(1))
    codes.discard(None)  # type: ignore[arg-type]
    assert {"AAB27b", "DC24c", "LGC09", "SIM42", "90"} <= codes  # the derivation finds them
    missing = sorted(c for c in codes if c not in RULES)
    assert missing == [], missing

