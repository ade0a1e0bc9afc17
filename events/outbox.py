"""The event outbox: submit our signed events to DIAN (SendEventUpdateStatus) and record the answer.

Registered, rejected with DIAN's rule messages, or retried later with exponential backoff. An event is marked "sent"
and committed before the call, so a crash after DIAN took it leaves a trace; resending the same signed bytes then gets
Regla 90 ("procesado anteriormente"), which is confirmed with GetStatusEvent and recorded as registered — never two
registered events of one code on one document.

DIAN's answers that are not final — StatusCode 98 ("En Proceso") and 66 (not found, or its batch still validating;
dian-facts 6.5) — are never recorded as rejections: the event stays ``send_failed`` and is asked again with the same
backoff. After ``NOT_FINAL_MAX_ATTEMPTS`` attempts still without DIAN's final word it is no longer sent automatically
("unresolved"): its error says so to the clerk, the audit log records ``event.<code>.unresolved``, and it stays in
flight (DIAN may hold it: the sync job's GetStatusEvent then records it registered) so no second one is queued.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from dian.soap import DianFault, DianRejected, DianResponse, DianServiceError, DianTransportError
from dian.soap.packaging import document_file_name
from dian.soap.results import NOT_FINAL_CODES
from events.answers import ForgedAnswer, checked_answer, listed_events
from events.context import EventContext, utc_now
from store.audit import record
from store.models import Direction, DocumentEvent, ReceivedDocument, SubmissionState
from store.state import IN_FLIGHT, refresh_state

DUE_STATES = (SubmissionState.SIGNED, SubmissionState.SENT, SubmissionState.SEND_FAILED)
# Attempts (of any kind) after which an event DIAN still answers 98 or 66 for is no longer sent automatically. With the
# default backoff (30 s doubled, capped at 1 h) the eighth attempt comes about two hours after the first.
NOT_FINAL_MAX_ATTEMPTS = 8


class DianEvents(Protocol):
    """The part of dian.soap.DianClient the outbox and the sync use."""

    def send_event_update_status(self, file_name: str, xml: bytes) -> DianResponse: ...
    def get_status_event(self, cufe: str) -> DianResponse: ...
    def get_status(self, track_id: str) -> DianResponse: ...


# Called after an event is recorded as registered, in the same transaction (the supplier's notice is queued there).
OnRegistered = Callable[[Session, DocumentEvent, ReceivedDocument, datetime], None]


@dataclass
class DeliveryReport:
    registered: list[str] = field(default_factory=list)  # CUDEs
    rejected: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    waiting: int = 0  # behind an earlier event of the same document
    unresolved: list[str] = field(default_factory=list)  # DIAN answered 98/66 too often: no longer sent automatically

    def as_dict(self) -> dict[str, int]:
        counts = {
            "registered": len(self.registered),
            "rejected": len(self.rejected),
            "retrying": len(self.retrying),
            "waiting": self.waiting,
        }
        if self.unresolved:
            counts["unresolved"] = len(self.unresolved)
        return counts


class NotFinal(Exception):
    """DIAN answered StatusCode 98 or 66: it has not decided yet (dian-facts 6.5); ask again later."""

    def __init__(self, response: DianResponse) -> None:
        self.response = response
        super().__init__(not_final_text(response))


def not_final_text(response: DianResponse) -> str:
    """The clerk's sentence for a not-final answer: "DIAN aún procesa el evento (98 En Proceso)"."""
    said = response.status_description or NOT_FINAL_CODES.get(response.status_code, "")
    code = f"{response.status_code} {said}".strip()
    if response.status_code == "98":
        return f"DIAN aún procesa el evento ({code})"
    return f"DIAN aún no encuentra el evento o su lote sigue en validación ({code})"


def unresolved(event: DocumentEvent) -> bool:
    """Whether the outbox stopped sending ``event`` because DIAN kept answering 98/66 (it stays in flight)."""
    return (
        event.submission_state is SubmissionState.SEND_FAILED
        and event.next_attempt_at is None
        and event.dian_status_code in NOT_FINAL_CODES
    )


def file_name(ctx: EventContext, event: DocumentEvent) -> str:
    """``ar<NIT10><PPP><AA><hex id>.xml`` (dian-facts.md 4.3)."""
    year = (event.signing_time or utc_now()).year
    return document_file_name("ar", ctx.company.nit, year=year, consecutive=event.id, provider_code=ctx.provider_code)


