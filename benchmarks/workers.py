"""Several intake processes on one PostgreSQL: 1 vs 2 `buzon poll` processes on one Dovecot mailbox, and a run of
1,000 mails with both killed (SIGKILL) at random and started again.

Run from the repository root: ``.venv/bin/python benchmarks/workers.py [--messages 2000] [--rounds 3]
[--kill-run 1000]``.
Prints figures; the kill run asserts that every message was taken exactly once (tests/integration/pollers.py:
documents == distinct CUFEs, one mail row per UID, each decided once, each moved once). Each mail is a supplier's
mail with a zip holding one of the real samples (``$BUZON_SHARED/samples``) and a PDF, with a Message-ID of its own.
Each throughput run is a fresh scratch database ``buzon_bench_<pid>_<n>`` (created and dropped here; never the
shared ``test`` database) and a fresh IMAP folder; `buzon poll --once` × 1 or × 2 started together, the wall time
until the last one ends (process start-up included, the same in both), and the intake span without start-up: from the
first mail row recorded to the last one settled (their created_at and updated_at). Rounds are interleaved; medians.
CPU: the poll processes' (RUSAGE_CHILDREN) and the PostgreSQL backends of the scratch database (sampled from /proc
while they live, so each backend's last sample, taken at most 0.2 s before it ended, is counted).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import resource
import secrets
import shutil
import statistics
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

import sqlalchemy as sa  # noqa: E402
from _measure import process_cpu_seconds, reference_line  # noqa: E402
from _scratch import scratch_database  # noqa: E402

from store.models import MailMessage  # noqa: E402
from tests.integration.pollers import Pollers, check_taken_once, real_mails  # noqa: E402
from tests.services import Dovecot, free_port  # noqa: E402

PG_ADMIN = os.environ.get("BUZON_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
_runs = itertools.count(1)


@contextlib.contextmanager
def dovecot() -> Iterator[Dovecot]:
    root = Path(tempfile.mkdtemp(prefix="buzon-bench-dovecot-"))
    os.chmod(root, 0o755)  # noqa: S103 - Dovecot's own users must traverse it
    server = Dovecot(root=root, port=free_port())
    server.write_config()
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


class BackendCPU:
    """The CPU seconds of the PostgreSQL backends serving one database, sampled from /proc every 0.2 s."""

    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        self.last: dict[int, float] = {}
        self.first: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        with self.engine.connect() as conn:
            own = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar()
            query = sa.text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> :own")
            while not self._stop.is_set():
                for pid in conn.execute(query, {"own": own}).scalars():
                    seconds = process_cpu_seconds(pid)
                    if seconds is not None:
                        self.first.setdefault(pid, seconds)
                        self.last[pid] = seconds
                conn.rollback()
                self._stop.wait(0.2)

    def __enter__(self) -> BackendCPU:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.engine.dispose()

    @property
    def seconds(self) -> float:
        # Backends are started by the polls after sampling began: most of their CPU is after their first sample.
        return sum(self.last.values())


def throughput(server: Dovecot, mails: list[bytes], workers: int, work: Path) -> tuple[float, float, float, float]:
    """Wall seconds, client CPU seconds, server CPU seconds and the intake span of `workers` polls taking ``mails``
    together."""
    with scratch_database() as url:
        root = work / f"run{next(_runs)}"
        root.mkdir()
        pollers = Pollers(root, url, server, folder=f"Bench{secrets.token_hex(3)}")
        pollers.init()
        pollers.deliver(mails)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        with BackendCPU(url) as backends:
            wall = pollers.run_once(workers)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        client = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            first, last = conn.execute(
                sa.select(sa.func.min(MailMessage.created_at), sa.func.max(MailMessage.updated_at))
            ).one()
        engine.dispose()
        return wall, client, backends.seconds, (last - first).total_seconds()


def report(figures: dict[int, list[tuple[float, float, float, float]]], messages: int, rounds: int) -> None:
    print(f"{messages} real-sample mails over IMAP into PostgreSQL, medians of {rounds} interleaved rounds:")
    rate, span_rate = {}, {}
    for workers, runs in figures.items():
        wall = statistics.median(r[0] for r in runs)
        client = statistics.median(r[1] for r in runs)
        backend = statistics.median(r[2] for r in runs)
        span = statistics.median(r[3] for r in runs)
        rate[workers], span_rate[workers] = messages / wall, messages / span
        walls = ", ".join(f"{r[0]:.2f}" for r in runs)
        print(
            f"  {workers} process(es): {wall:6.2f} s wall ({walls}) = {rate[workers]:6.1f} mails/s; intake span "
            f"{span:.2f} s = {span_rate[workers]:.1f} mails/s; CPU {client * 1000 / messages:.1f} ms/mail "
            f"in the polls (start-up included) + {backend * 1000 / messages:.1f} ms/mail in PostgreSQL"
        )
    print(
        f"  throughput 2 processes / 1 process: {rate[2] / rate[1]:.2f}x wall, "
        f"{span_rate[2] / span_rate[1]:.2f}x intake span; load average now {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} cores (other work on the machine takes cores from the second process)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # Enough mail that the polls' start-up (about a second each, paid once by a long-running `buzon poll`) does not
    # decide the figure: 300 mails are now about a second of work.
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--kill-run", type=int, default=1000, help="mails of the kill/restart run (0: skip it)")
    args = parser.parse_args()
    print(reference_line())
    try:
        sa.create_engine(PG_ADMIN).connect().close()
    except Exception as exc:
        print(f"PostgreSQL unreachable at {PG_ADMIN}: {exc.__class__.__name__}; nothing measured")
        return
    if shutil.which("dovecot") is None:
        print("dovecot is not installed; nothing measured")
        return
    mails = [data for _, data in real_mails(args.messages)]
    figures: dict[int, list[tuple[float, float, float, float]]] = {1: [], 2: []}
    with dovecot() as server, tempfile.TemporaryDirectory(prefix="buzon-bench-workers-") as tmp:
        work = Path(tmp)
        for _ in range(args.rounds):
            for workers in (1, 2):
                figures[workers].append(throughput(server, mails, workers, work))
        if not args.rounds:
            figures.clear()
        if figures:
            report(figures, args.messages, args.rounds)
        if args.kill_run:
            kill_mails = real_mails(args.kill_run)
            with scratch_database() as url:
                root = work / "kills"
                root.mkdir()
                pollers = Pollers(root, url, server, folder=f"Kills{secrets.token_hex(3)}")
                pollers.init()
                pollers.deliver([data for _, data in kill_mails])
                pollers.run_with_kills(len(kill_mails), workers=2, every=(0.2, 1.0), timeout=1800)
                counts = check_taken_once(pollers, kill_mails)
            print(
                f"kill/restart run: {counts['mails']} mails, 2 polls killed with SIGKILL {counts['kills']} times "
                f"and started again: {counts['documents']} documents == distinct CUFEs, every mail recorded once, "
                f"decided once and moved once ({counts['quarantined']} quarantined); duplicates: 0; polls that "
                f"ended on their own (restarted): {counts['exited']}"
            )
            for process in pollers.exited:
                print(f"  a poll ended with {process.returncode}; the logs' end: {pollers.logs()[-600:]}")


if __name__ == "__main__":
    main()
