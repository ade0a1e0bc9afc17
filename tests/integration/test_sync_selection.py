"""The events sync's selection read from its own partial index (issue 21, migration 0012), on real SQLite and
PostgreSQL: the same documents by the same rules as the query it replaces, the documents past the horizon marked once
and left out, a longer horizon taking them back, and plans that walk the index with no sort."""

from __future__ import annotations

import contextlib
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from dian.codes import DocumentState, DocumentType, Environment
from events.sync import documents_to_sync, sync_events
from store.db import make_engine
from store.models import EVENTS_SYNC_STATES, EVENTS_SYNC_WATCHED, ReceivedDocument, Verdict
from tests.services import migrated_database

pytestmark = pytest.mark.integration

NOW = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)
EVERY = timedelta(hours=1)
INDEX = "ix_received_documents_events_sync"


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path: Path):
    with migrated_database(request.param, tmp_path) as engine:
        yield engine


def _document(n: int, *, issued_days_ago: float, synced: datetime | None, state=DocumentState.ACCEPTED,
              document_type=DocumentType.INVOICE) -> ReceivedDocument:  # fmt: skip
    issued = NOW - timedelta(days=issued_days_ago)
    return ReceivedDocument(
        cufe=f"{n:096x}",
        document_type=document_type,
        environment=Environment.PRODUCTION,
        number=f"FE{n}",
        issuer_nit="900000001",
        issuer_name="Proveedor S.A.S.",
        buyer_nit="900123456",
        buyer_name="Empresa Demo S.A.S.",
        issue_date=issued.date(),
        issued_at=issued,
        line_extension_amount=Decimal("100.00"),
        tax_exclusive_amount=Decimal("100.00"),
        tax_inclusive_amount=Decimal("119.00"),
        payable_amount=Decimal("119.00"),
        signed_xml_blob="b" * 64,
        verdict=Verdict.VALID,
        state=state,
        events_synced_at=synced,
    )


def _expected(documents: list[ReceivedDocument], now: datetime, max_age_days: int, limit: int) -> list[int]:
    """The rules as the query before 0012 wrote them: open invoices of the horizon not asked about for ``EVERY``,
    never-asked first, then by the last ask, then by id."""
    since = now - timedelta(days=max_age_days)
    due = [d for d in documents
           if d.state in EVENTS_SYNC_STATES and d.document_type.is_invoice and d.issued_at >= since
           and (d.events_synced_at is None or d.events_synced_at <= now - EVERY)]  # fmt: skip
    due.sort(key=lambda d: (d.events_synced_at is not None, d.events_synced_at or NOW, d.id))
    return [d.id for d in due[:limit]]


def _select(engine: sa.Engine, now: datetime = NOW, *, max_age_days: int = 180, limit: int = 200) -> list[int]:
    with sessionmaker(engine)() as s:
        chosen = documents_to_sync(s, now, every=EVERY, max_age_days=max_age_days, limit=limit)
        s.commit()
    return chosen


def _aged_out(engine: sa.Engine) -> dict[int, datetime]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(ReceivedDocument.id, ReceivedDocument.events_sync_aged_out)
                            .where(ReceivedDocument.events_sync_aged_out.is_not(None))).all()  # fmt: skip
    return dict(rows)


def _mixed_history(engine: sa.Engine, count: int, seed: int) -> list[ReceivedDocument]:
    """Documents of every kind the rules tell apart: states, types, never asked, asked long ago, just asked, inside
    and outside the horizon, and ties on the last ask."""
    pick = random.Random(seed)
    states = list(DocumentState)
    types = [DocumentType.INVOICE, DocumentType.INVOICE, DocumentType.CREDIT_NOTE, *DocumentType]
    asks = [None, NOW - timedelta(days=3), NOW - timedelta(minutes=30), NOW - EVERY]
    documents = []
    for n in range(count):
        synced = pick.choice([*asks, NOW - timedelta(minutes=pick.randrange(1, 60 * 24 * 400))])
        # Some on a horizon's very edge (180, 90 and 365 days before NOW and before an hour later): still in it.
        edge = pick.choice([180, 90, 365]) - pick.choice([0, 1 / 24])
        issued = pick.choice([edge, *(pick.uniform(0, 400) for _ in range(5))])
        documents.append(_document(n, issued_days_ago=issued, synced=synced,
                                   state=pick.choice(states), document_type=pick.choice(types)))  # fmt: skip
    with sessionmaker(engine, expire_on_commit=False)() as s:
        s.add_all(documents)
        s.commit()
    return documents


@pytest.mark.parametrize("limit", [1, 7, 200, 10_000])
def test_the_same_documents_by_the_same_rules_as_before(engine, limit) -> None:
    documents = _mixed_history(engine, 600, seed=limit)
    expected = _expected(documents, NOW, 180, limit)
    assert expected, "the history holds due documents"
    assert _select(engine, limit=limit) == expected
    # Asked again (a sweep that synced nothing): the same answer, the marks already made change nothing.
    assert _select(engine, limit=limit) == expected
    # An hour later, a shorter horizon, then the longer one back: each time what the old query would have chosen.
    later = NOW + timedelta(hours=1)
    for now, days in ((later, 180), (later, 90), (later, 365), (later, 180)):
        since = now - timedelta(days=days)
        expected = _expected(documents, now, days, limit)
        assert _select(engine, now, max_age_days=days, limit=limit) == expected, (now, days)
        # Nothing in the horizon stays marked once a selection with that horizon ran (the marks are only ever the
        # documents' issued_at, before the horizon).
        marked = _aged_out(engine)
        by_id = {d.id: d for d in documents}
        assert all(at == by_id[i].issued_at and at < since for i, at in marked.items())


