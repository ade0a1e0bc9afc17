"""No automatic event acts on a document whose DIAN validation is unconfirmed or invalid (DESIGN.md 5a): the policy
jobs (auto_acknowledge, auto_receipt) skip them, through the job functions the scheduler runs, with the simulator."""

from __future__ import annotations

import datetime as dt

import pytest

from buzon import jobs
from dian.codes import DocumentState, EventCode
from store.models import ReceivedDocument, SubmissionState, Verdict
from tests.integration.dian_fixtures import SELLER_NIT
from tests.integration.events_fixtures import EventsBed

pytestmark = pytest.mark.integration


def _mark(bed: EventsBed, document_id: int, verdict: Verdict, state: DocumentState | None = None) -> None:
    """What intake files for a document whose DIAN validation is not proven (or that failed)."""
    with bed.sessions() as s:
        doc = s.get(ReceivedDocument, document_id)
        assert doc is not None
        doc.verdict = verdict
        if state is not None:
            doc.state = state
        s.commit()


def test_auto_acknowledge_skips_unconfirmed_and_invalid_documents(events_bed: EventsBed) -> None:
    bed = events_bed
    now = dt.datetime.now(dt.UTC)
    valid, unconfirmed, invalid = (bed.receive(at=now - dt.timedelta(hours=2, minutes=i)) for i in range(3))
    _mark(bed, unconfirmed, Verdict.UNCONFIRMED, DocumentState.UNCONFIRMED)
    # Even a row whose state still says validated: the verdict alone keeps the policy away.
    _mark(bed, invalid, Verdict.INVALID)
    bed.with_scheduler(auto_acknowledge="valid")
    result = jobs.auto_acknowledge()
    assert result["summary"]["emitted"] == 1, result
    assert [e.code for e in bed.events(valid)] == [EventCode.ACUSE_RECIBO]
    assert bed.events(unconfirmed) == [] and bed.events(invalid) == []
    bed.with_scheduler(auto_acknowledge="valid_listed", auto_acknowledge_suppliers=(SELLER_NIT,))
    assert jobs.auto_acknowledge()["summary"]["emitted"] == 0  # listed supplier: still not on unconfirmed ones
    assert bed.events(unconfirmed) == []


def test_auto_receipt_never_follows_a_030_on_an_unconfirmed_document(events_bed: EventsBed) -> None:
    bed = events_bed
    now = dt.datetime.now(dt.UTC)
    confirmed, unconfirmed = (bed.receive(at=now - dt.timedelta(hours=2, minutes=i)) for i in range(2))
    for doc_id in (confirmed, unconfirmed):
        bed.send(doc_id, EventCode.ACUSE_RECIBO)  # a clerk's 030, by hand
    assert bed.deliver()["events"]["registered"] == 2
    # Later found unconfirmed (say, its DIAN answer's signer turned out not to be DIAN's), with the 030 registered.
    _mark(bed, unconfirmed, Verdict.UNCONFIRMED)
    assert bed.document(unconfirmed).state is DocumentState.ACKNOWLEDGED
    bed.with_scheduler(auto_receipt_suppliers=(SELLER_NIT,))
    result = jobs.auto_receipt()
    assert result["summary"]["emitted"] == 1, result
    assert [e.code for e in bed.events(confirmed)] == [EventCode.ACUSE_RECIBO, EventCode.RECIBO_BIEN]
    assert [(e.code, e.submission_state) for e in bed.events(unconfirmed)] == [
        (EventCode.ACUSE_RECIBO, SubmissionState.REGISTERED)
    ]
    _mark(bed, unconfirmed, Verdict.INVALID)
    assert jobs.auto_receipt()["summary"]["emitted"] == 0
    assert len(bed.events(unconfirmed)) == 1
