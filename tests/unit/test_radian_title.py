"""radian.title.ValueTitle: the treasurer's view of a title derived only from its registered events, read back from
the XML Buzón builds (holder replay A.11, payments A.9, limitation A.7, mandates A.8, transfers A.10, state A.12)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from dian.calendar import BOGOTA
from dian.codes import Operation
from dian.radian.blocks import Payments
from dian.radian.build import build_radian_event
from dian.radian.model import RadianEvent, TitleReference
from dian.radian.parse import parse_radian_event
from radian.title import TitleState, ValueTitle
from tests.unit.radian_samples import (
    BUYER,
    DUE,
    FACTOR,
    SELLER,
    event_reference,
    own_software,
    sample,
    share,
)

OP = Operation


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BOGOTA)


def registered(operation: Operation, when: str, **changes: object) -> tuple[RadianEvent, datetime]:
    """Build the event, read it back as DIAN would hand it over (with its CUDE), signed at ``when``."""
    event = sample(operation, number=f"{operation.value}-{when[5:10]}", **changes)
    return parse_radian_event(build_radian_event(event, software=own_software(event))), at(when)


def ended(target: tuple[RadianEvent, datetime]) -> TitleReference:
    return event_reference(target[0].number, target[0].cude or "")


REGISTRATION = registered(OP.FIRST_REGISTRATION, "2025-03-21T10:00")


def test_a_title_endorsed_to_a_factor_and_paid() -> None:
    remaining = Decimal("600.00")
    chain = [
        registered(OP.PARTIAL_PAYMENT, "2025-05-02T10:00"),  # order does not matter: signing time does
        REGISTRATION,
        registered(OP.ENDORSEMENT_WITH_RESPONSIBILITY, "2025-03-25T10:00"),
        registered(OP.LATER_REGISTRATION, "2025-03-27T10:00"),
        registered(OP.PAYMENT_REPORT, "2025-05-20T10:00", sender=FACTOR),
    ]
    title = ValueTitle.of(chain)
    assert [holder.nit for holder in title.holders] == [FACTOR.nit]
    assert title.holder_since == at("2025-03-25T10:00")
    assert [payee.nit for payee in title.payee] == [FACTOR.nit]
    assert title.issuer.nit == SELLER.nit and title.debtor == BUYER
    assert (title.value, title.paid, title.outstanding) == (Decimal("1000.00"), Decimal("400.00"), remaining)
    assert title.state is TitleState.PARTIALLY_PAID and not title.closed
    assert title.due_date == DUE and title.invoice_number == "FE100"
    assert [link.operation.value for link in title.chain] == ["361", "371", "363", "451", "046"]

    total = registered(
        OP.TOTAL_PAYMENT,
        "2025-05-30T10:00",
        sender_shares=(share(BUYER, remaining),),
        block=Payments(remaining, Decimal("0.00")),
    )
    paid = ValueTitle.of([*chain, total])
    assert (paid.state, paid.paid, paid.outstanding, paid.closed) == (TitleState.PAID, Decimal("1000.00"), 0, True)
    assert paid.state.label == "Pagada"


def test_a_limitation_freezes_the_title_until_it_is_ended() -> None:
    limitation = registered(OP.LIMITATION_SEIZURE, "2025-04-01T10:00")
    frozen = ValueTitle.of([REGISTRATION, limitation])
    assert frozen.frozen and frozen.state is TitleState.LIMITED
    assert frozen.limited_amount() == Decimal("1000.00")
    lifted = ValueTitle.of(
        [REGISTRATION, limitation, registered(OP.LIMITATION_END_EARLY, "2025-04-05T10:00", reference=ended(limitation))]
    )
    assert not lifted.frozen and lifted.state is TitleState.REGISTERED and lifted.limited_amount() is None


def test_mandates_in_force_until_revoked() -> None:
    mandate = registered(OP.MANDATE_GENERAL_LIMITED_TIME, "2025-03-22T10:00")
    title = ValueTitle.of([REGISTRATION, mandate])
    assert title.mandate_to(FACTOR.nit) is not None and title.mandate_to(BUYER.nit) is None
    revoked = registered(OP.MANDATE_REVOKED, "2025-03-24T10:00", reference=ended(mandate))
    assert ValueTitle.of([REGISTRATION, mandate, revoked]).mandates == ()


def test_a_notified_transfer_of_economic_rights_moves_the_payee_not_the_holder() -> None:
    transfer = registered(OP.TRANSFER_TOTAL_WITH_RESPONSIBILITY, "2025-03-24T10:00")
    before = ValueTitle.of([REGISTRATION, transfer])
    assert [p.nit for p in before.payee] == [SELLER.nit] and before.state is TitleState.TRANSFERRED
    after = ValueTitle.of([REGISTRATION, transfer, registered(OP.TRANSFER_NOTICE, "2025-03-25T10:00")])
    assert [p.nit for p in after.payee] == [FACTOR.nit]
    assert [h.nit for h in after.holders] == [SELLER.nit]  # DIAN's holder table does not move on a 049 (A.11)


def test_a_cancelled_guarantee_endorsement_leaves_the_state() -> None:
    guarantee = registered(OP.GUARANTEE_ENDORSEMENT, "2025-03-24T10:00")
    assert ValueTitle.of([REGISTRATION, guarantee]).state is TitleState.ENDORSED
    cancel = registered(OP.CANCEL_GUARANTEE_ENDORSEMENT, "2025-03-26T10:00", reference=ended(guarantee))
    title = ValueTitle.of([REGISTRATION, guarantee, cancel])
    assert title.state is TitleState.REGISTERED
    assert [h.nit for h in title.holders] == [SELLER.nit]  # a 038 never moved the holder


def test_refusals() -> None:
    with pytest.raises(ValueError, match="at least one"):
        ValueTitle.of([])
    with pytest.raises(ValueError, match="pass the invoice issuer"):
        ValueTitle.of([registered(OP.MANDATE_GENERAL_LIMITED_TIME, "2025-03-22T10:00")])
    other = registered(OP.PAYMENT_REPORT, "2025-05-20T10:00", reference=TitleReference("FE200", "9" * 96))
    with pytest.raises(ValueError, match="about invoice FE200"):
        ValueTitle.of([REGISTRATION, other])
