"""The inbox's "nearest deadline first": the end of each claim window that still runs, with its keyset index.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from store.types import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("received_documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("open_window_ends_at", UTCDateTime(), nullable=True))
    # The windows that run now: what store.state.refresh_state and the deadline sweep keep from here on.
    op.execute(
        "UPDATE received_documents SET open_window_ends_at = window_ends_at "
        "WHERE state = 'goods_received' AND window_closed_at IS NULL"
    )
    with op.batch_alter_table("received_documents", schema=None) as batch_op:
        batch_op.drop_index("ix_received_documents_window_id")
        batch_op.create_index("ix_received_documents_open_window_id", ["open_window_ends_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("received_documents", schema=None) as batch_op:
        batch_op.drop_index("ix_received_documents_open_window_id")
        batch_op.create_index("ix_received_documents_window_id", ["window_ends_at", "id"], unique=False)
        batch_op.drop_column("open_window_ends_at")
