"""The events façade the web and the API use: what may be sent on a document now, send it, deliver it right away.

The shell (buzon) builds it from the configuration; the certificate and the DIAN client are made on first use, so a
page that only reads never loads the key.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from dian.codes import EventCode
from dian.rules import Decision
from dian.soap import DianFault, DianTransportError
from events.context import EventContext, utc_now
from events.emit import BUYER_EVENTS, Emitted, EventRequest, decide, emit_and_commit, emit_many
from events.outbox import DeliveryReport, DianEvents, OnRegistered, deliver_events
from store.models import ReceivedDocument
from store.state import events_of


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

    def deliver_now(self, *, actor: str) -> DeliveryReport | None:
        """Send what is due to DIAN now instead of waiting for the outbox job; None when DIAN cannot be reached
        (the events stay queued and the job retries them)."""
        if self.make_client is None:
            return None
        ctx = self.context
        try:
            with self._lock:
                if self._client is None:
                    self._client = self.make_client()
            hook = self.make_on_registered(ctx, self._client) if self.make_on_registered else None
            return deliver_events(self.sessions, ctx, self._client, actor=actor, on_registered=hook)
        except (DianTransportError, DianFault):
            return None
