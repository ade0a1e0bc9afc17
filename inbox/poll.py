"""The poll loop: recover what a crash left pending, take every new message, settle it after the commit; and the
long-running loop around it (reconnect with backoff, IDLE or polling). The clock and sleep are handed in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from inbox.faults import lost_connection, one_line
from inbox.intake import Envelope, Intake, Result
from inbox.sources import Handle, Source
from store.models import MailStatus

T = TypeVar("T")
logger = logging.getLogger("buzon.poll")
BACKOFF = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
# A poll takes the mail it fetched in batches whose outcomes commit together: the database's round trips, commits and
# the blob store's transactions are paid once per batch, not per message. A batch closes at this many messages or once
# it holds this many bytes (what is verified at once stays in memory until the batch commits).
BATCH_MESSAGES = 50
BATCH_BYTES = 2 * 1024 * 1024


@dataclass
class Summary:
    """Counts of one poll or import: filed documents, duplicates, quarantined messages by reason code."""

    filed: int = 0
    duplicates: int = 0
    events: int = 0
    quarantined: dict[str, int] = field(default_factory=dict)
    messages: int = 0
    results: list[Result] = field(default_factory=list, repr=False)

    def add(self, result: Result) -> None:
        """Count one message's outcome (one taken in an earlier run counts as a duplicate)."""
        self.messages += 1
        self.results.append(result)
        if result.earlier:
            self.duplicates += 1
            return
        self.filed += len(result.filed)
        self.events += len(result.events)
        self.duplicates += len(result.duplicates)
        if result.status == MailStatus.QUARANTINED and result.reason is not None:
            self.quarantined[result.reason.value] = self.quarantined.get(result.reason.value, 0) + 1

    def to_dict(self) -> dict[str, Any]:
        """The JSON summary of `buzon import --json`."""
        return {
            "filed": self.filed,
            "duplicates": self.duplicates,
            "quarantined": dict(sorted(self.quarantined.items())),
        }


def poll_once(
    source: Source,
    intake: Intake,
    *,
    on_result: Callable[[Result], None] | None = None,
    recover: bool = True,
) -> Summary:
    """Take every message the source holds now, in batches; each is settled (moved, flagged) only after its commit."""
    summary = Summary()
    if recover:
        # Messages recorded by a run that died before deciding them (step "recorded" and after).
        for mail_id in intake.pending(source.mailbox):
            result = intake.process(mail_id)
            if not result.earlier:
                summary.add(result)
    for batch in batches(_fetched(source, intake), weight=lambda fetched: len(fetched[1].data)):
        _take(source, intake, batch, summary, on_result)
    return summary


def _fetched(source: Source, intake: Intake) -> Iterator[tuple[Handle, Envelope]]:
    """The new messages of the source, fetched one by one; those an earlier run decided are settled on the way."""
    for handle in source.scan(intake):
        if handle.status is not None and handle.status != MailStatus.PENDING:
            # Decided and committed by an earlier run that died before settling it: just settle it now.
            source.settle(handle, handle.status)
            intake.hook("settled")
            continue
        yield handle, source.fetch(handle)


def _take(
    source: Source,
    intake: Intake,
    batch: list[tuple[Handle, Envelope]],
    summary: Summary,
    on_result: Callable[[Result], None] | None,
) -> None:
    """Take a batch of fetched messages (their outcomes commit together), then settle each, in order."""
    for (handle, _), result in zip(batch, intake.take_many([e for _, e in batch]), strict=True):
        if result.status == MailStatus.PENDING:
            continue  # another process holds it; that process settles it
        source.settle(handle, result.status)
        intake.hook("settled")
        summary.add(result)
        if on_result is not None:
            on_result(result)


def batches(items: Iterable[T], weight: Callable[[T], int] | None = None) -> Iterator[list[T]]:
    """Envelopes (or what carries them) in batches for Intake.take_many, bounded by BATCH_MESSAGES and BATCH_BYTES;
    ``weight`` gives an item's bytes (an Envelope's data by default)."""
    measure = weight or (lambda envelope: len(envelope.data))  # type: ignore[attr-defined]
    batch: list[T] = []
    size = 0
    for item in items:
        batch.append(item)
        size += measure(item)
        if len(batch) >= BATCH_MESSAGES or size >= BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def run(
    connect: Callable[[], Source],
    intake: Intake,
    *,
    wait_seconds: float,
    sleep: Callable[[float], None],
    stop: Callable[[], bool],
    log: Callable[[str], None] = lambda message: None,
    transient: tuple[type[BaseException], ...] = (OSError,),
    backoff: tuple[float, ...] = BACKOFF,
) -> None:
    """Poll until ``stop()``: connect, take new mail, wait (IDLE or sleep); on a lost connection to the mailbox or the
    database, or any other failure of a poll, close, wait the next backoff delay and start again (intake is
    idempotent, so nothing is redone). A message's own failure never reaches here: intake quarantines it. Only a
    connection refused for a reason that waiting cannot mend (a setting) ends the loop."""
    failures = 0
    while not stop():
        source: Source | None = None
        try:
            source = connect()
            while not stop():
                summary = poll_once(source, intake)
                failures = 0
                if summary.messages:
                    log(
                        f"{summary.messages} mensaje(s): {summary.filed} archivado(s), "
                        f"{summary.duplicates} duplicado(s), {sum(summary.quarantined.values())} en cuarentena"
                    )
                source.wait(wait_seconds, sleep, stop)
        except Exception as exc:
            lost = isinstance(exc, transient) or lost_connection(exc)
            if source is None and not lost:
                raise  # the mailbox refuses these settings: waiting will not mend them
            delay = backoff[min(failures, len(backoff) - 1)]
            failures += 1
            if lost:
                log(f"conexión perdida ({one_line(exc)}); nuevo intento en {delay:.0f} s")
            else:
                logger.error("a poll failed; trying again in %.0f s", delay, exc_info=True)
                log(f"la lectura del buzón falló ({one_line(exc)}); nuevo intento en {delay:.0f} s")
            remaining = delay
            while remaining > 0 and not stop():
                sleep(min(1.0, remaining))
                remaining -= 1.0
        finally:
            if source is not None:
                source.close()
