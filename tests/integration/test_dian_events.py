"""DIAN's event rules enforced by the simulator, through the client over HTTP: one rejection per rule (2.2)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from dian.calendar import BOGOTA, BusinessCalendar
from dian.codes import EventCode, PaymentMeans
from dian.radian.chain import read_status_events
from dian.soap import DianRejected
from dian.ubl import parse_document
from tests.integration.dian_fixtures import DianWorld, make_world

pytestmark = pytest.mark.integration

E = EventCode
MON_FRI = BusinessCalendar(saturday_is_business_day=False)


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[DianWorld]:
    w = make_world(tmp_path_factory.mktemp("dian-events"))
    try:
        yield w
    finally:
        w.stop()


def _day(offset_business_days: int, base: dt.date) -> dt.date:
    return MON_FRI.add_business_days(base, offset_business_days)


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=BOGOTA)


@pytest.fixture(scope="module")
def base() -> dt.date:
    # A business day five weeks back: every window below ends before today.
    return _day(1, dt.datetime.now(BOGOTA).date() - dt.timedelta(days=36))


def _setup(world: DianWorld, base: dt.date, *, payment=PaymentMeans.CREDIT, steps=(E.ACUSE_RECIBO, E.RECIBO_BIEN)):
    invoice = world.invoice(at=_at(base, 9), payment=payment)
    world.client(world.seller).send_bill_sync("fv.xml", invoice)
    buyer = world.client(world.buyer)
    times = {E.ACUSE_RECIBO: _at(base, 11), E.RECIBO_BIEN: _at(_day(1, base), 10)}
    for code in steps:
        assert buyer.send_event_update_status("ar.xml", world.event(code, invoice, at=times[code])).accepted
    return invoice, buyer


def _rejected(world: DianWorld, buyer, xml: bytes) -> DianRejected:
    with pytest.raises(DianRejected) as caught:
        buyer.send_event_update_status("ar.xml", xml)
    return caught.value


def test_the_commercial_cycle_within_the_window_is_registered(world: DianWorld, base: dt.date) -> None:
    invoice, buyer = _setup(world, base)
    answer = buyer.send_event_update_status("ar.xml", world.event(E.ACEPTACION_EXPRESA, invoice, at=_at(_day(3, base))))
    assert answer.accepted
    listing = read_status_events(buyer.get_status_event(parse_document(invoice).uuid).xml)
    codes = [entry.code.value for entry in listing]
    assert codes == ["030", "032", "033"]


@pytest.mark.parametrize(
    ("code", "offset", "sender", "rule"),
    [
        (E.ACEPTACION_EXPRESA, 5, "buyer", "DC24c"),  # 4 business days after the 032
        (E.RECLAMO, 5, "buyer", "DC24z"),
        (E.ACEPTACION_TACITA, 3, "seller", "DC24e"),  # only 2 business days after the 032
    ],
)
def test_business_day_windows(world: DianWorld, base: dt.date, code, offset, sender, rule) -> None:
    invoice, buyer = _setup(world, base)
    client = buyer if sender == "buyer" else world.client(world.seller)
    refused = _rejected(world, client, world.event(code, invoice, at=_at(_day(offset, base)), sender=sender))
    assert refused.status_code == "99" and [m.rule for m in refused.rejections] == [rule]


def test_tacit_acceptance_after_the_window_is_registered(world: DianWorld, base: dt.date) -> None:
    invoice, _ = _setup(world, base)
    seller = world.client(world.seller)
    xml = world.event(E.ACEPTACION_TACITA, invoice, at=_at(_day(6, base)), sender="seller")
    assert seller.send_event_update_status("ar.xml", xml).accepted


def test_cash_invoice_takes_no_acceptance_lgc62(world: DianWorld, base: dt.date) -> None:
    invoice, buyer = _setup(world, base, payment=PaymentMeans.CASH)
    refused = _rejected(world, buyer, world.event(E.ACEPTACION_EXPRESA, invoice, at=_at(_day(2, base))))
    assert [m.rule for m in refused.rejections] == ["LGC62"]


@pytest.mark.parametrize(
    ("steps", "code", "rule"),
    [
        ((), E.RECIBO_BIEN, "LGC09"),  # 032 without 030
        ((E.ACUSE_RECIBO,), E.ACEPTACION_EXPRESA, "LGC12"),  # 033 without 032
    ],
)
def test_order(world: DianWorld, base: dt.date, steps, code, rule) -> None:
    invoice, buyer = _setup(world, base, steps=steps)
    refused = _rejected(world, buyer, world.event(code, invoice, at=_at(_day(2, base))))
    assert [m.rule for m in refused.rejections] == [rule]


def test_acceptance_after_a_claim_is_lgc02(world: DianWorld, base: dt.date) -> None:
    invoice, buyer = _setup(world, base)
    assert buyer.send_event_update_status("ar.xml", world.event(E.RECLAMO, invoice, at=_at(_day(2, base))))
    refused = _rejected(world, buyer, world.event(E.ACEPTACION_EXPRESA, invoice, at=_at(_day(3, base))))
    assert [m.rule for m in refused.rejections] == ["LGC02"]


def test_claim_after_acceptance_is_refused(world: DianWorld, base: dt.date) -> None:
    invoice, buyer = _setup(world, base)
    assert buyer.send_event_update_status("ar.xml", world.event(E.ACEPTACION_EXPRESA, invoice, at=_at(_day(2, base))))
    refused = _rejected(world, buyer, world.event(E.RECLAMO, invoice, at=_at(_day(3, base))))
    # dian.rules names no DIAN code for a claim after an acceptance; the simulator marks its own (SIM50).
    assert [m.rule for m in refused.rejections] == ["SIM50"]
    assert "ya tiene registrado el evento 033" in refused.rejections[0].text


def test_only_the_seller_sends_034(world: DianWorld, base: dt.date) -> None:
    invoice, buyer = _setup(world, base)
    refused = _rejected(world, buyer, world.event(E.ACEPTACION_TACITA, invoice, at=_at(_day(6, base))))
    assert [m.rule for m in refused.rejections] == ["AAF01e"]


def test_an_event_signed_before_the_invoice_is_dc24a(world: DianWorld, base: dt.date) -> None:
    invoice, buyer = _setup(world, base, steps=())
    refused = _rejected(world, buyer, world.event(E.ACUSE_RECIBO, invoice, at=_at(base, 8)))
    assert [m.rule for m in refused.rejections] == ["DC24a"]


def test_a_future_signing_time_is_dc24(world: DianWorld, base: dt.date) -> None:
    invoice, buyer = _setup(world, base, steps=())
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    refused = _rejected(world, buyer, world.event(E.ACUSE_RECIBO, invoice, at=later))
    assert "DC24" in [m.rule for m in refused.rejections]


def test_a_second_acknowledgement_is_regla_90_with_the_stored_event(world: DianWorld, base: dt.date) -> None:
    invoice, buyer = _setup(world, base, steps=())
    first_xml = world.event(E.ACUSE_RECIBO, invoice, at=_at(base, 11))
    first = buyer.send_event_update_status("ar.xml", first_xml)
    again = _rejected(world, buyer, first_xml)  # the very same bytes
    other = _rejected(world, buyer, world.event(E.ACUSE_RECIBO, invoice, at=_at(base, 12)))  # a new 030
    for refused in (again, other):
        assert refused.already_registered
        assert refused.response.document_key == first.document_key
        assert refused.response.xml == first.xml


def test_an_event_on_an_unknown_invoice_is_refused(world: DianWorld, base: dt.date) -> None:
    invoice = world.invoice(at=_at(base, 9))  # never sent to DIAN
    refused = _rejected(world, world.client(world.buyer), world.event(E.ACUSE_RECIBO, invoice, at=_at(base, 11)))
    assert not refused.already_registered and refused.status_code == "99"
