"""RADIAN: value titles as treasury and AP need them, the parties and figures of each RADIAN event, title alerts,
and what an imported invoice of ours needs to become a title.

* document_events: the variant (operation, e.g. 371), listID, the CUDE of the event a 040/042/044 ends, sender and
  receiver names, the figures of the value block (amount, price, discount rate), the block itself as JSON, the
  effective and due dates. The live-event unique index now covers 030-034 only: RADIAN events repeat (451, 037).
* event_parties: the co-endorsers/endorsees with their shares, the payer, the pre-agreed buyer, the debtor, the
  mandatario of each RADIAN event.
* value_titles: the derived title (state, holder(s), payee, due date, value, paid, outstanding, limitation, chain
  length/digest/version) and what the watch remembers (last/next look, DIAN's status, failures). The table was never
  written before this revision; its rows, if any, are kept by the batch copy.
* title_alerts: holder changed, limited, paid... one per fact (dedupe_key), seen by whom and when.
* outbound_documents: origin (issued/imported), issue and due dates, payment means, signing time, verdict, report.

received_documents is not touched (migration 0009's triggers live on it).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from store.types import MONEY, JSONType, UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

LIVE_OLD = "direction = 'emitted' AND submission_state <> 'rejected'"
LIVE_NEW = "direction = 'emitted' AND submission_state <> 'rejected' AND code IN ('030', '031', '032', '033', '034')"
OPERATIONS = (
    "035", "361", "362", "363", "364", "371", "372", "038", "039", "401", "402", "403", "411", "412", "421", "422",
    "431", "432", "433", "434", "441", "442", "451", "452", "046", "047", "481", "482", "491", "492", "493", "494",
    "050", "511", "512",
)  # fmt: skip
STATES_OLD = ("registered", "endorsed", "limited", "paid")
STATES_NEW = (
    "unregistered", "registered", "endorsed", "limited", "protested", "transferred", "partially_paid", "paid",
)  # fmt: skip
PARTY_ROLES = ("sender", "receiver", "counterpart", "debtor", "mandatario")
ALERT_KINDS = (
    "holder_changed", "limited", "limitation_lifted", "transferred", "protested", "partially_paid", "paid",
    "registered", "refused",
)  # fmt: skip
PAYMENT_MEANS = ("1", "2")
VERDICTS = ("valid", "valid_with_warnings", "unconfirmed", "invalid")


def _enum(values: tuple[str, ...], name: str, length: int | None = None) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=length or max(len(v) for v in values))


def upgrade() -> None:
    # document_events: plain ADD COLUMNs (no table copy on SQLite, so its partial indexes stay as they are).
    with op.batch_alter_table("document_events", recreate="never") as batch:
        batch.add_column(sa.Column("operation", _enum(OPERATIONS, "operation", 4), nullable=True))
        batch.add_column(sa.Column("list_id", sa.String(length=2), nullable=True))
        batch.add_column(sa.Column("reference_cude", sa.String(length=96), nullable=True))
        batch.add_column(sa.Column("sender_name", sa.String(length=450), nullable=True))
        batch.add_column(sa.Column("receiver_name", sa.String(length=450), nullable=True))
        batch.add_column(sa.Column("amount", MONEY, nullable=True))
        batch.add_column(sa.Column("price", MONEY, nullable=True))
        batch.add_column(sa.Column("discount_rate", sa.Numeric(12, 7), nullable=True))
        batch.add_column(sa.Column("value_block", JSONType, nullable=True))
        batch.add_column(sa.Column("effective_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("due_date", sa.Date(), nullable=True))
    op.create_index(op.f("ix_document_events_reference_cude"), "document_events", ["reference_cude"], unique=False)
    op.drop_index("uq_document_events_live_emitted", table_name="document_events")
    op.create_index(
        "uq_document_events_live_emitted",
        "document_events",
        ["document_id", "code"],
        unique=True,
        sqlite_where=sa.text(LIVE_NEW),
        postgresql_where=sa.text(LIVE_NEW),
    )

    op.create_table(
        "event_parties",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("role", _enum(PARTY_ROLES, "partyrole"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("nit", sa.String(length=20), nullable=False),
        sa.Column("dv", sa.String(length=1), nullable=True),
        sa.Column("id_scheme", sa.String(length=2), nullable=False),
        sa.Column("name", sa.String(length=450), nullable=False),
        sa.Column("amount", MONEY, nullable=True),
        sa.Column("legal_form_code", sa.String(length=10), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["document_events.id"],
            name=op.f("fk_event_parties_event_id_document_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_parties")),
        sa.UniqueConstraint("event_id", "role", "position", name=op.f("uq_event_parties_event_id_role_position")),
    )
    op.create_index("ix_event_parties_nit_role", "event_parties", ["nit", "role"], unique=False)

    # value_titles: nothing wrote it before; on SQLite the batch copies the table (no triggers or partial indexes).
    with op.batch_alter_table("value_titles") as batch:
        batch.alter_column(
            "state",
            existing_type=_enum(STATES_OLD, "titlestate"),
            type_=_enum(STATES_NEW, "titlestate", 20),
            existing_nullable=False,
        )
        batch.add_column(sa.Column("invoice_cufe", sa.String(length=96), nullable=False, server_default=""))
        batch.add_column(sa.Column("invoice_number", sa.String(length=60), nullable=False, server_default=""))
        for name in ("issuer", "debtor", "payee"):
            batch.add_column(sa.Column(f"{name}_nit", sa.String(length=20), nullable=False, server_default=""))
            batch.add_column(sa.Column(f"{name}_name", sa.String(length=450), nullable=False, server_default=""))
        batch.add_column(sa.Column("holders", JSONType, nullable=False, server_default="[]"))
        batch.add_column(sa.Column("holder_since", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("currency", sa.String(length=3), nullable=False, server_default="COP"))
        batch.add_column(sa.Column("due_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("value", MONEY, nullable=True))
        batch.add_column(sa.Column("paid", MONEY, nullable=False, server_default="0"))
        batch.add_column(sa.Column("outstanding", MONEY, nullable=True))
        batch.add_column(sa.Column("limited", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("limited_amount", MONEY, nullable=True))
        batch.add_column(sa.Column("last_event_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("chain_length", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("chain_etag", sa.String(length=64), nullable=False, server_default=""))
        batch.add_column(sa.Column("chain_version", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("last_watched_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("next_watch_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("watch_status", sa.String(length=10), nullable=True))
        batch.add_column(sa.Column("watch_failures", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("watch_error", sa.Text(), nullable=True))
        batch.create_index(batch.f("ix_value_titles_holder_nit"), ["holder_nit"], unique=False)
        batch.create_index("ix_value_titles_role_state_due", ["role", "state", "due_date"], unique=False)
        batch.create_index("ix_value_titles_watch", ["role", "next_watch_at"], unique=False)
    # Rows of an earlier life (none expected) get their CUFE from their document before the column turns unique.
    for column, table in (("document_id", "received_documents"), ("outbound_document_id", "outbound_documents")):
        op.execute(
            f"UPDATE value_titles SET invoice_cufe = COALESCE((SELECT cufe FROM {table} "  # noqa: S608 - constants
            f"WHERE {table}.id = value_titles.{column}), '') WHERE {column} IS NOT NULL AND invoice_cufe = ''"
        )
    op.execute("UPDATE value_titles SET invoice_cufe = 'title-' || id WHERE invoice_cufe = ''")
    with op.batch_alter_table("value_titles") as batch:
        batch.create_unique_constraint(batch.f("uq_value_titles_invoice_cufe"), ["invoice_cufe"])

    op.create_table(
        "title_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title_id", sa.Integer(), nullable=False),
        sa.Column("kind", _enum(ALERT_KINDS, "alertkind", 30), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("from_nit", sa.String(length=20), nullable=True),
        sa.Column("from_name", sa.String(length=450), nullable=True),
        sa.Column("to_nit", sa.String(length=20), nullable=True),
        sa.Column("to_name", sa.String(length=450), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("seen_by", sa.String(length=80), nullable=True),
        sa.Column("seen_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["title_id"], ["value_titles.id"], name=op.f("fk_title_alerts_title_id_value_titles")),
        sa.ForeignKeyConstraint(
            ["event_id"], ["document_events.id"], name=op.f("fk_title_alerts_event_id_document_events")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_title_alerts")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_title_alerts_dedupe_key")),
    )
    op.create_index(op.f("ix_title_alerts_title_id"), "title_alerts", ["title_id"], unique=False)
    op.create_index(op.f("ix_title_alerts_event_id"), "title_alerts", ["event_id"], unique=False)
    op.create_index("ix_title_alerts_unseen", "title_alerts", ["seen_at", "created_at"], unique=False)

    with op.batch_alter_table("outbound_documents", recreate="never") as batch:
        batch.add_column(sa.Column("origin", sa.String(length=20), nullable=False, server_default="issued"))
        batch.add_column(sa.Column("issue_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("due_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("payment_means", _enum(PAYMENT_MEANS, "paymentmeans"), nullable=True))
        batch.add_column(sa.Column("signed_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("verdict", _enum(VERDICTS, "verdict"), nullable=True))
        batch.add_column(sa.Column("report", JSONType, nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("outbound_documents") as batch:
        for column in ("report", "verdict", "signed_at", "payment_means", "due_date", "issue_date", "origin"):
            batch.drop_column(column)
    op.drop_table("title_alerts")
    with op.batch_alter_table("value_titles") as batch:
        batch.drop_constraint("uq_value_titles_invoice_cufe", type_="unique")
        batch.drop_index("ix_value_titles_watch")
        batch.drop_index("ix_value_titles_role_state_due")
        batch.drop_index("ix_value_titles_holder_nit")
        for column in (
            "watch_error", "watch_failures", "watch_status", "next_watch_at", "last_watched_at", "chain_version",
            "chain_etag", "chain_length", "last_event_at", "limited_amount", "limited", "outstanding", "paid",
            "value", "due_date", "currency", "holder_since", "holders", "payee_name", "payee_nit", "debtor_name",
            "debtor_nit", "issuer_name", "issuer_nit", "invoice_number", "invoice_cufe",
        ):  # fmt: skip
            batch.drop_column(column)
        batch.alter_column(
            "state",
            existing_type=_enum(STATES_NEW, "titlestate", 20),
            type_=_enum(STATES_OLD, "titlestate"),
            existing_nullable=False,
        )
    op.drop_index("ix_event_parties_nit_role", table_name="event_parties")
    op.drop_table("event_parties")
    op.drop_index("uq_document_events_live_emitted", table_name="document_events")
    op.create_index(
        "uq_document_events_live_emitted",
        "document_events",
        ["document_id", "code"],
        unique=True,
        sqlite_where=sa.text(LIVE_OLD),
        postgresql_where=sa.text(LIVE_OLD),
    )
    op.drop_index(op.f("ix_document_events_reference_cude"), table_name="document_events")
    for column in (
        "due_date", "effective_date", "value_block", "discount_rate", "price", "amount", "receiver_name",
        "sender_name", "reference_cude", "list_id", "operation",
    ):  # fmt: skip
        # SQLite 3.35+ drops a column in place; an older one would copy the table (its partial indexes included).
        op.drop_column("document_events", column)
