"""What every command shares: --config and the settings it names, the runtime, the audit actor."""

from __future__ import annotations

import dataclasses
import functools
import getpass
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from buzon.config import ConfigError, Settings, load_settings
from buzon.runtime import Runtime

CONFIG_HELP = "Configuration file (default: $BUZON_CONFIG, else ./buzon.toml, else built-in defaults)."

config_option = click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None, help=CONFIG_HELP)
COMPANY_HELP = "The company to act for, by NIT, check digit optional (default: $BUZON_COMPANY, else the first)."
company_option = click.option("--company", "company", default=None, envvar="BUZON_COMPANY", metavar="NIT",
                              help=COMPANY_HELP)  # fmt: skip


def with_settings(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add --config and --company to a command and hand it the settings of that company (the first by default); a
    bad file or an unknown company is a ConfigError: one line, exit 2."""

    @config_option
    @company_option
    @functools.wraps(func)
    def wrapper(*args: Any, config_path: str | None, company: str | None, **kwargs: Any) -> Any:
        return func(company_settings(load_settings(config_path), company), *args, **kwargs)

    return wrapper


def company_settings(settings: Settings, nit: str | None) -> Settings:
    """The settings of the install's company with this NIT (its check digit optional), or the first's; the others
    stay in its ``companies`` (intake routes a mail addressed to one of them there)."""
    if not nit:
        return settings
    key = nit.strip().partition("-")[0]
    group = settings.group
    for one in group:
        if one.key == key:
            others = tuple(dataclasses.replace(s, companies=()) for s in group if s is not one)
            return dataclasses.replace(one, companies=others)
    known = ", ".join(s.company.nit for s in settings.group)
    raise ConfigError(f"--company: no company with NIT {nit} in this install (its companies: {known})")


@contextmanager
def current_runtime(settings: Settings) -> Iterator[Runtime]:
    """The runtime of these settings on a database at the current schema, with the install's other companies' as its
    peers (buzon/group.py); closed after."""
    from buzon.group import Group

    group = Group.from_settings(settings)
    try:
        group.first.check_schema()
        yield group.first
    finally:
        group.close()


def cli_actor() -> str:
    """The audit actor of a command-line action: cli:<operating-system user>."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        name = f"uid{os.getuid()}"
    return f"cli:{name}"
