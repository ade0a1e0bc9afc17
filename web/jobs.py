"""The jobs page: each scheduled job's last run (when, outcome, summary or error) and next run, whether the scheduler
is running, and for admins "Ejecutar ahora".

The job list comes from the shell (create_app(jobs=…) with buzon.scheduler.job_specs); the runs from the job_runs
table, the next run from APScheduler's own table (apscheduler_jobs: id, next_run_time in epoch seconds) when the
scheduler keeps its jobs in the database. "Ejecutar ahora" calls the shell's ``run_job(job_id) -> {"outcome",
"summary", "error"}`` (create_app(run_job=…), the code `buzon jobs run` and the scheduler run) and is audited as
job.run_now with the ids of the runs it made, so those runs do not count as signs of the scheduler being alive.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from dian.calendar import BOGOTA
from store import audit
from store.models import AuditEntry, JobRun, Role
from web import tenant
from web.access import roles
from web.audit_labels import field_label, field_value
from web.certificate import company_certificate_status, valid_until

bp = Blueprint("jobs", __name__)
SCHEDULER_TABLE = "apscheduler_jobs"
OUTCOME_LABELS = {"ok": "Correcta", "failed": "Falló", "running": "En curso"}
ACTION_RUN_NOW = "job.run_now"
ALIVE_MIN = timedelta(minutes=5)  # the scheduler counts as running while an automatic run started this recently
ALIVE_INTERVALS = 3  # … or within this many of its shortest job interval, whichever is longer
MANUAL_LOOKBACK = 200  # manual runs remembered when telling automatic runs apart


def _local(moment: datetime | None) -> str:
    return moment.astimezone(BOGOTA).strftime("%d/%m/%Y %H:%M:%S") if moment else "—"


def last_runs(db: Any) -> dict[str, JobRun]:
    """The latest run of each job id."""
    latest = sa.select(JobRun.job_id, sa.func.max(JobRun.id).label("id")).group_by(JobRun.job_id).subquery()
    return {r.job_id: r for r in db.scalars(sa.select(JobRun).join(latest, JobRun.id == latest.c.id))}


def next_runs(db: Any) -> dict[str, datetime | None]:
    """Each job's next run as the scheduler's job store holds it; empty without a database job store."""
    connection = db.connection()
    if not sa.inspect(connection).has_table(SCHEDULER_TABLE):
        return {}
    table = sa.table(SCHEDULER_TABLE, sa.column("id"), sa.column("next_run_time"))
    rows = connection.execute(sa.select(table.c.id, table.c.next_run_time))
    return {ident: datetime.fromtimestamp(float(at), UTC) if at is not None else None for ident, at in rows}


def manual_run_ids(db: Any) -> set[int]:
    """The job_runs rows that "Ejecutar ahora" made (from its recent audit entries)."""
    entries = db.scalars(
        sa.select(AuditEntry.data)
        .where(AuditEntry.action == ACTION_RUN_NOW)
        .order_by(AuditEntry.id.desc())
        .limit(MANUAL_LOOKBACK)
    )
    return {int(i) for data in entries if isinstance(data, dict) for i in data.get("run_ids") or [] if str(i).isdigit()}


def last_automatic_run(db: Any) -> datetime | None:
    """When the latest run not started from this page began: the scheduler's own sign of life."""
    manual = manual_run_ids(db)
    # The newest rows by id (the primary key's order), of which the latest start: runs overlap, ids follow inserts.
    recent = db.execute(sa.select(JobRun.id, JobRun.started_at).order_by(JobRun.id.desc()).limit(len(manual) + 20))
    return max((started for ident, started in recent if ident not in manual), default=None)


def scheduler_state(db: Any, specs: list[Any], upcoming: dict[str, Any], now: datetime) -> dict[str, str]:
    """Whether the scheduler runs, from its recent runs (an in-process scheduler keeps no table) and its table."""
    last = last_automatic_run(db)
    shortest = min((s.seconds for s in specs if getattr(s, "seconds", None)), default=300)
    window = max(ALIVE_MIN, timedelta(seconds=shortest * ALIVE_INTERVALS))
    if last is not None and now - last <= window:
        return {"state": "running", "text": f"El programador está en marcha: su última tarea empezó el {_local(last)}."}
    if last is not None:
        text = (
            f"El programador no ha ejecutado ninguna tarea desde el {_local(last)}: puede estar detenido. "
            "Revise el proceso `buzon scheduler` (o `make run`) en el servidor."
        )
        return {"state": "stale", "text": text}
    if upcoming:
        return {
            "state": "scheduled",
            "text": "El programador tiene tareas agendadas, pero aún no ha ejecutado ninguna.",
        }
    return {"state": "never", "text": "El programador aún no ha arrancado en esta base de datos: ninguna tarea se ha "
            "ejecutado sola. Arránquelo con `buzon scheduler` (o `make run`)."}  # fmt: skip


