"""Several companies in one install (issue 20): each company has a database of its own, stamped with its NIT.

An install that ran one company keeps its database as is: it becomes the first company's, and `buzon init` stamps it
with the configured NIT (store/company.py). Nothing else moves; a second company's rows live in its own database.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from store.types import UTCDateTime

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "company_stamp",
        sa.Column("nit", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=450), nullable=False),
        sa.Column("stamped_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("nit", name=op.f("pk_company_stamp")),
    )


def downgrade() -> None:
    op.drop_table("company_stamp")
