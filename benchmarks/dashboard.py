"""Latency of the dashboard (Resumen) and the suppliers pages (Proveedores) at 200k received documents, on SQLite and
PostgreSQL, p50/p95 and the CPU each request costs (this process, and on PostgreSQL the server backends too).

Run from the repository root:
``.venv/bin/python benchmarks/dashboard.py [--documents 200000] [--requests 40] [--rounds 3]
[--database postgresql|sqlite|both] [--keep DIR]``.
Prints figures; asserts nothing. Aim (issue 15, like the inbox): p95 ≤ 100 ms on both databases, and flat as the
table grows (cost follows what the page shows, not the history on file).

* Setup (not timed): benchmarks/web.py's own ``fill`` (the same 200k realistic documents: 500 suppliers, every
  state, claim windows), then moved forward in time so the newest document is today's (a live mailbox's newest
  document is recent; web.py's rows start in January 2024, which would leave every recent period empty); one
  emitted 030 registered per document past validation, a few rejected by DIAN and a few queued, 30 quarantined mails,
  50 supplier settings rows; ANALYZE (VACUUM ANALYZE on PostgreSQL, as autovacuum keeps a live table).
* ``--keep DIR`` keeps the filled databases (DIR/bench.sqlite3, and a PostgreSQL database named in DIR/postgres-url)
  and reuses them on the next run, so that runs of two versions of the code can be interleaved, each with its own DIR.
* Requests go through the Flask test client (routing, the role check, the session, the queries, the template),
  signed in as a clerk, one at a time, after a warm-up. Each round measures every page on every database in turn
  (interleaved, so a burst of load from elsewhere on the machine hits all of them alike); the figures printed are
  the medians over the rounds.
* CPU: this process's ``time.process_time()``; on PostgreSQL also utime+stime of the server backends serving this
  database (read from /proc/<pid>/stat; pg_stat_activity names them), divided by the requests.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import sqlalchemy as sa  # noqa: E402

from benchmarks.web import fill  # noqa: E402
from buzon.config import default_settings  # noqa: E402
from store.db import make_engine, migrate  # noqa: E402
from store.models import ReceivedDocument, Role  # noqa: E402
from tests.services import PG_ADMIN_URL  # noqa: E402
from tests.web.conftest import add_user, sign_in  # noqa: E402
from web.app import create_app  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
LAST_FILLED_DAY = 347  # benchmarks.web.rows: document n is issued n*150 s after 2024-01-01, 200k of them ≈ 347 days


def pages(big_supplier: str) -> list[tuple[str, str]]:
    return [
        ("/resumen (default period)", "/resumen"),
        ("/resumen?periodo=anio (this year)", "/resumen?periodo=anio"),
        ("/proveedores (first page)", "/proveedores"),
        ("/proveedores?pagina=4", "/proveedores?pagina=4"),
        ("/proveedores?q=ferreteria", "/proveedores?q=ferreteria"),
        ("/proveedores/<largest supplier>", f"/proveedores/{big_supplier}"),
    ]


# --- Setup -----------------------------------------------------------------------------------------------------


def _shift_days(count: int) -> int:
    """Days to move web.py's documents forward so that the newest one is issued today."""
    newest = date(2024, 1, 1).toordinal() + count * 150 // 86_400
    return max(0, datetime.now(UTC).date().toordinal() - newest)


def move_forward(conn: sa.Connection, days: int) -> None:
    """Issue dates, times and the windows that are not running moved ``days`` days later (the running windows are
    already relative to now)."""
    if conn.dialect.name == "postgresql":
        shift = f"interval '{days} days'"
        conn.exec_driver_sql(
            f"UPDATE received_documents SET issue_date = issue_date + {days}, due_date = due_date + {days}, "  # noqa: S608
            f"issued_at = issued_at + {shift}, created_at = created_at + {shift}, updated_at = updated_at + {shift}, "
            f"window_ends_at = CASE WHEN open_window_ends_at IS NULL THEN window_ends_at + {shift} "
            "ELSE window_ends_at END"
        )
        return

    def moved(column: str) -> str:  # keep SQLAlchemy's stored text form: 'YYYY-MM-DD HH:MM:SS.ffffff'
        return f"substr(datetime({column}, '+{days} days'), 1, 19) || substr({column}, 20)"

    conn.exec_driver_sql(
        f"UPDATE received_documents SET issue_date = date(issue_date, '+{days} days'), "  # noqa: S608
        f"due_date = date(due_date, '+{days} days'), issued_at = {moved('issued_at')}, "
        f"created_at = {moved('created_at')}, updated_at = {moved('updated_at')}, "
        f"window_ends_at = CASE WHEN open_window_ends_at IS NULL AND window_ends_at IS NOT NULL "
        f"THEN {moved('window_ends_at')} ELSE window_ends_at END"
    )


