"""Tamper-evident audit log: hash chain columns (issue 20).

* audit_entries.chain_seq, chain_hash: the entry's position in the chain and its SHA-256 (store/audit_chain.py),
  NULL until a seal sets them; a unique index on the position and a partial index on the unsealed entries (what a
  seal looks for).
* The UPDATE trigger now lets exactly one update through: the chain columns set from NULL to values, every other
  column unchanged. DELETE (and TRUNCATE on PostgreSQL) are still refused. Existing entries are sealed by the first
  seal (the job ``seal_audit`` or `buzon audit verify`), not here: the hash's canonical form belongs to the code.

On SQLite the trigger lists the columns it keeps unchanged: a migration that adds a column to audit_entries must
create ``audit_entries_no_update`` again with it (PostgreSQL's compares the whole row).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

APPEND_ONLY = "audit_entries is append-only: UPDATE and DELETE are refused"
SEAL_ONLY = (
    "audit_entries is append-only: UPDATE and DELETE are refused "
    "(only the seal, setting chain_seq and chain_hash once from NULL, may update an entry)"
)
_SQLITE_KEPT = ("id", "at", "actor", "action", "subject", "source", "data")


def upgrade() -> None:
    op.add_column("audit_entries", sa.Column("chain_seq", sa.BigInteger(), nullable=True))
    op.add_column("audit_entries", sa.Column("chain_hash", sa.String(length=64), nullable=True))
    op.create_index("ix_audit_entries_chain_seq", "audit_entries", ["chain_seq"], unique=True)
    op.create_index(
        "ix_audit_entries_unsealed",
        "audit_entries",
        ["id"],
        unique=False,
        sqlite_where=sa.text("chain_seq IS NULL"),
        postgresql_where=sa.text("chain_seq IS NULL"),
    )
    if op.get_bind().dialect.name == "postgresql":
        # The same function serves the row trigger (UPDATE OR DELETE) and the statement trigger (TRUNCATE).
        op.execute(
            f"""
            CREATE OR REPLACE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'UPDATE' AND OLD.chain_seq IS NULL AND OLD.chain_hash IS NULL
                   AND NEW.chain_seq IS NOT NULL AND NEW.chain_hash IS NOT NULL
                   AND to_jsonb(NEW) - 'chain_seq' - 'chain_hash' = to_jsonb(OLD) - 'chain_seq' - 'chain_hash' THEN
                    RETURN NEW;
                END IF;
                RAISE EXCEPTION '{SEAL_ONLY}' USING ERRCODE = 'insufficient_privilege';
            END $$
            """
        )
    else:
        kept = " AND ".join(f"new.{c} IS old.{c}" for c in _SQLITE_KEPT)
        op.execute("DROP TRIGGER audit_entries_no_update")
        op.execute(
            "CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries "
            "WHEN NOT (old.chain_seq IS NULL AND old.chain_hash IS NULL "
            f"AND new.chain_seq IS NOT NULL AND new.chain_hash IS NOT NULL AND {kept}) "
            f"BEGIN SELECT RAISE(ABORT, '{SEAL_ONLY}'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE OR REPLACE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{APPEND_ONLY}' USING ERRCODE = 'insufficient_privilege';
            END $$
            """
        )
    else:
        op.execute("DROP TRIGGER audit_entries_no_update")
        op.execute(
            "CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries "
            f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
        )
    op.drop_index("ix_audit_entries_unsealed", table_name="audit_entries")
    op.drop_index("ix_audit_entries_chain_seq", table_name="audit_entries")
    # SQLite (>= 3.35) drops columns in place, so the triggers stay.
    op.drop_column("audit_entries", "chain_hash")
    op.drop_column("audit_entries", "chain_seq")
