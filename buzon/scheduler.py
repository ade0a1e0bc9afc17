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
    """The jobs Buzón runs; each is an idempotent sweep. They arrive with the inbox and events issues."""
    return []


def build_scheduler(settings: Settings) -> BlockingScheduler:
    """A scheduler whose jobs live in Buzón's own database."""
    scheduler = BlockingScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=settings.database_url, tablename="apscheduler_jobs")},
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
