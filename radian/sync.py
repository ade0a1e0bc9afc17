"""What DIAN holds on one of our own invoices: GetStatusEvent by its CUFE, each listed event we do not have fetched
(GetXmlByDocumentKey), its signature verified, recorded ``observed`` and registered on the outbound document; then the
title is derived again. This is how a receivable learns that the buyer accepted the invoice (030/032/033, or the 034),
and what the factor did with the title after we endorsed it.

DIAN's listing is checked by events.answers (its DIAN signature, about this CUFE) before anything is recorded. A
buyer's claim (031) on one of our invoices raises a ``claimed`` alert (in-app, and mailed to treasury and the configured
addresses, e.g. billing): the invoice can no longer become a title.

``sync_receivables`` is the scheduled sweep (job ``title_sync``) over our receivables, the counterpart of the
endorsement watch (radian/watch/) and paced by the same [radian] settings: the holder titles whose ``next_watch_at``
is due (index ``ix_value_titles_watch``), not paid, not long past due, are asked about with GetStatusEvent
(``concurrency`` threads, at most ``rate_per_second`` calls a second); a title where DIAN lists nothing new is only
re-scheduled (in bulk), one with something new is synced as above in its own transaction; failures back off.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from dian.calendar import BOGOTA
from dian.codes import DocumentType, EventCode, PaymentMeans
from dian.errors import DianError
from dian.radian.parse import parse_radian_event
from dian.soap import DianFault, DianTransportError
from dian.trust import TrustStore
from events.answers import ForgedAnswer, listed_events
from events.context import EventContext, utc_now
from events.notify import enqueue, new_message
from events.sync import fetch_event
from radian.alerts import recipients
from radian.messages import pesos
from radian.store import RADIAN_CODES, ensure_title, event_columns, event_parties, refresh_title
from radian.watch import Due, Look, RateLimit, WatchPlan, ask_each, look
from store.audit import record
from store.models import (
    AlertKind,
    Direction,
    DocumentEvent,
    EventParty,
    MailKind,
    OutboundDocument,
    OutboundState,
    SubmissionState,
    TitleAlert,
    TitleRole,
    TitleState,
    ValueTitle,
)

__all__ = ["Notice", "ReceivablesReport", "SyncResult", "claim_alerts", "mailed_events", "sync_receivables",
           "sync_title"]  # fmt: skip


@dataclass
class SyncResult:
    observed: list[str] = field(default_factory=list)  # "033 SIMEV3" per event newly recorded
    confirmed: list[str] = field(default_factory=list)  # ours, found registered
    error: str | None = None


@dataclass(frozen=True)
class Notice:
    """Who is mailed when a buyer claims one of our invoices: From, and the addresses besides treasury's users."""

    from_address: str = ""
    extra: tuple[str, ...] = ()


