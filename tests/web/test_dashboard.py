"""The dashboard ("Resumen") on SQLite and PostgreSQL: its aggregates against rows written here, its links against
what the inbox itself lists for them, the business-day language against the real calendar, who may see it, and where
clerks and treasury land after signing in."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest

from dian.calendar import BOGOTA, BusinessCalendar
from dian.codes import DocumentState, EventCode
from store.models import Direction, DocumentEvent, MailMessage, MailStatus, Role, SubmissionState, Verdict
from tests.web.conftest import add_user, log_in
from tests.web.test_inbox_page import add_document
from web.dashboard import due_phrase, overview

pytestmark = pytest.mark.integration

CALENDAR = BusinessCalendar()


def window_end(now: datetime, days: int) -> datetime:
    """A window ending ``days`` business days after today (0: today), at the end of that day in Bogotá."""
    today = now.astimezone(BOGOTA).date()
    return datetime.combine(CALENDAR.add_business_days(today, days), time.max, tzinfo=BOGOTA)


@pytest.fixture
def world(app_and_db):
    """Open windows ending today (two), in 1, 3 and 7 business days, one lapsed, an unconfirmed and an invalid
    document, a quarantined mail, and our 030 rejected by DIAN on one document and redone on another."""
    _, session = app_and_db
    now = datetime.now(UTC)
    gr = DocumentState.GOODS_RECEIVED

    def doc(n: int, nit: str, amount: str, **kw):
        return add_document(session, n, issuer_nit=nit, issuer_name=f"Proveedor {nit}", payable_amount=Decimal(amount),
                            **kw)  # fmt: skip

    doc(1, "800000001", "100.00", state=gr, window_ends_at=window_end(now, 0))
    doc(2, "800000001", "200.00", state=gr, window_ends_at=window_end(now, 0))
    doc(3, "800000002", "300.00", state=gr, window_ends_at=window_end(now, 1))
    doc(4, "800000002", "400.00", state=gr, window_ends_at=window_end(now, 3))
    doc(5, "800000003", "500.00", state=gr, window_ends_at=window_end(now, 7))
    doc(6, "800000003", "600.00", state=gr, window_ends_at=now - timedelta(days=1))  # lapsed, not swept yet
    doc(7, "800000003", "7000.00", state=DocumentState.UNCONFIRMED, verdict=Verdict.UNCONFIRMED)
    doc(8, "800000004", "8000000.00", state=DocumentState.INVALID, verdict=Verdict.INVALID)
    usd = doc(9, "800000004", "9.00", state=DocumentState.VALIDATED, currency="USD")
    rejected = doc(10, "800000001", "1000.00", state=DocumentState.VALIDATED)
    redone = doc(11, "800000001", "1100.00", state=DocumentState.ACKNOWLEDGED)

    def event(document, state, n):
        session.add(DocumentEvent(document_id=document.id, code=EventCode.ACUSE_RECIBO, direction=Direction.EMITTED,
                                  number=f"EV{n}", submission_state=state, actor="test",
                                  dian_messages=["Regla: AAH07, Rechazo: nombre de la persona vacío"]))  # fmt: skip

    event(rejected, SubmissionState.REJECTED, 1)
    event(redone, SubmissionState.REJECTED, 2)
    event(redone, SubmissionState.REGISTERED, 3)  # sent again and registered: no longer a rejection to act on
    event(usd, SubmissionState.SEND_FAILED, 4)  # queued: DIAN did not answer
    session.add(MailMessage(mailbox="INBOX", sender="x@y.co", subject="basura", received_at=now, blob_key="c" * 64,
                            status=MailStatus.QUARANTINED))  # fmt: skip
    session.flush()
    return now


def test_the_figures_are_the_aggregates_of_the_rows(app_and_db, world):
    _, session = app_and_db
    o = overview(session, world, CALENDAR)
    assert (o.due_today, o.due_tomorrow, o.due_week) == (2, 3, 4)
    assert [(d.due, d.count, d.amount) for d in o.due] == [
        (0, 2, Decimal("300.00")), (1, 1, Decimal("300.00")), (3, 1, Decimal("400.00")), (7, 1, Decimal("500.00"))
    ]  # fmt: skip
    assert (o.due[0].phrase, o.due[2].phrase) == ("hoy", "en 3 días hábiles")
    assert o.lapsed == 1
    assert o.rejected_count == 1 and [r.number for r in o.rejected] == ["FE10"]
    assert "AAH07" in o.rejected[0].message
    assert o.pending_events == 1
    assert (o.unconfirmed, o.invalid, o.quarantined) == (1, 1, 1)
    by_state = {f.args["status"]: (f.count, f.amount) for f in o.by_state}
    assert by_state["goods_received"] == (6, Decimal("2100.00"))
    assert by_state["validated"] == (2, Decimal("1000.00"))  # the USD invoice is counted, not added to pesos
    assert o.other_currencies == 1
    assert [f.args["supplier"] for f in o.suppliers][:2] == ["800000004", "800000003"]
    assert o.suppliers[0].share == 1.0 and 0 < o.suppliers[1].share < 0.01


def inbox_numbers(client, url: str) -> list[str]:
    page = client.get(url.replace("&amp;", "&")).get_data(as_text=True)
    return sorted(set(re.findall(r"\b(FE\d+)\b", page)))


@pytest.mark.parametrize("role", [Role.CLERK, Role.TREASURY])
def test_each_figure_links_to_the_inbox_listing_exactly_those(world, client_as, role):
    client = client_as(role)
    response = client.get("/resumen")
    assert response.status_code == 200
    page = response.get_data(as_text=True)

    def card(ident: str) -> tuple[str, int]:
        match = re.search(rf'id="{ident}" href="([^"]+)">\s*<span class="figure">(\d+)</span>', page)
        assert match, ident
        return match.group(1), int(match.group(2))

    for ident in ("cifra-hoy", "cifra-manana", "cifra-semana", "cifra-sin-confirmar"):
        url, figure = card(ident)
        assert url.startswith("/?")
        assert len(inbox_numbers(client, url)) == figure, ident
    assert inbox_numbers(client, card("cifra-hoy")[0]) == ["FE1", "FE2"]
    assert inbox_numbers(client, card("cifra-sin-confirmar")[0]) == ["FE7"]
    assert card("cifra-cuarentena") == ("/cuarentena", 1)
    assert card("cifra-rechazados")[1] == 1 and 'href="/documentos/' in page
    # The amounts by state and by supplier link to the inbox filtered to them.
    assert 'href="/?status=invalid"' in page and 'href="/?supplier=800000004"' in page
    assert inbox_numbers(client, "/?supplier=800000004") == ["FE8", "FE9"]
    assert "$ 8.000.000,00" in page
    assert 'lang="es-CO"' in page and page.count("<h1") == 1


def test_the_day_bars_speak_business_days(app_and_db, world, client_as):
    page = client_as(Role.AUDITOR).get("/resumen").get_data(as_text=True)
    assert "Hoy <small>" in page and "En 3 días hábiles <small>" in page
    assert 'href="/?due=3&amp;sort=window"' in page


def at_noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=BOGOTA)


def test_due_phrase_counts_business_days_with_holidays():
    thursday, friday, monday = date(2026, 3, 5), date(2026, 3, 6), date(2026, 3, 9)

    def phrase(today: date, last: date) -> str:
        return due_phrase(at_noon(today), datetime.combine(last, time.max, tzinfo=BOGOTA), CALENDAR)

    assert phrase(thursday, thursday) == "hoy"
    assert phrase(thursday, friday) == "mañana"
    assert phrase(friday, monday) == "el lunes (próximo día hábil)"  # not "mañana": the weekend is in between
    assert phrase(thursday, monday) == "en 2 días hábiles"
    # 23 March 2026 is a Colombian holiday (San José, moved to Monday): Friday 20 to Tuesday 24 is one business day.
    assert not CALENDAR.is_business_day(date(2026, 3, 23))
    assert phrase(date(2026, 3, 20), date(2026, 3, 24)) == "el martes (próximo día hábil)"


def test_an_empty_installation_says_so(client_as):
    page = client_as(Role.CLERK).get("/resumen").get_data(as_text=True)
    assert "No hay plazos de reclamo en curso" in page and "Aún no hay documentos" in page
    assert '<span class="figure">0</span>' in page


def test_everyone_signed_in_reads_it_and_strangers_are_sent_to_log_in(client_as):
    for role in Role:
        assert client_as(role).get("/resumen").status_code == 200
    anonymous = client_as(None).get("/resumen")
    assert anonymous.status_code == 302 and "/ingresar" in anonymous.location


@pytest.mark.parametrize(("role", "home"), [(Role.CLERK, "/resumen"), (Role.TREASURY, "/resumen"),
                                            (Role.AUDITOR, "/"), (Role.ADMIN, "/")])  # fmt: skip
def test_clerks_and_treasury_land_on_the_dashboard(app_and_db, role, home):
    app, session = app_and_db
    add_user(session, "alguien", role)
    client = app.test_client()
    response = log_in(client, "alguien")
    assert response.status_code == 302 and response.location == home
    assert client.get("/ingresar").location == home  # signed in already: the same home


def test_the_window_end_helper_counts_business_days():
    now = datetime(2026, 3, 6, 15, tzinfo=UTC)  # a Friday in Bogotá
    assert window_end(now, 0) == datetime.combine(date(2026, 3, 6), time.max, tzinfo=BOGOTA)
    assert window_end(now, 1) == datetime.combine(date(2026, 3, 9), time.max, tzinfo=BOGOTA)
