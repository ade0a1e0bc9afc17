"""The plan a database chooses for a statement, for tests that check an index serves a query (SQLite and PostgreSQL).

On PostgreSQL sequential scans are turned off for the reading: on a test's small tables a scan is cheaper, and what
such a test checks is that the index can serve, as it must at a million rows."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


def plan_of(engine: sa.Engine, statement: Any) -> str:
    """EXPLAIN (PostgreSQL) or EXPLAIN QUERY PLAN (SQLite) of ``statement`` with its values written in, as one text."""
    sql = str(statement.compile(engine, compile_kwargs={"literal_binds": True}))
    postgres = engine.dialect.name == "postgresql"
    with engine.connect() as conn:
        if postgres:
            conn.exec_driver_sql("SET enable_seqscan = off")
        explain = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
        return "\n".join(str(row[-1]) for row in conn.exec_driver_sql(explain + sql))
