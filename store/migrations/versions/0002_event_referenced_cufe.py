"""Observed events remember the CUFE they are about, so an event that arrives before its invoice can be linked later.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("document_events") as batch:
        batch.add_column(sa.Column("referenced_cufe", sa.String(length=96), nullable=True))
        batch.create_index(op.f("ix_document_events_referenced_cufe"), ["referenced_cufe"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("document_events") as batch:
        batch.drop_index(op.f("ix_document_events_referenced_cufe"))
        batch.drop_column("referenced_cufe")
