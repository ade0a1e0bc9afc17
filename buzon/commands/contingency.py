"""`buzon contingency start --reason … | end | status | sweep`: DIAN's outage (radian-issuing-facts B.3) declared or
ended by hand; while it lasts our invoices are issued as type 04 and the contingency job transmits them within the
48 h window. (An outage is also detected by itself: issuing.contingency_after_failures sends without any answer.)"""

from __future__ import annotations

from datetime import timedelta

import click

from buzon.commands.errors import Group, fail
from buzon.commands.options import cli_actor, current_runtime, with_settings
from buzon.config import Settings

__all__ = ["contingency"]


@click.group("contingency", cls=Group)
def contingency() -> None:
    """Contingency of DIAN (type 04): declare it, end it, see it, transmit now."""


@contingency.command("start")
@with_settings
@click.option("--reason", required=True, help="Why (kept in the audit log and on each 04).")
def start(settings: Settings, reason: str) -> None:
    """Declare that DIAN cannot receive: invoices are issued as type 04 until `buzon contingency end`."""
    from issuing import contingency as c
    from issuing.context import utc_now

    with current_runtime(settings) as rt:
        try:
            held = c.start(rt.sessions, actor=cli_actor(), reason=reason, now=utc_now())
        except ValueError as exc:
            fail(str(exc))
    click.echo(f"Contingencia en curso desde {held.started_at:%Y-%m-%d %H:%M} UTC ({held.source}): {held.reason}")


@contingency.command("end")
@with_settings
def end(settings: Settings) -> None:
    """End the contingency under way (the documents issued in it are still transmitted by the job)."""
    from issuing import contingency as c
    from issuing.context import utc_now

    with current_runtime(settings) as rt:
        ended = c.end(rt.sessions, actor=cli_actor(), now=utc_now(), reason="declarada terminada")
    click.echo("Contingencia terminada." if ended else "No había contingencia en curso.")


@contingency.command("status")
@with_settings
def status(settings: Settings) -> None:
    """Say whether a contingency is under way."""
    from issuing import contingency as c

    with current_runtime(settings) as rt:
        held = c.current(rt.sessions)
    if held is None:
        click.echo("Sin contingencia: los documentos se envían a la DIAN al expedirse.")
    else:
        click.echo(f"Contingencia en curso desde {held.started_at:%Y-%m-%d %H:%M} UTC ({held.source}): {held.reason}")


@contingency.command("sweep")
@with_settings
def sweep(settings: Settings) -> None:
    """Transmit the 03/04 documents not yet validated now, and alert about those near their deadline."""
    from issuing import contingency as c
    from issuing.context import utc_now

    with current_runtime(settings) as rt:
        report = c.sweep(rt.issuing, rt.client, now=utc_now(), from_address=settings.smtp.from_address,
                         alert_before=timedelta(hours=settings.issuing.contingency_alert_hours))  # fmt: skip
    click.echo(f"Transmitidos: {', '.join(report.transmitted) or 'ninguno'}; rechazados: "
               f"{', '.join(report.rejected) or 'ninguno'}; pendientes: {', '.join(report.waiting) or 'ninguno'}; "
               f"avisos: {len(report.alerted)}")  # fmt: skip
