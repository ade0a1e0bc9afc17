"""Four-eyes approvals of events (issue 20).

* approvals: one row per event someone asked for that waits for a second user (events/approvals.py): the subject
  (a received document or a value title), the event code, the exact action and its parameters, the amount and
  counterparty that made it need approval, the state (pending, approved, refused, sent, expired), who asked and who
  decided, when, and the event it became.
* uq_approvals_pending: one pending request per (subject, code).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from store.types import MONEY, JSONType, UTCDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# Enum columns are text (store.types.code_enum: no native enum, no constraint): the event code "031".
CODE_LENGTH = 3
PENDING = sa.text("state = 'pending'")


def upgrade() -> None:
    op.create_table(
        "approvals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("title_id", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(length=CODE_LENGTH), nullable=False),
        sa.Column("action", JSONType, nullable=False),
        sa.Column("amount", MONEY, nullable=True),
        sa.Column("invoice_number", sa.String(length=40), nullable=False),
        sa.Column("counterparty_nit", sa.String(length=20), nullable=True),
        sa.Column("counterparty_name", sa.String(length=450), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("requested_by", sa.String(length=80), nullable=False),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("decided_by", sa.String(length=80), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("alerted_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"], ["received_documents.id"], name=op.f("fk_approvals_document_id_received_documents")
        ),
        sa.ForeignKeyConstraint(["title_id"], ["value_titles.id"], name=op.f("fk_approvals_title_id_value_titles")),
        sa.ForeignKeyConstraint(
            ["event_id"], ["document_events.id"], name=op.f("fk_approvals_event_id_document_events")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approvals")),
    )
    op.create_index(op.f("ix_approvals_document_id"), "approvals", ["document_id"], unique=False)
    op.create_index(op.f("ix_approvals_title_id"), "approvals", ["title_id"], unique=False)
    op.create_index("ix_approvals_state_requested_at", "approvals", ["state", "requested_at"], unique=False)
    op.create_index("uq_approvals_pending", "approvals", ["subject", "code"], unique=True,
                    sqlite_where=PENDING, postgresql_where=PENDING)  # fmt: skip


def downgrade() -> None:
    op.drop_table("approvals")
