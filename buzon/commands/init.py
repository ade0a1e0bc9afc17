"""`buzon init`: create or upgrade the database; in demo mode, the demo users, inbox and events."""

from __future__ import annotations

import click

from buzon.commands.errors import fail
from buzon.commands.options import with_settings
from buzon.config import ConfigError, Settings
from buzon.runtime import Runtime, redact


@click.command()
@with_settings
def init(settings: Settings) -> None:
    """Create the database or upgrade it to the current schema (running it twice changes nothing)."""
    from store.db import head_revision, migrate  # start-up time: Alembic only when migrating

    runtime = Runtime.from_settings(settings)
    where = redact(settings.database_url)
    try:
        before = runtime.revision()
        migrate(runtime.engine)
        after = runtime.revision()
    except ConfigError:
        raise
    except Exception as exc:
        fail(f"database {where}: {exc}", code=1)
    finally:
        runtime.close()
    if before == after:
        click.echo(f"database {where} is up to date (revision {after})")
    else:
        click.echo(f"database {where} upgraded from {before or 'empty'} to revision {after}")
    assert after == head_revision()
    if settings.demo:
        from buzon import demo, demo_events, demo_users  # start-up time: the demo only in demo mode

        for note in (demo_users.seed_users(settings), demo.seed(settings), demo_events.seed_events(settings)):
            if note:
                click.echo(note)
