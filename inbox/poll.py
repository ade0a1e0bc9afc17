"""The poll loop: recover what a crash left pending, take every new message, settle it after the commit; and the
long-running loop around it (reconnect with backoff, IDLE or polling). The clock and sleep are handed in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from inbox.claims import Claims, claims_for, message_key
from inbox.faults import lost_connection, one_line
from inbox.intake import Envelope, Intake, Result
from inbox.routing import Router
from inbox.sources import Handle, Source
from store.blobs import BlobStore
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
    routed: dict[str, int] = field(default_factory=dict)  # messages taken by another company of ours, by its NIT

    def add(self, result: Result, company: str | None = None) -> None:
        """Count one message's outcome (one taken in an earlier run counts as a duplicate); ``company``: the NIT of
        the other company of ours whose intake took it (inbox.routing)."""
        self.messages += 1
        self.results.append(result)
        if company is not None:
            self.routed[company] = self.routed.get(company, 0) + 1
        if result.earlier:
            self.duplicates += 1
            return
        self.filed += len(result.filed)
        self.events += len(result.events)
        self.duplicates += len(result.duplicates)
        if result.status == MailStatus.QUARANTINED and result.reason is not None:
            self.quarantined[result.reason.value] = self.quarantined.get(result.reason.value, 0) + 1

    def to_dict(self) -> dict[str, Any]:
        """The JSON summary of `buzon import --json` (``routed`` only when another company of ours took mail)."""
        summary: dict[str, Any] = {
            "filed": self.filed,
            "duplicates": self.duplicates,
            "quarantined": dict(sorted(self.quarantined.items())),
        }
        if self.routed:
            summary["routed"] = dict(sorted(self.routed.items()))
        return summary


def poll_once(
    source: Source,
    intake: Intake,
    *,
    on_result: Callable[[Result], None] | None = None,
    recover: bool = True,
    router: Router | None = None,
) -> Summary:
    """Take every message the source holds now, in batches; each is settled (moved, flagged) only after its commit.

    Each message is claimed first (inbox.claims): several pollers on one mailbox and one PostgreSQL split the mail,
    and the pending messages of a poller that died are resumed by the next one that finds their claim free.

    With a ``router`` (several companies in one install; its own intake is ``intake``), each message is taken by the
    intake of the company it is addressed to (inbox.routing), in that company's database; the claims stay on this
    mailbox's company's database, and the pending messages of this mailbox are resumed from every company's."""
    if router is not None and router.own is not intake:
        raise ValueError("the router's own intake must be the poll's intake")
    summary = Summary()
    with claims_for(intake.sessions) as claims:
        if recover:
            # Messages recorded by a run that died before deciding them (step "recorded" and after).
            for company, target in ((None, intake),) if router is None else router.targets:
                for mail_id, key in claims.pending(target.sessions, source.mailbox):
                    if not claims.take(key):
                        continue  # a live poller is taking it
                    try:
                        result = target.process(mail_id)
                    finally:
                        claims.release(key)
                    if not result.earlier:
                        summary.add(result, company)
        fetched = _fetched(source, intake if router is None else router, claims)
        for batch in batches(fetched, weight=lambda taken: len(taken[1].data)):
            try:
                _take(source, intake if router is None else router, batch, summary, on_result)
            finally:
                claims.release_many([key for _, _, key in batch])
    return summary


def _fetched(source: Source, intake: Intake | Router, claims: Claims) -> Iterator[tuple[Handle, Envelope, int]]:
    """The new messages of the source, each claimed and fetched (with its claim); those an earlier run decided are
    settled on the way, and those another poller holds (or settled meanwhile) are left to it. A router answers what
    is recorded from every company's database. Handles are claimed and looked up a batch at a time (one round trip to
    the database for each), so the cost of sharing a mailbox does not grow with every message."""
    for chunk in batches(source.scan(intake), weight=lambda handle: 0):  # type: ignore[arg-type]  # a Router scans too
        yield from _fetched_chunk(source, intake, claims, chunk)


