"""The dashboard's and the suppliers list's figures without reading every document: document_totals, the received
documents counted and summed by issue month (in Bogotá), supplier and state, kept by triggers on received_documents
(insert, delete, and an update that changes the state, the supplier, the issue time, the currency or the amount);
filled here once from the documents already on file. And a partial index for the unconfirmed documents, which the
dashboard counts and the inbox lists.

Why triggers: a figure over a period ("este año") read from the documents costs a scan of every document of the
period — at 200k documents a year, 200k rows on each view of the dashboard. The totals hold one row per supplier,
month and state, so a year is a few thousand rows whatever the history, and every writer (intake, the state writer,
the deadline sweep, plain SQL) keeps them right without knowing about them.

The month is the Bogotá calendar month of issued_at (Colombia keeps UTC-5 all year), the very day the inbox's
from/to filters cut on, so a figure's link lists exactly the documents it counts.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLE = "document_totals"
UNCONFIRMED = "ix_received_documents_unconfirmed"
# What a change of a document must move in the totals; search_text carries the folded name the list searches.
WATCHED = ("state", "issuer_nit", "issuer_name", "issued_at", "currency", "payable_amount", "search_text")


def _month(row: str, dialect: str) -> str:
    if dialect == "postgresql":
        return f"date_trunc('month', {row}.issued_at AT TIME ZONE 'America/Bogota')::date"
    return f"date({row}.issued_at, '-5 hours', 'start of month')"


def _supplier_text(row: str, dialect: str) -> str:
    """The search text after the document number: "nit␟folded name" (store/search.py's order)."""
    find, char = ("strpos", "chr") if dialect == "postgresql" else ("instr", "char")
    return f"substr({row}.search_text, {find}({row}.search_text, {char}(31)) + 1)"


def _add(row: str, dialect: str) -> str:
    table = f"{TABLE} AS t" if dialect == "postgresql" else TABLE
    mine = "t." if dialect == "postgresql" else ""
    return (
        f"INSERT INTO {table} (month, issuer_nit, state, documents, cop_amount, other_currency, issuer_name,"  # noqa: S608
        f" supplier_text) VALUES ({_month(row, dialect)}, {row}.issuer_nit, {row}.state, 1,"
        f" CASE WHEN {row}.currency = 'COP' THEN {row}.payable_amount ELSE 0 END,"
        f" CASE WHEN {row}.currency = 'COP' THEN 0 ELSE 1 END, {row}.issuer_name, {_supplier_text(row, dialect)})"
        f" ON CONFLICT (month, issuer_nit, state) DO UPDATE SET documents = {mine}documents + 1,"
        f" cop_amount = {mine}cop_amount + excluded.cop_amount,"
        f" other_currency = {mine}other_currency + excluded.other_currency,"
        " issuer_name = excluded.issuer_name, supplier_text = excluded.supplier_text;"
    )


def _remove(row: str, dialect: str) -> str:
    return (
        f"UPDATE {TABLE} SET documents = documents - 1,"  # noqa: S608
        f" cop_amount = cop_amount - CASE WHEN {row}.currency = 'COP' THEN {row}.payable_amount ELSE 0 END,"
        f" other_currency = other_currency - CASE WHEN {row}.currency = 'COP' THEN 0 ELSE 1 END"
        f" WHERE month = {_month(row, dialect)} AND issuer_nit = {row}.issuer_nit AND state = {row}.state;"
    )


def _changed() -> str:
    return " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in WATCHED)


def _triggers_postgresql() -> list[str]:
    d = "postgresql"
    return [
        f"""CREATE FUNCTION document_totals_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        {_remove("OLD", d)}
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        {_add("NEW", d)}
    END IF;
    RETURN NULL;
END $$""",
        "CREATE TRIGGER document_totals_insert_delete AFTER INSERT OR DELETE ON received_documents"
        " FOR EACH ROW EXECUTE FUNCTION document_totals_keep()",
        f"CREATE TRIGGER document_totals_update AFTER UPDATE OF {', '.join(WATCHED)} ON received_documents"
        f" FOR EACH ROW WHEN ({_changed()}) EXECUTE FUNCTION document_totals_keep()",
    ]


def _triggers_sqlite() -> list[str]:
    d = "sqlite"
    changed = _changed().replace("IS DISTINCT FROM", "IS NOT")
    return [
        f"CREATE TRIGGER document_totals_insert AFTER INSERT ON received_documents BEGIN {_add('NEW', d)} END",
        f"CREATE TRIGGER document_totals_delete AFTER DELETE ON received_documents BEGIN {_remove('OLD', d)} END",
        f"CREATE TRIGGER document_totals_update AFTER UPDATE OF {', '.join(WATCHED)} ON received_documents"
        f" WHEN {changed} BEGIN {_remove('OLD', d)} {_add('NEW', d)} END",
    ]


def upgrade() -> None:
    conn = op.get_bind()
    dialect = conn.dialect.name
    op.create_table(
        TABLE,
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("issuer_nit", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("documents", sa.Integer(), nullable=False),
        sa.Column("cop_amount", sa.Numeric(precision=20, scale=4), nullable=False),
        sa.Column("other_currency", sa.Integer(), nullable=False),
        sa.Column("issuer_name", sa.String(length=450), nullable=False),
        sa.Column("supplier_text", sa.String(length=520), nullable=False),
        sa.PrimaryKeyConstraint("month", "issuer_nit", "state", name=op.f("pk_document_totals")),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_document_totals_issuer_month", TABLE, ["issuer_nit", "month"])
    month, text = _month("d", dialect), _supplier_text("d", dialect)
    conn.exec_driver_sql(
        f"INSERT INTO {TABLE} (month, issuer_nit, state, documents, cop_amount, other_currency, issuer_name,"  # noqa: S608
        " supplier_text)"
        f" SELECT {month}, d.issuer_nit, d.state, count(*),"
        " sum(CASE WHEN d.currency = 'COP' THEN d.payable_amount ELSE 0 END),"
        f" sum(CASE WHEN d.currency = 'COP' THEN 0 ELSE 1 END), max(d.issuer_name), max({text})"
        f" FROM received_documents AS d GROUP BY {month}, d.issuer_nit, d.state"
    )
    for statement in _triggers_postgresql() if dialect == "postgresql" else _triggers_sqlite():
        conn.exec_driver_sql(statement)
    op.create_index(
        UNCONFIRMED,
        "received_documents",
        ["issued_at", "id"],
        sqlite_where=sa.text("verdict = 'unconfirmed'"),
        postgresql_where=sa.text("verdict = 'unconfirmed'"),
    )


def downgrade() -> None:
    conn = op.get_bind()
    op.drop_index(UNCONFIRMED, table_name="received_documents")
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("DROP TRIGGER document_totals_update ON received_documents")
        conn.exec_driver_sql("DROP TRIGGER document_totals_insert_delete ON received_documents")
        conn.exec_driver_sql("DROP FUNCTION document_totals_keep()")
    else:
        for name in ("insert", "delete", "update"):
            conn.exec_driver_sql(f"DROP TRIGGER document_totals_{name}")
    op.drop_index("ix_document_totals_issuer_month", table_name=TABLE)
    op.drop_table(TABLE)
