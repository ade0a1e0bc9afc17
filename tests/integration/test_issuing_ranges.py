"""issuing.ranges on SQLite and PostgreSQL: which range a document takes its number from, the refusals with their
field, the consecutive taken and given back with its transaction, and the warnings before a range stops numbering."""

from __future__ import annotations

import datetime as dt

import pytest

from dian.codes import Environment
from issuing import ranges
from issuing.ranges import RangeError, RangeKind
from store.models import NumberingRange

pytestmark = pytest.mark.integration

DAY = dt.date(2026, 6, 1)


def _range(db, prefix: str, start: int, end: int, *, valid_to: dt.date, next_number: int | None = None,
           kind: str = "invoice", active: bool = True, resolution: str = "18760000001") -> NumberingRange:  # fmt: skip
    row = NumberingRange(kind=kind, source="dian", environment=Environment.TESTING, prefix=prefix,
                         resolution_number=resolution, from_number=start, to_number=end,
                         valid_from=dt.date(2026, 1, 1), valid_to=valid_to, technical_key="k" * 40,
                         next_number=start if next_number is None else next_number, active=active)  # fmt: skip
    db.add(row)
    db.flush()
    return row


def test_the_valid_range_with_numbers_left_that_ends_first_is_chosen(db) -> None:
    later = _range(db, "FEB", 1, 100, valid_to=dt.date(2027, 1, 1))
    sooner = _range(db, "FEA", 1, 100, valid_to=dt.date(2026, 12, 1))
    _range(db, "FEC", 1, 100, valid_to=dt.date(2026, 7, 1), active=False)  # DIAN no longer lists it
    _range(db, "FED", 1, 100, valid_to=dt.date(2026, 5, 1))  # ended
    choose = lambda **kw: ranges.choose_range(db, RangeKind.INVOICE, Environment.TESTING, DAY, **kw)  # noqa: E731
    assert choose().id == sooner.id
    sooner.next_number = 101  # used up
    db.flush()
    assert choose().id == later.id
    assert choose(prefix="FEA", number=7).id == sooner.id  # a caller's number may still fill the used-up range
    with pytest.raises(RangeError) as refused:
        choose(prefix="FED")
    assert "no está vigente el 2026-06-01" in str(refused.value)
    with pytest.raises(RangeError) as refused:
        choose(number=500)
    assert refused.value.pointer == "/number"
    with pytest.raises(RangeError) as refused:
        ranges.choose_range(db, RangeKind.CONTINGENCY, Environment.TESTING, DAY)
    assert "buzon ranges sync" in str(refused.value)
    with pytest.raises(RangeError) as refused:
        ranges.choose_range(db, RangeKind.INVOICE, Environment.PRODUCTION, DAY)
    assert "no hay un rango" in str(refused.value)


def test_a_number_goes_back_with_its_transaction(db) -> None:
    row = _range(db, "FE", 10, 12, valid_to=dt.date(2027, 1, 1))
    db.commit()
    assert ranges.take_number(db, row.id) == 10
    db.rollback()  # the document failed
    assert ranges.take_number(db, row.id) == 10
    assert ranges.take_number(db, row.id) == 11
    assert ranges.take_number(db, row.id, requested=12) == 12  # the caller's number moves the next past it
    db.commit()
    with pytest.raises(RangeError, match="agotó"):
        ranges.take_number(db, row.id)
    db.refresh(row)
    assert row.next_number == 13


def test_warnings_before_a_range_stops_numbering(db) -> None:
    rows = [
        _range(db, "OK", 1, 100, valid_to=dt.date(2027, 1, 1), next_number=50),
        _range(db, "USED", 1, 100, valid_to=dt.date(2027, 1, 1), next_number=91),
        _range(db, "FULL", 1, 100, valid_to=dt.date(2027, 1, 1), next_number=101),
        _range(db, "SOON", 1, 100, valid_to=DAY + dt.timedelta(days=30)),
        _range(db, "GONE", 1, 100, valid_to=DAY - dt.timedelta(days=1)),
    ]
    found = {(w.prefix, w.kind): w.message for w in ranges.range_warnings(rows, DAY)}
    assert set(found) == {("USED", "used"), ("FULL", "exhausted"), ("SOON", "expiring"), ("GONE", "expired")}
    assert "lleva 90% usado (10 números disponibles)" in found["USED", "used"]
    assert "(en 30 días)" in found["SOON", "expiring"]
