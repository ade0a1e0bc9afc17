"""Small pure pieces of events/: request checks, backoff, the reminder's start in business hours, the notice text."""

from __future__ import annotations

import datetime as dt

import pytest

from dian.calendar import BOGOTA, BusinessCalendar
from dian.codes import ClaimReason, EventCode
from dian.ubl import Person
from events.clock import reminder_start
from events.context import Backoff
from events.emit import EventRefused, EventRequest, _check_request

ANA = Person(id="1020304050", first_name="Ana", family_name="Pérez")


@pytest.mark.parametrize(
    ("request_", "default", "message"),
    [
        (EventRequest(EventCode.ACEPTACION_TACITA), None, "no es del comprador"),
        (EventRequest(EventCode.INSCRIPCION_TITULO), None, "no es del comprador"),
        (EventRequest(EventCode.ACUSE_RECIBO), None, "identifica a la persona"),
        (EventRequest(EventCode.RECIBO_BIEN, person=Person(id=" ", first_name="A", family_name="B")), None,
         "número de documento"),
        (EventRequest(EventCode.ACEPTACION_EXPRESA, person=ANA), None, "no lleva la persona"),
        (EventRequest(EventCode.RECLAMO), None, "necesita el motivo"),
        (EventRequest(EventCode.ACUSE_RECIBO, note="hola"), ANA, "Solo el reclamo"),
    ],
)  # fmt: skip
def test_requests_a_clerk_cannot_send_are_refused_with_a_reason(request_, default, message) -> None:
    with pytest.raises(EventRefused) as refused:
        _check_request(request_, default)
    assert message in refused.value.reason


def test_the_default_person_signs_030_and_032_and_a_claim_carries_its_reason() -> None:
    assert _check_request(EventRequest(EventCode.ACUSE_RECIBO), ANA) is ANA
    mine = Person(id="79111222", first_name="Carlos", family_name="Rojas")
    assert _check_request(EventRequest(EventCode.RECIBO_BIEN, person=mine), ANA) is mine
    claim = EventRequest("031", claim_reason="02", note="Mercancía incompleta")
    assert claim.code is EventCode.RECLAMO and claim.claim_reason is ClaimReason("02")
    assert _check_request(claim, ANA) is None


def test_backoff_doubles_from_the_base_up_to_the_cap() -> None:
    backoff = Backoff(base_seconds=30, max_seconds=300)
    assert [backoff.delay(n).total_seconds() for n in (1, 2, 3, 4, 5, 6)] == [30, 60, 120, 240, 300, 300]


def test_reminders_count_only_hours_of_business_days() -> None:
    calendar = BusinessCalendar()
    # Window ends Monday 2026-03-09 at the end of the day: 8 business hours before is Monday 16:00.
    end = dt.datetime.combine(dt.date(2026, 3, 9), dt.time.max, tzinfo=BOGOTA)
    assert reminder_start(calendar, end, 8) == dt.datetime(2026, 3, 9, 16, 0, tzinfo=BOGOTA)
    # 30 business hours back skips the weekend: the previous business day, Friday, at 18:00.
    assert reminder_start(calendar, end, 30) == dt.datetime(2026, 3, 6, 18, 0, tzinfo=BOGOTA)
    # A holiday is skipped too: Tuesday 2026-03-24 ends a window; Monday 23 March 2026 is San José (a holiday).
    end = dt.datetime.combine(dt.date(2026, 3, 24), dt.time.max, tzinfo=BOGOTA)
    assert reminder_start(calendar, end, 30) == dt.datetime(2026, 3, 20, 18, 0, tzinfo=BOGOTA)
