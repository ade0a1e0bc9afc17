"""The watch's pure parts: the rate limit shared by threads, the decision to settle, and payable lines."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from dian.soap.results import DocumentInfo, DocumentXml
from radian import watch
from radian.payables import export_csv, payable_line
from radian.watch import Due, Look, RateLimit, asking, settling
from store.models import AlertKind, DocumentState, TitleState, Verdict


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


# -- asking: the look fetches what settling will read; the threads share clients; answers come as they are done --


class _FakeDian:
    """GetStatusEvent lists ``listed`` for every CUFE; GetXmlByDocumentKey and GetDocumentInfo answer from tables."""

    def __init__(self, listed: tuple[str, ...], holder: str | None = "FACTOR S.A.S.", delay: dict | None = None):
        self.listed, self.holder, self.delay = listed, holder, delay or {}
        self.calls: list[tuple[str, str]] = []
        self.closed = 0

    def get_status_event(self, cufe: str):
        self.calls.append(("status", cufe))
        time.sleep(self.delay.get(cufe, 0))
        return SimpleNamespace(status_code="00", status_description="", xml=b"<listing/>")

    def get_xml_by_document_key(self, track_id: str) -> DocumentXml:
        self.calls.append(("xml", track_id))
        return DocumentXml("100", "Accion completada OK.", None, f"<event>{track_id}</event>".encode())

    def get_document_info(self, cufe: str) -> DocumentInfo:
        self.calls.append(("info", cufe))
        return DocumentInfo("00", "Proceso exitoso", True, uuid=cufe, holder_name=self.holder)

    def close(self) -> None:
        self.closed += 1


def _listing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(asking, "read_status_events", lambda xml: [SimpleNamespace(cude=c) for c in ("A1", "B2")])


def test_a_look_with_something_new_fetches_the_new_events_xml_and_documentinfo_each_call_paced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _listing(monkeypatch)
    dian = _FakeDian(("A1", "B2"))
    waits: list[int] = []
    rate = SimpleNamespace(wait=lambda: waits.append(1))
    found = watch.look(dian, Due(1, 1, "c" * 96, frozenset({"a1"})), rate=rate)  # type: ignore[arg-type]
    assert found.listed == {"a1", "b2"} and found.new == {"b2"} and found.changed
    assert list(found.fetched) == ["b2"] and found.fetched["b2"].found
    assert found.info is not None and found.info.holder_name == "FACTOR S.A.S."
    assert dian.calls == [("status", "c" * 96), ("xml", "b2"), ("info", "c" * 96)] and len(waits) == 2
    # Nothing new: one call, nothing fetched.
    dian.calls.clear()
    quiet = watch.look(dian, Due(1, 1, "c" * 96, frozenset({"a1", "b2"})), rate=rate)  # type: ignore[arg-type]
    assert not quiet.changed and dian.calls == [("status", "c" * 96)] and quiet.info is None
    # Settling reads the fetched XML once, then asks DIAN (a second read is a new call).
    answered = settling._Answered(dian, "c" * 96, found.response, found.fetched)  # type: ignore[arg-type]
    dian.calls.clear()
    assert answered.get_xml_by_document_key("B2").xml == b"<event>b2</event>" and dian.calls == []
    answered.get_xml_by_document_key("B2")
    assert dian.calls == [("xml", "B2")]


def test_the_threads_share_one_client_per_pool_and_each_answer_comes_as_soon_as_it_is_done(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _listing(monkeypatch)
    dian = _FakeDian(("A1", "B2"), delay={"slow" + "0" * 92: 0.3})
    made: list[_FakeDian] = []

    def factory() -> _FakeDian:
        made.append(dian)
        return dian

    dues = [Due(i, i, ("slow" + "0" * 92) if i == 0 else f"{i:096d}", frozenset({"a1", "b2"})) for i in range(8)]
    looks = list(watch.ask_each(dues, factory, rate=RateLimit(1000.0), concurrency=4))
    assert sorted(item.due.title_id for item in looks) == list(range(8))
    assert looks[-1].due.title_id == 0  # the slow answer last, not holding the others back
    assert len(made) == 1 and dian.closed == 1  # four threads, one client (its pool keeps 16 connections)
    made.clear()
    list(watch.ask_each(dues, factory, rate=RateLimit(1000.0), concurrency=watch.THREADS_PER_CLIENT + 1))
    assert len(made) == 2


def _row(**over: Any) -> SimpleNamespace:
    holders = [{"nit": "901777888", "name": "FACTOR S.A.S.", "amount": None}]
    base = dict(invoice_cufe="c" * 96, invoice_number="FE1", chain_etag="e" * 64, holder_nit="901777888",
                holder_name="FACTOR S.A.S.", holders=holders)  # fmt: skip
    return SimpleNamespace(**{**base, **over})


def test_documentinfo_naming_another_holder_raises_an_alert_and_never_a_payee() -> None:
    def info(name: str | None, number: str | None = None) -> DocumentInfo:
        return DocumentInfo("00", "Proceso exitoso", True, holder_name=name, holder_number=number)

    row = _row()
    assert watch.holder_disputed(info("Factor SAS"), row) is None  # the same name, written otherwise
    assert watch.holder_disputed(info(None), row) is None and watch.holder_disputed(None, row) is None
    draft = watch.holder_disputed(info("PROVEEDOR DE PRUEBA S.A.S."), row)
    assert draft is not None and draft.kind is AlertKind.HOLDER_DISPUTED
    assert draft.dedupe_key.startswith(f"holder_disputed:{'c' * 96}:")
    assert "PROVEEDOR DE PRUEBA" in draft.message and "sin firma" in draft.message and "901777888" in draft.message
    assert (draft.from_nit, draft.to_nit, draft.to_name) == ("901777888", None, "PROVEEDOR DE PRUEBA S.A.S.")
    # Co-holders: DIAN joins their names with "; "; the same set agrees, a missing one does not.
    both = _row(holders=[{"nit": "1", "name": "UNO S.A.S."}, {"nit": "2", "name": "DOS S.A.S."}])
    assert watch.holder_disputed(info("DOS S.A.S.; UNO S.A.S."), both) is None
    assert watch.holder_disputed(info("UNO S.A.S."), both) is not None
    # The same disagreement is one alert; another name is another.
    assert draft.dedupe_key == watch.holder_disputed(info("PROVEEDOR DE PRUEBA S.A.S."), row).dedupe_key  # type: ignore[union-attr]
    assert draft.dedupe_key != watch.holder_disputed(info("OTRO"), row).dedupe_key  # type: ignore[union-attr]


def test_closing_the_asks_early_cancels_those_not_started_and_closes_the_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _listing(monkeypatch)
    dues = [Due(i, i, f"{i:096d}", frozenset({"a1", "b2"})) for i in range(50)]
    dian = _FakeDian(("A1", "B2"), delay={due.cufe: 0.02 for due in dues})
    looks = watch.ask_each(dues, lambda: dian, rate=RateLimit(1000.0), concurrency=2)
    next(looks)
    looks.close()  # what the sweep does when settling fails
    asked = len([call for call in dian.calls if call[0] == "status"])
    assert asked < 10 and dian.closed == 1
    time.sleep(0.1)
    assert len([call for call in dian.calls if call[0] == "status"]) == asked  # nobody asks afterwards
