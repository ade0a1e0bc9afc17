"""Several processes on one PostgreSQL: two outbox workers share the queue (each event sent once, to the DIAN
simulator over HTTP), and two schedulers never run one job twice (store.locks, buzon/jobs.py `recorded`)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import pytest
import sqlalchemy as sa

from buzon import jobs
from buzon.runtime import Runtime
from dian.codes import EventCode
from events.outbox import deliver_events
from store.models import DocumentEvent, JobRun, SubmissionState
from tests.integration.events_fixtures import EventsBed

pytestmark = pytest.mark.integration


def _together(*calls: Any) -> list[Any]:
    """Run the calls at the same moment on threads of their own; their results in order."""
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []
    start = threading.Barrier(len(calls))

    def run(index: int, call: Any) -> None:
        try:
            start.wait()
            results[index] = call()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return results


def test_two_outbox_workers_send_each_event_once(events_bed: EventsBed) -> None:
    bed = events_bed
    if bed.runtime.engine.dialect.name != "postgresql":
        pytest.skip("several outbox workers share one PostgreSQL; SQLite serves one process")
    at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    documents = [bed.receive(at=at + dt.timedelta(minutes=i)) for i in range(8)]
    for document_id in documents:
        bed.send(document_id, EventCode.ACUSE_RECIBO)
    other = Runtime.from_settings(bed.settings)  # a second worker: its own engine and DIAN client
    try:
        reports = _together(
            lambda: deliver_events(bed.runtime.sessions, bed.runtime.ctx, bed.runtime.client),
            lambda: deliver_events(other.sessions, other.ctx, other.client),
        )
    finally:
        other.close()
    registered = [cude for report in reports for cude in report.registered]
    assert len(registered) == len(set(registered)) == len(documents), [r.as_dict() for r in reports]
    with bed.sessions() as s:
        events = s.execute(sa.select(DocumentEvent.submission_state, DocumentEvent.attempts)).all()
    assert events == [(SubmissionState.REGISTERED, 1)] * len(documents)  # each claimed and sent exactly once
    held = bed.world.simulator.store.all("SELECT cude FROM event WHERE code = '030'")
    assert sorted(r["cude"] for r in held) == sorted(registered)


def test_two_schedulers_never_run_one_job_twice(events_bed: EventsBed) -> None:
    bed = events_bed
    if bed.runtime.engine.dialect.name != "postgresql":
        pytest.skip("several schedulers share one PostgreSQL; SQLite serves one process")
    ran: list[str] = []

    def slow() -> dict[str, Any]:
        return jobs.recorded("test_slow", lambda rt: (ran.append("run"), time.sleep(0.5), {"ok": 1})[2])

    jobs.JOBS["test_slow"] = slow
    try:
        # The same firing in two schedulers: one runs, the other finds the job running elsewhere.
        outcomes = sorted(r["outcome"] for r in _together(lambda: jobs.scheduled("test_slow", 60),
                                                          lambda: jobs.scheduled("test_slow", 60)))  # fmt: skip
        assert outcomes == ["ok", "skipped"] and ran == ["run"]
        # A firing that comes after the other scheduler's run ended, in the same interval: skipped too.
        late = jobs.scheduled("test_slow", 60)
        assert late["outcome"] == "skipped" and late["error"] == jobs.SKIPPED_RAN and ran == ["run"]
        # Run by hand ("Ejecutar ahora", `buzon jobs run`): it runs, unless it is running right now.
        assert jobs.JOBS["test_slow"]()["outcome"] == "ok" and len(ran) == 2
        hand = _together(lambda: jobs.JOBS["test_slow"](), lambda: jobs.scheduled("test_slow", 0.001))
        assert sorted(r["outcome"] for r in hand) == ["ok", "skipped"] and len(ran) == 3
    finally:
        del jobs.JOBS["test_slow"]
    with bed.sessions() as s:
        runs = s.execute(sa.select(JobRun.outcome).where(JobRun.job_id == "test_slow")).scalars().all()
    assert runs == ["ok"] * 3  # a skipped firing leaves no JobRun
