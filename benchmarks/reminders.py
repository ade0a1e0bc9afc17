"""CPU and wall time of the deadline job's reminders (events.clock.send_reminders) at scale (issue 21).

Run from the repository root: ``.venv/bin/python benchmarks/reminders.py [--documents 100000] [--database
sqlite|postgresql|both] [--clock FILE]``. Prints figures; asserts nothing. ``--clock`` also measures another copy
of events/clock.py (e.g. ``git show 4577adf~1:events/clock.py > /tmp/clock_before.py``), rounds interleaved with
the package's, on the same database.

The documents are benchmarks/web.py's year of invoices (10 % goods_received, windows ending from 48 h ago to 96 h
ahead), five active clerks, every tenth document assigned. The first run queues the reminders that are due (8
business hours, the default); the rounds after it are the job's steady state, nothing new to queue. Times are
medians of ``--rounds``; CPU is this process's only (the PostgreSQL server's is not counted).
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.orm import sessionmaker  # noqa: E402

from dian.calendar import BusinessCalendar  # noqa: E402
from store.blobs import BlobStore  # noqa: E402
from store.db import make_engine, migrate  # noqa: E402
from store.models import ReceivedDocument, Role, User  # noqa: E402
from tests.services import fresh_postgres_database  # noqa: E402


def _load(name: str, path: str | Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _clock(path: str | None):
    if path is None:
        from events import clock

        return clock
    return _load("clock_under_test", path)


def _prepare(url: str, documents: int) -> sa.Engine:
    web = _load("bench_web", REPO / "benchmarks" / "web.py")  # the year of invoices the page benchmarks use
    engine = make_engine(url)
    migrate(engine)
    if engine.dialect.name == "sqlite":
        web.fill_sqlite(url, documents)
    else:
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            with cur.copy(f"COPY received_documents ({', '.join(web.COLUMNS)}) FROM STDIN") as copy:
                for row in web.rows(documents):
                    copy.write_row(row)
            cur.execute("ANALYZE received_documents")
            raw.commit()
        finally:
            raw.close()
    with engine.begin() as conn:
        conn.execute(
            sa.insert(User),
            [{"username": f"clerk{n}", "email": f"clerk{n}@empresa.test", "role": Role.CLERK} for n in range(5)],
        )
        conn.execute(sa.update(ReceivedDocument).where(ReceivedDocument.id % 10 == 0).values(assigned_to="clerk1"))
    return engine


def _measure(run) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


def bench(kind: str, url: str, args: argparse.Namespace, folder: Path) -> None:
    t0 = time.perf_counter()
    engine = _prepare(url, args.documents)
    print(f"{kind}: {args.documents} documents written in {time.perf_counter() - t0:.1f} s")
    sessions = sessionmaker(engine)
    ctx = SimpleNamespace(calendar=BusinessCalendar(), blobs=BlobStore(folder / kind))
    versions = {"this": _clock(None)}
    if args.clock:
        versions["--clock"] = _clock(args.clock)

    def run(module):
        return module.send_reminders(sessions, ctx, hours=args.hours, from_address="buzon@empresa.test")

    wall, cpu = _measure(lambda: print(f"  first run queues {len(run(versions['this']).reminded)} reminders"))
    print(f"  first run (this): {wall * 1000:.0f} ms wall, {cpu * 1000:.0f} ms CPU")
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in versions}
    for _ in range(args.rounds):
        for name, module in versions.items():
            samples[name].append(_measure(lambda m=module: run(m)))
    for name, pairs in samples.items():
        wall = statistics.median(p[0] for p in pairs)
        cpu = statistics.median(p[1] for p in pairs)
        print(f"  steady state ({name}): {wall * 1000:8.1f} ms wall, {cpu * 1000:8.1f} ms CPU (median of {len(pairs)})")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--hours", type=int, default=8, help="reminder business hours")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--clock", help="also measure this copy of events/clock.py")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="buzon-reminders-") as tmp:
        folder = Path(tmp)
        if args.database in ("sqlite", "both"):
            bench("sqlite", f"sqlite:///{folder}/bench.sqlite3", args, folder)
        if args.database in ("postgresql", "both"):
            with fresh_postgres_database() as url:
                bench("postgresql", url, args, folder)


if __name__ == "__main__":
    main()
