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
from web.dashboard import due_cutoffs, due_phrase, overview
from web.deadline import MAX_DUE, due_cutoff
from web.period import PeriodError, period

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
        issued = kw.pop("issued_at", now - timedelta(minutes=n))  # this month's, in the default period's months
        return add_document(session, n, issuer_nit=nit, issuer_name=f"Proveedor {nit}", payable_amount=Decimal(amount),
                            issued_at=issued, issue_date=issued.astimezone(BOGOTA).date(), **kw)  # fmt: skip

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
    # Issued in June 2024: outside the default period's amounts, inside periodo=2024-06's.
    doc(12, "800000005", "99999999.00", state=DocumentState.ACCEPTED, issued_at=datetime(2024, 6, 14, 15, tzinfo=UTC))

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
    o = overview(session, world, CALENDAR, period(None, world.astimezone(BOGOTA).date()))
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
    assert "800000005" not in {f.args["supplier"] for f in o.suppliers}  # June 2024: not in the last 3 months
    assert "accepted" not in by_state
    assert o.suppliers[0].share == 1.0 and 0 < o.suppliers[1].share < 0.01
    june = overview(session, world, CALENDAR, period("2024-06", world.date()))
    assert [(f.args["status"], f.count, f.amount) for f in june.by_state] == [("accepted", 1, Decimal("99999999.00"))]
    assert june.due_today == 2 and june.unconfirmed == 1  # what is open now does not depend on the period


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
    first, last = re.search(r'href="/\?status=invalid&amp;from=([0-9-]+)&amp;to=([0-9-]+)"', page).groups()
    supplier_link = f"/?supplier=800000004&amp;from={first}&amp;to={last}"
    assert f'href="{supplier_link}"' in page
    assert inbox_numbers(client, supplier_link) == ["FE8", "FE9"]
    assert "FE12" not in inbox_numbers(client, f"/?from={first}&to={last}")
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
    assert "No hay plazos de reclamo en curso" in page and "Ningún documento emitido en" in page
    assert '<span class="figure">0</span>' in page


def test_everyone_signed_in_reads_it_and_strangers_are_sent_to_log_in(client_as):
    for role in Role:  # the AP summary: every role but billing (sales: no supplier inbox, web/issued.py)
        assert client_as(role).get("/resumen").status_code == (403 if role is Role.BILLING else 200), role
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


def test_the_period_is_chosen_in_the_page_and_stated_in_the_headings(world, client_as):
    client = client_as(Role.TREASURY)
    today = world.astimezone(BOGOTA).date()
    page = client.get("/resumen").get_data(as_text=True)
    words = period(None, today).words
    assert (
        f"Valor por estado <small>· {words}</small>" in page
        and f"Principales proveedores <small>· {words}</small>" in page
    )
    assert '<option value="3-meses" selected>Los últimos 3 meses</option>' in page
    assert '<option value="anio">Este año</option>' in page
    year = client.get("/resumen?periodo=anio").get_data(as_text=True)
    assert f"Valor por estado <small>· el año {today.year}</small>" in year
    assert '<option value="anio" selected>Este año</option>' in year
    june = client.get("/resumen?periodo=2024-06").get_data(as_text=True)
    assert "junio de 2024" in june and "$ 99.999.999,00" in june and "Proveedor 800000005" in june
    link = re.search(r'href="(/\?supplier=800000005[^"]+)"', june).group(1)
    assert inbox_numbers(client, link) == ["FE12"]  # the link lists exactly what the figure counts
    assert '<option value="2024-06" selected>Junio de 2024</option>' in june
    # What is open now is the same whatever the period.
    assert re.search(r'id="cifra-hoy" href="[^"]+">\s*<span class="figure">2</span>', june)


@pytest.mark.parametrize(
    ("raw", "said"),
    [
        ("ayer", "«ayer» no es un periodo conocido"),
        ("2026-13", "el mes «2026-13» no existe"),
        ("9999", "el año 9999 está fuera del rango 1900–2199"),
        ("0000-01", "el año 0 está fuera del rango"),
        ("２０２４", "no es un periodo conocido"),  # full-width digits are not a year
        ("x" * 5000, "«" + "x" * 40 + "…» no es un periodo conocido"),
        ("2024-06-01'; DROP TABLE x", "no es un periodo conocido"),
    ],
)
def test_a_period_the_page_cannot_mean_is_refused_in_spanish(world, client_as, raw, said):
    for path in ("/resumen", "/proveedores", "/proveedores/800000001"):
        response = client_as(Role.CLERK).get(path, query_string={"periodo": raw})
        page = response.get_data(as_text=True)
        assert response.status_code == 400, path
        assert 'role="alert" id="periodo-error"' in page and said in page.replace("&#34;", '"').replace("&#39;", "'")
        assert "Se muestran los últimos 3 meses" in page  # and the default period's figures below it
        assert 'lang="es-CO"' in page and page.count("<h1") == 1


def test_periods_are_whole_months_in_words():
    assert period("3-meses", date(2027, 1, 15)) == period("3-meses", date(2027, 1, 31))
    three = period(None, date(2027, 1, 15))
    assert (three.first, three.last, three.words) == (date(2026, 11, 1), date(2027, 1, 31),
                                                      "noviembre de 2026 a enero de 2027")  # fmt: skip
    assert period("mes-anterior", date(2027, 1, 15)).words == "diciembre de 2026"
    assert period("mes", date(2028, 2, 10)).last == date(2028, 2, 29)  # a leap year
    year = period("anio", date(2026, 12, 6))
    assert (year.first, year.last, year.words) == (date(2026, 1, 1), date(2026, 12, 31), "el año 2026")
    assert period("2026-10", date(2026, 12, 6)).inbox_args() == {"from": "2026-10-01", "to": "2026-10-31"}
    assert period("3-meses", date(2026, 12, 6)).words == "octubre a diciembre de 2026"
    with pytest.raises(PeriodError):
        period("1899", date(2026, 12, 6))


@pytest.mark.parametrize("day", [date(2026, 3, 20), date(2026, 12, 24), date(2026, 12, 6), date(2027, 3, 19)])
def test_the_day_buckets_end_where_the_inbox_filter_cuts(day):
    """The dashboard's buckets are the inbox's own due=N cut-offs (holidays, weekends and year ends included)."""
    now = at_noon(day)
    for calendar in (CALENDAR, BusinessCalendar(saturday_is_business_day=True)):
        assert due_cutoffs(now, calendar) == [due_cutoff(now, n, calendar) for n in range(MAX_DUE + 1)]
