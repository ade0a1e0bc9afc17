"""Webhooks: the outbox of document state changes; the inbox: indexes for its sorts and filters at 200k documents.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from store.types import JSONType, UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# (name, columns) of the inbox's keyset indexes (web/query.py: each sort is (column, id)).
INBOX_INDEXES = (
    ("ix_received_documents_state_issued", ["state", "issued_at", "id"]),
    ("ix_received_documents_issuer_issued", ["issuer_nit", "issued_at", "id"]),
    ("ix_received_documents_amount_id", ["payable_amount", "id"]),
    ("ix_received_documents_window_id", ["window_ends_at", "id"]),
    ("ix_received_documents_issuer_name_id", ["issuer_name", "id"]),
)


def upgrade() -> None:
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("event", sa.String(length=80), nullable=False),
        sa.Column("payload", JSONType, nullable=False),
        sa.Column(
            "state",
            sa.Enum("pending", "delivered", "failed", "skipped", name="webhookstate", native_enum=False),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["received_documents.id"],
            name=op.f("fk_webhook_deliveries_document_id_received_documents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webhook_deliveries_document_id"), ["document_id"], unique=False)
        batch_op.create_index("ix_webhook_deliveries_outbox", ["state", "next_attempt_at"], unique=False)

    with op.batch_alter_table("received_documents", schema=None) as batch_op:
        for name, columns in INBOX_INDEXES:
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("received_documents", schema=None) as batch_op:
        for name, _ in reversed(INBOX_INDEXES):
            batch_op.drop_index(name)

    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_deliveries_outbox")
        batch_op.drop_index(batch_op.f("ix_webhook_deliveries_document_id"))

    op.drop_table("webhook_deliveries")
