"""The events about a document (030-034 and RADIAN's), ours or observed, with the parties of each RADIAN event."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dian.codes import ClaimReason, EventCode, Operation
from store.models.base import Base, Timestamps, partial_index
from store.models.documents import ReceivedDocument
from store.models.issuing import OutboundDocument
from store.models.states import Direction, PartyRole, SubmissionState
from store.types import code_enum

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
