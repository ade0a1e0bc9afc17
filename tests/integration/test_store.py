"""The store on real SQLite and PostgreSQL: migrations, schema parity, the append-only audit log, column rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from dian.codes import DocumentState, DocumentType, Environment, EventCode
from store.audit import AuditLogIsAppendOnly, mask_secrets, record
from store.db import current_revision, head_revision, make_engine, migrate
from store.models import (
    AuditEntry,
    Base,
    Direction,
    DocumentEvent,
    DocumentTotal,
    ReceivedDocument,
    SubmissionState,
    SupplierTotal,
    Verdict,
)
from tests.integration.schema import snapshot
from tests.services import fresh_postgres_database

pytestmark = pytest.mark.integration


def test_migrations_and_models_agree(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []
    assert current_revision(engine) == head_revision()


def test_migrating_twice_changes_nothing_and_both_backends_get_one_schema(tmp_path):
    sqlite = make_engine(f"sqlite:///{tmp_path / 'b.sqlite3'}")
    migrate(sqlite)
    first = snapshot(sqlite)
    migrate(sqlite)
    assert snapshot(sqlite) == first
    with fresh_postgres_database() as url:
        pg = make_engine(url)
        migrate(pg)
        pg_first = snapshot(pg)
        migrate(pg)
        assert snapshot(pg) == pg_first
        pg.dispose()
    assert set(first) == {
        "api_tokens",
        "approvals",
        "audit_entries",
        "company_stamp",
        "dian_certificates",
        "document_comments",
        "login_throttles",
        "counters",
        "document_events",
        "document_totals",
        "event_parties",
        "job_runs",
        "legal_holds",
        "mail_messages",
        "numbering_ranges",
        "outbound_documents",
        "outgoing_mail",
        "received_documents",
        "supplier_totals",
        "suppliers",
        "support_purchases",
        "users",
        "loose_answers",
        "title_alerts",
        "value_titles",
        "webhook_deliveries",
    }
    assert pg_first == first
    sqlite.dispose()


def _document(**overrides) -> ReceivedDocument:
    values = dict(
        cufe="a" * 96,
        document_type=DocumentType.INVOICE,
        environment=Environment.PRODUCTION,
        number="FE123",
        prefix="FE",
        issuer_nit="900000001",
        issuer_name="Proveedor S.A.S.",
        buyer_nit="900123456",
        buyer_name="Empresa Demo S.A.S.",
        issue_date=date(2025, 3, 3),
        issued_at=datetime(2025, 3, 3, 15, 0, tzinfo=UTC),
        line_extension_amount=Decimal("100.00"),
        tax_exclusive_amount=Decimal("100.00"),
        tax_inclusive_amount=Decimal("119.00"),
        payable_amount=Decimal("119.00"),
        signed_xml_blob="b" * 64,
        verdict=Verdict.VALID,
    )
    values.update(overrides)
    return ReceivedDocument(**values)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_migration_0005_marks_the_claim_windows_that_still_run(kind, tmp_path):
    """A database upgraded with documents on file sorts them as one filed after the upgrade would be."""

    def check(url: str) -> None:
        engine = make_engine(url)
        migrate(engine, "0004")
        ends = datetime(2026, 3, 9, 4, 59, tzinfo=UTC)
        # The table as revision 0004 had it: the model's later columns (0008's search_text has a default) left out.
        table = sa.Table("received_documents", sa.MetaData(), *(c._copy() for c in ReceivedDocument.__table__.columns
                                                                if c.name != "search_text"))  # fmt: skip
        rows = [("goods_received", None), ("goods_received", ends), ("accepted", None), ("validated", None)]
        with engine.begin() as conn:
            for n, (state, closed) in enumerate(rows, 1):
                conn.execute(
                    sa.insert(table).values(
                        cufe=f"{n:096x}", document_type="01", environment="1", number=f"FE{n}", prefix="",
                        issuer_nit="900000001", issuer_name="P", buyer_nit="900123456", buyer_name="C",
                        issue_date=date(2026, 3, 2), issued_at=ends, currency="COP", line_extension_amount=1,
                        tax_exclusive_amount=1, tax_inclusive_amount=1, payable_amount=1, taxes=[], lines=[],
                        line_count=0, signed_xml_blob="b" * 64, verdict="valid", report={}, state=state,
                        window_ends_at=ends if state != "validated" else None, window_closed_at=closed,
                    )
                )  # fmt: skip
        migrate(engine)
        with engine.connect() as conn:
            found = conn.execute(sa.select(table.c.number, table.c.open_window_ends_at).order_by(table.c.id)).all()
        assert found == [("FE1", ends), ("FE2", None), ("FE3", None), ("FE4", None)]
        engine.dispose()

    if kind == "sqlite":
        check(f"sqlite:///{tmp_path / 'upgraded.sqlite3'}")
    else:
        with fresh_postgres_database() as url:
            check(url)


def test_enum_columns_store_the_dian_code_and_money_stays_decimal(db):
    doc = _document(payable_amount=Decimal("1234567.89"))
    db.add(doc)
    db.flush()
    db.add(
        DocumentEvent(document_id=doc.id, code=EventCode.ACUSE_RECIBO, direction=Direction.EMITTED, actor="user:ana")
    )
    db.flush()
    raw = db.execute(sa.text("SELECT code, submission_state FROM document_events")).one()
    assert tuple(raw) == ("030", "draft")
    raw_doc = db.execute(sa.text("SELECT document_type, environment, state FROM received_documents")).one()
    assert tuple(raw_doc) == ("01", "1", "validated")
    db.expire_all()
    again = db.get(ReceivedDocument, doc.id)
    assert again.payable_amount == Decimal("1234567.89")
    assert isinstance(again.payable_amount, Decimal)


def test_times_are_stored_in_utc_and_naive_times_refused(db):
    bogota = timezone(timedelta(hours=-5))
    doc = _document(issued_at=datetime(2025, 3, 3, 22, 30, tzinfo=bogota))
    db.add(doc)
    db.flush()
    db.expire_all()
    again = db.get(ReceivedDocument, doc.id)
    assert again.issued_at == datetime(2025, 3, 4, 3, 30, tzinfo=UTC)
    assert again.issued_at.tzinfo is not None
    db.add(_document(cufe="c" * 96, issued_at=datetime(2025, 3, 3, 10, 0)))
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        db.flush()


def test_cufe_is_unique(db):
    db.add(_document())
    db.flush()
    db.add(_document(number="FE124"))
    with pytest.raises(sa.exc.IntegrityError):
        db.flush()


def test_one_live_emitted_event_per_code_and_document(db):
    doc = _document()
    db.add(doc)
    db.flush()

    def event(state: SubmissionState, direction: Direction = Direction.EMITTED) -> DocumentEvent:
        return DocumentEvent(
            document_id=doc.id, code=EventCode.ACUSE_RECIBO, direction=direction, submission_state=state, actor="t"
        )

    db.add(event(SubmissionState.REJECTED))
    db.add(event(SubmissionState.REJECTED))
    db.add(event(SubmissionState.REGISTERED, Direction.OBSERVED))
    db.add(event(SubmissionState.REGISTERED))
    db.flush()
    db.add(event(SubmissionState.SIGNED))
    with pytest.raises(sa.exc.IntegrityError):
        db.flush()


def test_audit_entries_cannot_be_changed_or_deleted_through_the_orm(db):
    entry = record(db, actor="user:ana", action="document.event.030.sent", subject="FE123", source="127.0.0.1")
    db.flush()
    entry.action = "something.else"
    with pytest.raises(AuditLogIsAppendOnly, match="cannot be changed"):
        db.flush()
    db.rollback()

    entry = record(db, actor="user:ana", action="login")
    db.flush()
    db.delete(entry)
    with pytest.raises(AuditLogIsAppendOnly, match="cannot be deleted"):
        db.flush()
    db.rollback()

    with pytest.raises(AuditLogIsAppendOnly, match="bulk"):
        db.execute(sa.update(AuditEntry).values(actor="x"))
    with pytest.raises(AuditLogIsAppendOnly, match="bulk"):
        db.execute(sa.delete(AuditEntry))


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_entries SET actor = 'mallory'",
        "DELETE FROM audit_entries",
    ],
)
def test_audit_entries_cannot_be_changed_through_plain_sql(engine, statement):
    with engine.connect() as conn:
        tx = conn.begin()
        conn.execute(
            sa.text("INSERT INTO audit_entries (at, actor, action, data) VALUES (:at, 'user:ana', 'login', '{}')"),
            {
                "at": datetime(2025, 1, 1, 12, 0)
                if engine.dialect.name == "sqlite"
                else datetime(2025, 1, 1, tzinfo=UTC)
            },
        )
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            conn.execute(sa.text(statement))
        tx.rollback()


def test_truncate_is_refused_on_postgresql(postgresql_engine):
    with postgresql_engine.connect() as conn:
        tx = conn.begin()
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            conn.execute(sa.text("TRUNCATE audit_entries"))
        tx.rollback()


def test_audit_data_masks_secrets(db):
    entry = record(
        db,
        actor="user:admin",
        action="settings.changed",
        data={"imap": {"password": "hunter2", "host": "mail"}, "token": "abc", "items": [{"pin": "1"}]},
    )
    db.flush()
    assert entry.data == {"imap": {"password": "***", "host": "mail"}, "token": "***", "items": [{"pin": "***"}]}
    assert mask_secrets({"software_pin": "x"}) == {"software_pin": "***"}


def _totals_from_documents(db) -> dict:
    """document_totals as it must be: the documents grouped by Bogotá month of issued_at, supplier and state."""
    bogota = timezone(timedelta(hours=-5))
    expected: dict = {}
    for doc in db.scalars(sa.select(ReceivedDocument)):
        month = doc.issued_at.astimezone(bogota).date().replace(day=1)
        n, amount, other = expected.get((month, doc.issuer_nit, doc.state.value), (0, Decimal(0), 0))
        cop = doc.currency == "COP"
        expected[(month, doc.issuer_nit, doc.state.value)] = (
            n + 1, amount + (doc.payable_amount if cop else 0), other + (0 if cop else 1)
        )  # fmt: skip
    return expected


def _totals_kept(db) -> dict:
    rows = db.execute(
        sa.select(DocumentTotal.month, DocumentTotal.issuer_nit, DocumentTotal.state, DocumentTotal.documents,
                  DocumentTotal.cop_amount, DocumentTotal.other_currency).where(DocumentTotal.documents != 0)
    ).all()  # fmt: skip
    return {(m, nit, st.value): (n, Decimal(a).quantize(Decimal("0.01")), o) for m, nit, st, n, a, o in rows}


def _by_supplier(totals: dict) -> dict:
    """The per-state totals added up per month and supplier."""
    out: dict = {}
    for (month, nit, _), (n, amount, other) in totals.items():
        was = out.get((month, nit), (0, Decimal(0), 0))
        out[(month, nit)] = (was[0] + n, was[1] + amount, was[2] + other)
    return out


def _supplier_totals_kept(db) -> dict:
    rows = db.execute(
        sa.select(SupplierTotal.month, SupplierTotal.issuer_nit, SupplierTotal.documents, SupplierTotal.cop_amount,
                  SupplierTotal.other_currency).where(SupplierTotal.documents != 0)
    ).all()  # fmt: skip
    return {(m, nit): (n, Decimal(a).quantize(Decimal("0.01")), o) for m, nit, n, a, o in rows}


def _both_agree(db) -> None:
    expected = _totals_from_documents(db)
    assert _totals_kept(db) == expected
    assert _supplier_totals_kept(db) == _by_supplier(expected)


def test_document_totals_follow_every_insert_update_and_delete(db):
    """Migration 0009's triggers keep document_totals and supplier_totals equal to the documents grouped, through the
    ORM and plain SQL, with the month cut at midnight in Bogotá (21:00 on 31 March there is 02:00 on 1 April UTC)."""
    docs = [
        _document(cufe="1" * 96, issued_at=datetime(2026, 3, 31, 21, tzinfo=timezone(timedelta(hours=-5)))),
        _document(cufe="2" * 96, issued_at=datetime(2026, 4, 1, 5, 30, tzinfo=UTC), payable_amount=Decimal("10.25")),
        _document(cufe="3" * 96, issued_at=datetime(2026, 4, 2, tzinfo=UTC), currency="USD"),
        _document(cufe="4" * 96, issuer_nit="800000009", issuer_name="Café Ñandú", payable_amount=Decimal("5.50")),
    ]
    db.add_all(docs)
    db.flush()
    _both_agree(db)
    assert (date(2026, 3, 1), "900000001", "validated") in _totals_kept(db)  # Bogotá's 31 March, not UTC's 1 April
    docs[1].state = DocumentState.ACKNOWLEDGED
    docs[0].payable_amount = Decimal("1000.00")
    docs[2].currency = "COP"
    db.flush()
    _both_agree(db)
    db.execute(sa.text("UPDATE received_documents SET state = 'accepted' WHERE issuer_nit = '800000009'"))
    db.execute(sa.update(ReceivedDocument).where(ReceivedDocument.id == docs[0].id).values(
        issued_at=datetime(2026, 5, 5, tzinfo=UTC)))  # fmt: skip
    db.delete(docs[2])
    db.flush()
    db.expire_all()
    _both_agree(db)
    name, text = db.execute(
        sa.select(SupplierTotal.issuer_name, SupplierTotal.supplier_text).where(
            SupplierTotal.issuer_nit == "800000009", SupplierTotal.documents > 0
        )
    ).one()
    assert (name, text) == ("Café Ñandú", "800000009\x1fcafe nandu")  # the folded name the suppliers list searches
