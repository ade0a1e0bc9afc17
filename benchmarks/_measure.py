"""Time and peak-RSS growth of one call, for the benchmarks that measure a case in a fresh child process.

Peak RSS comes from Linux's VmHWM after resetting it through /proc/self/clear_refs (Linux >= 4.0); elsewhere from
``ru_maxrss``, coarser (that high-water mark cannot be reset).
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from typing import TypeVar

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
