"""Emitting 030/031/032/033 on a received invoice: checked by dian.rules, built, given its CUDE and number, signed,
and put in the outbox — in one transaction under the document's row lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from dian.codes import ClaimReason, EventCode
from dian.cufe import event_cude
from dian.errors import DianError
from dian.nit import check_digit
from dian.rules import Decision, Role, check
from dian.ubl import Party, Person
from dian.ubl.build import EventDraft, build_event
from dian.xades import sign
from events.context import EventContext, utc_now
from store.audit import record
from store.models import Counter, Direction, DocumentEvent, ReceivedDocument, SubmissionState
from store.state import IN_FLIGHT, events_of, facts_for

# Ours to send as the buyer (034 is the seller's; 035-051 belong to RADIAN).
BUYER_EVENTS = (EventCode.ACUSE_RECIBO, EventCode.RECLAMO, EventCode.RECIBO_BIEN, EventCode.ACEPTACION_EXPRESA)
# Each event type has its own consecutive; the prefix keeps the numbers distinct at DIAN, which refuses a repeated
# (sender, number) pair whatever the code.
NUMBER_PREFIX = {
    EventCode.ACUSE_RECIBO: "ACU",
    EventCode.RECLAMO: "REC",
    EventCode.RECIBO_BIEN: "RBS",
    EventCode.ACEPTACION_EXPRESA: "ACE",
}
_WITH_PERSON = (EventCode.ACUSE_RECIBO, EventCode.RECIBO_BIEN)


class EventRefused(DianError):
    """The event may not be sent now; ``reason`` is a Spanish sentence a clerk can act on."""

    def __init__(self, reason: str, rule: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.rule = rule


@dataclass(frozen=True)
class EventRequest:
    """What a clerk (or a job) asks for: the code, and what that code needs."""

    code: EventCode
    person: Person | None = None  # 030 and 032: who received
    claim_reason: ClaimReason | None = None  # 031
    note: str | None = None  # 031: the clerk's explanation, sent as cbc:Note

    def __post_init__(self) -> None:
        object.__setattr__(self, "code", EventCode(self.code))
        if self.claim_reason is not None:
            object.__setattr__(self, "claim_reason", ClaimReason(self.claim_reason))


def person_dict(person: Person | None) -> dict[str, Any] | None:
    if person is None:
        return None
    return {
        "id_type": person.id_type,
        "id": person.id,
        "first_name": person.first_name,
        "family_name": person.family_name,
        "job_title": person.job_title,
        "department": person.department,
    }


def _check_request(request: EventRequest, default_person: Person | None) -> Person | None:
    if request.code not in BUYER_EVENTS:
        raise EventRefused(
            f"Buzón envía como comprador los eventos 030, 031, 032 y 033; el {request.code.value} no es del comprador."
        )
    person = request.person
    if request.code in _WITH_PERSON:
        person = person or default_person
        if person is None:
            raise EventRefused(
                f"El evento {request.code.value} identifica a la persona que recibe: indique su documento y nombre."
            )
        if not person.id.strip() or not person.first_name.strip() or not person.family_name.strip():
            raise EventRefused("La persona que recibe necesita número de documento, nombres y apellidos.")
    elif person is not None:
        raise EventRefused(f"El evento {request.code.value} no lleva la persona que recibe.")
    if request.code is EventCode.RECLAMO and request.claim_reason is None:
        raise EventRefused("El reclamo (031) necesita el motivo: 01, 02, 03 o 04.")
    if request.code is not EventCode.RECLAMO and (request.claim_reason is not None or request.note):
        raise EventRefused("Solo el reclamo (031) lleva motivo y nota.")
    return person


def in_flight(events: list[DocumentEvent], code: EventCode) -> DocumentEvent | None:
    """Our event of this code still waiting for DIAN's answer, if any."""
    for event in events:
        if event.direction is Direction.EMITTED and event.code is code and event.submission_state in IN_FLIGHT:
            return event
    return None


def _queued(code: EventCode, event: DocumentEvent) -> str:
    return f"El evento {code.value} ({code.label}) ya está en cola para la DIAN (número {event.number})."


def decide(
    session: Session,
    ctx: EventContext,
    document: ReceivedDocument,
    code: EventCode,
    at: datetime,
    events: list[DocumentEvent] | None = None,
) -> Decision:
    """May we send ``code`` on this document now (our in-flight events counted as if registered)?"""
    events = events_of(session, document) if events is None else events
    queued = in_flight(events, code)
    if queued is not None:
        return Decision(allowed=False, reason=_queued(code, queued))
    facts = facts_for(document, events, include_in_flight=True)
    return check(code, role=Role.BUYER, facts=facts, at=at, calendar=ctx.calendar)


def _next_number(session: Session, code: EventCode) -> str:
    name = f"event:{code.value}"
    counter = session.get(Counter, name, with_for_update=True)
    if counter is None:
        counter = Counter(name=name, value=0)
        session.add(counter)
    counter.value += 1
    session.flush()
    return f"{NUMBER_PREFIX[code]}{counter.value}"


def _supplier(document: ReceivedDocument) -> Party:
    nit = document.issuer_nit
    return Party(nit=nit, dv=document.issuer_dv or check_digit(nit), registration_name=document.issuer_name or nit)


