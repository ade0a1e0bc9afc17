"""Intake's one look-up per batch (inbox/intake/known.py) reads the documents under the batch's numbers through the
number's index, on SQLite and PostgreSQL: never a scan of the table, nor of every document of a supplier (a million
documents would make each batch pay for them all)."""

from __future__ import annotations

import pytest

from inbox.intake.known import _NUMBERS

pytestmark = pytest.mark.integration


def test_the_numbers_are_read_through_the_number_index(engine) -> None:
    asked = _NUMBERS.params(numbers=["FE1", "FE2"], issuers=["900000001", "900000002"])
    statement = str(asked.compile(engine, compile_kwargs={"literal_binds": True}))
    postgres = engine.dialect.name == "postgresql"
    with engine.connect() as conn:
        if postgres:  # on so small a table a sequential scan is cheaper; what is checked is that the index can serve
            conn.exec_driver_sql("SET enable_seqscan = off")
        explain = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
        plan = "\n".join(str(row[-1]) for row in conn.exec_driver_sql(explain + statement))
    assert "ix_received_documents_number" in plan, plan
    assert "ix_received_documents_issuer" not in plan and "SCAN received_documents" not in plan, plan
