"""The inbox's filters, search, sort and CSV export on SQLite and PostgreSQL (web/query.py serves the API too)."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from dian.calendar import BusinessCalendar
from dian.codes import DocumentState
from store.models import MailMessage, MailStatus, QuarantineReason, Role, Verdict
from tests.web.test_inbox_page import add_document
from web.query import SORTS, FilterError, InboxQuery, closing_cutoff, decode_cursor

pytestmark = pytest.mark.integration


@pytest.fixture
def client(client_as):
    return client_as(Role.TREASURY)  # read-only is enough for every filter and the export


def numbers(page: str) -> list[str]:
    """The document numbers in the order the inbox shows them."""
    return re.findall(r'<td class="number"[^>]*>(FE\d+)(?!\d)', page)


def listed(client, **params) -> list[str]:
    response = client.get("/", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return numbers(response.get_data(as_text=True))


@pytest.fixture
def documents(app_and_db):
    """Six documents from three suppliers, in several states, amounts and dates."""
    _, session = app_and_db
    now = datetime.now(UTC)
    docs = {
        1: add_document(session, 1, issuer_nit="800111222", issuer_name="Ferretería Andina S.A.S.",
                        payable_amount=Decimal("50000.00"), issued_at=datetime(2025, 3, 1, 15, tzinfo=UTC)),
        2: add_document(session, 2, issuer_nit="800111222", issuer_name="Ferretería Andina S.A.S.",
                        payable_amount=Decimal("2500000.50"), state=DocumentState.ACKNOWLEDGED,
                        issued_at=datetime(2025, 3, 10, 15, tzinfo=UTC)),
        3: add_document(session, 3, issuer_nit="900555666", issuer_name="Papelería El Sol Ltda.",
                        payable_amount=Decimal("120000.00"), state=DocumentState.GOODS_RECEIVED,
                        window_ends_at=now + timedelta(hours=2), issued_at=datetime(2025, 3, 20, 15, tzinfo=UTC)),
        4: add_document(session, 4, issuer_nit="900555666", issuer_name="Papelería El Sol Ltda.",
                        payable_amount=Decimal("980000.00"), state=DocumentState.GOODS_RECEIVED,
                        window_ends_at=now + timedelta(days=20), issued_at=datetime(2025, 4, 2, 15, tzinfo=UTC)),
        5: add_document(session, 5, issuer_nit="901777888", issuer_name="=Servicios 100% Ágiles_SA",
                        payable_amount=Decimal("75000.25"), state=DocumentState.INVALID, verdict=Verdict.INVALID,
                        issued_at=datetime(2025, 4, 15, 4, tzinfo=UTC)),  # 14 April in Bogota
        6: add_document(session, 6, issuer_nit="901777888", issuer_name="=Servicios 100% Ágiles_SA",
                        payable_amount=Decimal("310000.00"), state=DocumentState.ACCEPTED,
                        window_ends_at=now - timedelta(days=3), issued_at=datetime(2025, 5, 5, 15, tzinfo=UTC)),
    }  # fmt: skip
    return docs


def test_no_filter_lists_everything_newest_first(client, documents):
    assert listed(client) == ["FE6", "FE5", "FE4", "FE3", "FE2", "FE1"]


def test_status_filter_one_or_several(client, documents):
    assert listed(client, status="goods_received") == ["FE4", "FE3"]
    assert listed(client, status=["acknowledged", "accepted"]) == ["FE6", "FE2"]
    assert listed(client, status="acknowledged,accepted") == ["FE6", "FE2"]


def test_supplier_by_nit_with_or_without_check_digit_or_by_part_of_the_name(client, documents):
    assert listed(client, supplier="800111222") == ["FE2", "FE1"]
    assert listed(client, supplier="800.111.222-7") == ["FE2", "FE1"]
    assert listed(client, supplier="papelería") == ["FE4", "FE3"]
    assert listed(client, supplier="100%") == ["FE6", "FE5"]  # % and _ are literal characters, not wildcards
    assert listed(client, supplier="1%0") == []


def test_dates_are_bogota_calendar_days_inclusive(client, documents):
    assert listed(client, **{"from": "2025-03-10", "to": "2025-04-02"}) == ["FE4", "FE3", "FE2"]
    # FE5 was issued on 15 April at 04:00 UTC, still 14 April in Bogota.
    assert listed(client, **{"from": "14/04/2025", "to": "14/04/2025"}) == ["FE5"]
    assert listed(client, **{"from": "2025-04-15", "to": "2025-04-15"}) == []


def test_amount_range_takes_plain_and_colombian_numbers(client, documents):
    assert listed(client, min_amount="100000", max_amount="1000000") == ["FE6", "FE4", "FE3"]
    assert listed(client, min_amount="2.500.000,50") == ["FE2"]
    assert listed(client, max_amount="75000.25") == ["FE5", "FE1"]


def test_search_by_number_cufe_or_nit(client, documents):
    assert listed(client, q="FE3") == ["FE3"]
    assert listed(client, q="fe3") == ["FE3"]
    assert listed(client, q=documents[4].cufe.upper()) == ["FE4"]
    assert listed(client, q="901777888") == ["FE6", "FE5"]
    assert listed(client, q="nada") == []


def test_quarantined_documents(app_and_db, client, documents):
    _, session = app_and_db
    mail = MailMessage(mailbox="INBOX", uidvalidity=1, uid=9, received_at=datetime.now(UTC), blob_key="c" * 64,
                       status=MailStatus.QUARANTINED, reason=QuarantineReason.SIGNATURE_INVALID)  # fmt: skip
    session.add(mail)
    session.flush()
    documents[1].mail_message_id = mail.id
    session.flush()
    assert listed(client, quarantined="1") == ["FE5", "FE1"]


def test_window_closing_soon_and_red_under_one_business_day(client, documents):
    page = client.get("/", query_string={"closing_within": "3"}).get_data(as_text=True)
    # FE3's window closes within hours, FE4's in 20 days, FE6's is past (and accepted anyway).
    assert numbers(page) == ["FE3"]
    assert re.search(r'<span class="urgent">Vence [^<]+</span><br><small>quedan [^<]*h</small>', page)
    assert listed(client, closing_within="3", sort="window") == ["FE3"]


def test_nearest_deadline_first_puts_the_running_windows_first(client, documents):
    """FE6's window ended three days ago, but it is accepted: it sorts with the documents that have no window."""
    assert listed(client, sort="window") == ["FE3", "FE4", "FE1", "FE2", "FE5", "FE6"]


