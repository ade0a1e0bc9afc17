"""The received documents (supplier invoices and notes), the events sync's watch over them, their totals by month,
the suppliers, and the clerks' comments on a document."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dian.codes import DocumentState, DocumentType, Environment, PaymentMeans
from store.models.base import Base, Timestamps, partial_index, utcnow
from store.models.mail import MailMessage
from store.models.states import Verdict
from store.search import MAX_LENGTH as MAX_SEARCH_LENGTH
from store.search import search_default
from store.types import code_enum

# The invoices the events sync (events/sync.py) still asks DIAN about: open to a counterpart's event (RADIAN goes on
# after acceptance) and not yet found older than its horizon. Its queries add it word for word, which is what lets
# SQLite (and PostgreSQL's generic plans) use the partial index below (migration 0012).
EVENTS_SYNC_STATES = (
    DocumentState.VALIDATED,
    DocumentState.UNCONFIRMED,  # DIAN's validation not proven yet: its events (and their registration) count already
    DocumentState.ACKNOWLEDGED,
    DocumentState.GOODS_RECEIVED,
    DocumentState.ACCEPTED,
    DocumentState.TACITLY_ACCEPTED,
    DocumentState.TITLE,
)
EVENTS_SYNC_WATCHED = (
    f"state IN ({', '.join(repr(s.value) for s in EVENTS_SYNC_STATES)})"
    f" AND document_type IN ({', '.join(repr(t.value) for t in DocumentType if t.is_invoice)})"
    " AND events_sync_aged_out IS NULL"
)
AGED_OUT = "events_sync_aged_out IS NOT NULL"


class ReceivedDocument(Timestamps, Base):
    """One supplier invoice or note, unique by CUFE/CUDE, with its verification report."""

    __tablename__ = "received_documents"
    __table_args__ = (
        sa.Index("ix_received_documents_state_window", "state", "window_ends_at"),
        sa.Index("ix_received_documents_issued_at_id", "issued_at", "id"),
        # The inbox's sorts and common filters walk these in keyset order (web/query.py, migration 0004).
        sa.Index("ix_received_documents_state_issued", "state", "issued_at", "id"),
        sa.Index("ix_received_documents_issuer_issued", "issuer_nit", "issued_at", "id"),
        sa.Index("ix_received_documents_amount_id", "payable_amount", "id"),
        sa.Index("ix_received_documents_open_window_id", "open_window_ends_at", "id"),
        sa.Index("ix_received_documents_issuer_name_id", "issuer_name", "id"),
        # The inbox's one search box (store/search.py, migration 0008): trigrams on PostgreSQL, where the migration
        # could create pg_trgm; on SQLite a plain index that the search scans instead of the wide table.
        sa.Index(
            "ix_received_documents_search_text",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
        # The unconfirmed documents, counted by the dashboard and listed by the inbox (migration 0009).
        partial_index("ix_received_documents_unconfirmed", "issued_at", "id", where="verdict = 'unconfirmed'"),
        # The running claim windows with their amounts, summed by the dashboard from the index alone (0009).
        partial_index(
            "ix_received_documents_open_windows",
            "open_window_ends_at",
            "payable_amount",
            where="open_window_ends_at IS NOT NULL",
        ),
        # What a search text finds, read without the wide rows (web/search.py asks it first; migration 0010).
        sa.Index("ix_received_documents_search_text_id", "search_text", "id"),
        # "Mis facturas": the assigned documents only, newest first (migration 0010).
        partial_index(
            "ix_received_documents_assigned", "assigned_to", "issued_at", "id", where="assigned_to IS NOT NULL"
        ),
        # The events sync's queue: never-asked first, then the longest unasked, issued_at along to judge the horizon
        # without the wide rows; the documents it found too old stay out, found again by the second index (0012).
        partial_index(
            "ix_received_documents_events_sync", "events_synced_at", "id", "issued_at", where=EVENTS_SYNC_WATCHED
        ),
        # The buyer's purchase order, found by the inbox's order filter and the API (migration 0020).
        partial_index(
            "ix_received_documents_order_reference", "order_reference", "id", where="order_reference IS NOT NULL"
        ),
        partial_index("ix_received_documents_events_aged_out", "events_sync_aged_out", where=AGED_OUT),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cufe: Mapped[str] = mapped_column(sa.String(96), unique=True)
    document_type: Mapped[DocumentType] = mapped_column(code_enum(DocumentType))
    environment: Mapped[Environment] = mapped_column(code_enum(Environment))
    number: Mapped[str] = mapped_column(sa.String(40), index=True)
    prefix: Mapped[str] = mapped_column(sa.String(10), default="")
    issuer_nit: Mapped[str] = mapped_column(sa.String(20), index=True)
    issuer_dv: Mapped[str | None] = mapped_column(sa.String(1))
    issuer_name: Mapped[str] = mapped_column(sa.String(450))
    buyer_nit: Mapped[str] = mapped_column(sa.String(20))
    buyer_name: Mapped[str] = mapped_column(sa.String(450))
    software_provider_nit: Mapped[str | None] = mapped_column(sa.String(20))
    issue_date: Mapped[date]
    issued_at: Mapped[datetime]
    due_date: Mapped[date | None]
    payment_means: Mapped[PaymentMeans | None] = mapped_column(code_enum(PaymentMeans))
    currency: Mapped[str] = mapped_column(sa.String(3), default="COP")
    line_extension_amount: Mapped[Decimal]
    tax_exclusive_amount: Mapped[Decimal]
    tax_inclusive_amount: Mapped[Decimal]
    payable_amount: Mapped[Decimal]
    taxes: Mapped[list[Any]] = mapped_column(default=list)
    lines: Mapped[list[Any]] = mapped_column(default=list)
    line_count: Mapped[int] = mapped_column(default=0)
    signed_xml_blob: Mapped[str] = mapped_column(sa.String(64))
    attached_blob: Mapped[str | None] = mapped_column(sa.String(64))
    dian_response_blob: Mapped[str | None] = mapped_column(sa.String(64))
    pdf_blob: Mapped[str | None] = mapped_column(sa.String(64))
    zip_blob: Mapped[str | None] = mapped_column(sa.String(64))
    verdict: Mapped[Verdict] = mapped_column(code_enum(Verdict))
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[DocumentState] = mapped_column(code_enum(DocumentState), default=DocumentState.VALIDATED)
    window_ends_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    assigned_to: Mapped[str | None] = mapped_column(sa.String(80))  # "Mis facturas": see the index above
    # When GetStatusEvent last told us the counterpart's events (None: never asked).
    events_synced_at: Mapped[datetime | None]
    # Its issued_at once the events sync found it older than its horizon (it then leaves the sync's queue index);
    # NULL before. The date rather than a flag: a longer horizon takes documents back with one index probe.
    events_sync_aged_out: Mapped[datetime | None]
    # When the deadline sweep saw the claim window end with no 031 or 033 of ours.
    window_closed_at: Mapped[datetime | None]
    # window_ends_at while that window still runs (goods_received, not closed by the sweep), else None: the inbox's
    # "nearest deadline first" sorts on it, so decided and lapsed invoices do not bury the open windows.
    open_window_ends_at: Mapped[datetime | None]
    mail_message_id: Mapped[int | None] = mapped_column(sa.ForeignKey("mail_messages.id"), index=True)
    referenced_cufe: Mapped[str | None] = mapped_column(sa.String(96), index=True)
    referenced_document_id: Mapped[int | None] = mapped_column(sa.ForeignKey("received_documents.id"), index=True)
    # The buyer's purchase order as the supplier wrote it (cac:OrderReference/cbc:ID); NULL when it names none.
    order_reference: Mapped[str | None] = mapped_column(sa.String(100))
    # Number, NIT and name folded for the inbox search (store/search.py fills it on every insert).
    search_text: Mapped[str] = mapped_column(sa.String(MAX_SEARCH_LENGTH), default=search_default, server_default="")

    mail_message: Mapped[MailMessage | None] = relationship(back_populates="documents")
    referenced_document: Mapped[ReceivedDocument | None] = relationship(remote_side=[id])
    # store/models/events.py imports this module: DocumentEvent resolves through the registry, not an import.
    events: Mapped[list[DocumentEvent]] = relationship(  # noqa: F821
        back_populates="document", order_by="DocumentEvent.id", foreign_keys="DocumentEvent.document_id"
    )


class DocumentTotal(Base):
    """The received documents counted and summed by issue month (Bogotá), supplier and state: what the dashboard's
    amounts by state and a supplier's page read (store/totals.py) instead of every document. Kept by database
    triggers on received_documents (migration 0009), so no writer has to know about it; never written by the
    application."""

    __tablename__ = "document_totals"
    __table_args__ = (
        sa.Index("ix_document_totals_issuer_month", "issuer_nit", "month"),
        sa.Index("ix_document_totals_month_state", "month", "state", "documents", "cop_amount", "other_currency"),
        {"sqlite_with_rowid": False},
    )

    month: Mapped[date] = mapped_column(primary_key=True)  # the first day of the month of issued_at in Bogotá
    issuer_nit: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    state: Mapped[DocumentState] = mapped_column(code_enum(DocumentState), primary_key=True)
    documents: Mapped[int]
    cop_amount: Mapped[Decimal]  # the payable amounts of its documents in COP
    other_currency: Mapped[int]  # its documents in another currency: counted, not summed


class SupplierTotal(Base):
    """The same by issue month and supplier only, with the supplier's name: what the suppliers list and the
    dashboard's top suppliers read; a change of state never touches it (migration 0009's triggers keep it)."""

    __tablename__ = "supplier_totals"
    __table_args__ = ({"sqlite_with_rowid": False},)

    month: Mapped[date] = mapped_column(primary_key=True)
    issuer_nit: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    documents: Mapped[int]
    cop_amount: Mapped[Decimal]
    other_currency: Mapped[int]
    issuer_name: Mapped[str] = mapped_column(sa.String(450))  # as on the latest document counted
    supplier_text: Mapped[str] = mapped_column(sa.String(MAX_SEARCH_LENGTH))  # "nit␟name" folded (store/search.py)


class Supplier(Timestamps, Base):
    """What we know of a supplier beyond its documents: where its events go, and our policies for it."""

    __tablename__ = "suppliers"

    id: Mapped[int] = mapped_column(primary_key=True)
    nit: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(450), default="")
    reception_email: Mapped[str | None] = mapped_column(sa.String(320))  # overrides the invoice and DIAN's list
    auto_acknowledge: Mapped[bool] = mapped_column(default=False)  # 030 by policy "valid_listed"
    auto_receipt: Mapped[bool] = mapped_column(default=False)  # services: 032 automatically on invoicing
    # DIAN's reception addresses for the NIT (GetExchangeEmails) as last read by the job refresh_supplier_emails
    # (events/supplier_emails.py): [] when DIAN lists none, None when never read.
    dian_emails: Mapped[list[Any] | None]
    dian_emails_read_at: Mapped[datetime | None] = mapped_column(index=True)


class DocumentComment(Base):
    """An internal note a clerk leaves on a received document (never sent anywhere; audited)."""

    __tablename__ = "document_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("received_documents.id"), index=True)
    author: Mapped[str] = mapped_column(sa.String(80))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
