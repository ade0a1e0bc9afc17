"""`buzon event send` (one event on one document) and `buzon jobs` (the scheduled jobs: list, run one now)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from buzon.config import ConfigError, Settings
from buzon.inbox_commands import fail, with_settings


def register(group: click.Group) -> None:
    """Add `buzon event` and `buzon jobs` to the command group (buzon/cli.py calls this at its end)."""
    group.add_command(event)
    group.add_command(jobs_group)


def _runtime(settings: Settings) -> Any:
    from buzon import jobs
    from store.db import current_revision, head_revision

    rt = jobs.configure(settings)
    if current_revision(rt.engine) != head_revision():
        fail("the database schema is not current: run `buzon init` first")
    return rt


@click.group()
def event() -> None:
    """Events 030-033 on received invoices."""


@event.command("send")
@with_settings
@click.argument("cufe")
@click.argument("code", type=click.Choice(["030", "031", "032", "033"]))
@click.option("--person-id", help="Document number of the person who received (030, 032).")
@click.option("--id-type", default="13", show_default=True, help="DIAN identification type of that person.")
@click.option("--first-name", help="Their first names.")
@click.option("--family-name", help="Their family names.")
@click.option("--job-title", help="Their job title.")
@click.option("--department", help="Their department.")
@click.option("--reason", type=click.Choice(["01", "02", "03", "04"]), help="031: the claim reason.")
@click.option("--note", help="031: the explanation sent with the claim.")
@click.option("--force", is_flag=True, help="Skip Buzón's own rule check (DIAN still checks).")
@click.option("--deliver/--queue-only", default=True, help="Send the outbox to DIAN right away (default).")
def send(
    settings: Settings,
    cufe: str,
    code: str,
    person_id: str | None,
    id_type: str,
    first_name: str | None,
    family_name: str | None,
    job_title: str | None,
    department: str | None,
    reason: str | None,
    note: str | None,
    force: bool,
    deliver: bool,
) -> None:
    """Sign event CODE on the received document CUFE and queue it for DIAN."""
    import getpass

    import sqlalchemy as sa

    from dian.ubl import Person
    from events.emit import EventRefused, EventRequest, emit_and_commit
    from store.models import DocumentEvent, ReceivedDocument

    rt = _runtime(settings)
    with rt.sessions() as s:
        document_id = s.execute(
            sa.select(ReceivedDocument.id).where(ReceivedDocument.cufe == cufe.strip().lower())
        ).scalar()
    if document_id is None:
        fail(f"no received document has CUFE {cufe}", code=1)
    person = None
    if person_id:
        if not first_name or not family_name:
            fail("--person-id needs --first-name and --family-name")
        person = Person(id=person_id, first_name=first_name, family_name=family_name, id_type=id_type,
                        job_title=job_title, department=department)  # fmt: skip
    try:
        request = EventRequest(code=code, person=person, claim_reason=reason, note=note)  # type: ignore[arg-type]
        queued = emit_and_commit(
            rt.sessions, rt.ctx, document_id, request, actor=f"cli:{getpass.getuser()}", source="cli", force=force
        )
    except EventRefused as exc:
        fail(f"evento {code} rechazado por Buzón: {exc.reason}" + (f" [{exc.rule}]" if exc.rule else ""), code=1)
    except ConfigError as exc:
        fail(str(exc))
    click.echo(f"firmado: {code} número {queued.number} CUDE {queued.cude}")
    if deliver:
        from buzon.jobs import deliver_outbox

        deliver_outbox()
        with rt.sessions() as s:
            done = s.get(DocumentEvent, queued.id)
            assert done is not None
            state = done.submission_state.value
            click.echo(f"DIAN: {state}" + (f" — {'; '.join(done.dian_messages)}" if done.dian_messages else ""))
            if done.last_error and state != "registered":
                click.echo(f"último error: {done.last_error}")
        if state == "rejected":
            raise SystemExit(1)


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
    from buzon.jobs import last_runs
    from buzon.scheduler import job_specs, next_runs

    rt = _runtime(settings)
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
    import json

    from buzon.jobs import JOBS

    if job_id not in JOBS:
        fail(f"unknown job {job_id!r}; the jobs are: {', '.join(JOBS)}")
    _runtime(settings)
    result = JOBS[job_id]()
    click.echo(json.dumps(result, ensure_ascii=False, sort_keys=True, default=str))
    if result["outcome"] != "ok":
        raise SystemExit(1)
