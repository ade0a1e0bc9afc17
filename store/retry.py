"""When an outbox tries again — the events', issuing's and the webhooks' alike: the UTC clock they read and the
exponential backoff after a failed attempt (the row's ``next_attempt_at`` is now + ``delay(attempts)``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

__all__ = ["Backoff", "utc_now"]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Backoff:
    """Retries after an outage: ``base_seconds`` doubled per attempt, capped at ``max_seconds``."""

    base_seconds: float = 30.0
    max_seconds: float = 3600.0

    def delay(self, attempts: int) -> timedelta:
        """The wait after ``attempts`` failed attempts (1 → base)."""
        return timedelta(seconds=min(self.max_seconds, self.base_seconds * 2 ** max(0, attempts - 1)))
