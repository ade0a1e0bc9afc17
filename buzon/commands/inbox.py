"""`buzon poll` and `buzon import`: supplier mail into intake, from the configured mailbox or from files."""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from buzon.commands.errors import fail
from buzon.commands.options import current_runtime, with_settings
from buzon.config import Settings


@click.command()
@with_settings
@click.option("--once", is_flag=True, help="Take what is in the mailbox now and exit.")
def poll(settings: Settings, once: bool) -> None:
    """Take supplier mail from the reception mailbox: verify, file or quarantine, then move it."""
    from inbox.imap import TRANSIENT  # start-up time: the mailbox libraries only when polling
    from inbox.poll import run

    with current_runtime(settings) as runtime:
        if once:
            try:
                summary = runtime.poll_once()
            except TRANSIENT as exc:  # the mailbox cannot be reached: its host, port or TLS are the configuration's
                fail(f"mailbox {settings.inbox.source} ({_where(settings)}): {exc.__class__.__name__}: {exc}")
            click.echo(summary_text(summary))
            return
        click.echo(f"buzon poll: leyendo {settings.inbox.source}; Ctrl-C para detener")
        intake = runtime.intake()
        try:
            run(
                runtime.open_mailbox,
                intake,
                wait_seconds=settings.scheduler.poll_interval,
                sleep=time.sleep,
                stop=lambda: False,
                log=lambda message: click.echo(f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S}Z {message}"),
                transient=TRANSIENT,
                router=runtime.router(intake),  # a mail for another company of the install goes to its intake
            )
        except KeyboardInterrupt:
            click.echo("detenido")


@click.command("import")
@with_settings
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="End with one JSON summary line.")
def import_(settings: Settings, paths: tuple[Path, ...], as_json: bool) -> None:
    """Take .eml, .zip and .xml files (or folders of them) as if they had arrived by mail; the files stay in place."""
    from inbox.poll import Summary, batches  # start-up time: intake only when importing
    from inbox.sources import Handle, PathsSource

    source = PathsSource(list(paths))
    files = source.files()
    summary = Summary()
    with current_runtime(settings) as runtime:
        intake = runtime.intake(actor="system:import")
        router = runtime.router(intake)  # a file addressed to another company of the install goes to its intake
        for company, target in ((None, intake),) if router is None else router.targets:
            for mail_id in target.pending(source.mailbox):  # left by an import that died half-way
                result = target.process(mail_id)
                if not result.earlier:
                    summary.add(result, company)
        envelopes = (source.fetch(Handle(key=path)) for path in files)
        with click.progressbar(length=len(files), label="Importando", file=sys.stderr, show_pos=True) as bar:
            for batch in batches(envelopes):  # each batch's outcomes commit together (per company)
                if router is None:
                    for result in intake.take_many(batch):
                        summary.add(result)
                else:
                    for company, _, result in router.take_many(batch):
                        summary.add(result, company)
                bar.update(len(batch))
    if as_json:
        click.echo(json.dumps(summary.to_dict(), sort_keys=True))
    else:
        click.echo(summary_text(summary))


def _where(settings: Settings) -> str:
    i = settings.imap
    return f"{i.host}:{i.port}" if settings.inbox.source == "imap" else str(settings.mailbox_path)


def summary_text(summary: Any) -> str:
    """What a poll or an import did, in Spanish, one line per outcome."""
    lines = [f"archivados: {summary.filed}", f"duplicados: {summary.duplicates}"]
    if summary.events:
        lines.append(f"eventos observados: {summary.events}")
    total = sum(summary.quarantined.values())
    lines.append(f"en cuarentena: {total}")
    lines.extend(f"  {reason}: {count}" for reason, count in sorted(summary.quarantined.items()))
    lines.extend(f"para la empresa {nit}: {count}" for nit, count in sorted(summary.routed.items()))
    return "\n".join(lines)
