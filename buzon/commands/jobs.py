"""`buzon scheduler` (the one scheduler process) and `buzon jobs` (each job's last and next run; run one now)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click

from buzon.commands.errors import fail
from buzon.commands.options import current_runtime, with_settings
from buzon.config import Settings


@click.command()
@with_settings
def scheduler(settings: Settings) -> None:
    """Run the scheduler process (polling, auto-acknowledgement, outbox, deadline sweeps) until stopped."""
    from buzon import scheduler as sched  # start-up time: APScheduler only for the scheduler

    def announce(s: Any) -> None:
        jobs = s.get_jobs()
        click.echo(f"scheduler started with {len(jobs)} job(s): {', '.join(j.id for j in jobs) or 'none yet'}")

    with current_runtime(settings) as runtime:
        others = [rt for rt in runtime.peers.values() if rt is not runtime]
        for rt in (runtime, *others):
            rt.check_schema()
            rt.check_certificate()
        sched.run(runtime, on_started=announce, others=others)
    click.echo("scheduler stopped")


@click.group("jobs", invoke_without_command=True)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None, help="As for `jobs list`.")
@click.pass_context
def jobs_group(ctx: click.Context, config_path: str | None) -> None:
    """The scheduled jobs: their last run, outcome and next run (`buzon jobs` is `buzon jobs list`)."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_jobs, config_path=config_path)


@jobs_group.command("list")
@with_settings
def list_jobs(settings: Settings) -> None:
    """Each job with its interval, last run, outcome and next run."""
    from buzon.jobs import job_specs, last_runs  # start-up time: the jobs' modules only here
    from buzon.scheduler import next_runs

    with current_runtime(settings) as rt:
        upcoming = next_runs(rt.engine)
        with rt.sessions() as s:
            runs = last_runs(s)
            for spec in job_specs(settings):
                run = runs.get(spec.id)
                nxt = upcoming.get(spec.id)
                last = "nunca" if run is None else f"{run.started_at:%Y-%m-%d %H:%M:%S}Z {run.outcome}"
                after = "—" if nxt is None else f"{datetime.fromtimestamp(nxt, UTC):%Y-%m-%d %H:%M:%S}Z"
                click.echo(
                    f"{spec.id:<17} cada {spec.seconds:>5} s  última: {last:<32} próxima: {after}  {spec.description}"
                )
                if run is not None and (run.error or run.summary):
                    click.echo(f"{'':<17} {run.error or run.summary}")


@jobs_group.command("run")
@with_settings
@click.argument("job_id")
def run_job(settings: Settings, job_id: str) -> None:
    """Run one job now (the same code the scheduler runs), and print its outcome."""
    from buzon import jobs  # start-up time: the jobs' modules only here

    if job_id not in jobs.JOBS:
        fail(f"unknown job {job_id!r}; the jobs are: {', '.join(jobs.JOBS)}")
    with current_runtime(settings) as rt:
        jobs.use(rt)
        result = jobs.JOBS[job_id]()
    click.echo(json.dumps(result, ensure_ascii=False, sort_keys=True, default=str))
    if result["outcome"] != "ok":
        raise SystemExit(1)
