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
from radian.actions import Counterparty, Endorse, Register
from store.models import AlertKind, Direction, SubmissionState, TitleAlert, TitleState
from tests.integration.dian_fixtures import BUYER, BUYER_NIT, SELLER_NIT
from tests.integration.titles_fixtures import FACTOR_NAME, FACTOR_NIT, TitlesBed

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