def add_the_rest(conn: sa.Connection) -> None:
    """What a live installation holds beside the documents: our events, some rejected or queued, quarantine, suppliers
    with settings."""
    now = datetime.now(UTC)
    json_empty = "'[]'"
    conn.exec_driver_sql(
        "INSERT INTO document_events (document_id, code, direction, number, submission_state, attempts, dian_messages,"  # noqa: S608
        " actor, registered_at, created_at, updated_at) "
        f"SELECT id, '030', 'emitted', 'AR' || id, 'registered', 1, {json_empty}, 'benchmark', issued_at, issued_at,"
        " issued_at FROM received_documents WHERE state NOT IN ('validated', 'invalid', 'unconfirmed')"
    )
    events = sa.table(
        "document_events",
        *(sa.column(c) for c in ("document_id", "code", "direction", "number", "submission_state", "attempts")),
        *(sa.column(c) for c in ("actor", "created_at", "updated_at", "last_error")),
        sa.column("dian_messages", sa.JSON()),
    )
    validated = conn.execute(
        sa.text("SELECT id FROM received_documents WHERE state = 'validated' ORDER BY id DESC LIMIT 60")
    ).scalars()
    rows = []
    for n, doc_id in enumerate(validated):
        rejected = n < 40
        rows.append(
            {
                "document_id": doc_id, "code": "031" if rejected else "033", "direction": "emitted",
                "number": f"EVB{n}", "submission_state": "rejected" if rejected else "send_failed", "attempts": 1,
                "actor": "benchmark", "created_at": now, "updated_at": now, "last_error": None if rejected else "503",
                "dian_messages": ["Regla: AAH07, Rechazo: nombre de la persona vacío"] if rejected else [],
            }
        )  # fmt: skip
    conn.execute(events.insert(), rows)
    mail_columns = ("mailbox", "sender", "subject", "received_at", "size", "blob_key", "status", "reason")
    mails = sa.table("mail_messages", *(sa.column(c) for c in (*mail_columns, "created_at", "updated_at")))
    conn.execute(
        mails.insert(),
        [
            {"mailbox": "INBOX", "sender": f"x{n}@ejemplo.co", "subject": f"Factura {n}", "received_at": now,
             "size": 100, "blob_key": "d" * 64, "status": "quarantined", "reason": "no_document", "created_at": now,
             "updated_at": now}
            for n in range(30)
        ],
    )  # fmt: skip
    suppliers = sa.table("suppliers", *(sa.column(c) for c in ("nit", "name", "reception_email", "auto_acknowledge")),
                         *(sa.column(c) for c in ("auto_receipt", "created_at", "updated_at")))  # fmt: skip
    nits = conn.execute(sa.text("SELECT DISTINCT issuer_nit FROM received_documents ORDER BY 1 LIMIT 50")).scalars()
    conn.execute(
        suppliers.insert(),
        [
            {"nit": nit, "name": "", "reception_email": f"fe@{nit}.co", "auto_acknowledge": n % 2 == 0,
             "auto_receipt": n % 5 == 0, "created_at": now, "updated_at": now}
            for n, nit in enumerate(nits)
        ],
    )  # fmt: skip


def prepare(url: str, count: int) -> None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            exists = sa.inspect(conn).has_table("received_documents")
            filled = (exists and conn.scalar(sa.select(sa.func.count()).select_from(ReceivedDocument))) or 0
        if filled:  # kept as this code prepared it: not migrated again (a newer migration may be mid-way elsewhere)
            print(f"  reusing {filled} documents already on file")
            return
        migrate(engine)
        t0 = time.perf_counter()
        fill(url, count)
        with engine.begin() as conn:
            move_forward(conn, _shift_days(count))
            add_the_rest(conn)
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
        else:
            with engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
        print(f"  setup: {count} documents written, moved to end today, analysed in {time.perf_counter() - t0:.0f} s")
    finally:
        engine.dispose()


def kept_postgres(folder: Path) -> str:
    """The URL of the kept PostgreSQL database of ``folder`` (created the first time)."""
    note = folder / "postgres-url"
    if note.exists():
        return note.read_text().strip()
    name = f"buzon_bench_{secrets.token_hex(5)}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    url = sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    note.write_text(url + "\n")
    return url


# --- Measuring -------------------------------------------------------------------------------------------------


