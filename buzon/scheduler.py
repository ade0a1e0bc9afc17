"""The scheduler: APScheduler 3 with the database job store, jobs with fixed ids (buzon/jobs.py).

`buzon scheduler` runs it blocking, in its own process; `buzon serve` with the embedded default (SQLite, demo) runs
the same jobs in a background thread beside the web application, so that `make run` retries, sweeps and mails.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from apscheduler.events import EVENT_SCHEDULER_STARTED
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from buzon import jobs
from buzon.runtime import Runtime

log = logging.getLogger("buzon.scheduler")

JOB_TABLE = "apscheduler_jobs"


def next_runs(engine: Any) -> dict[str, float | None]:
    """Each job's next run (epoch seconds) as the database job store holds it; empty before the first start."""
    if not sa.inspect(engine).has_table(JOB_TABLE):
        return {}
    with engine.connect() as connection:
        rows = connection.execute(sa.text(f"SELECT id, next_run_time FROM {JOB_TABLE}"))  # noqa: S608 - constant
        return {row[0]: row[1] for row in rows}


def create_job_table(engine: Any) -> None:
    """Create the job store's table now (``buzon init`` as the owner role: the application role may not create it)."""
    SQLAlchemyJobStore(engine=engine, tablename=JOB_TABLE).jobs_t.create(engine, checkfirst=True)


def build_scheduler(runtime: Runtime, *, background: bool = False, run_now: bool = False,
                    company: str | None = None) -> BaseScheduler:  # fmt: skip
    """A scheduler whose jobs live in Buzón's own database, bound to this runtime's collaborators; with ``run_now``
    every job runs once at start (then at its interval), as `buzon serve` wants for the demo. With ``company`` (its
    key) the runtime is that company's, already bound with ``jobs.use`` beside the others (``start_group``)."""
    if company is None:
        jobs.use(runtime)
    kind = BackgroundScheduler if background else BlockingScheduler
    scheduler = kind(
        jobstores={"default": SQLAlchemyJobStore(engine=runtime.engine, tablename=JOB_TABLE)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
        timezone="America/Bogota",
    )
    first = {"next_run_time": datetime.now(UTC)} if run_now else {}
    for spec in jobs.job_specs(runtime.settings):
        # Through jobs.scheduled: on PostgreSQL a second scheduler's firing of a job one of them just ran is skipped.
        scheduler.add_job(
            jobs.scheduled, "interval", args=(spec.id, spec.seconds, company), seconds=spec.seconds, id=spec.id,
            name=spec.description, replace_existing=True, **first,
        )  # fmt: skip
    return scheduler


def start_group(runtimes: list[Runtime], *, background: bool = True, run_now: bool = False) -> list[BaseScheduler]:
    """One scheduler per company, each with its jobs in the company's own database; the first's is returned first
    and, unless ``background``, not started (it blocks: ``run``). The others run on background threads."""
    jobs.use(*runtimes)
    schedulers = []
    for number, runtime in enumerate(runtimes):
        scheduler = build_scheduler(runtime, background=background or bool(number), run_now=run_now,
                                    company=runtime.settings.key)  # fmt: skip
        if background or number:
            scheduler.start()
        schedulers.append(scheduler)
    return schedulers


def run(runtime: Runtime, *, on_started: Callable[[BaseScheduler], None] | None = None,
        others: list[Runtime] | None = None) -> None:  # fmt: skip
    """Run the jobs in this process until SIGINT or SIGTERM (``others``: the install's other companies' runtimes,
    whose schedulers run on background threads meanwhile)."""
    scheduler, *more = start_group([runtime, *(others or [])], background=False)

    def stop(signum: int, _frame: Any) -> None:
        log.info("signal %s: stopping the scheduler", signum)
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def started(_event: Any) -> None:
        if on_started:
            on_started(scheduler)

    scheduler.add_listener(started, EVENT_SCHEDULER_STARTED)
    try:
        scheduler.start()
    finally:
        for other in more:
            other.shutdown(wait=False)


def start_in_background(runtime: Runtime) -> BaseScheduler:
    """The same jobs on background threads of this process (`buzon serve`'s embedded scheduler), each run once now;
    shutdown() it."""
    scheduler = build_scheduler(runtime, background=True, run_now=True)
    scheduler.start()
    return scheduler


def start_all_in_background(runtimes: list[Runtime]) -> list[BaseScheduler]:
    """``start_in_background`` for every company of the install (the first company's runtime first)."""
    return start_group(runtimes, background=True, run_now=True)
