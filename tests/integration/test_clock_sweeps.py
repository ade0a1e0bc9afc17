"""The deadline sweep's set-based shape (issue 21) on real SQLite and PostgreSQL: windows closed in batches, one audit
entry per document as before, the monthly totals untouched, reminders to the right people."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from dian.calendar import BusinessCalendar
from dian.codes import DocumentState, DocumentType, Environment
from events.clock import CLOSED_NOTE, close_windows, send_reminders
from store.blobs import BlobStore
from store.models import AuditEntry, DocumentTotal, OutgoingMail, ReceivedDocument, Role, SupplierTotal, User, Verdict
from tests.services import migrated_database

pytestmark = pytest.mark.integration

NOW = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)  # a Wednesday, 10:00 in Bogotá
GR = DocumentState.GOODS_RECEIVED


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path: Path):
    with migrated_database(request.param, tmp_path) as engine:
        yield engine


def _document(n: int, *, state: DocumentState = GR, ends: datetime | None = None, closed: bool = False, **more):
    running = state is GR and not closed and ends is not None
    values = dict(
        cufe=f"{n:096x}",
        document_type=DocumentType.INVOICE,
        environment=Environment.PRODUCTION,
        number=f"FE{n}",
        issuer_nit=f"90000000{n % 3}",
        issuer_name=f"Proveedor {n % 3} S.A.S.",
        buyer_nit="900123456",
        buyer_name="Empresa Demo S.A.S.",
        issue_date=date(2026, 3, 2),
        issued_at=datetime(2026, 2, 27, tzinfo=UTC) + timedelta(days=n % 4),  # February and March in Bogotá
        line_extension_amount=Decimal("100.00"),
        tax_exclusive_amount=Decimal("100.00"),
        tax_inclusive_amount=Decimal("119.00"),
        payable_amount=Decimal("1000.00") + n,
        signed_xml_blob="b" * 64,
        verdict=Verdict.VALID,
        state=state,
        window_ends_at=ends,
        window_closed_at=NOW - timedelta(days=5) if closed else None,
        open_window_ends_at=ends if running else None,  # as store.state.refresh_state keeps it
        events_synced_at=NOW - timedelta(minutes=10),
    )
    values.update(more)
    return ReceivedDocument(**values)


def _totals(engine: sa.Engine) -> list[tuple]:
    with engine.connect() as conn:
        t = DocumentTotal
        by_state = conn.execute(
            sa.select(t.month, t.issuer_nit, t.state, t.documents, t.cop_amount)
            .where(t.documents != 0)
            .order_by(t.month, t.issuer_nit, t.state)
        ).all()
        by_supplier = conn.execute(
            sa.select(SupplierTotal.month, SupplierTotal.issuer_nit, SupplierTotal.documents, SupplierTotal.cop_amount)
            .where(SupplierTotal.documents != 0)
            .order_by(SupplierTotal.month, SupplierTotal.issuer_nit)
        ).all()
    return [tuple(r) for r in by_state] + [tuple(r) for r in by_supplier]


def test_lapsed_windows_close_in_batches_with_one_audit_entry_each_and_the_totals_unchanged(engine) -> None:
    sessions = sessionmaker(engine)
    lapsed = [_document(n, ends=NOW - timedelta(hours=n)) for n in range(1, 8)]  # oldest end: n = 7
    running = [_document(n, ends=NOW + timedelta(hours=n)) for n in range(10, 13)]
    closed_before = [_document(n, ends=NOW - timedelta(days=9), closed=True) for n in range(20, 24)]
    decided = [_document(n, state=DocumentState.ACCEPTED, ends=NOW - timedelta(days=2)) for n in range(30, 33)]
    with sessions() as s:
        s.add_all(lapsed + running + closed_before + decided)
        s.commit()
        ids = {d.cufe: d.id for d in lapsed}
        untouched = {
            d.id: (d.window_closed_at, d.open_window_ends_at, d.events_synced_at)
            for d in running + closed_before + decided
        }
    totals = _totals(engine)
    assert totals, "the triggers must have counted the documents, or the comparison proves nothing"

    report = close_windows(sessions, SimpleNamespace(calendar=BusinessCalendar()), now=lambda: NOW, batch=3)

    expected_order = [ids[d.cufe] for d in sorted(lapsed, key=lambda d: d.window_ends_at)]
    assert report.closed == expected_order  # oldest end first, across three batches of 3, 3 and 1
    with sessions() as s:
        for document_id in expected_order:
            document = s.get(ReceivedDocument, document_id)
            assert document.window_closed_at == NOW
            assert document.open_window_ends_at is None
            assert document.events_synced_at is None
            assert document.state is GR
        for document_id, before in untouched.items():
            document = s.get(ReceivedDocument, document_id)
            assert (document.window_closed_at, document.open_window_ends_at, document.events_synced_at) == before
        entries = s.execute(sa.select(AuditEntry).order_by(AuditEntry.id)).scalars().all()
    assert [e.data["document_id"] for e in entries] == expected_order
    by_id = {d.id: d for d in lapsed}
    for audit in entries:
        document = by_id[audit.data["document_id"]]
        assert (audit.at, audit.actor, audit.action, audit.subject, audit.source) == (
            NOW, "job:deadlines", "document.window.closed", document.cufe, None
        )  # fmt: skip
        assert audit.data == {
            "document_id": document.id,
            "window_ended_at": document.window_ends_at.isoformat(),
            "note": CLOSED_NOTE,
        }
    assert _totals(engine) == totals  # closing changes no state: the triggers' figures stay as they were

    again = close_windows(sessions, SimpleNamespace(calendar=BusinessCalendar()), now=lambda: NOW + timedelta(hours=1))
    assert again.closed == []
    with sessions() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == len(lapsed)


def test_a_batch_the_size_of_the_due_windows_ends_the_sweep_after_one_empty_look(engine) -> None:
    sessions = sessionmaker(engine)
    with sessions() as s:
        s.add_all([_document(n, ends=NOW - timedelta(hours=n)) for n in range(1, 5)])
        s.commit()
    report = close_windows(sessions, SimpleNamespace(calendar=BusinessCalendar()), now=lambda: NOW, batch=2)
    assert len(report.closed) == 4 and len(set(report.closed)) == 4


def test_reminders_go_to_the_assigned_clerk_or_else_every_active_clerk(engine, tmp_path: Path) -> None:
    sessions = sessionmaker(engine)
    soon = NOW + timedelta(hours=3)  # within 8 business hours
    with sessions() as s:
        s.add_all(
            [
                User(username="lucia", email="lucia@empresa.test", role=Role.CLERK),
                User(username="mario", email="mario@empresa.test", role=Role.CLERK),
                User(username="ana", email="ana@empresa.test", role=Role.ADMIN),  # assigned, not a clerk
                User(username="ido", email="ido@empresa.test", role=Role.CLERK, active=False),
            ]
        )
        documents = {
            "lucia": _document(1, ends=soon, assigned_to="lucia"),
            "ana": _document(2, ends=soon, assigned_to="ana"),
            "ido": _document(3, ends=soon, assigned_to="ido"),  # disabled: every active clerk instead
            "nobody": _document(4, ends=soon),
            "later": _document(5, ends=NOW + timedelta(days=6), assigned_to="lucia"),  # not due yet
        }
        s.add_all(documents.values())
        s.commit()
        ids = {name: d.id for name, d in documents.items()}
    ctx = SimpleNamespace(calendar=BusinessCalendar(), blobs=BlobStore(tmp_path / "blobs"))
    report = send_reminders(sessions, ctx, hours=8, from_address="buzon@empresa.test", now=lambda: NOW)
    assert sorted(report.reminded) == sorted(ids[n] for n in ("lucia", "ana", "ido", "nobody"))
    with sessions() as s:
        sent = {row.document_id: row.to_address for row in s.execute(sa.select(OutgoingMail)).scalars()}
    everyone = "lucia@empresa.test, mario@empresa.test"
    assert sent == {
        ids["lucia"]: "lucia@empresa.test",
        ids["ana"]: "ana@empresa.test",
        ids["ido"]: everyone,
        ids["nobody"]: everyone,
    }
    again = send_reminders(sessions, ctx, hours=8, from_address="buzon@empresa.test", now=lambda: NOW)
    assert again.reminded == []  # once per document and window end
