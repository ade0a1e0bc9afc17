"""PostgreSQL's two roles: the owner that migrates and owns the tables, and the application role Buzón runs as.

`grant_app_role` (run by `buzon init` as the owner, after migrating, when ``database.owner_url`` is set) gives the
application role what the running code needs on every table of the schema, and on the audit log only SELECT and INSERT
plus UPDATE of the two chain columns — the trigger lets that update happen once, from NULL (migration 0014). Not being
the owner, the application role cannot ALTER TABLE (so neither DISABLE TRIGGER), TRUNCATE or DELETE the audit log.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

AUDIT_TABLE = "audit_entries"
_CHAIN_COLUMNS = "chain_seq, chain_hash"


def _quoted(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote_identifier(name)


def grant_app_role(conn: Connection, role: str) -> None:
    """Grant ``role`` the application's rights on the current schema's tables and sequences (PostgreSQL; nothing on
    SQLite, which has no roles). Running it again changes nothing; tables added by later migrations are covered."""
    if conn.dialect.name != "postgresql":
        return
    who = _quoted(conn, role)
    schema = _quoted(conn, conn.execute(sa.text("SELECT current_schema()")).scalar_one())
    for statement in (
        f"GRANT USAGE ON SCHEMA {schema} TO {who}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {who}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {who}",
        # The audit log: read and add, and the seal's one update of the chain columns (the trigger checks it).
        f"REVOKE ALL ON {AUDIT_TABLE} FROM {who}",
        f"GRANT SELECT, INSERT ON {AUDIT_TABLE} TO {who}",
        f"GRANT UPDATE ({_CHAIN_COLUMNS}) ON {AUDIT_TABLE} TO {who}",
        # The schema's version is the owner's to change.
        f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {who}",
    ):
        conn.execute(sa.text(statement))
