"""DIAN's proof: the DIAN signing certificates learned from DIAN itself, and DIAN answers mailed apart from their
documents (kept by CUFE until the document is on file). The new verdict and state values fit the existing columns.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from store.types import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dian_certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("spki_sha256", sa.String(length=64), nullable=False),
        sa.Column("fingerprint_sha256", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("issuer", sa.Text(), nullable=False),
        sa.Column("serial", sa.String(length=80), nullable=False),
        sa.Column("not_before", UTCDateTime(), nullable=False),
        sa.Column("not_after", UTCDateTime(), nullable=False),
        sa.Column("pem", sa.Text(), nullable=False),
        sa.Column("learned_at", UTCDateTime(), nullable=False),
        sa.Column("learned_from", sa.String(length=96), nullable=False),
        sa.Column("endpoint", sa.String(length=300), nullable=False),
        sa.Column("environment", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dian_certificates")),
        sa.UniqueConstraint("spki_sha256", name=op.f("uq_dian_certificates_spki_sha256")),
    )
    op.create_table(
        "loose_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cufe", sa.String(length=96), nullable=False),
        sa.Column("blob_key", sa.String(length=64), nullable=False),
        sa.Column("mail_message_id", sa.Integer(), nullable=True),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["mail_message_id"], ["mail_messages.id"], name=op.f("fk_loose_answers_mail_message_id_mail_messages")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["received_documents.id"], name=op.f("fk_loose_answers_document_id_received_documents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loose_answers")),
    )
    op.create_index(op.f("ix_loose_answers_cufe"), "loose_answers", ["cufe"], unique=False)
    op.create_index(op.f("ix_loose_answers_mail_message_id"), "loose_answers", ["mail_message_id"], unique=False)
    op.create_index(op.f("ix_loose_answers_document_id"), "loose_answers", ["document_id"], unique=False)


def downgrade() -> None:
    op.drop_table("loose_answers")
    op.drop_table("dian_certificates")
