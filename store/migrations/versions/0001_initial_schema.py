"""Initial schema: every table of DESIGN.md section 3, and the append-only audit log enforced by the database.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from store.types import MONEY, JSONType, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

APPEND_ONLY = "audit_entries is append-only: UPDATE and DELETE are refused"


def upgrade() -> None:
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("action", sa.String(length=120), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("data", JSONType, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
    )
    op.create_index(op.f("ix_audit_entries_action"), "audit_entries", ["action"], unique=False)
    op.create_index(op.f("ix_audit_entries_actor"), "audit_entries", ["actor"], unique=False)
    op.create_index(op.f("ix_audit_entries_at"), "audit_entries", ["at"], unique=False)
    op.create_index(op.f("ix_audit_entries_subject"), "audit_entries", ["subject"], unique=False)

    op.create_table(
        "mail_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mailbox", sa.String(length=300), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=True),
        sa.Column("uid", sa.BigInteger(), nullable=True),
        sa.Column("message_id", sa.String(length=998), nullable=True),
        sa.Column("sender", sa.String(length=998), nullable=False),
        sa.Column("subject", sa.String(length=998), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("blob_key", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum("pending", "filed", "quarantined", "ignored", name="mailstatus", native_enum=False),
            nullable=False,
        ),
        sa.Column(
            "reason",
            sa.Enum(
                "not_for_us",
                "signature_invalid",
                "not_validated",
                "no_document",
                "duplicate",
                "too_large",
                "unreadable",
                name="quarantinereason",
                native_enum=False,
            ),
            nullable=True,
        ),
        sa.Column("reason_detail", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_messages")),
        sa.UniqueConstraint("mailbox", "uidvalidity", "uid", name=op.f("uq_mail_messages_mailbox_uidvalidity_uid")),
    )
    op.create_index(op.f("ix_mail_messages_message_id"), "mail_messages", ["message_id"], unique=False)
    op.create_index(op.f("ix_mail_messages_status"), "mail_messages", ["status"], unique=False)

    op.create_table(
        "outbound_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "document_type",
            sa.Enum("01", "02", "03", "04", "91", "92", name="documenttype", native_enum=False),
            nullable=False,
        ),
        sa.Column("environment", sa.Enum("1", "2", name="environment", native_enum=False), nullable=False),
        sa.Column("prefix", sa.String(length=10), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("cufe", sa.String(length=96), nullable=True),
        sa.Column("buyer_nit", sa.String(length=20), nullable=False),
        sa.Column("buyer_name", sa.String(length=450), nullable=False),
        sa.Column("buyer_email", sa.String(length=320), nullable=True),
        sa.Column("issued_at", UTCDateTime(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("payable_amount", MONEY, nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "draft",
                "signed",
                "sent",
                "accepted",
                "rejected",
                "send_failed",
                name="outboundstate",
                native_enum=False,
            ),
            nullable=False,
        ),
        sa.Column("xml_blob", sa.String(length=64), nullable=True),
        sa.Column("dian_response_blob", sa.String(length=64), nullable=True),
        sa.Column("attached_blob", sa.String(length=64), nullable=True),
        sa.Column("pdf_blob", sa.String(length=64), nullable=True),
        sa.Column("dian_status_code", sa.String(length=10), nullable=True),
        sa.Column("dian_messages", JSONType, nullable=False),
        sa.Column(
            "delivery_state",
            sa.Enum("pending", "sent", "failed", name="deliverystate", native_enum=False),
            nullable=True,
        ),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_documents")),
        sa.UniqueConstraint("cufe", name=op.f("uq_outbound_documents_cufe")),
        sa.UniqueConstraint(
            "document_type", "prefix", "number", name=op.f("uq_outbound_documents_document_type_prefix_number")
        ),
    )
    op.create_table(
        "received_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cufe", sa.String(length=96), nullable=False),
        sa.Column(
            "document_type",
            sa.Enum("01", "02", "03", "04", "91", "92", name="documenttype", native_enum=False),
            nullable=False,
        ),
        sa.Column("environment", sa.Enum("1", "2", name="environment", native_enum=False), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("prefix", sa.String(length=10), nullable=False),
        sa.Column("issuer_nit", sa.String(length=20), nullable=False),
        sa.Column("issuer_dv", sa.String(length=1), nullable=True),
        sa.Column("issuer_name", sa.String(length=450), nullable=False),
        sa.Column("buyer_nit", sa.String(length=20), nullable=False),
        sa.Column("buyer_name", sa.String(length=450), nullable=False),
        sa.Column("software_provider_nit", sa.String(length=20), nullable=True),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("payment_means", sa.Enum("1", "2", name="paymentmeans", native_enum=False), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("line_extension_amount", MONEY, nullable=False),
        sa.Column("tax_exclusive_amount", MONEY, nullable=False),
        sa.Column("tax_inclusive_amount", MONEY, nullable=False),
        sa.Column("payable_amount", MONEY, nullable=False),
        sa.Column("taxes", JSONType, nullable=False),
        sa.Column("lines", JSONType, nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("signed_xml_blob", sa.String(length=64), nullable=False),
        sa.Column("attached_blob", sa.String(length=64), nullable=True),
        sa.Column("dian_response_blob", sa.String(length=64), nullable=True),
        sa.Column("pdf_blob", sa.String(length=64), nullable=True),
        sa.Column("zip_blob", sa.String(length=64), nullable=True),
        sa.Column(
            "verdict",
            sa.Enum("valid", "valid_with_warnings", "invalid", name="verdict", native_enum=False),
            nullable=False,
        ),
        sa.Column("report", JSONType, nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "received",
                "validated",
                "invalid",
                "acknowledged",
                "goods_received",
                "accepted",
                "claimed",
                "tacitly_accepted",
                "title",
                name="documentstate",
                native_enum=False,
            ),
            nullable=False,
        ),
        sa.Column("window_ends_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("assigned_to", sa.String(length=80), nullable=True),
        sa.Column("mail_message_id", sa.Integer(), nullable=True),
        sa.Column("referenced_cufe", sa.String(length=96), nullable=True),
        sa.Column("referenced_document_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["mail_message_id"], ["mail_messages.id"], name=op.f("fk_received_documents_mail_message_id_mail_messages")
        ),
        sa.ForeignKeyConstraint(
            ["referenced_document_id"],
            ["received_documents.id"],
            name=op.f("fk_received_documents_referenced_document_id_received_documents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_received_documents")),
        sa.UniqueConstraint("cufe", name=op.f("uq_received_documents_cufe")),
    )
    op.create_index("ix_received_documents_issued_at_id", "received_documents", ["issued_at", "id"], unique=False)
    op.create_index(op.f("ix_received_documents_issuer_nit"), "received_documents", ["issuer_nit"], unique=False)
    op.create_index(
        op.f("ix_received_documents_mail_message_id"), "received_documents", ["mail_message_id"], unique=False
    )
    op.create_index(op.f("ix_received_documents_number"), "received_documents", ["number"], unique=False)
    op.create_index(
        op.f("ix_received_documents_referenced_cufe"), "received_documents", ["referenced_cufe"], unique=False
    )
    op.create_index(
        op.f("ix_received_documents_referenced_document_id"),
        "received_documents",
        ["referenced_document_id"],
        unique=False,
    )
    op.create_index(
        "ix_received_documents_state_window", "received_documents", ["state", "window_ends_at"], unique=False
    )

    op.create_table(
        "document_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("outbound_document_id", sa.Integer(), nullable=True),
        sa.Column(
            "code",
            sa.Enum(
                "030",
                "031",
                "032",
                "033",
                "034",
                "035",
                "036",
                "037",
                "038",
                "039",
                "040",
                "041",
                "042",
                "043",
                "044",
                "045",
                "046",
                "047",
                "048",
                "049",
                "050",
                "051",
                name="eventcode",
                native_enum=False,
            ),
            nullable=False,
        ),
        sa.Column("direction", sa.Enum("emitted", "observed", name="direction", native_enum=False), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=True),
        sa.Column("cude", sa.String(length=96), nullable=True),
        sa.Column(
            "claim_reason", sa.Enum("01", "02", "03", "04", name="claimreason", native_enum=False), nullable=True
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("person", JSONType, nullable=True),
        sa.Column("sender_nit", sa.String(length=20), nullable=True),
        sa.Column("receiver_nit", sa.String(length=20), nullable=True),
        sa.Column("signed_xml_blob", sa.String(length=64), nullable=True),
        sa.Column("signing_time", UTCDateTime(), nullable=True),
        sa.Column(
            "submission_state",
            sa.Enum(
                "draft",
                "signed",
                "sent",
                "registered",
                "rejected",
                "send_failed",
                name="submissionstate",
                native_enum=False,
            ),
            nullable=False,
        ),
        sa.Column("dian_status_code", sa.String(length=10), nullable=True),
        sa.Column("dian_messages", JSONType, nullable=False),
        sa.Column("dian_response_blob", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("registered_at", UTCDateTime(), nullable=True),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["received_documents.id"], name=op.f("fk_document_events_document_id_received_documents")
        ),
        sa.ForeignKeyConstraint(
            ["outbound_document_id"],
            ["outbound_documents.id"],
            name=op.f("fk_document_events_outbound_document_id_outbound_documents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_events")),
        sa.UniqueConstraint("cude", name=op.f("uq_document_events_cude")),
    )
    op.create_index(op.f("ix_document_events_document_id"), "document_events", ["document_id"], unique=False)
    op.create_index(
        op.f("ix_document_events_outbound_document_id"), "document_events", ["outbound_document_id"], unique=False
    )
    op.create_index(
        "ix_document_events_outbox", "document_events", ["submission_state", "next_attempt_at"], unique=False
    )
    op.create_index(
        "uq_document_events_live_emitted",
        "document_events",
        ["document_id", "code"],
        unique=True,
        sqlite_where=sa.text("direction = 'emitted' AND submission_state <> 'rejected'"),
        postgresql_where=sa.text("direction = 'emitted' AND submission_state <> 'rejected'"),
    )

    op.create_table(
        "value_titles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("outbound_document_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.Enum("holder", "obligor", name="titlerole", native_enum=False), nullable=False),
        sa.Column(
            "state",
            sa.Enum("registered", "endorsed", "limited", "paid", name="titlestate", native_enum=False),
            nullable=False,
        ),
        sa.Column("holder_nit", sa.String(length=20), nullable=False),
        sa.Column("holder_name", sa.String(length=450), nullable=False),
        sa.Column("registered_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["received_documents.id"], name=op.f("fk_value_titles_document_id_received_documents")
        ),
        sa.ForeignKeyConstraint(
            ["outbound_document_id"],
            ["outbound_documents.id"],
            name=op.f("fk_value_titles_outbound_document_id_outbound_documents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_value_titles")),
        sa.UniqueConstraint("document_id", name=op.f("uq_value_titles_document_id")),
        sa.UniqueConstraint("outbound_document_id", name=op.f("uq_value_titles_outbound_document_id")),
    )
    _append_only_audit_log()


def _append_only_audit_log() -> None:
    """Refuse UPDATE, DELETE (and on PostgreSQL TRUNCATE) of audit entries in the database itself."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{APPEND_ONLY}' USING ERRCODE = 'insufficient_privilege';
            END $$
            """
        )
        op.execute(
            "CREATE TRIGGER audit_entries_no_change BEFORE UPDATE OR DELETE ON audit_entries "
            "FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_entries_no_{verb.lower()} BEFORE {verb} ON audit_entries "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_truncate ON audit_entries")
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_change ON audit_entries")
        op.execute("DROP FUNCTION IF EXISTS audit_entries_append_only()")
    for table in (
        "value_titles",
        "document_events",
        "received_documents",
        "outbound_documents",
        "mail_messages",
        "audit_entries",
    ):
        op.drop_table(table)