def sync_title(session: Session, ctx: EventContext, client: Any, title: ValueTitle, now: datetime, *,
               actor: str, notice: Notice | None = None) -> SyncResult:  # fmt: skip
    """Record what DIAN lists on the title's invoice (and alert a buyer's claim); the caller commits."""
    result = SyncResult()
    invoice = session.get(OutboundDocument, title.outbound_document_id) if title.outbound_document_id else None
    if invoice is None or not invoice.cufe:
        result.error = "El título no corresponde a una factura propia."
        return result
    cufe = invoice.cufe.lower()
    try:
        status = client.get_status_event(cufe)
        listing = [] if status.status_code == "67" else listed_events(status, cufe, ctx.keys)
    except (DianTransportError, DianFault) as exc:
        result.error = f"No se pudo consultar la DIAN: {exc.words}."
        return result
    except ForgedAnswer as exc:
        result.error = f"La respuesta de la DIAN no es auténtica: {exc}"
        record(session, actor=actor, action="document.sync.refused", subject=cufe, data={"error": str(exc)}, at=now)
        return result
    known = {
        row.cude: row
        for row in session.execute(
            sa.select(DocumentEvent).where(DocumentEvent.outbound_document_id == invoice.id)
        ).scalars()
    }
    for item in listing:
        mine = known.get(item.cude)
        if mine is not None:
            if mine.submission_state is not SubmissionState.REGISTERED:
                mine.submission_state = SubmissionState.REGISTERED
                mine.registered_at = now
                mine.next_attempt_at = None
                result.confirmed.append(f"{item.code.value} {mine.number}")
            continue
        fetched = fetch_event(client, item.cude, ctx.trust or TrustStore())
        parsed, xml, signed_at = (fetched.event, fetched.xml, fetched.signing_time) if fetched else (None, None, None)
        row = DocumentEvent(
            outbound_document_id=invoice.id,
            code=item.code,
            direction=Direction.OBSERVED,
            number=parsed.id[:40] if parsed else None,
            cude=item.cude,
            referenced_cufe=cufe,
            note=item.description[:2000] or None,
            sender_nit=parsed.sender.nit[:20] if parsed else None,
            receiver_nit=parsed.receiver.nit[:20] if parsed else None,
            signed_xml_blob=ctx.blobs.put(xml) if xml else None,
            signing_time=signed_at,
            submission_state=SubmissionState.REGISTERED,
            registered_at=now,
            actor="dian:GetStatusEvent",
        )
        if xml and item.code in RADIAN_CODES:
            try:
                radian_event = parse_radian_event(xml)
            except DianError:
                radian_event = None
            if radian_event is not None:
                for key, value in event_columns(radian_event).items():
                    setattr(row, key, value)
                row.parties = [EventParty(**party) for party in event_parties(radian_event)]
        elif parsed is not None:
            row.sender_name = parsed.sender.registration_name
            row.receiver_name = parsed.receiver.registration_name
        session.add(row)
        session.flush()
        result.observed.append(f"{item.code.value} {row.number or item.cude[:12]}")
        record(session, actor=actor, action="document.event.observed", subject=cufe,
               data={"outbound_document_id": invoice.id, "event_id": row.id, "code": item.code.value,
                     "cude": item.cude, "verified": signed_at is not None}, at=now)  # fmt: skip
    session.flush()
    refresh_title(session, ctx.blobs, title, now)
    claim_alerts(session, ctx, title, invoice, now, notice or Notice(), actor=actor)
    return result


def claim_alerts(s: Session, ctx: EventContext, title: ValueTitle, invoice: OutboundDocument, now: datetime,
                 notice: Notice, *, actor: str) -> list[TitleAlert]:  # fmt: skip
    """A ``claimed`` alert for each registered 031 on our invoice, once (dedupe key ``claimed:<CUDE>``): in-app, and
    one mail per recipient (treasury's users and ``notice.extra``) when ``notice`` names a From address."""
    claims = s.execute(
        sa.select(DocumentEvent).where(
            DocumentEvent.outbound_document_id == invoice.id,
            DocumentEvent.code == EventCode.RECLAMO,
            DocumentEvent.submission_state == SubmissionState.REGISTERED,
        )
    ).scalars()
    raised = []
    for claim in claims:
        key = f"claimed:{claim.cude or claim.id}"
        if s.scalar(sa.select(TitleAlert.id).where(TitleAlert.dedupe_key == key)) is not None:
            continue
        who = f"{claim.sender_name or invoice.buyer_name} (NIT {claim.sender_nit or invoice.buyer_nit})"
        message = (
            f"El comprador {who} presentó un reclamo (031) sobre la factura {invoice.number} por "
            f"{pesos(invoice.payable_amount, invoice.currency)}: no fue aceptada y no podrá circular como título "
            f"valor. Revise el reclamo con facturación y, si corresponde, emita la nota crédito."
        )
        alert = TitleAlert(title_id=title.id, kind=AlertKind.CLAIMED, dedupe_key=key, event_id=claim.id,
                           from_nit=claim.sender_nit, from_name=claim.sender_name, message=message,
                           created_at=now)  # fmt: skip
        s.add(alert)
        s.flush()
        to = recipients(s, None, notice.extra) if notice.from_address else []
        for address in to:
            mail = new_message(
                to=address,
                subject=f"Reclamo del comprador: factura {invoice.number}"[:300],
                body=f"{message}\n\nCUFE: {invoice.cufe}\nCUDE del reclamo: {claim.cude}\n",
                from_address=notice.from_address,
                now=now,
                key=f"titulo.{alert.id}.{address}",
            )
            enqueue(s, ctx, kind=MailKind.TITLE_ALERT, dedupe_key=f"title_alert:{alert.id}:{address}"[:200],
                    message=mail, now=now, event_id=claim.id)  # fmt: skip
        record(s, actor=actor, action="title.alert.raised", subject=title.invoice_cufe,
               data={"alert_id": alert.id, "kind": alert.kind.value, "to": to}, at=now)  # fmt: skip
        raised.append(alert)
    return raised


