"""The jobs page: each scheduled job's last run (when, outcome, summary or error) and its next run.

The job list comes from the shell (create_app(jobs=…) with buzon.scheduler.job_specs); the runs from the job_runs
table, and the next run from APScheduler's own table (apscheduler_jobs: id, next_run_time in epoch seconds), which
exists only once the scheduler has started.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, current_app, render_template

from dian.calendar import BOGOTA
from store.models import JobRun, Role
from web.access import roles
from web.certificate import company_certificate_status, valid_until

bp = Blueprint("jobs", __name__)
SCHEDULER_TABLE = "apscheduler_jobs"
OUTCOME_LABELS = {"ok": "Correcta", "failed": "Falló", "running": "En curso"}


def _local(moment: datetime | None) -> str:
    return moment.astimezone(BOGOTA).strftime("%d/%m/%Y %H:%M:%S") if moment else "—"


def last_runs(db: Any) -> dict[str, JobRun]:
    """The latest run of each job id."""
    latest = sa.select(JobRun.job_id, sa.func.max(JobRun.id).label("id")).group_by(JobRun.job_id).subquery()
    return {r.job_id: r for r in db.scalars(sa.select(JobRun).join(latest, JobRun.id == latest.c.id))}


def next_runs(db: Any) -> dict[str, datetime | None]:
    """Each job's next run as the scheduler's job store holds it; empty before the scheduler's first start."""
    connection = db.connection()
    if not sa.inspect(connection).has_table(SCHEDULER_TABLE):
        return {}
    table = sa.table(SCHEDULER_TABLE, sa.column("id"), sa.column("next_run_time"))
    rows = connection.execute(sa.select(table.c.id, table.c.next_run_time))
    return {ident: datetime.fromtimestamp(float(at), UTC) if at is not None else None for ident, at in rows}


def _every(seconds: int | None) -> str:
    if not seconds:
        return ""
    if seconds % 3600 == 0:
        return f"cada {seconds // 3600} h"
    if seconds % 60 == 0:
        return f"cada {seconds // 60} min"
    return f"cada {seconds} s"


@bp.get("/tareas")
@roles(Role.ADMIN, Role.AUDITOR)
def index() -> str:
    """One row per job: what it does, how often, its last run and outcome, and when it runs next; above them, the
    company certificate's expiry warning (30 days ahead) or the reason events cannot be signed."""
    db = current_app.extensions["buzon.db"]()
    make_specs = current_app.extensions.get("buzon.jobs")
    specs = list(make_specs()) if make_specs is not None else []
    runs, upcoming = last_runs(db), next_runs(db)
    known = [(s.id, s.description, s.seconds) for s in specs]
    # Jobs that ran (or are scheduled) but the shell did not list, e.g. an older version's: shown, not hidden.
    listed = {ident for ident, _, _ in known}
    known += [(ident, "", None) for ident in sorted((set(runs) | set(upcoming)) - listed)]
    rows = []
    for ident, description, seconds in known:
        run = runs.get(ident)
        duration = (run.finished_at - run.started_at).total_seconds() if run and run.finished_at else None
        rows.append(
            {
                "id": ident,
                "description": description,
                "every": _every(seconds),
                "run": run,
                "started": _local(run.started_at) if run else "Nunca",
                "duration": f"{duration:.1f} s" if duration is not None else "",
                "outcome": run.outcome if run else "",
                "outcome_label": OUTCOME_LABELS.get(run.outcome, run.outcome) if run else "",
                "summary": json.dumps(run.summary, ensure_ascii=False, sort_keys=True) if run and run.summary else "",
                "next": _local(upcoming[ident]) if upcoming.get(ident) else "—",
            }
        )
    certificate = company_certificate_status(current_app.config["BUZON_SETTINGS"])
    return render_template(
        "jobs.html",
        rows=rows,
        scheduled=bool(upcoming),
        certificate=certificate,
        certificate_until=valid_until(certificate) if certificate else "",
    )
