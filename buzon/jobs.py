"""The scheduled jobs: each an idempotent sweep with a fixed id, recorded as a JobRun (last run, outcome, summary).

APScheduler keeps its jobs in the database and pickles their references: the functions here take no arguments (no
secrets end up in the job table); the scheduler process calls `configure(settings)` once before it starts.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from buzon.config import Settings
from store.models import JobRun

log = logging.getLogger("buzon.jobs")


@dataclass
class Runtime:
    """One process's view of the configuration: the engine, and the DIAN client and event context made on demand."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    _ctx: Any = None
    _client: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ctx(self) -> Any:
        if self._ctx is None:
            from buzon.event_access import event_context

            self._ctx = event_context(self.settings, sessions=self.sessions)
        return self._ctx

    @property
    def client(self) -> Any:
        if self._client is None:
            from buzon.dian_access import dian_client

            self._client = dian_client(self.settings)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        self.engine.dispose()


_runtime: Runtime | None = None


def configure(settings: Settings, *, engine: Engine | None = None) -> Runtime:
    """Bind the jobs to these settings (the scheduler process, `buzon jobs run`, tests)."""
    global _runtime
    from store.db import make_engine, session_factory

    if _runtime is not None:
        _runtime.close()
    engine = engine or make_engine(settings.database_url)
    _runtime = Runtime(settings, engine, session_factory(engine))
    return _runtime


def runtime() -> Runtime:
    if _runtime is None:
        raise RuntimeError("buzon.jobs.configure(settings) must run before a job")
    return _runtime


def _now() -> datetime:
    return datetime.now(UTC)


def recorded(job_id: str, work: Callable[[Runtime], dict[str, Any]]) -> dict[str, Any]:
    """Run ``work`` as job ``job_id``: a JobRun row says when it started, how it ended and what it did."""
    rt = runtime()
    with rt.sessions() as s:
        run = JobRun(job_id=job_id, started_at=_now(), outcome="running")
        s.add(run)
        s.commit()
        run_id = run.id
    outcome, summary, error = "ok", {}, None
    try:
        summary = work(rt)
    except Exception as exc:  # a job's failure is recorded and logged; the scheduler goes on with the next run
        outcome, error = "failed", f"{exc.__class__.__name__}: {exc}"
        log.error("job %s failed: %s\n%s", job_id, error, traceback.format_exc())
    with rt.sessions() as s:
        run = s.get(JobRun, run_id)
        assert run is not None
        run.finished_at, run.outcome, run.summary, run.error = _now(), outcome, summary, error
        s.commit()
    return {"outcome": outcome, "summary": summary, "error": error}


# -- the jobs ------------------------------------------------------------------------------------------------------


def _poll(rt: Runtime) -> dict[str, Any]:
    from buzon.inbox_commands import poll_mailbox_once

    return poll_mailbox_once(rt.settings).to_dict()


def _auto_acknowledge(rt: Runtime) -> dict[str, Any]:
    from events.policy import auto_acknowledge

    sched = rt.settings.scheduler
    if sched.auto_acknowledge == "off":
        return {"mode": "off"}
    report = auto_acknowledge(
        rt.sessions, rt.ctx, mode=sched.auto_acknowledge, suppliers=sched.auto_acknowledge_suppliers
    )
    return {"mode": sched.auto_acknowledge, **report.as_dict(), "refusals": list(report.refused.values())[:5]}


def _auto_receipt(rt: Runtime) -> dict[str, Any]:
    from events.policy import auto_receipt

    report = auto_receipt(rt.sessions, rt.ctx, suppliers=rt.settings.scheduler.auto_receipt_suppliers)
    return {**report.as_dict(), "refusals": list(report.refused.values())[:5]}


def _deliver_outbox(rt: Runtime) -> dict[str, Any]:
    from buzon.event_access import notice_hook, smtp_target
    from events.notify import deliver_mail
    from events.outbox import deliver_events

    events = deliver_events(rt.sessions, rt.ctx, rt.client, on_registered=notice_hook(rt.ctx, rt.settings, rt.client))
    mail = deliver_mail(rt.sessions, rt.ctx, smtp_target(rt.settings))
    return {"events": events.as_dict(), "mail": mail.as_dict(), "mail_errors": mail.errors[:3]}


