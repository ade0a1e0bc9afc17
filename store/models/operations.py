"""The install's own bookkeeping: the audit log, named counters, job runs, the webhook outbox, legal holds and
the company stamp."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from store.models.base import Base, Timestamps, partial_index, utcnow
from store.models.documents import ReceivedDocument
from store.models.states import WebhookState
from store.types import code_enum


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


class CompanyStamp(Base):
    """Whose database this is (migration 0019): one row, the company's NIT, written by `buzon init`. Every company of
    an install has a database of its own; the stamp keeps a configuration from pointing one company at another's."""

    __tablename__ = "company_stamp"

    nit: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(450))
    stamped_at: Mapped[datetime] = mapped_column(default=utcnow)
