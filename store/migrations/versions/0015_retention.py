"""Retention and legal hold for the archive (issue 20).

* legal_holds: what is held (one document by CUFE/CUDE, a supplier's documents by NIT, or the documents issued in a
  period), who placed it, why and when; a hold is released (who, when, why), never deleted. Retention itself is not a
  column: every raw byte is kept until 1 January of the sixth year after its document's year (store/archive/
  retention.py computes it from the issue date), and nothing is ever deleted by default.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from store.types import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "legal_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("cufe", sa.String(length=96), nullable=True),
        sa.Column("nit", sa.String(length=20), nullable=True),
        sa.Column("period_from", sa.Date(), nullable=True),
        sa.Column("period_to", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("held_by", sa.String(length=120), nullable=False),
        sa.Column("held_at", UTCDateTime(), nullable=False),
        sa.Column("released_at", UTCDateTime(), nullable=True),
        sa.Column("released_by", sa.String(length=120), nullable=True),
        sa.Column("release_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_holds")),
    )
    op.create_index(op.f("ix_legal_holds_cufe"), "legal_holds", ["cufe"])
    op.create_index(op.f("ix_legal_holds_nit"), "legal_holds", ["nit"])
    op.create_index(op.f("ix_legal_holds_released_at"), "legal_holds", ["released_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_legal_holds_released_at"), table_name="legal_holds")
    op.drop_index(op.f("ix_legal_holds_nit"), table_name="legal_holds")
    op.drop_index(op.f("ix_legal_holds_cufe"), table_name="legal_holds")
    op.drop_table("legal_holds")
