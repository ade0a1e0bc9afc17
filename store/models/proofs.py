"""DIAN's proof material kept apart from the documents: the signing certificates learned from DIAN, and DIAN's
answers that arrived without their invoice."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base, utcnow


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
