"""Latency of the web at 200k received documents in PostgreSQL and SQLite: the inbox list, its search box and
filters, and a document page, p50/p95.

Run from the repository root:
``.venv/bin/python benchmarks/web.py [--documents 200000] [--requests 200] [--database postgresql|sqlite|both]``.
Prints figures; asserts nothing. Aims (issues 7 and 15): p95 ≤ 100 ms for the list, its search and filters, ≤ 150 ms
for a document page.

* Setup (not timed): a fresh PostgreSQL database (tests.services.fresh_postgres_database) or SQLite file, migrated;
  ``--documents`` received documents written with COPY on PostgreSQL, Core INSERTs on SQLite (realistic rows: three
  lines, two taxes, a twelve-check verification report, 500 suppliers with accented names, every state, claim
  windows on the goods_received ones, a PDF on file); VACUUM ANALYZE on PostgreSQL, ANALYZE on SQLite. With
  ``--keep DIR`` the filled databases are kept (SQLite in DIR, PostgreSQL as buzon_bench_<documents>) and reused.
* Requests go through the Flask test client (the whole app: routing, the role check, the session cookie, the
  query, the template), signed in as a clerk, one at a time, after a warm-up; the lines are run on each database in
  turn, ``--rounds`` times over, so that a change in the machine's load falls on both alike. Besides p50/p95/max,
  each line's CPU per request: this process's (Flask, the template, and SQLite itself) and, on PostgreSQL, the
  server's (its backends' user + system time from /proc/<pid>/stat).
* ``--explain`` prints instead the plan of every SELECT one request of each line runs: EXPLAIN (ANALYZE, BUFFERS) on
  PostgreSQL (the rows and buffers do not depend on the machine's load), EXPLAIN QUERY PLAN on SQLite.
* Inbox: the first page (newest first); a deep page with a filter (status=acknowledged, entered through a cursor
  about 40 000 rows down that state's keyset order); a supplier's deep page; a search by CUFE; a sort by amount;
  the one search box as people type (an accent-less name word matching a few hundred documents, one matching a
  tenth of them, part of an invoice number, a CUFE prefix, a NIT with dots and check digit); the deadline filter;
  the saved views; a purchase order, and the invoices that cite none (98 % of the rows cite one: a buyer who demands
  them); each with its "N documentos coinciden" counter.
* Document: ``GET /documentos/<id>`` for random documents (the events service is not configured, so the page states
  that the actions are unavailable instead of evaluating dian.rules); ``GET /api/v1/documents/<cufe>`` likewise.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import sqlalchemy as sa  # noqa: E402

from buzon.config import default_settings  # noqa: E402
from dian.calendar import BusinessCalendar  # noqa: E402
from dian.codes import DocumentState  # noqa: E402
from store.db import make_engine, migrate  # noqa: E402
from store.models import ReceivedDocument, Role, User  # noqa: E402
from store.search import search_text  # noqa: E402
from tests.services import PG_ADMIN_URL, fresh_postgres_database  # noqa: E402
from tests.web.conftest import add_user, sign_in  # noqa: E402
from web.app import create_app  # noqa: E402
from web.query import SORTS, InboxQuery, encode_cursor  # noqa: E402
from web.search import statement  # noqa: E402

STATES = [  # roughly how a year of invoices is spread
    (DocumentState.ACCEPTED, 40),
    (DocumentState.TACITLY_ACCEPTED, 15),
    (DocumentState.ACKNOWLEDGED, 20),
    (DocumentState.GOODS_RECEIVED, 10),
    (DocumentState.VALIDATED, 10),
    (DocumentState.CLAIMED, 3),
    (DocumentState.INVALID, 2),
]
COLUMNS = (
    "cufe", "document_type", "environment", "number", "prefix", "issuer_nit", "issuer_dv", "issuer_name", "buyer_nit",
    "buyer_name", "issue_date", "issued_at", "due_date", "payment_means", "currency", "line_extension_amount",
    "tax_exclusive_amount", "tax_inclusive_amount", "payable_amount", "taxes", "lines", "line_count",
    "signed_xml_blob", "pdf_blob", "verdict", "report", "state", "window_ends_at", "open_window_ends_at", "created_at",
    "updated_at", "search_text", "order_reference",
)  # fmt: skip
# Supplier names as Colombian suppliers write them: accents, Ñ, upper case, S.A.S.
TRADES = ("Papelería", "Café", "Ferretería", "Panadería", "Distribuciones", "Tecnología", "Logística", "Droguería",
          "Construcciones", "Señalización")  # fmt: skip


def _report() -> str:
    names = ["xml_wellformed", "schema", "cufe", "document_signature", "certificate_chain", "certificate_validity",
             "signing_time", "dian_response", "dian_signature", "buyer_nit", "totals", "security_code"]  # fmt: skip
    checks = [{"name": n, "outcome": "pass", "detail": f"Verificación {n} correcta."} for n in names]
    return json.dumps({"verdict": "valid", "checks": checks, "document_signature": {"signing_time": None}})


def cufe_of(n: int) -> str:
    """A CUFE as DIAN makes them: SHA-384 in hexadecimal, so prefixes spread as real ones do."""
    return hashlib.sha384(str(n).encode()).hexdigest()


def rows(count: int, seed: int = 7):
    """``count`` documents as tuples in COLUMNS order."""
    rng = random.Random(seed)
    suppliers = [
        (str(800_000_000 + n * 7919), f"{TRADES[n % len(TRADES)]} {'ÁÉÍÓÚ'[n % 5]}lvarez {n:03d} S.A.S.")
        for n in range(500)
    ]
    weights = [w for _, w in STATES]
    report = _report()
    start = datetime(2024, 1, 1, tzinfo=UTC)
    now = datetime.now(UTC)
    for n in range(count):
        nit, name = suppliers[rng.randrange(len(suppliers))]
        state = rng.choices([s for s, _ in STATES], weights)[0]
        issued = start + timedelta(seconds=n * 150 + rng.randrange(120))
        base = Decimal(rng.randrange(10_000, 50_000_000)) / 100
        tax = (base * Decimal("0.19")).quantize(Decimal("0.01"))
        lines = [{"id": str(i + 1), "description": f"Artículo {i + 1} de la orden {n}", "quantity": "2",
                  "unit": "94", "price": str(base / 6), "amount": str(base / 3)} for i in range(3)]  # fmt: skip
        taxes = [{"scheme": "01", "rate": "19.00", "taxable": str(base), "amount": str(tax)},
                 {"scheme": "06", "rate": "2.50", "taxable": str(base), "withholding": True}]  # fmt: skip
        window = None
        if state is DocumentState.GOODS_RECEIVED:
            window = now + timedelta(hours=rng.randrange(-48, 96))
        elif state in (DocumentState.ACCEPTED, DocumentState.CLAIMED, DocumentState.TACITLY_ACCEPTED):
            window = issued + timedelta(days=5)
        # As the state writer and the deadline sweep keep it: the windows still running.
        running = window if state is DocumentState.GOODS_RECEIVED and window > now else None
        number = f"FE{n}"
        # A buyer who demands purchase orders: 98 % of the invoices cite one, so "without an order" is the rare case.
        order = None if n % 50 == 0 else f"45{n:08d}"
        yield (
            cufe_of(n), "01", "1", number, "FE", nit, "7", name, "900123456", "Empresa Demo S.A.S.",
            issued.date(), issued, issued.date() + timedelta(days=30), "2", "COP", base, base, base + tax,
            base + tax, json.dumps(taxes), json.dumps(lines), 3, "b" * 64, "c" * 64,
            "invalid" if state is DocumentState.INVALID else "valid", report, state.value, window, running,
            issued, issued, search_text(number, nit, name), order,
        )  # fmt: skip


def fill(url: str, count: int) -> None:
    """Write ``count`` documents into received_documents: COPY on PostgreSQL, Core INSERTs on SQLite."""
    if url.startswith("sqlite"):
        fill_sqlite(url, count)
        return
    engine = make_engine(url)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        with cur.copy(f"COPY received_documents ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in rows(count):
                copy.write_row(row)
        raw.commit()
        # What autovacuum does to a table soon after a large insert: statistics, and the visibility map that lets an
        # index-only scan (the search's first look, web/search.py) skip the wide rows.
        raw.driver_connection.autocommit = True  # the DBAPI connection, not the pool proxy (which would keep it)
        cur.execute("VACUUM ANALYZE received_documents")
    finally:
        raw.close()
        engine.dispose()


def fill_sqlite(url: str, count: int) -> None:
    table = ReceivedDocument.__table__
    engine = make_engine(url)
    json_columns = {"taxes", "lines", "report"}
    try:
        with engine.begin() as conn:
            batch = []
            for row in rows(count):
                values = dict(zip(COLUMNS, row, strict=True))
                for key in json_columns:
                    values[key] = json.loads(values[key])
                batch.append(values)
                if len(batch) == 5000:
                    conn.execute(table.insert(), batch)
                    batch = []
            if batch:
                conn.execute(table.insert(), batch)
            conn.exec_driver_sql("ANALYZE")
    finally:
        engine.dispose()


def deep_cursor(session, query: InboxQuery, depth: int) -> str:
    """The cursor of the row ``depth`` rows down the query's order (what paging that far would give)."""
    calendar = BusinessCalendar()
    stmt = statement(query, now=datetime.now(UTC), calendar=calendar).offset(depth).limit(1)
    doc = session.scalars(stmt).first() or session.scalars(stmt.offset(0)).first()
    return encode_cursor(SORTS[query.sort], doc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per line and database")
    parser.add_argument("--rounds", type=int, default=4, help="the requests are split into this many rounds")
    parser.add_argument("--database", choices=("postgresql", "sqlite", "both"), default="both")
    parser.add_argument(
        "--keep",
        type=Path,
        help="keep the filled databases (SQLite files in this folder, "
        "PostgreSQL databases buzon_bench_<documents>) and reuse them on the next run",
    )
    parser.add_argument("--explain", action="store_true", help="print every line's query plans instead of timing")
    parser.add_argument("--only", default="", help="only the lines whose label contains this text")
    args = parser.parse_args()
    kinds = ("postgresql", "sqlite") if args.database == "both" else (args.database,)
    with contextlib.ExitStack() as stack:
        benches = []
        for kind in kinds:
            url = stack.enter_context(_database(kind, args))
            benches.append(stack.enter_context(_bench(kind, url, args)))
        if args.explain:
            for bench in benches:
                explain(bench, args)
        else:
            timed(benches, args)


@contextlib.contextmanager
def _database(kind: str, args: argparse.Namespace) -> Iterator[str]:
    """The URL of a database to fill: a fresh one, or the kept one of ``--keep``."""
    if args.keep is None:
        if kind == "postgresql":
            with fresh_postgres_database() as url:
                yield url
        else:
            with tempfile.TemporaryDirectory() as folder:
                yield f"sqlite:///{folder}/bench.sqlite3"
        return
    if kind == "sqlite":
        args.keep.mkdir(parents=True, exist_ok=True)
        yield f"sqlite:///{args.keep.resolve()}/bench-{args.documents}.sqlite3"
        return
    name = f"buzon_bench_{args.documents}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    yield sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


@dataclass
class Bench:
    kind: str
    engine: sa.Engine
    client: Any
    figures: list[tuple[str, list[str], int]]
    samples: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)  # this process's CPU seconds per line
    server_cpu: dict[str, float] = field(default_factory=dict)  # PostgreSQL backends' CPU seconds per line


