"""The seller's 034 on our own invoice, against the DIAN simulator over HTTP, on SQLite and PostgreSQL: the buyer
(the simulator's policy "silence") sends 030 and 032 and then nothing; the receivables sync learns the 032; before
the three business days nothing is due (and a 034 is refused, DC24e); with the clocks advanced past the window the
invoice is proposed to billing (policy propose), then emitted with the sworn note (policy send), registered by the
simulator, and the invoice shows tacitly accepted."""

from __future__ import annotations

import datetime as dt

import pytest
import requests

from buzon import jobs
from dian.codes import DocumentState, EventCode
from dian.ubl import parse_document
from events.outbox import deliver_events
from issuing import tacit
from issuing.context import utc_now
from store.models import Direction, DocumentEvent, SubmissionState
from tests.integration.issuing_fixtures import IssuingBed, invoice_data

pytestmark = pytest.mark.integration


def test_the_034_after_the_buyers_silence(issuing_bed: IssuingBed) -> None:
    bed, rt = issuing_bed, issuing_bed.runtime
    base = bed.world.server.base_url
    assert requests.post(f"{base}/_sim/buyer-policy", json={"policy": "silence"}, timeout=10).status_code == 200
    done = bed.issue(invoice_data(), deliver=True)  # a credit sale: the buyer answers 030 and 032, then nothing
    result = jobs.title_sync()
    assert result["outcome"] == "ok", result
    with bed.sessions() as s:
        seen = {e.code for e in s.query(DocumentEvent).filter_by(outbound_document_id=done.id)}
    assert seen == {EventCode.ACUSE_RECIBO, EventCode.RECIBO_BIEN}

    now, calendar = utc_now(), rt.calendar
    job = jobs.tacit_acceptance()  # the scheduled entry, policy "propose" by default: nothing due yet
    assert job["outcome"] == "ok" and job["summary"] == {"proposed": 0, "emitted": 0, "refused": 0,
                                                          "policy": "propose"}, job  # fmt: skip
    assert tacit.due(bed.sessions, now=now, calendar=calendar) == []
    with pytest.raises(tacit.TacitRefused, match="DC24e"):
        tacit.emit(bed.sessions, bed.issuing.ctx, done.id, now=now, calendar=calendar, actor="test:billing")

    # Eight days later (more than three business days, 8 December a holiday) DIAN's clock and ours agree.
    later = now + dt.timedelta(days=8)
    bed.world.simulator.clock = lambda: utc_now() + dt.timedelta(days=8)
    bed.world.server.app.clock_skew = dt.timedelta(days=9)  # the client's WS-Security Timestamp is of today
    (item,) = tacit.due(bed.sessions, now=later, calendar=calendar)
    assert item.number == done.number and item.window_ended_at < later
    proposed = tacit.sweep(bed.sessions, bed.issuing.ctx, policy="propose", now=later, calendar=calendar)
    assert proposed.proposed == [done.number] and proposed.emitted == []
    again = tacit.sweep(bed.sessions, bed.issuing.ctx, policy="propose", now=later, calendar=calendar)
    assert again.proposed == [] and len(bed.audit("tacit.proposed")) == 1
    assert tacit.sweep(bed.sessions, bed.issuing.ctx, policy="off", now=later, calendar=calendar).as_dict() == {
        "proposed": 0, "emitted": 0, "refused": 0}  # fmt: skip

    sent = tacit.sweep(bed.sessions, bed.issuing.ctx, policy="send", now=later, calendar=calendar)
    assert sent.emitted == [done.number], sent
    assert tacit.due(bed.sessions, now=later, calendar=calendar) == []  # one 034, never two
    report = deliver_events(bed.sessions, rt.ctx, rt.client, now=lambda: later,
                            on_registered=rt.on_registered(rt.ctx, rt.client))  # fmt: skip
    assert report.as_dict()["registered"] == 1, report
    with bed.sessions() as s:
        (event,) = s.query(DocumentEvent).filter_by(outbound_document_id=done.id, code=EventCode.ACEPTACION_TACITA)
        assert (event.direction, event.submission_state) == (Direction.EMITTED, SubmissionState.REGISTERED)
        xml = rt.blobs.get(event.signed_xml_blob)
    parsed = parse_document(xml)
    assert parsed.receiver.nit == "800197268" and parsed.sender.nit == bed.issuing.ctx.nit
    assert parsed.notes[0].startswith("Manifiesto bajo la gravedad de juramento") and "EMPRESA COMPRADORA" in (
        parsed.notes[0])  # fmt: skip
    held = requests.get(f"{base}/_sim/invoices/{done.uuid}", timeout=10).json()
    assert [(e["code"], e["sender_nit"]) for e in held["events"]][-1] == ("034", bed.issuing.ctx.nit)
    assert {e["cude"] for e in held["events"] if e["code"] == "034"} == {event.cude}
    assert tacit.acceptance(bed.sessions, done.id) is DocumentState.TACITLY_ACCEPTED
