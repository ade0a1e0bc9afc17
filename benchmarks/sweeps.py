"""The scheduled sweeps at 100k and 1M received documents on PostgreSQL, client CPU and server CPU (issue 21).

Run from the repository root: ``.venv/bin/python benchmarks/sweeps.py [--sizes 100000,1000000] [--rounds 5]
[--catch-up 10000] [--clock FILE] [--sync FILE]``; the sizes default to ``$BUZON_BENCH_SWEEPS`` or
``100000,1000000`` (the 1M database loads in about a minute on the 2-core development machine). Prints figures;
asserts nothing.

Each size gets a scratch database ``buzon_bench_<pid>_<size>``, created, migrated, loaded server-side in one
``INSERT … SELECT generate_series`` and dropped afterwards. The documents are a history at a fixed flow of
``--per-day`` documents a day (274, ≈ 100k a year), so 1M is ten years of the same company: what grows is the
history, not the work due today. Older than six days: 60 % accepted, 15 % tacitly accepted, 10 % goods_received
whose window the sweep closed long ago (the rows the old sweep scanned), then claimed, acknowledged, validated,
unconfirmed, invalid; a tenth of the history older than 180 days was never asked about (imported). The last six
days: 45 % goods_received with windows ending four days after issue (those already ended, closed), the rest
acknowledged, validated or accepted. Five clerks; every tenth document assigned.

Figures (medians of interleaved rounds): ``close_windows`` with nothing due (the steady state), ``send_reminders``
once its reminders are queued (the steady state; its first run is printed too), the events sync's selection
(``documents_to_sync``, 200 documents), and catch-up after an outage: ``--catch-up`` windows re-opened as if the
sweep had not run for days, then closed in one sweep (windows per second of wall time). Client CPU is this
process's; server CPU is utime+stime of the scratch database's backends (benchmarks/_measure.py), with parallel
workers off for that database so that every cycle is counted in them. The growth line divides the 1M figure by the
100k one. ``--clock`` measures another copy of events/clock.py (e.g. ``git show c37d904~1:events/clock.py``) in the
same interleaved rounds, its catch-up on the same number of windows.

The events sync: migration 0012's one-time marking of the open invoices past the 180-day horizon, timed apart on
the loaded history (the load comes after migrating; the sync's indexes are rebuilt afterwards, as 0012 builds them
after its marking), and the sync's first selection after it; then ``documents_to_sync`` for 200 (all never asked)
and 2,000 (past those, into the longest unasked) in the rounds, and ``--sync`` another copy of events/sync.py
(e.g. ``git show 83e3bad~1:events/sync.py``) beside it. The cost of the sync's index to every insert: 10,000 recent
open invoices inserted server-side (rolled back) with 0012's two indexes and with them dropped in the same
transaction, interleaved rounds, server CPU per document.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.orm import sessionmaker  # noqa: E402

from benchmarks._measure import backend_pids, cpu_of, reference_line  # noqa: E402
from benchmarks._scratch import scratch_database  # noqa: E402
from dian.calendar import BusinessCalendar  # noqa: E402
from events import clock, sync  # noqa: E402
from store.blobs import BlobStore  # noqa: E402
from store.db import make_engine, migrate  # noqa: E402
from store.models import Role, User  # noqa: E402

PG_ADMIN_URL = os.environ.get("BUZON_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
DEFAULT_SIZES = os.environ.get("BUZON_BENCH_SWEEPS", "100000,1000000")

# One row per document i in 1..:n, :now the sweep's instant, :step seconds between two documents.
LOAD = """
INSERT INTO received_documents (
    cufe, document_type, environment, number, prefix, issuer_nit, issuer_name, buyer_nit, buyer_name, issue_date,
    issued_at, currency, line_extension_amount, tax_exclusive_amount, tax_inclusive_amount, payable_amount, taxes,
    lines, line_count, signed_xml_blob, verdict, report, state, window_ends_at, window_closed_at, open_window_ends_at,
    events_synced_at, assigned_to, search_text, created_at, updated_at)
