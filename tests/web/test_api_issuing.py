"""The issuing API end to end, on SQLite and PostgreSQL: a bearer token, the Flask client, the real issuing service,
and the DIAN simulator over HTTP (ranges read with GetNumberingRange, documents sent with SendBillSync).

An invoice issued and accepted, read back with its XML, PDF and AttachedDocument; a credit and a debit note on it;
an idempotent retry (same key → the same document and no second number; another body → 409; the key is the
token's); a bad payload → 422 with JSON pointers and nothing written; an outage → 202, queued, not rejected; roles.
The apidian-compatible paths are in test_api_issuing_apidian.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from flask.testing import FlaskClient

from buzon import jobs
from dian.calendar import BOGOTA
from store.models import ApiToken, NumberingRange, OutboundDocument, Role
from tests.integration.dian_fixtures import NUMBERING
from tests.integration.issuing_fixtures import IssuingBed, invoice_data
from tests.integration.issuing_fixtures import issuing_bed as issuing_bed  # the fixture, re-exported
from tests.web.conftest import PASSWORD, password_hash
from web.api_issuing import ISSUERS
from web.app import create_app
from web.auth import create_user, issue_token

pytestmark = pytest.mark.integration

FIRST = NUMBERING.from_number
ISSUER_ROLE = Role("billing") if "billing" in {r.value for r in Role} else Role.ADMIN


@dataclass
class Api:
    bed: IssuingBed
    client: FlaskClient
    tokens: dict[str, str]
    default: str = "erp"  # whose token a call carries unless it names one

    def headers(self, who: str | None = None, key: str | None = None) -> dict[str, str]:
        found = {"Authorization": f"Bearer {self.tokens[who or self.default]}"}
        if key is not None:
            found["Idempotency-Key"] = key
        return found

    def post(self, path: str, body: Any, *, who: str | None = None, key: str | None = None) -> Any:
        return self.client.post(path, json=body, headers=self.headers(who, key))

    def get(self, path: str, *, who: str | None = None) -> Any:
        return self.client.get(path, headers=self.headers(who))

    def count(self) -> int:
        return self.bed.count(OutboundDocument)


def make_api(bed: IssuingBed, default: str = "erp") -> Api:
    """The app as the shell builds it for issuing (the runtime's issuing façade on the app's sessions), with a token
    per role: erp (billing, or admin where the model has no billing role yet), admin, clerk."""
    tokens = {}
    with bed.sessions() as s:
        for name, role in (("erp", ISSUER_ROLE), ("admin", Role.ADMIN), ("clerk", Role.CLERK)):
            user = create_user(s, f"api-{name}", role=role, password=PASSWORD, password_hash=password_hash(PASSWORD),
                               actor="test")  # fmt: skip
            s.flush()
            tokens[name] = issue_token(s, user, name=name, actor="test", now=dt.datetime.now(dt.UTC))[1]
        s.commit()
    app = create_app(bed.settings, engine=bed.runtime.engine, issuing=bed.runtime.issuing_service)
    return Api(bed, app.test_client(), tokens, default)


@pytest.fixture
def api(issuing_bed: IssuingBed) -> Iterator[Api]:
    yield make_api(issuing_bed)


def _today() -> str:
    return dt.datetime.now(BOGOTA).date().isoformat()


def test_an_invoice_and_its_notes_are_issued_accepted_and_read_back(api: Api) -> None:
    body = invoice_data()
    del body["type"]  # the path says it
    created = api.post("/api/v1/invoices", body, key="pedido-1001")
    assert created.status_code == 201, created.json
    invoice = created.json
    assert (invoice["number"], invoice["document_type"], invoice["state"]) == (f"SETP{FIRST}", "01", "accepted")
    assert invoice["cufe"] == invoice["uuid"] and len(invoice["cufe"]) == 96
    assert invoice["payable_amount"] == "119000.00" and invoice["replayed"] is False and invoice["queued"] is False
    assert invoice["qr_text"].startswith(f"NumFac: SETP{FIRST}\n") and invoice["cufe"] in invoice["qr_text"]
    assert invoice["dian"]["status_code"] == "00" and invoice["dian"]["is_valid"] is True
    assert created.headers["Location"] == f"/api/v1/issued/{invoice['id']}"
    assert "Idempotent-Replayed" not in created.headers

    shown = api.get(invoice["links"]["self"])
    assert shown.status_code == 200
    doc = shown.json
    assert (doc["state"], doc["number"], doc["uuid"], doc["buyer_events"]) == ("accepted", invoice["number"],
                                                                               invoice["cufe"], [])  # fmt: skip
    assert doc["totals"]["line_extension_amount"] == "100000.00" and doc["totals"]["payable_amount"] == "119000.00"
    assert doc["dian"]["validated_at"] is not None and doc["attempts"] == 1
    xml = api.get(invoice["links"]["xml"])
    assert xml.status_code == 200 and xml.mimetype == "application/xml"
    assert invoice["cufe"].encode() in xml.data and b"<ds:Signature" in xml.data
    attached = api.get(invoice["links"]["attached"])
    assert attached.status_code == 200 and xml.data in attached.data  # the signed invoice, byte for byte
    pdf = api.get(invoice["links"]["pdf"])
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")
    assert api.get("/api/v1/issued/999999").status_code == 404

    reference = {"number": invoice["number"], "uuid": invoice["cufe"], "issue_date": _today()}
    customer = body["customer"]
    credit = api.post("/api/v1/credit-notes", {
        "customer": customer, "concept": "2", "reference": reference,
        "lines": [{"description": "Anulación", "quantity": "2", "unit_price": "50000",
                   "taxes": [{"scheme": "01", "rate": "19"}]}],
    }, key="nc-1001")  # fmt: skip
    assert credit.status_code == 201, credit.json
    assert (credit.json["number"], credit.json["document_type"], credit.json["state"]) == ("NC1", "91", "accepted")
    assert credit.json["cude"] == credit.json["uuid"] != invoice["cufe"]
    debit = api.post("/api/v1/debit-notes", {
        "customer": customer, "concept": "1", "reference": reference,
        "lines": [{"description": "Intereses de mora", "quantity": "1", "unit_price": "1000"}],
    })  # fmt: skip
    assert debit.status_code == 201, debit.json
    assert (debit.json["number"], debit.json["state"]) == ("ND1", "accepted")
    # A note's type on the invoices path is refused, naming the path to use.
    wrong = api.post("/api/v1/invoices", {**body, "type": "91"})
    assert wrong.status_code == 422
    assert {"field": "/type", "message": "el tipo '91' no se expide aquí; use /api/v1/credit-notes"} in wrong.json[
        "problems"
    ]


def test_an_idempotent_retry_returns_the_first_document_and_never_a_second_number(api: Api) -> None:
    first = api.post("/api/v1/invoices", invoice_data(), key="erp-7/pedido-55")
    assert first.status_code == 201, first.json
    again = api.post("/api/v1/invoices", invoice_data(), key="erp-7/pedido-55")
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert (again.json["id"], again.json["number"], again.json["cufe"]) == (
        first.json["id"], first.json["number"], first.json["cufe"])  # fmt: skip
    assert again.json["replayed"] is True and api.count() == 1
    # Another body under the same key: 409, saying which document the key issued; nothing issued.
    other = api.post("/api/v1/invoices", invoice_data(price="60000"), key="erp-7/pedido-55")
    assert other.status_code == 409, other.json
    assert other.json["error"] == "conflict" and other.json["problems"][0]["field"] == "/idempotency_key"
    assert first.json["number"] in other.json["message"]
    assert api.count() == 1
    # The key is the token's: another token with the same key issues its own document, the next number.
    theirs = api.post("/api/v1/invoices", invoice_data(), key="erp-7/pedido-55", who="admin")
    assert theirs.status_code == 201 and theirs.json["number"] == f"SETP{FIRST + 1}"
    with api.bed.sessions() as s:
        rows = s.execute(sa.select(OutboundDocument.client_key, OutboundDocument.idempotency_key)).all()
        token_ids = dict(s.execute(sa.select(ApiToken.name, ApiToken.id)).all())
        (invoice_range,) = s.execute(sa.select(NumberingRange).where(NumberingRange.kind == "invoice")).scalars()
        assert invoice_range.next_number == FIRST + 2  # two numbers taken for three requests
    assert sorted(rows) == sorted([(f"token:{token_ids['erp']}", "erp-7/pedido-55"),
                                   (f"token:{token_ids['admin']}", "erp-7/pedido-55")])  # fmt: skip
    bad_key = api.post("/api/v1/invoices", invoice_data(), key="con espacios")
    assert bad_key.status_code == 400 and bad_key.json["field"] == "Idempotency-Key"


def test_a_bad_payload_is_refused_with_every_problem_and_nothing_is_written(api: Api) -> None:
    body = invoice_data()
    body["customer"] = {**body["customer"], "id_type": "99"}
    body["lines"][0]["quantity"] = "dos"
    body["lines"][0]["taxes"][0]["rate"] = "-19"
    body["payment"] = {"form": "2", "method": "42"}
    refused = api.post("/api/v1/invoices", body, key="malo-1")
    assert refused.status_code == 422, refused.json
    assert refused.json["error"] == "unprocessable"
    fields = [p["field"] for p in refused.json["problems"]]
    for pointer in ("/customer/id_type", "/lines/0/quantity", "/lines/0/taxes/0/rate", "/payment/due_date"):
        assert pointer in fields, refused.json
    assert all(p["message"] and p["message"][0].islower() for p in refused.json["problems"])  # Spanish sentences
    assert api.count() == 0
    # The same key is free afterwards: a refused payload issued nothing under it.
    assert api.post("/api/v1/invoices", invoice_data(), key="malo-1").status_code == 201
    # Declared totals more than 2.00 away from Buzón's (B.1) are refused at issue time, the number given back.
    declared = api.post("/api/v1/invoices", invoice_data(totals={"payable": "119002.01"}))
    assert declared.status_code == 422 and declared.json["problems"][0]["field"].startswith("/totals"), declared.json
    assert api.post("/api/v1/invoices", invoice_data()).json["number"] == f"SETP{FIRST + 1}"
    not_json = api.client.post("/api/v1/invoices", data="<xml/>", content_type="application/xml",
                               headers=api.headers())  # fmt: skip
    assert not_json.status_code == 400 and not_json.json["field"] == "body"
    assert api.post("/api/v1/invoices", [1, 2]).json["problems"][0]["field"] == "/"


def test_an_outage_answers_202_queued_not_rejected(api: Api) -> None:
    api.bed.fault("SendBillSync", "http503")
    queued = api.post("/api/v1/invoices", invoice_data(), key="caida-1")
    assert queued.status_code == 202, queued.json
    body = queued.json
    assert (body["state"], body["queued"], body["dian"]["is_valid"]) == ("send_failed", True, None)
    assert body["number"] == f"SETP{FIRST}" and len(body["cufe"]) == 96 and body["qr_text"]
    assert "503" in (body["last_error"] or "") and body["links"]["attached"] is None
    shown = api.get(body["links"]["self"]).json
    assert shown["state"] == "send_failed" and shown["next_attempt_at"] is not None
    assert api.get(f"{body['links']['self']}/attached").status_code == 404
    # The ERP retries with its key before DIAN is back: the same queued document, no second number.
    again = api.post("/api/v1/invoices", invoice_data(), key="caida-1")
    assert again.status_code == 202 and again.json["id"] == body["id"] and api.count() == 1

    # DIAN is back: the outbox delivers it, and the API shows DIAN's word.
    # Within its backoff it is not sent. The bed's backoff is one second, which a loaded machine can outlast between
    # two requests, so the test sets the next attempt itself: an hour away, then now.
    def next_attempt(at: dt.datetime) -> None:
        with api.bed.sessions() as s:
            s.execute(sa.update(OutboundDocument).values(next_attempt_at=at))
            s.commit()

    next_attempt(dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    waiting = api.bed.issuing.deliver(only=[body["id"]], client=None)
    assert waiting.as_dict() == {"accepted": 0, "rejected": 0, "retrying": 0, "waiting": 0, "unresolved": 0}
    next_attempt(dt.datetime.now(dt.UTC))
    report = api.bed.issuing.deliver()
    assert report.accepted == [body["number"]], report
    after = api.post("/api/v1/invoices", invoice_data(), key="caida-1")
    assert after.status_code == 201 and after.json["state"] == "accepted" and after.json["dian"]["is_valid"] is True


@pytest.mark.parametrize("issuing_bed", ["sqlite", "postgresql"], indirect=True)
def test_only_roles_that_may_issue_can(api: Api) -> None:
    assert api.post("/api/v1/invoices", invoice_data(), who="clerk").status_code == 403
    # Without a token nor a session a POST is unauthenticated: 401, not a CSRF 400 (test_api_unauthenticated.py).
    assert api.client.post("/api/v1/invoices", json=invoice_data()).status_code == 401
    assert api.client.get("/api/v1/issued/1").status_code == 401
    assert api.post("/api/ubl2.1/invoice", {}, who="clerk").status_code == 403
    assert api.count() == 0
    done = api.post("/api/v1/invoices", invoice_data(), who="admin")
    assert done.status_code == 201
    assert api.get(done.json["links"]["self"], who="clerk").status_code == 403


def test_the_billing_role_issues_when_the_model_has_it() -> None:
    assert Role.ADMIN in ISSUERS and ISSUER_ROLE in ISSUERS
    assert Role.CLERK not in ISSUERS and Role.TREASURY not in ISSUERS and Role.AUDITOR not in ISSUERS


@pytest.mark.parametrize("issuing_bed", ["postgresql"], indirect=True)
def test_the_buyers_events_show_on_the_issued_document(api: Api) -> None:
    base = api.bed.world.server.base_url
    answer = requests.post(f"{base}/_sim/buyer-policy", json={"policy": "silence"}, timeout=10)
    assert answer.status_code == 200, answer.text  # the simulator's buyer acknowledges (030) and receives (032)
    done = api.post("/api/v1/invoices", invoice_data(), key="cartera-1")
    assert done.status_code == 201 and done.json["state"] == "accepted", done.json
    result = jobs.title_sync()  # GetStatusEvent: the buyer's events on our invoices
    assert result["outcome"] == "ok", result
    events = api.get(done.json["links"]["self"]).json["buyer_events"]
    assert [(e["code"], e["direction"], e["submission_state"]) for e in events] == [
        ("030", "observed", "registered"),
        ("032", "observed", "registered"),
    ], events


def test_a_dian_rejection_is_told_with_its_rules(api: Api) -> None:
    # A technical key typed wrong somewhere (peers-wave2 §2.4): DIAN refuses every CUFE with FAD06.
    with api.bed.sessions() as s:
        s.execute(sa.update(NumberingRange).values(technical_key="0" * 40))
        s.commit()
    refused = api.post("/api/v1/invoices", invoice_data(), key="rechazo-1")
    assert refused.status_code == 201, refused.json  # issued and answered: DIAN's word is final
    body = refused.json
    assert (body["state"], body["queued"], body["dian"]["is_valid"], body["dian"]["status_code"]) == (
        "rejected", False, False, "99")  # fmt: skip
    assert any("FAD06" in m for m in body["dian"]["messages"]), body
    assert body["links"]["attached"] is None
    from tests.web.test_api_issuing_apidian import two_rates_invoice

    apidian = api.post("/api/ubl2.1/invoice", two_rates_invoice())
    assert apidian.status_code == 200 and apidian.json["is_valid"] is False, apidian.json
    result = apidian.json["ResponseDian"]["Envelope"]["Body"]["SendBillSyncResponse"]["SendBillSyncResult"]
    assert (result["IsValid"], result["StatusCode"]) == ("false", "99")
    assert any("FAD06" in m for m in result["ErrorMessage"]["string"]), result
    assert apidian.json["attacheddocument"] is None and apidian.json["errors"]["dian"]
