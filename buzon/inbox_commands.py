"""`buzon poll` and `buzon import`: the shell around inbox/ (settings, engine, blob store, clock, crash hook)."""

from __future__ import annotations

import functools
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from buzon.config import ConfigError, Settings

CRASH_ENV = "BUZON_CRASH_AT"
CONFIG_HELP = "Configuration file (default: $BUZON_CONFIG, else ./buzon.toml, else built-in defaults)."


def register(group: click.Group) -> None:
    """Add `buzon poll` and `buzon import` to the command group (buzon/cli.py calls this at its end)."""
    group.add_command(poll)
    group.add_command(import_)


def with_settings(func: Callable[..., Any]) -> Callable[..., Any]:
    """buzon.cli.with_settings, looked up when the command runs: buzon.cli imports this module at its end."""

    @click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None, help=CONFIG_HELP)
    @functools.wraps(func)
    def wrapper(*args: Any, config_path: str | None, **kwargs: Any) -> Any:
        from buzon.cli import with_settings as load_then_call

        return load_then_call(func)(*args, config_path=config_path, **kwargs)

    return wrapper


def fail(message: str, code: int = 2) -> None:
    """buzon.cli.fail: one clear line on stderr, then exit."""
    from buzon.cli import fail as cli_fail

    cli_fail(message, code)


def load_trust(settings: Settings) -> Any:
    """buzon.cli.load_trust: the trust store of the configuration."""
    from buzon.cli import load_trust as cli_load_trust

    return cli_load_trust(settings)


def crash_hook(spec: str | None) -> Callable[[str], None] | None:
    """A hook that kills the process (exit 137, no cleanup) at an intake step: ``BUZON_CRASH_AT=step`` or
    ``step@N`` for the N-th time that step is reached. For the crash tests; None when unset."""
    if not spec:
        return None
    step, _, nth = spec.partition("@")
    wanted = int(nth) if nth else 1
    seen = {"count": 0}

    def hook(name: str) -> None:
        if name == step:
            seen["count"] += 1
            if seen["count"] == wanted:
                sys.stdout.flush()
                os._exit(137)

    return hook


def online_checker(settings: Settings) -> Callable[[str], Any] | None:
    """DIAN's online confirmation (GetStatus by CUFE) when dian.online_check is on."""
    if not settings.dian.online_check:
        return None
    from buzon.dian_access import dian_client, online_check

    try:
        return online_check(dian_client(settings), settings)
    except ConfigError as exc:
        fail(str(exc))


@contextmanager
def intake_for(settings: Settings, *, actor: str = "system:intake") -> Iterator[Any]:
    """An Intake bound to the configured database, blob store, trust store and policy; the engine is disposed after."""
    from dian.calendar import BusinessCalendar
    from inbox.intake import Intake, IntakePolicy
    from store.blobs import BlobStore
    from store.db import current_revision, head_revision, make_engine, session_factory
    from store.state import refresh_documents

    engine = make_engine(settings.database_url)
    try:
        if current_revision(engine) != head_revision():
            fail("the database schema is not current: run `buzon init` first")
        calendar = BusinessCalendar(saturday_is_business_day=settings.scheduler.saturday_is_business_day)
        sessions = session_factory(engine)
        policy = IntakePolicy(
            our_nit=settings.company.nit_number,
            trust=load_trust(settings),
            dian_pins=settings.dian.pinned_dian_certificates,
            max_message_bytes=settings.inbox.max_message_bytes,
            online_check=online_checker(settings),
            require_dian_validation=settings.dian.require_validation,
            on_documents=lambda ids: refresh_documents(sessions, ids, calendar),
        )
        yield Intake(
            sessions,
            BlobStore(settings.blob_dir),
            policy,
            clock=lambda: datetime.now(UTC),
            actor=actor,
            hook=crash_hook(os.environ.get(CRASH_ENV)),
        )
    finally:
        engine.dispose()


