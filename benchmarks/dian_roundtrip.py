"""The DIAN client's CPU per call against the signature it carries, and 1 vs 4 client threads, with the simulator in
its own process.

Run from the repository root: ``.venv/bin/python benchmarks/dian_roundtrip.py [--rounds 7] [--batch 21]
[--events 60] [--latency-ms 100] [--before REV]``. Prints figures; asserts nothing.

* Setup (not timed): a seeded simulator data directory, invoices validated in process, events 030/032/033 built
  (one of each per invoice) and left unsigned; then ``buzon dian-sim`` on a free loopback port, in its own process.
* Client CPU per call / signature CPU: in each round (order alternating), the next events are XAdES-signed (thread
  CPU of ``dian.xades.sign``) and sent with ``send_event_update_status`` (thread CPU of the call: zip, envelope,
  WS-Security, HTTP, answer parsing); medians of the rounds' medians. Signing back to back runs with warm caches
  while each call follows a wait for the answer (other processes run meanwhile), so each round also signs and sends
  ``--batch`` events one by one, as the outbox does, and prints that ratio beside it. ``--before REV`` also sends
  half of each round's events through the client as it was at git revision REV (its dian/soap copied to a temporary
  package: zeep, requests and its per-call environment scan), in the same rounds: a before/after ratio from one run.
* Threads: ``--events`` events sent by one thread, then as many by four threads sharing one client, each thread
  whole invoices (030 before 032 before 033); events registered per second, and the simulator process's CPU. Once
  with no answer latency, once with ``--latency-ms`` (the simulator's ``--latency-ms``: DIAN's network and
  processing time, which a real call waits for; 0 skips it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from unittest import mock

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks._measure import process_cpu_seconds, reference_line  # noqa: E402
from benchmarks._scratch import start_simulator, stop  # noqa: E402
from dian.codes import EventCode  # noqa: E402
from dian.simulator import Simulator  # noqa: E402
from dian.soap import DianClient  # noqa: E402
from dian.xades import sign  # noqa: E402
from tests.integration import dian_fixtures  # noqa: E402

BEFORE = "442a731"  # the last revision whose client ran on zeep (and read the environment on every call)
E = EventCode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--batch", type=int, default=21, help="events sent per client per round (whole invoices)")
    parser.add_argument("--events", type=int, default=60, help="events per thread configuration")
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--before", default=BEFORE, help="git revision of the client to compare with ('' for none)")
    args = parser.parse_args()
    print(reference_line())
    with tempfile.TemporaryDirectory() as folder:
        run(Path(folder), args)


class _Events:
    """Unsigned events in send order (030, 032, 033 per invoice), signed on demand."""

    def __init__(self, world: dian_fixtures.DianWorld, invoices: int) -> None:
        self.pending: list[tuple[bytes, object, dt.datetime]] = []
        now = dt.datetime.now(dt.UTC)
        captured: list[tuple[bytes, object, dt.datetime]] = []

        def keep(xml: bytes, identity: object, *, signing_time: dt.datetime) -> bytes:
            captured.append((xml, identity, signing_time))
            return xml

        for i in range(invoices):
            at = now - dt.timedelta(hours=3, seconds=i)
            invoice = world.invoice(at=at)
            world.simulator.validate(invoice)
            with mock.patch.object(dian_fixtures, "sign", keep):
                for minutes, code in ((10, E.ACUSE_RECIBO), (20, E.RECIBO_BIEN), (30, E.ACEPTACION_EXPRESA)):
                    world.event(code, invoice, at=at + dt.timedelta(minutes=minutes))
        self.pending = captured

    def take(self, count: int) -> list[tuple[bytes, object, dt.datetime]]:
        taken, self.pending = self.pending[:count], self.pending[count:]
        if len(taken) < count:
            raise SystemExit("not enough events prepared")
        return taken


def _before_client(revision: str, folder: Path) -> type | None:
    """DianClient as it was at ``revision``, imported from a copy of that revision's dian/soap."""
    if not revision:
        return None
    package = folder / "_soap_before"
    (package / "wsdl").mkdir(parents=True)
    names = subprocess.run(
        ["git", "ls-tree", "--name-only", f"{revision}:dian/soap"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    for name in names:
        if name.endswith(".py"):
            text = subprocess.run(
                ["git", "show", f"{revision}:dian/soap/{name}"], cwd=REPO, capture_output=True, text=True, check=True
            ).stdout
            (package / name).write_text(re.sub(r"\bdian\.soap\b", "_soap_before", text))
    wsdl = subprocess.run(
        ["git", "show", f"{revision}:dian/soap/wsdl/WcfDianCustomerServices.wsdl"], cwd=REPO, capture_output=True,
        check=True,
    ).stdout  # fmt: skip
    (package / "wsdl" / "WcfDianCustomerServices.wsdl").write_bytes(wsdl)
    sys.path.insert(0, str(folder))
    return importlib.import_module("_soap_before").DianClient


def _send(client, batch: list[bytes]) -> list[float]:
    cpu = []
    for xml in batch:
        t0 = time.thread_time()
        answer = client.send_event_update_status("ar.xml", xml)
        cpu.append(time.thread_time() - t0)
        if not answer.accepted:
            raise SystemExit(f"an event was not registered: {answer.status_code}")
    return cpu


def _sign(batch: list[tuple[bytes, object, dt.datetime]]) -> tuple[list[bytes], list[float]]:
    signed, cpu = [], []
    for xml, identity, at in batch:
        t0 = time.thread_time()
        signed.append(sign(xml, identity, signing_time=at))
        cpu.append(time.thread_time() - t0)
    return signed, cpu


def _throughput(url: str, identity, events: _Events, count: int, threads: int, pid: int) -> tuple[float, float]:
    """Events registered per second with ``threads`` threads sharing one client; the simulator's CPU per event."""
    signed, _ = _sign(events.take(count))
    batches: list[list[bytes]] = [[] for _ in range(threads)]
    for index in range(0, len(signed), 3):
        batches[(index // 3) % threads].extend(signed[index : index + 3])
    client = DianClient(url, identity)
    client.get_status("warm-up")  # the WSDL table and one connection, outside the timing
    server_before = process_cpu_seconds(pid) or 0.0
    workers = [threading.Thread(target=_send, args=(client, b)) for b in batches]
    t0 = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    seconds = time.perf_counter() - t0
    server = (process_cpu_seconds(pid) or 0.0) - server_before
    client.close()
    return count / seconds, server / count


def run(folder: Path, args: argparse.Namespace) -> None:
    data = folder / "sim"
    simulator = Simulator(data)
    simulator.seed(dian_fixtures.SEED)
    world = dian_fixtures.DianWorld(
        simulator=simulator,
        server=None,  # type: ignore[arg-type]
        seller=simulator.issue_identity(dian_fixtures.SELLER_NIT, "PROVEEDOR DE PRUEBA S.A.S."),
        buyer=simulator.issue_identity(dian_fixtures.BUYER_NIT, "EMPRESA COMPRADORA S.A.S."),
        provider=simulator.issue_identity(dian_fixtures.PROVIDER_NIT, "SOFTWARE DE PRUEBA S.A.S."),
        stranger=simulator.issue_identity(dian_fixtures.STRANGER_NIT, "OTRA EMPRESA S.A.S."),
    )
    before_class = _before_client(args.before, folder)
    per_round = args.batch * (2 if before_class else 1)
    needed = args.rounds * (per_round + args.batch) + 2 * args.events * (2 if args.latency_ms else 1)
    started = time.perf_counter()
    events = _Events(world, (needed + 2) // 3 + 1)
    simulator.close()
    seconds = time.perf_counter() - started
    print(f"setup: {len(events.pending)} events built, their invoices validated, in {seconds:.1f} s")

    process, url = start_simulator(data, 0.0)
    try:
        after = DianClient(url, world.buyer)
        after.get_status("warm-up")
        before = before_class(url, world.buyer) if before_class else None
        if before is not None:
            before.get_status("warm-up")
        signs, calls, olds, paired_signs, paired_calls = [], [], [], [], []
        for r in range(args.rounds):
            signed, sign_cpu = _sign(events.take(per_round))
            signs.append(statistics.median(sign_cpu))
            halves = [("after", signed[: args.batch])]
            if before is not None:
                halves.append(("before", signed[args.batch :]))
            for name, batch in halves if r % 2 == 0 else reversed(halves):
                cpu = _send(after if name == "after" else before, batch)
                (calls if name == "after" else olds).append(statistics.median(cpu))
            one_sign, one_call = [], []
            for event in events.take(args.batch):  # the outbox's order: sign one event, send it, next
                (xml,), sign_cpu = _sign([event])
                one_sign += sign_cpu
                one_call += _send(after, [xml])
            paired_signs.append(statistics.median(one_sign))
            paired_calls.append(statistics.median(one_call))
        ms = lambda v: f"{v * 1000:.2f} ms"  # noqa: E731
        sign_ms, call_ms = statistics.median(signs), statistics.median(calls)
        print(f"signing one event (dian.xades.sign), median thread CPU: {ms(sign_ms)}")
        print(f"client CPU per send_event_update_status call, median: {ms(call_ms)}")
        print(f"client CPU per call / signature CPU: {call_ms / sign_ms:.2f}x (target <= 1.5x)")
        paired_sign, paired_call = statistics.median(paired_signs), statistics.median(paired_calls)
        print(f"signed then sent one by one (the outbox's order, both after the previous call's wait): signature "
              f"{ms(paired_sign)}, call {ms(paired_call)} = {paired_call / paired_sign:.2f}x")  # fmt: skip
        if before is not None:
            old_ms = statistics.median(olds)
            print(f"client at {args.before} (zeep, environment read per call): {ms(old_ms)} per call = "
                  f"{old_ms / sign_ms:.2f}x the signature; this client is {old_ms / call_ms:.2f}x cheaper")  # fmt: skip
            before.close()
        after.close()

        one, server_one = _throughput(url, world.buyer, events, args.events, 1, process.pid)
        four, server_four = _throughput(url, world.buyer, events, args.events, 4, process.pid)
        print(f"no answer latency: 1 thread {one:.1f} events/s, 4 threads {four:.1f} events/s = {four / one:.2f}x "
              f"(simulator process CPU per event {ms(server_one)} / {ms(server_four)}; 2 cores shared)")  # fmt: skip
    finally:
        stop(process)

    if args.latency_ms:
        process, url = start_simulator(data, args.latency_ms)
        try:
            one, _ = _throughput(url, world.buyer, events, args.events, 1, process.pid)
            four, _ = _throughput(url, world.buyer, events, args.events, 4, process.pid)
            print(f"answer latency {args.latency_ms:g} ms (DIAN's network and processing): 1 thread {one:.1f} "
                  f"events/s, 4 threads {four:.1f} events/s = {four / one:.2f}x (target >= 3x)")  # fmt: skip
        finally:
            stop(process)


if __name__ == "__main__":
    main()
