"""Four-eyes: the events that wait for a second user's approval before they are signed, and their states."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from dian.codes import EventCode
from store.models.base import Base, partial_index, utcnow
from store.types import code_enum


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
