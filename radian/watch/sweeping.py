"""One sweep of the watch: enrol, select, ask concurrently, settle each changed title as its answer comes, and
re-schedule the unchanged in bulk and the failed with backoff."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from dian.soap import DianFault, DianResponse, DianTransportError
from dian.soap.results import DocumentXml
from events.answers import ForgedAnswer
from events.context import EventContext, utc_now
from radian.watch.asking import DianWatch, Look, ask_each
from radian.watch.due import due_titles, enrol
from radian.watch.plan import CHUNK, RateLimit, WatchPlan, WatchReport
from radian.watch.settling import schedule, settle
from store.audit import record
from store.models import ValueTitle


class _Lazy:
    """A DIAN client built on its first call (settling usually needs none: the looks fetched what it reads)."""

    def __init__(self, factory: Callable[[], DianWatch]) -> None:
        self._factory = factory
        self.client: DianWatch | None = None

    def _get(self) -> DianWatch:
        if self.client is None:
            self.client = self._factory()
        return self.client

    def get_status_event(self, cufe: str) -> DianResponse:
        return self._get().get_status_event(cufe)

    def get_xml_by_document_key(self, track_id: str) -> DocumentXml:
        return self._get().get_xml_by_document_key(track_id)

    def close(self) -> None:
        close = getattr(self.client, "close", None)
        if close is not None:
            close()


def _reschedule(s: Session, title_ids: list[int], now: datetime, plan: WatchPlan, status: str) -> None:
    """The titles DIAN lists nothing new on: looked at now, next look one interval on (one UPDATE per chunk)."""
    for start in range(0, len(title_ids), CHUNK):
        s.execute(
            sa.update(ValueTitle)
            .where(ValueTitle.id.in_(title_ids[start : start + CHUNK]))
            .values(
                last_watched_at=now,
                next_watch_at=now + plan.interval,
                watch_status=status,
                watch_failures=0,
                watch_error=None,
                updated_at=now,
            )
        )


def sweep(
    sessions: sessionmaker[Session],
    ctx: EventContext,
    client_factory: Callable[[], DianWatch],
    plan: WatchPlan,
    *,
    now: Callable[[], datetime] = utc_now,
    actor: str = "job:title_watch",
) -> WatchReport:
    """One pass of the watch: enrol, select, ask (concurrently, rate-limited) and, as each answer comes, settle a
    changed title at once (one transaction each, in this thread) while the other threads go on asking; the unchanged
    are re-scheduled in bulk. DIAN's failures are counted and retried later, never raised."""
    started = time.perf_counter()
    report = WatchReport()
    moment = now()
    with sessions() as s:
        report.enrolled = enrol(s, moment, past_due_days=plan.past_due_days)
        s.commit()
        dues = due_titles(s, moment, past_due_days=plan.past_due_days, limit=plan.batch)
    if not dues:
        report.seconds = time.perf_counter() - started
        return report
    unchanged: dict[str, list[int]] = {}
    failed: list[Look] = []
    settling = _Lazy(client_factory)
    looks = ask_each(dues, client_factory, rate=RateLimit(plan.rate_per_second), concurrency=plan.concurrency)
    try:
        for item in looks:
            report.asked += 1
            if item.error is not None:
                failed.append(item)
            elif item.changed:
                _settle_one(sessions, ctx, settling, item, now(), plan, report, actor)
            else:
                unchanged.setdefault(item.status or "", []).append(item.due.title_id)
                if sum(len(ids) for ids in unchanged.values()) >= CHUNK:
                    _record_looks(sessions, unchanged, [], now(), plan, report)
                    unchanged = {}
    finally:
        looks.close()  # after an error here: the asks not yet started are cancelled, the clients closed
        settling.close()
    _record_looks(sessions, unchanged, failed, now(), plan, report)
    report.seconds = time.perf_counter() - started
    return report


def _record_looks(sessions: sessionmaker[Session], unchanged: dict[str, list[int]], failed: list[Look],
                  moment: datetime, plan: WatchPlan, report: WatchReport) -> None:  # fmt: skip
    """Re-schedule the titles DIAN listed nothing new on (in bulk) and those it could not answer about (backoff)."""
    if not unchanged and not failed:
        return
    with sessions() as s:
        for status, ids in unchanged.items():
            _reschedule(s, ids, moment, plan, status)
            report.unchanged += len(ids)
        for item in failed:
            row = s.get(ValueTitle, item.due.title_id)
            if row is not None:
                schedule(row, moment, plan, item.status, error=item.error)
            report.failed += 1
            report.errors.append(f"{item.due.cufe[:12]}…: {item.error}")
        s.commit()


def _settle_one(sessions: sessionmaker[Session], ctx: EventContext, client: DianWatch, item: Look, moment: datetime,
                plan: WatchPlan, report: WatchReport, actor: str) -> None:  # fmt: skip
    with sessions() as s:
        try:
            settle(s, ctx, client, item, moment, plan, report, actor=actor)
        except (DianTransportError, DianFault) as exc:
            s.rollback()
            error = f"{exc.__class__.__name__}: {exc}"[:500]
            _failed(s, item, moment, plan, error, report)
        except ForgedAnswer as exc:
            s.rollback()
            record(s, actor=actor, action="title.watch.refused", subject=item.due.cufe,
                   data={"error": str(exc)}, at=moment)  # fmt: skip
            _failed(s, item, moment, plan, f"respuesta de la DIAN no auténtica: {exc}", report)
        s.commit()


def _failed(s: Session, item: Look, moment: datetime, plan: WatchPlan, error: str, report: WatchReport) -> None:
    row = s.get(ValueTitle, item.due.title_id)
    if row is not None:
        schedule(row, moment, plan, item.status, error=error)
    report.failed += 1
    report.errors.append(f"{item.due.cufe[:12]}…: {error}")
