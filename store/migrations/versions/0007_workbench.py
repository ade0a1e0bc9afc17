"""The clerk's workbench: a session version on each user (logout and password changes end every session
server-side), the login throttle keyed on (account, client address), and internal comments on documents.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from store.types import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("session_version", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "login_throttles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_throttles")),
        sa.UniqueConstraint("username", "address", name=op.f("uq_login_throttles_username_address")),
    )
    op.create_table(
        "document_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=80), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["received_documents.id"],
            name=op.f("fk_document_comments_document_id_received_documents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_comments")),
    )
    op.create_index(op.f("ix_document_comments_document_id"), "document_comments", ["document_id"], unique=False)


def downgrade() -> None:
    op.drop_table("document_comments")
    op.drop_table("login_throttles")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_version")
