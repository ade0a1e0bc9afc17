"""Issuing with 1 vs 2 worker processes on one PostgreSQL database sharing one DIAN numbering range: each process
validates, takes the next consecutive, builds, signs and stores invoices through issuing.service (the number is taken
in the transaction that stores the signed document, so the range's row is held while the document is signed);
``--send`` also sends each one to the DIAN simulator (SendBillSync over HTTP) before the next.

Run from the repository root: ``.venv/bin/python benchmarks/issuing_workers.py [--documents 1000] [--rounds 3]
[--send]``.
Prints figures and checks, after every run, that the consecutives are exactly the first N of the range (no gap, no
double). Each run uses a fresh scratch database ``buzon_bench_issuing_<pid>_<n>`` (created and dropped here). Rounds
are interleaved (1, 2, 1, 2…); medians. Wall time from the moment both workers start issuing (their start-up and
certificate loading excluded) to the last one done; CPU: the workers' own (process_time, reported by each), every
postgres process's (sampled from /proc before and after), and this process's (the simulator's thread, with --send).
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import sqlalchemy as sa  # noqa: E402

from benchmarks._measure import ServerCPU, reference_line  # noqa: E402
from benchmarks._scratch import scratch_database  # noqa: E402

PG_ADMIN = os.environ.get("BUZON_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def worker(settings, count: int, send: bool, ready, start, results) -> None:  # type: ignore[no-untyped-def]
    """One issuing process: its own runtime, engine and DIAN client."""
    from buzon.runtime import Runtime
    from issuing.request import require_request
    from tests.integration.issuing_fixtures import invoice_data

    runtime = Runtime.from_settings(settings)
    try:
        service = runtime.issuing
        _ = service.ctx
        client = runtime.dian_client() if send else None
        request = require_request(invoice_data())
        with runtime.sessions() as s:  # its PostgreSQL backend exists before the clock starts (its CPU is counted)
            s.execute(sa.text("SELECT 1"))
        ready.release()
        start.wait()
        began = time.process_time()
        states = [service.issue(request, actor="bench", deliver=send, client=client).state.value for _ in range(count)]
        results.put((time.process_time() - began, states))
        if client is not None:
            client.close()
    finally:
        runtime.close()


def run(tmp: Path, processes: int, documents: int, send: bool, label: str) -> dict[str, float]:
    """One run on a fresh database and a fresh simulator (which has seen none of the numbers)."""
    from buzon.runtime import Runtime
    from store.db import make_engine, migrate
    from store.models import NumberingRange, OutboundDocument
    from tests.integration.dian_fixtures import NUMBERING, make_world
    from tests.integration.titles_fixtures import seller_settings

    folder = tmp / label
    world = make_world(folder / "dian-sim")
    with scratch_database(label) as url, contextlib.ExitStack() as cleanup:
        cleanup.callback(world.stop)
        settings = seller_settings(folder, world, url)
        engine = make_engine(url)
        migrate(engine)
        setup = Runtime.from_settings(settings, engine=engine)
        setup.issuing.sync_ranges(actor="bench")
        context = multiprocessing.get_context("spawn")
        ready, start, results = context.Semaphore(0), context.Event(), context.Queue()
        share = documents // processes
        procs = [context.Process(target=worker, args=(settings, share, send, ready, start, results))
                 for _ in range(processes)]  # fmt: skip
        for proc in procs:
            proc.start()
        for _ in procs:
            ready.acquire()
        with ServerCPU() as server:
            wall, own = time.perf_counter(), time.process_time()
            start.set()
            done = [results.get(timeout=900) for _ in procs]
            wall, own = time.perf_counter() - wall, time.process_time() - own
        for proc in procs:
            proc.join(timeout=60)
        with setup.sessions() as s:
            taken = sorted(s.execute(sa.select(OutboundDocument.consecutive)).scalars())
            next_number = s.execute(sa.select(NumberingRange.next_number)).scalar_one()
        total = share * processes
        expected = list(range(NUMBERING.from_number, NUMBERING.from_number + total))
        assert taken == expected and next_number == NUMBERING.from_number + total, "gap or double in the consecutive"
        if send:
            states = [state for _, batch in done for state in batch]
            if states.count("accepted") != total:
                with setup.sessions() as s:
                    said = s.execute(sa.select(OutboundDocument.dian_messages).limit(1)).scalar_one()
                raise AssertionError(f"{total - states.count('accepted')} not accepted; DIAN said {said}")
        setup.close()
        engine.dispose()
        client_cpu = sum(seconds for seconds, _ in done)
        return {"wall": wall, "per_second": total / wall, "client_ms": client_cpu / total * 1000,
                "server_ms": (server.seconds or 0.0) / total * 1000, "simulator_ms": own / total * 1000}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--send", action="store_true", help="Also send each document to the simulator.")
    args = parser.parse_args()
    try:
        sa.create_engine(PG_ADMIN).connect().close()
    except Exception as exc:  # a benchmark reports what it could not measure
        print(f"PostgreSQL unreachable at {PG_ADMIN}: {exc.__class__.__name__}; nothing measured")
        return
    print(reference_line())
    figures: dict[int, list[dict[str, float]]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory() as name:
        for round_ in range(args.rounds):
            for processes in (1, 2):
                label = f"{round_}_{processes}"
                figures[processes].append(run(Path(name), processes, args.documents, args.send, label))
    what = "issued and sent (SendBillSync)" if args.send else "issued (signed and stored, not sent)"
    print(f"{args.documents} invoices {what}, one numbering range, PostgreSQL; medians of {args.rounds} rounds")
    medians = {}
    for processes, runs in figures.items():
        median = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        medians[processes] = median
        print(f"  {processes} process(es): {median['wall']:.2f} s, {median['per_second']:.0f} documents/s; CPU per "
              f"document: workers {median['client_ms']:.2f} ms, PostgreSQL {median['server_ms']:.2f} ms"
              + (f", simulator {median['simulator_ms']:.2f} ms" if args.send else ""))  # fmt: skip
    print(f"  2 vs 1 process: {medians[2]['per_second'] / medians[1]['per_second']:.2f}× the documents per second "
          "(no gap, no double in every run)")  # fmt: skip


if __name__ == "__main__":
    main()
