"""Demo events: after the demo inbox is filed, a few invoices get their 030/032/033 registered by the local DIAN
simulator, so the inbox shows every state and one live three-business-day countdown.

The events are signed at past moments (the invoices are days old), queued, and delivered over HTTP to a simulator
started for the occasion on a free loopback port; the suppliers' notices wait in the mail outbox for the scheduler.
One more 030 meets a DIAN that does not answer (a closed port): it stays queued with the transport error, and the
scheduler of `make run` retries it against the running simulator, registers it and mails the supplier's notice.
The SOAP client is imported where it is used (start-up time: zeep only once events are delivered).
"""

from __future__ import annotations

import datetime as dt
import socket
from typing import Any

import sqlalchemy as sa

from buzon import local_dian
from buzon.config import Settings
from buzon.runtime import Runtime
from dian.codes import DocumentType, EventCode, PaymentMeans
from dian.ubl import Person

# (position among the filed credit invoices, oldest first) -> events, each at hours after the invoice was issued;
# a negative number means hours before now.
PLAN: dict[int, tuple[tuple[EventCode, float], ...]] = {
    0: ((EventCode.ACUSE_RECIBO, 1), (EventCode.RECIBO_BIEN, 3), (EventCode.ACEPTACION_EXPRESA, 5)),
    1: ((EventCode.ACUSE_RECIBO, 2), (EventCode.RECIBO_BIEN, 4)),  # the window ended long ago: tacit acceptance due
    3: ((EventCode.ACUSE_RECIBO, 1),),
    -1: ((EventCode.ACUSE_RECIBO, 1), (EventCode.RECIBO_BIEN, -2)),  # the newest: a live countdown
}


RETRIED = 2  # the position of the invoice whose 030 meets a DIAN that does not answer, retried by the scheduler

DEMO_PERSON = Person(id="1020304050", first_name="Ana María", family_name="Pérez Gómez", job_title="Almacenista",
                     department="Compras")  # fmt: skip


def seed_events(settings: Settings, *, now: dt.datetime | None = None) -> str | None:
    """Register the demo events once, then the demo receivable title (buzon/demo_titles.py), then our own issued
    invoices (buzon/demo_issued.py: after the titles, whose receivable is seeded only while no title exists)."""
    from buzon.demo_issued import seed_issued
    from buzon.demo_titles import seed_titles

    notes = [_seed_events(settings, now=now), seed_titles(settings, now=now), seed_issued(settings, now=now)]
    notes = [note for note in notes if note]
    return "\n".join(notes) or None


def _seed_events(settings: Settings, *, now: dt.datetime | None = None) -> str | None:
    """Register the demo events once (nothing when any event of ours exists already)."""
    from dian.soap import DianClient
    from events.emit import EventRefused, EventRequest, emit_and_commit
    from events.outbox import deliver_events
    from store.models import Direction, DocumentEvent, ReceivedDocument

    if not settings.demo or not local_dian.is_local(settings):
        return None
    now = now or dt.datetime.now(dt.UTC)
    runtime = Runtime.from_settings(settings)
    sessions = runtime.sessions
    try:
        with sessions() as s:
            if s.execute(sa.select(DocumentEvent.id).where(DocumentEvent.direction == Direction.EMITTED)).first():
                return None
            invoices = list(
                s.execute(
                    sa.select(ReceivedDocument.id, ReceivedDocument.issued_at)
                    .where(
                        ReceivedDocument.document_type == DocumentType.INVOICE,
                        ReceivedDocument.payment_means == PaymentMeans.CREDIT,
                    )
                    .order_by(ReceivedDocument.issued_at)
                )
            )
        if len(invoices) < 5:
            return None
        ctx = runtime.event_context()
        for position, steps in PLAN.items():
            document_id, issued = invoices[position]
            for code, hours in steps:
                at = issued + dt.timedelta(hours=hours) if hours > 0 else now + dt.timedelta(hours=hours)
                try:
                    person = DEMO_PERSON if code in (EventCode.ACUSE_RECIBO, EventCode.RECIBO_BIEN) else None
                    request = EventRequest(code, person=person)
                    emit_and_commit(sessions, ctx, document_id, request, actor="demo", now=at)
                except EventRefused:
                    continue
        server = local_dian.serve(settings)
        try:
            with DianClient(server.url, ctx.identity) as client:
                report = deliver_events(
                    sessions, ctx, client, actor="demo", on_registered=runtime.on_registered(ctx, None)
                )
        finally:
            server.stop()
            server.simulator.close()
        note = f"demo: {len(report.registered)} evento(s) registrado(s) en el simulador de la DIAN"
        return note + _unanswered(sessions, ctx, invoices[RETRIED][0], now)
    finally:
        runtime.close()


def _unanswered(sessions: Any, ctx: Any, document_id: int, now: dt.datetime) -> str:
    """A 030 sent to a DIAN that does not answer (a port nobody listens on): queued for a retry, as in an outage."""
    from dian.soap import DianClient
    from events.emit import EventRequest, emit_and_commit
    from events.outbox import deliver_events

    request = EventRequest(EventCode.ACUSE_RECIBO, person=DEMO_PERSON)
    queued = emit_and_commit(sessions, ctx, document_id, request, actor="demo", now=now - dt.timedelta(minutes=5))
    with socket.socket() as probe:  # a free port, closed again: connecting to it is refused at once
        probe.bind(("127.0.0.1", 0))
        silent = probe.getsockname()[1]
    with DianClient(f"http://127.0.0.1:{silent}/WcfDianCustomerServices.svc", ctx.identity, connect_timeout=2) as down:
        report = deliver_events(sessions, ctx, down, actor="demo", only=[queued.id])
    return f"; {len(report.retrying)} en cola porque la DIAN no respondió (el programador lo reintentará)"
