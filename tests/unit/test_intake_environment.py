"""The check of a document's DIAN environment (inbox.intake.planning._environment) for every pair of the install's
environment and the document's, including a document that declares none."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from dian.codes import Environment
from dian.xades import Outcome
from inbox.intake.plan import Item
from inbox.intake.planning import _environment
from store.models import QuarantineReason

P, T = Environment.PRODUCTION, Environment.TESTING


def _item(declared: Environment | None) -> Item:
    report = SimpleNamespace(document=SimpleNamespace(environment=declared))
    return Item(kind="document", part="ad.xml", report=report)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("ours", "declared", "outcome", "reason"),
    [
        (P, T, Outcome.FAIL, QuarantineReason.NOT_VALIDATED),  # a supplier's test invoice reaches production
        (T, P, Outcome.WARN, None),  # a real invoice reaches an install in habilitación
        (P, P, None, None),
        (T, T, None, None),
        (P, None, None, None),  # no ProfileExecutionID: nothing declared to judge
        (None, T, None, None),  # DIAN's simulator: no check
    ],
)
def test_the_environment_check(ours, declared, outcome, reason) -> None:
    item = _item(declared)
    _environment(item, ours)
    assert [c.outcome for c in item.extra_checks if c.name == "dian.environment"] == ([outcome] if outcome else [])
    assert item.reason is reason
    if reason is not None:
        assert "ambiente de pruebas" in item.detail and "validez fiscal" in item.detail