class Target:
    """One database with the whole app over it, signed in as a clerk."""

    def __init__(self, kind: str, url: str, tmp: Path) -> None:
        self.kind = kind
        self.engine = make_engine(url)
        settings = default_settings(base=tmp / kind).replace(demo=False)
        self.app = create_app(settings, engine=self.engine)
        with self.app.app_context():
            session = self.app.extensions["buzon.sessions"]()
            user = session.scalar(sa.text("SELECT id FROM users WHERE username = 'benchmark'"))
            if user is None:
                add_user(session, "benchmark", Role.CLERK, first_name="Ana", family_name="Pérez")
                session.commit()
            from store.models import User

            user = session.scalar(sa.select(User).where(User.username == "benchmark"))
            self.big_supplier = session.scalar(
                sa.select(ReceivedDocument.issuer_nit)
                .group_by(ReceivedDocument.issuer_nit)
                .order_by(sa.func.count().desc())
                .limit(1)
            )
            session.close()
            self.client = self.app.test_client()
            sign_in(self.app, self.client, user)
        self.database = self.engine.url.database

    def server_cpu(self) -> float:
        """CPU seconds used so far by the PostgreSQL backends serving this database (0 on SQLite)."""
        if self.kind != "postgresql":
            return 0.0
        with self.engine.connect() as conn:
            pids = conn.execute(
                sa.text("SELECT pid FROM pg_stat_activity WHERE datname = :d"), {"d": self.database}
            ).scalars()
            total = 0
            for pid in pids:
                try:
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
        return total / CLOCK_TICKS

    def measure(self, url: str, requests: int, warmup: int = 5) -> tuple[float, float, float, float]:
        """p50 and p95 wall ms, and mean CPU ms per request here and in the server."""
        for _ in range(warmup):
            self.client.get(url)
        server0, cpu0 = self.server_cpu(), time.process_time()
        times = []
        for _ in range(requests):
            t0 = time.perf_counter()
            response = self.client.get(url)
            body = response.get_data()
            times.append((time.perf_counter() - t0) * 1000)
            if response.status_code != 200 or not body:
                raise SystemExit(f"{self.kind} {url}: {response.status_code} {body[:300]!r}")
        cpu = (time.process_time() - cpu0) * 1000 / requests
        server = (self.server_cpu() - server0) * 1000 / requests
        times.sort()
        return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)], cpu, server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", choices=("postgresql", "sqlite", "both"), default="both")
    parser.add_argument("--keep", type=Path, help="keep (and reuse) the filled databases in this folder")
    args = parser.parse_args()
    kinds = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        folder = args.keep or tmp
        folder.mkdir(parents=True, exist_ok=True)
        urls, drop = {}, None
        for kind in kinds:
            if kind == "sqlite":
                urls[kind] = f"sqlite:///{folder / 'bench.sqlite3'}"
            elif args.keep:
                urls[kind] = kept_postgres(folder)
            else:
                from tests.services import fresh_postgres_database

                drop = fresh_postgres_database()
                urls[kind] = drop.__enter__()
            print(f"{kind}: preparing")
            prepare(urls[kind], args.documents)
        try:
            run(kinds, urls, tmp, args)
        finally:
            if drop is not None:
                drop.__exit__(None, None, None)


def run(kinds: tuple[str, ...], urls: dict[str, str], tmp: Path, args: argparse.Namespace) -> None:
    targets = [Target(kind, urls[kind], tmp) for kind in kinds]
    results: dict[tuple[str, str], list[tuple[float, float, float, float]]] = {}
    for round_number in range(args.rounds):
        for target in targets:
            for label, url in pages(target.big_supplier):
                results.setdefault((target.kind, label), []).append(target.measure(url, args.requests))
        print(f"round {round_number + 1} of {args.rounds} done", file=sys.stderr)
    print(f"\nmedians over {args.rounds} rounds of {args.requests} requests; load average now {os.getloadavg()}")
    print(f"{'database':10} {'page':36} {'p50 ms':>8} {'p95 ms':>8} {'CPU ms':>8} {'server':>8}  aim p95 ≤ 100")
    for (kind, label), runs in results.items():
        p50, p95, cpu, server = (statistics.median(r[i] for r in runs) for i in range(4))
        mark = "ok" if p95 <= 100 else "OVER"
        print(f"{kind:10} {label:36} {p50:8.1f} {p95:8.1f} {cpu:8.1f} {server:8.1f}  {mark}")
    for target in targets:
        target.engine.dispose()


if __name__ == "__main__":
    main()
