"""The documento soporte through the service against the simulator over HTTP, on SQLite and PostgreSQL: a resident DS
validated with the DS range, a 95 annulment validated, a second 95 above the DS refused by Buzón before it spends a
number, and the simulator's own refusal of a 05 outside its range."""

from __future__ import annotations

import pytest

from dian.codes import DocumentType
from issuing.problems import PayloadError
from store.models import OutboundState
from tests.integration.support_fixtures import (  # noqa: F401 - fixtures
    DS_RANGE,
    adjustment_data,
    issue_support,
    issuing_bed,
    support_bed,
    support_data,
)

pytestmark = pytest.mark.integration


def test_ds_and_its_annulment_are_validated(support_bed):
    ds = issue_support(support_bed, support_data(), deliver=True)
    assert ds.state is OutboundState.ACCEPTED, ds.dian_messages
    assert ds.document_type is DocumentType.SUPPORT_DOCUMENT and ds.number == "DS1"
    row = support_bed.row(ds.id)
    assert row.buyer_nit == "79123456" and row.withholding_amount == 12750
    note = issue_support(support_bed, adjustment_data(ds), deliver=True)
    assert note.state is OutboundState.ACCEPTED, note.dian_messages
    assert note.number == "NDS1" and support_bed.row(note.id).reference_id == ds.id
    with pytest.raises(PayloadError) as refused:
        issue_support(support_bed, adjustment_data(ds, concept="3"), deliver=True)
    assert "más que el documento soporte" in str(refused.value.problems[0])


def test_simulator_refuses_a_ds_number_outside_its_range(support_bed):
    # DIAN's authorization was cut to DS1-DS5 after Buzón read it: Buzón numbers DS999, the simulator refuses it.
    support_bed.seed({"numbering": [{**DS_RANGE, "to": 5}]})
    ds = issue_support(support_bed, {**support_data(), "number": 999}, deliver=True)
    assert ds.state is OutboundState.REJECTED
    assert any("DSAB11b" in m or "fuera del rango" in m for m in ds.dian_messages), ds.dian_messages