def _due(now: datetime, only: Collection[int] | None) -> sa.ColumnElement[bool]:
    """Our events due for submission now (among ``only`` when given)."""
    chosen = DocumentEvent.id.in_(tuple(only)) if only is not None else sa.true()
    return sa.and_(
        chosen,
        DocumentEvent.direction == Direction.EMITTED,
        DocumentEvent.submission_state.in_(DUE_STATES),
        sa.or_(DocumentEvent.next_attempt_at.is_(None), DocumentEvent.next_attempt_at <= now),
        # Not the unresolved ones (see unresolved()): DIAN kept saying "not yet"; they wait for the sync.
        ~sa.and_(
            DocumentEvent.submission_state == SubmissionState.SEND_FAILED,
            DocumentEvent.next_attempt_at.is_(None),
            DocumentEvent.dian_status_code.in_(tuple(NOT_FINAL_CODES)),
        ),
    )


def _blocked(session: Session, event: DocumentEvent) -> bool:
    """An earlier event of ours on the same document still waits for DIAN (030 goes before 032)."""
    # Our own invoice's RADIAN events have no received document: their order is kept on the outbound one (036 first).
    same = (
        DocumentEvent.document_id == event.document_id
        if event.outbound_document_id is None
        else DocumentEvent.outbound_document_id == event.outbound_document_id
    )
    earlier = session.execute(
        sa.select(DocumentEvent.id).where(
            same,
            DocumentEvent.direction == Direction.EMITTED,
            DocumentEvent.id < event.id,
            DocumentEvent.submission_state.in_(IN_FLIGHT),
        )
    ).first()
    return earlier is not None


