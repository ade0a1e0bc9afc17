"""Suppliers' reception addresses from GetExchangeEmails (issue 20): DIAN's list as last read for each supplier and
when it was read, kept by the daily job refresh_supplier_emails (events/supplier_emails.py).

``dian_emails`` is a JSON list (empty: DIAN lists none; NULL: never read); ``dian_emails_read_at`` is indexed so the
job picks the suppliers not read in the last day in that order, never-read first.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from store.types import JSONType, UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

READ_AT = "ix_suppliers_dian_emails_read_at"


def upgrade() -> None:
    op.add_column("suppliers", sa.Column("dian_emails", JSONType, nullable=True))
    op.add_column("suppliers", sa.Column("dian_emails_read_at", UTCDateTime(), nullable=True))
    op.create_index(READ_AT, "suppliers", ["dian_emails_read_at"])


def downgrade() -> None:
    op.drop_index(READ_AT, table_name="suppliers")
    op.drop_column("suppliers", "dian_emails_read_at")
    op.drop_column("suppliers", "dian_emails")
