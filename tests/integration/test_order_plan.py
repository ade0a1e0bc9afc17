"""The inbox's order filter (web/query.py, the page, CSV and API alike) reads the documents citing the order through
the partial (order_reference, id) index, on SQLite and PostgreSQL, whatever the sort: at a million documents a walk
of the sort's index to find the one invoice citing an order would read them all."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dian.calendar import BusinessCalendar
from web.query import SORTS, InboxQuery, statement

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("sort", list(SORTS))
def test_the_order_filter_reads_the_order_index(engine, sort: str) -> None:
    query = InboxQuery(order="4500012345", sort=sort)
    stmt = statement(query, now=datetime.now(UTC), calendar=BusinessCalendar(), limit=51)
    sql = str(stmt.compile(engine, compile_kwargs={"literal_binds": True}))
    postgres = engine.dialect.name == "postgresql"
    with engine.connect() as conn:
        if postgres:  # on so small a table a sequential scan is cheaper; what is checked is that the index can serve
            conn.exec_driver_sql("SET enable_seqscan = off")
        explain = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
        plan = "\n".join(str(row[-1]) for row in conn.exec_driver_sql(explain + sql))
    assert "ix_received_documents_order_reference" in plan, plan
