"""PostgreSQL's two roles (README "Two roles"): `buzon init` migrates as the owner (database.owner_url) and grants the
application role (database.url) its rights; the application then writes and seals the audit log, and cannot delete,
rewrite a sealed hash, truncate or disable the trigger. Its owner can — and `buzon audit verify` finds it."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from buzon.cli import main
from store import audit
from store.db import make_engine, session_factory
from tests.services import PG_ADMIN_URL, missing

pytestmark = pytest.mark.integration


@dataclass
class TwoRoles:
    owner_url: str
    app_url: str
    config: Path


@pytest.fixture
def two_roles(tmp_path) -> Iterator[TwoRoles]:
    """Two login roles of this test's own and a database owned by the first; all dropped afterwards."""
    try:
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        admin.connect().close()
    except Exception as exc:
        missing(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc.__class__.__name__}")
    tag = secrets.token_hex(4)
    owner, app, name = f"buzon_owner_{tag}", f"buzon_app_{tag}", f"buzon_roles_{tag}"
    base = sa.engine.make_url(PG_ADMIN_URL)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE ROLE "{owner}" LOGIN')
        conn.exec_driver_sql(f'CREATE ROLE "{app}" LOGIN')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}" OWNER "{owner}"')
    owner_url = base.set(username=owner, database=name).render_as_string(hide_password=False)
    app_url = base.set(username=app, database=name).render_as_string(hide_password=False)
    config = tmp_path / "buzon.toml"
    config.write_text(
        f'demo = false\ndata_dir = "{tmp_path / "var"}"\n[database]\nurl = "{app_url}"\nowner_url = "{owner_url}"\n'
    )
    try:
        yield TwoRoles(owner_url, app_url, config)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{app}"')
            conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{owner}"')
        admin.dispose()


def test_the_application_role_writes_and_seals_but_cannot_delete_truncate_rewrite_or_disable(two_roles):
    result = CliRunner().invoke(main, ["init", "--config", str(two_roles.config)])
    assert result.exit_code == 0, result.output
    assert "granted the application's rights" in result.output
    app = make_engine(two_roles.app_url)
    owner = make_engine(two_roles.owner_url)
    try:
        with app.connect() as conn:
            assert conn.exec_driver_sql("SELECT current_user").scalar() != owner.url.username
        sessions = session_factory(app)
        for i in range(3):  # as the web does, sealed at commit by the application role
            with sessions() as s:
                audit.record(s, actor="user:ana", action="login", subject=str(i))
                s.commit()
        with app.connect() as conn:
            auto = conn.execution_options(isolation_level="AUTOCOMMIT")  # left unsealed: the seal job's
            audit.insert_entries(auto, [audit.entry(actor="inbox", action="mail.filed")])
        assert audit.seal(app) == 1
        result = CliRunner().invoke(main, ["audit", "verify", "--config", str(two_roles.config)])
        assert result.exit_code == 0 and "audit chain verified: 4 entries" in result.output, result.output

        refused = {
            "DELETE FROM audit_entries": "permission denied",
            "UPDATE audit_entries SET chain_hash = repeat('0', 64) WHERE chain_seq = 2": "append-only",
            "UPDATE audit_entries SET actor = 'mallory'": "permission denied",
            "TRUNCATE audit_entries": "permission denied",
            "ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_no_change": "must be owner",
            "DROP TRIGGER audit_entries_no_change ON audit_entries": "must be owner",
            "DELETE FROM alembic_version": "permission denied",
        }
        with app.connect() as conn:
            for statement, why in refused.items():
                with pytest.raises(sa.exc.DBAPIError, match=why), conn.begin_nested():
                    conn.exec_driver_sql(statement)
            # Other tables stay the application's to change.
            conn.exec_driver_sql("DELETE FROM job_runs")
            conn.rollback()

        # The owner can change a sealed entry (triggers off): the chain finds it.
        with owner.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_no_change")
            conn.exec_driver_sql("UPDATE audit_entries SET actor = 'user:mallory' WHERE chain_seq = 2")
            conn.exec_driver_sql("ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_no_change")
        result = CliRunner().invoke(main, ["audit", "verify", "--config", str(two_roles.config)])
        assert result.exit_code == 1
        assert "BROKEN at position 2" in result.output and "changed after it was sealed" in result.output
    finally:
        app.dispose()
        owner.dispose()


def test_init_refuses_an_owner_url_that_is_the_application_role(two_roles):
    two_roles.config.write_text(two_roles.config.read_text().replace(two_roles.app_url, two_roles.owner_url, 1))
    result = CliRunner().invoke(main, ["init", "--config", str(two_roles.config)])
    assert result.exit_code == 2
    assert "database.url: must name the application role" in result.output