def test_closing_cutoff_counts_business_days_from_today():
    calendar = BusinessCalendar()
    friday = datetime(2025, 3, 7, 15, tzinfo=UTC)  # 10:00 in Bogota
    assert closing_cutoff(friday, 1, calendar).date() == date(2025, 3, 7)
    assert closing_cutoff(friday, 2, calendar).date() == date(2025, 3, 10)  # the weekend does not count
    sunday = datetime(2025, 3, 9, 15, tzinfo=UTC)
    assert closing_cutoff(sunday, 1, calendar).date() == date(2025, 3, 10)


@pytest.mark.parametrize("sort", list(SORTS))
def test_every_sort_pages_through_every_document_once_in_order(app_and_db, client, sort):
    _, session = app_and_db
    now = datetime.now(UTC)
    for n in range(1, 131):
        add_document(
            session,
            n,
            payable_amount=Decimal(n % 7) * 1000,  # ties, broken by id
            issuer_name=f"Proveedor {n % 5}",
            window_ends_at=now + timedelta(days=n % 4) if n % 3 else None,  # NULLs come last
            state=DocumentState.GOODS_RECEIVED if n % 3 else DocumentState.VALIDATED,
            issued_at=datetime(2025, 3, 3, tzinfo=UTC) + timedelta(minutes=n % 11),
        )
    seen: list[str] = []
    url = "/?" + (f"sort={sort}" if sort != "-issued" else "")
    for _ in range(6):
        page = client.get(url).get_data(as_text=True)
        seen += numbers(page)
        match = re.search(r'href="(/\?after=[^"]+)"', page)
        if match is None:
            break
        url = match.group(1).replace("&amp;", "&")
        assert (f"sort={sort}" in url) == (sort != "-issued")
    assert len(seen) == 130
    assert len(set(seen)) == 130


