"""The events sync reads only what it can take (issue 21).

* received_documents.events_sync_aged_out: a document's issued_at once the events sync (events/sync.py) found it
  older than its horizon (events.sync_max_age_days), NULL before.
* ix_received_documents_events_sync: (events_synced_at, id, issued_at) of the open invoices not aged out, the sync's
  own order (never asked first, then the longest unasked). The sync walks it from the start and stops after the
  documents it takes; an aged-out document it meets there is marked, once, and leaves the index. Before, the sync
  read every open invoice of the horizon through the issued_at index and sorted them (49k rows at 1M documents, for
  200).
* ix_received_documents_events_aged_out: the aged-out ones only, by that date, so a longer horizon takes them back
  with one probe.

The open invoices already past the default horizon (180 days) are marked here, in one UPDATE: most of the history,
since accepted invoices stay open for RADIAN (855k of 1M documents in benchmarks/sweeps.py's ten years, about a
minute of server CPU on the 2-core development machine). Left to the sync, its first run would mark them in its own
batches, slower and in one long transaction; it still marks what a shorter horizon leaves out and takes back what a
longer one lets in. The column is added in place (no batch copy), so migration 0009's triggers on received_documents
stay; none of them watches these columns, nor updated_at.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

from store.types import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

QUEUE = "ix_received_documents_events_sync"
AGED_OUT = "ix_received_documents_events_aged_out"
# store.models.EVENTS_SYNC_WATCHED as this revision writes it.
WATCHED = (
    "state IN ('validated', 'unconfirmed', 'acknowledged', 'goods_received', 'accepted', 'tacitly_accepted', 'title')"
    " AND document_type IN ('01', '02', '03', '04') AND events_sync_aged_out IS NULL"
)
ONLY_AGED_OUT = "events_sync_aged_out IS NOT NULL"
DEFAULT_HORIZON = timedelta(days=180)  # events.sync_max_age_days's default


def mark_aged_out(conn: sa.Connection, now: datetime) -> int:
    """Mark the open invoices issued before the default horizon, as the sync would on meeting them."""
    docs = sa.table("received_documents", sa.column("issued_at", UTCDateTime()),
                    sa.column("events_sync_aged_out", UTCDateTime()))  # fmt: skip
    mark = (
        sa.update(docs)
        .where(sa.text(WATCHED), docs.c.issued_at < now - DEFAULT_HORIZON)
        .values(events_sync_aged_out=docs.c.issued_at)
    )
    return conn.execute(mark).rowcount


def upgrade() -> None:
    op.add_column("received_documents", sa.Column("events_sync_aged_out", UTCDateTime(), nullable=True))
    mark_aged_out(op.get_bind(), datetime.now(UTC))  # before the indexes: they are built once, not kept row by row
    op.create_index(
        QUEUE,
        "received_documents",
        ["events_synced_at", "id", "issued_at"],
        sqlite_where=sa.text(WATCHED),
        postgresql_where=sa.text(WATCHED),
    )
    op.create_index(
        AGED_OUT,
        "received_documents",
        ["events_sync_aged_out"],
        sqlite_where=sa.text(ONLY_AGED_OUT),
        postgresql_where=sa.text(ONLY_AGED_OUT),
    )


def downgrade() -> None:
    op.drop_index(AGED_OUT, table_name="received_documents")
    op.drop_index(QUEUE, table_name="received_documents")
    op.drop_column("received_documents", "events_sync_aged_out")  # in place (SQLite >= 3.35): the triggers stay
