"""What one sweep of the watch is told and tells back: the events it watches, its plan ([radian] settings),
the rate limit its threads share, and its report."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from dian.codes import EventCode

E = EventCode
# The events that move the payee, freeze or settle a title we owe (issue 17); others (043 mandates, 046 reports,
# 048 protests) are recorded and replayed too when they come along with these.
WATCHED = frozenset({E.INSCRIPCION_TITULO, E.ENDOSO_PROPIEDAD, E.ENDOSO_GARANTIA, E.ENDOSO_PROCURACION,
                     E.ENDOSO_CESION, E.TRANSFERENCIA_DERECHOS, E.NOTIFICACION_TRANSFERENCIA,
                     E.LIMITACION_CIRCULACION, E.TERMINACION_LIMITACION, E.PAGO})  # fmt: skip
UNPROVEN = "unproven"  # value_titles.watch_status while an event on the title could not be proven
CHUNK = 500


@dataclass(frozen=True)
class WatchPlan:
    """How the sweep runs ([radian] settings): how often one title is asked about, for how long after its due date,
    how hard DIAN may be asked, how many titles per run; and where alerts are mailed from and to."""

    interval: timedelta = timedelta(hours=1)
    past_due_days: int = 60
    rate_per_second: float = 10.0
    concurrency: int = 4
    batch: int = 2000
    retry: timedelta = timedelta(minutes=10)  # after a failure, doubled per consecutive failure up to ``interval``
    from_address: str = ""
    alert_emails: tuple[str, ...] = ()


class RateLimit:
    """At most ``per_second`` calls a second across every thread that shares it: each call takes the next free slot
    (slots ``1/per_second`` apart) and sleeps until it comes; no burst beyond one slot."""

    def __init__(
        self,
        per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_second <= 0:
            raise ValueError("the rate must be positive")
        self.spacing = 1.0 / per_second
        self._clock, self._sleep = clock, sleep
        self._next = float("-inf")
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Block until this caller's slot."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self.spacing
        if slot > now:
            self._sleep(slot - now)


@dataclass
class WatchReport:
    enrolled: int = 0
    asked: int = 0
    unchanged: int = 0
    settled: int = 0
    observed: int = 0  # events newly recorded
    holder_changed: int = 0
    limited: int = 0
    unproven: int = 0
    disputed: int = 0  # GetDocumentInfo named another holder than the proven replay (alert only)
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"enrolled": self.enrolled, "asked": self.asked, "unchanged": self.unchanged, "settled": self.settled,
                "observed": self.observed, "holder_changed": self.holder_changed, "limited": self.limited,
                "unproven": self.unproven, "disputed": self.disputed, "failed": self.failed, "errors": self.errors[:5],
                "seconds": round(self.seconds, 3)}  # fmt: skip