def mailed_events(sessions: sessionmaker[Session], make_ctx: Callable[[], EventContext], invoice_ids: list[int],
                  *, our_nit: str, our_name: str, notice: Notice, now: datetime,
                  actor: str = "system:intake") -> list[TitleAlert]:  # fmt: skip
    """After intake recorded the buyer's events on our invoices from mail (inbox/intake/events.py): each credit
    invoice's title derived again (made when missing, as the sweep enrols them) and a registered claim's alert raised
    once, as :func:`sync_title` does; a 031 not yet proven registered alerts once DIAN confirms it (job title_sync)."""
    raised: list[TitleAlert] = []
    with sessions() as s:
        invoices = s.execute(sa.select(OutboundDocument).where(
            OutboundDocument.id.in_(invoice_ids), OutboundDocument.state == OutboundState.ACCEPTED,
            OutboundDocument.payment_means == PaymentMeans.CREDIT)).scalars().all()  # fmt: skip
        if not invoices:
            return raised
        ctx = make_ctx()
        for invoice in invoices:
            title = ensure_title(s, invoice, our_nit=our_nit, our_name=our_name)
            s.flush()
            refresh_title(s, ctx.blobs, title, now)
            raised += claim_alerts(s, ctx, title, invoice, now, notice, actor=actor)
        s.commit()
    return raised


# -- the sweep over our receivables (job title_sync) -------------------------------------------------------------


@dataclass
class ReceivablesReport:
    enrolled: int = 0
    asked: int = 0
    unchanged: int = 0
    synced: int = 0
    observed: int = 0  # events newly recorded
    confirmed: int = 0  # ours, found registered
    claims: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"enrolled": self.enrolled, "asked": self.asked, "unchanged": self.unchanged, "synced": self.synced,
                "observed": self.observed, "confirmed": self.confirmed, "claims": self.claims, "failed": self.failed,
                "errors": self.errors[:5], "seconds": round(self.seconds, 3)}  # fmt: skip


_CHUNK = 500


def enrol_receivables(s: Session, now: datetime, *, our_nit: str, our_name: str) -> int:
    """A title row (role holder) for each of our credit invoices DIAN accepted that has none yet (issued by Buzón;
    imported ones get theirs on import), and a first look now for holder rows never looked at; the caller commits."""
    missing = s.execute(
        sa.select(OutboundDocument)
        .outerjoin(ValueTitle, ValueTitle.outbound_document_id == OutboundDocument.id)
        .where(
            ValueTitle.id.is_(None),
            OutboundDocument.document_type == DocumentType.INVOICE,
            OutboundDocument.payment_means == PaymentMeans.CREDIT,
            OutboundDocument.state == OutboundState.ACCEPTED,
            OutboundDocument.cufe.is_not(None),
        )
    ).scalars()
    added = 0
    for invoice in missing:
        ensure_title(s, invoice, our_nit=our_nit, our_name=our_name).next_watch_at = now
        added += 1
    s.execute(
        sa.update(ValueTitle)
        .where(ValueTitle.role == TitleRole.HOLDER, ValueTitle.next_watch_at.is_(None),
               ValueTitle.state != TitleState.PAID)
        .values(next_watch_at=now)
    )  # fmt: skip
    return added


def due_receivables(s: Session, now: datetime, *, past_due_days: int, limit: int) -> list[Due]:
    """Our titles whose next look is due, unpaid and not long past due, soonest first, with the CUDEs registered on
    file (``Due.document_id`` is the outbound document here)."""
    since = now.astimezone(BOGOTA).date() - timedelta(days=past_due_days)
    rows = s.execute(
        sa.select(ValueTitle.id, ValueTitle.outbound_document_id, ValueTitle.invoice_cufe)
        .where(
            ValueTitle.role == TitleRole.HOLDER,
            ValueTitle.next_watch_at <= now,
            ValueTitle.outbound_document_id.is_not(None),
            ValueTitle.state != TitleState.PAID,
            sa.or_(ValueTitle.due_date.is_(None), ValueTitle.due_date >= since),
        )
        .order_by(ValueTitle.next_watch_at, ValueTitle.id)
        .limit(limit)
    ).all()
    known: dict[int, set[str]] = {}
    ids = [row.outbound_document_id for row in rows]
    for start in range(0, len(ids), _CHUNK):
        for outbound_id, cude in s.execute(
            sa.select(DocumentEvent.outbound_document_id, DocumentEvent.cude).where(
                DocumentEvent.outbound_document_id.in_(ids[start : start + _CHUNK]),
                DocumentEvent.submission_state == SubmissionState.REGISTERED,
                DocumentEvent.cude.is_not(None),
            )
        ):
            known.setdefault(outbound_id, set()).add(cude.lower())
    return [Due(row.id, row.outbound_document_id, row.invoice_cufe, frozenset(known.get(row.outbound_document_id, ())))
            for row in rows]  # fmt: skip


