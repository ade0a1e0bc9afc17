"""Mail, both ways: the e-mails received (MailMessage) and the mail outbox (OutgoingMail)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from store.models.base import Base, Timestamps
from store.models.states import DeliveryState, MailKind, MailStatus, QuarantineReason
from store.types import code_enum


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

    # store/models/documents.py imports this module: ReceivedDocument resolves through the registry, not an import.
    documents: Mapped[list[ReceivedDocument]] = relationship(back_populates="mail_message")  # noqa: F821

    @property
    def is_file(self) -> bool:
        """A file uploaded or imported as it is (an XML or a zip, no mail around it): no sender, no Message-ID."""
        return not self.sender and not self.message_id


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