def imap_options(settings: Settings) -> Any:
    """The IMAP source options from settings.imap and settings.inbox."""
    from inbox.imap import ImapOptions

    i = settings.imap
    return ImapOptions(
        host=i.host,
        port=i.port,
        tls=i.tls,
        user=i.user,
        password=i.password,
        oauth2_token=i.oauth2_token,
        folder=i.folder,
        processed_folder=i.processed_folder,
        quarantine_folder=i.quarantine_folder,
        max_message_bytes=settings.inbox.max_message_bytes,
    )


def open_source(settings: Settings) -> Any:
    """The configured mailbox: IMAP (connected), a Maildir, or the local mailbox folder."""
    from inbox.sources import FolderSource, MaildirSource

    if settings.inbox.source == "imap":
        from inbox.imap import ImapSource

        return ImapSource(imap_options(settings)).connect()
    if settings.inbox.source == "maildir":
        return MaildirSource(settings.mailbox_path)
    settings.mailbox_path.mkdir(parents=True, exist_ok=True)
    return FolderSource(settings.mailbox_path)


def poll_mailbox_once(settings: Settings) -> Any:
    """One poll of the configured mailbox (the scheduler's job calls this too); returns the Summary."""
    from inbox.poll import poll_once

    with intake_for(settings) as intake:
        source = open_source(settings)
        try:
            return poll_once(source, intake)
        finally:
            source.close()


@click.command()
@with_settings
@click.option("--once", is_flag=True, help="Take what is in the mailbox now and exit.")
def poll(settings: Settings, once: bool) -> None:
    """Take supplier mail from the reception mailbox: verify, file or quarantine, then move it."""
    from inbox.imap import TRANSIENT
    from inbox.poll import run

    if once:
        try:
            summary = poll_mailbox_once(settings)
        except TRANSIENT as exc:
            fail(f"mailbox {settings.inbox.source}: {exc.__class__.__name__}: {exc}", code=1)
        click.echo(_summary_text(summary))
        return
    click.echo(f"buzon poll: leyendo {settings.inbox.source}; Ctrl-C para detener")
    with intake_for(settings) as intake:
        try:
            run(
                lambda: open_source(settings),
                intake,
                wait_seconds=settings.scheduler.poll_interval,
                sleep=time.sleep,
                stop=lambda: False,
                log=lambda message: click.echo(f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S}Z {message}"),
                transient=TRANSIENT,
            )
        except KeyboardInterrupt:
            click.echo("detenido")


@click.command("import")
@with_settings
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="End with one JSON summary line.")
def import_(settings: Settings, paths: tuple[Path, ...], as_json: bool) -> None:
    """Take .eml, .zip and .xml files (or folders of them) as if they had arrived by mail; the files stay in place."""
    from inbox.poll import Summary, batches
    from inbox.sources import Handle, PathsSource

    source = PathsSource(list(paths))
    files = source.files()
    summary = Summary()
    with intake_for(settings, actor="system:import") as intake:
        for mail_id in intake.pending(source.mailbox):  # left by an import that died half-way
            result = intake.process(mail_id)
            if not result.earlier:
                summary.add(result)
        envelopes = (source.fetch(Handle(key=path)) for path in files)
        with click.progressbar(length=len(files), label="Importando", file=sys.stderr, show_pos=True) as bar:
            for batch in batches(envelopes):  # each batch's outcomes commit together
                for result in intake.take_many(batch):
                    summary.add(result)
                bar.update(len(batch))
    if as_json:
        click.echo(json.dumps(summary.to_dict(), sort_keys=True))
    else:
        click.echo(_summary_text(summary))


def _summary_text(summary: Any) -> str:
    lines = [f"archivados: {summary.filed}", f"duplicados: {summary.duplicates}"]
    if summary.events:
        lines.append(f"eventos observados: {summary.events}")
    total = sum(summary.quarantined.values())
    lines.append(f"en cuarentena: {total}")
    lines.extend(f"  {reason}: {count}" for reason, count in sorted(summary.quarantined.items()))
    return "\n".join(lines)
