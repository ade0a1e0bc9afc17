"""Every door issues a 04 while a contingency is under way (issuing/outage.py, consulted by the issuing façade), on
SQLite and PostgreSQL, against the DIAN simulator over HTTP: the native API and the apidian path answer 202 with type
04, the CUFE and that it will be transmitted later; the façade as `buzon issue` calls it does the same; nothing is
sent to DIAN meanwhile (an outage is injected and left unused); the sweep transmits them once the contingency ends.
The command line itself is in tests/integration/test_contingency.py."""

from __future__ import annotations

import requests

from issuing import contingency
from issuing.context import utc_now
from store.models import OutboundState
from tests.integration.issuing_fixtures import IssuingBed, invoice_data
from tests.integration.issuing_fixtures import issuing_bed as issuing_bed  # the fixture, re-exported
from tests.web.test_api_issuing import make_api
from tests.web.test_api_issuing_apidian import bag_invoice


def _declare(bed: IssuingBed) -> None:
    contingency.start(bed.sessions, actor="cli:ana", reason="La DIAN anuncia mantenimiento", now=utc_now())
    requests.post(f"{bed.world.server.base_url}/_sim/contingencies", json={"start": utc_now().isoformat()},
                  timeout=10).raise_for_status()  # DIAN's own window (GlobalContingency)  # fmt: skip


def test_every_door_issues_a_04_while_a_contingency_is_under_way(issuing_bed: IssuingBed) -> None:
    bed = issuing_bed
    api = make_api(bed)
    _declare(bed)
    bed.fault("SendBillSync", "http503", count=1)  # would be used up by any send: nothing is sent meanwhile

    native = api.post("/api/v1/invoices", invoice_data(), key="pedido-9")
    assert native.status_code == 202, native.json
    body = native.json
    assert (body["document_type"], body["state"], body["queued"]) == ("04", "signed", True)
    assert len(body["cufe"]) == 96 and body["dian"]["is_valid"] is None
    assert body["contingency"]["transmit_later"] is True and body["contingency"]["transmit_by"]
    assert body["contingency"]["reason"] == "declared: La DIAN anuncia mantenimiento"
    assert "expedido en contingencia (tipo 04)" in body["state_label"] and "se le transmitirá" in body["state_label"]
    again = api.post("/api/v1/invoices", invoice_data(), key="pedido-9")  # the ERP's retry: the same 04
    assert again.status_code == 202 and again.json["id"] == body["id"] and again.json["replayed"] is True

    apidian = api.post("/api/ubl2.1/invoice", bag_invoice())
    assert apidian.status_code == 202, apidian.json
    answer = apidian.json
    assert (answer["type_document_code"], answer["is_valid"], answer["ResponseDian"]) == ("04", None, None)
    assert answer["message"].startswith("Factura electrónica de contingencia #SETP") and len(answer["cufe"]) == 96
    assert answer["contingency"]["transmit_later"] is True

    cli = bed.issue(invoice_data(price="70000"), deliver=True, client_key="cli")  # what `buzon issue` calls
    assert cli.document_type.value == "04" and cli.state is OutboundState.SIGNED and cli.in_contingency
    assert "se le transmitirá" in cli.verdict

    ids = [body["id"], bed.issuing.find(answer["cufe"]).id, cli.id]
    rows = [bed.row(i) for i in ids]
    assert {(r.document_type.value, r.attempts, r.next_attempt_at) for r in rows} == {("04", 0, None)}
    assert all(r.contingency_reason.startswith("declared: ") for r in rows)
    shown = api.get(f"/api/v1/issued/{body['id']}").json
    assert shown["document_type"] == "04" and shown["state"] == "signed"

    assert contingency.end(bed.sessions, actor="cli:ana", now=utc_now())
    sim = f"{bed.world.server.base_url}/_sim/faults"
    (pending,) = requests.get(sim, timeout=10).json()["faults"]
    assert pending["remaining"] == 1  # nothing was sent to DIAN during the contingency
    requests.delete(sim, timeout=10).raise_for_status()
    report = contingency.sweep(bed.issuing, bed.runtime.client, now=utc_now())
    assert sorted(report.transmitted) == sorted(r.number for r in rows), report
    after = api.post("/api/v1/invoices", invoice_data(price="80000"), key="pedido-10")  # DIAN receives again: a 01
    assert after.status_code == 201 and after.json["document_type"] == "01" and after.json["contingency"] is None
    done = api.get(f"/api/v1/issued/{body['id']}").json
    assert done["state"] == "accepted" and done["links"]["attached"]
