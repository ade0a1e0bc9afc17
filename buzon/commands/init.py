"""`buzon init`: create or upgrade the database; in demo mode, the demo users, inbox and events."""

from __future__ import annotations

from dataclasses import replace

import click

from buzon.commands.errors import fail
from buzon.commands.options import with_settings
from buzon.config import ConfigError, Settings
from buzon.runtime import Runtime, redact


def _grant_app_role(owner: Runtime, settings: Settings) -> None:
    """As the owner role (database.owner_url): create the scheduler's table and grant the role of database.url what
    the application needs (store/roles.py)."""
    from sqlalchemy.engine import make_url

    from buzon.scheduler import create_job_table
    from store.roles import grant_app_role

    if owner.engine.dialect.name != "postgresql":
        raise ConfigError("database.owner_url: two roles are for PostgreSQL only; leave it empty with SQLite")
    app, own = make_url(settings.database_url).username, owner.engine.url.username
    if not app or app == own:
        raise ConfigError(f"database.url: must name the application role, not the owner ({own}) of database.owner_url")
    create_job_table(owner.engine)
    with owner.engine.begin() as conn:
        grant_app_role(conn, app)
    click.echo(f"role {app}: granted the application's rights (audit log: read, add and seal only)")


def _stamp(runtime: Runtime, settings: Settings) -> None:
    """Stamp the database with its company (store/company.py); ConfigError when it is another company's."""
    from datetime import UTC, datetime

    from store.company import WrongCompany, stamp

    with runtime.sessions() as session:
        try:
            if stamp(session, settings.company.nit, settings.company.name, now=datetime.now(UTC)):
                session.commit()
        except WrongCompany as exc:
            raise ConfigError(f"database.url: {redact(settings.database_url)}: {exc}") from exc


def _fill_orders(settings: Settings, before: str | None, after: str | None) -> None:
    """Across migration 0020: the purchase order of each document already on file, read from its XML."""
    from inbox.order_backfill import crosses, fill_order_references

    if not crosses(before, after):
        return
    runtime = Runtime.from_settings(settings)
    try:
        filled = fill_order_references(runtime.sessions, runtime.blobs)
    finally:
        runtime.close()
    unreadable = f"; {filled.unreadable} whose XML could not be read keep none" if filled.unreadable else ""
    click.echo(f"{settings.company.name}: purchase orders read from {filled.read} documents already on file, "
               f"{filled.found} cite one{unreadable}")  # fmt: skip


@click.command()
@with_settings
def init(settings: Settings) -> None:
    """Create each company's database or upgrade it to the current schema, and stamp it with the company's NIT
    (running it twice changes nothing); --company for one company only."""
    for company in settings.group:
        _init_one(company)


def _init_one(settings: Settings) -> None:
    from store.db import head_revision, migrate  # start-up time: Alembic only when migrating

    owner_url = settings.database.owner_url
    runtime = Runtime.from_settings(settings.replace(database=replace(settings.database, url=owner_url)) if owner_url
                                    else settings)  # fmt: skip
    where = redact(settings.database_url)
    try:
        before = runtime.revision()
        migrate(runtime.engine)
        after = runtime.revision()
        if owner_url:
            _grant_app_role(runtime, settings)
        _stamp(runtime, settings)
    except ConfigError:
        raise
    except Exception as exc:
        fail(f"database {where}: {exc}", code=1)
    finally:
        runtime.close()
    name = f"{settings.company.name} ({settings.company.nit})"
    if before == after:
        click.echo(f"{name}: database {where} is up to date (revision {after})")
    else:
        click.echo(f"{name}: database {where} upgraded from {before or 'empty'} to revision {after}")
        _fill_orders(settings, before, after)
    assert after == head_revision()
    if settings.demo:
        from buzon import demo, demo_events, demo_users  # start-up time: the demo only in demo mode

        for note in (demo_users.seed_users(settings), demo.seed(settings), demo_events.seed_events(settings)):
            if note:
                click.echo(note)
