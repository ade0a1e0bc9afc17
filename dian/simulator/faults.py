"""Fault injection per operation, for tests and benchmarks (settable in Python or through the admin endpoint).

Kinds: ``latency`` (wait, then answer), ``http500`` / ``http503`` (an error page, no SOAP), ``reset`` (close the
connection without answering), ``timeout`` (hold the request, then close it), ``drop`` (process and commit, then
close without answering: the case that makes clients send twice).
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass

__all__ = ["KINDS", "Fault", "FaultPlan"]

KINDS = frozenset({"latency", "http500", "http503", "reset", "timeout", "drop"})
ANY = "*"


@dataclass(frozen=True)
class Fault:
    """One injected fault: for ``operation`` (or ``*``), ``count`` times (None = until cleared)."""

    operation: str
    kind: str
    seconds: float = 0.0
    count: int | None = 1

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"fault kind {self.kind!r}: expected one of {', '.join(sorted(KINDS))}")
        if self.seconds < 0 or (self.count is not None and self.count < 1):
            raise ValueError("seconds must be >= 0 and count >= 1 (or None for always)")


class FaultPlan:
    """The pending faults, consumed in the order they were added."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[list] = []  # [Fault, remaining]
        self.stopping = threading.Event()  # set when the server stops: held requests let go

    def add(self, operation: str, kind: str, *, seconds: float = 0.0, count: int | None = 1) -> Fault:
        """Inject ``kind`` into the next ``count`` calls of ``operation`` (``*`` for every operation)."""
        fault = Fault(operation=operation, kind=kind, seconds=seconds, count=count)
        with self._lock:
            self._faults.append([fault, count])
        return fault

    def clear(self) -> None:
        """Remove every pending fault."""
        with self._lock:
            self._faults.clear()

    def take(self, operation: str) -> Fault | None:
        """The fault that applies to this call of ``operation``, consuming one use of it."""
        with self._lock:
            for entry in self._faults:
                fault, remaining = entry
                if fault.operation in (operation, ANY):
                    if remaining is not None:
                        entry[1] = remaining - 1
                        if entry[1] <= 0:
                            self._faults.remove(entry)
                    return fault
        return None

    def pending(self) -> list[dict]:
        """The faults still pending, as JSON-ready dicts."""
        with self._lock:
            return [{**asdict(fault), "remaining": remaining} for fault, remaining in self._faults]

    def wait(self, seconds: float) -> None:
        """Sleep ``seconds``, or less when the server is stopping."""
        self.stopping.wait(seconds)