def _sync_events(rt: Runtime) -> dict[str, Any]:
    from buzon.event_access import notice_hook
    from events.sync import sync_events

    report = sync_events(
        rt.sessions,
        rt.ctx,
        rt.client,
        every=timedelta(seconds=rt.settings.scheduler.sync_interval),
        max_age_days=rt.settings.events.sync_max_age_days,
        on_registered=notice_hook(rt.ctx, rt.settings, rt.client),
    )
    return {**report.as_dict(), "errors": report.errors[:5]}


def _deadlines(rt: Runtime) -> dict[str, Any]:
    from events.clock import close_windows, send_reminders

    report = close_windows(rt.sessions, rt.ctx)
    send_reminders(
        rt.sessions,
        rt.ctx,
        hours=rt.settings.scheduler.reminder_business_hours,
        from_address=rt.settings.smtp.from_address,
        report=report,
    )
    return report.as_dict()


def _deliver_webhooks(rt: Runtime) -> dict[str, Any]:
    from events.webhooks import WebhookTarget, deliver_webhooks

    w, e = rt.settings.webhooks, rt.settings.events
    target = WebhookTarget(w.url, w.secret, w.timeout, w.max_attempts, e.retry_seconds, e.retry_max_seconds)
    return deliver_webhooks(rt.sessions, target if w.url else None).as_dict()


def _confirm_documents(rt: Runtime) -> dict[str, Any]:
    from buzon.dian_access import dian_keys, trust_store
    from dian.calendar import BusinessCalendar
    from inbox.confirm import confirm_documents
    from store.blobs import BlobStore

    settings = rt.settings
    trust = trust_store(settings)  # a folder that cannot be read fails this run (recorded), not the process
    check, note = None, "la consulta en línea está apagada (dian.online_check): solo se vuelve a pesar sin conexión"
    if settings.dian.online_check:
        from buzon.config import ConfigError
        from buzon.dian_access import online_check

        try:
            check, note = online_check(rt.client, settings), None
        except ConfigError as exc:  # no DIAN client (the certificate): the offline re-weigh still runs
            note = f"sin consulta en línea: {exc}"
    counts = confirm_documents(
        rt.sessions,
        BlobStore(settings.blob_dir),
        lambda: dian_keys(settings, trust, rt.sessions),
        check,
        now=_now,
        calendar=BusinessCalendar(saturday_is_business_day=settings.scheduler.saturday_is_business_day),
    )
    return {**counts, "online": check is not None, **({"note": note} if note else {})}


def poll_mailbox() -> dict[str, Any]:
    """Take supplier mail from the reception mailbox."""
    return recorded("poll_mailbox", _poll)


def auto_acknowledge() -> dict[str, Any]:
    """Acknowledge receipt (030) of valid documents, by policy."""
    return recorded("auto_acknowledge", _auto_acknowledge)


def auto_receipt() -> dict[str, Any]:
    """Receipt of services (032) for the suppliers configured as such."""
    return recorded("auto_receipt", _auto_receipt)


def deliver_outbox() -> dict[str, Any]:
    """Send queued events to DIAN and queued mail to suppliers and clerks."""
    return recorded("deliver_outbox", _deliver_outbox)


def sync_events() -> dict[str, Any]:
    """Ask DIAN for the counterpart's events on open invoices."""
    return recorded("sync_events", _sync_events)


def deadlines() -> dict[str, Any]:
    """Close claim windows that ended and remind clerks of those about to."""
    return recorded("deadlines", _deadlines)


def deliver_webhooks() -> dict[str, Any]:
    """POST document state changes to the configured webhook URL, signed, with retries."""
    return recorded("deliver_webhooks", _deliver_webhooks)


def confirm_documents() -> dict[str, Any]:
    """Settle documents whose DIAN validation is unconfirmed: weighed again offline, else asked online."""
    return recorded("confirm_documents", _confirm_documents)


JOBS: dict[str, Callable[[], dict[str, Any]]] = {
    "poll_mailbox": poll_mailbox,
    "auto_acknowledge": auto_acknowledge,
    "auto_receipt": auto_receipt,
    "deliver_outbox": deliver_outbox,
    "sync_events": sync_events,
    "deadlines": deadlines,
    "deliver_webhooks": deliver_webhooks,
    "confirm_documents": confirm_documents,
}


def last_runs(session: Session) -> dict[str, JobRun]:
    """The latest run of each job."""
    latest = sa.select(JobRun.job_id, sa.func.max(JobRun.id).label("id")).group_by(JobRun.job_id).subquery()
    rows = session.execute(sa.select(JobRun).join(latest, JobRun.id == latest.c.id)).scalars()
    return {row.job_id: row for row in rows}
