"""Emitting 030/031/032/033 on a received invoice: checked by dian.rules, built, given its CUDE and number, signed,
and put in the outbox — in one transaction under the document's row lock. The request is events/request.py's, the
number events/numbering.py's, the signed XML and its row events/drafting.py's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from dian.codes import EventCode
from dian.errors import CertificateError
from dian.rules import Decision, Role, check
from dian.ubl import Person
from events import approvals
from events.context import EventContext, utc_now
from events.drafting import Plan, signed_event
from events.numbering import NUMBER_PREFIX, advance_counter
from events.request import (
    BUYER_EVENTS,
    ApprovalPending,
    EventRefused,
    EventRequest,
    check_request,
    person_dict,
    request_dict,
    request_of,
)
from store.audit import entry, insert_entries
from store.models import Direction, DocumentEvent, ReceivedDocument, SubmissionState
from store.state import IN_FLIGHT, events_of, facts_for

# The request, its numbers and its drafting live in their own modules (events/request.py, numbering.py,
# drafting.py); their names stay importable from here.
_check_request = check_request
__all__ = [
    "BUYER_EVENTS", "NUMBER_PREFIX", "ApprovalPending", "Emitted", "EventRefused", "EventRequest", "advance_counter",
    "decide", "emit_and_commit", "emit_many", "in_flight", "person_dict", "request_dict", "request_of",
]  # fmt: skip


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


_DOCS = ReceivedDocument.__table__
_EVENTS = DocumentEvent.__table__
# What the rule check and the event need of each document, locked until the commit (a no-op on SQLite, whose writers
# are serialized by the database lock; the unique live-event index catches a twin there).
_LOCK_DOCUMENTS = (
    sa.select(
        _DOCS.c.id, _DOCS.c.cufe, _DOCS.c.number, _DOCS.c.document_type, _DOCS.c.payment_means, _DOCS.c.due_date,
        _DOCS.c.report, _DOCS.c.issuer_nit, _DOCS.c.issuer_dv, _DOCS.c.issuer_name, _DOCS.c.payable_amount,
    )
    .where(_DOCS.c.id.in_(sa.bindparam("ids", expanding=True)))
    .order_by(_DOCS.c.id)
    .with_for_update()
)  # fmt: skip
# What store.state.facts_for and in_flight read of each event.
_EVENTS_OF = (
    sa.select(
        _EVENTS.c.document_id, _EVENTS.c.code, _EVENTS.c.direction, _EVENTS.c.number, _EVENTS.c.submission_state,
        _EVENTS.c.signing_time, _EVENTS.c.registered_at, _EVENTS.c.created_at,
    )
    .where(_EVENTS.c.document_id.in_(sa.bindparam("ids", expanding=True)))
    .order_by(_EVENTS.c.id)
)  # fmt: skip
_INSERT_EVENTS = sa.insert(_EVENTS).returning(_EVENTS.c.id, sort_by_parameter_order=True)


@dataclass
class _Queued:
    """An event planned earlier in the same batch, as the rule check sees it."""

    code: EventCode
    number: str | None
    signing_time: datetime
    direction: Direction = Direction.EMITTED
    submission_state: SubmissionState = SubmissionState.SIGNED
    registered_at: datetime | None = None
    created_at: datetime | None = None


def _emit(
    session: Session,
    ctx: EventContext,
    requests: list[tuple[int, EventRequest]],
    *,
    actor: str,
    source: str | None,
    now: datetime,
    force: bool = False,
    approval: int | None = None,
) -> tuple[list[Emitted], dict[int, EventRefused]]:
    """Check, number, build, sign, store and queue each request in the caller's transaction; refusals by document id.

    A refusal is decided before anything is written; a signing certificate outside its validity refuses them all.
    An allowed request that four-eyes holds (ctx.approvals) is written as a pending approval instead and comes back
    as ``ApprovalPending``, unless ``approval`` names the approval taken for it in this transaction.
    Statements per batch, whatever its size: the documents locked,
    their events read, one counter advanced per code, the signed blobs stored in one transaction of the blob store,
    the events and their audit entries inserted.
    """
    try:
        # DIAN refuses what an expired (or not yet valid) certificate signs: say so before a number is spent.
        ctx.identity.check_valid_at(now)
    except CertificateError as exc:
        reason = (
            f"No se puede firmar el evento: {exc}. Configure el certificado vigente de la empresa "
            "(certificate.pkcs12_path)."
        )
        return [], {document_id: EventRefused(reason) for document_id, _ in requests}
    refused: dict[int, EventRefused] = {}
    checked: list[tuple[int, EventRequest, Person | None]] = []
    for document_id, request in requests:
        try:
            checked.append((document_id, request, check_request(request, ctx.default_person)))
        except EventRefused as exc:
            refused[document_id] = exc
    ids = sorted({document_id for document_id, _, _ in checked})
    if not ids:
        return [], refused
    conn = session.connection()
    documents = {row.id: row for row in conn.execute(_LOCK_DOCUMENTS, {"ids": ids})}
    events: dict[int, list[Any]] = {document_id: [] for document_id in ids}
    for row in conn.execute(_EVENTS_OF, {"ids": ids}):
        events[row.document_id].append(row)

    plans: list[Plan] = []
    for document_id, request, person in checked:
        document = documents.get(document_id)
        if document is None:
            refused[document_id] = EventRefused(f"No existe el documento {document_id}.")
            continue
        queued = in_flight(events[document_id], request.code)
        if queued is not None:  # even forced: one live event per code (DIAN would answer Regla 90)
            refused[document_id] = EventRefused(_queued(request.code, queued))
            continue
        facts = facts_for(document, events[document_id], include_in_flight=True)
        decision = check(request.code, role=Role.BUYER, facts=facts, at=now, calendar=ctx.calendar)
        if not decision.allowed and not force:
            refused[document_id] = EventRefused(decision.reason, decision.rule)
            continue
        plan = Plan(document, request, person, decision)
        held = _four_eyes(session, ctx, plan, approval, actor=actor, source=source, now=now)
        if held is not None:
            refused[document_id] = held
            continue
        plans.append(plan)
        events[document_id].append(_Queued(request.code, None, now))
    if not plans:
        return [], refused

    by_code: dict[EventCode, list[Plan]] = {}
    for plan in plans:
        by_code.setdefault(plan.request.code, []).append(plan)
    for code, coded in sorted(by_code.items()):
        last = advance_counter(conn, code, len(coded))
        for offset, plan in enumerate(coded):
            plan.number = f"{NUMBER_PREFIX[code]}{last - len(coded) + 1 + offset}"

    local, issue_time = ctx.issue_moment(now)
    signed: list[bytes] = []
    rows: list[dict[str, Any]] = []
    for plan in plans:
        xml, row = signed_event(ctx, plan, local=local, issue_time=issue_time, now=now, actor=actor)
        signed.append(xml)
        rows.append(row)
    # Durable before the rows that name them are committed.
    for row, key in zip(rows, ctx.blobs.put_many(signed), strict=True):
        row["signed_xml_blob"] = key
    event_ids = conn.execute(_INSERT_EVENTS, rows).scalars().all()
    insert_entries(
        conn,
        [
            entry(
                actor=actor,
                action=f"event.{plan.request.code.value}.signed",
                subject=plan.document.cufe,
                source=source,
                data={
                    "document_id": plan.document.id,
                    "event_id": event_id,
                    "number": plan.number,
                    "cude": row["cude"],
                    "forced": bool(force and not plan.decision.allowed),
                    "rule_check": plan.decision.reason,
                    "claim_reason": plan.request.claim_reason.value if plan.request.claim_reason else None,
                },
                at=now,
            )
            for plan, row, event_id in zip(plans, rows, event_ids, strict=True)
        ],
    )
    for plan, event_id in zip(plans, event_ids, strict=True):
        if plan.grant is not None:
            approvals.mark_sent(session, plan.grant, event_id=event_id, number=plan.number, actor=actor, now=now,
                                source=source)  # fmt: skip
    emitted = [
        Emitted(event_id, row["document_id"], row["code"], row["number"], row["cude"], SubmissionState.SIGNED, now)
        for row, event_id in zip(rows, event_ids, strict=True)
    ]
    return emitted, refused


def _four_eyes(session: Session, ctx: EventContext, plan: Plan, approval: int | None, *, actor: str,
               source: str | None, now: datetime) -> ApprovalPending | None:  # fmt: skip
    """None when the plan may be signed now (no approval needed, or signed under the one taken for it); else the
    request is held as a pending approval and the refusal says so."""
    document, code = plan.document, plan.request.code
    why = ctx.approvals.reason(code, document.payable_amount, document.issuer_nit) if ctx.approvals else None
    subject = f"document:{document.id}"
    grant = approvals.granted(session, approval, subject=subject, code=code)
    if grant is not None:
        plan.grant = grant
        return None
    if why is None:
        return None
    held = approvals.hold(
        session, subject=subject, code=code, action=request_dict(plan.request), reason=why, actor=actor, now=now,
        source=source, document_id=document.id, amount=document.payable_amount, invoice_number=document.number,
        counterparty_nit=document.issuer_nit, counterparty_name=document.issuer_name, audit_subject=document.cufe,
    )  # fmt: skip
    return ApprovalPending(held.words(code, why), held.approval_id)


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
    approval: int | None = None,
) -> Emitted:
    """Sign ``request`` on the document and queue it, in its own transaction. ``force`` skips our own rule check only
    (DIAN still checks), for the rare case a clerk knows better than the local calendar. A refusal raises
    EventRefused; so does a concurrent twin (the unique live-event index). A request four-eyes holds is kept as a
    pending approval and raises ApprovalPending; ``approval`` is the one events.service.approve took for it."""
    now = now or utc_now()
    with sessions() as session:
        try:
            if approval is not None:
                approvals.take(session, approval, approver=actor, now=now, source=source)
            emitted, refused = _emit(
                session, ctx, [(document_id, request)], actor=actor, source=source, now=now, force=force,
                approval=approval,
            )  # fmt: skip
            if refused:
                failure = refused[document_id]
                if isinstance(failure, ApprovalPending) and approval is None:
                    session.commit()  # the request waits: keep it
                else:
                    session.rollback()
                raise failure
            if approval is not None and not approvals.was_sent(session, approval):
                session.rollback()  # taken but not used: this request is not the one that was approved
                raise EventRefused(f"La solicitud {approval} no es este evento sobre este documento.")
            session.commit()
        except IntegrityError as exc:
            session.rollback()
            raise _twin(session, document_id, request.code) from exc
        return emitted[0]


def _twin(session: Session, document_id: int, code: EventCode) -> EventRefused:
    """What a request met at its commit: a pending approval asked at the same instant (uq_approvals_pending: it
    waits, say so), or the same event signed by another action (the unique live-event index)."""
    waiting = approvals.pending_for(session, subject=f"document:{document_id}", code=code)
    if waiting is not None:
        return ApprovalPending(approvals.Held(waiting.id, new=False).words(code, waiting.reason), waiting.id)
    return EventRefused(f"El evento {code.value} ya fue firmado para este documento por otra acción simultánea.")


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
    now = now or utc_now()
    with sessions() as session:
        try:
            emitted, refused = _emit(session, ctx, requests, actor=actor, source=source, now=now)
            session.commit()
            return emitted, {document_id: exc.reason for document_id, exc in refused.items()}
        except IntegrityError:
            session.rollback()
    emitted, reasons = [], {}
    for document_id, request in requests:
        try:
            emitted.append(emit_and_commit(sessions, ctx, document_id, request, actor=actor, source=source, now=now))
        except EventRefused as exc:
            reasons[document_id] = exc.reason
    return emitted, reasons
