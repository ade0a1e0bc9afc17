"""Mandates (043/044), protest (048) and the transfer of economic rights (049/050) on one of our receivables, signed by
Buzón and registered by the DIAN simulator over HTTP, on SQLite and PostgreSQL: the title row (and DIAN's replay) is
derived right after each — the mandate listed then gone, the title protested, the payee the assignee once the debtor
is notified — and each action DIAN's rules forbid is refused with its sentence, nothing numbered."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from dian.codes import MandatarioType, Operation
from radian.actions import (
    Counterparty,
    EndMandate,
    Endorse,
    GrantMandate,
    NotifyTransfer,
    Protest_,
    Register,
    TransferRights,
)
from radian.service import Outcome
from store.models import AlertKind, DocumentEvent, TitleAlert, TitleState
from tests.integration.dian_fixtures import BUYER_NIT, SELLER_NIT
from tests.integration.titles_fixtures import FACTOR_NAME, FACTOR_NIT, TitlesBed, verify_signatures

pytestmark = pytest.mark.integration

FACTOR = Counterparty(FACTOR_NIT, FACTOR_NAME)
ASSIGNEE = Counterparty("901555444", "CESIONARIA DE CARTERA S.A.S.")
PDF = b"%PDF-1.4\n% acta de protesto\n"


def _ago(**delta: float) -> dt.datetime:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(**delta)).replace(microsecond=0)


def _done(bed: TitlesBed, title_id: int, action: object) -> Outcome:
    done = bed.titles.act(title_id, action, actor="test:treasury", deliver=True)  # type: ignore[arg-type]
    assert done.allowed and done.state == "registered", (action, done)
    return done


def _refused(bed: TitlesBed, title_id: int, action: object, rule: str | None, words: str) -> None:
    before = bed.count(DocumentEvent)
    refused = bed.titles.act(title_id, action, actor="test:treasury", deliver=True)  # type: ignore[arg-type]
    assert not refused.allowed and words in refused.reason, (action, refused)
    if rule is not None:
        assert refused.rule == rule, refused
    assert bed.count(DocumentEvent) == before  # nothing numbered, signed or queued


def test_a_mandate_is_granted_listed_and_revoked(titles_bed: TitlesBed) -> None:
    bed = titles_bed
    title_id, _ = bed.imported_title(at=_ago(hours=3))
    _done(bed, title_id, Register())
    _refused(bed, title_id, EndMandate("a" * 96), "LGC41", "primero debe estar registrado el evento 043")
    until = dt.date.today() + dt.timedelta(days=60)
    granted = _done(bed, title_id, GrantMandate(FACTOR, MandatarioType.FACTOR, end_date=until))
    assert granted.operation is Operation.MANDATE_GENERAL_LIMITED_TIME
    row = bed.event(granted.event_id)
    assert [(p.role.value, p.nit) for p in row.parties] == [("mandatario", FACTOR_NIT)]
    mandates = bed.titles.derived(title_id).mandates
    assert [(m.event.cude, m.event.mandate.mandatario_nit) for m in mandates] == [(granted.cude, FACTOR_NIT)]
    assert bed.title(title_id).chain_length == 2

    revoked = _done(bed, title_id, EndMandate(granted.cude))
    assert revoked.operation is Operation.MANDATE_REVOKED
    assert bed.event(revoked.event_id).reference_cude == granted.cude
    assert bed.titles.derived(title_id).mandates == ()
    title = bed.title(title_id)
    assert (title.state, title.holder_nit, title.chain_length) == (TitleState.REGISTERED, SELLER_NIT, 3)
    # A mandate ended once is not ended again.
    _refused(bed, title_id, EndMandate(granted.cude), None, "ya fue terminado")
    assert [c for c, _ in bed.at_simulator(title.invoice_cufe)][-2:] == ["043", "044"]
    verify_signatures(bed.runtime, bed.settings, bed.tmp_path / "firmados")


def test_a_title_is_protested_and_then_circulates_no_more(titles_bed: TitlesBed) -> None:
    bed = titles_bed
    title_id, _ = bed.imported_title(at=_ago(hours=3))
    _refused(bed, title_id, Protest_(PDF, non_payment=False), "LGC73", "036")  # not registered yet
    _done(bed, title_id, Register())
    _refused(bed, title_id, Protest_(b"no es un pdf", non_payment=False), None, "PDF")
    protested = _done(bed, title_id, Protest_(PDF, non_payment=False))
    assert protested.operation is Operation.PROTEST_NON_ACCEPTANCE
    row = bed.event(protested.event_id)
    assert (row.receiver_nit, row.amount) == (BUYER_NIT, Decimal("119000.00"))
    title = bed.title(title_id)
    assert (title.state, title.holder_nit, title.payee_nit) == (TitleState.PROTESTED, SELLER_NIT, SELLER_NIT)
    with bed.sessions() as s:
        assert s.query(TitleAlert).filter_by(title_id=title_id, kind=AlertKind.PROTESTED).count() == 1
    # No transfer of a protested title.
    _refused(bed, title_id, TransferRights(ASSIGNEE), "LGC80", "ya tiene registrado el evento 048")
    assert [c for c, _ in bed.at_simulator(title.invoice_cufe)][-1] == "048"
    verify_signatures(bed.runtime, bed.settings, bed.tmp_path / "firmados")


def test_economic_rights_are_transferred_and_the_debtor_then_pays_the_assignee(titles_bed: TitlesBed) -> None:
    bed = titles_bed
    title_id, _ = bed.imported_title(at=_ago(hours=3))
    _refused(bed, title_id, NotifyTransfer(), "LGC83", "049")  # nothing transferred yet
    _done(bed, title_id, Register())
    transferred = _done(bed, title_id, TransferRights(ASSIGNEE, rate=Decimal("4")))
    assert transferred.operation is Operation.TRANSFER_TOTAL_WITH_RESPONSIBILITY
    row = bed.event(transferred.event_id)
    assert (row.amount, row.price, row.discount_rate) == (Decimal("119000.00"), Decimal("114240.00"), Decimal("4"))
    title = bed.title(title_id)
    # Transferred, but until the debtor is notified it still pays the holder (us).
    assert (title.state, title.holder_nit, title.payee_nit) == (TitleState.TRANSFERRED, SELLER_NIT, SELLER_NIT)
    # Transferred once.
    _refused(bed, title_id, TransferRights(ASSIGNEE, rate=Decimal("4")), "LGC82", "049 (Transferencia")
    # No endorsement after a transfer.
    _refused(bed, title_id, Endorse(FACTOR, rate=Decimal("2")), "LGC25", "ya tiene registrado el evento 049")

    notified = _done(bed, title_id, NotifyTransfer())
    assert notified.operation is Operation.TRANSFER_NOTICE and bed.event(notified.event_id).receiver_nit == BUYER_NIT
    title = bed.title(title_id)
    assert (title.payee_nit, title.payee_name) == (ASSIGNEE.nit, ASSIGNEE.name)
    assert (title.holder_nit, title.state) == (SELLER_NIT, TitleState.TRANSFERRED)  # DIAN's holder does not move
    assert [c for c, _ in bed.at_simulator(title.invoice_cufe)][-3:] == ["036", "049", "050"]
    verify_signatures(bed.runtime, bed.settings, bed.tmp_path / "firmados")


def test_a_protest_for_non_payment_after_the_due_date(titles_bed: TitlesBed) -> None:
    bed = titles_bed
    title_id, _ = bed.imported_title(at=_ago(days=33))  # due three days ago
    _done(bed, title_id, Register())
    protested = _done(bed, title_id, Protest_(PDF, non_payment=True))
    assert protested.operation is Operation.PROTEST_NON_PAYMENT
    assert bed.title(title_id).state is TitleState.PROTESTED
    _refused(bed, title_id, Protest_(PDF, non_payment=False), "LGC75", "antes del vencimiento")
    verify_signatures(bed.runtime, bed.settings, bed.tmp_path / "firmados")


def test_partial_and_without_responsibility_transfers(titles_bed: TitlesBed) -> None:
    """049's other variants, one title each (a title is transferred once): partial with responsibility (491), partial
    without (493), total without (494); the amount transferred and the price at the rate are the ones signed."""
    bed = titles_bed
    half = Decimal("59500.00")
    cases = (
        (TransferRights(ASSIGNEE, rate=Decimal("3"), amount=half), Operation.TRANSFER_PARTIAL_WITH_RESPONSIBILITY,
         half, Decimal("57715.00")),
        (TransferRights(ASSIGNEE, amount=half, with_responsibility=False),
         Operation.TRANSFER_PARTIAL_WITHOUT_RESPONSIBILITY, half, half),
        (TransferRights(ASSIGNEE, rate=Decimal("1"), with_responsibility=False),
         Operation.TRANSFER_TOTAL_WITHOUT_RESPONSIBILITY, Decimal("119000.00"), Decimal("117810.00")),
    )  # fmt: skip
    for action, operation, amount, price in cases:
        title_id, _ = bed.imported_title(at=_ago(hours=3))
        _done(bed, title_id, Register())
        transferred = _done(bed, title_id, action)
        assert transferred.operation is operation
        row = bed.event(transferred.event_id)
        assert (row.amount, row.price) == (amount, price), operation
        assert bed.title(title_id).state is TitleState.TRANSFERRED
    verify_signatures(bed.runtime, bed.settings, bed.tmp_path / "firmados")
