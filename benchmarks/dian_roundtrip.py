"""Events submitted and registered per second through the client and the simulator over loopback HTTP.

Run from the repository root: ``.venv/bin/python benchmarks/dian_roundtrip.py [--events 300] [--threads 4]``.
Prints figures; asserts nothing.

* Setup (not timed): a seeded simulator on a free loopback port, invoices validated in process, and 030/032/033
  events built and XAdES-signed by the buyer beforehand (one of each per invoice, as DIAN allows).
* Throughput: the signed events submitted with ``send_event_update_status`` from ``--threads`` clients; every answer
  must be StatusCode 00 (registered).
* Client overhead per call: wall time of the client call minus ``requests``' elapsed time (request sent → answer
  headers), i.e. zipping, zeep serialization, the WS-Security signature and parsing the answer.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from dian.codes import EventCode  # noqa: E402
from dian.soap import DianClient  # noqa: E402
from tests.integration.dian_fixtures import make_world  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        world = make_world(Path(folder) / "sim")
        try:
            run(world, args.events, args.threads)
        finally:
            world.stop()


def run(world, total: int, threads: int) -> None:
    now = dt.datetime.now(dt.UTC)
    invoices = (total + 2) // 3
    started = time.perf_counter()
    events: list[bytes] = []
    for i in range(invoices):
        at = now - dt.timedelta(hours=3, seconds=i)
        invoice = world.invoice(at=at)
        world.simulator.validate(invoice)
        events.append(world.event(EventCode.ACUSE_RECIBO, invoice, at=at + dt.timedelta(minutes=10)))
        events.append(world.event(EventCode.RECIBO_BIEN, invoice, at=at + dt.timedelta(minutes=20)))
        events.append(world.event(EventCode.ACEPTACION_EXPRESA, invoice, at=at + dt.timedelta(minutes=30)))
    events = events[:total]
    print(
        f"setup: {invoices} invoices validated and {len(events)} events signed in {time.perf_counter() - started:.1f} s"
    )

    # Events of one invoice must arrive in order (030 before 032 before 033): give each thread whole invoices.
    per_thread: list[list[bytes]] = [[] for _ in range(threads)]
    for index in range(0, len(events), 3):
        per_thread[(index // 3) % threads].extend(events[index : index + 3])
    clients = [DianClient(world.url, world.buyer) for _ in range(threads)]
    overheads: list[float] = []
    latencies: list[float] = []
    registered = [0]
    lock = threading.Lock()

    def worker(client: DianClient, batch: list[bytes]) -> None:
        elapsed: list[float] = []
        client.session.hooks["response"].append(lambda r, *a, **k: elapsed.append(r.elapsed.total_seconds()))
        own_over, own_lat, ok = [], [], 0
        for xml in batch:
            t0 = time.perf_counter()
            answer = client.send_event_update_status("ar.xml", xml)
            wall = time.perf_counter() - t0
            ok += answer.accepted
            own_lat.append(wall)
            own_over.append(wall - elapsed[-1])
        with lock:
            overheads.extend(own_over)
            latencies.extend(own_lat)
            registered[0] += ok

    workers = [threading.Thread(target=worker, args=(c, b)) for c, b in zip(clients, per_thread, strict=True)]
    t0 = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    seconds = time.perf_counter() - t0
    for c in clients:
        c.close()
    ms = lambda v: f"{v * 1000:.1f} ms"  # noqa: E731
    print(f"submitted {len(events)} events with {threads} client thread(s) in {seconds:.2f} s")
    print(f"registered {registered[0]} ({registered[0] / seconds:.1f} events/s registered)")
    print(
        f"latency per call: median {ms(statistics.median(latencies))}, "
        f"p95 {ms(sorted(latencies)[int(0.95 * len(latencies)) - 1])}"
    )
    print(
        f"client overhead per call (wall - HTTP elapsed): median {ms(statistics.median(overheads))}, "
        f"mean {ms(statistics.fmean(overheads))}"
    )


if __name__ == "__main__":
    main()
