"""`buzon user …` and `buzon token …`: the people who sign in to the web app and the tokens of the JSON API.

Every change is an audit entry with the actor `cli:<operating-system user>`. A token is printed once, when it is
created; only its SHA-256 is stored.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import click

from buzon.commands.errors import fail
from buzon.commands.options import cli_actor, current_runtime, with_settings
from buzon.config import Settings

ROLE_CHOICE = click.Choice(["clerk", "treasury", "admin", "auditor"])


@contextmanager
def database(settings: Settings) -> Iterator[Any]:
    """A session on the configured database (which must be at the current schema); the engine is disposed after."""
    with current_runtime(settings) as runtime, runtime.sessions() as session:
        yield session


def read_password(from_stdin: bool) -> str:
    """The new password: one line from stdin, or typed twice (hidden) at the terminal."""
    if from_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def account_error(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn web.auth.AccountError (a bad name, a short password, a duplicate) into one line and exit 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from web.auth import AccountError  # start-up time: the web's account rules only for these commands

        try:
            return func(*args, **kwargs)
        except AccountError as exc:
            fail(str(exc))

    return wrapper


def _user_or_fail(session: Any, name: str) -> Any:
    from web.auth import find_user

    found = find_user(session, name)
    if found is None:
        fail(f"user {name!r} does not exist (buzon user list shows them)")
    return found


# --- buzon user -------------------------------------------------------------------------------------------------


@click.group()
def user() -> None:
    """Manage the people who sign in to the web application."""


@user.command("add")
@with_settings
@click.argument("name")
@click.option("--role", type=ROLE_CHOICE, required=True, help="clerk, treasury, admin or auditor.")
@click.option("--email", default=None)
@click.option("--first-name", default=None)
@click.option("--family-name", default=None)
@click.option("--id-type", default=None, help="DIAN identification type (13 cédula, 22 cédula de extranjería, …).")
@click.option("--id-number", default=None)
@click.option("--job-title", default=None)
@click.option("--department", default=None)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@account_error
def user_add(settings: Settings, name: str, role: str, password_stdin: bool, **profile: str | None) -> None:
    """Add a user; the password is asked twice (or read from stdin) and stored as a salted hash."""
    from store.models import Role
    from web.auth import create_user, find_user, normalize_username

    username = normalize_username(name)
    with database(settings) as session:
        if find_user(session, username) is not None:
            fail(f"user {username!r} already exists (use `buzon user passwd {username}` to change its password)")
        password = read_password(password_stdin)
        fields = {k: v for k, v in profile.items() if v is not None}
        created = create_user(session, username, role=Role(role), password=password, actor=cli_actor(), **fields)
        session.commit()
        click.echo(f"user {created.username} added with role {created.role}")


@user.command("passwd")
@with_settings
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@account_error
def user_passwd(settings: Settings, name: str, password_stdin: bool) -> None:
    """Set a user's password (this also lifts a login lock and ends the user's open sessions)."""
    from web.auth import set_password

    with database(settings) as session:
        found = _user_or_fail(session, name)
        set_password(session, found, read_password(password_stdin), actor=cli_actor())
        session.commit()
        click.echo(f"password of {found.username} changed")


@user.command("disable")
@with_settings
@click.argument("name")
def user_disable(settings: Settings, name: str) -> None:
    """Stop a user from signing in; its API tokens stop working too."""
    _set_active(settings, name, False)


@user.command("enable")
@with_settings
@click.argument("name")
def user_enable(settings: Settings, name: str) -> None:
    """Let a disabled user sign in again."""
    _set_active(settings, name, True)


def _set_active(settings: Settings, name: str, active: bool) -> None:
    from web.auth import set_active

    with database(settings) as session:
        found = _user_or_fail(session, name)
        set_active(session, found, active, actor=cli_actor())
        session.commit()
        click.echo(f"user {found.username} {'enabled' if active else 'disabled'}")


@user.command("list")
@with_settings
def user_list(settings: Settings) -> None:
    """The users: name, role, state, full name and last login."""
    import sqlalchemy as sa

    from store.models import User

    with database(settings) as session:
        rows = session.scalars(sa.select(User).order_by(User.username)).all()
        if not rows:
            click.echo("no users yet: add one with `buzon user add NAME --role clerk`")
            return
        click.echo(f"{'USER':<20} {'ROLE':<9} {'STATE':<9} {'LAST LOGIN':<17} NAME")
        for row in rows:
            state = "active" if row.active else "disabled"
            if row.active and row.locked_until and row.locked_until > datetime.now(UTC):
                state = "locked"
            last = row.last_login_at.strftime("%Y-%m-%d %H:%M") if row.last_login_at else "never"
            full = " ".join(p for p in (row.first_name, row.family_name) if p)
            click.echo(f"{row.username:<20} {row.role!s:<9} {state:<9} {last:<17} {full}".rstrip())


# --- buzon token ------------------------------------------------------------------------------------------------


@click.group()
def token() -> None:
    """Manage the bearer tokens of the JSON API (/api/v1)."""


@token.command("create")
@with_settings
@click.option("--user", "username", required=True, help="The user the token acts as (its role decides access).")
@click.option("--name", default="", help="What the token is for, e.g. the ERP's name.")
def token_create(settings: Settings, username: str, name: str) -> None:
    """Create a token and print it once: only its hash is stored, so copy it now."""
    from web.auth import issue_token

    with database(settings) as session:
        owner = _user_or_fail(session, username)
        if not owner.active:
            fail(f"user {owner.username!r} is disabled: enable it first")
        row, raw = issue_token(session, owner, name=name, actor=cli_actor(), now=datetime.now(UTC))
        session.commit()
        click.echo(raw)
        click.echo(
            f"token {row.id} ({row.prefix}…) for {owner.username}: shown only now; send it as "
            "`Authorization: Bearer <token>`",
            err=True,
        )


@token.command("revoke")
@with_settings
@click.argument("token_id", metavar="ID", type=int)
def token_revoke(settings: Settings, token_id: int) -> None:
    """Revoke a token by its id (see `buzon token list`); requests with it get 401 from then on."""
    from store.models import ApiToken
    from web.auth import revoke_token

    with database(settings) as session:
        row = session.get(ApiToken, token_id)
        if row is None:
            fail(f"token {token_id} does not exist (buzon token list shows them)")
        if revoke_token(session, row, actor=cli_actor(), now=datetime.now(UTC)):
            session.commit()
            click.echo(f"token {token_id} revoked")
        else:
            click.echo(f"token {token_id} was already revoked")


@token.command("list")
@with_settings
def token_list(settings: Settings) -> None:
    """The tokens (never the secret itself): id, prefix, user, name, created, last used, revoked."""
    import sqlalchemy as sa

    from store.models import ApiToken

    def when(stamp: datetime | None) -> str:
        return stamp.strftime("%Y-%m-%d %H:%M") if stamp else "-"

    with database(settings) as session:
        rows = session.scalars(sa.select(ApiToken).order_by(ApiToken.id)).all()
        if not rows:
            click.echo("no tokens yet: create one with `buzon token create --user NAME`")
            return
        click.echo(f"{'ID':>4} {'PREFIX':<13} {'USER':<16} {'CREATED':<17} {'LAST USED':<17} {'REVOKED':<17} NAME")
        for row in rows:
            click.echo(
                f"{row.id:>4} {row.prefix:<13} {row.user.username:<16} {when(row.created_at):<17} "
                f"{when(row.last_used_at):<17} {when(row.revoked_at):<17} {row.name}".rstrip()
            )
