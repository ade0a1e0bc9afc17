"""Latency of the web at 200k received documents in PostgreSQL and SQLite: the inbox list, its search box and
filters, and a document page, p50/p95.

Run from the repository root:
``.venv/bin/python benchmarks/web.py [--documents 200000] [--requests 200] [--database postgresql|sqlite|both]``.
Prints figures; asserts nothing. Aims (issues 7 and 15): p95 ≤ 100 ms for the list, its search and filters, ≤ 150 ms
for a document page.

* Setup (not timed): a fresh PostgreSQL database (tests.services.fresh_postgres_database) or SQLite file, migrated;
  ``--documents`` received documents written with COPY on PostgreSQL, Core INSERTs on SQLite (realistic rows: three
  lines, two taxes, a twelve-check verification report, 500 suppliers with accented names, every state, claim
  windows on the goods_received ones, a PDF on file); ANALYZE.
* Requests go through the Flask test client (the whole app: routing, the role check, the session cookie, the
  query, the template), signed in as a clerk, one at a time, after a warm-up.
* Inbox: the first page (newest first); a deep page with a filter (status=acknowledged, entered through a cursor
  about 40 000 rows down that state's keyset order); a supplier's deep page; a search by CUFE; a sort by amount;
  the one search box as people type (an accent-less name word matching a few hundred documents, one matching a
  tenth of them, part of an invoice number, a CUFE prefix, a NIT with dots and check digit); the deadline filter;
  the saved views; each with its "N documentos coinciden" counter.
* Document: ``GET /documentos/<id>`` for random documents (the events service is not configured, so the page states
  that the actions are unavailable instead of evaluating dian.rules); ``GET /api/v1/documents/<cufe>`` likewise.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import sqlalchemy as sa  # noqa: E402

from buzon.config import default_settings  # noqa: E402
from dian.calendar import BusinessCalendar  # noqa: E402
from dian.codes import DocumentState  # noqa: E402
from store.db import make_engine, migrate  # noqa: E402
from store.models import ReceivedDocument, Role  # noqa: E402
from store.search import search_text  # noqa: E402
from tests.services import fresh_postgres_database  # noqa: E402
from tests.web.conftest import add_user, sign_in  # noqa: E402
from web.app import create_app  # noqa: E402
from web.query import SORTS, InboxQuery, encode_cursor, statement  # noqa: E402

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
    "updated_at", "search_text",
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
        yield (
            cufe_of(n), "01", "1", number, "FE", nit, "7", name, "900123456", "Empresa Demo S.A.S.",
            issued.date(), issued, issued.date() + timedelta(days=30), "2", "COP", base, base, base + tax,
            base + tax, json.dumps(taxes), json.dumps(lines), 3, "b" * 64, "c" * 64,
            "invalid" if state is DocumentState.INVALID else "valid", report, state.value, window, running,
            issued, issued, search_text(number, nit, name),
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
        cur.execute("ANALYZE received_documents")
        raw.commit()
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


def measure(client, urls: list[str], requests: int, warmup: int = 20) -> tuple[float, float, float]:
    """p50, p95 and max in milliseconds over ``requests`` GETs cycling through ``urls`` (each must answer 200)."""
    for i in range(warmup):
        client.get(urls[i % len(urls)])
    times = []
    for i in range(requests):
        url = urls[i % len(urls)]
        t0 = time.perf_counter()
        response = client.get(url)
        body = response.get_data()
        times.append((time.perf_counter() - t0) * 1000)
        if response.status_code != 200 or not body:
            raise SystemExit(f"{url}: {response.status_code} {body[:300]!r}")
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], times[-1]


def deep_cursor(session, query: InboxQuery, depth: int) -> str:
    """The cursor of the row ``depth`` rows down the query's order (what paging that far would give)."""
    calendar = BusinessCalendar()
    stmt = statement(query, now=datetime.now(UTC), calendar=calendar).offset(depth).limit(1)
    doc = session.scalars(stmt).first() or session.scalars(stmt.offset(0)).first()
    return encode_cursor(SORTS[query.sort], doc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database", choices=("postgresql", "sqlite", "both"), default="both")
    args = parser.parse_args()
    for kind in ("postgresql", "sqlite") if args.database == "both" else (args.database,):
        print(f"\n== {kind} ==")
        if kind == "postgresql":
            with fresh_postgres_database() as url:
                run(url, args)
        else:
            with tempfile.TemporaryDirectory() as folder:
                run(f"sqlite:///{folder}/bench.sqlite3", args)


def run(url: str, args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(url)
        migrate(engine)
        t0 = time.perf_counter()
        fill(url, args.documents)
        print(f"setup: {args.documents} documents copied and analysed in {time.perf_counter() - t0:.1f} s")
        settings = default_settings(base=Path(tmp)).replace(demo=False)
        app = create_app(settings, engine=engine)
        with app.app_context():
            session = app.extensions["buzon.sessions"]()
            user = add_user(session, "benchmark", Role.CLERK, first_name="Ana", family_name="Pérez")
            session.commit()
            client = app.test_client()
            sign_in(app, client, user)
            acknowledged = InboxQuery(states=(DocumentState.ACKNOWLEDGED,))
            deep = deep_cursor(session, acknowledged, min(40_000, args.documents // 5))
            supplier = session.scalar(sa.select(ReceivedDocument.issuer_nit).limit(1))
            by_supplier = deep_cursor(session, InboxQuery(supplier=supplier), 300)
            rng = random.Random(3)
            ids = [rng.randrange(1, args.documents + 1) for _ in range(50)]
            cufes = [cufe_of(i - 1) for i in ids]
            plain = session.scalar(sa.select(ReceivedDocument.issuer_nit).limit(1))
            nit_dotted = f"{plain[:3]}.{plain[3:6]}.{plain[6:]}-7"
            session.close()
        figures = [
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
        print(f"{'request':52} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  aim p95")
        for label, urls, aim in figures:
            p50, p95, worst = measure(client, urls, args.requests)
            mark = "ok" if p95 <= aim else "OVER"
            print(f"{label:52} {p50:8.1f} {p95:8.1f} {worst:8.1f}  ≤ {aim} {mark}")
        engine.dispose()


if __name__ == "__main__":
    main()
