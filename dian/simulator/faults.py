"""Fault injection per operation, for tests and benchmarks (settable in Python or through the admin endpoint).

Kinds: ``latency`` (wait, then answer), ``http500`` / ``http503`` (an error page, no SOAP), ``reset`` (close the
connection without answering), ``timeout`` (hold the request, then close it), ``drop`` (process and commit, then
close without answering: the case that makes clients send twice), and DIAN's answers that are not final
(dian-facts 6.5): ``status98`` (process and commit, then answer StatusCode 98 "En Proceso" without DIAN's
ApplicationResponse: DIAN took it and is still validating) and ``status66`` (answer StatusCode 66 without processing:
DIAN does not find it, or its batch is still being validated). Both apply to the operations that answer a
``DianResponse``; on any other operation they are ignored.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass

__all__ = ["KINDS", "Fault", "FaultPlan"]

KINDS = frozenset({"latency", "http500", "http503", "reset", "timeout", "drop", "status98", "status66"})
ANY = "*"
# The operations whose answer is one DianResponse: the not-final answers replace theirs.
STATUS_OPERATIONS = frozenset({"SendBillSync", "SendEventUpdateStatus", "GetStatus", "GetStatusEvent"})
NOT_FINAL = {
    "status98": ("98", "En Proceso"),
    "status66": ("66", "TrackId no encontrado o el lote aún se está validando"),
}


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

    @property
    def processes(self) -> bool:
        """False when the call is answered without being processed (``status66``: DIAN never took it)."""
        return self.kind != "status66"

    def answer(self, operation: str) -> tuple[str, str] | None:
        """The not-final StatusCode and description this fault answers on ``operation`` instead of DIAN's, or None
        (the caller wraps them in its DianResponse: this module stays below the simulator's core)."""
        if self.kind not in NOT_FINAL or operation not in STATUS_OPERATIONS:
            return None
        return NOT_FINAL[self.kind]


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
