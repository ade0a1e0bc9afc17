"""`buzon companies`: the install's companies and whether each one's database is ready (reachable, at the current
schema, stamped with its own NIT), so an operator sees at once which company needs `buzon init` or a fix."""

from __future__ import annotations

import json

import click

from buzon.commands.options import config_option
from buzon.config import ConfigError, load_settings
from buzon.group import Group
from buzon.runtime import redact


@click.command("companies")
@config_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per company.")
def companies(config_path: str | None, as_json: bool) -> None:
    """List the install's companies: NIT, name, database and its state (exit 1 when one is not ready)."""
    settings = load_settings(config_path)
    group = Group.from_settings(settings)
    rows = []
    try:
        for runtime in group:
            try:
                runtime.check_schema()
                state = "ready"
            except ConfigError as exc:
                state = str(exc)
            rows.append({"nit": runtime.settings.company.nit, "name": runtime.settings.company.name,
                         "database": redact(runtime.settings.database_url), "data_dir": runtime.settings.data_dir,
                         "state": state})  # fmt: skip
    finally:
        group.close()
    for row in rows:
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False, sort_keys=True))
        else:
            click.echo(f"{row['nit']:<14} {row['name']}\n  database: {row['database']}\n  state: {row['state']}")
    if any(row["state"] != "ready" for row in rows):
        raise SystemExit(1)