def _every(seconds: int | None) -> str:
    if not seconds:
        return ""
    if seconds % 3600 == 0:
        return f"cada {seconds // 3600} h"
    if seconds % 60 == 0:
        return f"cada {seconds // 60} min"
    return f"cada {seconds} s"


def readable_summary(summary: Any) -> list[tuple[str, str]]:
    """A job's summary as labelled fields."""
    if not isinstance(summary, dict):
        return [("Resumen", str(summary))] if summary else []
    return [(field_label(str(k)), field_value(str(k), v)) for k, v in summary.items()]


def _specs() -> list[Any]:
    make_specs = tenant.service("jobs")
    return list(make_specs()) if make_specs is not None else []


@bp.get("/tareas")
@roles(Role.ADMIN, Role.AUDITOR)
def index() -> str:
    """One row per job: what it does, how often, its last run and outcome, and when it runs next; above them, whether
    the scheduler runs and the company certificate's expiry warning (30 days ahead) or why events cannot be signed."""
    db = tenant.db()
    now = datetime.now(UTC)
    specs = _specs()
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
                "listed": ident in listed,
                "started": _local(run.started_at) if run else "Nunca",
                "duration": f"{duration:.1f} s".replace(".", ",") if duration is not None else "",
                "outcome": run.outcome if run else "",
                "outcome_label": OUTCOME_LABELS.get(run.outcome, run.outcome) if run else "",
                "summary": readable_summary(run.summary) if run and run.summary else [],
                "next": _local(upcoming[ident]) if upcoming.get(ident) else "—",
            }
        )
    certificate = company_certificate_status(tenant.settings())
    return render_template(
        "jobs.html",
        rows=rows,
        scheduler=scheduler_state(db, specs, upcoming, now),
        runner=tenant.service("run_job") is not None,
        certificate=certificate,
        certificate_until=valid_until(certificate) if certificate else "",
    )


@bp.post("/tareas/<job_id>/ejecutar")
@roles(Role.ADMIN)
def run_now(job_id: str) -> Any:
    """Run one job now with the scheduler's own code; the outcome is flashed at the top and audited."""
    specs = {s.id: s for s in _specs()}
    if job_id not in specs:
        abort(404, description=f"No existe la tarea «{job_id[:80]}».")
    run_job = tenant.service("run_job")
    if run_job is None:
        flash("Esta instalación no le dio a la web cómo ejecutar tareas: solo se pueden consultar aquí "
              "(en el servidor: `buzon jobs run`).", "error")  # fmt: skip
        return redirect(url_for("jobs.index"))
    db = tenant.db()
    name = specs[job_id].description or job_id
    before = db.scalar(sa.select(sa.func.max(JobRun.id))) or 0
    db.commit()  # end the read transaction: the job writes through its own connection
    started = time.monotonic()
    try:
        result = run_job(job_id) or {}
    except Exception as exc:  # the runner itself failed (not the job, whose failure it records): say so
        result = {"outcome": "failed", "summary": {}, "error": f"{exc.__class__.__name__}: {exc}"}
    seconds = time.monotonic() - started
    db.expire_all()
    run_ids = list(
        db.scalars(sa.select(JobRun.id).where(JobRun.id > before, JobRun.job_id == job_id).order_by(JobRun.id))
    )
    outcome = str(result.get("outcome", "failed"))
    audit.record(
        db,
        actor=current_user.actor,
        action=ACTION_RUN_NOW,
        subject=f"job:{job_id}",
        source=request.remote_addr,
        data={"job_id": job_id, "outcome": outcome, "run_ids": run_ids, "seconds": round(seconds, 2),
              "error": result.get("error")},
    )  # fmt: skip
    db.commit()
    took = f"{seconds:.1f}".replace(".", ",")
    if outcome == "ok":
        summary = "; ".join(f"{label}: {value}" for label, value in readable_summary(result.get("summary")))
        flash(f"Tarea «{name}» ejecutada en {took} s" + (f" — {summary}." if summary else "."), "ok")
    elif outcome == "skipped":  # another process holds the job (several schedulers on PostgreSQL): not a failure
        flash(f"La tarea «{name}» no se ejecutó: {result.get('error') or 'otro proceso la está ejecutando'}.", "warn")
    else:
        flash(f"La tarea «{name}» falló tras {took} s: {result.get('error') or 'sin detalle'}.", "error")
    return redirect(url_for("jobs.index"))
