"""Intake's one look-up per batch (inbox/intake/known.py) reads the documents under the batch's numbers through the
number's index, on SQLite and PostgreSQL: never a scan of the table, nor of every document of a supplier (a million
documents would make each batch pay for them all)."""

from __future__ import annotations

import pytest

from inbox.intake.known import _NUMBERS
from tests.integration.plans import plan_of

pytestmark = pytest.mark.integration


def test_the_numbers_are_read_through_the_number_index(engine) -> None:
    plan = plan_of(engine, _NUMBERS.params(numbers=["FE1", "FE2"], issuers=["900000001", "900000002"]))
    assert "ix_received_documents_number" in plan, plan
    assert "ix_received_documents_issuer" not in plan and "SCAN received_documents" not in plan, plan
