"""Two worker processes, each with its own engine, take numbers from one DIAN range on one PostgreSQL database at once:
1,000 consecutives taken in the issuing transaction (some of those transactions failing and rolling back, three
processes killed while holding one) and 200
invoices fully built, signed and stored — every consecutive taken exactly once, with no gap, and each signed document
carries the number its row took."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from buzon.config import Settings
from dian.ubl import parse_document
from store.models import NumberingRange, OutboundDocument
from tests.integration.dian_fixtures import NUMBERING, make_world
from tests.integration.titles_fixtures import seller_settings
from tests.services import fresh_postgres_database

pytestmark = pytest.mark.integration

WORKERS = 2


def _worker(settings: Settings, count: int, full: bool, start, results) -> None:  # type: ignore[no-untyped-def]
    """One process with its own runtime and engine. ``full``: issue ``count`` invoices (built, signed, stored, not
    sent). Otherwise: take ``count`` numbers the way issuing does — in a transaction that stores the row — where every
    seventh transaction fails after taking its number and rolls back."""
    from buzon.runtime import Runtime
    from dian.codes import Environment
    from issuing import ranges
    from issuing.request import require_request
    from store.models import OutboundDocument
    from tests.integration.issuing_fixtures import invoice_data

    runtime = Runtime.from_settings(settings)
    try:
        service = runtime.issuing
        _ = service.ctx  # the certificate is loaded before the race starts
        request = require_request(invoice_data())
        start.wait()
        began = time.process_time()
        numbers = []
        if full:
            numbers = [service.issue(request, actor="test:worker").number for _ in range(count)]
        attempt = 0
        while len(numbers) < count and not full:
            attempt += 1
            with runtime.sessions() as s:
                chosen = ranges.choose_range(s, ranges.RangeKind.INVOICE, Environment.TESTING, NUMBERING.start_date)
                taken = ranges.take_number(s, chosen.id)
                if attempt % 7 == 0:
                    s.rollback()  # the document failed after its number was taken
                    continue
                s.add(OutboundDocument(document_type="01", environment=Environment.TESTING, prefix="SETP",
                                       number=f"SETP{taken}", buyer_nit="900654321", buyer_name="Comprador",
                                       payable_amount=1, range_id=chosen.id, consecutive=taken))  # fmt: skip
                s.commit()
                numbers.append(f"SETP{taken}")
        results.put((numbers, time.process_time() - began))
    finally:
        runtime.close()


def _crash(settings: Settings) -> None:
    """A process killed (no cleanup) after it took a number inside its transaction, before the commit."""
    import os

    from buzon.runtime import Runtime
    from dian.codes import Environment
    from issuing import ranges

    runtime = Runtime.from_settings(settings)
    with runtime.sessions() as s:
        chosen = ranges.choose_range(s, ranges.RangeKind.INVOICE, Environment.TESTING, NUMBERING.start_date)
        ranges.take_number(s, chosen.id)
        os._exit(137)


@pytest.mark.parametrize(("total", "full"), [(1000, False), (200, True)], ids=["numbers", "signed"])
def test_two_workers_share_a_range_without_gap_or_double(tmp_path: Path, total: int, full: bool) -> None:
    from buzon.runtime import Runtime
    from store.db import make_engine, migrate

    world = make_world(tmp_path / "dian-sim")
    try:
        with fresh_postgres_database() as url:
            settings = seller_settings(tmp_path, world, url)
            engine = make_engine(url)
            migrate(engine)
            setup = Runtime.from_settings(settings, engine=engine)
            setup.issuing.sync_ranges(actor="test:admin")
            context = multiprocessing.get_context("spawn")
            start, results = context.Barrier(WORKERS + 1), context.Queue()  # the race starts once every worker is ready
            workers = [context.Process(target=_worker, args=(settings, total // WORKERS, full, start, results))
                       for _ in range(WORKERS)]  # fmt: skip
            for worker in workers:
                worker.start()
            start.wait(timeout=300)
            began = time.perf_counter()
            for _ in range(3):  # meanwhile, three processes die holding a number they took
                crasher = context.Process(target=_crash, args=(settings,))
                crasher.start()
                crasher.join(timeout=60)
                assert crasher.exitcode == 137
            taken = [results.get(timeout=300) for _ in workers]
            elapsed = time.perf_counter() - began
            for worker in workers:
                worker.join(timeout=30)
                assert worker.exitcode == 0
            numbers = [n for batch, _ in taken for n in batch]
            assert all(len(batch) == total // WORKERS for batch, _ in taken)
            expected = {f"SETP{NUMBERING.from_number + i}" for i in range(total)}
            assert len(numbers) == total and set(numbers) == expected  # no double, no gap
            # Both workers took numbers while the other did (they raced on the range's row).
            first, second = (sorted(int(n[4:]) for n in batch) for batch, _ in taken)
            assert first[0] < second[-1] and second[0] < first[-1]
            with setup.sessions() as s:
                rows = s.execute(sa.select(OutboundDocument.number, OutboundDocument.consecutive,
                                           OutboundDocument.xml_blob)).all()  # fmt: skip
                next_number = s.execute(sa.select(NumberingRange.next_number)).scalar_one()
            assert next_number == NUMBERING.from_number + total
            first_number = NUMBERING.from_number
            assert sorted(r.consecutive for r in rows) == list(range(first_number, first_number + total))
            if full:
                for row in rows[:: total // 20]:  # the signed XML says the number its row took
                    xml = setup.blobs.get(row.xml_blob)
                    assert parse_document(xml).number == row.number == f"SETP{row.consecutive}"
            cpu = sum(seconds for _, seconds in taken)
            print(f"\n{total} {'signed documents' if full else 'numbers'} by {WORKERS} processes on PostgreSQL: "
                  f"{elapsed:.1f} s wall, {cpu / total * 1000:.2f} ms client CPU each")  # fmt: skip
            setup.close()
            engine.dispose()
    finally:
        world.stop()


def test_two_outbox_workers_share_the_queue_and_send_each_document_once(tmp_path: Path) -> None:
    """20 signed invoices queued; two workers (threads, each with its own engine and DIAN client) deliver at once on
    PostgreSQL: FOR UPDATE SKIP LOCKED gives each document to one of them, so DIAN sees each once (no Regla 90)."""
    import threading

    from buzon.runtime import Runtime
    from issuing.request import require_request
    from store.db import make_engine, migrate
    from store.models import AuditEntry, OutboundState
    from tests.integration.issuing_fixtures import invoice_data

    world = make_world(tmp_path / "dian-sim")
    try:
        with fresh_postgres_database() as url:
            settings = seller_settings(tmp_path, world, url)
            engine = make_engine(url)
            migrate(engine)
            setup = Runtime.from_settings(settings, engine=engine)
            setup.issuing.sync_ranges(actor="test:admin")
            request = require_request(invoice_data())
            for _ in range(20):
                setup.issuing.issue(request, actor="test:erp")
            runtimes = [Runtime.from_settings(settings) for _ in range(2)]
            reports: list = []
            barrier = threading.Barrier(2)

            def work(rt: Runtime) -> None:
                service = rt.issuing
                _ = service.ctx
                barrier.wait()
                reports.append(service.deliver(actor="test:worker"))

            threads = [threading.Thread(target=work, args=(rt,)) for rt in runtimes]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=180)
            accepted = [number for report in reports for number in report.accepted]
            assert len(accepted) == 20 and len(set(accepted)) == 20, reports
            assert all(report.accepted for report in reports), "both workers took a share"
            with setup.sessions() as s:
                states = s.execute(sa.select(OutboundDocument.state, OutboundDocument.attempts)).all()
                vias = s.execute(sa.select(AuditEntry.data).where(AuditEntry.action == "outbound.accepted")).scalars()
                assert {via["via"] for via in vias} == {"SendBillSync"}  # none was sent twice
            assert states == [(OutboundState.ACCEPTED, 1)] * 20
            held = world.simulator.store.one("SELECT COUNT(*) AS n FROM document")
            assert held["n"] == 20
            for rt in (*runtimes, setup):
                rt.close()
            engine.dispose()
    finally:
        world.stop()
