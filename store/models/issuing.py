"""What we issue: the numbering ranges, the outbound invoices and notes, and the purchases a weekly documento
soporte gathers."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from dian.codes import DocumentType, Environment, PaymentMeans
from store.models.base import Base, Timestamps, partial_index
from store.models.states import DeliveryState, OutboundState, Verdict
from store.types import code_enum


class NumberingRange(Timestamps, Base):
    """A numbering range: DIAN's authorization as GetNumberingRange returns it (source "dian", never typed by hand),
    or our own series for notes (source "own"). ``next_number`` is the consecutive the next document takes, advanced
    by one atomic UPDATE in the transaction that stores the signed document (issuing/ranges.py), so a number is never
    skipped or given twice (migration 0013)."""

    __tablename__ = "numbering_ranges"
    __table_args__ = (sa.UniqueConstraint("environment", "kind", "prefix", "resolution_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20))  # invoice (01, 02, 04), contingency (03), credit_note, debit_note
    source: Mapped[str] = mapped_column(sa.String(10), default="dian")  # dian | own
    environment: Mapped[Environment] = mapped_column(code_enum(Environment))
    prefix: Mapped[str] = mapped_column(sa.String(10), default="")
    resolution_number: Mapped[str] = mapped_column(sa.String(40), default="")  # "" for our own series
    resolution_date: Mapped[date | None]
    from_number: Mapped[int] = mapped_column(sa.BigInteger)
    to_number: Mapped[int] = mapped_column(sa.BigInteger)
    valid_from: Mapped[date | None]
    valid_to: Mapped[date | None]
    technical_key: Mapped[str | None] = mapped_column(sa.String(200))
    software_id: Mapped[str | None] = mapped_column(sa.String(80))
    next_number: Mapped[int] = mapped_column(sa.BigInteger)
    active: Mapped[bool] = mapped_column(default=True)  # False once DIAN no longer lists it
    fetched_at: Mapped[datetime | None]


OUTBOUND_DUE = "origin = 'issued' AND state IN ('signed', 'sent', 'send_failed')"


class OutboundDocument(Timestamps, Base):
    """An invoice or note we issue."""

    __tablename__ = "outbound_documents"
    __table_args__ = (
        sa.UniqueConstraint("document_type", "prefix", "number"),
        # One consecutive of a range is one document (0013): 01, 02 and 04 share the invoice range.
        sa.Index("uq_outbound_documents_range_consecutive", "range_id", "consecutive", unique=True),
        # An ERP's retried request finds the first document (0013).
        sa.Index("uq_outbound_documents_idempotency", "client_key", "idempotency_key", unique=True),
        # The issuing outbox's queue (0013).
        partial_index("ix_outbound_documents_outbox", "next_attempt_at", "id", where=OUTBOUND_DUE),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_type: Mapped[DocumentType] = mapped_column(code_enum(DocumentType))
    environment: Mapped[Environment] = mapped_column(code_enum(Environment))
    prefix: Mapped[str] = mapped_column(sa.String(10), default="")
    number: Mapped[str] = mapped_column(sa.String(40))
    cufe: Mapped[str | None] = mapped_column(sa.String(96), unique=True)
    buyer_nit: Mapped[str] = mapped_column(sa.String(20))
    buyer_name: Mapped[str] = mapped_column(sa.String(450))
    buyer_email: Mapped[str | None] = mapped_column(sa.String(320))
    issued_at: Mapped[datetime | None]
    currency: Mapped[str] = mapped_column(sa.String(3), default="COP")
    payable_amount: Mapped[Decimal]
    state: Mapped[OutboundState] = mapped_column(code_enum(OutboundState), default=OutboundState.DRAFT)
    xml_blob: Mapped[str | None] = mapped_column(sa.String(64))
    dian_response_blob: Mapped[str | None] = mapped_column(sa.String(64))
    attached_blob: Mapped[str | None] = mapped_column(sa.String(64))
    pdf_blob: Mapped[str | None] = mapped_column(sa.String(64))
    dian_status_code: Mapped[str | None] = mapped_column(sa.String(10))
    dian_messages: Mapped[list[Any]] = mapped_column(default=list)
    delivery_state: Mapped[DeliveryState | None] = mapped_column(code_enum(DeliveryState))
    delivered_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    # What RADIAN needs of the invoice, and how it came to us (migration 0011): issued here, or imported with DIAN's
    # answer (radian/importing.py), verified like a received document (signature, our NIT the seller, DIAN's answer
    # weighed by dian.proof).
    origin: Mapped[str] = mapped_column(sa.String(20), default="issued", server_default="issued")
    issue_date: Mapped[date | None]
    due_date: Mapped[date | None]
    payment_means: Mapped[PaymentMeans | None] = mapped_column(code_enum(PaymentMeans))
    signed_at: Mapped[datetime | None]  # its xades:SigningTime
    verdict: Mapped[Verdict | None] = mapped_column(code_enum(Verdict))
    report: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    # Issuing (migration 0013): the range and consecutive taken, the request as the ERP sent it and its idempotency
    # key (unique per client: an API token, the CLI), the totals computed, the referenced invoice of a note, the
    # contingency, the outbox's schedule, and the test set's ZipKey in habilitación.
    # range_id and reference_id are ids without a FOREIGN KEY: SQLite adds none to an existing table (0013).
    range_id: Mapped[int | None] = mapped_column()
    consecutive: Mapped[int | None] = mapped_column(sa.BigInteger)
    client_key: Mapped[str | None] = mapped_column(sa.String(120))
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(200))
    payload_digest: Mapped[str | None] = mapped_column(sa.String(64))
    payload: Mapped[dict[str, Any] | None]
    line_extension_amount: Mapped[Decimal | None]
    tax_exclusive_amount: Mapped[Decimal | None]
    tax_inclusive_amount: Mapped[Decimal | None]
    allowance_total_amount: Mapped[Decimal | None]
    charge_total_amount: Mapped[Decimal | None]
    withholding_amount: Mapped[Decimal | None]
    qr_text: Mapped[str | None] = mapped_column(sa.Text)
    file_name: Mapped[str | None] = mapped_column(sa.String(80))
    reference_id: Mapped[int | None] = mapped_column(index=True)  # the invoice a note corrects, when ours
    reference_cufe: Mapped[str | None] = mapped_column(sa.String(96))
    contingency_reason: Mapped[str | None] = mapped_column(sa.Text)
    contingency_declared_at: Mapped[datetime | None]
    contingency_deadline: Mapped[datetime | None]
    test_set_id: Mapped[str | None] = mapped_column(sa.String(80))
    zip_key: Mapped[str | None] = mapped_column(sa.String(80))
    next_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    validated_at: Mapped[datetime | None]
    actor: Mapped[str | None] = mapped_column(sa.String(120))


class SupportPurchase(Timestamps, Base):
    """A purchase from a seller not obliged to invoice, registered by AP during the week, until the weekly documento
    soporte (generation mode 2, "acumulado semanal") gathers it (migration 0018, issuing/support_week.py). ``seller``
    and ``line`` are the DS request's own shapes; ``support_document_id`` the DS that gathered it (None: still open)."""

    __tablename__ = "support_purchases"
    __table_args__ = (sa.Index("ix_support_purchases_seller_day", "seller_id", "purchased_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seller_id: Mapped[str] = mapped_column(sa.String(20))
    seller: Mapped[dict[str, Any]]
    purchased_on: Mapped[date]
    line: Mapped[dict[str, Any]]
    support_document_id: Mapped[int | None] = mapped_column(index=True)  # an outbound_documents id, no FOREIGN KEY
    actor: Mapped[str] = mapped_column(sa.String(120))