SELECT lpad(to_hex(i), 96, '0'), CASE WHEN i % 25 = 0 THEN '91' ELSE '01' END, '1', 'FE' || i, 'FE',
    (800000000 + (i % 500) * 7919)::text, 'Proveedor ' || (i % 500) || ' S.A.S.', '900123456', 'Empresa S.A.S.',
    (issued AT TIME ZONE 'America/Bogota')::date, issued, 'COP', amount, amount, amount * 1.19, amount * 1.19, '[]',
    '[]', 1, repeat('b', 64), CASE state WHEN 'unconfirmed' THEN 'unconfirmed' WHEN 'invalid' THEN 'invalid'
    ELSE 'valid' END, '{}', state, ends, closed, CASE WHEN state = 'goods_received' AND closed IS NULL THEN ends END,
    CASE WHEN age_days >= 180 THEN CASE WHEN i % 10 = 0 THEN NULL ELSE issued + interval '170 days' END
         WHEN i % 50 = 0 THEN NULL ELSE CAST(:now AS timestamptz) - ((i * 37) % 120) * interval '1 minute' END,
    CASE WHEN i % 10 = 0 THEN 'clerk1' END, 'fe' || i || ' proveedor ' || (i % 500), issued, issued
FROM (
    SELECT i, issued, age_days, amount, state,
        CASE WHEN state IN ('goods_received', 'accepted', 'tacitly_accepted', 'claimed')
             THEN issued + interval '4 days' + (i % 7) * interval '1 hour' END AS ends,
        CASE WHEN state = 'goods_received' AND issued + interval '4 days' + (i % 7) * interval '1 hour' < :now
             THEN issued + interval '4 days 2 hours' END AS closed
    FROM (
        SELECT i, issued, age_days, amount,
            CASE WHEN age_days >= 6 THEN
                CASE WHEN m < 60 THEN 'accepted' WHEN m < 75 THEN 'tacitly_accepted' WHEN m < 85 THEN 'goods_received'
                     WHEN m < 90 THEN 'claimed' WHEN m < 94 THEN 'acknowledged' WHEN m < 97 THEN 'validated'
                     WHEN m < 99 THEN 'unconfirmed' ELSE 'invalid' END
            ELSE CASE WHEN m < 45 THEN 'goods_received' WHEN m < 70 THEN 'acknowledged' WHEN m < 85 THEN 'validated'
                      ELSE 'accepted' END
            END AS state
        FROM (
            SELECT i, (i * 7) % 100 AS m, ((i % 5000) * 1000 + 0.5)::numeric AS amount,
                CAST(:now AS timestamptz) - (:n - i) * :step * interval '1 second' - interval '1 hour' AS issued,
                (:n - i) * :step / 86400.0 AS age_days
            FROM generate_series(1, :n) AS i
        ) AS base
    ) AS stated
) AS dated
"""


# The same rows past the loaded ones' CUFEs: documents of the last five weeks, most of them open invoices.
INSERT_MORE = LOAD.replace("lpad(to_hex(i), 96, '0')", "lpad(to_hex(i + 1000000000), 96, '0')")
SYNC_INDEXES = ("ix_received_documents_events_sync", "ix_received_documents_events_aged_out")


def load(engine: sa.Engine, size: int, now: datetime, per_day: int) -> None:
    """The documents and five clerks; statistics and the visibility map as autovacuum would leave them."""
    with engine.begin() as conn:
        conn.execute(sa.text(LOAD), {"n": size, "now": now, "step": 86400 / per_day})
        conn.execute(
            sa.insert(User),
            [{"username": f"clerk{n}", "email": f"clerk{n}@empresa.test", "role": Role.CLERK} for n in range(5)],
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE received_documents"))
        conn.execute(sa.text("VACUUM ANALYZE users"))


def reopen(engine: sa.Engine, windows: int, now: datetime) -> int:
    """Re-open the ``windows`` most recently closed windows, as if the sweep had been down since before they ended."""
    with engine.begin() as conn:
        return conn.execute(
            sa.text(
                "UPDATE received_documents SET window_closed_at = NULL, open_window_ends_at = window_ends_at "
                "WHERE id IN (SELECT id FROM received_documents WHERE state = 'goods_received' "
                "AND window_closed_at IS NOT NULL AND window_ends_at < :now ORDER BY window_ends_at DESC LIMIT :n)"
            ),
            {"now": now, "n": windows},
        ).rowcount


def _load_copy(path: str | Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


MIGRATION_0012 = _load_copy(REPO / "store/migrations/versions/0012_sync_index.py", "migration_0012")


class Bench:
    def __init__(self, engine: sa.Engine, now: datetime, folder: Path) -> None:
        self.engine, self.now = engine, now
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self.ctx = SimpleNamespace(calendar=BusinessCalendar(), blobs=BlobStore(folder))
        with engine.connect() as conn:  # the pooled connection the sweeps will use, opened before any reading
            self._pids = backend_pids(conn)

    def pids(self) -> list[int]:
        return self._pids

    def run(self, call: Callable[[], object], repeat: int = 1) -> tuple[object, float, float, float]:
        """One sample: ``call`` run ``repeat`` times, the figures per call (server CPU is read in 10 ms ticks, so a
        fast call is repeated until a sample lasts about 500 ms)."""
        result, wall, client, server = cpu_of(lambda: [call() for _ in range(repeat)][-1], self.pids)
        return result, wall / repeat, client / repeat, server / repeat

    def close(self, module) -> Callable[[], object]:
        return lambda: module.close_windows(self.sessions, self.ctx, now=lambda: self.now)

    def remind(self, module) -> Callable[[], object]:
        return lambda: module.send_reminders(self.sessions, self.ctx, hours=8, from_address="buzon@empresa.test",
                                             now=lambda: self.now)  # fmt: skip

    def select_sync(self, module, limit: int) -> Callable[[], object]:
        def select() -> object:
            with self.sessions() as s:
                chosen = module.documents_to_sync(s, self.now, every=timedelta(hours=1), max_age_days=180, limit=limit)
                s.commit()  # as sync_events does: the aged-out marks (none once caught up)
            return chosen

        return select

    def mark_aged_out(self, now: datetime) -> int:
        """What migration 0012 does once to a history loaded before it (the load here comes after migrating)."""
        with self.engine.begin() as conn:
            return MIGRATION_0012.mark_aged_out(conn, now)

    def reindex_sync(self) -> None:
        """The sync's indexes as 0012 builds them after its marking (here they were kept row by row meanwhile)."""
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for index in SYNC_INDEXES:
                conn.execute(sa.text(f"REINDEX INDEX {index}"))
            conn.execute(sa.text("VACUUM ANALYZE received_documents"))

    def insert(self, with_sync_indexes: bool) -> Callable[[], object]:
        """10,000 recent documents inserted and rolled back, with or without 0012's indexes."""

        def insert() -> object:
            with self.engine.connect() as conn, conn.begin() as tx:
                if not with_sync_indexes:
                    for index in SYNC_INDEXES:
                        conn.execute(sa.text(f"DROP INDEX {index}"))
                conn.execute(sa.text(INSERT_MORE), {"n": 10_000, "now": self.now, "step": 86400 / 274})
                tx.rollback()

        return insert


