"""Engines, sessions and migrations: `migrate()` is what `buzon init` runs (create or upgrade; harmless twice)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

import store.audit  # noqa: F401 - registers the append-only guards on every Session
from store.sqlite import use_wal

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic (with Mako) costs about 0.25 s of CPU to import: it is imported only to migrate. Every command checks the
# revision, so that check reads alembic_version and the migration files' own revision lines instead.
_REVISION_LINE = re.compile(r'^(down_revision|revision)\s*(?::[^=]*)?=\s*(None|"[^"]*"|\'[^\']*\')', re.MULTILINE)
VERSION_TABLE = "alembic_version"
MIGRATIONS = Path(__file__).with_name("migrations")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with the settings Buzón relies on (SQLite: foreign keys, WAL, a busy timeout)."""
    if url.startswith("sqlite"):
        path = sa.engine.make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    use_wal(dbapi_conn)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (expire_on_commit off)."""
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration bound to this engine, with the migrations shipped inside the package."""
    from alembic.config import Config  # start-up time: see the note above

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    """Create or upgrade the schema to revision; running it again changes nothing."""
    from alembic import command  # start-up time: see the note above

    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database (read as Alembic keeps it)."""
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table(VERSION_TABLE):
            return None
        rows = conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()  # noqa: S608
    if len(rows) > 1:
        raise RuntimeError(f"the database is at several heads: {', '.join(sorted(rows))}")
    return rows[0] if rows else None


def head_revision() -> str | None:
    """The newest revision the code knows: the one no other migration names as its down_revision (Alembic's own
    answer when the files do not make one straight line)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = dict(m.groups() for m in _REVISION_LINE.finditer(path.read_text(encoding="utf-8")))
        if "revision" in found and found["revision"] != "None":
            revisions.add(found["revision"].strip("\"'"))
        if found.get("down_revision", "None") != "None":
            parents.add(found["down_revision"].strip("\"'"))
    heads = revisions - parents
    if len(heads) == 1 and len(revisions) == len(parents) + 1:
        return heads.pop()
    from alembic.script import ScriptDirectory  # branches or an unusual file: let Alembic decide (and complain)

    return ScriptDirectory(str(MIGRATIONS)).get_current_head()
