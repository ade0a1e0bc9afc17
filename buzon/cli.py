"""The `buzon` command."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from buzon.config import ConfigError, Settings, find_config, load_settings

CONFIG_HELP = "Configuration file (default: $BUZON_CONFIG, else ./buzon.toml, else built-in defaults)."


def fail(message: str, code: int = 2) -> None:
    """Print one clear line to stderr and exit."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def with_settings(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add --config to a command and hand it the loaded Settings (exit 2 with the key on a bad file)."""

    @click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None, help=CONFIG_HELP)
    @functools.wraps(func)
    def wrapper(*args: Any, config_path: str | None, **kwargs: Any) -> Any:
        try:
            settings = load_settings(config_path)
        except ConfigError as exc:
            fail(str(exc))
        return func(settings, *args, **kwargs)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="buzon")
def main() -> None:
    """Buzón: receive supplier e-invoices, verify them, and answer them with DIAN events."""


@main.command("check-config")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None, help=CONFIG_HELP)
def check_config(config_path: str | None) -> None:
    """Load the configuration and report the first problem, naming its key (exit 2), or a summary.

    A configured company certificate is opened too: a missing or unreadable PKCS#12, a wrong password or a certificate
    outside its validity fail; one that expires within 30 days is a warning on stderr.
    """
    path = find_config(config_path)
    try:
        settings = load_settings(config_path)
    except ConfigError as exc:
        fail(str(exc))
    certificate, warning = _check_certificate(settings)
    click.echo(f"configuration OK: {path if path else 'built-in defaults (no file)'}")
    click.echo(f"  company:  {settings.company.name} (NIT {settings.company.nit})")
    click.echo(f"  database: {_redact_url(settings.database_url)}")
    click.echo(f"  mailbox:  {settings.inbox.source}")
    click.echo(f"  DIAN:     {settings.dian.environment}")
    if certificate:
        click.echo(f"  certificate: {certificate}")
    click.echo(f"  web:      http://{settings.web.bind}")
    if settings.demo:
        click.echo("  demo mode: on")
    if warning:
        click.echo(f"warning: {warning}", err=True)


def _check_certificate(settings: Settings) -> tuple[str | None, str | None]:
    """Open the configured company certificate (exit 2 naming the key on any problem): its summary and its 30-day
    warning. Nothing without certificate.pkcs12_path (the simulator then issues a sandbox certificate of its own)."""
    if not settings.certificate.pkcs12_path:
        return None, None
    import datetime as dt

    from dian.calendar import bogota_date
    from dian.errors import CertificateError
    from dian.trust import PasswordError, common_name, expiry_warning, load_pkcs12, validity_problem

    try:
        identity = load_pkcs12(settings.certificate.pkcs12_path, settings.certificate.password)
    except PasswordError as exc:
        fail(f"certificate.password: {exc}")
    except CertificateError as exc:
        fail(f"certificate.pkcs12_path: {exc}")
    cert, now = identity.certificate, dt.datetime.now(dt.UTC)
    problem = validity_problem(cert, now)
    if problem:
        fail(f"certificate.pkcs12_path: {problem}")
    warning = expiry_warning(cert, now)
    until = bogota_date(cert.not_valid_after_utc)
    summary = f"{common_name(cert.subject)} (NIT {identity.nit or '?'}), valid until {until}"
    return summary, f"certificate.pkcs12_path: {warning}" if warning else None


def _redact_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@main.command()
@with_settings
def init(settings: Settings) -> None:
    """Create the database or upgrade it to the current schema (running it twice changes nothing)."""
    from store.db import current_revision, head_revision, make_engine, migrate

    engine = make_engine(settings.database_url)
    try:
        before = current_revision(engine)
        migrate(engine)
        after = current_revision(engine)
    except Exception as exc:
        fail(f"database {_redact_url(settings.database_url)}: {exc}", code=1)
    finally:
        engine.dispose()
    where = _redact_url(settings.database_url)
    if before == after:
        click.echo(f"database {where} is up to date (revision {after})")
    else:
        click.echo(f"database {where} upgraded from {before or 'empty'} to revision {after}")
    assert after == head_revision()
    if settings.demo:
        from buzon.demo import seed
        from buzon.demo_users import seed_users

        if note := seed_users(settings):
            click.echo(note)
        if note := seed(settings):
            click.echo(note)
        from buzon.demo_events import seed_events

        if note := seed_events(settings):
            click.echo(note)


@main.command()
@with_settings
@click.option("--host", default=None, help="Address to listen on (default: web.bind).")
@click.option("--port", type=int, default=None, help="Port to listen on (default: web.bind).")
def serve(settings: Settings, host: str | None, port: int | None) -> None:
    """Serve the web application (for production, run buzon.wsgi:app under gunicorn behind a proxy)."""
    from werkzeug.serving import run_simple

    from buzon.event_access import event_service
    from buzon.scheduler import job_specs
    from store.db import current_revision, head_revision, make_engine
    from web.app import create_app

    engine = make_engine(settings.database_url)
    if current_revision(engine) != head_revision():
        fail("the database schema is not current: run `buzon init` first")
    app = create_app(settings, engine=engine, events=lambda sessions: event_service(settings, sessions),
                     intake=lambda sessions: web_intake(settings, sessions),
                     jobs=lambda: job_specs(settings))  # fmt: skip
    host = host or settings.web.host
    port = port or settings.web.port
    simulator = _local_simulator(settings)
    if simulator is not None:
        click.echo(f"DIAN simulator at {simulator.url}")
    click.echo(f"Buzón at http://{host}:{port}/ (configuration: {settings.loaded_from})")
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        if simulator is not None:
            simulator.stop()


