"""The scheduled jobs: each an idempotent sweep with a fixed id, recorded as a JobRun (last run, outcome, summary).

APScheduler keeps its jobs in the database and pickles their references: the functions here take no arguments (no
secrets end up in the job table) and run on the process's buzon.runtime.Runtime, bound once with `use(runtime)`
(`buzon scheduler`, `buzon serve`'s embedded scheduler, the web's "Ejecutar ahora") or `configure(settings)` (tests).
Each job imports its service module inside its function (start-up time: a command that lists or runs one job does
not load the other seven).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from buzon.config import ConfigError, Settings
from buzon.runtime import Runtime, dian_keys, trust_store
from store import locks
from store.models import JobRun

log = logging.getLogger("buzon.jobs")

_runtimes: dict[str, Runtime] = {}  # every company's, the first company's first
_company: ContextVar[str | None] = ContextVar("buzon_job_company", default=None)  # whose job runs now (None: first)


def configure(settings: Settings, *, engine: Engine | None = None) -> Runtime:
    """Bind the jobs to a new runtime of these settings (the scheduler process, `buzon jobs run`, tests)."""
    return use(Runtime.from_settings(settings, engine=engine))


def use(runtime: Runtime, *others: Runtime) -> Runtime:
    """Bind the jobs to this runtime, and to the install's other companies' (the web's in-process scheduler shares
    the web's); the runtimes bound before and not now are closed."""
    global _runtimes
    bound = {rt.settings.key: rt for rt in (runtime, *others)}
    for old in _runtimes.values():
        if all(old is not rt for rt in bound.values()):
            old.close()
    _runtimes = bound
    return runtime


def bound() -> list[Runtime]:
    """The runtimes the jobs are bound to, the first company's first."""
    return list(_runtimes.values())


def runtime() -> Runtime:
    """The runtime of the company whose job runs now (``acting_for``), else the first company's."""
    if not _runtimes:
        raise RuntimeError("buzon.jobs.configure(settings) must run before a job")
    key = _company.get()
    if key is None:
        return next(iter(_runtimes.values()))
    try:
        return _runtimes[key]
    except KeyError:
        raise RuntimeError(f"no company {key} is bound to the jobs") from None


@contextmanager
def acting_for(company: str | None) -> Iterator[None]:
    """Run the jobs called inside for this company (its key: the NIT without check digit; None: the first)."""
    token = _company.set(company)
    try:
        yield
    finally:
        _company.reset(token)


def _now() -> datetime:
    return datetime.now(UTC)


def recorded(job_id: str, work: Callable[[Runtime], dict[str, Any]]) -> dict[str, Any]:
    """Run ``work`` as job ``job_id``: a JobRun row says when it started, how it ended and what it did.

    On PostgreSQL, where several schedulers may share the database, the run holds the job's advisory lock: a job
    running in another process is not started again (outcome ``skipped``), nor is a scheduler's firing (``scheduled``)
    when another scheduler already ran that job within half its interval."""
    rt = runtime()
    with _job_lock(rt, job_id) as (held, shared):
        if not held:
            return {"outcome": "skipped", "summary": {}, "error": SKIPPED_RUNNING}
        if shared and _firing.get() and _ran_within(rt, job_id, _firing.get()):
            return {"outcome": "skipped", "summary": {}, "error": SKIPPED_RAN}
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


SKIPPED_RUNNING = "otro proceso está ejecutando esta tarea ahora"
SKIPPED_RAN = "otro programador ya la ejecutó en este intervalo"
_firing: ContextVar[float] = ContextVar("buzon_job_firing", default=0.0)  # seconds: half the firing job's interval


def scheduled(job_id: str, seconds: float, company: str | None = None) -> dict[str, Any]:
    """What a scheduler fires every ``seconds``: job ``job_id`` of ``company`` (None: the first), unless another
    scheduler already ran it within half that interval (on PostgreSQL; see ``recorded``)."""
    token = _firing.set(seconds / 2)
    try:
        with acting_for(company):
            return JOBS[job_id]()
    finally:
        _firing.reset(token)


@contextmanager
def _job_lock(rt: Runtime, job_id: str) -> Iterator[tuple[bool, bool]]:
    """(held, shared): the job's session advisory lock, on a connection of its own, for the run (always held on
    SQLite, one process)."""
    engine = rt.engine
    if not locks.shared(engine):
        yield True, False
        return
    lock_id = locks.key("job", job_id)
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        held = locks.try_lock(conn, lock_id)
        try:
            yield held, True
        finally:
            if held:
                locks.unlock(conn, lock_id)


def _ran_within(rt: Runtime, job_id: str, seconds: float) -> bool:
    """Whether a run of ``job_id`` started within the last ``seconds``."""
    since = _now() - timedelta(seconds=seconds)
    with rt.sessions() as s:
        found = s.execute(sa.select(JobRun.id).where(JobRun.job_id == job_id, JobRun.started_at >= since).limit(1))
        return found.first() is not None


# -- the jobs ------------------------------------------------------------------------------------------------------


def _poll(rt: Runtime) -> dict[str, Any]:
    return rt.poll_once().to_dict()


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
    from events.notify import deliver_mail
    from events.outbox import deliver_events

    events = deliver_events(rt.sessions, rt.ctx, rt.client, on_registered=rt.on_registered(rt.ctx, rt.client))
    mail = deliver_mail(rt.sessions, rt.ctx, rt.smtp)
    return {"events": events.as_dict(), "mail": mail.as_dict(), "mail_errors": mail.errors[:3]}


def _sync_events(rt: Runtime) -> dict[str, Any]:
    from events.sync import sync_events

    report = sync_events(
        rt.sessions,
        rt.ctx,
        rt.client,
        every=timedelta(seconds=rt.settings.scheduler.sync_interval),
        max_age_days=rt.settings.events.sync_max_age_days,
        on_registered=rt.on_registered(rt.ctx, rt.client),
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


def _approvals(rt: Runtime) -> dict[str, Any]:
    from events.approval_alerts import sweep

    from_address = rt.settings.smtp.from_address
    report = sweep(rt.sessions, rt.ctx, from_address=from_address, now=_now).as_dict()
    # Requests on titles the rules now refuse lapse (radian.approving: one query when none waits).
    report["lapsed"] = len(rt.titles.lapse_refused(from_address=from_address, now=_now()))
    return report


def _deliver_webhooks(rt: Runtime) -> dict[str, Any]:
    from events.webhooks import WebhookTarget, deliver_webhooks

    w, e = rt.settings.webhooks, rt.settings.events
    target = WebhookTarget(w.url, w.secret, w.timeout, w.max_attempts, e.retry_seconds, e.retry_max_seconds)
    return deliver_webhooks(rt.sessions, target if w.url else None).as_dict()


def _confirm_documents(rt: Runtime) -> dict[str, Any]:
    from inbox.confirm import confirm_documents

    settings = rt.settings
    trust = trust_store(settings)  # read afresh each run; a folder that cannot be read fails this run (recorded)
    check, note = None, "la consulta en línea está apagada (dian.online_check): solo se vuelve a pesar sin conexión"
    if settings.dian.online_check:
        try:
            check, note = rt.online_check(), None
        except ConfigError as exc:  # no DIAN client (the certificate): the offline re-weigh still runs
            note = f"sin consulta en línea: {exc}"
    counts = confirm_documents(
        rt.sessions, rt.blobs, lambda: dian_keys(settings, trust, rt.sessions), check, now=_now, calendar=rt.calendar
    )
    return {**counts, "online": check is not None, **({"note": note} if note else {})}


def watch_plan(settings: Settings) -> Any:
    """The endorsement watch's plan from [radian] (and the From address of its mail)."""
    from radian.watch import WatchPlan

    r = settings.radian
    return WatchPlan(interval=timedelta(seconds=r.watch_interval), past_due_days=r.watch_past_due_days,
                     rate_per_second=r.watch_rate_per_second, concurrency=r.watch_concurrency, batch=r.watch_batch,
                     from_address=settings.smtp.from_address, alert_emails=r.alert_emails)  # fmt: skip


def _title_watch(rt: Runtime) -> dict[str, Any]:
    from radian.watch import sweep

    return sweep(rt.sessions, rt.ctx, rt.dian_client, watch_plan(rt.settings)).as_dict()


def _title_sync(rt: Runtime) -> dict[str, Any]:
    from radian.sync import Notice, sync_receivables

    notice = Notice(rt.settings.smtp.from_address, tuple(rt.settings.radian.alert_emails))
    return sync_receivables(rt.sessions, rt.ctx, rt.dian_client, watch_plan(rt.settings), notice=notice).as_dict()


def _deliver_issued(rt: Runtime) -> dict[str, Any]:
    return rt.issuing.deliver(client=rt.client).as_dict()


def _deliver_to_buyers(rt: Runtime) -> dict[str, Any]:
    from issuing.delivery import BuyerAddresses, queue_buyer_mail, settle_sent

    delivered = settle_sent(rt.sessions)  # the buyers' mails deliver_outbox's SMTP run sent
    report = queue_buyer_mail(rt.sessions, rt.issuing.ctx, rt.buyer_mail_settings(),
                              addresses=BuyerAddresses(rt.client))
    report.delivered = delivered
    from issuing.support_mail import queue_seller_mail  # the documento soporte, to its seller when asked

    sellers = queue_seller_mail(rt.sessions, rt.issuing.ctx, from_address=rt.settings.smtp.from_address,
                                options=rt.pdf_options())  # fmt: skip
    return {**report.as_dict(), **sellers.as_dict()}


def _contingency(rt: Runtime) -> dict[str, Any]:
    from issuing import contingency as c

    cfg, now = rt.settings.issuing, _now()
    held = c.detect(rt.sessions, now=now, after_failures=cfg.contingency_after_failures)
    report = c.sweep(rt.issuing, rt.client, now=now, from_address=rt.settings.smtp.from_address,
                     alert_before=timedelta(hours=cfg.contingency_alert_hours))  # fmt: skip
    return {**report.as_dict(), "contingency": held.source if held is not None and not report.ended else None}


def _tacit_acceptance(rt: Runtime) -> dict[str, Any]:
    from issuing import tacit

    policy = rt.settings.issuing.tacit_acceptance
    report = tacit.sweep(rt.sessions, rt.issuing.ctx, policy=policy, now=_now(), calendar=rt.calendar)
    return {**report.as_dict(), "policy": policy}


def _seal_audit(rt: Runtime) -> dict[str, Any]:
    from store.audit_chain import chain_head, seal

    sealed = seal(rt.engine)
    with rt.engine.connect() as conn:
        position, digest = chain_head(conn)
    return {"sealed": sealed, "head": position, "head_hash": digest}


def _refresh_supplier_emails(rt: Runtime) -> dict[str, Any]:
    from events.supplier_emails import refresh_supplier_emails

    return refresh_supplier_emails(rt.sessions, rt.client, now=_now()).as_dict()


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


def approvals() -> dict[str, Any]:
    """Four-eyes: expire pending approvals whose claim window ended; mail approvers the day before it ends; let
    requests on titles that have since moved on lapse."""
    return recorded("approvals", _approvals)


def deliver_webhooks() -> dict[str, Any]:
    """POST document state changes to the configured webhook URL, signed, with retries."""
    return recorded("deliver_webhooks", _deliver_webhooks)


def confirm_documents() -> dict[str, Any]:
    """Settle documents whose DIAN validation is unconfirmed: weighed again offline, else asked online."""
    return recorded("confirm_documents", _confirm_documents)


def title_watch() -> dict[str, Any]:
    """Ask DIAN whether the supplier invoices we owe changed holder (RADIAN) and move the payee."""
    return recorded("title_watch", _title_watch)


def title_sync() -> dict[str, Any]:
    """Ask DIAN what the buyer and the later holders did on our own invoices (030-051) and derive our titles."""
    return recorded("title_sync", _title_sync)


def deliver_issued() -> dict[str, Any]:
    """Send our signed invoices and notes to DIAN (SendBillSync); an outage leaves them queued with a backoff."""
    return recorded("deliver_issued", _deliver_issued)


def deliver_to_buyers() -> dict[str, Any]:
    """Mail the buyer its validated documents (zip per dian-facts 4.1) and mark delivered the ones SMTP took."""
    return recorded("deliver_to_buyers", _deliver_to_buyers)


def contingency() -> dict[str, Any]:
    """Detect DIAN's outage (type 04 from then on), transmit the 03/04 documents, alert before their 48 h deadline."""
    return recorded("contingency", _contingency)


def tacit_acceptance() -> dict[str, Any]:
    """Our 034 on our invoices whose buyer let the three business days after its 032 pass (issuing.tacit_acceptance)."""
    return recorded("tacit_acceptance", _tacit_acceptance)


def seal_audit() -> dict[str, Any]:
    """Seal into the audit log's hash chain the entries whose commit left them unsealed (store/audit_chain.py)."""
    return recorded("seal_audit", _seal_audit)


def refresh_supplier_emails() -> dict[str, Any]:
    """Read DIAN's reception addresses (GetExchangeEmails) into the suppliers not read in the last day."""
    return recorded("refresh_supplier_emails", _refresh_supplier_emails)


JOBS: dict[str, Callable[[], dict[str, Any]]] = {
    "poll_mailbox": poll_mailbox,
    "auto_acknowledge": auto_acknowledge,
    "auto_receipt": auto_receipt,
    "deliver_outbox": deliver_outbox,
    "sync_events": sync_events,
    "deadlines": deadlines,
    "approvals": approvals,
    "deliver_webhooks": deliver_webhooks,
    "confirm_documents": confirm_documents,
    "title_watch": title_watch,
    "deliver_issued": deliver_issued,
    "deliver_to_buyers": deliver_to_buyers,
    "title_sync": title_sync,
    "contingency": contingency,
    "tacit_acceptance": tacit_acceptance,
    "seal_audit": seal_audit,
    "refresh_supplier_emails": refresh_supplier_emails,
}


@dataclass(frozen=True)
class JobSpec:
    """One scheduled sweep: a fixed id (so restarts replace rather than duplicate it) and its interval."""

    id: str
    func: Callable[..., Any]
    seconds: int
    description: str


def job_specs(settings: Settings) -> list[JobSpec]:
    """The jobs Buzón runs, each an idempotent sweep, with its interval from [scheduler]."""
    sched = settings.scheduler
    return [
        JobSpec("poll_mailbox", poll_mailbox, sched.poll_interval, "Leer el buzón de recepción"),
        JobSpec("auto_acknowledge", auto_acknowledge, sched.poll_interval, "Acuse de recibo (030) automático"),
        JobSpec("auto_receipt", auto_receipt, sched.poll_interval, "Recibo de servicios (032) automático"),
        JobSpec("deliver_outbox", deliver_outbox, sched.outbox_interval, "Enviar eventos a la DIAN y correos"),
        # Runs often; each invoice is asked about at most once per sync_interval.
        JobSpec("sync_events", sync_events, min(sched.sync_interval, 300), "Eventos de la contraparte (DIAN)"),
        JobSpec("deadlines", deadlines, sched.deadline_interval, "Cerrar plazos y enviar recordatorios"),
        JobSpec("approvals", approvals, sched.deadline_interval, "Aprobaciones: avisar y vencer las pendientes"),
        JobSpec("deliver_webhooks", deliver_webhooks, sched.outbox_interval, "Webhooks de cambios de estado"),
        # Runs with the online check off too: a DIAN certificate learned since may prove a stored answer offline.
        JobSpec(
            "confirm_documents",
            confirm_documents,
            max(1, settings.dian.confirm_every_minutes) * 60,
            "Confirmar con la DIAN los documentos sin confirmar",
        ),
        # Runs often; each title is asked about at most once per radian.watch_interval.
        JobSpec("title_watch", title_watch, min(settings.radian.watch_interval, 300), "Vigilancia de endosos (RADIAN)"),
        JobSpec("deliver_issued", deliver_issued, sched.outbox_interval, "Enviar a la DIAN facturas y notas expedidas"),
        JobSpec("deliver_to_buyers", deliver_to_buyers, sched.outbox_interval, "Enviar al comprador lo validado"),
        JobSpec("title_sync", title_sync, min(settings.radian.watch_interval, 300), "Eventos de cartera (RADIAN)"),
        JobSpec("contingency", contingency, sched.outbox_interval, "Contingencia: transmitir facturas 03/04 a tiempo"),
        JobSpec("tacit_acceptance", tacit_acceptance, sched.deadline_interval, "Aceptación tácita (034) de facturas"),
        JobSpec("seal_audit", seal_audit, sched.outbox_interval, "Sellar la bitácora de auditoría (cadena de hashes)"),
        # Hourly; DIAN is asked only when a supplier was not read in the last day (events/supplier_emails.py).
        JobSpec("refresh_supplier_emails", refresh_supplier_emails, 3600, "Correos de recepción de proveedores (DIAN)"),
    ]


def last_runs(session: Session) -> dict[str, JobRun]:
    """The latest run of each job."""
    latest = sa.select(JobRun.job_id, sa.func.max(JobRun.id).label("id")).group_by(JobRun.job_id).subquery()
    rows = session.execute(sa.select(JobRun).join(latest, JobRun.id == latest.c.id)).scalars()
    return {row.job_id: row for row in rows}
