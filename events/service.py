"""The events façade the web and the API use: what may be sent on a document now, send it, deliver it right away.

The shell (buzon) builds it from the configuration; the certificate and the DIAN client are made on first use, so a
page that only reads never loads the key.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from dian.codes import EventCode
from dian.rules import Decision
from dian.soap import DianFault, DianResponse, DianTransportError
from events import approvals
from events.approvals import ApprovalError
from events.context import EventContext, utc_now
from events.emit import BUYER_EVENTS, Emitted, EventRequest, decide, emit_and_commit, emit_many, request_of
from events.outbox import DeliveryReport, DianEvents, OnRegistered, deliver_events
from store.audit import record
from store.models import Approval, Direction, DocumentEvent, ReceivedDocument, SubmissionState
from store.state import events_of

# Our events that wait for DIAN and may be sent again now (SENT is held by whoever is sending it).
RETRYABLE = (SubmissionState.SIGNED, SubmissionState.SEND_FAILED)


@dataclass
class EventService:
    sessions: sessionmaker[Session]
    make_context: Callable[[], EventContext]
    make_client: Callable[[], DianEvents] | None = None
    # Given the context and client, what to do when one of our events is registered (queue the supplier's notice).
    make_on_registered: Callable[[EventContext, Any], OnRegistered] | None = None
    _ctx: EventContext | None = field(default=None, init=False)
    _client: Any = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    @property
    def context(self) -> EventContext:
        with self._lock:
            if self._ctx is None:
                self._ctx = self.make_context()
            return self._ctx

    def decisions(
        self, session: Session, document: ReceivedDocument, at: datetime | None = None
    ) -> list[tuple[EventCode, Decision]]:
        """For each event the buyer sends (030, 031, 032, 033): may it be sent now, and if not, why."""
        at = at or utc_now()
        events = events_of(session, document)
        ctx = self.context
        return [(code, decide(session, ctx, document, code, at, events)) for code in sorted(BUYER_EVENTS)]

    def emit(self, document_id: int, request: EventRequest, *, actor: str, source: str | None = None,
             force: bool = False) -> Emitted:  # fmt: skip
        return emit_and_commit(self.sessions, self.context, document_id, request, actor=actor, source=source,
                               force=force)  # fmt: skip

    def emit_many(
        self, requests: list[tuple[int, EventRequest]], *, actor: str, source: str | None = None
    ) -> tuple[list[Emitted], dict[int, str]]:
        return emit_many(self.sessions, self.context, requests, actor=actor, source=source)

    def approve(self, approval_id: int, *, approver: str, source: str | None = None) -> Emitted:
        """A second user approves a pending 030-033 request (events/approvals.py): its exact request is checked again,
        signed through ``emit`` and delivered now. ApprovalError when this user may not decide it, EventRefused when
        the rules now refuse it (it then stays pending)."""
        with self.sessions() as s:
            row = s.get(Approval, approval_id)
            if row is None or row.document_id is None:
                raise ApprovalError(f"No existe la solicitud de aprobación {approval_id} sobre un documento recibido.")
            document_id, request = row.document_id, request_of(dict(row.action))
        emitted = emit_and_commit(self.sessions, self.context, document_id, request, actor=approver, source=source,
                                  approval=approval_id)  # fmt: skip
        self.deliver_now(actor=approver, only=[emitted.id])
        return emitted

    def refuse(self, approval_id: int, *, approver: str, note: str, source: str | None = None) -> None:
        """A second user refuses a pending request (any kind), with the reason the requester will read."""
        with self.sessions() as s:
            approvals.refuse(s, approval_id, approver=approver, note=note, now=utc_now(), source=source)
            s.commit()

    def _dian(self) -> Any:
        """The DIAN client, made on first use and shared by the requests of this process."""
        assert self.make_client is not None
        with self._lock:
            if self._client is None:
                self._client = self.make_client()
            return self._client

    def deliver_now(self, *, actor: str, only: Collection[int] | None = None) -> DeliveryReport | None:
        """Send what is due to DIAN now (or the due ones among ``only``) instead of waiting for the outbox job; None
        when DIAN cannot be reached (the events stay queued and the job retries them)."""
        if self.make_client is None:
            return None
        ctx = self.context
        try:
            client = self._dian()
            hook = self.make_on_registered(ctx, client) if self.make_on_registered else None
            return deliver_events(self.sessions, ctx, client, actor=actor, on_registered=hook, only=only)
        except (DianTransportError, DianFault):
            return None

    def retry_now(self, document_id: int, *, actor: str, source: str | None = None) -> list[int]:
        """Make the document's queued events of ours due now and send them at once, through the outbox's own code.

        Queued means signed or failed (a DIAN outage, a 98/66 answer, even one the outbox stopped asking about); an
        event being sent right now is left to its sender. Each retry is audited (``event.<code>.retry_requested``).
        Returns the ids retried, oldest first (empty when nothing was queued)."""
        now = utc_now()
        with self.sessions() as s:
            queued = list(
                s.scalars(
                    sa.select(DocumentEvent)
                    .where(
                        DocumentEvent.document_id == document_id,
                        DocumentEvent.direction == Direction.EMITTED,
                        DocumentEvent.submission_state.in_(RETRYABLE),
                    )
                    .order_by(DocumentEvent.id)
                    .with_for_update()
                )
            )
            for event in queued:
                event.next_attempt_at = now
                record(s, actor=actor, action=f"event.{event.code.value}.retry_requested",
                       subject=event.referenced_cufe, source=source,
                       data={"event_id": event.id, "cude": event.cude, "number": event.number,
                             "attempts": event.attempts},
                       at=now)  # fmt: skip
            ids = [event.id for event in queued]
            s.commit()
        if ids:
            self.deliver_now(actor=actor, only=ids)
        return ids

    def document_status(self, cufe: str) -> DianResponse | None:
        """DIAN's GetStatus for a document by CUFE, now; None without a DIAN client. Transport errors and SOAP faults
        propagate (the caller says DIAN could not be asked)."""
        if self.make_client is None:
            return None
        return self._dian().get_status(cufe)