@contextlib.contextmanager
def _bench(kind: str, url: str, args: argparse.Namespace) -> Iterator[Bench]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(url)
        migrate(engine)
        with engine.connect() as conn:
            present = conn.scalar(sa.select(sa.func.count()).select_from(ReceivedDocument))
        if present == 0:
            t0 = time.perf_counter()
            fill(url, args.documents)
            print(f"{kind} setup: {args.documents} documents written and analysed in {time.perf_counter() - t0:.1f} s")
        elif present != args.documents:
            raise SystemExit(f"{url}: {present} documents on file, not {args.documents}")
        settings = default_settings(base=Path(tmp)).replace(demo=False)
        app = create_app(settings, engine=engine)
        with app.app_context():
            session = app.extensions["buzon.sessions"]()
            user = session.scalar(sa.select(User).where(User.username == "benchmark"))
            if user is None:
                user = add_user(session, "benchmark", Role.CLERK, first_name="Ana", family_name="Pérez")
                session.commit()
            client = app.test_client()
            sign_in(app, client, user)
            figures = _figures(session, args.documents)
            session.close()
            if args.only:
                figures = [f for f in figures if args.only in f[0]]
            try:
                yield Bench(kind, engine, client, figures)
            finally:
                engine.dispose()


def _figures(session, documents: int) -> list[tuple[str, list[str], int]]:
    acknowledged = InboxQuery(states=(DocumentState.ACKNOWLEDGED,))
    deep = deep_cursor(session, acknowledged, min(40_000, documents // 5))
    supplier = session.scalar(sa.select(ReceivedDocument.issuer_nit).order_by(ReceivedDocument.id).limit(1))
    by_supplier = deep_cursor(session, InboxQuery(supplier=supplier), 300)
    rng = random.Random(3)
    ids = [rng.randrange(1, documents + 1) for _ in range(50)]
    cufes = [cufe_of(i - 1) for i in ids]
    nit_dotted = f"{supplier[:3]}.{supplier[3:6]}.{supplier[6:]}-7"
    return [
        ("inbox, first page", ["/"], 100),
        ("inbox, status=acknowledged, ~40 000 rows deep", [f"/?status=acknowledged&after={deep}"], 100),
        ("inbox, one supplier, 300 rows deep", [f"/?supplier={supplier}&after={by_supplier}"], 100),
        ("inbox, closing within 1 business day", ["/?closing_within=1&sort=window"], 100),
        ("inbox, nearest deadline first", ["/?sort=window"], 100),
        ("inbox, search by CUFE", [f"/?q={c}" for c in cufes], 100),
        ("inbox, sorted by amount, first page", ["/?sort=-amount"], 100),
        ("search 'papeleria alvarez 01' (accents folded, ~4k)", ["/?q=papeleria+alvarez+01"], 100),
        ("search 'cafe' (a tenth of all documents)", ["/?q=cafe"], 100),
        ("search part of a number ('FE1234' style)", [f"/?q={i % 90000 + 1000}" for i in ids], 100),
        ("search CUFE prefix (12 hex)", [f"/?q={c[:12].upper()}" for c in cufes], 100),
        ("search NIT with dots and DV", [f"/?q={nit_dotted}"], 100),
        ("search that finds nothing", ["/?q=zzzzqx"], 100),
        ("supplier 'ferreteria' (accents folded)", ["/?supplier=ferreteria"], 100),
        ("deadline filter due=1, sorted by window", ["/?due=1&sort=window"], 100),
        ("saved view 'Vencen hoy'", ["/?due=0&sort=window"], 100),
        ("saved view 'Rechazadas por DIAN'", ["/?dian=rejected"], 100),
        ("saved view 'Mis facturas'", ["/?assigned=me"], 100),
        ("purchase order filter (order=…)", [f"/?order=45{i - 1:08d}" for i in ids], 100),
        ("invoices without a purchase order (2 %), with counter", ["/?no_order=1"], 100),
        (
            "status + dates + amount, with counter",
            ["/?status=accepted&from=2024-03-01&to=2024-09-30&min_amount=100000"],
            100,
        ),
        ("CSV export, search 'papeleria alvarez 01'", ["/exportar.csv?q=papeleria+alvarez+01"], 1000),
        ("API list, first page (limit 50)", ["/api/v1/documents"], 100),
        ("document page /documentos/<id>", [f"/documentos/{i}" for i in ids], 150),
        ("API document /api/v1/documents/<cufe>", [f"/api/v1/documents/{c}" for c in cufes], 150),
    ]


def _get(client, url: str) -> None:
    # Closed once read: a streamed response (the CSV export) holds its database connection until then.
    with client.get(url) as response:
        body = response.get_data()
    if response.status_code != 200 or not body:
        raise SystemExit(f"{url}: {response.status_code} {body[:300]!r}")


def _backends(conn: sa.Connection) -> list[int]:
    """The PostgreSQL server processes serving this database's other connections (the app's pool)."""
    return list(
        conn.scalars(
            sa.text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
            )
        )
    )


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes so far, from /proc/<pid>/stat (fields 14 and 15, in clock ticks)."""
    total = 0
    for pid in pids:
        try:
            fields_ = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields_[11]) + int(fields_[12])
    return total / os.sysconf("SC_CLK_TCK")


def timed(benches: list[Bench], args: argparse.Namespace) -> None:
    """Each line on each database in turn, ``--rounds`` times over, so that a change in the machine's load falls on
    both databases alike; p50/p95/max over all of a line's requests, with the CPU each request cost this process
    (Flask, the template, and SQLite itself) and the PostgreSQL server."""
    per_round = max(1, args.requests // args.rounds)
    print(f"load average before: {os.getloadavg()}")
    for bench in benches:  # warm-up, untimed: caches, the pool's connections
        for _, urls, _ in bench.figures:
            for i in range(10):
                _get(bench.client, urls[i % len(urls)])
    for round_ in range(args.rounds):
        for bench in benches:
            monitor = bench.engine.connect() if bench.kind == "postgresql" else None
            for label, urls, _ in bench.figures:
                pids = _backends(monitor) if monitor is not None else []
                cpu0, server0 = time.process_time(), _cpu_seconds(pids)
                times = bench.samples.setdefault(label, [])
                for i in range(per_round):
                    url = urls[(round_ * per_round + i) % len(urls)]
                    t0 = time.perf_counter()
                    _get(bench.client, url)
                    times.append((time.perf_counter() - t0) * 1000)
                bench.cpu[label] = bench.cpu.get(label, 0.0) + time.process_time() - cpu0
                bench.server_cpu[label] = bench.server_cpu.get(label, 0.0) + _cpu_seconds(pids) - server0
            if monitor is not None:
                monitor.close()
        print(f"round {round_ + 1}/{args.rounds} done, load average {os.getloadavg()[0]:.2f}", flush=True)
    for bench in benches:
        print(f"\n== {bench.kind}: {args.documents} documents, {per_round * args.rounds} requests a line ==")
        print(f"{'request':52} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} {'cpu ms':>7} {'pg ms':>6}  aim p95")
        for label, _, aim in bench.figures:
            times = sorted(bench.samples[label])
            p50, p95 = statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)]
            cpu = bench.cpu[label] * 1000 / len(times)
            server = f"{bench.server_cpu[label] * 1000 / len(times):6.1f}" if bench.kind == "postgresql" else "     -"
            mark = "ok" if p95 <= aim else "OVER"
            print(f"{label:52} {p50:7.1f} {p95:7.1f} {times[-1]:7.1f} {cpu:7.1f} {server}  ≤ {aim} {mark}")
    print(f"\nload average after: {os.getloadavg()}")


def explain(bench: Bench, args: argparse.Namespace) -> None:
    """Every SELECT one request of each line runs, with its plan: EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL (rows
    and buffers do not depend on the machine's load), EXPLAIN QUERY PLAN on SQLite."""
    captured: list[tuple[str, Any]] = []

    def capture(_conn, _cursor, statement, parameters, _context, executemany):
        if not executemany and statement.lstrip().upper().startswith(("SELECT", "WITH")):
            captured.append((statement, parameters))

    for label, urls, _ in bench.figures:
        captured.clear()
        sa.event.listen(bench.engine, "before_cursor_execute", capture)
        try:
            _get(bench.client, urls[0])
        finally:
            sa.event.remove(bench.engine, "before_cursor_execute", capture)
        print(f"\n######## {bench.kind}: {label}  GET {urls[0][:120]}")
        with bench.engine.connect() as conn:
            for statement, parameters in captured:
                if "received_documents" not in statement and "document_events" not in statement:
                    continue
                print("\n--- " + " ".join(statement.split())[:1500])
                print(f"    parameters: {str(parameters)[:300]}")
                if bench.kind == "postgresql":
                    plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).scalars()
                    print("\n".join("    " + line for line in plan))
                else:
                    for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters):
                        print(f"    {row[0]:>3} {row[1]:>3} {row[3]}")
                conn.rollback()


if __name__ == "__main__":
    main()
