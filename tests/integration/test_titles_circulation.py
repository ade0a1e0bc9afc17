"""The receivable's whole circulation against the DIAN simulator over HTTP, on SQLite and PostgreSQL: one of our credit
invoices accepted by the simulated buyer (030/032/033), registered (036) and endorsed to a factor (037) by us; the
factor — now the holder — reports it for payment (046) and the buyer pays it in total (045), both played by the
simulator's counterparts. Buzón learns those two only through its receivables sync (GetStatusEvent, each event fetched
with GetXmlByDocumentKey and its signature proven) and the title ends paid, outstanding 0, its chain saying who did
what."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from dian.codes import EventCode, Operation
from radian.actions import Counterparty, Endorse, RecordPayment, Register
from store.models import AlertKind, Direction, SubmissionState, TitleAlert, TitleState
from tests.integration.dian_fixtures import BUYER, BUYER_NIT, SELLER, SELLER_NIT
from tests.integration.titles_fixtures import FACTOR_NAME, FACTOR_NIT, TitlesBed, verify_signatures

pytestmark = pytest.mark.integration


def _ago(hours: float) -> dt.datetime:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)).replace(microsecond=0)


def test_our_invoice_circulates_to_a_factor_who_is_paid_by_the_buyer(titles_bed: TitlesBed) -> None:
    bed = titles_bed
    title_id, _ = bed.imported_title(at=_ago(5))  # the buyer's 030/032/033, learned by sync
    # Our 036 and 037 signed two and three hours ago (the buyer accepted four hours ago).
    registered = bed.titles.act(title_id, Register(), actor="test:treasury", deliver=True, now=_ago(3))
    assert registered.state == "registered", registered
    endorsed = bed.titles.act(title_id, Endorse(Counterparty(FACTOR_NIT, FACTOR_NAME), rate=Decimal("2.5")),
                              actor="test:treasury", deliver=True, now=_ago(2))  # fmt: skip
    assert endorsed.state == "registered", endorsed
    title = bed.title(title_id)
    assert (title.state, title.holder_nit, title.outstanding) == (TitleState.ENDORSED, FACTOR_NIT, title.value)
    cufe = title.invoice_cufe

    # The factor reports it for payment; the debtor pays the factor in total. DIAN registers both; we are told nothing.
    report = bed.counterpart("report", cufe, at=_ago(1))
    assert report["registered"] and report["sender_nit"] == FACTOR_NIT and report["receiver_nit"] == BUYER_NIT, report
    paid = bed.counterpart("pay", cufe, at=_ago(0.5))
    assert paid["registered"] and paid["operation"] == "452" and paid["sender_nit"] == BUYER_NIT, paid
    assert bed.title(title_id).state is TitleState.ENDORSED  # nothing learned yet

    synced = bed.titles.sync(title_id, actor="test:treasury")
    assert synced.error is None, synced
    assert sorted(line.split()[0] for line in synced.observed) == ["045", "046"], synced
    assert synced.confirmed == []

    title = bed.title(title_id)
    assert (title.state, title.paid, title.outstanding) == (TitleState.PAID, Decimal("119000.00"), Decimal("0"))
    assert (title.holder_nit, title.payee_nit, title.chain_length) == (FACTOR_NIT, FACTOR_NIT, 4)

    # The chain says who did what, each event proven (the observed ones carry their signed XML and signing time).
    chain = [(e.code.value, e.operation.value if e.operation else None, e.sender_nit, e.receiver_nit, e.direction)
             for e in bed.titles.chain(title_id)]  # fmt: skip
    assert chain == [
        ("030", None, BUYER_NIT, SELLER_NIT, Direction.OBSERVED),
        ("032", None, BUYER_NIT, SELLER_NIT, Direction.OBSERVED),
        ("033", None, BUYER_NIT, SELLER_NIT, Direction.OBSERVED),
        ("036", "361", SELLER_NIT, "800197268", Direction.EMITTED),
        ("037", "371", SELLER_NIT, FACTOR_NIT, Direction.EMITTED),
        ("046", "046", FACTOR_NIT, BUYER_NIT, Direction.OBSERVED),
        ("045", "452", BUYER_NIT, "800197268", Direction.OBSERVED),
    ], chain
    observed = [e for e in bed.titles.chain(title_id) if e.code in (EventCode.INFORME_PAGO, EventCode.PAGO)]
    for event in observed:
        assert event.submission_state is SubmissionState.REGISTERED
        assert event.signed_xml_blob and event.signing_time is not None, event.code  # signature held
        assert event.cude in (report["cude"], paid["cude"])
    payment = observed[-1]
    assert (payment.operation, payment.amount, payment.sender_name) == (
        Operation.TOTAL_PAYMENT, Decimal("119000.00"), BUYER.registration_name)  # fmt: skip
    assert observed[0].sender_name == FACTOR_NAME  # the factor's name, read from its signed 046

    with bed.sessions() as s:
        kinds = [a.kind for a in s.query(TitleAlert).filter_by(title_id=title_id).order_by(TitleAlert.id)]
    assert kinds[-1] is AlertKind.PAID and AlertKind.HOLDER_CHANGED in kinds, kinds

    # A second sync finds nothing new and changes nothing.
    again = bed.titles.sync(title_id, actor="test:treasury")
    assert (again.observed, again.confirmed, again.error) == ([], [], None)
    assert bed.title(title_id).chain_version == title.chain_version


def test_a_title_endorsed_back_to_us_is_registered_again_and_paid(titles_bed: TitlesBed) -> None:
    """An endorsement in return: we register with a pre-agreed buyer (362) and endorse without responsibility (372);
    the factor registers it as its holder (363) and endorses it back to us, and once sync has learned it (we hold it
    again, not as its issuer) our registration is a later one (363). Again with responsibility (371), back, and a
    later registration with the pre-agreed buyer (364); the buyer's payment we then record in total (452). Every
    event we signed verifies."""
    bed = titles_bed
    factor = Counterparty(FACTOR_NIT, FACTOR_NAME)
    us = {"nit": SELLER_NIT, "name": SELLER.registration_name}
    title_id, _ = bed.imported_title(at=_ago(7))  # the buyer accepted six hours ago

    def act(action: object, hours: float) -> Operation:
        done = bed.titles.act(title_id, action, actor="test:treasury", deliver=True, now=_ago(hours))  # type: ignore[arg-type]
        assert done.state == "registered", (action, done)
        assert done.operation is not None
        return done.operation

    def back_to_us(hours: float) -> None:
        cufe = bed.title(title_id).invoice_cufe
        registered = bed.counterpart("register", cufe, at=_ago(hours + 0.1))  # the factor's own 363 first (LGC24)
        assert registered["registered"] and registered["operation"] == "363", registered
        returned = bed.counterpart("endorse", cufe, at=_ago(hours), to=us)
        assert returned["registered"] and returned["sender_nit"] == FACTOR_NIT, returned
        synced = bed.titles.sync(title_id, actor="test:treasury")
        assert synced.error is None and sorted(line.split()[0] for line in synced.observed) == ["036", "037"], synced
        assert bed.title(title_id).holder_nit == SELLER_NIT

    assert act(Register(direct_buyer=factor), 5) is Operation.FIRST_REGISTRATION_DIRECT
    assert (
        act(Endorse(factor, rate=Decimal("2"), with_responsibility=False), 4.5)
        is Operation.ENDORSEMENT_WITHOUT_RESPONSIBILITY
    )
    assert bed.title(title_id).holder_nit == FACTOR_NIT
    back_to_us(4)
    assert act(Register(), 3.5) is Operation.LATER_REGISTRATION
    assert act(Endorse(factor, rate=Decimal("2")), 3) is Operation.ENDORSEMENT_WITH_RESPONSIBILITY
    back_to_us(2.5)
    assert act(Register(direct_buyer=factor), 2) is Operation.LATER_REGISTRATION_DIRECT
    assert act(RecordPayment(), 1) is Operation.TOTAL_PAYMENT
    title = bed.title(title_id)
    assert (title.state, title.holder_nit, title.outstanding) == (TitleState.PAID, SELLER_NIT, Decimal("0"))
    verify_signatures(bed.runtime, bed.settings, bed.tmp_path / "firmados")
