"""The dashboard's and the suppliers pages' figures without reading every document.

* document_totals: the received documents counted and summed by issue month (in Bogotá), supplier and state; read
  for the amounts by state (through a covering index on month and state) and for one supplier's figures.
* supplier_totals: the same by month and supplier only (its name and folded search text with it): the suppliers list
  and the top suppliers read a row per supplier and month, and a change of state never touches it.
* Both kept by triggers on received_documents (insert, delete, and an update that changes what they count), filled
  here once from the documents already on file.
* ix_received_documents_open_windows: the running claim windows with their amounts (a partial, covering index), so
  the dashboard sums them without visiting the wide rows; ix_received_documents_unconfirmed: the unconfirmed
  documents, which the dashboard counts and the inbox lists; ix_document_events_open_emitted: our events queued or
  rejected (SQLite's planner, which knows only that submission_state has few values, scanned every event for them).

Why triggers: a figure over a period ("este año") read from the documents costs a scan of every document of the
period — at 200k documents a year, 200k rows on each view of the dashboard. The totals hold a row per supplier (and
state) and month, so a year is a few thousand rows whatever the history, and every writer (intake, the state writer,
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

UNCONFIRMED = "ix_received_documents_unconfirmed"
OPEN_WINDOWS = "ix_received_documents_open_windows"
BY_STATE = "ix_document_totals_month_state"
OPEN_EVENTS = "ix_document_events_open_emitted"
# Our events queued or rejected (as store.models.OPEN_EMITTED_EVENTS words it when this revision was written).
OPEN_EMITTED_EVENTS = "direction = 'emitted' AND submission_state IN ('signed', 'sent', 'send_failed', 'rejected')"


class Totals:
    """One totals table: its key (besides the month), the columns it copies from the latest document, and the
    document columns whose change moves a document from one of its rows to another."""

    def __init__(self, table: str, keys: tuple[str, ...], copied: tuple[str, ...], watched: tuple[str, ...]) -> None:
        self.table, self.keys, self.copied, self.watched = table, keys, copied, watched

    def add(self, row: str, dialect: str) -> str:
        into = f"{self.table} AS t" if dialect == "postgresql" else self.table
        mine = "t." if dialect == "postgresql" else ""
        columns = ["month", *self.keys, "documents", "cop_amount", "other_currency", *self.copied]
        values = [_month(row, dialect), *(f"{row}.{k}" for k in self.keys), "1", _cop(row), _other(row),
                  *(_copied(c, row, dialect) for c in self.copied)]  # fmt: skip
        copies = "".join(f", {c} = excluded.{c}" for c in self.copied)
        return (
            f"INSERT INTO {into} ({', '.join(columns)}) VALUES ({', '.join(values)})"  # noqa: S608 - no input in it
            f" ON CONFLICT (month, {', '.join(self.keys)}) DO UPDATE SET documents = {mine}documents + 1,"
            f" cop_amount = {mine}cop_amount + excluded.cop_amount,"
            f" other_currency = {mine}other_currency + excluded.other_currency{copies};"
        )

    def remove(self, row: str, dialect: str) -> str:
        where = " AND ".join([f"month = {_month(row, dialect)}", *(f"{k} = {row}.{k}" for k in self.keys)])
        return (
            f"UPDATE {self.table} SET documents = documents - 1, cop_amount = cop_amount - {_cop(row)},"  # noqa: S608
            f" other_currency = other_currency - {_other(row)} WHERE {where};"
        )

    def changed(self, dialect: str) -> str:
        op_ = "IS DISTINCT FROM" if dialect == "postgresql" else "IS NOT"
        return " OR ".join(f"OLD.{c} {op_} NEW.{c}" for c in self.watched)

    def backfill(self, dialect: str) -> str:
        month = _month("d", dialect)
        keys = ", ".join(f"d.{k}" for k in self.keys)
        copied = "".join(f", max({_copied(c, 'd', dialect)})" for c in self.copied)
        columns = ", ".join(["month", *self.keys, "documents", "cop_amount", "other_currency", *self.copied])
        return (
            f"INSERT INTO {self.table} ({columns}) SELECT {month}, {keys}, count(*), sum({_cop('d')}),"  # noqa: S608
            f" sum({_other('d')}){copied} FROM received_documents AS d GROUP BY {month}, {keys}"
        )


def _month(row: str, dialect: str) -> str:
    if dialect == "postgresql":
        return f"date_trunc('month', {row}.issued_at AT TIME ZONE 'America/Bogota')::date"
    return f"date({row}.issued_at, '-5 hours', 'start of month')"


def _cop(row: str) -> str:
    return f"CASE WHEN {row}.currency = 'COP' THEN {row}.payable_amount ELSE 0 END"


def _other(row: str) -> str:
    return f"CASE WHEN {row}.currency = 'COP' THEN 0 ELSE 1 END"


def _copied(column: str, row: str, dialect: str) -> str:
    if column == "supplier_text":  # the search text past the document number: "nit␟folded name" (store/search.py)
        find, char = ("strpos", "chr") if dialect == "postgresql" else ("instr", "char")
        return f"substr({row}.search_text, {find}({row}.search_text, {char}(31)) + 1)"
    return f"{row}.{column}"


AMOUNTS = ("issued_at", "currency", "payable_amount")
BY_DOCUMENT_STATE = Totals("document_totals", ("issuer_nit", "state"), (), ("state", "issuer_nit", *AMOUNTS))
BY_SUPPLIER = Totals("supplier_totals", ("issuer_nit",), ("issuer_name", "supplier_text"),
                     ("issuer_nit", "issuer_name", "search_text", *AMOUNTS))  # fmt: skip
TOTALS = (BY_DOCUMENT_STATE, BY_SUPPLIER)


def _triggers_postgresql() -> list[str]:
    d = "postgresql"
    body = "\n".join(
        f"""    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND ({t.changed(d)})) THEN
        {t.remove("OLD", d)}
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND ({t.changed(d)})) THEN
        {t.add("NEW", d)}
    END IF;"""
        for t in TOTALS
    )
    watched = sorted({c for t in TOTALS for c in t.watched})
    return [
        f"CREATE FUNCTION received_totals_keep() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n{body}\n"
        "    RETURN NULL;\nEND $$",
        "CREATE TRIGGER received_totals_insert_delete AFTER INSERT OR DELETE ON received_documents"
        " FOR EACH ROW EXECUTE FUNCTION received_totals_keep()",
        f"CREATE TRIGGER received_totals_update AFTER UPDATE OF {', '.join(watched)} ON received_documents"
        " FOR EACH ROW EXECUTE FUNCTION received_totals_keep()",
    ]


def _triggers_sqlite() -> list[str]:
    d = "sqlite"
    statements = []
    for t in TOTALS:
        name = t.table
        statements += [
            f"CREATE TRIGGER {name}_insert AFTER INSERT ON received_documents BEGIN {t.add('NEW', d)} END",
            f"CREATE TRIGGER {name}_delete AFTER DELETE ON received_documents BEGIN {t.remove('OLD', d)} END",
            f"CREATE TRIGGER {name}_update AFTER UPDATE OF {', '.join(t.watched)} ON received_documents"
            f" WHEN {t.changed(d)} BEGIN {t.remove('OLD', d)} {t.add('NEW', d)} END",
        ]
    return statements


def _amount_columns() -> list[sa.Column]:
    return [
        sa.Column("documents", sa.Integer(), nullable=False),
        sa.Column("cop_amount", sa.Numeric(precision=20, scale=4), nullable=False),
        sa.Column("other_currency", sa.Integer(), nullable=False),
    ]


def upgrade() -> None:
    conn = op.get_bind()
    dialect = conn.dialect.name
    op.create_table(
        "document_totals",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("issuer_nit", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        *_amount_columns(),
        sa.PrimaryKeyConstraint("month", "issuer_nit", "state", name=op.f("pk_document_totals")),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_document_totals_issuer_month", "document_totals", ["issuer_nit", "month"])
    # The amounts by state over a run of months, read from the index alone, in (month, state) order.
    op.create_index(BY_STATE, "document_totals", ["month", "state", "documents", "cop_amount", "other_currency"])
    op.create_table(
        "supplier_totals",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("issuer_nit", sa.String(length=20), nullable=False),
        *_amount_columns(),
        sa.Column("issuer_name", sa.String(length=450), nullable=False),
        sa.Column("supplier_text", sa.String(length=520), nullable=False),
        sa.PrimaryKeyConstraint("month", "issuer_nit", name=op.f("pk_supplier_totals")),
        sqlite_with_rowid=False,
    )
    for totals in TOTALS:
        conn.exec_driver_sql(totals.backfill(dialect))
    for statement in _triggers_postgresql() if dialect == "postgresql" else _triggers_sqlite():
        conn.exec_driver_sql(statement)
    op.create_index(
        UNCONFIRMED,
        "received_documents",
        ["issued_at", "id"],
        sqlite_where=sa.text("verdict = 'unconfirmed'"),
        postgresql_where=sa.text("verdict = 'unconfirmed'"),
    )
    op.create_index(
        OPEN_WINDOWS,
        "received_documents",
        ["open_window_ends_at", "payable_amount"],
        sqlite_where=sa.text("open_window_ends_at IS NOT NULL"),
        postgresql_where=sa.text("open_window_ends_at IS NOT NULL"),
    )

    op.create_index(
        OPEN_EVENTS,
        "document_events",
        ["submission_state", "document_id", "code"],
        sqlite_where=sa.text(OPEN_EMITTED_EVENTS),
        postgresql_where=sa.text(OPEN_EMITTED_EVENTS),
    )


def downgrade() -> None:
    conn = op.get_bind()
    op.drop_index(OPEN_EVENTS, table_name="document_events")
    op.drop_index(OPEN_WINDOWS, table_name="received_documents")
    op.drop_index(UNCONFIRMED, table_name="received_documents")
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("DROP TRIGGER received_totals_update ON received_documents")
        conn.exec_driver_sql("DROP TRIGGER received_totals_insert_delete ON received_documents")
        conn.exec_driver_sql("DROP FUNCTION received_totals_keep()")
    else:
        for totals in TOTALS:
            for event in ("insert", "delete", "update"):
                conn.exec_driver_sql(f"DROP TRIGGER {totals.table}_{event}")
    op.drop_table("supplier_totals")
    op.drop_index(BY_STATE, table_name="document_totals")
    op.drop_index("ix_document_totals_issuer_month", table_name="document_totals")
    op.drop_table("document_totals")
