"""The buyer's purchase order on a received document (cac:OrderReference/cbc:ID): kept in a column so that the inbox,
its CSV and the API can show it and find a document by it (an ERP matching an invoice to its order asks for it).

The rows already on file get theirs from their signed XML right after, in `buzon init` (inbox/order_backfill.py): a
migration has no blob store to read them from.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

INDEX = "ix_received_documents_order_reference"
WITH_ORDER = "order_reference IS NOT NULL"


def upgrade() -> None:
    op.add_column("received_documents", sa.Column("order_reference", sa.String(length=100), nullable=True))
    op.create_index(INDEX, "received_documents", ["order_reference", "id"], sqlite_where=sa.text(WITH_ORDER),
                    postgresql_where=sa.text(WITH_ORDER))  # fmt: skip


def downgrade() -> None:
    op.drop_index(INDEX, table_name="received_documents")
    op.drop_column("received_documents", "order_reference")
