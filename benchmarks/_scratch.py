"""What a benchmark runs against and throws away: a PostgreSQL database of its own on the test server (never the
tests' ``test``), and the DIAN simulator in a process of its own (so that a round trip's client CPU holds no GIL waits
of the server's)."""

from __future__ import annotations

import contextlib
import itertools
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import sqlalchemy as sa

from tests.services import PG_ADMIN_URL, free_port, wait_for_port

_runs = itertools.count(1)


@contextlib.contextmanager
def scratch_database(label: str = "", *, settings: Mapping[str, str] | None = None) -> Iterator[str]:
    """The URL of a new database ``buzon_bench_<pid>_<n>[_label]``, dropped afterwards (FORCE: a killed worker's
    connections do not keep it). ``settings`` are ALTER DATABASE … SET parameters, such as
    ``{"max_parallel_workers_per_gather": "0"}`` so that every cycle of a query is in the backend whose CPU is read."""
    name = f"buzon_bench_{os.getpid()}_{next(_runs)}" + (f"_{label}" if label else "")
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        for parameter, value in (settings or {}).items():
            conn.execute(sa.text(f'ALTER DATABASE "{name}" SET {parameter} = {value}'))
    try:
        yield sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def start_simulator(data: Path, latency_ms: float = 0.0) -> tuple[subprocess.Popen[bytes], str]:
    """``buzon dian-sim`` on a free port over ``data``; the process and its endpoint URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "buzon.cli", "dian-sim", "--port", str(port), "--data", str(data),
         "--latency-ms", str(latency_ms)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=data.parent,
    )  # fmt: skip
    if not wait_for_port(port, timeout=60):
        process.kill()
        raise SystemExit("the simulator did not start")
    return process, f"http://127.0.0.1:{port}/WcfDianCustomerServices.svc"


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate, and kill what does not end within 20 s."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