def _claim_next(
    sessions: sessionmaker[Session], ctx: EventContext, now: datetime, after: int, only: Collection[int] | None
) -> tuple[int, bytes] | None:
    """The next due event past id ``after``, marked "sent" (a lease) and committed before calling DIAN: its id and
    signed bytes (b"" when an earlier event of its document still waits: it is left due); None when none is left.

    Workers share the queue: on PostgreSQL the row is taken ``FOR UPDATE SKIP LOCKED``, so an event another worker is
    leasing right now is passed over, and one it leased is no longer due. SQLite (one process) has no row locks."""
    with sessions() as s:
        query = (
            sa.select(DocumentEvent)
            .where(_due(now, only), DocumentEvent.id > after)
            .order_by(DocumentEvent.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        event = s.execute(query).scalar_one_or_none()
        if event is None:
            return None
        if _blocked(s, event):
            return event.id, b""
        event.submission_state = SubmissionState.SENT
        event.attempts += 1
        event.next_attempt_at = now + timedelta(seconds=ctx.lease_seconds)
        assert event.signed_xml_blob is not None
        xml = ctx.blobs.get(event.signed_xml_blob)
        event_id = event.id
        s.commit()
        return event_id, xml


def mark_registered(
    s: Session,
    ctx: EventContext,
    event: DocumentEvent,
    answer_xml: bytes | None,
    response: DianResponse | None,
    now: datetime,
    *,
    actor: str,
    via: str,
    on_registered: OnRegistered | None = None,
) -> None:
    """Record DIAN's registration of ``event`` (ours or observed), refresh the document's state, audit it."""
    event.submission_state = SubmissionState.REGISTERED
    event.registered_at = now
    event.next_attempt_at = None
    event.last_error = None
    if response is not None:
        event.dian_status_code = response.status_code
        event.dian_messages = [m.render() for m in response.messages]
    elif event.dian_status_code in NOT_FINAL_CODES:
        event.dian_status_code = None  # the 98/66 of an earlier attempt is no longer DIAN's word on it
    if answer_xml:
        event.dian_response_blob = ctx.blobs.put(answer_xml)
    document = s.get(ReceivedDocument, event.document_id) if event.document_id is not None else None
    if document is not None:
        s.flush()
        refresh_state(s, document, ctx.calendar)
    record(
        s,
        actor=actor,
        action=f"event.{event.code.value}.registered",
        subject=event.referenced_cufe,
        data={"event_id": event.id, "cude": event.cude, "number": event.number, "via": via,
              "direction": event.direction.value, "state": document.state.value if document else None},
        at=now,
    )  # fmt: skip
    if ctx.on_title_event is not None:
        ctx.on_title_event(s, event, now)  # the invoice's value title, derived again (radian.store)
    if on_registered is not None and document is not None and event.direction is Direction.EMITTED:
        if event.dian_response_blob is None:
            # Found registered without DIAN's answer (the sync's GetStatusEvent): the supplier's notice carries that
            # answer (dian-facts 4.2), so it cannot be built; say so instead of failing the whole sweep.
            record(s, actor=actor, action=f"event.{event.code.value}.notice_skipped", subject=event.referenced_cufe,
                   data={"event_id": event.id, "cude": event.cude, "reason": "sin la respuesta de la DIAN"},
                   at=now)  # fmt: skip
            return
        on_registered(s, event, document, now)


def _confirm_regla_90(
    ctx: EventContext, client: DianEvents, event: DocumentEvent, refused: DianRejected
) -> tuple[bool, bytes | None, str]:
    """After Regla 90: is *our* CUDE the one DIAN holds? Returns (registered, DIAN's answer, detail)."""
    assert event.referenced_cufe is not None and event.cude is not None
    status = client.get_status_event(event.referenced_cufe)
    if status.not_final:
        raise NotFinal(status)
    listing = listed_events(status, event.referenced_cufe, ctx.keys)
    if not any(item.cude == event.cude for item in listing):
        others = [f"{item.code.value} {item.cude[:12]}…" for item in listing if item.code is event.code]
        detail = "DIAN ya tiene registrado otro evento " + (", ".join(others) if others else "con este número")
        return False, None, detail
    # The Regla 90 answer carries the original answer; else ask for it by CUDE.
    for candidate in (refused.response.xml, None):
        xml = candidate if candidate is not None else client.get_status(event.cude).xml
        try:
            checked_answer(xml, ctx.keys, about=event.cude)
        except ForgedAnswer:
            continue
        return True, xml, "confirmado con GetStatusEvent tras Regla 90"
    return True, None, "confirmado con GetStatusEvent tras Regla 90 (sin la respuesta original)"


# What one submission came to: kind (registered, rejected, not_final, retry), DIAN's answer (for a retry, the error),
# its XML, a detail in the clerk's words (kept as the event's last_error).
Outcome = tuple[str, DianResponse | DianRejected | NotFinal | DianServiceError | ForgedAnswer | None, bytes | None, str]


def _retry(event: DocumentEvent, ctx: EventContext, now: datetime, error: str, status_code: str | None = None) -> None:
    event.submission_state = SubmissionState.SEND_FAILED
    event.last_error = error[:2000]
    event.next_attempt_at = now + ctx.backoff.delay(event.attempts)
    event.dian_status_code = status_code  # DIAN's not-final code, or None when no DIAN answer came


def deliver_events(
    sessions: sessionmaker[Session],
    ctx: EventContext,
    client: DianEvents,
    *,
    now: Callable[[], datetime] = utc_now,
    limit: int = 100,
    actor: str = "job:deliver_outbox",
    on_registered: OnRegistered | None = None,
    max_attempts: int = NOT_FINAL_MAX_ATTEMPTS,
    only: Collection[int] | None = None,
) -> DeliveryReport:
    """Submit every due event once (or only the due ones among ``only``); each ends registered, rejected, or scheduled
    for a retry (98/66 included, until ``max_attempts``: then unresolved)."""
    report = DeliveryReport()
    after = 0
    for _ in range(limit):
        claimed = _claim_next(sessions, ctx, now(), after, only)
        if claimed is None:
            break
        event_id, xml = claimed
        after = event_id
        if xml == b"":
            report.waiting += 1
            continue
        with sessions() as s:
            event = s.get(DocumentEvent, event_id)
            assert event is not None
            name = file_name(ctx, event)
        outcome: Outcome = ("retry", None, None, "")
        try:
            response = client.send_event_update_status(name, xml)
            assert event.cude is not None
            checked_answer(response.xml, ctx.keys, about=event.cude)
            outcome = ("registered", response, response.xml, "SendEventUpdateStatus")
        except DianRejected as refused:
            if refused.response.not_final:
                outcome = ("not_final", refused, None, not_final_text(refused.response))
            elif refused.already_registered:
                try:
                    ok, answer, detail = _confirm_regla_90(ctx, client, event, refused)
                except NotFinal as exc:
                    outcome = ("not_final", exc, None, f"Regla 90 sin confirmar: {exc}")
                except (DianTransportError, DianFault) as exc:
                    outcome = ("retry", exc, None, f"Regla 90 sin confirmar: {exc.words}")
                except ForgedAnswer as exc:
                    outcome = ("retry", exc, None, f"Regla 90 sin confirmar: {exc}")
                else:
                    outcome = (
                        ("registered", refused.response, answer, detail) if ok else ("rejected", refused, None, detail)
                    )
            else:
                outcome = ("rejected", refused, None, "")
        except ForgedAnswer as exc:
            outcome = ("retry", exc, None, f"respuesta de la DIAN rechazada: {exc}")
        except (DianTransportError, DianFault) as exc:
            outcome = ("retry", exc, None, exc.words)
        _record(sessions, ctx, event_id, outcome, now(), actor, on_registered, report, max_attempts)
    return report


def _record(
    sessions: sessionmaker[Session],
    ctx: EventContext,
    event_id: int,
    outcome: Outcome,
    at: datetime,
    actor: str,
    on_registered: OnRegistered | None,
    report: DeliveryReport,
    max_attempts: int = NOT_FINAL_MAX_ATTEMPTS,
) -> None:
    kind, answer, answer_xml, detail = outcome
    with sessions() as s:
        event = s.execute(sa.select(DocumentEvent).where(DocumentEvent.id == event_id).with_for_update()).scalar_one()
        cude = event.cude or ""
        if kind == "registered":
            response = answer.response if isinstance(answer, DianRejected) else answer
            mark_registered(
                s, ctx, event, answer_xml, response, at, actor=actor, via=detail, on_registered=on_registered
            )
            report.registered.append(cude)
        elif kind == "rejected":
            assert isinstance(answer, DianRejected)
            event.submission_state = SubmissionState.REJECTED
            event.next_attempt_at = None
            event.dian_status_code = answer.response.status_code
            messages = [m.render() for m in answer.response.messages] or [answer.response.status_description]
            if detail:
                messages.append(detail)
            event.dian_messages = messages
            event.last_error = "; ".join(messages)[:2000]
            if answer.response.xml:
                event.dian_response_blob = ctx.blobs.put(answer.response.xml)
            record(
                s,
                actor=actor,
                action=f"event.{event.code.value}.rejected",
                subject=event.referenced_cufe,
                data={"event_id": event.id, "cude": cude, "number": event.number, "messages": messages},
                at=at,
            )
            report.rejected.append(cude)
        elif kind == "not_final":
            assert isinstance(answer, DianRejected | NotFinal)
            _not_final(s, ctx, event, answer.response, detail, at, actor, report, max_attempts)
        else:
            _retry(event, ctx, at, detail)
            record(
                s,
                actor=actor,
                action=f"event.{event.code.value}.send_failed",
                subject=event.referenced_cufe,
                data={"event_id": event.id, "cude": cude, "attempts": event.attempts, "error": detail,
                      "cause": str(answer)[:500] if answer is not None else None,
                      "next_attempt_at": event.next_attempt_at.isoformat() if event.next_attempt_at else None},
                at=at,
            )  # fmt: skip
            report.retrying.append(cude)
        s.commit()


def _not_final(
    s: Session,
    ctx: EventContext,
    event: DocumentEvent,
    response: DianResponse,
    detail: str,
    at: datetime,
    actor: str,
    report: DeliveryReport,
    max_attempts: int,
) -> None:
    """DIAN answered 98 or 66: retry with the backoff, or, past ``max_attempts``, stop and say so (unresolved)."""
    cude = event.cude or ""
    data = {"event_id": event.id, "cude": cude, "attempts": event.attempts, "status_code": response.status_code}
    if event.attempts < max_attempts:
        _retry(event, ctx, at, f"{detail}; se volverá a consultar (intento {event.attempts} de {max_attempts}).",
               response.status_code)  # fmt: skip
        data.update(error=detail, next_attempt_at=event.next_attempt_at.isoformat() if event.next_attempt_at else None)
        record(s, actor=actor, action=f"event.{event.code.value}.send_failed", subject=event.referenced_cufe,
               data=data, at=at)  # fmt: skip
        report.retrying.append(cude)
        return
    event.submission_state = SubmissionState.SEND_FAILED
    event.next_attempt_at = None
    event.dian_status_code = response.status_code
    event.last_error = (
        f"{detail}: sin respuesta definitiva de la DIAN tras {event.attempts} intentos; ya no se envía "
        "automáticamente. Consulte el evento en el portal de la DIAN: si la DIAN lo registró, la sincronización "
        "(GetStatusEvent) lo marcará como registrado."
    )[:2000]
    data.update(error=detail)
    record(s, actor=actor, action=f"event.{event.code.value}.unresolved", subject=event.referenced_cufe, data=data,
           at=at)  # fmt: skip
    report.unresolved.append(cude)
