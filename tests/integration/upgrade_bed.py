"""A database left at an older migration, then upgraded by `buzon init` as an installation would be: the shared
setup of the tests that check a data migration or a backfill on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

from store.db import alembic_config, make_engine
from tests.integration.cli_runner import BUZON
from tests.services import fresh_postgres_database

COMPANY = '[company]\nnit = "805007280-8"\nname = "EMPRESA S.A.S."\n'


@contextlib.contextmanager
def database_at(kind: str, tmp_path: Path, revision: str) -> Iterator[tuple[sa.Engine, Path]]:
    """A fresh SQLite file or PostgreSQL database migrated to ``revision``, and a configuration file that names it."""
    from alembic import command

    url = f"sqlite:///{tmp_path / f'at-{revision}.sqlite3'}"
    with fresh_postgres_database() if kind == "postgresql" else contextlib.nullcontext(url) as url:
        engine = make_engine(url)
        try:
            command.upgrade(alembic_config(engine), revision)
            config = tmp_path / "buzon.toml"
            config.write_text(f'data_dir = "{tmp_path}"\n[database]\nurl = "{url}"\n{COMPANY}', encoding="utf-8")
            yield engine, config
        finally:
            engine.dispose()


def init(config: Path) -> str:
    """`buzon init` on ``config`` in a child process (what an upgrade runs); its standard output."""
    env = {k: v for k, v in os.environ.items() if k not in {"BUZON_CONFIG", "BUZON_COMPANY", "BUZON_CRASH_AT"}}
    done = subprocess.run([*BUZON, "init", "--config", str(config)], cwd=config.parent, env=env,
                          capture_output=True, text=True, timeout=180)  # fmt: skip
    assert done.returncode == 0 and "Traceback" not in done.stderr, (done.stdout, done.stderr)
    return done.stdout
