"""The ERP's path end to end: a bearer token, real HTTP to the real app, the real events service, the DIAN simulator.

POST /api/v1/documents/<cufe>/events registers 030 and 032 at the simulator; the document shows them; a refused 033
(no 032 yet on a second invoice) answers 409 with DIAN's rule and the Spanish reason; a read-only role gets 403.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from buzon.runtime import event_service
from store.models import Role
from tests.integration.events_fixtures import days_ago
from tests.integration.events_fixtures import events_bed as events_bed  # the fixture, re-exported for these tests
from tests.services import free_port
from tests.web.conftest import PASSWORD, password_hash
from web.app import create_app
from web.auth import create_user, issue_token

pytestmark = pytest.mark.integration


def _call(url: str, token: str, method: str = "GET", body: dict[str, Any] | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - loopback test server
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def api(events_bed) -> Iterator[tuple[str, Any, dict[str, str]]]:
    from werkzeug.serving import make_server

    bed = events_bed
    tokens = {}
    with bed.sessions() as s:
        for name, role in (("erp", Role.CLERK), ("lector", Role.TREASURY)):
            user = create_user(s, name, role=role, password=PASSWORD, password_hash=password_hash(PASSWORD),
                               actor="test", id_type="13", id_number="52111222", first_name="Integración",
                               family_name="ERP")  # fmt: skip
            s.flush()
            tokens[name] = issue_token(s, user, name="erp", actor="test", now=dt.datetime.now(dt.UTC))[1]
        s.commit()
    app = create_app(bed.settings, engine=bed.runtime.engine, events=lambda ss: event_service(bed.settings, ss))
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/api/v1", bed, tokens
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.mark.parametrize("events_bed", ["postgresql"], indirect=True)
def test_an_erp_registers_030_and_032_through_the_api(api) -> None:
    base, bed, tokens = api
    first = bed.document(bed.receive(at=days_ago(1)))
    second = bed.document(bed.receive(at=days_ago(1, hour=10)))

    status, listing = _call(f"{base}/documents?q={first.number}", tokens["erp"])
    assert status == 200 and [d["cufe"] for d in listing["documents"]] == [first.cufe]

    status, created = _call(f"{base}/documents/{first.cufe}/events", tokens["erp"], "POST", {"code": "030"})
    assert status == 201, created
    assert created["submission_state"] == "registered", created
    person = {"id_type": "13", "id": "79111222", "first_name": "Carlos", "family_name": "Rojas"}
    status, created = _call(f"{base}/documents/{first.cufe}/events", tokens["erp"], "POST",
                            {"code": "032", "person": person})  # fmt: skip
    assert status == 201 and created["submission_state"] == "registered", created

    status, detail = _call(f"{base}/documents/{first.cufe}", tokens["erp"])
    assert status == 200
    assert detail["state"] == "goods_received"
    assert [(e["code"], e["submission_state"]) for e in detail["events"]] == [
        ("030", "registered"),
        ("032", "registered"),
    ]
    assert {(r["code"], r["cude"]) for r in bed.world.simulator.store.all(
        "SELECT code, cude FROM event WHERE invoice_key = ?", first.cufe)} == {
        (e["code"], e["cude"]) for e in detail["events"]}  # fmt: skip

    status, refused = _call(f"{base}/documents/{second.cufe}/events", tokens["erp"], "POST", {"code": "033"})
    assert status == 409, refused
    assert "primero debe estar registrado" in json.dumps(refused, ensure_ascii=False)
    assert bed.events(second.id) == []

    status, _ = _call(f"{base}/documents/{second.cufe}/events", tokens["lector"], "POST", {"code": "030"})
    assert status == 403
    assert bed.events(second.id) == []
