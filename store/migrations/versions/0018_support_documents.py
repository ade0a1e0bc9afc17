"""Documento soporte 05 and its adjustment note 95 (issue 19).

The 05 and the 95 are outbound_documents (document_type 05/95, the seller in the buyer_* columns; their generation
modes and residence in ``report["support"]``) numbered from numbering_ranges of kind support_document (a DIAN range)
and support_adjustment (our own series): no column is needed for them. This revision adds only
support_purchases: the purchases AP registers during a week, one line each, until the weekly DS (mode 2) gathers them
(``support_document_id``: a plain indexed id, like outbound_documents' own references).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from store.types import JSONType, UTCDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "support_purchases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seller_id", sa.String(length=20), nullable=False),
        sa.Column("seller", JSONType, nullable=False),
        sa.Column("purchased_on", sa.Date(), nullable=False),
        sa.Column("line", JSONType, nullable=False),
        sa.Column("support_document_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_purchases")),
    )
    op.create_index("ix_support_purchases_seller_day", "support_purchases", ["seller_id", "purchased_on"])
    op.create_index(
        op.f("ix_support_purchases_support_document_id"), "support_purchases", ["support_document_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_support_purchases_support_document_id"), table_name="support_purchases")
    op.drop_index("ix_support_purchases_seller_day", table_name="support_purchases")
    op.drop_table("support_purchases")