class _Paced:
    """The client as sync_title sees it while settling a look: GetStatusEvent answers what the look already got,
    GetXmlByDocumentKey goes to DIAN within the rate limit."""

    def __init__(self, client: Any, item: Look, rate: RateLimit) -> None:
        self.client, self.item, self.rate = client, item, rate

    def get_status_event(self, cufe: str) -> Any:
        return self.item.response

    def get_xml_by_document_key(self, track_id: str) -> Any:
        self.rate.wait()
        return self.client.get_xml_by_document_key(track_id)


def _schedule(row: ValueTitle, now: datetime, plan: WatchPlan, status: str | None, error: str | None) -> None:
    row.last_watched_at = now
    row.watch_status = status
    if row.state is TitleState.PAID:
        row.next_watch_at = None  # nothing follows a total payment (A.9)
    elif error is None:
        row.watch_failures, row.watch_error = 0, None
        row.next_watch_at = now + plan.interval
    else:
        row.watch_failures = (row.watch_failures or 0) + 1
        row.watch_error = error[:2000]
        row.next_watch_at = now + min(plan.interval, plan.retry * 2 ** min(row.watch_failures - 1, 16))


def sync_receivables(
    sessions: sessionmaker[Session],
    ctx: EventContext,
    client_factory: Callable[[], Any],
    plan: WatchPlan,
    *,
    notice: Notice | None = None,
    now: Callable[[], datetime] = utc_now,
    actor: str = "job:title_sync",
) -> ReceivablesReport:
    """One pass over our receivables: enrol, select, ask DIAN (concurrently, rate-limited), sync each title where it
    lists something new (one transaction each) and re-schedule the rest. DIAN's failures are counted, never raised."""
    started = time.perf_counter()
    report = ReceivablesReport()
    moment = now()
    with sessions() as s:
        report.enrolled = enrol_receivables(s, moment, our_nit=ctx.company.nit,
                                            our_name=ctx.company.registration_name or "")  # fmt: skip
        s.commit()
        dues = due_receivables(s, moment, past_due_days=plan.past_due_days, limit=plan.batch)
    rate = RateLimit(plan.rate_per_second)
    settling: Any = None
    unchanged: dict[str, list[int]] = {}
    try:
        for item in ask_each(dues, client_factory, rate=rate, concurrency=plan.concurrency,
                             ask=lambda client, due, rate: look(client, due)):  # fmt: skip
            report.asked += 1
            if item.error is None and not item.changed:
                unchanged.setdefault(item.status or "", []).append(item.due.title_id)
                continue
            if settling is None and item.error is None:
                settling = client_factory()
            with sessions() as s:
                row = s.get(ValueTitle, item.due.title_id)
                if row is None:
                    continue
                error = item.error
                if error is None:
                    result = sync_title(s, ctx, _Paced(settling, item, rate), row, now(), actor=actor, notice=notice)
                    error = result.error
                    if error is None:  # (on an error sync_title has written nothing but its audit line)
                        report.synced += 1
                        report.observed += len(result.observed)
                        report.confirmed += len(result.confirmed)
                        report.claims += sum(1 for line in result.observed if line.startswith("031"))
                if error is not None:
                    report.failed += 1
                    report.errors.append(f"{item.due.cufe[:12]}…: {error}")
                _schedule(row, now(), plan, item.status, error)
                s.commit()
    finally:
        close = getattr(settling, "close", None)
        if close is not None:
            close()
    moment = now()
    with sessions() as s:
        for status, ids in unchanged.items():
            for start in range(0, len(ids), _CHUNK):
                s.execute(
                    sa.update(ValueTitle)
                    .where(ValueTitle.id.in_(ids[start : start + _CHUNK]))
                    .values(last_watched_at=moment, next_watch_at=moment + plan.interval, watch_status=status,
                            watch_failures=0, watch_error=None, updated_at=moment)
                )  # fmt: skip
            report.unchanged += len(ids)
        s.commit()
    report.seconds = time.perf_counter() - started
    return report
