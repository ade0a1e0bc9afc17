"""`buzon user …` and `buzon token …`: the people who sign in to the web app and the tokens of the JSON API.

The work is web/users.py's and web/auth.py's, the same functions the admin screens call, so the command line and the
pages share one set of rules (no one disables or demotes the last active admin; a new password lifts login locks and
ends sessions; disabling ends sessions) and one kind of audit entry; here the actor is `cli:<operating-system user>`.
A token is printed once, when it is created; only its SHA-256 is stored. The web modules are imported inside each
command (start-up time: Flask is loaded only by the commands that need the account rules).
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

ROLE_CHOICE = click.Choice(["clerk", "treasury", "admin", "auditor", "billing"])


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
    """Turn web.auth.AccountError (a bad name, a short password, a duplicate, the last active admin) into one line
    and exit 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from web.auth import AccountError  # start-up time: the web's account rules only for these commands

        try:
            return func(*args, **kwargs)
        except AccountError as exc:
            fail(str(exc))

    return wrapper


def _user_or_fail(session: Any, name: str) -> Any:
    from web.users import find_user

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
@click.option("--role", type=ROLE_CHOICE, required=True, help="clerk, treasury, admin, auditor or billing.")
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
    from web.auth import normalize_username
    from web.users import add_user, find_user

    username = normalize_username(name)
    with database(settings) as session:
        if find_user(session, username) is not None:  # before asking for a password that would go nowhere
            fail(f"user {username!r} already exists (use `buzon user passwd {username}` to change its password)")
        password = read_password(password_stdin)
        created = add_user(session, username, role=Role(role), password=password, actor=cli_actor(), **profile)
        session.commit()
        click.echo(f"user {created.username} added with role {created.role}")


@user.command("passwd")
@with_settings
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@account_error
def user_passwd(settings: Settings, name: str, password_stdin: bool) -> None:
    """Set a user's password (this also lifts its login locks and ends the user's open sessions)."""
    from web.users import reset_password

    with database(settings) as session:
        found = _user_or_fail(session, name)
        reset_password(session, found, read_password(password_stdin), actor=cli_actor())
        session.commit()
        click.echo(f"password of {found.username} changed")


def _set_active(settings: Settings, name: str, *, active: bool) -> None:
    """Enable or disable a user through web.users, saying so when it already was."""
    from web.users import disable, enable

    word = "enabled" if active else "disabled"
    with database(settings) as session:
        found = _user_or_fail(session, name)
        if found.active == active:
            click.echo(f"user {found.username} was already {word}")
            return
        (enable if active else disable)(session, found, actor=cli_actor())
        session.commit()
        click.echo(f"user {found.username} {word}")


@user.command("disable")
@with_settings
@click.argument("name")
@account_error
def user_disable(settings: Settings, name: str) -> None:
    """Stop a user from signing in: its open sessions end and its API tokens stop working. Never the last active
    admin."""
    _set_active(settings, name, active=False)


@user.command("enable")
@with_settings
@click.argument("name")
def user_enable(settings: Settings, name: str) -> None:
    """Let a disabled user sign in again."""
    _set_active(settings, name, active=True)


@user.command("role")
@with_settings
@click.argument("name")
@click.argument("role", type=ROLE_CHOICE)
@account_error
def user_role(settings: Settings, name: str, role: str) -> None:
    """Give a user another role (clerk, treasury, admin, auditor or billing). Never demotes the last active admin."""
    from store.models import Role
    from web.users import change_role

    with database(settings) as session:
        found = _user_or_fail(session, name)
        if change_role(session, found, Role(role), actor=cli_actor()):
            session.commit()
            click.echo(f"user {found.username} now has role {role}")
        else:
            click.echo(f"user {found.username} already had role {role}")


@user.command("list")
@with_settings
def user_list(settings: Settings) -> None:
    """The users: name, role, state (active, locked while a login lock holds, disabled), last login and full name."""
    from web.users import user_rows

    with database(settings) as session:
        rows = user_rows(session, datetime.now(UTC))
        if not rows:
            click.echo("no users yet: add one with `buzon user add NAME --role clerk`")
            return
        click.echo(f"{'USER':<20} {'ROLE':<9} {'STATE':<9} {'LAST LOGIN':<17} NAME")
        for row in rows:
            account = row.user
            last = row.last_login.strftime("%Y-%m-%d %H:%M") if row.last_login else "never"
            full = " ".join(p for p in (account.first_name, account.family_name) if p)
            click.echo(f"{account.username:<20} {account.role!s:<9} {row.state:<9} {last:<17} {full}".rstrip())


# --- buzon token ------------------------------------------------------------------------------------------------


@click.group()
def token() -> None:
    """Manage the bearer tokens of the JSON API (/api/v1)."""


@token.command("create")
@with_settings
@click.option("--user", "username", required=True, help="The user the token acts as (its role decides access).")
@click.option("--name", required=True, help="What the token is for, e.g. the ERP's name (shown in the token list).")
def token_create(settings: Settings, username: str, name: str) -> None:
    """Create a token and print it once: only its hash is stored, so copy it now."""
    from web.auth import AccountError, issue_token

    with database(settings) as session:
        owner = _user_or_fail(session, username)
        try:
            row, raw = issue_token(session, owner, name=name, actor=cli_actor(), now=datetime.now(UTC))
        except AccountError as exc:
            fail(str(exc))
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
            click.echo("no tokens yet: create one with `buzon token create --user NAME --name WHAT`")
            return
        click.echo(f"{'ID':>4} {'PREFIX':<13} {'USER':<16} {'CREATED':<17} {'LAST USED':<17} {'REVOKED':<17} NAME")
        for row in rows:
            click.echo(
                f"{row.id:>4} {row.prefix:<13} {row.user.username:<16} {when(row.created_at):<17} "
                f"{when(row.last_used_at):<17} {when(row.revoked_at):<17} {row.name}".rstrip()
            )
