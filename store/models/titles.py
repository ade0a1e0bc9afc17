"""Invoices as títulos valores (RADIAN): the derived title and the alerts raised about it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from store.models.base import Base, Timestamps, utcnow
from store.models.documents import ReceivedDocument
from store.models.issuing import OutboundDocument
from store.models.states import AlertKind, TitleRole, TitleState
from store.types import code_enum


class ValueTitle(Timestamps, Base):
    """An invoice as a título valor, ours to collect (HOLDER: our own invoice) or received and ours to pay (OBLIGOR).

    Every column below the role is derived: recomputed from the registered RADIAN events by radian.title.ValueTitle.of
    (radian/store.py) whenever one is registered, and by the watch from DIAN's chain. Never edited by hand.
    """

    __tablename__ = "value_titles"
    __table_args__ = (
        sa.Index("ix_value_titles_role_state_due", "role", "state", "due_date"),
        # The watch's sweep: the titles whose next look at DIAN is due, soonest first (radian/watch/).
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
