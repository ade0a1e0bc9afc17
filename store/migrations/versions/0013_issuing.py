"""Issuing: numbering ranges read from DIAN, and what an invoice or note we issue needs to be kept, numbered and sent.

* numbering_ranges: DIAN's authorizations as GetNumberingRange lists them (prefix, resolution and its date, from/to,
  validity, technical key, the software they belong to, when they were read) and our own series for notes; each keeps
  ``next_number``, advanced by one atomic UPDATE in the transaction that stores the signed document.
* outbound_documents: the range and consecutive taken (unique together: no double), the request as the ERP sent it
  with its idempotency key (unique per client) and digest, the computed totals, the QR text and the file name, the
  referenced invoice of a note, the contingency (reason, declared, deadline), the habilitación test set and its
  ZipKey, the outbox's next attempt (a partial index of the issued documents still due), sent and validated times,
  and who issued it.

The columns are added in place (no table copy: document_events and value_titles point into outbound_documents, and
SQLite can add no foreign key to an existing table), so range_id and reference_id are plain indexed ids, written
only by issuing/ (a numbering range is retired, never deleted; an issued document is never deleted).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from store.types import MONEY, JSONType, UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# store.models.OUTBOUND_DUE as this revision writes it.
DUE = "origin = 'issued' AND state IN ('signed', 'sent', 'send_failed')"
ENVIRONMENTS = ("1", "2")


def upgrade() -> None:
    op.create_table(
        "numbering_ranges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column(
            "environment", sa.Enum(*ENVIRONMENTS, name="environment", native_enum=False, length=1), nullable=False
        ),
        sa.Column("prefix", sa.String(length=10), nullable=False),
        sa.Column("resolution_number", sa.String(length=40), nullable=False),
        sa.Column("resolution_date", sa.Date(), nullable=True),
        sa.Column("from_number", sa.BigInteger(), nullable=False),
        sa.Column("to_number", sa.BigInteger(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("technical_key", sa.String(length=200), nullable=True),
        sa.Column("software_id", sa.String(length=80), nullable=True),
        sa.Column("next_number", sa.BigInteger(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("fetched_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_numbering_ranges")),
        sa.UniqueConstraint(
            "environment",
            "kind",
            "prefix",
            "resolution_number",
            name=op.f("uq_numbering_ranges_environment_kind_prefix_resolution_number"),
        ),
    )
    with op.batch_alter_table("outbound_documents", recreate="never") as batch:
        for column in _new_columns():
            batch.add_column(column)
    op.create_index(
        "uq_outbound_documents_range_consecutive", "outbound_documents", ["range_id", "consecutive"], unique=True
    )
    op.create_index(
        "uq_outbound_documents_idempotency", "outbound_documents", ["client_key", "idempotency_key"], unique=True
    )
    op.create_index(op.f("ix_outbound_documents_reference_id"), "outbound_documents", ["reference_id"], unique=False)
    op.create_index(
        "ix_outbound_documents_outbox",
        "outbound_documents",
        ["next_attempt_at", "id"],
        sqlite_where=sa.text(DUE),
        postgresql_where=sa.text(DUE),
    )


def _new_columns() -> list[sa.Column]:
    money = [
        sa.Column(name, MONEY, nullable=True)
        for name in (
            "line_extension_amount",
            "tax_exclusive_amount",
            "tax_inclusive_amount",
            "allowance_total_amount",
            "charge_total_amount",
            "withholding_amount",
        )
    ]
    return [
        sa.Column("range_id", sa.Integer(), nullable=True),
        sa.Column("consecutive", sa.BigInteger(), nullable=True),
        sa.Column("client_key", sa.String(length=120), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("payload_digest", sa.String(length=64), nullable=True),
        sa.Column("payload", JSONType, nullable=True),
        *money,
        sa.Column("qr_text", sa.Text(), nullable=True),
        sa.Column("file_name", sa.String(length=80), nullable=True),
        sa.Column("reference_id", sa.Integer(), nullable=True),
        sa.Column("reference_cufe", sa.String(length=96), nullable=True),
        sa.Column("contingency_reason", sa.Text(), nullable=True),
        sa.Column("contingency_declared_at", UTCDateTime(), nullable=True),
        sa.Column("contingency_deadline", UTCDateTime(), nullable=True),
        sa.Column("test_set_id", sa.String(length=80), nullable=True),
        sa.Column("zip_key", sa.String(length=80), nullable=True),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("validated_at", UTCDateTime(), nullable=True),
        sa.Column("actor", sa.String(length=120), nullable=True),
    ]


def downgrade() -> None:
    op.drop_index("ix_outbound_documents_outbox", table_name="outbound_documents")
    op.drop_index(op.f("ix_outbound_documents_reference_id"), table_name="outbound_documents")
    op.drop_index("uq_outbound_documents_idempotency", table_name="outbound_documents")
    op.drop_index("uq_outbound_documents_range_consecutive", table_name="outbound_documents")
    with op.batch_alter_table("outbound_documents", recreate="never") as batch:
        for column in reversed(_new_columns()):
            batch.drop_column(column.name)
    op.drop_table("numbering_ranges")
