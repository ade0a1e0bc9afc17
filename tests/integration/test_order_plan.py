"""The inbox's order filter (web/query.py, the page, CSV and API alike) reads the documents citing the order through
the partial (order_reference, id) index, on SQLite and PostgreSQL, whatever the sort: at a million documents a walk
of the sort's index to find the one invoice citing an order would read them all."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dian.calendar import BusinessCalendar
from tests.integration.plans import plan_of
from web.query import SORTS, InboxQuery
from web.search import statement

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("sort", list(SORTS))
def test_the_order_filter_reads_the_order_index(engine, sort: str) -> None:
    query = InboxQuery(order="4500012345", sort=sort)
    plan = plan_of(engine, statement(query, now=datetime.now(UTC), calendar=BusinessCalendar(), limit=51))
    assert "ix_received_documents_order_reference" in plan, plan