def emit(
    session: Session,
    ctx: EventContext,
    document_id: int,
    request: EventRequest,
    *,
    actor: str,
    source: str | None = None,
    now: datetime | None = None,
    force: bool = False,
) -> DocumentEvent:
    """Sign ``request`` on the document and queue it; the caller commits. ``force`` skips our own rule check only
    (DIAN still checks), for the rare case a clerk knows better than the local calendar."""
    now = now or utc_now()
    person = _check_request(request, ctx.default_person)
    document = session.execute(
        sa.select(ReceivedDocument).where(ReceivedDocument.id == document_id).with_for_update()
    ).scalar_one_or_none()
    if document is None:
        raise EventRefused(f"No existe el documento {document_id}.")
    events = events_of(session, document)
    queued = in_flight(events, request.code)
    if queued is not None:  # even forced: one live event per code (DIAN would answer Regla 90)
        raise EventRefused(_queued(request.code, queued))
    decision = decide(session, ctx, document, request.code, now, events)
    if not decision.allowed and not force:
        raise EventRefused(decision.reason, decision.rule)
    number = _next_number(session, request.code)
    local, issue_time = ctx.issue_moment(now)
    draft = EventDraft(
        code=request.code,
        number=number,
        issue_date=local.date(),
        issue_time=issue_time,
        environment=ctx.environment,
        sender=ctx.company,
        receiver=_supplier(document),
        invoice_number=document.number,
        invoice_cufe=document.cufe,
        invoice_type_code=document.document_type.value,
        person=person,
        claim_reason=request.claim_reason,
        notes=(request.note,) if request.note else (),
    )
    signed = sign(build_event(draft, software=ctx.software), ctx.identity, signing_time=now)
    cude = event_cude(
        number=number,
        issue_date=draft.issue_date,
        issue_time=issue_time,
        sender_nit=ctx.company.nit,
        receiver_nit=draft.receiver.nit,
        response_code=request.code.value,
        document_number=document.number,
        document_type_code=draft.invoice_type_code,
        software_pin=ctx.software.pin,
    )
    event = DocumentEvent(
        document_id=document.id,
        code=request.code,
        direction=Direction.EMITTED,
        number=number,
        cude=cude,
        referenced_cufe=document.cufe,
        claim_reason=request.claim_reason,
        note=request.note,
        person=person_dict(person),
        sender_nit=ctx.company.nit,
        receiver_nit=document.issuer_nit,
        signed_xml_blob=ctx.blobs.put(signed),
        signing_time=now,
        submission_state=SubmissionState.SIGNED,
        next_attempt_at=now,
        actor=actor,
    )
    session.add(event)
    session.flush()
    record(
        session,
        actor=actor,
        action=f"event.{request.code.value}.signed",
        subject=document.cufe,
        source=source,
        data={
            "document_id": document.id,
            "event_id": event.id,
            "number": number,
            "cude": cude,
            "forced": bool(force and not decision.allowed),
            "rule_check": decision.reason,
            "claim_reason": request.claim_reason.value if request.claim_reason else None,
        },
        at=now,
    )
    return event


@dataclass(frozen=True)
class Emitted:
    """What a caller needs to know of an event just signed and queued."""

    id: int
    document_id: int
    code: EventCode
    number: str
    cude: str
    submission_state: SubmissionState
    signing_time: datetime

    @classmethod
    def of(cls, event: DocumentEvent) -> Emitted:
        assert event.document_id is not None and event.number and event.cude and event.signing_time
        return cls(event.id, event.document_id, event.code, event.number, event.cude, event.submission_state,
                   event.signing_time)  # fmt: skip


def emit_and_commit(
    sessions: sessionmaker[Session],
    ctx: EventContext,
    document_id: int,
    request: EventRequest,
    *,
    actor: str,
    source: str | None = None,
    now: datetime | None = None,
    force: bool = False,
) -> Emitted:
    """`emit` in its own transaction; a concurrent twin (the unique live-event index) becomes an EventRefused."""
    with sessions() as session:
        try:
            event = emit(session, ctx, document_id, request, actor=actor, source=source, now=now, force=force)
            emitted = Emitted.of(event)
            session.commit()
        except IntegrityError as exc:
            session.rollback()
            raise EventRefused(
                f"El evento {request.code.value} ya fue firmado para este documento por otra acción simultánea."
            ) from exc
        return emitted


def emit_many(
    sessions: sessionmaker[Session],
    ctx: EventContext,
    requests: list[tuple[int, EventRequest]],
    *,
    actor: str,
    source: str | None = None,
    now: datetime | None = None,
) -> tuple[list[Emitted], dict[int, str]]:
    """Many events in one transaction (bulk actions, policy jobs); refusals are returned by document id, not raised.

    A refusal happens before anything is written, so it leaves the others intact; should the commit meet a concurrent
    twin, each request is retried in its own transaction.
    """
    emitted: list[Emitted] = []
    refused: dict[int, str] = {}
    with sessions() as session:
        try:
            for document_id, request in requests:
                try:
                    event = emit(session, ctx, document_id, request, actor=actor, source=source, now=now)
                except EventRefused as exc:
                    refused[document_id] = exc.reason
                else:
                    emitted.append(Emitted.of(event))
            session.commit()
            return emitted, refused
        except IntegrityError:
            session.rollback()
    emitted, refused = [], {}
    for document_id, request in requests:
        try:
            emitted.append(emit_and_commit(sessions, ctx, document_id, request, actor=actor, source=source, now=now))
        except EventRefused as exc:
            refused[document_id] = exc.reason
    return emitted, refused
