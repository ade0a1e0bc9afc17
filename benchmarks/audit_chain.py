"""What the audit log's hash chain costs (store/audit_chain.py): the seal a commit runs when it wrote audit entries
(one entry per commit, as a web action; a batch of entries in one transaction, as intake's), against the same
commits with the seal switched off; the job's seal of a backlog and `verify`, per entry.

On SQLite (a file) and on PostgreSQL (a scratch database on BUZON_TEST_PG, dropped afterwards; its server CPU counted
from its own backends). Medians over interleaved rounds (seal on / off alternate).

Run from the repository root: ``.venv/bin/python benchmarks/audit_chain.py [--rounds 7] [--commits 200]
[--batch 100] [--mails 150]``. Prints figures; asserts nothing. The last case is real intake (benchmarks/intake.py's
mails, in batches as `buzon poll` takes them), per mail, seal off and on.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa
from sqlalchemy import event

from benchmarks._measure import backend_pids, cpu_of, reference_line
from store import audit
from store.db import make_engine, migrate, session_factory


def _hook(on: bool) -> None:
    """Switch the seal at commit on or off (off: the log as it was before the chain)."""
    listening = event.contains(sa.Engine, "commit", audit._seal_on_commit)
    if on and not listening:
        event.listen(sa.Engine, "commit", audit._seal_on_commit)
    elif not on and listening:
        event.remove(sa.Engine, "commit", audit._seal_on_commit)


def _one_per_commit(engine: sa.Engine, commits: int) -> Callable[[], None]:
    sessions = session_factory(engine)

    def run() -> None:
        for i in range(commits):
            with sessions() as s:
                audit.record(s, actor="user:ana", action="document.viewed", subject=f"FE{i}", data={"n": i})
                s.commit()

    return run


def _batch(engine: sa.Engine, size: int) -> Callable[[], None]:
    def run() -> None:
        with engine.connect() as conn:
            entries = [audit.entry(actor="inbox", action="mail.filed", subject=f"m{i}", data={"n": i})
                       for i in range(size)]  # fmt: skip
            audit.insert_entries(conn, entries)
            conn.commit()

    return run


def _backends(engine: sa.Engine) -> list[int]:
    if engine.dialect.name != "postgresql":
        return []
    with engine.connect() as conn:
        return backend_pids(conn)


def _measure(engine: sa.Engine, run: Callable[[], None], on: bool) -> tuple[float, float, float]:
    _hook(on)
    try:
        _, wall, cpu, server = cpu_of(run, lambda: _backends(engine))
    finally:
        _hook(True)
    audit.seal(engine)  # what the off round left unsealed, outside the measurement
    return wall, cpu, server


def _row(label: str, per: int, on: list[tuple[float, float, float]], off: list[tuple[float, float, float]]) -> str:
    def med(samples: list[tuple[float, float, float]], i: int) -> float:
        return statistics.median(s[i] for s in samples) / per * 1e6

    parts = []
    for i, name in enumerate(("wall", "client CPU", "server CPU")):
        a, b = med(on, i), med(off, i)
        parts.append(f"{name} {b:7.1f} → {a:7.1f} µs (+{a - b:6.1f})")
    return f"  {label:<34} " + "; ".join(parts)


def bench(kind: str, url: str, rounds: int, commits: int, batch: int) -> None:
    engine = make_engine(url)
    migrate(engine)
    try:
        print(f"{kind}:")
        one = _one_per_commit(engine, commits)
        many = _batch(engine, batch)
        for label, run, per in ((f"one entry per commit (×{commits})", one, commits),
                                (f"a batch of {batch} in one commit", many, batch)):  # fmt: skip
            on, off = [], []
            for _ in range(rounds):
                off.append(_measure(engine, run, False))
                on.append(_measure(engine, run, True))
            print(_row(label, per, on, off) + "  per entry, seal off → on")
            added = statistics.median(s[0] for s in on) - statistics.median(s[0] for s in off)
            print(f"  {'':<34} per commit: +{added / (commits if per == commits else 1) * 1e3:.2f} ms wall")
        # The job's seal of a backlog (written with the hook off), then verify over everything.
        _hook(False)
        for _ in range(5):
            _batch(engine, 1000)()
        _hook(True)
        _, wall, cpu, _ = cpu_of(lambda: audit.seal(engine))
        print(f"  seal of a 5000-entry backlog       {wall / 5000 * 1e6:7.1f} µs wall, "
              f"{cpu / 5000 * 1e6:7.1f} µs client CPU per entry")  # fmt: skip
        with engine.connect() as conn:
            verdict, wall, cpu, _ = cpu_of(lambda: audit.verify(conn))
        assert verdict.ok
        print(f"  verify of {verdict.count} entries        {verdict.count / wall:9.0f} entries/s "
              f"({cpu / verdict.count * 1e6:.1f} µs client CPU per entry)")  # fmt: skip
    finally:
        engine.dispose()


def intake_batches(mails_count: int, rounds: int) -> None:
    """Real intake (benchmarks/intake.py's mails and measure: batches of 50 messages, each batch's outcomes and audit
    entries committed together) with the seal at commit off and on, interleaved rounds on fresh databases."""
    from benchmarks import intake as bench_intake

    pki = bench_intake.demo.make_pki(bench_intake.NOW)
    mails = bench_intake.messages_for(pki, mails_count)
    print(f"intake of {mails_count} mails in batches of {bench_intake.BATCH_MESSAGES} (medians of {rounds} rounds):")
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        for kind, label in bench_intake.DATABASES:
            samples: dict[bool, list[tuple[float, float, float]]] = {False: [], True: []}
            for r in range(rounds):
                for on in (False, True):
                    with bench_intake.database(kind, tmp) as url:
                        if url is None:
                            return
                        _hook(on)
                        try:
                            blobs = tmp / f"b{r}{on}"
                            _, wall, cpu, server = bench_intake.measure(url, mails, pki, blobs, batched=True)
                        finally:
                            _hook(True)
                        samples[on].append((wall, cpu, server))

            def med(on: bool, i: int, samples: dict[bool, list[tuple[float, float, float]]] = samples) -> float:
                return statistics.median(x[i] for x in samples[on]) / mails_count * 1e3

            parts = [f"{name} {med(False, i):.2f} → {med(True, i):.2f} ms" for i, name in
                     enumerate(("wall", "client CPU", "server CPU"))]  # fmt: skip
            cpu_off, cpu_on = med(False, 1) + med(False, 2), med(True, 1) + med(True, 2)
            print(f"  {label:<11} per mail, seal off → on: " + "; ".join(parts)
                  + f" (CPU +{(cpu_on / cpu_off - 1) * 100:.1f} %)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--commits", type=int, default=200)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--mails", type=int, default=150, help="mails for the real intake case (0: skip it)")
    args = parser.parse_args()
    print(reference_line())
    with tempfile.TemporaryDirectory() as folder:
        bench("SQLite", f"sqlite:///{folder}/bench.sqlite3", args.rounds, args.commits, args.batch)
    from tests.services import fresh_postgres_database

    with fresh_postgres_database() as url:
        bench("PostgreSQL", url, args.rounds, args.commits, args.batch)
    if args.mails:
        intake_batches(args.mails, max(3, args.rounds // 2))


if __name__ == "__main__":
    main()
