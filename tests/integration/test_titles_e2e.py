"""Receivable titles end to end against the DIAN simulator over HTTP, on SQLite and PostgreSQL: one of our credit
invoices imported with DIAN's answer, accepted by the simulated buyer (030/032/033), registered in RADIAN (036),
reported for payment (046), endorsed to a factor (037, the price shown before signing), paid in total (045) — each
registered by DIAN — and the title row derived again from the registered events each time."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from dian.codes import EventCode, Operation
from radian.actions import Counterparty, Endorse, RecordPayment, Register, ReportForPayment
from store.models import AlertKind, PartyRole, TitleAlert, TitleState
from tests.integration.dian_fixtures import BUYER_NIT, SELLER_NIT
from tests.integration.titles_fixtures import FACTOR_NAME, FACTOR_NIT, TitlesBed

pytestmark = pytest.mark.integration

FACTOR = Counterparty(FACTOR_NIT, FACTOR_NAME)


def _hours_ago(hours: float) -> dt.datetime:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)).replace(microsecond=0)


def test_our_invoice_is_registered_reported_and_endorsed_to_a_factor(titles_bed: TitlesBed) -> None:
    bed = titles_bed
    title_id, _ = bed.imported_title(at=_hours_ago(3))
    title = bed.title(title_id)
    assert (title.state, title.holder_nit, title.debtor_nit) == (TitleState.UNREGISTERED, SELLER_NIT, BUYER_NIT)
    payable = title.value
    assert payable == Decimal("119000.00") == title.outstanding

    registered = bed.titles.act(title_id, Register(), actor="test:treasury", deliver=True)
    assert registered.allowed and registered.state == "registered", registered
    assert registered.operation is Operation.FIRST_REGISTRATION
    title = bed.title(title_id)
    assert (title.state, title.chain_length, title.chain_version) == (TitleState.REGISTERED, 1, 1)
    assert title.registered_at is not None

    reported = bed.titles.act(title_id, ReportForPayment(), actor="test:treasury", deliver=True)
    assert reported.allowed and reported.state == "registered", reported

    quote = bed.titles.quote(title_id, Decimal("2.5"))
    assert (quote.value, quote.price, quote.discount) == (payable, Decimal("116025.00"), Decimal("2975.00"))
    endorsed = bed.titles.act(title_id, Endorse(FACTOR, rate=Decimal("2.5")), actor="test:treasury", deliver=True)
    assert endorsed.allowed and endorsed.state == "registered", endorsed
    assert endorsed.quote == quote and endorsed.operation is Operation.ENDORSEMENT_WITH_RESPONSIBILITY
    row = bed.event(endorsed.event_id)
    assert (row.price, row.discount_rate, row.amount, row.list_id) == (quote.price, Decimal("2.5"), payable, "1")
    assert [(p.role, p.nit, p.amount) for p in row.parties] == [
        (PartyRole.SENDER, SELLER_NIT, payable), (PartyRole.RECEIVER, FACTOR_NIT, payable),
        (PartyRole.DEBTOR, BUYER_NIT, None),
    ]  # fmt: skip
    title = bed.title(title_id)
    assert (title.state, title.holder_nit, title.holder_name) == (TitleState.ENDORSED, FACTOR_NIT, FACTOR_NAME)
    assert (title.payee_nit, title.chain_length) == (FACTOR_NIT, 3)

    # DIAN holds what we hold: 030/032/033 by the buyer, then ours.
    assert bed.at_simulator(title.invoice_cufe) == [
        ("030", BUYER_NIT), ("032", BUYER_NIT), ("033", BUYER_NIT),
        ("036", SELLER_NIT), ("046", SELLER_NIT), ("037", SELLER_NIT),
    ]  # fmt: skip
    # We no longer hold it: paying it in is the factor's business now.
    refused = bed.titles.check(title_id, RecordPayment())
    assert not refused.allowed and "no es el tenedor legítimo" in refused.reason and FACTOR_NIT in refused.reason
    assert bed.count(TitleAlert) >= 2


def test_a_title_we_keep_is_paid_in_total(titles_bed: TitlesBed) -> None:
    bed = titles_bed
    title_id, _ = bed.imported_title(at=_hours_ago(3))
    assert bed.titles.act(title_id, Register(), actor="test:treasury", deliver=True).state == "registered"
    partial = bed.titles.act(title_id, RecordPayment(Decimal("19000.00")), actor="test:treasury", deliver=True)
    assert partial.state == "registered" and partial.operation is Operation.PARTIAL_PAYMENT, partial
    title = bed.title(title_id)
    assert (title.state, title.paid, title.outstanding) == (
        TitleState.PARTIALLY_PAID, Decimal("19000.00"), Decimal("100000.00"))  # fmt: skip
    total = bed.titles.act(title_id, RecordPayment(), actor="test:treasury", deliver=True)
    assert total.state == "registered" and total.operation is Operation.TOTAL_PAYMENT, total
    title = bed.title(title_id)
    assert (title.state, title.paid, title.outstanding) == (TitleState.PAID, Decimal("119000.00"), Decimal("0"))
    after = bed.titles.check(title_id, ReportForPayment())
    assert not after.allowed and "pago total" in after.reason, after
    assert EventCode.PAGO in {EventCode(c) for c, _ in bed.at_simulator(title.invoice_cufe)}
    with bed.sessions() as s:
        kinds = [a.kind for a in s.query(TitleAlert).filter_by(title_id=title_id).order_by(TitleAlert.id)]
    assert kinds == [AlertKind.REGISTERED, AlertKind.PARTIALLY_PAID, AlertKind.PAID]
