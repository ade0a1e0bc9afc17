"""What every command shares: --config and the settings it names, the runtime, the audit actor."""

from __future__ import annotations

import functools
import getpass
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from buzon.config import Settings, load_settings
from buzon.runtime import Runtime

CONFIG_HELP = "Configuration file (default: $BUZON_CONFIG, else ./buzon.toml, else built-in defaults)."

config_option = click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None, help=CONFIG_HELP)


def with_settings(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add --config to a command and hand it the loaded Settings (a bad file is a ConfigError: one line, exit 2)."""

    @config_option
    @functools.wraps(func)
    def wrapper(*args: Any, config_path: str | None, **kwargs: Any) -> Any:
        return func(load_settings(config_path), *args, **kwargs)

    return wrapper


@contextmanager
def current_runtime(settings: Settings) -> Iterator[Runtime]:
    """The runtime of these settings on a database at the current schema; closed after."""
    runtime = Runtime.from_settings(settings)
    try:
        runtime.check_schema()
        yield runtime
    finally:
        runtime.close()


def cli_actor() -> str:
    """The audit actor of a command-line action: cli:<operating-system user>."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        name = f"uid{os.getuid()}"
    return f"cli:{name}"