def test_a_document_that_ages_out_leaves_the_selection_and_the_index_once(engine) -> None:
    sessions = sessionmaker(engine, expire_on_commit=False)
    with sessions() as s:
        young = _document(1, issued_days_ago=10, synced=None)
        ageing = _document(2, issued_days_ago=179, synced=NOW - timedelta(days=2))
        claimed = _document(3, issued_days_ago=200, synced=None, state=DocumentState.CLAIMED)  # not in the index
        note = _document(4, issued_days_ago=200, synced=None, document_type=DocumentType.CREDIT_NOTE)
        s.add_all([young, ageing, claimed, note])
        s.commit()
    assert _select(engine) == [young.id, ageing.id]
    assert _aged_out(engine) == {}
    two_days_on = NOW + timedelta(days=2)  # 181 days after its issue
    assert _select(engine, two_days_on) == [young.id]
    assert _aged_out(engine) == {ageing.id: ageing.issued_at}  # marked with its issue time; the others untouched
    with engine.connect() as conn:
        in_index = conn.execute(sa.select(sa.func.count()).select_from(ReceivedDocument)
                                .where(sa.text(EVENTS_SYNC_WATCHED))).scalar()  # fmt: skip
    assert in_index == 1  # only the young one is left for the sync to walk
    # Nothing about it changed but the mark: not its state, not its last ask, not its updated_at.
    with sessions() as s:
        row = s.get(ReceivedDocument, ageing.id)
        assert (row.state, row.events_synced_at, row.updated_at) == (ageing.state, ageing.events_synced_at,
                                                                     ageing.updated_at)  # fmt: skip
    # A horizon made longer takes it back at once, and it is chosen again.
    assert _select(engine, two_days_on, max_age_days=365) == [young.id, ageing.id]
    assert _aged_out(engine) == {}


def test_the_sync_job_keeps_the_marks_it_makes(engine) -> None:
    sessions = sessionmaker(engine, expire_on_commit=False)
    with sessions() as s:
        old = _document(1, issued_days_ago=300, synced=None)
        s.add(old)
        s.commit()
    report = sync_events(sessions, ctx=None, client=None, now=lambda: NOW)  # nothing due: neither is touched
    assert report.documents == 0
    assert _aged_out(engine) == {old.id: old.issued_at}


def test_each_query_walks_the_sync_index_in_order_with_no_sort(engine) -> None:
    _mixed_history(engine, 300, seed=3)
    statements: list[tuple[str, object]] = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", keep)
    try:
        _select(engine, limit=5)  # small: several batches, both ranges, keyset pages
    finally:
        sa.event.remove(engine, "before_cursor_execute", keep)
    assert len(statements) >= 2
    with engine.connect() as conn:
        postgres = engine.dialect.name == "postgresql"
        if postgres:  # on so small a table a sequential scan is cheaper; what is checked is that the index can serve
            conn.exec_driver_sql("SET enable_seqscan = off")
            conn.exec_driver_sql("SET enable_bitmapscan = off")
        for statement, parameters in statements:
            explain = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
            plan = "\n".join(str(row[-1]) for row in conn.exec_driver_sql(explain + statement, parameters))
            assert INDEX in plan, plan
            assert "Sort" not in plan and "TEMP B-TREE" not in plan, plan


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_migration_0012_marks_the_open_invoices_already_past_the_default_horizon(kind, tmp_path) -> None:
    from alembic import command

    from store.db import alembic_config
    from store.models import DocumentTotal
    from tests.services import fresh_postgres_database

    url = f"sqlite:///{tmp_path / 'at-0011.sqlite3'}"
    with fresh_postgres_database() if kind == "postgresql" else contextlib.nullcontext(url) as url:
        engine = make_engine(url)
        try:
            command.upgrade(alembic_config(engine), "0011")
            now = datetime.now(UTC)
            rows = [
                (1, 200, DocumentState.ACCEPTED, DocumentType.INVOICE),  # past the horizon: marked
                (2, 10, DocumentState.ACCEPTED, DocumentType.INVOICE),  # young: left in the queue
                (3, 200, DocumentState.CLAIMED, DocumentType.INVOICE),  # closed: never in the queue
                (4, 200, DocumentState.VALIDATED, DocumentType.CREDIT_NOTE),  # not an invoice
            ]
            table = ReceivedDocument.__table__
            with engine.begin() as conn:
                for n, days, state, document_type in rows:
                    d = _document(n, issued_days_ago=0, synced=None, state=state, document_type=document_type)
                    values = {
                        c.name: getattr(d, c.key)
                        for c in table.columns
                        if c.name not in ("id", "events_sync_aged_out") and getattr(d, c.key) is not None
                    }
                    values["issued_at"] = now - timedelta(days=days)
                    conn.execute(sa.insert(table).values(id=n, **values))  # fmt: skip
            before = _snapshot(engine, DocumentTotal)
            command.upgrade(alembic_config(engine), "head")
            after = _snapshot(engine, DocumentTotal)
            assert after == before  # neither updated_at nor the triggers' monthly totals moved
            marked = _aged_out(engine)
            assert list(marked) == [1]
            with engine.connect() as conn:
                issued = conn.execute(sa.select(ReceivedDocument.issued_at).where(ReceivedDocument.id == 1)).scalar()
            assert marked[1] == issued
            assert _select(engine, now) == [2]
        finally:
            engine.dispose()


def _snapshot(engine: sa.Engine, totals) -> tuple:
    with engine.connect() as conn:
        updated = conn.execute(sa.text("SELECT id, updated_at FROM received_documents ORDER BY id")).all()
        counted = conn.execute(sa.select(totals.month, totals.state, totals.documents).order_by(
            totals.month, totals.state)).all()  # fmt: skip
    return [tuple(r) for r in updated], [tuple(r) for r in counted]
