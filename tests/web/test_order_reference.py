"""The buyer's purchase order (cac:OrderReference/cbc:ID) on received documents, on SQLite and PostgreSQL: a real
sample that cites one ("937") and one that cites none are uploaded through the real intake; the order is kept in its
column, shown under the number in the inbox, found by the order filter (page, CSV export and API alike), and a text
no document cites finds nothing."""

from __future__ import annotations

import csv
import io
import re

import pytest
import sqlalchemy as sa

from store.models import ReceivedDocument, Role
from tests.conftest import sample_bytes
from tests.integration.inbox_fixtures import OUR_BARE, OUR_SAMPLE
from tests.web.test_api import token_for as token_for  # the fixtures, re-exported
from tests.web.test_upload import intake as intake
from tests.web.test_upload import upload

pytestmark = pytest.mark.integration

ORDER = "937"  # invoice_alpha_FV937's cac:OrderReference/cbc:ID


def test_the_order_a_supplier_cites_is_kept_shown_and_found(app_and_db, intake, client_as, token_for) -> None:
    app, session = app_and_db
    client = client_as(Role.CLERK)
    response = upload(client, (OUR_SAMPLE, sample_bytes(OUR_SAMPLE)), (OUR_BARE, sample_bytes(OUR_BARE)))
    assert response.status_code == 200
    filed = dict(session.execute(sa.select(ReceivedDocument.number, ReceivedDocument.order_reference)).all())
    assert len(filed) == 2 and filed.pop("FV937") == ORDER and list(filed.values()) == [None], filed

    page = client.get("/", query_string={"order": f" {ORDER} "}).get_data(as_text=True)
    rows = re.findall(r'<td class="number"[^>]*>(\w+) ', page)
    assert rows == ["FV937"], rows
    assert f'<small class="order-ref">OC {ORDER}</small>' in page
    assert f'name="order" value="{ORDER}"' in page  # the form keeps what was asked
    everything = client.get("/").get_data(as_text=True)
    assert everything.count('class="order-ref"') == 1
    assert re.findall(r'<td class="number"[^>]*>(\w+) ', client.get("/?order=9370").get_data(as_text=True)) == []

    exported = client.get("/exportar.csv", query_string={"order": ORDER}).get_data(as_text=True)
    table = list(csv.reader(io.StringIO(exported.lstrip("\ufeff")), delimiter=";"))
    column = table[0].index("Orden de compra")
    assert [(row[table[0].index("Número")], row[column]) for row in table[1:]] == [("FV937", ORDER)]

    api = app.test_client()
    auth = token_for(Role.TREASURY)
    found = api.get("/api/v1/documents", query_string={"order": ORDER}, headers=auth).json
    assert [(d["number"], d["order_reference"]) for d in found["documents"]] == [("FV937", ORDER)], found
    every = api.get("/api/v1/documents", headers=auth).json["documents"]
    assert {d["order_reference"] for d in every} == {None, ORDER}
    too_long = api.get("/api/v1/documents", query_string={"order": "9" * 101}, headers=auth)
    assert too_long.status_code == 400 and too_long.json["field"] == "order", too_long.json


def test_invoices_that_cite_no_order_are_found_and_a_note_is_not_among_them(
    app_and_db, intake, client_as, token_for
) -> None:
    app, session = app_and_db
    client = client_as(Role.CLERK)
    assert upload(client, (OUR_SAMPLE, sample_bytes(OUR_SAMPLE)), (OUR_BARE, sample_bytes(OUR_BARE))).status_code == 200
    numbers = dict(session.execute(sa.select(ReceivedDocument.number, ReceivedDocument.id)).all())
    without = [n for n in numbers if n != "FV937"]  # the sample that cites no order

    def page_numbers(**args: str) -> list[str]:
        page = client.get("/", query_string=args).get_data(as_text=True)
        return re.findall(r'<td class="number"[^>]*>(\w+) ', page)

    assert page_numbers(no_order="1") == without
    assert 'name="no_order" value="1" checked' in client.get("/?no_order=1").get_data(as_text=True)
    assert page_numbers(no_order="1", order=ORDER) == []  # both asked: nothing is both
    exported = client.get("/exportar.csv", query_string={"no_order": "1"}).get_data(as_text=True)
    table = list(csv.reader(io.StringIO(exported.lstrip("\ufeff")), delimiter=";"))
    assert [row[table[0].index("Número")] for row in table[1:]] == without
    api = app.test_client()
    auth = token_for(Role.TREASURY)
    found = api.get("/api/v1/documents", query_string={"no_order": "1"}, headers=auth).json["documents"]
    assert [d["number"] for d in found] == without
    refused = api.get("/api/v1/documents", query_string={"no_order": "quizas"}, headers=auth)
    assert refused.status_code == 400 and refused.json["field"] == "no_order", refused.json
    assert "Sin orden de compra" in client.get("/?no_order=quizas").get_data(as_text=True)  # the form's words

    # A credit note cites its invoice, not an order: it is no "invoice without an order".
    session.execute(sa.update(ReceivedDocument).where(ReceivedDocument.number.in_(without)).values(document_type="91"))
    session.commit()
    assert page_numbers(no_order="1") == []
    assert len(page_numbers()) == 2