@pytest.mark.parametrize(
    "params",
    [
        {"status": "pagada"},
        {"from": "2025-13-01"},
        {"from": "2025-03-02", "to": "2025-03-01"},
        {"min_amount": "mucho"},
        {"min_amount": "10", "max_amount": "5"},
        {"closing_within": "0"},
        {"closing_within": "x"},
        {"sort": "azar"},
        {"quarantined": "quizas"},
        {"after": "no-es-un-cursor"},
        {"after": "n_5"},
        {"sort": "-amount", "after": "NaN_5"},
        {"sort": "supplier", "after": "!!!_5"},
    ],
)
def test_malformed_parameters_are_a_400_with_the_reason(client, params):
    response = client.get("/", query_string=params)
    assert response.status_code == 400


def test_query_parameters_round_trip():
    asked = dict(status=["claimed", "accepted"], supplier="Sol", q="FE1", min_amount="10.5", closing_within="2")
    query = InboxQuery.from_args(_args(**asked, quarantined="1", sort="amount", **{"from": "2025-01-02"}))
    assert InboxQuery.from_args(_args(**query.to_args())) == query
    assert query.filtered
    assert not InboxQuery.from_args(_args(sort="amount")).filtered
    with pytest.raises(FilterError):
        decode_cursor(SORTS["-issued"], "99999999999999999999999999_1")


def _args(**values):
    from werkzeug.datastructures import MultiDict

    return MultiDict([(k, x) for k, v in values.items() for x in (v if isinstance(v, list) else [v])])


def test_csv_export_follows_the_filters_for_excel_in_colombia(client, documents):
    response = client.get("/exportar.csv", query_string={"supplier": "901777888", "sort": "amount"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="buzon-')
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM: Excel then reads UTF-8
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:5] == ["Estado", "NIT proveedor", "Proveedor", "Tipo", "Número"]
    assert [r[4] for r in rows[1:]] == ["FE5", "FE6"]
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["Valor a pagar"] == "75000,25"
    assert first["Estado"] == "Inválida"
    assert first["Fecha de emisión"] == "03/03/2025"
    assert first["Proveedor"] == "'=Servicios 100% Ágiles_SA"  # never a formula in Excel
    assert first["CUFE"] == documents[5].cufe


def test_csv_export_streams_every_page(app_and_db, client):
    _, session = app_and_db
    for n in range(1, 2502):
        add_document(session, n)
    response = client.get("/exportar.csv")
    assert response.is_streamed
    lines = response.get_data().decode("utf-8-sig").splitlines()
    assert len(lines) == 2502
    assert len({line.split(";")[-1] for line in lines[1:]}) == 2501
    assert client.get("/exportar.csv", query_string={"status": "x"}).status_code == 400


def test_the_filter_form_keeps_what_was_asked_and_links_the_export(client, documents):
    page = client.get("/", query_string={"supplier": "Sol", "sort": "amount", "quarantined": "1"}).get_data(
        as_text=True
    )
    assert 'name="supplier" value="Sol"' in page
    assert '<option value="amount" selected>' in page
    assert 'name="quarantined" value="1" checked' in page
    assert "/exportar.csv?supplier=Sol&amp;quarantined=1&amp;sort=amount" in page
    assert "Ningún documento coincide" in page
