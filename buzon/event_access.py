"""The events package wired to the configuration: its context, SMTP target, DIAN's reception addresses, and the hook
that queues the supplier's notice when one of our events is registered."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from buzon.config import Settings
from buzon.dian_access import company_identity, dian_keys, simulator_data_dir
from dian.calendar import BusinessCalendar
from dian.codes import Environment
from dian.trust import TrustStore
from dian.ubl import Party, Person
from dian.ubl.build import Software
from events.context import Backoff, EventContext
from events.notify import SmtpTarget, queue_event_notice
from store.blobs import BlobStore
from store.models import DocumentEvent, ReceivedDocument

SIMULATOR_PIN = "00000"  # the company's software PIN at the local simulator when none is configured


def environment(settings: Settings) -> Environment:
    return Environment.PRODUCTION if settings.dian.environment == "produccion" else Environment.TESTING


def company_software(settings: Settings) -> Software:
    """Our software as registered with DIAN; at the local simulator it is registered on first use."""
    pin = settings.dian.software_pin or (SIMULATOR_PIN if settings.dian.environment == "simulator" else "")
    software = Software(
        provider_nit=settings.company.nit_number,
        provider_dv=settings.company.dv,
        software_id=settings.dian.software_id,
        pin=pin,
    )
    if settings.dian.environment == "simulator" and not settings.dian.endpoint:
        _register_at_simulator(settings, software)  # the local simulator Buzón runs; another one is seeded by its owner
    return software


def _register_at_simulator(settings: Settings, software: Software) -> None:
    from dian.simulator import Simulator

    simulator = Simulator(simulator_data_dir(settings))
    try:
        simulator.seed(
            {
                "software": [{"id": software.software_id, "pin": software.pin, "provider_nit": software.provider_nit}],
                "exchange_emails": [
                    {
                        "nit": settings.company.nit_number,
                        "name": settings.company.name,
                        "email": settings.company.reception_email,
                    }
                ],
            }
        )
    finally:
        simulator.close()


def default_person(settings: Settings) -> Person | None:
    e = settings.events
    if not e.has_person:
        return None
    return Person(
        id=e.person_id,
        first_name=e.person_first_name,
        family_name=e.person_family_name,
        id_type=e.person_id_type or "13",
        job_title=e.person_job_title or None,
        department=e.person_department or None,
    )


def event_context(settings: Settings, *, trust: TrustStore | None = None, sessions: Any = None) -> EventContext:
    """Everything events/ needs, from the configuration (the certificate is loaded here, once); with ``sessions``,
    DIAN's answers are weighed with the certificates learned from DIAN too."""
    if trust is None:
        from buzon.cli import load_trust

        trust = load_trust(settings)
    return EventContext(
        company=Party(
            nit=settings.company.nit_number,
            dv=settings.company.dv,
            registration_name=settings.company.name,
        ),
        software=company_software(settings),
        environment=environment(settings),
        identity=company_identity(settings),
        blobs=BlobStore(settings.blob_dir),
        calendar=BusinessCalendar(saturday_is_business_day=settings.scheduler.saturday_is_business_day),
        default_person=default_person(settings),
        trust=trust,
        keys=dian_keys(settings, trust, sessions),
        backoff=Backoff(base_seconds=settings.events.retry_seconds, max_seconds=settings.events.retry_max_seconds),
    )


def smtp_target(settings: Settings) -> SmtpTarget:
    s = settings.smtp
    return SmtpTarget(
        host=s.host, port=s.port, tls=s.tls, user=s.user, password=s.password, from_address=s.from_address
    )


def exchange_emails(client: Any, *, ttl: float = 3600.0) -> Callable[[], dict[str, str]]:
    """DIAN's reception addresses by NIT (GetExchangeEmails), fetched at most once per ``ttl`` seconds."""
    cached: dict[str, Any] = {"at": None, "value": {}}

    def lookup() -> dict[str, str]:
        if cached["at"] is None or time.monotonic() - cached["at"] > ttl:
            answer = client.get_exchange_emails()
            rows = answer.rows() if answer.success else []
            cached["value"] = {
                (row.get("Nit") or "").strip(): (row.get("CorreoElectronico") or "").strip()
                for row in rows
                if row.get("CorreoElectronico")
            }
            cached["at"] = time.monotonic()
        return cached["value"]

    return lookup


def notice_hook(
    ctx: EventContext, settings: Settings, client: Any | None
) -> Callable[[Session, DocumentEvent, ReceivedDocument, datetime], None]:
    """What happens when one of our events is registered: the supplier's notice is queued."""
    lookup = exchange_emails(client) if client is not None else None

    def on_registered(s: Session, event: DocumentEvent, document: ReceivedDocument, now: datetime) -> None:
        queue_event_notice(
            s, ctx, event, document, now, from_address=settings.smtp.from_address, exchange_emails=lookup
        )

    return on_registered


def event_service(settings: Settings, sessions: Any) -> Any:
    """The events façade for the web application (events.service.EventService), bound to these settings."""
    from buzon.dian_access import dian_client
    from events.service import EventService

    return EventService(
        sessions=sessions,
        make_context=lambda: event_context(settings, sessions=sessions),
        make_client=lambda: dian_client(settings),
        make_on_registered=lambda ctx, client: notice_hook(ctx, settings, client),
    )
