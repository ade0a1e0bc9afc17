"""The counterpart's events: ask DIAN (GetStatusEvent) what is registered on our open invoices and record it.

The seller's 034 moves ours to tacitly_accepted; 036/037… are recorded for RADIAN; an event of ours whose answer was
lost is found here registered too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from dian.errors import ParseError
from dian.soap import DianFault, DianResponse, DianTransportError
from dian.soap.results import DocumentXml
from dian.trust import TrustStore
from dian.ubl import ApplicationResponse, parse_document
from dian.xades import verify
from events.answers import ForgedAnswer, ListedEvent, listed_events
from events.context import EventContext, utc_now
from events.outbox import OnRegistered, mark_registered
from store.audit import record
from store.models import (
    EVENTS_SYNC_WATCHED,
    Direction,
    DocumentEvent,
    ReceivedDocument,
    SubmissionState,
)
from store.state import refresh_state


class DianStatus(Protocol):
    def get_status_event(self, cufe: str) -> DianResponse: ...
    def get_xml_by_document_key(self, track_id: str) -> DocumentXml: ...


@dataclass
class SyncReport:
    documents: int = 0
    observed: list[str] = field(default_factory=list)  # CUDEs newly recorded
    confirmed: list[str] = field(default_factory=list)  # already known, now registered
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {
            "documents": self.documents,
            "observed": len(self.observed),
            "confirmed": len(self.confirmed),
            "errors": len(self.errors),
        }


AGED_OUT_BATCH = 5000  # at most this many entries read at once while aged-out ones are met (after an upgrade, mostly)


def documents_to_sync(session: Session, now: datetime, *, every: timedelta, max_age_days: int, limit: int) -> list[int]:
    """Open invoices issued within ``max_age_days`` and not asked about for ``every``: never-asked first (by id),
    then the longest unasked; the caller commits.

    Read in that order from the sync's partial index (store.models.EVENTS_SYNC_WATCHED), which holds only what the
    sync may still take: about ``limit`` entries are read, however long the history. An entry issued before the
    horizon is marked aged out (its issued_at in ``events_sync_aged_out``) and leaves the index, so each document is
    met past its horizon once; a horizon made longer takes such documents back first."""
    docs = ReceivedDocument
    since = now - timedelta(days=max_age_days)
    # A longer horizon than the one that marked them: one probe of the aged-out index, nothing found as a rule.
    session.execute(
        sa.update(docs.__table__)
        .where(docs.events_sync_aged_out >= since, docs.events_sync_aged_out.is_not(None))
        .values(events_sync_aged_out=None, updated_at=docs.updated_at)
    )
    chosen: list[int] = []
    for due in (docs.events_synced_at.is_(None), docs.events_synced_at <= now - every):
        after: tuple[datetime | None, int] | None = None
        size = limit - len(chosen)
        while len(chosen) < limit:
            query = (
                sa.select(docs.id, docs.issued_at, docs.events_synced_at)
                .where(sa.text(EVENTS_SYNC_WATCHED), due)
                .order_by(docs.events_synced_at, docs.id)
                .limit(size)
            )
            if after is not None:
                query = query.where(docs.id > after[1] if after[0] is None
                                    else sa.tuple_(docs.events_synced_at, docs.id) > after)  # fmt: skip
            rows = session.execute(query).all()
            read, aged = size, [row.id for row in rows if row.issued_at < since]
            chosen += [row.id for row in rows if row.issued_at >= since][: limit - len(chosen)]
            if aged:
                session.execute(
                    sa.update(docs.__table__)
                    .where(docs.id.in_(aged))
                    .values(events_sync_aged_out=docs.issued_at, updated_at=docs.updated_at)
                )
                size = min(AGED_OUT_BATCH, size * 2)
            if len(rows) < read:
                break
            after = (rows[-1].events_synced_at, rows[-1].id)
    return chosen


@dataclass(frozen=True)
class Fetched:
    event: ApplicationResponse
    xml: bytes
    signing_time: datetime | None  # the signed xades:SigningTime; None when the signature does not verify


def fetch_event(client: DianStatus, cude: str, trust: TrustStore) -> Fetched | None:
    """The event's own XML from DIAN (GetXmlByDocumentKey), for its number, parties and signing time; None when
    unavailable. The receivables sync (radian.sync) fetches its events with it too."""
    try:
        found = client.get_xml_by_document_key(cude)
    except (DianTransportError, DianFault):
        return None
    if not found.found or not found.xml:
        return None
    try:
        signature = verify(found.xml, trust=trust)
        signed = signature.signed_element
        parsed = parse_document(signed if signed is not None else found.xml)
    except ParseError:
        return None
    if not isinstance(parsed, ApplicationResponse) or (parsed.uuid or "").strip().lower() != cude:
        return None
    # An event's moment is its signed SigningTime (dian-facts 2.2), never IssueDate nor when we synced; a signature
    # that does not verify says nothing, and store.state then falls back to the registration time.
    return Fetched(parsed, found.xml, signature.signing_time if signed is not None and signature.core_valid else None)


def _observe(
    s: Session, ctx: EventContext, document: ReceivedDocument, item: ListedEvent, client: DianStatus, now: datetime
) -> DocumentEvent:
    fetched = fetch_event(client, item.cude, ctx.trust or TrustStore())
    parsed = fetched.event if fetched else None
    xml_key = ctx.blobs.put(fetched.xml) if fetched else None
    event = DocumentEvent(
        document_id=document.id,
        code=item.code,
        direction=Direction.OBSERVED,
        number=parsed.id[:40] if parsed else None,
        cude=item.cude,
        referenced_cufe=document.cufe,
        note=item.description[:2000] or None,
        sender_nit=parsed.sender.nit[:20] if parsed else None,
        receiver_nit=parsed.receiver.nit[:20] if parsed else None,
        signed_xml_blob=xml_key,
        signing_time=fetched.signing_time if fetched else None,
        submission_state=SubmissionState.REGISTERED,
        registered_at=now,
        actor="dian:GetStatusEvent",
    )
    s.add(event)
    s.flush()
    return event


def sync_document(
    s: Session,
    ctx: EventContext,
    client: DianStatus,
    document: ReceivedDocument,
    now: datetime,
    report: SyncReport,
    *,
    actor: str = "job:sync_events",
    on_registered: OnRegistered | None = None,
) -> None:
    """Record what DIAN lists on ``document`` that we did not know; the caller commits."""
    listing = listed_events(client.get_status_event(document.cufe), document.cufe, ctx.keys)
    known = {
        e.cude: e
        for e in s.execute(sa.select(DocumentEvent).where(DocumentEvent.cude.in_([i.cude for i in listing]))).scalars()
    }
    for item in listing:
        event = known.get(item.cude)
        if event is None:
            event = _observe(s, ctx, document, item, client, now)
            report.observed.append(item.cude)
            mark_registered(s, ctx, event, None, None, now, actor=actor, via="GetStatusEvent")
        elif event.submission_state is not SubmissionState.REGISTERED:
            if event.document_id is None:
                event.document_id = document.id
            report.confirmed.append(item.cude)
            mark_registered(s, ctx, event, None, None, now, actor=actor, via="GetStatusEvent",
                            on_registered=on_registered)  # fmt: skip
    document.events_synced_at = now
    refresh_state(s, document, ctx.calendar)


def sync_events(
    sessions: sessionmaker[Session],
    ctx: EventContext,
    client: DianStatus,
    *,
    now: Callable[[], datetime] = utc_now,
    every: timedelta = timedelta(hours=1),
    max_age_days: int = 180,
    limit: int = 200,
    actor: str = "job:sync_events",
    on_registered: OnRegistered | None = None,
) -> SyncReport:
    """Sync every open invoice due for it, one transaction each; DIAN's failures are counted, not raised."""
    report = SyncReport()
    with sessions() as s:
        ids = documents_to_sync(s, now(), every=every, max_age_days=max_age_days, limit=limit)
        s.commit()  # the documents it found aged out
    for document_id in ids:
        with sessions() as s:
            document = s.get(ReceivedDocument, document_id)
            if document is None:
                continue
            try:
                sync_document(s, ctx, client, document, now(), report, actor=actor, on_registered=on_registered)
            except (DianTransportError, DianFault) as exc:
                report.errors.append(f"{document.cufe[:12]}…: {exc}")
                continue
            except ForgedAnswer as exc:
                s.rollback()
                record(s, actor=actor, action="document.sync.refused", subject=document.cufe,
                       data={"error": str(exc)}, at=now())  # fmt: skip
                report.errors.append(f"{document.cufe[:12]}…: {exc}")
            report.documents += 1
            s.commit()
    return report
