"""`buzon event send`: one event on one received document, signed, queued and (by default) sent to DIAN now.

The events package is imported inside the command (start-up time: `buzon --help` and the other commands do not
load lxml, signxml and the SOAP client).
"""

from __future__ import annotations

import click

from buzon.commands.errors import fail
from buzon.commands.options import cli_actor, current_runtime, with_settings
from buzon.config import Settings


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
    # start-up time: the events machinery only when sending one
    import sqlalchemy as sa

    from buzon import jobs
    from dian.ubl import Person
    from events.emit import ApprovalPending, EventRefused, EventRequest, emit_and_commit
    from store.models import DocumentEvent, ReceivedDocument

    with current_runtime(settings) as rt:
        jobs.use(rt)
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
                rt.sessions, rt.ctx, document_id, request, actor=cli_actor(), source="cli", force=force
            )
        except ApprovalPending as exc:
            # Four-eyes: not signed; a second user approves it on the web's Aprobaciones pendientes page.
            click.echo(f"pending approval (request {exc.approval_id}): a second user must approve it at /aprobaciones "
                       f"before it is signed — {exc.reason}", err=True)  # fmt: skip
            raise SystemExit(3) from None
        except EventRefused as exc:
            fail(f"evento {code} rechazado por Buzón: {exc.reason}" + (f" [{exc.rule}]" if exc.rule else ""), code=1)
        click.echo(f"firmado: {code} número {queued.number} CUDE {queued.cude}")
        if not deliver:
            return
        jobs.deliver_outbox()
        with rt.sessions() as s:
            done = s.get(DocumentEvent, queued.id)
            assert done is not None
            state = done.submission_state.value
            click.echo(f"DIAN: {state}" + (f" — {'; '.join(done.dian_messages)}" if done.dian_messages else ""))
            if done.last_error and state != "registered":
                click.echo(f"último error: {done.last_error}")
    if state == "rejected":
        raise SystemExit(1)
