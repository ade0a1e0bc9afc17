"""The inbox's search text: received_documents.search_text (number, NIT and name folded, store/search.py), filled
for the documents already on file, and its index — trigrams (pg_trgm) on PostgreSQL so "cafe" or "1063" anywhere in
the text is found without reading every row; a plain index on SQLite, which the search scans instead of the table;
and an index on assigned_to for the saved view "Mis facturas".

Where pg_trgm cannot be created (an old server without the contrib package, or a role that may not create it) the
PostgreSQL index is a plain one: the search still finds the same documents, only slower on large tables.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

from store.search import MAX_LENGTH, search_text

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")
INDEX = "ix_received_documents_search_text"
BATCH = 2000


def _backfill(conn: sa.Connection) -> None:
    docs = sa.table(
        "received_documents",
        sa.column("id", sa.Integer()),
        sa.column("number", sa.String()),
        sa.column("issuer_nit", sa.String()),
        sa.column("issuer_name", sa.String()),
        sa.column("search_text", sa.String()),
    )
    update = docs.update().where(docs.c.id == sa.bindparam("doc_id")).values(search_text=sa.bindparam("text"))
    last = 0
    while True:
        rows = conn.execute(
            sa.select(docs.c.id, docs.c.number, docs.c.issuer_nit, docs.c.issuer_name)
            .where(docs.c.id > last)
            .order_by(docs.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        texts = [{"doc_id": r.id, "text": search_text(r.number, r.issuer_nit, r.issuer_name)} for r in rows]
        conn.execute(update, texts)
        last = rows[-1].id


def _trigrams_available(conn: sa.Connection) -> bool:
    """Create pg_trgm if it is not there yet; False (and the reason logged) when this server or role cannot."""
    if conn.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).scalar():
        return True
    savepoint = conn.begin_nested()
    try:
        conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError as exc:
        savepoint.rollback()
        log.warning("pg_trgm is not available (%s): the inbox search uses a plain index", exc.orig)
        return False
    savepoint.commit()
    return True


def upgrade() -> None:
    with op.batch_alter_table("received_documents") as batch:
        batch.add_column(sa.Column("search_text", sa.String(length=MAX_LENGTH), nullable=False, server_default=""))
    conn = op.get_bind()
    _backfill(conn)
    if conn.dialect.name == "postgresql" and _trigrams_available(conn):
        op.create_index(
            INDEX,
            "received_documents",
            ["search_text"],
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        )
    else:
        op.create_index(INDEX, "received_documents", ["search_text"])
    # The saved view "Mis facturas" (assigned_to = the clerk) read every row without it.
    op.create_index(op.f("ix_received_documents_assigned_to"), "received_documents", ["assigned_to"])


def downgrade() -> None:
    op.drop_index(op.f("ix_received_documents_assigned_to"), table_name="received_documents")
    op.drop_index(INDEX, table_name="received_documents")
    with op.batch_alter_table("received_documents") as batch:
        batch.drop_column("search_text")
