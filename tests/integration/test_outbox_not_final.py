"""DIAN's answers that are not final (StatusCode 98 "En Proceso", 66 "no encontrado / lote en validación"; dian-facts
6.5) on SendEventUpdateStatus: retried with the outbox's backoff, never recorded as rejections, and surfaced to the
clerk once the cap is reached — against the DIAN simulator over HTTP (faults status98 / status66), on SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from buzon import jobs
from dian.codes import DocumentState, EventCode
from events.outbox import deliver_events, unresolved
from store.models import AuditEntry, SubmissionState
from tests.integration.events_fixtures import EventsBed

pytestmark = pytest.mark.integration


def _audit(bed: EventsBed, action: str) -> list[AuditEntry]:
    with bed.sessions() as s:
        return list(s.execute(sa.select(AuditEntry).where(AuditEntry.action == action)).scalars())


def _at_simulator(bed: EventsBed, cufe: str) -> list[tuple[str, str]]:
    rows = bed.world.simulator.store.all("SELECT code, cude FROM event WHERE invoice_key = ? ORDER BY code", cufe)
    return [(r["code"], r["cude"]) for r in rows]


def test_98_en_proceso_is_retried_with_backoff_and_then_registered_once(events_bed: EventsBed) -> None:
    bed = events_bed
    doc_id = bed.receive(at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    bed.send(doc_id, EventCode.ACUSE_RECIBO)
    # DIAN takes the event and is still validating it: StatusCode 98, no ApplicationResponse.
    bed.world.simulator.faults.add("SendEventUpdateStatus", "status98")
    first = bed.deliver()
    assert first["events"]["retrying"] == 1 and first["events"]["rejected"] == 0, first
    (event,) = bed.events(doc_id)
    assert event.submission_state is SubmissionState.SEND_FAILED  # not rejected
    assert event.dian_status_code == "98"
    assert event.last_error.startswith("DIAN aún procesa el evento (98 En Proceso)"), event.last_error
    assert event.next_attempt_at is not None and not unresolved(event)
    assert _audit(bed, "event.030.rejected") == []
    (failed,) = _audit(bed, "event.030.send_failed")
    assert failed.data["status_code"] == "98" and failed.data["next_attempt_at"]
    bed.due_at(dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    assert bed.deliver()["events"] == {"registered": 0, "rejected": 0, "retrying": 0, "waiting": 0}  # not due yet

    bed.due_at(dt.datetime.now(dt.UTC))
    second = bed.deliver()
    assert second["events"]["registered"] == 1, second
    (event,) = bed.events(doc_id)
    assert event.submission_state is SubmissionState.REGISTERED and event.attempts == 2
    assert event.last_error is None
    doc = bed.document(doc_id)
    assert doc.state is DocumentState.ACKNOWLEDGED
    assert _at_simulator(bed, doc.cufe) == [("030", event.cude)]  # DIAN holds it once


def test_66_not_found_yet_is_retried_and_the_resend_registers(events_bed: EventsBed) -> None:
    bed = events_bed
    doc_id = bed.receive(at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    bed.send(doc_id, EventCode.ACUSE_RECIBO)
    bed.world.simulator.faults.add("SendEventUpdateStatus", "status66")  # answered 66 without being processed
    assert bed.deliver()["events"]["retrying"] == 1
    (event,) = bed.events(doc_id)
    assert (event.submission_state, event.dian_status_code) == (SubmissionState.SEND_FAILED, "66")
    assert event.last_error.startswith("DIAN aún no encuentra el evento"), event.last_error
    doc = bed.document(doc_id)
    assert _at_simulator(bed, doc.cufe) == []  # DIAN never took it
    assert _audit(bed, "event.030.rejected") == []

    bed.due_at(dt.datetime.now(dt.UTC))
    assert bed.deliver()["events"]["registered"] == 1
    (event,) = bed.events(doc_id)
    assert event.submission_state is SubmissionState.REGISTERED and event.dian_status_code == "00"
    assert _at_simulator(bed, doc.cufe) == [("030", event.cude)]


@pytest.mark.parametrize("kind", ["status98", "status66"])
def test_after_the_cap_it_is_surfaced_and_no_longer_sent(events_bed: EventsBed, kind: str) -> None:
    bed = events_bed
    doc_id = bed.receive(at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    bed.send(doc_id, EventCode.ACUSE_RECIBO)
    bed.world.simulator.faults.add("SendEventUpdateStatus", kind, count=None)  # DIAN never gives its final word
    clock = [dt.datetime.now(dt.UTC)]
    rt = bed.runtime

    def deliver():
        return deliver_events(rt.sessions, rt.ctx, rt.client, now=lambda: clock[0], max_attempts=3)

    for attempt in (1, 2):
        report = deliver()
        assert report.as_dict() == {"registered": 0, "rejected": 0, "retrying": 1, "waiting": 0}, attempt
        (event,) = bed.events(doc_id)
        assert f"intento {attempt} de 3" in event.last_error
        clock[0] += dt.timedelta(hours=1)  # past any backoff
    report = deliver()
    assert report.as_dict()["unresolved"] == 1 and not report.retrying and not report.rejected
    (event,) = bed.events(doc_id)
    code = kind.removeprefix("status")
    assert unresolved(event) and event.attempts == 3 and event.dian_status_code == code
    assert event.submission_state is SubmissionState.SEND_FAILED  # in flight: no second 030 can be queued
    assert "sin respuesta definitiva de la DIAN tras 3 intentos" in event.last_error
    (entry,) = _audit(bed, "event.030.unresolved")
    assert entry.data["status_code"] == code and entry.data["attempts"] == 3
    assert _audit(bed, "event.030.rejected") == []

    clock[0] += dt.timedelta(days=1)
    assert deliver().as_dict() == {"registered": 0, "rejected": 0, "retrying": 0, "waiting": 0}  # not sent again
    assert bed.events(doc_id)[0].attempts == 3

    # The sync job asks DIAN what it holds (GetStatusEvent): a 98 event DIAN did register is recorded registered.
    bed.world.simulator.faults.clear()
    assert jobs.sync_events()["outcome"] == "ok"
    (event,) = bed.events(doc_id)
    if kind == "status98":
        assert event.submission_state is SubmissionState.REGISTERED
        assert bed.document(doc_id).state is DocumentState.ACKNOWLEDGED
    else:
        assert unresolved(event)  # DIAN never took it: still for the clerk to look at


def test_queries_answer_98_and_66_as_they_are_and_say_they_are_not_final(events_bed: EventsBed) -> None:
    client = events_bed.world.client(events_bed.world.buyer)
    events_bed.world.simulator.faults.add("GetStatus", "status98")
    answer = client.get_status("a" * 96)
    assert (answer.status_code, answer.status_description, answer.not_final) == ("98", "En Proceso", True)
    unknown = client.get_status("b" * 96)  # the simulator's own answer for a CUFE it does not know
    assert unknown.status_code == "66" and unknown.not_final and not unknown.accepted
