"""The domain objects of DESIGN.md section 3 as typed SQLAlchemy 2 models.

Enum columns store DIAN's code ("030", "01"), money is Numeric, times are aware and stored in UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from dian.codes import ClaimReason, DocumentState, DocumentType, Environment, EventCode, Operation, PaymentMeans
from store.search import MAX_LENGTH as MAX_SEARCH_LENGTH
from store.search import search_default
from store.types import MONEY, JSONType, UTCDateTime, code_enum

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def partial_index(name: str, *columns: str, where: str, unique: bool = False) -> sa.Index:
    """An index of the rows ``where`` holds, on PostgreSQL and SQLite alike (both take the same predicate text)."""
    return sa.Index(name, *columns, unique=unique, sqlite_where=sa.text(where), postgresql_where=sa.text(where))


def utcnow() -> datetime:
    """Now, aware, in UTC (the default for created/updated columns)."""
    return datetime.now(UTC)


class MailStatus(StrEnum):
    PENDING = "pending"  # raw bytes stored, not yet processed
    FILED = "filed"
    QUARANTINED = "quarantined"
    IGNORED = "ignored"  # nothing for us (e.g. an out-of-office reply) and nothing to keep


class QuarantineReason(StrEnum):
    NOT_FOR_US = "not_for_us"  # not addressed to our NIT
    SIGNATURE_INVALID = "signature_invalid"
    NOT_VALIDATED = "not_validated"  # no valid DIAN validation
    NO_DOCUMENT = "no_document"  # no electronic document inside
    DUPLICATE = "duplicate"
    TOO_LARGE = "too_large"
    UNREADABLE = "unreadable"
    FORGED = "forged"  # an event or DIAN answer whose signer, parties or DIAN registration do not match
    INTERNAL_ERROR = "error_interno"  # an unexpected failure tied to this one message (its one-line summary kept)
    UNSUPPORTED = "unsupported"  # signed and readable, of a type Buzón does not take (a documento equivalente)


class Verdict(StrEnum):
    VALID = "valid"
    VALID_WITH_WARNINGS = "valid_with_warnings"
    UNCONFIRMED = "unconfirmed"  # signatures verify, but DIAN's validation is not proven (DESIGN.md 5a)
    INVALID = "invalid"


class Direction(StrEnum):
    EMITTED = "emitted"  # ours
    OBSERVED = "observed"  # the counterpart's, or a third party's (RADIAN)


class SubmissionState(StrEnum):
    DRAFT = "draft"
    SIGNED = "signed"
    SENT = "sent"
    REGISTERED = "registered"
    REJECTED = "rejected"
    SEND_FAILED = "send_failed"  # retryable


class TitleRole(StrEnum):
    HOLDER = "holder"  # our own invoice, or one endorsed to us
    OBLIGOR = "obligor"  # a received invoice we must pay


class TitleState(StrEnum):
    """Where a title stands; the values of radian.title.TitleState (DIAN's portal labels, A.12) plus UNREGISTERED."""

    UNREGISTERED = "unregistered"  # a credit invoice of ours on file, no 036 registered yet
    REGISTERED = "registered"  # 036: "Disponibilizada"
    ENDORSED = "endorsed"  # 037/038/039/047
    LIMITED = "limited"  # an active 041
    PROTESTED = "protested"  # 048
    TRANSFERRED = "transferred"  # 049
    PARTIALLY_PAID = "partially_paid"  # 451/511
    PAID = "paid"  # 452/512: closed


class PartyRole(StrEnum):
    """The place a party takes in a RADIAN event (radian-issuing-facts.md A.4, A.8)."""

    SENDER = "sender"  # SenderParty/PartyLegalEntity: endorser, payer, cedente
    RECEIVER = "receiver"  # ReceiverParty/PartyLegalEntity: endorsee (factor), assignee, cesionario
    COUNTERPART = "counterpart"  # DocumentResponse/IssuerParty/PartyLegalEntity: 362/364 buyer, 035 avalado
    DEBTOR = "debtor"  # DocumentReference/IssuerParty: the invoice buyer (037/038/039/047/049)
    MANDATARIO = "mandatario"  # 043: the agent the mandate empowers


class AlertKind(StrEnum):
    """Why treasury or AP is told about a title."""

    HOLDER_CHANGED = "holder_changed"  # a 037 moved the title: pay the new holder
    LIMITED = "limited"  # a 041: payment frozen
    LIMITATION_LIFTED = "limitation_lifted"  # a 042
    TRANSFERRED = "transferred"  # 049/050: the economic rights moved
    PROTESTED = "protested"  # 048
    PARTIALLY_PAID = "partially_paid"  # 451/511
    PAID = "paid"  # 452/512
    REGISTERED = "registered"  # 036 of a title
    REFUSED = "refused"  # DIAN refused one of our RADIAN events
    HOLDER_DISPUTED = "holder_disputed"  # GetDocumentInfo (unsigned) names another holder than the proven replay
    CLAIMED = "claimed"  # 031: the buyer claimed one of our invoices (it will not become a title)


class OutboundState(StrEnum):
    DRAFT = "draft"
    SIGNED = "signed"
    SENT = "sent"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    SEND_FAILED = "send_failed"


class DeliveryState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class WebhookState(StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # gave up after the configured attempts
    SKIPPED = "skipped"  # no webhook URL was configured when it came up for delivery


class MailKind(StrEnum):
    EVENT_NOTICE = "event_notice"  # our registered event, mailed to the supplier
    REMINDER = "reminder"  # a claim window about to close, mailed to the assigned clerk
    TITLE_ALERT = "title_alert"  # a supplier invoice changed holder or was limited, mailed to treasury and AP
    ISSUED = "issued"  # our invoice or note DIAN validated, mailed to the buyer (issuing/delivery.py)


class Role(StrEnum):
    CLERK = "clerk"  # inbox, events 030-033
    TREASURY = "treasury"  # RADIAN; inbox read-only
    ADMIN = "admin"  # users, settings
    AUDITOR = "auditor"  # read-only everything, audit log
    BILLING = "billing"  # facturación: issues our invoices and notes (web/issued*.py); no supplier inbox


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        datetime: UTCDateTime(),
        Decimal: MONEY,
        dict[str, Any]: JSONType,
        list[Any]: JSONType,
    }


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class MailMessage(Timestamps, Base):
    """One e-mail as received; its raw bytes are a blob stored before anything is parsed."""

    __tablename__ = "mail_messages"
    __table_args__ = (sa.UniqueConstraint("mailbox", "uidvalidity", "uid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox: Mapped[str] = mapped_column(sa.String(300))
    uidvalidity: Mapped[int | None] = mapped_column(sa.BigInteger)
    uid: Mapped[int | None] = mapped_column(sa.BigInteger)
    message_id: Mapped[str | None] = mapped_column(sa.String(998), index=True)
    sender: Mapped[str] = mapped_column(sa.String(998), default="")
    subject: Mapped[str] = mapped_column(sa.String(998), default="")
    received_at: Mapped[datetime]
    size: Mapped[int] = mapped_column(default=0)
    blob_key: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[MailStatus] = mapped_column(code_enum(MailStatus), default=MailStatus.PENDING, index=True)
    reason: Mapped[QuarantineReason | None] = mapped_column(code_enum(QuarantineReason))
    reason_detail: Mapped[str | None] = mapped_column(sa.Text)

    documents: Mapped[list[ReceivedDocument]] = relationship(back_populates="mail_message")

    @property
    def is_file(self) -> bool:
        """A file uploaded or imported as it is (an XML or a zip, no mail around it): no sender, no Message-ID."""
        return not self.sender and not self.message_id


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
        # What a search text finds, read without the wide rows (web/query.py asks it first; migration 0010).
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
    events: Mapped[list[DocumentEvent]] = relationship(
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


LIVE_EMITTED_RECEPTION_EVENT = (
    "direction = 'emitted' AND submission_state <> 'rejected' AND code IN ('030', '031', '032', '033', '034')"
)
OPEN_EMITTED_EVENTS = "direction = 'emitted' AND submission_state IN ('signed', 'sent', 'send_failed', 'rejected')"


class DocumentEvent(Timestamps, Base):
    """Every event about a document, ours or observed; the document's state derives from the registered ones."""

    __tablename__ = "document_events"
    __table_args__ = (
        # Never two live emitted events of one code on one document (a rejected one may be redone).
        # RADIAN events repeat (451 partial payments, 037 after 037), so the index covers 030-034 only (0011).
        partial_index(
            "uq_document_events_live_emitted", "document_id", "code", where=LIVE_EMITTED_RECEPTION_EVENT, unique=True
        ),
        sa.Index("ix_document_events_outbox", "submission_state", "next_attempt_at"),
        # Our events still open — queued or rejected — for the dashboard (0009); queries add OPEN_EMITTED_EVENTS
        # word for word, which is what lets SQLite use a partial index.
        partial_index(
            "ix_document_events_open_emitted", "submission_state", "document_id", "code", where=OPEN_EMITTED_EVENTS
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int | None] = mapped_column(sa.ForeignKey("received_documents.id"), index=True)
    outbound_document_id: Mapped[int | None] = mapped_column(sa.ForeignKey("outbound_documents.id"), index=True)
    code: Mapped[EventCode] = mapped_column(code_enum(EventCode))
    direction: Mapped[Direction] = mapped_column(code_enum(Direction))
    number: Mapped[str | None] = mapped_column(sa.String(40))
    cude: Mapped[str | None] = mapped_column(sa.String(96), unique=True)
    # The CUFE the event is about, kept even when that document is not on file yet (linked when it arrives).
    referenced_cufe: Mapped[str | None] = mapped_column(sa.String(96), index=True)
    claim_reason: Mapped[ClaimReason | None] = mapped_column(code_enum(ClaimReason))
    note: Mapped[str | None] = mapped_column(sa.Text)
    person: Mapped[dict[str, Any] | None]
    sender_nit: Mapped[str | None] = mapped_column(sa.String(20))
    receiver_nit: Mapped[str | None] = mapped_column(sa.String(20))
    signed_xml_blob: Mapped[str | None] = mapped_column(sa.String(64))
    signing_time: Mapped[datetime | None]
    submission_state: Mapped[SubmissionState] = mapped_column(code_enum(SubmissionState), default=SubmissionState.DRAFT)
    dian_status_code: Mapped[str | None] = mapped_column(sa.String(10))
    dian_messages: Mapped[list[Any]] = mapped_column(default=list)
    dian_response_blob: Mapped[str | None] = mapped_column(sa.String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    registered_at: Mapped[datetime | None]
    actor: Mapped[str] = mapped_column(sa.String(120), default="")
    # RADIAN 035-051 (migration 0011; None on 030-034). The variant (cbc:CustomizationID, e.g. 371) and listID (A.4).
    operation: Mapped[Operation | None] = mapped_column(code_enum(Operation, 4))
    list_id: Mapped[str | None] = mapped_column(sa.String(2))
    # The event a 040/042/044 ends, by CUDE (its DocumentReference, type 96).
    reference_cude: Mapped[str | None] = mapped_column(sa.String(96), index=True)
    sender_name: Mapped[str | None] = mapped_column(sa.String(450))
    receiver_name: Mapped[str | None] = mapped_column(sa.String(450))
    # The event's figures, read from its value block: the endorsed total (037-039/047), the amount paid (045/051),
    # the title value (036/046/048/050), the transferred value (049); the price and the discount rate (037/047/049).
    amount: Mapped[Decimal | None]
    price: Mapped[Decimal | None]
    discount_rate: Mapped[Decimal | None] = mapped_column(sa.Numeric(12, 7))
    # The whole value block as signed: {"group": "InformacionNegociacion", "pairs": [["ValorTotalEndoso", "..."], ...]}.
    value_block: Mapped[dict[str, Any] | None]
    effective_date: Mapped[date | None]  # Response/EffectiveDate: payment date (045/051), mandate start (043)
    due_date: Mapped[date | None]  # DocumentReference/ValidityPeriod/EndDate (AAH59)

    document: Mapped[ReceivedDocument | None] = relationship(back_populates="events", foreign_keys=[document_id])
    outbound_document: Mapped[OutboundDocument | None] = relationship()
    parties: Mapped[list[EventParty]] = relationship(
        back_populates="event", order_by="EventParty.id", cascade="all, delete-orphan"
    )


class EventParty(Base):
    """One party of a RADIAN event with its share: co-endorsers and endorsees (factors), the payer, the pre-agreed
    buyer, the debtor, the mandatario (A.4, A.8). The title's holder replay reads the receivers of each 037."""

    __tablename__ = "event_parties"
    __table_args__ = (
        sa.UniqueConstraint("event_id", "role", "position"),
        sa.Index("ix_event_parties_nit_role", "nit", "role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("document_events.id", ondelete="CASCADE"))
    role: Mapped[PartyRole] = mapped_column(code_enum(PartyRole))
    position: Mapped[int] = mapped_column(default=0)  # order within the role, as in the XML
    nit: Mapped[str] = mapped_column(sa.String(20))
    dv: Mapped[str | None] = mapped_column(sa.String(1))
    id_scheme: Mapped[str] = mapped_column(sa.String(2), default="31")  # DIAN identification type (31 = NIT)
    name: Mapped[str] = mapped_column(sa.String(450), default="")
    amount: Mapped[Decimal | None]  # cbc:CorporateStockAmount: the share endorsed, the amount paid
    legal_form_code: Mapped[str | None] = mapped_column(sa.String(10))  # cbc:CompanyLegalFormCode (factor type)

    event: Mapped[DocumentEvent] = relationship(back_populates="parties")


class ValueTitle(Timestamps, Base):
    """An invoice as a título valor, ours to collect (HOLDER: our own invoice) or received and ours to pay (OBLIGOR).

    Every column below the role is derived: recomputed from the registered RADIAN events by radian.title.ValueTitle.of
    (radian/store.py) whenever one is registered, and by the watch from DIAN's chain. Never edited by hand.
    """

    __tablename__ = "value_titles"
    __table_args__ = (
        sa.Index("ix_value_titles_role_state_due", "role", "state", "due_date"),
        # The watch's sweep: the titles whose next look at DIAN is due, soonest first (radian/watch.py).
        sa.Index("ix_value_titles_watch", "role", "next_watch_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int | None] = mapped_column(sa.ForeignKey("received_documents.id"), unique=True)
    outbound_document_id: Mapped[int | None] = mapped_column(sa.ForeignKey("outbound_documents.id"), unique=True)
    role: Mapped[TitleRole] = mapped_column(code_enum(TitleRole))
    invoice_cufe: Mapped[str] = mapped_column(sa.String(96), unique=True)
    invoice_number: Mapped[str] = mapped_column(sa.String(60), default="")
    state: Mapped[TitleState] = mapped_column(code_enum(TitleState, 20), default=TitleState.UNREGISTERED)
    # The original creditor (invoice issuer) and the debtor (invoice buyer).
    issuer_nit: Mapped[str] = mapped_column(sa.String(20), default="")
    issuer_name: Mapped[str] = mapped_column(sa.String(450), default="")
    debtor_nit: Mapped[str] = mapped_column(sa.String(20), default="")
    debtor_name: Mapped[str] = mapped_column(sa.String(450), default="")
    # DIAN's legitimate holder (A.11): the first one here, every co-holder in ``holders`` ([{nit, name, amount}]).
    holder_nit: Mapped[str] = mapped_column(sa.String(20), index=True)
    holder_name: Mapped[str] = mapped_column(sa.String(450), default="")
    holders: Mapped[list[Any]] = mapped_column(default=list)
    holder_since: Mapped[datetime | None]  # signing time of the 037 that made them holders; None: the issuer
    # Whom the debtor pays: the holder, or the assignee of notified economic rights (049 + 050).
    payee_nit: Mapped[str] = mapped_column(sa.String(20), default="")
    payee_name: Mapped[str] = mapped_column(sa.String(450), default="")
    currency: Mapped[str] = mapped_column(sa.String(3), default="COP")
    due_date: Mapped[date | None]
    value: Mapped[Decimal | None]  # the title's value (036 NuevoValorTV), else the invoice's payable amount
    paid: Mapped[Decimal] = mapped_column(default=Decimal(0))  # 045/051 payments registered
    outstanding: Mapped[Decimal | None]  # value - paid; 0 once paid in total
    limited: Mapped[bool] = mapped_column(default=False)  # an active 041: payment frozen, circulation stopped
    limited_amount: Mapped[Decimal | None]
    registered_at: Mapped[datetime | None]  # the first 036's signing time
    last_event_at: Mapped[datetime | None]  # the latest registered event's signing time
    # The chain as last derived: how many registered events, and a digest of their CUDEs in signing order. The watch
    # compares DIAN's GetStatusEvent chain with it; the web uses it as the title page's ETag.
    chain_length: Mapped[int] = mapped_column(default=0)
    chain_etag: Mapped[str] = mapped_column(sa.String(64), default="")
    chain_version: Mapped[int] = mapped_column(default=0)  # bumped each time the derived title changes
    # What the watch remembers: when it last asked DIAN, when it asks next, DIAN's last status code, failures.
    last_watched_at: Mapped[datetime | None]
    next_watch_at: Mapped[datetime | None]
    watch_status: Mapped[str | None] = mapped_column(sa.String(10))
    watch_failures: Mapped[int] = mapped_column(default=0)
    watch_error: Mapped[str | None] = mapped_column(sa.Text)

    document: Mapped[ReceivedDocument | None] = relationship()
    outbound_document: Mapped[OutboundDocument | None] = relationship()
    alerts: Mapped[list[TitleAlert]] = relationship(back_populates="title", order_by="TitleAlert.id")


class TitleAlert(Base):
    """Something treasury or AP must know about a title: above all a change of holder (pay the new one)."""

    __tablename__ = "title_alerts"
    __table_args__ = (sa.Index("ix_title_alerts_unseen", "seen_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title_id: Mapped[int] = mapped_column(sa.ForeignKey("value_titles.id"), index=True)
    kind: Mapped[AlertKind] = mapped_column(code_enum(AlertKind, 30))
    # One alert per fact, e.g. "holder_changed:<037 CUDE>": raising it twice is a no-op.
    dedupe_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("document_events.id"), index=True)
    from_nit: Mapped[str | None] = mapped_column(sa.String(20))
    from_name: Mapped[str | None] = mapped_column(sa.String(450))
    to_nit: Mapped[str | None] = mapped_column(sa.String(20))
    to_name: Mapped[str | None] = mapped_column(sa.String(450))
    message: Mapped[str] = mapped_column(sa.Text)  # Spanish, for the page and the mail
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_by: Mapped[str | None] = mapped_column(sa.String(80))
    seen_at: Mapped[datetime | None]

    title: Mapped[ValueTitle] = relationship(back_populates="alerts")


class DianCertificate(Base):
    """A DIAN signing certificate learned from DIAN itself: the signer of an ApplicationResponse that GetStatus
    returned over TLS from DIAN's endpoint. Answers it signs are then proven offline (DESIGN.md 5a); never a
    certificate that arrived by mail."""

    __tablename__ = "dian_certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    spki_sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)
    fingerprint_sha256: Mapped[str] = mapped_column(sa.String(64))
    subject: Mapped[str] = mapped_column(sa.Text)
    issuer: Mapped[str] = mapped_column(sa.Text)
    serial: Mapped[str] = mapped_column(sa.String(80))
    not_before: Mapped[datetime]
    not_after: Mapped[datetime]
    pem: Mapped[str] = mapped_column(sa.Text)
    learned_at: Mapped[datetime] = mapped_column(default=utcnow)
    learned_from: Mapped[str] = mapped_column(sa.String(96))  # the CUFE whose GetStatus answer it signed
    endpoint: Mapped[str] = mapped_column(sa.String(300), default="")
    environment: Mapped[str] = mapped_column(sa.String(20), default="")


class LooseAnswer(Base):
    """DIAN's validation of a document that arrived on its own (mailed apart from its invoice), kept by CUFE until
    the invoice is on file and the answer has been weighed against it."""

    __tablename__ = "loose_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    cufe: Mapped[str] = mapped_column(sa.String(96), index=True)
    blob_key: Mapped[str] = mapped_column(sa.String(64))
    mail_message_id: Mapped[int | None] = mapped_column(sa.ForeignKey("mail_messages.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    document_id: Mapped[int | None] = mapped_column(sa.ForeignKey("received_documents.id"), index=True)
    outcome: Mapped[str | None] = mapped_column(sa.Text)  # what weighing it against its document concluded


class AuditEntry(Base):
    """Append-only: who did what, when, from where. Updates and deletes are refused (store/audit.py), but for the seal
    that sets the chain columns once (store/audit_chain.py)."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(sa.String(120), index=True)
    action: Mapped[str] = mapped_column(sa.String(120), index=True)
    subject: Mapped[str | None] = mapped_column(sa.String(200), index=True)
    source: Mapped[str | None] = mapped_column(sa.String(200))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The hash chain (store/audit_chain.py): NULL until sealed, then set once (the triggers allow nothing else).
    chain_seq: Mapped[int | None] = mapped_column(sa.BigInteger)
    chain_hash: Mapped[str | None] = mapped_column(sa.String(64))

    __table_args__ = (
        sa.Index("ix_audit_entries_chain_seq", "chain_seq", unique=True),
        partial_index("ix_audit_entries_unsealed", "id", where="chain_seq IS NULL"),
    )


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


class OutgoingMail(Timestamps, Base):
    """A message waiting to be sent (the mail outbox); the whole RFC 5322 message is a blob."""

    __tablename__ = "outgoing_mail"
    __table_args__ = (sa.Index("ix_outgoing_mail_outbox", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[MailKind] = mapped_column(code_enum(MailKind))
    # One message per purpose, e.g. "event:<cude>" or "reminder:<document id>:<window end>"; enqueueing twice is
    # a no-op.
    dedupe_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    to_address: Mapped[str] = mapped_column(sa.String(998))
    subject: Mapped[str] = mapped_column(sa.String(998))
    message_blob: Mapped[str] = mapped_column(sa.String(64))
    state: Mapped[DeliveryState] = mapped_column(code_enum(DeliveryState), default=DeliveryState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    sent_at: Mapped[datetime | None]
    document_id: Mapped[int | None] = mapped_column(sa.ForeignKey("received_documents.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("document_events.id"), index=True)


class Counter(Base):
    """A named consecutive (e.g. our event numbers per event code), advanced under a row lock."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    value: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # the last number handed out


class JobRun(Base):
    """One run of a scheduled job: when, how it ended, and what it did."""

    __tablename__ = "job_runs"
    __table_args__ = (sa.Index("ix_job_runs_job_started", "job_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(sa.String(80))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(sa.String(20), default="running")  # running, ok, failed
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(sa.Text)


class User(Timestamps, Base):
    """A person who signs in; the person fields prefill the 032 form (who received the goods)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(80), unique=True)
    email: Mapped[str | None] = mapped_column(sa.String(320))
    role: Mapped[Role] = mapped_column(code_enum(Role))
    password_hash: Mapped[str] = mapped_column(sa.String(300), default="")
    active: Mapped[bool] = mapped_column(default=True)
    id_type: Mapped[str | None] = mapped_column(sa.String(2))  # DIAN identification type: 13 cédula, 22 extranjería…
    id_number: Mapped[str | None] = mapped_column(sa.String(20))
    first_name: Mapped[str | None] = mapped_column(sa.String(120))
    family_name: Mapped[str | None] = mapped_column(sa.String(120))
    job_title: Mapped[str | None] = mapped_column(sa.String(120))
    department: Mapped[str | None] = mapped_column(sa.String(120))
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    # Bumped by logout, a password reset or disabling: every session cookie carrying an older version is refused.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")


class LoginThrottle(Base):
    """Failed sign-ins of one account from one client address: a stranger's guesses lock only the stranger out."""

    __tablename__ = "login_throttles"
    __table_args__ = (sa.UniqueConstraint("username", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(80))
    address: Mapped[str] = mapped_column(sa.String(64))
    failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DocumentComment(Base):
    """An internal note a clerk leaves on a received document (never sent anywhere; audited)."""

    __tablename__ = "document_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("received_documents.id"), index=True)
    author: Mapped[str] = mapped_column(sa.String(80))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiToken(Base):
    """A bearer token for the JSON API; only its SHA-256 is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120), default="")
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(12))  # the first characters, to tell tokens apart
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="tokens")


class WebhookDelivery(Timestamps, Base):
    """The webhook outbox: one row per document state change, written in the transaction that made the change
    (store/webhooks.py), then POSTed, signed, until the receiver says 2xx (events/webhooks.py)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (sa.Index("ix_webhook_deliveries_outbox", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int | None] = mapped_column(sa.ForeignKey("received_documents.id"), index=True)
    event: Mapped[str] = mapped_column(sa.String(80))  # e.g. document.state_changed
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the JSON body, fixed when the change happened
    state: Mapped[WebhookState] = mapped_column(code_enum(WebhookState), default=WebhookState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_status: Mapped[int | None]  # the receiver's HTTP status
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    delivered_at: Mapped[datetime | None]

    document: Mapped[ReceivedDocument | None] = relationship()


class ApprovalState(StrEnum):
    PENDING = "pending"  # waiting for a second user
    APPROVED = "approved"  # decided and being signed (committed alone only if the send itself failed to commit)
    REFUSED = "refused"  # the second user said no, with a reason
    SENT = "sent"  # approved, signed and queued for DIAN (event_id names it)
    EXPIRED = "expired"  # the legal window closed before anyone decided


class Approval(Base):
    """Four-eyes (issue 20): an event someone asked for that waits for a second user's approval before it is signed
    (events/approvals.py). ``action`` is the exact request with its parameters, replayed as it is on approval."""

    __tablename__ = "approvals"
    __table_args__ = (
        sa.Index("ix_approvals_state_requested_at", "state", "requested_at"),
        # One pending request per subject and event: asking again points at the one that waits.
        partial_index("uq_approvals_pending", "subject", "code", where="state = 'pending'", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(sa.String(40))  # "document:<id>" or "title:<id>"
    document_id: Mapped[int | None] = mapped_column(sa.ForeignKey("received_documents.id"), index=True)
    title_id: Mapped[int | None] = mapped_column(sa.ForeignKey("value_titles.id"), index=True)
    code: Mapped[EventCode] = mapped_column(code_enum(EventCode))
    action: Mapped[dict[str, Any]] = mapped_column(default=dict)
    amount: Mapped[Decimal | None]
    invoice_number: Mapped[str] = mapped_column(sa.String(40), default="")
    counterparty_nit: Mapped[str | None] = mapped_column(sa.String(20))
    counterparty_name: Mapped[str | None] = mapped_column(sa.String(450))
    reason: Mapped[str] = mapped_column(sa.Text)  # why it needs approval, in Spanish
    state: Mapped[ApprovalState] = mapped_column(code_enum(ApprovalState, 10), default=ApprovalState.PENDING)
    requested_by: Mapped[str] = mapped_column(sa.String(80))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(sa.String(80))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(sa.Text)
    event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("document_events.id"))
    alerted_at: Mapped[datetime | None]  # when the approvers were mailed that the legal window is about to end


class LegalHold(Base):
    """A legal hold on the archive (migration 0015): what is held — one document by CUFE/CUDE, a supplier's documents
    by NIT, or the documents issued in a period — who placed it, why, when; released, never deleted. While a hold is
    active nothing it covers is past retention (store/archive/retention.py)."""

    __tablename__ = "legal_holds"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(sa.String(20))  # "document" | "supplier" | "period"
    cufe: Mapped[str | None] = mapped_column(sa.String(96), index=True)  # scope "document"
    nit: Mapped[str | None] = mapped_column(sa.String(20), index=True)  # scope "supplier"
    period_from: Mapped[date | None]  # scope "period": issue dates, both included
    period_to: Mapped[date | None]
    reason: Mapped[str] = mapped_column(sa.Text)
    held_by: Mapped[str] = mapped_column(sa.String(120))
    held_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(index=True)
    released_by: Mapped[str | None] = mapped_column(sa.String(120))
    release_reason: Mapped[str | None] = mapped_column(sa.Text)


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


class CompanyStamp(Base):
    """Whose database this is (migration 0019): one row, the company's NIT, written by `buzon init`. Every company of
    an install has a database of its own; the stamp keeps a configuration from pointing one company at another's."""

    __tablename__ = "company_stamp"

    nit: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(450))
    stamped_at: Mapped[datetime] = mapped_column(default=utcnow)
