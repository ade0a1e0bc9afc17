"""The JSON API under /api/v1 on SQLite and PostgreSQL: the document list with the inbox's filters, one document,
sending events (with a stand-in events service: the HTTP contract), the OpenAPI document, and real HTTP."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from dian.codes import DocumentState, EventCode
from dian.rules import Decision
from events.emit import BUYER_EVENTS, EventRefused
from store.models import Direction, DocumentEvent, Role, SubmissionState
from tests.services import free_port
from tests.web.conftest import add_user
from tests.web.test_inbox_page import add_document
from web.auth import issue_token
from web.openapi import openapi_document

pytestmark = pytest.mark.integration


@pytest.fixture
def token_for(app_and_db):
    """token_for(role, **profile) -> the Authorization header of a new user of that role."""
    app, session = app_and_db

    def make(role: Role, **profile) -> dict[str, str]:
        user = add_user(session, f"api-{role}-{len(profile)}", role, **profile)
        with app.app_context():
            _, raw = issue_token(session, user, name="ERP", actor="test", now=datetime.now(UTC))
        session.flush()
        return {"Authorization": f"Bearer {raw}"}

    return make


@pytest.fixture
def docs(app_and_db):
    _, session = app_and_db
    return [
        add_document(session, n, payable_amount=Decimal(n * 1000), issuer_nit="900000001" if n % 2 else "800000002")
        for n in range(1, 8)
    ]


def test_list_with_filters_and_keyset_pages(app_and_db, token_for, docs):
    client = app_and_db[0].test_client()
    auth = token_for(Role.TREASURY)
    first = client.get("/api/v1/documents?supplier=900000001&limit=2", headers=auth)
    assert first.status_code == 200
    body = first.json
    assert [d["number"] for d in body["documents"]] == ["FE7", "FE5"]
    doc = body["documents"][0]
    assert doc["payable_amount"] == "7000.00"
    assert doc["issuer"] == {"nit": "900000001", "dv": None, "name": "Proveedor 7 S.A.S."}
    assert doc["state"] == "validated"
    assert doc["url"] == f"/api/v1/documents/{docs[6].cufe}"
    seen = [d["number"] for d in body["documents"]]
    cursor = body["next_cursor"]
    while cursor:
        page = client.get("/api/v1/documents", query_string={"supplier": "900000001", "limit": 2, "cursor": cursor},
                          headers=auth).json  # fmt: skip
        seen += [d["number"] for d in page["documents"]]
        cursor = page["next_cursor"]
    assert seen == ["FE7", "FE5", "FE3", "FE1"]
    by_amount = client.get("/api/v1/documents?sort=amount&max_amount=3000", headers=auth).json
    assert [d["number"] for d in by_amount["documents"]] == ["FE1", "FE2", "FE3"]
    assert by_amount["next_cursor"] is None


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=201", "limit=x", "status=pagada", "cursor=roto", "sort=azar", "from=ayer"]
)
def test_bad_list_parameters_are_a_json_400(app_and_db, token_for, query):
    response = app_and_db[0].test_client().get(f"/api/v1/documents?{query}", headers=token_for(Role.AUDITOR))
    assert response.status_code == 400
    assert response.json["error"] == "bad_request"
    assert response.json["message"]


def test_one_document_with_report_and_events(app_and_db, token_for, docs):
    app, session = app_and_db
    doc = docs[2]
    doc.report = {"verdict": "valid", "checks": [{"name": "cufe", "outcome": "pass", "detail": "ok"}]}
    event = DocumentEvent(document=doc, code=EventCode.ACUSE_RECIBO, direction=Direction.EMITTED, number="ACU9",
                          cude="c" * 96, submission_state=SubmissionState.REGISTERED, actor="user:ana")  # fmt: skip
    session.add(event)
    session.flush()
    response = app.test_client().get(f"/api/v1/documents/{doc.cufe.upper()}", headers=token_for(Role.AUDITOR))
    assert response.status_code == 200
    body = response.json
    assert body["cufe"] == doc.cufe
    assert body["report"]["checks"][0]["name"] == "cufe"
    assert body["totals"]["tax_inclusive_amount"] == "119.00"
    assert [(e["code"], e["number"], e["submission_state"]) for e in body["events"]] == [("030", "ACU9", "registered")]
    assert body["actions"] is None  # no events service in this app
    missing = app.test_client().get(f"/api/v1/documents/{'f' * 96}", headers=token_for(Role.CLERK))
    assert missing.status_code == 404
    assert missing.json["error"] == "not_found"
    assert "CUFE" in missing.json["message"]


# --- Sending events ------------------------------------------------------------------------------------------------


@dataclass
class StandIn:
    """The events service's surface (decisions, emit, deliver_now) over the test's session, DIAN always agreeing."""

    session: object
    refuse: dict[EventCode, Decision] = field(default_factory=dict)
    emit_refusal: EventRefused | None = None
    calls: list[tuple] = field(default_factory=list)

    def decisions(self, session, document):
        return [(code, self.refuse.get(code, Decision(allowed=True, reason=""))) for code in sorted(BUYER_EVENTS)]

    def emit(self, document_id, request, *, actor, source=None):
        self.calls.append(("emit", document_id, request, actor))
        if self.emit_refusal is not None:
            raise self.emit_refusal
        event = DocumentEvent(document_id=document_id, code=request.code, direction=Direction.EMITTED,
                              number=f"ACU{len(self.calls)}", cude=f"{len(self.calls):096x}", actor=actor,
                              submission_state=SubmissionState.SIGNED, signing_time=datetime.now(UTC))  # fmt: skip
        self.session.add(event)
        self.session.flush()
        return SimpleNamespace(id=event.id, number=event.number)

    def deliver_now(self, *, actor):
        self.calls.append(("deliver_now", actor))
        for event in self.session.scalars(sa.select(DocumentEvent).where(DocumentEvent.submission_state == "signed")):
            event.submission_state = SubmissionState.REGISTERED
            event.registered_at = datetime.now(UTC)
        self.session.flush()
        return SimpleNamespace()


@pytest.fixture
def events(app_and_db):
    app, session = app_and_db
    service = StandIn(session)
    app.extensions["buzon.events"] = service
    return service


def test_a_clerk_sends_030_with_their_own_profile_as_the_person(app_and_db, token_for, docs, events):
    client = app_and_db[0].test_client()
    auth = token_for(Role.CLERK, id_number="1020304050", first_name="Ana", family_name="Pérez", job_title="Auxiliar")
    response = client.post(f"/api/v1/documents/{docs[0].cufe}/events", json={"code": "030"}, headers=auth)
    assert response.status_code == 201, response.json
    assert response.json["submission_state"] == "registered"
    assert response.json["event"]["code"] == "030"
    assert response.json["delivered_now"] is True
    assert response.headers["Location"] == f"/api/v1/documents/{docs[0].cufe}"
    (_, document_id, request, actor), deliver = events.calls
    assert document_id == docs[0].id
    assert (request.person.id, request.person.first_name, request.person.job_title) == ("1020304050", "Ana", "Auxiliar")
    assert actor.startswith("user:api-clerk")
    assert deliver == ("deliver_now", actor)


def test_a_claim_carries_its_reason_note_and_explicit_person_rules(app_and_db, token_for, docs, events):
    client = app_and_db[0].test_client()
    auth = token_for(Role.CLERK)
    body = {"code": "031", "claim_reason": "02", "note": "Faltaron 3 cajas"}
    assert client.post(f"/api/v1/documents/{docs[1].cufe}/events", json=body, headers=auth).status_code == 201
    request = events.calls[0][2]
    assert (request.code, request.claim_reason.value, request.note) == (EventCode.RECLAMO, "02", "Faltaron 3 cajas")
    person = {"id": "79000111", "first_name": "Luis", "family_name": "Gómez", "id_type": "22"}
    sent = client.post(f"/api/v1/documents/{docs[1].cufe}/events", json={"code": "032", "person": person},
                       headers=auth)  # fmt: skip
    assert sent.status_code == 201
    assert events.calls[2][2].person.id_type == "22"


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {"code": "999"},
        {"code": 30},
        {"code": "030", "extra": 1},
        {"code": "031", "claim_reason": "09"},
        {"code": "030", "person": {"id": "1"}},
        {"code": "030", "person": {"id": "1", "first_name": "A", "family_name": "B", "edad": "3"}},
        {"code": "030", "person": "Ana"},
        {"code": "031", "claim_reason": "01", "note": "x" * 1001},
    ],
)
def test_a_malformed_body_is_a_400(app_and_db, token_for, docs, events, body):
    client = app_and_db[0].test_client()
    if body is None:
        response = client.post(f"/api/v1/documents/{docs[0].cufe}/events", data="no es json",
                               headers={**token_for(Role.CLERK), "Content-Type": "application/json"})  # fmt: skip
    else:
        response = client.post(f"/api/v1/documents/{docs[0].cufe}/events", json=body, headers=token_for(Role.CLERK))
    assert response.status_code == 400
    assert response.json["error"] == "bad_request"
    assert events.calls == []


def test_refusals_are_409_for_the_state_and_422_for_the_request(app_and_db, token_for, docs, events):
    client = app_and_db[0].test_client()
    auth = token_for(Role.CLERK)
    url = f"/api/v1/documents/{docs[0].cufe}/events"
    events.refuse[EventCode.ACEPTACION_EXPRESA] = Decision(
        allowed=False, reason="La aceptación expresa (033) requiere el recibo del bien (032).", rule="LGC32"
    )
    conflict = client.post(url, json={"code": "033"}, headers=auth)
    assert conflict.status_code == 409
    assert conflict.json == {
        "error": "conflict",
        "message": "La aceptación expresa (033) requiere el recibo del bien (032).",
        "rule": "LGC32",
    }
    events.emit_refusal = EventRefused(
        "El evento 030 identifica a la persona que recibe: indique su documento y nombre."
    )
    unprocessable = client.post(url, json={"code": "030"}, headers=auth)
    assert unprocessable.status_code == 422
    assert unprocessable.json["message"].startswith("El evento 030 identifica")
    assert client.post(f"/api/v1/documents/{'0' * 96}/events", json={"code": "030"}, headers=auth).status_code == 404


def test_only_clerks_send_events_and_without_the_service_it_is_503(app_and_db, token_for, docs):
    client = app_and_db[0].test_client()
    url = f"/api/v1/documents/{docs[0].cufe}/events"
    for role in (Role.TREASURY, Role.AUDITOR, Role.ADMIN):
        refused = client.post(url, json={"code": "030"}, headers=token_for(role))
        assert refused.status_code == 403, role
    unavailable = client.post(url, json={"code": "033"}, headers=token_for(Role.CLERK))
    assert unavailable.status_code == 503
    assert unavailable.json["error"] == "unavailable"


# --- OpenAPI ---------------------------------------------------------------------------------------------------------


def _api_routes(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(("/api/v1/", "/api/ubl2.1/")):
            continue
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<{name}>", f"{{{name}}}").replace(f"<int:{name}>", f"{{{name}}}")
        routes |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    return routes


def test_openapi_describes_every_api_route_and_nothing_else(app_and_db, token_for):
    app, _ = app_and_db
    spec = openapi_document()
    assert spec["openapi"].startswith("3.1")
    described = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    assert described == _api_routes(app)
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert op["responses"], (path, method)
            for name in [p.strip("{}") for p in path.split("/") if p.startswith("{")]:
                assert any(p["name"] == name and p["in"] == "path" for p in op.get("parameters", [])), (path, name)
    text = json.dumps(spec)
    for ref in {part.split('"')[0] for part in text.split('"$ref": "#/components/schemas/')[1:]}:
        assert ref in spec["components"]["schemas"], ref
    served = app.test_client().get("/api/v1/openapi.json", headers=token_for(Role.TREASURY))
    assert served.status_code == 200
    assert served.json == json.loads(json.dumps(spec))


# --- Over real HTTP --------------------------------------------------------------------------------------------------


def test_the_document_api_over_real_http(app_and_db, token_for, docs, events):
    app, _ = app_and_db
    auth = token_for(Role.CLERK, id_number="1", first_name="Ana", family_name="Pérez")
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def call(path: str, body: object | None = None) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, headers=auth,
                                         method="POST" if data is not None else "GET")  # fmt: skip
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=10) as resp:  # noqa: S310 - loopback
                return resp.status, json.load(resp)
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, json.load(exc)

    try:
        status, page = call("/api/v1/documents?limit=3&sort=-amount")
        assert status == 200
        assert [d["number"] for d in page["documents"]] == ["FE7", "FE6", "FE5"]
        status, created = call(f"/api/v1/documents/{docs[6].cufe}/events", {"code": "030"})
        assert (status, created["submission_state"]) == (201, "registered")
        status, doc = call(f"/api/v1/documents/{docs[6].cufe}")
        assert status == 200
        assert [e["code"] for e in doc["events"]] == ["030"]
        assert [a["code"] for a in doc["actions"]] == ["030", "031", "032", "033"]
        assert call(f"/api/v1/documents/{docs[6].cufe}/events", {"code": "03"})[0] == 400
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def test_window_remaining_in_business_days(app_and_db, token_for):
    app, session = app_and_db
    doc = add_document(
        session, 50, state=DocumentState.GOODS_RECEIVED, window_ends_at=datetime.now(UTC) + timedelta(hours=1)
    )
    body = app.test_client().get(f"/api/v1/documents/{doc.cufe}", headers=token_for(Role.TREASURY)).json
    assert body["window_remaining"]["business_days"] == 0


def test_no_window_remaining_once_the_invoice_is_decided(app_and_db, token_for):
    app, session = app_and_db
    ended = datetime.now(UTC) - timedelta(days=2)
    doc = add_document(session, 51, state=DocumentState.ACCEPTED, window_ends_at=ended)
    headers = token_for(Role.TREASURY)
    body = app.test_client().get(f"/api/v1/documents/{doc.cufe}", headers=headers).json
    assert body["window_ends_at"] is not None and body["window_remaining"] is None
    doc.state = DocumentState.GOODS_RECEIVED
    session.flush()
    body = app.test_client().get(f"/api/v1/documents/{doc.cufe}", headers=headers).json
    assert body["window_remaining"]["expired"] is True
