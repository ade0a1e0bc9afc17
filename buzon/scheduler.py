"""The scheduler process: APScheduler 3 with the database job store, one process, jobs with fixed ids."""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.blocking import BlockingScheduler

from buzon.config import Settings

log = logging.getLogger("buzon.scheduler")


@dataclass(frozen=True)
class JobSpec:
    """One scheduled sweep: a fixed id (so restarts replace rather than duplicate it) and its interval."""

    id: str
    func: Callable[..., Any]
    seconds: int
    description: str


def job_specs(settings: Settings) -> list[JobSpec]:
    """The jobs Buzón runs, each an idempotent sweep (buzon/jobs.py), with its interval from [scheduler]."""
    from buzon import jobs

    sched = settings.scheduler
    return [
        JobSpec("poll_mailbox", jobs.poll_mailbox, sched.poll_interval, "Leer el buzón de recepción"),
        JobSpec("auto_acknowledge", jobs.auto_acknowledge, sched.poll_interval, "Acuse de recibo (030) automático"),
        JobSpec("auto_receipt", jobs.auto_receipt, sched.poll_interval, "Recibo de servicios (032) automático"),
        JobSpec("deliver_outbox", jobs.deliver_outbox, sched.outbox_interval, "Enviar eventos a la DIAN y correos"),
        # Runs often; each invoice is asked about at most once per sync_interval.
        JobSpec("sync_events", jobs.sync_events, min(sched.sync_interval, 300), "Eventos de la contraparte (DIAN)"),
        JobSpec("deadlines", jobs.deadlines, sched.deadline_interval, "Cerrar plazos y enviar recordatorios"),
        JobSpec("deliver_webhooks", jobs.deliver_webhooks, sched.outbox_interval, "Webhooks de cambios de estado"),
        # Runs with the online check off too: a DIAN certificate learned since may prove a stored answer offline.
        JobSpec(
            "confirm_documents",
            jobs.confirm_documents,
            max(1, settings.dian.confirm_every_minutes) * 60,
            "Confirmar con la DIAN los documentos sin confirmar",
        ),
    ]


JOB_TABLE = "apscheduler_jobs"


def next_runs(engine: Any) -> dict[str, float | None]:
    """Each job's next run (epoch seconds) as the database job store holds it; empty before the first start."""
    import sqlalchemy as sa

    if not sa.inspect(engine).has_table(JOB_TABLE):
        return {}
    with engine.connect() as connection:
        rows = connection.execute(sa.text(f"SELECT id, next_run_time FROM {JOB_TABLE}"))  # noqa: S608 - constant
        return {row[0]: row[1] for row in rows}


def build_scheduler(settings: Settings) -> BlockingScheduler:
    """A scheduler whose jobs live in Buzón's own database."""
    scheduler = BlockingScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=settings.database_url, tablename=JOB_TABLE)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
        timezone="America/Bogota",
    )
    for spec in job_specs(settings):
        scheduler.add_job(
            spec.func, "interval", seconds=spec.seconds, id=spec.id, name=spec.description, replace_existing=True
        )
    return scheduler


def run(settings: Settings, *, on_started: Callable[[BlockingScheduler], None] | None = None) -> None:
    """Run until SIGINT or SIGTERM."""
    from buzon import jobs

    jobs.configure(settings)
    scheduler = build_scheduler(settings)

    def stop(signum: int, _frame: Any) -> None:
        log.info("signal %s: stopping the scheduler", signum)
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def started(_event: Any) -> None:
        if on_started:
            on_started(scheduler)

    from apscheduler.events import EVENT_SCHEDULER_STARTED

    scheduler.add_listener(started, EVENT_SCHEDULER_STARTED)
    scheduler.start()
