"""The inbox's one search box, its counters, saved views, event tags and refused dates, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from dian.calendar import BusinessCalendar
from dian.codes import DocumentState, EventCode
from store.models import Direction, DocumentEvent, ReceivedDocument, Role, SubmissionState, Verdict
from store.search import fold, search_text
from tests.web.conftest import add_user, sign_in
from tests.web.test_inbox_page import add_document
from web import search
from web.query import SORTS, InboxQuery

pytestmark = pytest.mark.integration


def numbers(page: str) -> list[str]:
    return re.findall(r'<td class="number"[^>]*>([A-Z]+\d+)(?!\d)', page)


def listed(client, **params) -> list[str]:
    response = client.get("/", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)[:800]
    return sorted(numbers(response.get_data(as_text=True)))


@pytest.fixture
def client(client_as):
    return client_as(Role.TREASURY)


@pytest.fixture
def documents(app_and_db):
    _, session = app_and_db
    return {
        "cafe": add_document(session, 1, number="STI1063", issuer_nit="800111222", issuer_dv="7",
                             issuer_name="Café de Altura S.A.S.", cufe="ab12cd34" + "0" * 88),
        "papel": add_document(session, 2, number="FEV20631", issuer_nit="900555666",
                              issuer_name="PAPELERÍA EL SOL LTDA.", cufe="ab12ff00" + "1" * 88),
        "ferre": add_document(session, 3, number="FE77", issuer_nit="901777888",
                              issuer_name="Ferretería Ñandú 100%_Ltda", cufe="cd" + "2" * 94),
        "otro": add_document(session, 4, number="SETT9", issuer_nit="860000001",
                             issuer_name="Cafetería y Panadería Río", cufe="ef" + "3" * 94),
    }  # fmt: skip


def test_fold_drops_accents_case_and_extra_spaces():
    assert fold("  PAPELERÍA   El Sol  ") == "papeleria el sol"
    assert fold("Ñandú Ü") == "nandu u"
    assert search_text("STI1063", "800111222", "Café") == "sti1063\x1f800111222\x1fcafe"


def test_the_search_text_is_filled_on_insert_and_follows_a_name_change(app_and_db, documents):
    _, session = app_and_db
    doc = documents["cafe"]
    stored = session.scalar(sa.select(ReceivedDocument.search_text).where(ReceivedDocument.id == doc.id))
    assert stored == "sti1063\x1f800111222\x1fcafe de altura s.a.s."
    doc.issuer_name = "Tostadora Ébano"
    session.flush()
    session.expire(doc)
    assert doc.search_text.endswith("tostadora ebano")


TYPED = [
        ("cafe", ["SETT9", "STI1063"]),  # Café and Cafetería, with or without the accent
        ("CAFÉ", ["SETT9", "STI1063"]),
        ("papeleria", ["FEV20631"]),
        ("Papelería el sol", ["FEV20631"]),
        ("papeleria sol", ["FEV20631"]),  # every word, in any place
        ("cafe altura", ["STI1063"]),  # every word must be found, not just one
        ("rio cafe", ["SETT9"]),
        ("nandu", ["FE77"]),
        ("1063", ["STI1063"]),  # part of an invoice number
        ("sti1063", ["STI1063"]),
        ("2063", ["FEV20631"]),
        ("AB12CD34", ["STI1063"]),  # the start of a CUFE, any case
        ("ab12", []),  # too short to be read as a CUFE, and in no number or name
        ("ab12cd34" + "0" * 88, ["STI1063"]),  # the whole CUFE
        ("800111222", ["STI1063"]),
        ("800.111.222-7", ["STI1063"]),  # NIT with dots and check digit
        ("800111222-7", ["STI1063"]),
        ("11122", ["STI1063"]),  # part of a NIT
        ("100%", ["FE77"]),  # % and _ are characters, not wildcards
        ("0%_", ["FE77"]),  # literally in "100%_Ltda"
        ("1%0", []),
        ("_", ["FE77"]),
        ("zzz", []),
]  # fmt: skip


@pytest.mark.parametrize(("typed", "found"), TYPED)
def test_one_box_finds_what_people_type(client, documents, typed, found):
    assert listed(client, q=typed) == found


@pytest.mark.parametrize(("typed", "found"), TYPED)
def test_a_text_that_finds_many_is_checked_while_walking_the_order_and_finds_the_same(
    client, documents, monkeypatch, typed, found
):
    # PROBE 0: every text that finds anything counts as "many", so the page walks its order checking each row (the
    # path of "cafe" at 200k documents) instead of sorting the ids the indexes found; two rows a batch here.
    monkeypatch.setattr("web.search.PROBE", 0)
    monkeypatch.setattr("web.search.WALK_BATCH", 2)
    assert listed(client, q=typed) == found
    body = client.get("/exportar.csv", query_string={"q": typed}).get_data().decode("utf-8-sig")
    assert sorted(r[4] for r in list(csv.reader(io.StringIO(body), delimiter=";"))[1:]) == found


def test_a_nit_written_with_dots_or_check_digit_is_looked_up_as_a_nit_only(app_and_db, client, documents):
    _, session = app_and_db
    add_document(session, 9, number="X9", issuer_nit="811000999", issuer_name="Taller 800.111.222-7 y 800111222")
    assert listed(client, q="800.111.222-7") == ["STI1063"]  # the NIT's documents, not a name that spells it
    assert listed(client, q="800111222-7") == ["STI1063"]
    assert listed(client, q="800111222") == ["STI1063", "X9"]  # digits alone: the NIT, or part of a number or name


def test_supplier_filter_folds_accents_and_reads_nits(client, documents):
    assert listed(client, supplier="ferreteria") == ["FE77"]
    assert listed(client, supplier="901.777.888-1") == ["FE77"]
    assert listed(client, supplier="panaderia rio") == ["SETT9"]
    assert listed(client, supplier="rio panaderia") == []  # the supplier box is one phrase, unlike the search
    assert listed(client, supplier="panadería") == ["SETT9"]
    assert listed(client, supplier="77") == ["FE77"]  # part of the NIT 901777888, not the number FE77's digits alone
    assert listed(client, supplier="sti") == []  # an invoice number is not a supplier


@pytest.mark.parametrize("probe", [1000, 0])
def test_supplier_text_found_through_the_index_or_by_walking(client, documents, monkeypatch, probe):
    monkeypatch.setattr("web.search.PROBE", probe)
    assert listed(client, supplier="ferreteria") == ["FE77"]
    assert listed(client, supplier="a") == ["FE77", "FEV20631", "SETT9", "STI1063"]
    assert listed(client, supplier="sti") == []
    assert listed(client, supplier="cafe", q="1063") == ["STI1063"]
    page = client.get("/", query_string={"supplier": "cafe"}).get_data(as_text=True)
    assert re.search(r"<strong>2 documentos</strong> coinciden", page)


def test_the_counter_counts_what_the_filters_show(client, documents):
    page = client.get("/", query_string={"q": "cafe"}).get_data(as_text=True)
    assert re.search(r"<strong>2 documentos</strong> coinciden con los filtros\s+de 4 recibidos", page)
    page = client.get("/", query_string={"q": "papeleria"}).get_data(as_text=True)
    assert re.search(r"<strong>1 documento</strong> coincide con los filtros", page)
    page = client.get("/").get_data(as_text=True)
    assert "4 documentos recibidos" in page
    assert "coincide" not in page


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"to": "9999-12-31"}, "Emitida hasta: la fecha 31/12/9999 está fuera del rango"),
        ({"from": "0001-01-01"}, "Emitida desde: la fecha 01/01/0001 está fuera del rango"),
        ({"from": "31/12/9999"}, "fuera del rango"),
        ({"to": "2025-02-30"}, "Emitida hasta: fecha inválida"),
        ({"to": "mañana"}, "Emitida hasta: fecha inválida"),
        ({"from": "9" * 400}, "Emitida desde: fecha inválida"),
        ({"due": "²"}, "Plazo vence: días hábiles entre 0"),
        ({"closing_within": "²"}, "Plazo por vencer: días hábiles"),
        ({"dian": "todo"}, "Eventos ante la DIAN: use uno de"),
    ],
)
def test_a_filter_out_of_range_is_refused_on_the_page_and_in_the_csv(client, documents, params, words):
    response = client.get("/", query_string=params)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page and words in page
    assert 'lang="es-CO"' in page and "Traceback" not in page
    assert 'name="q"' in page  # the form is still there to correct it
    export = client.get("/exportar.csv", query_string=params)
    assert export.status_code == 400
    assert export.mimetype == "text/plain"
    assert words in export.get_data(as_text=True)


def test_dates_at_the_edges_of_the_range_are_answered(client, documents):
    assert listed(client, **{"from": "1900-01-01", "to": "2199-12-31"}) == ["FE77", "FEV20631", "SETT9", "STI1063"]
    response = client.get("/exportar.csv", query_string={"from": "1900-01-01", "to": "2199-12-31"})
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 5


def test_csv_export_follows_the_search(client, documents):
    body = client.get("/exportar.csv", query_string={"q": "cafe"}).get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body), delimiter=";"))
    assert sorted(r[4] for r in rows[1:]) == ["SETT9", "STI1063"]


def _event(session, doc, code, state, **values):
    event = DocumentEvent(document_id=doc.id, code=code, direction=Direction.EMITTED, submission_state=state,
                          number=f"EV{doc.id}{code.value}{state.value[:2]}", actor="test", **values)  # fmt: skip
    session.add(event)
    session.flush()
    return event


def test_rows_show_our_pending_or_rejected_event_and_the_saved_views_find_them(app_and_db, client, documents):
    _, session = app_and_db
    for doc in documents.values():
        doc.state = DocumentState.GOODS_RECEIVED
    _event(session, documents["cafe"], EventCode.ACEPTACION_EXPRESA, SubmissionState.SEND_FAILED)
    _event(session, documents["papel"], EventCode.RECLAMO, SubmissionState.REJECTED, dian_messages=["Regla: X"])
    # Rejected, then sent again and registered: no longer "rechazado".
    _event(session, documents["ferre"], EventCode.RECLAMO, SubmissionState.REJECTED)
    _event(session, documents["ferre"], EventCode.RECLAMO, SubmissionState.REGISTERED)
    page = client.get("/").get_data(as_text=True)
    cells = {n: c for c, n in re.findall(r'<td class="state-cell"[^>]*>(.*?)</td>\s*<td[^>]*>.*?</td>\s*<td class='
                                            r'"number"[^>]*>(\w+)', page, re.S)}  # fmt: skip
    assert "033 en cola, se reintentará" in cells["STI1063"]
    assert "031 rechazado por la DIAN" in cells["FEV20631"]
    assert "event-tag" not in cells["FE77"] and "event-tag" not in cells["SETT9"]
    assert listed(client, dian="rejected") == ["FEV20631"]
    assert listed(client, dian="pending") == ["STI1063"]
    page = client.get("/", query_string={"dian": "rejected"}).get_data(as_text=True)
    assert re.search(r'<a href="/\?dian=rejected" aria-current="page">Rechazadas por DIAN</a>', page)


def test_mis_facturas_is_the_signed_in_clerks_and_shows_the_assignees_name(app_and_db, documents):
    app, session = app_and_db
    ana = add_user(session, "ana", Role.CLERK, first_name="Ana", family_name="Torres")
    add_user(session, "beto", Role.CLERK)
    documents["cafe"].assigned_to = "ana"
    documents["ferre"].assigned_to = "beto"
    session.flush()
    client = app.test_client()
    sign_in(app, client, ana)
    page = client.get("/").get_data(as_text=True)
    assert '<a href="/?assigned=me">Mis facturas</a>' in page
    assert '<td data-label="Asignado a">Ana Torres</td>' in page
    assert '<td data-label="Asignado a">beto</td>' in page
    assert listed(client, assigned="me") == ["STI1063"]
    assert listed(client, assigned="beto") == ["FE77"]


def test_unconfirmed_view(app_and_db, client, documents):
    _, session = app_and_db
    documents["otro"].verdict = Verdict.UNCONFIRMED
    session.flush()
    page = client.get("/").get_data(as_text=True)
    assert '<a href="/?verdict=unconfirmed">Sin confirmar</a>' in page
    assert listed(client, verdict="unconfirmed") == ["SETT9"]


def test_a_search_at_the_count_cap_says_more_than(app_and_db, client, monkeypatch):
    _, session = app_and_db
    for n in range(1, 8):
        add_document(session, n, issuer_name="Café Uno", payable_amount=Decimal(n))
    monkeypatch.setattr("web.inbox.COUNT_CAP", 5)
    page = client.get("/", query_string={"q": "cafe"}).get_data(as_text=True)
    assert "<strong>Más de 5 documentos</strong> coinciden con los filtros" in page
    page = client.get("/", query_string={"q": "cafe", "max_amount": "3"}).get_data(as_text=True)
    assert "<strong>3 documentos</strong> coinciden" in page


@pytest.mark.parametrize(("probe", "cap"), [(1000, 5), (3, 5), (5, 5), (10, 5), (0, 100)])
def test_the_counter_is_exact_up_to_the_cap_whether_the_search_was_few_or_many(
    app_and_db, client, monkeypatch, probe, cap
):
    _, session = app_and_db
    for n in range(1, 8):
        add_document(session, n, issuer_name="Café Uno", payable_amount=Decimal(n))
    add_document(session, 8, issuer_name="Otro")
    monkeypatch.setattr("web.search.PROBE", probe)
    monkeypatch.setattr("web.inbox.COUNT_CAP", cap)
    page = client.get("/", query_string={"q": "cafe"}).get_data(as_text=True)
    expected = "Más de 5 documentos" if cap == 5 else "7 documentos"
    assert f"<strong>{expected}</strong> coinciden con los filtros" in page
    page = client.get("/", query_string={"q": "cafe", "max_amount": "3"}).get_data(as_text=True)
    assert "<strong>3 documentos</strong> coinciden" in page
    page = client.get("/", query_string={"supplier": "uno"}).get_data(as_text=True)
    assert f"<strong>{expected}</strong> coinciden" in page


@pytest.mark.parametrize(("probe", "batch"), [(1000, 2000), (0, 2000), (0, 1), (0, 3)])
@pytest.mark.parametrize("sort", list(SORTS))
def test_keyset_pages_of_a_search_list_every_match_once_in_order(app_and_db, monkeypatch, probe, batch, sort):
    _, session = app_and_db
    now = datetime.now(UTC)
    for n in range(1, 12):
        state = DocumentState.GOODS_RECEIVED if n % 3 else DocumentState.ACCEPTED
        add_document(session, n, issuer_name=f"Café {'ABC'[n % 3]}", payable_amount=Decimal(n % 4), state=state,
                     window_ends_at=now + timedelta(hours=n % 5 + 1))  # fmt: skip
    add_document(session, 20, issuer_name="Otro")
    monkeypatch.setattr("web.search.PROBE", probe)
    monkeypatch.setattr("web.search.WALK_BATCH", batch)
    filters = InboxQuery(search="cafe", sort=sort)
    whole = search.page(session, filters, now=now, calendar=BusinessCalendar(), limit=100).documents
    way = SORTS[sort]
    cafes = [d for d in session.scalars(sa.select(ReceivedDocument)) if d.issuer_name.startswith("Café")]
    valued = [d for d in cafes if getattr(d, way.column.key) is not None]
    expected = sorted(valued, key=lambda d: (getattr(d, way.column.key), d.id), reverse=way.descending)
    expected += sorted((d for d in cafes if d not in valued), key=lambda d: d.id)  # NULLs last, by id
    assert [d.id for d in whole] == [d.id for d in expected]
    seen, cursor = [], None
    while True:
        found = search.page(session, filters, now=now, calendar=BusinessCalendar(), cursor=cursor, limit=4)
        seen += found.documents
        if found.next_cursor is None:
            break
        cursor = found.next_cursor
    assert [d.id for d in seen] == [d.id for d in whole]
    ids = search.matching_ids(session, filters, now=now, calendar=BusinessCalendar(), limit=5)
    assert ids == [d.id for d in whole[:5]]


def test_a_search_sees_what_was_written_since_it_was_last_asked(app_and_db):
    _, session = app_and_db
    now = datetime.now(UTC)  # one "request" (the same now) before and after a write in the same session
    add_document(session, 1, issuer_name="Café Uno")
    filters = InboxQuery(search="cafe")
    assert len(search.page(session, filters, now=now, calendar=BusinessCalendar()).documents) == 1
    add_document(session, 2, issuer_name="Café Dos")
    assert len(search.page(session, filters, now=now, calendar=BusinessCalendar()).documents) == 2
    assert search.count(session, filters, now=now, calendar=BusinessCalendar(), cap=1000) == 2


def test_window_rows_and_views_in_one_language(app_and_db, client):
    _, session = app_and_db
    now = datetime.now(UTC)
    add_document(session, 1, state=DocumentState.GOODS_RECEIVED, window_ends_at=now + timedelta(minutes=30))
    page = client.get("/", query_string={"due": "0"}).get_data(as_text=True)
    assert "Vencen hoy" in page
    # 30 minutes from now is today unless it is past 23:30 in Bogota; the row and the filter agree either way.
    if "FE1" in numbers(page):
        assert '<span class="urgent">Vence hoy</span>' in page
    else:
        assert "Vence mañana" in client.get("/").get_data(as_text=True) or "Vence el" in client.get("/").get_data(
            as_text=True
        )


def test_the_first_look_leaves_postgresqls_parallel_setting_as_it_was(app_and_db):
    _, session = app_and_db
    add_document(session, 1, issuer_name="Café Uno")
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("a PostgreSQL setting")
    session.execute(sa.text("SET LOCAL max_parallel_workers_per_gather = 3"))
    found = search.page(session, InboxQuery(search="cafe"), now=datetime.now(UTC), calendar=BusinessCalendar())
    assert [d.number for d in found.documents] == ["FE1"]
    assert session.scalar(sa.text("SHOW max_parallel_workers_per_gather")) == "3"
