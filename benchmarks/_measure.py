"""What the benchmarks measure with: the time and peak-RSS growth of one call (for a case in a fresh child process),
the machine's reference loop every script prints, and the PostgreSQL server's CPU beside the client's.

Peak RSS comes from Linux's VmHWM after resetting it through /proc/self/clear_refs (Linux >= 4.0); elsewhere from
``ru_maxrss``, coarser (that high-water mark cannot be reset).
"""

from __future__ import annotations

import os
import platform
import resource
import statistics
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def status_kb(field: str) -> int | None:
    """A kB figure from /proc/self/status (VmRSS, VmHWM), or None where there is none."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            line = next((line for line in status if line.startswith(field + ":")), None)
    except OSError:
        return None
    return int(line.split()[1]) if line else None


def reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM) to the current RSS (Linux ≥ 4.0); False where unsupported."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear:
            clear.write("5")
    except OSError:
        return False
    return status_kb("VmHWM") is not None


def measured(run: Callable[[], T]) -> tuple[T, float, int]:
    """Call ``run`` once: its result, the wall seconds it took and how many kB the peak RSS grew meanwhile."""
    exact = reset_peak()
    before = status_kb("VmRSS") if exact else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - started
    peak = status_kb("VmHWM") if exact else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return result, seconds, (peak or 0) - (before or 0)


# --- The machine's reference loop -----------------------------------------------------------------------------------
# A fixed pure-Python workload (integer arithmetic, a dict, string formatting: what the interpreter spends most of its
# time on in Buzón's own code), timed as this process's CPU seconds. Every benchmark prints it beside its figures, so
# a figure from another machine (or this one under other load) can be scaled by the ratio of the two reference times.

REFERENCE_ROUNDS = 5


def _reference_workload() -> int:
    seen: dict[str, int] = {}
    total = 0
    for n in range(200_000):
        key = f"k{n % 997}"
        seen[key] = seen.get(key, 0) + (n * 7919) % 104_729
        total ^= seen[key]
    return total


def reference_seconds(rounds: int = REFERENCE_ROUNDS) -> float:
    """The median CPU seconds of the reference workload over ``rounds`` runs (≈ 50 ms each on the development
    machine)."""
    samples = []
    for _ in range(rounds):
        started = time.process_time()
        _reference_workload()
        samples.append(time.process_time() - started)
    return statistics.median(samples)


def reference_line(rounds: int = REFERENCE_ROUNDS) -> str:
    """One printable line naming the machine's reference time, to print with a benchmark's figures."""
    before = _cpu_ticks()
    seconds = reference_seconds(rounds)
    after = _cpu_ticks()
    # What else slows the figures: other processes on these cores (the load) and, on a virtual machine, the time the
    # host gave to others (steal); the reference loop alone moves with both (69 to 118 ms seen on one machine).
    busy = " ".join(f"{load:.2f}" for load in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    steal = ""
    if before and after and sum(after) > sum(before):
        steal = f", steal {100 * (after[7] - before[7]) / (sum(after) - sum(before)):.0f} %"
    return (
        f"machine reference loop: {seconds * 1000:.1f} ms CPU (median of {rounds}; Python "
        f"{platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores, load average {busy}{steal}; "
        "divide a figure by it to compare machines)"
    )


def _cpu_ticks() -> list[int]:
    """The machine's CPU time by kind (/proc/stat's first line: user nice system idle iowait irq softirq steal …);
    empty where there is no /proc."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            return [int(field) for field in stat.readline().split()[1:9]]
    except (OSError, ValueError):
        return []


# --- PostgreSQL server CPU -------------------------------------------------------------------------------------------
# The server's CPU is read from /proc/<pid>/stat (utime + stime, fields 14 and 15, in clock ticks of 1/CLK_TCK s,
# usually 10 ms): so only for a server on this machine, on Linux. Either the backends of the benchmark's own scratch
# database (exact: other sessions' work on the same server is left out, but parallel workers and connections opened
# or closed during the measurement are missed) or every process named postgres (everything the server did meanwhile,
# other clients included). The tick makes one reading coarse: take medians of several rounds, as for client CPU.

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu_seconds(pid: int) -> float | None:
    """utime + stime of one process in seconds, or None when it is gone or /proc cannot be read."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()  # the command name, in parentheses, may hold spaces
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / _TICK  # fields 14 and 15, counted from after the name (field 3)


def postgres_pids() -> list[int]:
    """Every process on this machine whose command name is ``postgres`` (the postmaster and all its children)."""
    pids = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm", encoding="ascii") as comm:
                    if comm.read().strip() == "postgres":
                        pids.append(int(entry))
            except OSError:
                continue
    return pids


def backend_pids(conn: Any) -> list[int]:
    """The server processes of every session on ``conn``'s database (a SQLAlchemy Connection or Session), this one
    included: for a scratch database only the benchmark uses, the whole server work done for it."""
    import sqlalchemy as sa  # here, so the child processes that measure RSS do not load it

    return list(
        conn.execute(
            sa.text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid IS NOT NULL")
        ).scalars()
    )


class ServerCPU:
    """The CPU seconds some PostgreSQL processes spend inside a ``with`` block (``.seconds`` after it; None when
    /proc is not readable). ``pids`` None: every postgres process on the machine, listed on entry; otherwise, e.g.,
    ``backend_pids(conn)`` or ``[conn.execute(sa.text("SELECT pg_backend_pid()")).scalar()]``."""

    def __init__(self, pids: list[int] | None = None) -> None:
        self.pids = pids
        self.seconds: float | None = None
        self._start: dict[int, float] = {}

    def __enter__(self) -> ServerCPU:
        pids = self.pids if self.pids is not None else postgres_pids()
        self._start = {pid: s for pid in pids if (s := process_cpu_seconds(pid)) is not None}
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._start:
            return
        # A process that ended meanwhile counts nothing; one that started does not count (only those listed on entry).
        ends = {pid: process_cpu_seconds(pid) for pid in self._start}
        self.seconds = sum(end - self._start[pid] for pid, end in ends.items() if end is not None)


def cpu_of(run: Callable[[], T], server_pids: Callable[[], list[int]] | None = None) -> tuple[T, float, float, float]:
    """Call ``run`` once: its result, wall seconds, this process's CPU seconds and the server's CPU seconds over the
    processes ``server_pids()`` names (every postgres process when None; 0.0 when /proc is unreadable)."""
    with ServerCPU(server_pids() if server_pids else None) as server:
        wall, cpu = time.perf_counter(), time.process_time()
        result = run()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return result, wall, cpu, server.seconds or 0.0