def web_intake(settings: Settings, sessions: Any) -> Callable[[str], Any]:
    """For the web's quarantine page: ``make(actor)`` gives an inbox.intake.Intake on the app's sessions (the trust
    store and the DIAN client are loaded on first use, not when the app starts)."""
    from datetime import UTC, datetime

    from inbox.intake import Intake, IntakePolicy
    from store.blobs import BlobStore

    policies: list[Any] = []

    def make(actor: str) -> Any:
        if not policies:
            check = None
            if settings.dian.online_check:
                from buzon.dian_access import dian_client, online_check

                check = online_check(dian_client(settings), settings)
            policy = IntakePolicy(
                our_nit=settings.company.nit_number,
                trust=load_trust(settings),
                dian_pins=settings.dian.pinned_dian_certificates,
                max_message_bytes=settings.inbox.max_message_bytes,
                online_check=check,
                require_dian_validation=settings.dian.require_validation,
            )
            policies.append(policy)
        blobs = BlobStore(settings.blob_dir)
        return Intake(sessions, blobs, policies[0], clock=lambda: datetime.now(UTC), actor=actor)

    return make


def _local_simulator(settings: Settings) -> Any:
    """In the simulator environment with no endpoint of its own, the DIAN simulator runs beside the web app (in a
    thread) so that events sent from the demo are registered; None otherwise or when its port is taken."""
    if settings.dian.environment != "simulator" or settings.dian.endpoint:
        return None
    from buzon.dian_access import simulator_data_dir
    from dian.simulator import Simulator, SimulatorServer

    try:
        return SimulatorServer(Simulator(simulator_data_dir(settings)), port=settings.dian.simulator_port).start()
    except OSError as exc:  # already running (e.g. `buzon dian-sim` in another terminal): use that one
        click.echo(f"DIAN simulator not started here ({exc.strerror}); using the one on port "
                   f"{settings.dian.simulator_port}", err=True)  # fmt: skip
        return None


@main.command()
@with_settings
def scheduler(settings: Settings) -> None:
    """Run the scheduler process (polling, auto-acknowledgement, outbox, deadline sweeps) until stopped."""
    from buzon import scheduler as sched
    from store.db import current_revision, head_revision, make_engine

    engine = make_engine(settings.database_url)
    if current_revision(engine) != head_revision():
        fail("the database schema is not current: run `buzon init` first")
    engine.dispose()

    def announce(s: Any) -> None:
        jobs = s.get_jobs()
        click.echo(f"scheduler started with {len(jobs)} job(s): {', '.join(j.id for j in jobs) or 'none yet'}")

    sched.run(settings, on_started=announce)
    click.echo("scheduler stopped")


def load_trust(settings: Settings) -> Any:
    """The trust store of the configuration; a folder that cannot be read ends the command with its reason."""
    from buzon.dian_access import trust_store

    try:
        return trust_store(settings)
    except ConfigError as exc:
        fail(str(exc))


@main.command()
@with_settings
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per document, one per line.")
@click.option(
    "--check-buyer/--no-check-buyer",
    default=False,
    help="Also require the buyer to be our company (company.nit); intake always does.",
)
def verify(settings: Settings, paths: tuple[Path, ...], as_json: bool, check_buyer: bool) -> None:
    """Verify the documents in .xml, .zip and .eml files: signatures, DIAN's validation, and the fields they sign.

    Exit 0 when every document is valid or valid_with_warnings, 1 when any is invalid or unreadable.
    """
    from buzon.verifycmd import render_json, render_text, verify_paths

    trust = load_trust(settings)
    our_nit = settings.company.nit_number if check_buyer else None
    failed = False
    for result in verify_paths(list(paths), trust=trust, pins=settings.dian.pinned_dian_certificates, our_nit=our_nit):
        click.echo(render_json(result) if as_json else render_text(result))
        failed |= result.verdict in {"invalid", "unreadable"}
    sys.exit(1 if failed else 0)


from buzon.inbox_commands import register as register_inbox  # noqa: E402 - `buzon poll`, `buzon import`

register_inbox(main)

from buzon.user_commands import register as register_users  # noqa: E402 - `buzon user`, `buzon token`

register_users(main)

from buzon.dian_commands import dian_sim  # noqa: E402 - `buzon dian-sim`

main.add_command(dian_sim)

from buzon.event_commands import register as register_events  # noqa: E402 - `buzon event`, `buzon jobs`

register_events(main)

if __name__ == "__main__":  # pragma: no cover
    main()