def _fetched_chunk(
    source: Source, intake: Intake | Router, claims: Claims, chunk: list[Handle]
) -> Iterator[tuple[Handle, Envelope, int]]:
    keys = {h.uid: message_key(source.mailbox, h.uidvalidity, h.uid, None) for h in chunk if h.uid is not None}
    granted = claims.take_many(list(keys.values()))
    statuses = {h.uid: h.status for h in chunk if h.uid is not None}
    if claims.shared:  # another poller may have decided some since the scan
        by_validity: dict[int, list[int]] = {}
        for h in chunk:
            if h.uid is not None and keys[h.uid] in granted:
                by_validity.setdefault(h.uidvalidity or 0, []).append(h.uid)
        for validity, uids in by_validity.items():
            known = intake.known_many(source.mailbox, validity, uids)
            statuses.update({uid: known[uid][1] if uid in known else None for uid in uids})
    decided = []  # decided and committed by an earlier run that died before settling them: just settle them now
    todo = []
    for handle in chunk:
        if handle.uid is None:
            todo.append(handle)
        elif keys[handle.uid] in granted:
            status = statuses.get(handle.uid)
            (decided if status is not None and status != MailStatus.PENDING else todo).append(handle)
    if decided:
        try:
            source.settle_many([(h, statuses[h.uid]) for h in decided])  # type: ignore[misc]
            for _ in decided:
                intake.hook("settled")
        finally:
            claims.release_many([keys[h.uid] for h in decided])
    for handle, envelope in source.fetch_many(todo):
        key = keys.get(handle.uid)
        if envelope is None:  # settled by another poller since the scan
            if key is not None:
                claims.release(key)
            continue
        if key is None:  # no UIDs: the message is known by its bytes
            key = message_key(source.mailbox, None, None, BlobStore.key_of(envelope.data))
            if not claims.take(key):
                continue
        yield handle, envelope, key


def _take(
    source: Source,
    taker: Intake | Router,
    batch: list[tuple[Handle, Envelope, int]],
    summary: Summary,
    on_result: Callable[[Result], None] | None,
) -> None:
    """Take a batch of fetched messages (their outcomes commit together; with a router, each company's part in its
    own database), then settle each, in the batch's order: every outcome is committed before any is settled."""
    envelopes = [e for _, e, _ in batch]
    if isinstance(taker, Router):
        taken = taker.take_many(envelopes)
    else:
        taken = [(None, taker, result) for result in taker.take_many(envelopes)]
    # A message another process holds stays PENDING here: that process settles it.
    done = [(handle, *outcome) for (handle, _, _), outcome in zip(batch, taken, strict=True)
            if outcome[2].status != MailStatus.PENDING]  # fmt: skip
    source.settle_many([(handle, result.status) for handle, _, _, result in done])
    for _, company, intake, result in done:
        intake.hook("settled")
        summary.add(result, company)
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
    router: Router | None = None,
) -> None:
    """Poll until ``stop()``: connect, take new mail, wait (IDLE or sleep); on a lost connection to the mailbox or the
    database, or any other failure of a poll, close, wait the next backoff delay and start again (intake is
    idempotent, so nothing is redone). A message's own failure never reaches here: intake quarantines it. Only a
    connection refused for a reason that waiting cannot mend (a setting) ends the loop. ``router``: as poll_once's."""
    failures = 0
    while not stop():
        source: Source | None = None
        try:
            source = connect()
            caught_up = False  # said once per connection: the operator sees the poll start, and come back after a loss
            while not stop():
                summary = poll_once(source, intake) if router is None else poll_once(source, intake, router=router)
                failures = 0
                if summary.messages:
                    log(
                        f"{summary.messages} mensaje(s): {summary.filed} archivado(s), "
                        f"{summary.duplicates} duplicado(s), {sum(summary.quarantined.values())} en cuarentena"
                    )
                if not caught_up:
                    log("buzón al día; esperando correo nuevo")
                    caught_up = True
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
