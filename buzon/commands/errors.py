"""How a command fails: one clear line on stderr and an exit code, never a traceback."""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import click

from buzon.config import ConfigError


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one clear line to stderr and exit (2: fix the configuration or the input; 1: the work failed)."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


class Group(click.Group):
    """A command group whose commands' ConfigErrors (configuration, database, mailbox, certificate) end as one line
    naming the key, exit 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            more = len(exc.problems) - 1
            fail(f"{exc} (and {more} more: `buzon check-config` lists them)" if more > 0 else str(exc))
