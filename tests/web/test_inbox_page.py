"""The inbox page on real SQLite and PostgreSQL: rows, Colombian formats, countdown, keyset pages, quarantine."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from dian.codes import DocumentState, DocumentType, Environment
from store.models import MailMessage, MailStatus, QuarantineReason, ReceivedDocument, Role, Verdict
from web.labels import money

pytestmark = pytest.mark.integration


@pytest.fixture
def client(client_as):
    """A clerk, signed in: the inbox pages need a user (tests/web/test_access.py walks every role)."""
    return client_as(Role.CLERK)


def add_document(session, n: int, **overrides) -> ReceivedDocument:
    values = dict(
        cufe=f"{n:096x}",
        document_type=DocumentType.INVOICE,
        environment=Environment.PRODUCTION,
        number=f"FE{n}",
        issuer_nit="900000001",
        issuer_name=f"Proveedor {n} S.A.S.",
        buyer_nit="900123456",
        buyer_name="Empresa Demo S.A.S.",
        issue_date=date(2025, 3, 3),
        issued_at=datetime(2025, 3, 3, tzinfo=UTC) + timedelta(minutes=n),
        line_extension_amount=Decimal("100.00"),
        tax_exclusive_amount=Decimal("100.00"),
        tax_inclusive_amount=Decimal("119.00"),
        payable_amount=Decimal("1234567.89"),
        signed_xml_blob="b" * 64,
        verdict=Verdict.VALID,
    )
    values.update(overrides)
    if values.get("state") is DocumentState.GOODS_RECEIVED:  # as store.state.refresh_state keeps it
        values.setdefault("open_window_ends_at", values.get("window_ends_at"))
    doc = ReceivedDocument(**values)
    session.add(doc)
    session.flush()
    return doc


def test_money_in_colombian_format():
    assert money(Decimal("1234567.891")) == "$ 1.234.567,89"
    assert money(Decimal("0")) == "$ 0,00"
    assert money(Decimal("10.5"), "USD") == "10,50 USD"


def test_empty_inbox_says_so(client):
    page = client.get("/").get_data(as_text=True)
    assert "Aún no hay documentos" in page


def test_documents_newest_first_with_state_amount_and_countdown(app_and_db, client):
    _, session = app_and_db
    add_document(session, 1)
    add_document(
        session,
        2,
        state=DocumentState.GOODS_RECEIVED,
        window_ends_at=datetime.now(UTC) + timedelta(days=30),
        verdict=Verdict.VALID_WITH_WARNINGS,
        document_type=DocumentType.CREDIT_NOTE,
    )
    page = client.get("/").get_data(as_text=True)
    assert page.index("FE2") < page.index("FE1")
    assert "$ 1.234.567,89" in page
    assert "Bien o servicio recibido" in page
    assert "Válida con advertencias" in page
    assert "días hábiles" in page
    assert "(Nota crédito)" in page
    assert "2 documentos recibidos" in page


@pytest.mark.parametrize("state", [DocumentState.ACCEPTED, DocumentState.CLAIMED, DocumentState.TACITLY_ACCEPTED])
def test_a_decided_invoice_shows_no_countdown(app_and_db, client, state):
    """Its window's end stays on file, but once accepted or claimed a "Plazo vencido" would be a false alarm."""
    _, session = app_and_db
    past = datetime.now(UTC) - timedelta(days=3)
    add_document(session, 1, state=DocumentState.GOODS_RECEIVED, window_ends_at=past)
    add_document(session, 2, state=state, window_ends_at=past)
    page = client.get("/").get_data(as_text=True)
    rows = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", page.split("<tbody>", 1)[1], re.S):
        cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        rows[re.search(r"FE\d+", row).group()] = cells[-2]  # the Plazo column, before Asignado a
    assert rows == {"FE1": "Plazo vencido", "FE2": "—"}


def test_keyset_pages_cover_every_document_once(app_and_db, client):
    _, session = app_and_db
    for n in range(1, 121):
        add_document(session, n)
    seen: list[str] = []
    url = "/"
    for _ in range(5):  # 120 documents at 50 a page: 3 pages; a loop that repeats a page must not run forever
        page = client.get(url).get_data(as_text=True)
        seen += [f"FE{n}" for n in range(120, 0, -1) if f">FE{n} <" in page]
        match = re.search(r'href="(/\?after=[^"]+)"', page)
        if match is None:
            break
        url = match.group(1)
    assert len(seen) == 120
    assert len(set(seen)) == 120
    assert client.get("/?after=2025-03-03T00:00:00+00:00_5").status_code == 400


def test_quarantine_page_shows_the_reason(app_and_db, client):
    _, session = app_and_db
    session.add(
        MailMessage(
            mailbox="INBOX",
            uidvalidity=1,
            uid=7,
            sender="desconocido@spam.test",
            subject="Factura urgente",
            received_at=datetime(2025, 3, 3, 12, 0, tzinfo=UTC),
            blob_key="c" * 64,
            status=MailStatus.QUARANTINED,
            reason=QuarantineReason.NO_DOCUMENT,
            reason_detail="El correo no trae ningún documento electrónico (XML).",
        )
    )
    session.flush()
    assert "1 en cuarentena" in client.get("/").get_data(as_text=True)
    page = client.get("/cuarentena").get_data(as_text=True)
    assert "Sin documento electrónico" in page
    assert "desconocido@spam.test" in page
    assert session.scalar(sa.select(sa.func.count()).select_from(MailMessage)) == 1
