"""The endorsement watch: titles watched per second per core in one sweep, with DIAN's simulator in its own process.

Run from the repository root: ``.venv/bin/python benchmarks/radian_watch.py [--titles 10000] [--changed 300]
[--latency-ms 100] [--rate 400] [--concurrency 32] [--rounds 2]``. Prints figures; asserts nothing. The issue's aim:
10,000 unpaid invoices swept in <= 60 s, DIAN's calls concurrent within the configured rate.

* Setup (not timed). The simulator's data directory is seeded in process: ``--changed`` real credit invoices from
  the supplier, validated, then accepted (030, 032, 033 by the buyer), registered (036) and endorsed to a factor
  (037) by the simulator's counterparts (``Simulator.counterparts.act``, the admin API's code); the other invoices are
  copies of one validated invoice with their own number and CUFE written straight into the simulator's store (it
  parses, not verifies, an invoice to answer GetStatusEvent), so DIAN knows them all and answers 67 "no events" for
  those, the common case. A scratch PostgreSQL database ``buzon_bench_<pid>`` (created, migrated, dropped) receives
  every invoice as an accepted received credit invoice with our 030/032/033 registered, by bulk Core inserts.
  Then ``buzon dian-sim --latency-ms`` serves that directory in its own process (the latency: DIAN's network and
  processing time, slept per SOAP answer).
* Timed: ``radian.watch.sweep`` as the job runs it (the Runtime's sessions, events context and DIAN client) with
  ``watch_rate_per_second = --rate``, ``watch_concurrency = --concurrency`` and a batch of every title. The first
  sweep enrols every invoice, asks DIAN about each, re-schedules the unchanged ones in bulk and settles the
  ``--changed`` endorsed ones (their 036 and 037 fetched, proven, replayed: the payee moves to the factor, alerts
  raised). Then ``--rounds`` steady sweeps with every title due again and nothing new. Each: wall seconds, this
  process's CPU, the scratch database's backends' CPU (benchmarks/_measure.py), the simulator process's CPU, and
  titles per second per core = titles / (client + PostgreSQL + simulator CPU), and how long the sweep's thread spent
  settling (timed in place, while the other threads asked).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import sqlalchemy as sa  # noqa: E402
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12  # noqa: E402

from benchmarks._measure import ServerCPU, backend_pids, process_cpu_seconds, reference_line  # noqa: E402
from benchmarks._scratch import scratch_database, start_simulator, stop  # noqa: E402
from dian.codes import DocumentState, DocumentType, Environment, EventCode, PaymentMeans  # noqa: E402
from dian.nit import check_digit  # noqa: E402
from dian.simulator import Simulator  # noqa: E402
from dian.ubl import parse_document  # noqa: E402
from tests.integration import dian_fixtures  # noqa: E402

PG_ADMIN_URL = os.environ.get("BUZON_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
FACTOR = {"nit": "901777888", "name": "FACTOR DE PRUEBA S.A.S."}
E = EventCode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--titles", type=int, default=10_000)
    parser.add_argument("--changed", type=int, default=300, help="titles registered (036) and endorsed (037)")
    parser.add_argument("--latency-ms", type=float, default=100.0, help="the simulator's answer time per SOAP call")
    parser.add_argument("--rate", type=float, default=400.0, help="radian.watch_rate_per_second")
    parser.add_argument("--concurrency", type=int, default=32, help="radian.watch_concurrency")
    parser.add_argument("--rounds", type=int, default=2, help="steady sweeps after the first")
    parser.add_argument("--profile", type=Path, help="also profile the first sweep, one thread, into this file")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a stopped run still drops its database
    print(reference_line())
    try:
        with sa.create_engine(PG_ADMIN_URL).connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        print(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc.__class__.__name__}; nothing measured")
        return
    with tempfile.TemporaryDirectory(prefix="radian-watch-") as folder, scratch_database() as url:
        run(Path(folder), url, args)


# -- setup ------------------------------------------------------------------------------------------------------


class Seed:
    """What both sides must agree on: every invoice (CUFE, number, dates, amount) and our own events on it."""

    def __init__(self) -> None:
        self.invoices: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []  # our 030/032/033: (cufe, code, cude, number, signed_at)


def _world(data: Path) -> dian_fixtures.DianWorld:
    simulator = Simulator(data)
    simulator.seed(dian_fixtures.SEED)
    return dian_fixtures.DianWorld(
        simulator=simulator,
        server=None,  # type: ignore[arg-type]  # in process only; the timed part runs `buzon dian-sim`
        seller=simulator.issue_identity(dian_fixtures.SELLER_NIT, "PROVEEDOR DE PRUEBA S.A.S."),
        buyer=simulator.issue_identity(dian_fixtures.BUYER_NIT, "EMPRESA COMPRADORA S.A.S."),
        provider=simulator.issue_identity(dian_fixtures.PROVIDER_NIT, "SOFTWARE DE PRUEBA S.A.S."),
        stranger=simulator.issue_identity(dian_fixtures.STRANGER_NIT, "OTRA EMPRESA S.A.S."),
    )


def _summary(xml: bytes) -> dict[str, Any]:
    doc = parse_document(xml)
    return {"cufe": doc.uuid.lower(), "number": doc.number, "issue_date": doc.issue_date,  # type: ignore[union-attr]
            "issued_at": doc.issued_at, "due_date": doc.due_date,  # type: ignore[union-attr]
            "payable": doc.monetary_total.payable, "base": doc.monetary_total.line_extension}  # type: ignore[union-attr]  # fmt: skip


def _act(world: dian_fixtures.DianWorld, spec: dict[str, Any]) -> dict[str, Any]:
    answer = world.simulator.counterparts.act(spec).to_json()
    if not answer.get("registered"):
        raise SystemExit(f"the simulator refused {spec['action']}: {answer.get('errors')}")
    return answer


def seed_simulator(world: dian_fixtures.DianWorld, titles: int, changed: int) -> Seed:
    """The invoices DIAN knows; ``changed`` of them accepted, registered and endorsed to the factor."""
    seed = Seed()
    now = dt.datetime.now(dt.UTC)
    for i in range(changed):
        xml = world.invoice(at=now - dt.timedelta(days=2, seconds=i))
        world.simulator.validate(xml)
        invoice = _summary(xml)
        seed.invoices.append(invoice)
        for action, code in (("acknowledge", E.ACUSE_RECIBO), ("receipt", E.RECIBO_BIEN),
                             ("accept", E.ACEPTACION_EXPRESA)):  # fmt: skip
            done = _act(world, {"action": action, "cufe": invoice["cufe"]})
            signed_at = dt.datetime.fromisoformat(done["signed_at"])
            seed.events.append({"cufe": invoice["cufe"], "code": code, "cude": done["cude"].lower(),
                                "number": done["number"], "signed_at": signed_at})  # fmt: skip
        _act(world, {"action": "register", "cufe": invoice["cufe"]})
        _act(world, {"action": "endorse", "cufe": invoice["cufe"], "to": FACTOR, "rate": "2.5"})
    # The others: one validated invoice, copied with a number and CUFE of its own straight into the simulator's store.
    template = world.invoice(at=now - dt.timedelta(days=1))
    world.simulator.validate(template)
    first = _summary(template)
    store = world.simulator.store
    row = store.one("SELECT * FROM document WHERE key = ?", first["cufe"])
    assert row is not None
    rows = []
    for i in range(titles - changed):
        number = f"SETB{i:08d}"
        cufe = hashlib.sha384(f"bench-{os.getpid()}-{i}".encode()).hexdigest()
        xml = bytes(row["xml"]).replace(first["cufe"].encode(), cufe.encode()).replace(
            first["number"].encode(), number.encode())  # fmt: skip
        rows.append((cufe, "invoice", number, row["issuer_nit"], row["receiver_nit"], row["type_code"],
                     row["payment_means"], row["signing_time"], None, xml, bytes(row["answer"]),
                     row["validated_at"]))  # fmt: skip
        seed.invoices.append({**first, "cufe": cufe, "number": number})
    with store.transaction() as db:
        db.executemany("INSERT INTO document VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return seed


def seed_buzon(engine: sa.Engine, seed: Seed, blob_key: str) -> None:
    """Every invoice as an accepted received credit invoice, our 030/032/033 registered on the endorsed ones."""
    from store.models import Direction, DocumentEvent, ReceivedDocument, SubmissionState, Verdict

    seller, buyer = dian_fixtures.SELLER, dian_fixtures.BUYER
    now = dt.datetime.now(dt.UTC)
    docs = [
        {"cufe": inv["cufe"], "document_type": DocumentType.INVOICE, "environment": Environment.TESTING,
         "number": inv["number"], "prefix": "SETP", "issuer_nit": seller.nit, "issuer_dv": seller.dv,
         "issuer_name": seller.registration_name, "buyer_nit": buyer.nit, "buyer_name": buyer.registration_name,
         "issue_date": inv["issue_date"], "issued_at": inv["issued_at"], "due_date": inv["due_date"],
         "payment_means": PaymentMeans.CREDIT, "currency": "COP", "line_extension_amount": inv["base"],
         "tax_exclusive_amount": inv["base"], "tax_inclusive_amount": inv["payable"],
         "payable_amount": inv["payable"], "signed_xml_blob": blob_key, "verdict": Verdict.VALID,
         "state": DocumentState.ACCEPTED, "created_at": now, "updated_at": now}
        for inv in seed.invoices
    ]  # fmt: skip
    with engine.begin() as conn:
        for start in range(0, len(docs), 1000):
            conn.execute(sa.insert(ReceivedDocument), docs[start : start + 1000])
        ids = dict(conn.execute(sa.select(ReceivedDocument.cufe, ReceivedDocument.id)).all())
        events = [
            {"document_id": ids[e["cufe"]], "code": e["code"], "direction": Direction.EMITTED, "number": e["number"],
             "cude": e["cude"], "referenced_cufe": e["cufe"], "sender_nit": buyer.nit, "receiver_nit": seller.nit,
             "signing_time": e["signed_at"], "submission_state": SubmissionState.REGISTERED,
             "dian_status_code": "00", "registered_at": e["signed_at"], "actor": "bench", "created_at": now,
             "updated_at": now}
            for e in seed.events
        ]  # fmt: skip
        for start in range(0, len(events), 1000):
            conn.execute(sa.insert(DocumentEvent), events[start : start + 1000])


def _settings(folder: Path, world: dian_fixtures.DianWorld, url: str, endpoint: str, args: argparse.Namespace) -> Any:
    from buzon.config import parse_settings

    trust = folder / "trust"
    trust.mkdir(exist_ok=True)
    shutil.copy(world.simulator.ca_certificate_path, trust / "simulator-ca.pem")
    identity = world.buyer
    p12 = folder / "empresa.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"buzon", identity.key, identity.certificate, list(identity.chain), BestAvailableEncryption(b"clave")
        )
    )
    buyer = dian_fixtures.BUYER_NIT
    return parse_settings({
        "data_dir": str(folder / "buzon"),
        "database": {"url": url},
        "company": {"nit": f"{buyer}-{check_digit(buyer)}", "name": "EMPRESA COMPRADORA S.A.S.",
                    "reception_email": "recepcion@compradora.test"},
        "certificate": {"pkcs12_path": str(p12), "password": "clave"},
        "dian": {"environment": "simulator", "endpoint": endpoint, "trust_store": str(trust),
                 "software_id": dian_fixtures.BUYER_SW.software_id, "software_pin": dian_fixtures.BUYER_SW.pin,
                 "read_timeout": 30, "connect_timeout": 5},
        "radian": {"watch_rate_per_second": args.rate, "watch_concurrency": args.concurrency,
                   "watch_batch": args.titles, "watch_interval": 3600},
    }, base=folder)  # fmt: skip


# -- the timed sweeps -------------------------------------------------------------------------------------------


class Phases:
    """Wall seconds the sweep's own thread spends settling changed titles, timed in place (the module's function);
    the looks go on in the other threads meanwhile."""

    def __init__(self, watch: Any) -> None:
        self.watch, self.settle = watch, 0.0
        self._settle = watch._settle_one

    def __enter__(self) -> Phases:
        def settle_one(*a: Any, **k: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return self._settle(*a, **k)
            finally:
                self.settle += time.perf_counter() - t0

        self.watch._settle_one = settle_one
        return self

    def __exit__(self, *exc: object) -> None:
        self.watch._settle_one = self._settle


def timed_sweep(rt: Any, sim_pid: int, profile: Path | None = None) -> tuple[Any, dict[str, float]]:
    """One sweep as the job runs it: its report and wall, client, PostgreSQL and simulator CPU seconds."""
    from buzon.jobs import watch_plan
    from radian import watch
    from radian.watch import sweeping

    plan = watch_plan(rt.settings)
    engine = rt.engine
    # Open the pool's connections first, so that every backend the sweep uses is counted.
    held = [engine.connect() for _ in range(3)]
    for conn in held:
        conn.execute(sa.text("SELECT 1"))
    pids = backend_pids(held[0])
    for conn in held:
        conn.close()
    sim_before = process_cpu_seconds(sim_pid) or 0.0
    with ServerCPU(pids) as server, Phases(sweeping) as phases:
        wall, cpu = time.perf_counter(), time.process_time()
        if profile is None:
            report = watch.sweep(rt.sessions, rt.ctx, rt.dian_client, plan)
        else:  # one thread, so that cProfile sees the calls to DIAN too
            import cProfile

            with cProfile.Profile(time.process_time) as profiler:
                report = watch.sweep(rt.sessions, rt.ctx, rt.dian_client, replace(plan, concurrency=1))
            profiler.dump_stats(profile)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    sim = (process_cpu_seconds(sim_pid) or 0.0) - sim_before
    return report, {"wall": wall, "client": cpu, "server": server.seconds or 0.0, "simulator": sim,
                    "settle": phases.settle}  # fmt: skip


def _print(name: str, report: Any, f: dict[str, float], titles: int) -> None:
    cpu = f["client"] + f["server"] + f["simulator"]
    print(f"{name}: {titles} titles asked={report.asked} unchanged={report.unchanged} settled={report.settled} "
          f"observed={report.observed} holder_changed={report.holder_changed} failed={report.failed} "
          f"unproven={report.unproven}")  # fmt: skip
    print(f"  wall {f['wall']:.1f} s ({titles / f['wall']:.0f} titles/s; of which the sweep's thread settling "
          f"{f['settle']:.1f} s while the others asked)")  # fmt: skip
    print(f"  CPU: client {f['client']:.1f} s, PostgreSQL server {f['server']:.1f} s, simulator {f['simulator']:.1f} s "
          f"= {cpu:.1f} s -> {titles / cpu:.0f} titles/s per core "
          f"({1000 * f['client'] / titles:.2f} ms client CPU per title)")  # fmt: skip
    if report.errors:
        print(f"  errors (first): {report.errors[:3]}")


def _all_due(rt: Any) -> None:
    from store.models import ValueTitle

    with rt.sessions() as s:
        s.execute(sa.update(ValueTitle).values(next_watch_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
        s.commit()


def run(folder: Path, url: str, args: argparse.Namespace) -> None:
    from buzon import jobs
    from store.db import make_engine, migrate

    data = folder / "sim"
    started = time.perf_counter()
    world = _world(data)
    seed = seed_simulator(world, args.titles, args.changed)
    engine = make_engine(url)
    migrate(engine)
    world.simulator.close()
    process, endpoint = start_simulator(data, args.latency_ms)
    try:
        settings = _settings(folder, world, url, endpoint, args)
        rt = jobs.configure(settings, engine=engine)
        seed_buzon(engine, seed, rt.blobs.put(b"<Invoice/>"))
        with engine.connect() as conn:
            conn.execute(sa.text("ANALYZE"))
            conn.commit()
        print(f"setup: {args.titles} invoices ({args.changed} accepted, registered and endorsed to a factor at the "
              f"simulator) in {time.perf_counter() - started:.1f} s; simulator answer latency {args.latency_ms:g} "
              f"ms; watch_rate_per_second {args.rate:g}, watch_concurrency {args.concurrency}")  # fmt: skip
        try:
            report, figures = timed_sweep(rt, process.pid, args.profile)
            _print("first sweep (enrols every title, settles the endorsed ones)", report, figures, args.titles)
            for r in range(args.rounds):
                _all_due(rt)
                report, figures = timed_sweep(rt, process.pid)
                _print(f"steady sweep {r + 1} (every title due, nothing new)", report, figures, args.titles)
        finally:
            rt.close()
    finally:
        stop(process)
        engine.dispose()


if __name__ == "__main__":
    main()
