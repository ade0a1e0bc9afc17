"""The inbox at 200k documents: "Mis facturas" and the search box's first look.

* ix_received_documents_assigned: (assigned_to, issued_at, id) for the assigned documents only, in place of 0008's
  index on assigned_to alone. SQLite's planner, told by ANALYZE that the old index holds 200 000 rows per value
  (every unassigned document is NULL), walked the whole table in issued_at order instead (0.8 s for a clerk with no
  documents). The partial index holds only assigned documents, so its statistics say what a clerk's list costs, and
  it hands them over in the inbox's newest-first order.
* ix_received_documents_search_text_id: (search_text, id), a narrow copy of what the search box reads. web/search.py
  first asks which ids a text finds, stopping at 1 001: a common word ("cafe") is then found by reading this index
  alone instead of the wide rows (97 pages instead of 2 500 on PostgreSQL at 200k, where the trigram index serves
  rare words and is no help for common ones). On SQLite it is the covering index that search already scanned.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

ASSIGNED = "ix_received_documents_assigned"
OLD_ASSIGNED = "ix_received_documents_assigned_to"
ONLY_ASSIGNED = "assigned_to IS NOT NULL"
SEARCH_IDS = "ix_received_documents_search_text_id"


def upgrade() -> None:
    op.create_index(
        ASSIGNED,
        "received_documents",
        ["assigned_to", "issued_at", "id"],
        sqlite_where=sa.text(ONLY_ASSIGNED),
        postgresql_where=sa.text(ONLY_ASSIGNED),
    )
    op.drop_index(OLD_ASSIGNED, table_name="received_documents")
    op.create_index(SEARCH_IDS, "received_documents", ["search_text", "id"])


def downgrade() -> None:
    op.drop_index(SEARCH_IDS, table_name="received_documents")
    op.create_index(OLD_ASSIGNED, "received_documents", ["assigned_to"])
    op.drop_index(ASSIGNED, table_name="received_documents")
