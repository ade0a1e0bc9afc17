"""The watch's pure parts: the rate limit shared by threads, the decision to settle, and payable lines."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

from radian.payables import export_csv, payable_line
from radian.watch import Due, Look, RateLimit
from store.models import DocumentState, TitleState, Verdict


def test_the_rate_limit_spaces_calls_by_one_slot_without_bursts() -> None:
    clock = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(round(seconds, 6))
        clock[0] += seconds

    limit = RateLimit(4.0, clock=lambda: clock[0], sleep=sleep)
    for _ in range(5):
        limit.wait()
    assert slept == [0.25, 0.25, 0.25, 0.25]  # the first call goes at once, each next one a quarter second on
    assert clock[0] == 1.0


def test_settle_only_when_dian_lists_something_new_or_an_event_waits_to_be_proven() -> None:
    due = Due(1, 1, "c" * 96, frozenset({"a", "b"}))
    response = SimpleNamespace(status_code="00")
    assert not Look(due, "00", frozenset({"a", "b"}), response).changed
    assert Look(due, "00", frozenset({"a", "b", "z"}), response).new == {"z"}
    assert Look(due, "00", frozenset({"a", "b", "z"}), response).changed
    assert not Look(due, None, frozenset({"z"}), None, error="timeout").changed
    recheck = Due(1, 1, "c" * 96, frozenset({"a"}), recheck=True)
    assert Look(recheck, "00", frozenset({"a"}), response).changed


def _doc(**over):
    base = dict(id=7, cufe="c" * 96, number="FE1", issuer_nit="900123456", issuer_name="Proveedor",
                payable_amount=Decimal("119000.00"), currency="COP", due_date=date(2027, 1, 5),
                verdict=Verdict.VALID, state=DocumentState.ACCEPTED)  # fmt: skip
    return SimpleNamespace(**{**base, **over})


def _title(**over):
    base = dict(payee_nit="901777888", payee_name="Factor", outstanding=Decimal("119000.00"), currency="COP",
                due_date=date(2027, 1, 5), state=TitleState.ENDORSED, limited=False, watch_status="00")  # fmt: skip
    return SimpleNamespace(**{**base, **over})


def test_a_line_pays_the_holder_and_refuses_a_freeze_an_unproven_event_or_another_payee() -> None:
    plain = payable_line(_doc(), None)
    assert (plain.payee_nit, plain.payable, plain.title_state) == ("900123456", True, "unregistered")
    endorsed = payable_line(_doc(), _title())
    assert (endorsed.payee_nit, endorsed.payee_is_supplier, endorsed.payable) == ("901777888", False, True)
    assert "041" in (payable_line(_doc(), _title(limited=True, state=TitleState.LIMITED)).refused or "")
    assert "verificar" in (payable_line(_doc(), _title(watch_status="unproven")).refused or "")
    assert "sin confirmar" in (payable_line(_doc(verdict=Verdict.UNCONFIRMED), None).refused or "")
    wrong = payable_line(_doc(), _title(), pay_to="900123456")
    assert not wrong.payable and "901777888" in (wrong.refused or "") and "tenedor legítimo" in (wrong.refused or "")
    assert payable_line(_doc(), _title(), pay_to="901777888").payable


def test_the_bank_file_holds_payable_lines_only_and_the_refused_ones_apart_with_their_reason() -> None:
    ok = payable_line(_doc(issuer_name="=HYPERLINK(1)"), _title())
    frozen = payable_line(_doc(id=8, cufe="d" * 96), _title(limited=True))
    export = export_csv([ok, frozen], excel=True)
    assert export.counts == {"payable": 1, "refused": 1}
    assert export.payable.startswith("\ufeffcufe;") and "119000,00" in export.payable and "05/01/2027" in export.payable
    assert "'=HYPERLINK(1)" in export.payable and "d" * 96 not in export.payable
    assert "d" * 96 in export.refused and "041" in export.refused
    plain = export_csv([ok])
    assert plain.payable.startswith("cufe,") and "119000.00" in plain.payable and "2027-01-05" in plain.payable