def _median(samples: list[tuple[object, float, float, float]]) -> tuple[float, float, float]:
    return tuple(statistics.median(s[k] for s in samples) for k in (1, 2, 3))  # wall, client, server


def _line(name: str, figures: tuple[float, float, float], rounds: int) -> str:
    wall, client, server = figures
    return (f"  {name:<40} {wall * 1000:8.1f} ms wall {client * 1000:8.1f} ms client CPU {server * 1000:8.1f} ms "
            f"server CPU {(client + server) * 1000:8.1f} ms CPU (median of {rounds}, per call)")  # fmt: skip


def bench(size: int, args: argparse.Namespace, versions: dict[str, object],
          syncs: dict[str, object]) -> dict[str, tuple[float, float, float]]:  # fmt: skip
    now = datetime.now(UTC).replace(microsecond=0)
    figures: dict[str, tuple[float, float, float]] = {}
    # Every cycle of a query in the backend whose CPU is read (no parallel workers to miss).
    serial = {"max_parallel_workers_per_gather": "0"}
    with scratch_database(str(size), settings=serial) as url, tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        engine = make_engine(url)
        migrate(engine)
        _, wall, _, _ = cpu_of(lambda: load(engine, size, now, args.per_day))
        b = Bench(engine, now, Path(tmp))
        with engine.connect() as conn:
            counts = dict(conn.execute(sa.text(
                "SELECT 'running', count(*) FROM received_documents WHERE open_window_ends_at IS NOT NULL UNION ALL "
                "SELECT 'lapsed', count(*) FROM received_documents WHERE state = 'goods_received' "
                "AND window_closed_at IS NOT NULL")).all())  # fmt: skip
        print(f"{size:,} documents loaded in {wall:.1f} s: {counts['running']} running windows, {counts['lapsed']:,} "
              f"closed but still goods_received")  # fmt: skip
        first = b.run(b.remind(clock))
        print(f"  send_reminders first run queued {len(first[0].reminded)} reminders: {first[1] * 1000:.0f} ms wall, "
              f"{first[2] * 1000:.0f} ms client + {first[3] * 1000:.0f} ms server CPU")  # fmt: skip
        marked, wall, client, server = b.run(lambda: b.mark_aged_out(now))
        print(f"  0012's one-time marking: {marked:,} open invoices past 180 days in {wall:.2f} s wall, "
              f"{client:.2f} s client + {server:.2f} s server CPU")  # fmt: skip
        b.reindex_sync()
        chosen, wall, client, server = b.run(b.select_sync(sync, 2000))
        with engine.connect() as conn:
            after = conn.execute(sa.text("SELECT count(*) FROM received_documents "
                                         "WHERE events_sync_aged_out IS NOT NULL")).scalar()  # fmt: skip
        print(f"  sync's first selection: {len(chosen)} chosen, {after - marked:,} more marked, {wall * 1000:.0f} ms "
              f"wall, {(client + server) * 1000:.0f} ms CPU")  # fmt: skip
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE received_documents"))  # what autovacuum does after such an update
        cases: dict[str, Callable[[], object]] = {}
        for name, module in versions.items():
            cases[f"close_windows, nothing due ({name})"] = b.close(module)
            cases[f"send_reminders, all queued ({name})"] = b.remind(module)
        for name, module in syncs.items():
            for limit in (200, 2000):
                cases[f"documents_to_sync ({limit}, {name})"] = b.select_sync(module, limit)
        cases["insert 10k, with 0012's indexes"] = b.insert(True)
        cases["insert 10k, without them"] = b.insert(False)
        samples: dict[str, list] = {name: [] for name in cases}
        repeats = {}
        for name, call in cases.items():
            call()  # warm: plans cached, pages in memory
            repeats[name] = max(1, min(1000, int(0.5 / max(b.run(call)[1], 1e-4))))
        for _ in range(args.rounds):
            for name, call in cases.items():
                samples[name].append(b.run(call, repeats[name]))
        for name, pairs in samples.items():
            figures[name] = _median(pairs)
            print(_line(name, figures[name], args.rounds))
        if "--sync" in syncs:
            for limit in (200, 2000):
                old, new = (figures[f"documents_to_sync ({limit}, {n})"] for n in ("--sync", "this"))
                ratio = (old[1] + old[2]) / (new[1] + new[2])
                print(f"  documents_to_sync ({limit}): --sync / this = {ratio:.1f}x CPU")
        with_, without = figures["insert 10k, with 0012's indexes"], figures["insert 10k, without them"]
        print(f"  the sync's indexes cost {(with_[2] - without[2]) / 10_000 * 1e6:.1f} µs server CPU per inserted "
              f"document ({with_[2] / without[2]:.3f}x the insert's server CPU)")  # fmt: skip
        for name, module in versions.items():
            reopened = reopen(engine, args.catch_up, now)
            result, wall, client, server = b.run(b.close(module))
            closed = len(result.closed)
            figures[f"catch-up, per window ({name})"] = (wall / closed, client / closed, server / closed)
            print(f"  catch-up ({name}): {closed:,} of {reopened:,} re-opened windows closed in {wall:.2f} s wall "
                  f"({closed / wall:,.0f} windows/s), {client:.2f} s client + {server:.2f} s server CPU "
                  f"({closed / (client + server):,.0f} windows per CPU second)")  # fmt: skip
        engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="comma-separated document counts")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--catch-up", type=int, default=10_000, help="windows closed after the outage")
    parser.add_argument("--per-day", type=int, default=274, help="documents a day (the flow)")
    parser.add_argument("--clock", help="also measure this copy of events/clock.py")
    parser.add_argument("--sync", help="also measure this copy of events/sync.py")
    args = parser.parse_args()
    print(reference_line())
    versions: dict[str, object] = {"this": clock}
    if args.clock:
        versions["--clock"] = _load_copy(args.clock, "clock_under_test")
    syncs: dict[str, object] = {"this": sync}
    if args.sync:
        syncs["--sync"] = _load_copy(args.sync, "sync_under_test")
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    try:
        results = {size: bench(size, args, versions, syncs) for size in sizes}
    except sa.exc.OperationalError as exc:
        print(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc.__class__.__name__}; nothing measured")
        return
    if len(sizes) >= 2:
        small, large = results[sizes[0]], results[sizes[-1]]
        print(f"growth {sizes[0]:,} -> {sizes[-1]:,} documents (client + server CPU):")
        for name in small:
            before, after = small[name][1] + small[name][2], large[name][1] + large[name][2]
            print(f"  {name:<40} {after / before if before else float('nan'):6.2f}x")
    print(reference_line())


if __name__ == "__main__":
    main()
