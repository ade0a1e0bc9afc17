"""The `buzon` command."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
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
    """Load the configuration and report the first problem, naming its key (exit 2), or a summary."""
    path = find_config(config_path)
    try:
        settings = load_settings(config_path)
    except ConfigError as exc:
        fail(str(exc))
    click.echo(f"configuration OK: {path if path else 'built-in defaults (no file)'}")
    click.echo(f"  company:  {settings.company.name} (NIT {settings.company.nit})")
    click.echo(f"  database: {_redact_url(settings.database_url)}")
    click.echo(f"  mailbox:  {settings.inbox.source}")
    click.echo(f"  DIAN:     {settings.dian.environment}")
    click.echo(f"  web:      http://{settings.web.bind}")
    if settings.demo:
        click.echo("  demo mode: on")


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


@main.command()
@with_settings
@click.option("--host", default=None, help="Address to listen on (default: web.bind).")
@click.option("--port", type=int, default=None, help="Port to listen on (default: web.bind).")
def serve(settings: Settings, host: str | None, port: int | None) -> None:
    """Serve the web application (for production, run buzon.wsgi:app under gunicorn behind a proxy)."""
    from werkzeug.serving import run_simple

    from store.db import current_revision, head_revision, make_engine
    from web.app import create_app

    engine = make_engine(settings.database_url)
    if current_revision(engine) != head_revision():
        fail("the database schema is not current: run `buzon init` first")
    app = create_app(settings, engine=engine)
    host = host or settings.web.host
    port = port or settings.web.port
    click.echo(f"Buzón at http://{host}:{port}/ (configuration: {settings.loaded_from})")
    run_simple(host, port, app, threaded=True, use_reloader=False)


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


if __name__ == "__main__":  # pragma: no cover
    main()
