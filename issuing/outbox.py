"""The issuing outbox: send our signed invoices and notes to DIAN (SendBillSync) and record DIAN's answer.

* Accepted (StatusCode 00) → ``accepted`` with DIAN's ApplicationResponse — kept only when its DIAN signature is weighed
  by dian.proof and it names our CUFE/CUDE — and the AttachedDocument the buyer receives.
* Refused (99 with its rules, 89) → ``rejected`` with DIAN's rules, word for word.
* **An outage is not a rejection:** no answer, a reset, a timeout, HTTP 5xx, a SOAP fault, or DIAN's not-final 98/66
  → ``send_failed`` with the next attempt after a backoff; the same signed bytes are sent again.
* **Regla 90** ("documento procesado anteriormente": DIAN took an earlier attempt whose answer was lost) → the earlier
  answer is fetched with GetStatus by our CUFE/CUDE and taken as the answer. When DIAN does not know our key, the
  number was used by another document: rejected, saying so.

A document is marked ``sent`` (a lease) and committed before DIAN is called, so a crash after DIAN took it is
resolved by the next attempt's Regla 90. Several workers share the queue: on PostgreSQL the next due row is taken
``FOR UPDATE SKIP LOCKED``. A note waits while the invoice it corrects is still on its way to DIAN (DIAN refuses a
note whose invoice it does not hold, CBG04a/DBG04a).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from dian.proof import Level, weigh_answer
from dian.soap import DianFault, DianRejected, DianResponse, DianTransportError
from dian.ubl import ApplicationResponse
from issuing.attached import attached_document
from issuing.context import IssuingContext, utc_now
from store.audit import record
from store.models import OUTBOUND_DUE, OutboundDocument, OutboundState, Verdict

__all__ = ["DeliveryReport", "DianBills", "ForgedAnswer", "deliver_issued"]

# After this many attempts still without DIAN's final word (98/66 each time) a document is no longer sent by itself.
NOT_FINAL_MAX_ATTEMPTS = 8
IN_FLIGHT = (OutboundState.SIGNED, OutboundState.SENT, OutboundState.SEND_FAILED)


class DianBills(Protocol):
    """The part of dian.soap.DianClient the outbox uses."""

    def send_bill_sync(self, file_name: str, xml: bytes) -> DianResponse: ...
    def get_status(self, track_id: str) -> DianResponse: ...


class ForgedAnswer(Exception):
    """An answer claiming to be DIAN's that does not verify or is about another document (Spanish reason)."""


@dataclass
class DeliveryReport:
    accepted: list[str] = field(default_factory=list)  # numbers
    rejected: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    waiting: int = 0  # notes behind their invoice
    unresolved: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {"accepted": len(self.accepted), "rejected": len(self.rejected), "retrying": len(self.retrying),
                "waiting": self.waiting, "unresolved": len(self.unresolved)}  # fmt: skip


def checked_answer(xml: bytes | None, ctx: IssuingContext, uuid: str) -> ApplicationResponse:
    """DIAN's ApplicationResponse as its endpoint returned it to our own request: its DIAN signature must verify and it
    must name ``uuid``. A DIAN-named certificate we cannot anchor counts here only because the channel is our TLS
    request to DIAN (dian.proof: "confirmed online"); a mailed answer never comes here."""
    if not xml:
        raise ForgedAnswer("la respuesta de la DIAN no trae el ApplicationResponse firmado")
    proof = weigh_answer(xml, ctx.keys, about=uuid)
    if proof.level is Level.INVALID or proof.answer is None:
        raise ForgedAnswer(proof.detail)
    return proof.answer


def _claim_next(sessions: sessionmaker[Session], ctx: IssuingContext, now: datetime, after: int,
                only: Collection[int] | None) -> tuple[int, bytes, str] | None:  # fmt: skip
    """The next due document past id ``after``, leased (``sent``) and committed: its id, signed bytes and file name
    (b"" while the invoice a note corrects is still in flight); None when none is left."""
    with sessions() as s:
        query = (
            sa.select(OutboundDocument)
            .where(sa.text(OUTBOUND_DUE), OutboundDocument.next_attempt_at <= now, OutboundDocument.id > after)
            .order_by(OutboundDocument.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if only is not None:
            query = query.where(OutboundDocument.id.in_(tuple(only)))
        row = s.execute(query).scalar_one_or_none()
        if row is None:
            return None
        if row.reference_id is not None:
            invoice_state = s.execute(
                sa.select(OutboundDocument.state).where(OutboundDocument.id == row.reference_id)
            ).scalar_one_or_none()
            if invoice_state in IN_FLIGHT:
                return row.id, b"", ""
        row.state = OutboundState.SENT
        row.attempts += 1
        row.sent_at = now
        row.next_attempt_at = now + timedelta(seconds=ctx.lease_seconds)
        assert row.xml_blob is not None and row.file_name is not None
        claimed = row.id, ctx.blobs.get(row.xml_blob), row.file_name
        s.commit()
        return claimed


# What one submission came to: kind (accepted, rejected, not_final, retry), DIAN's response, the checked answer and
# its bytes, and a detail for the audit log.
@dataclass
class _Outcome:
    kind: str
    response: DianResponse | None = None
    answer: ApplicationResponse | None = None
    answer_xml: bytes | None = None
    detail: str = ""  # in the clerk's words: the row's last_error
    cause: str | None = None  # the technical account of a failed call (English), for the audit record


def _reconcile(ctx: IssuingContext, client: DianBills, uuid: str, refused: DianRejected) -> _Outcome:
    """Regla 90: DIAN already holds a document with our number. Ask GetStatus for OUR key and take its answer."""
    try:
        status = client.get_status(uuid)
    except (DianTransportError, DianFault) as exc:
        return _Outcome("retry", detail=f"Regla 90 sin confirmar (GetStatus): {exc.words}", cause=str(exc))
    if status.accepted:
        try:
            answer = checked_answer(status.xml, ctx, uuid)
        except ForgedAnswer as exc:
            return _Outcome("retry", detail=f"Regla 90: la respuesta de GetStatus no se acepta: {exc}")
        return _Outcome("accepted", status, answer, status.xml, "Regla 90: respuesta original tomada de GetStatus")
    if status.status_code == "66":
        held = refused.response.document_key or "otro CUFE/CUDE"
        return _Outcome("rejected", refused.response, detail=(
            f"La DIAN ya tiene otro documento con este número ({held[:16]}…) y no conoce este CUFE/CUDE: "
            "el número quedó usado por otro documento"))  # fmt: skip
    if status.not_final:
        return _Outcome("not_final", status, detail=f"Regla 90: la DIAN aún lo procesa ({status.status_code})")
    return _Outcome("rejected", status, detail="Regla 90: GetStatus devuelve el rechazo de este documento")


def _submit(ctx: IssuingContext, client: DianBills, uuid: str, file_name: str, xml: bytes) -> _Outcome:
    try:
        response = client.send_bill_sync(file_name, xml)
    except DianRejected as refused:
        if refused.response.not_final:
            return _Outcome("not_final", refused.response, detail=f"la DIAN aún no decide ({refused.status_code})")
        if refused.already_registered:
            return _reconcile(ctx, client, uuid, refused)
        return _Outcome("rejected", refused.response)
    except (DianTransportError, DianFault) as exc:
        return _Outcome("retry", detail=exc.words, cause=str(exc))
    try:
        answer = checked_answer(response.xml, ctx, uuid)
    except ForgedAnswer as exc:
        return _Outcome("retry", detail=f"respuesta de la DIAN no aceptada: {exc}")
    return _Outcome("accepted", response, answer, response.xml, "SendBillSync")


def deliver_issued(
    sessions: sessionmaker[Session],
    ctx: IssuingContext,
    client: DianBills,
    *,
    now: Callable[[], datetime] = utc_now,
    limit: int = 100,
    actor: str = "job:deliver_issued",
    only: Collection[int] | None = None,
    max_attempts: int = NOT_FINAL_MAX_ATTEMPTS,
) -> DeliveryReport:
    """Send every due document once (or the due ones among ``only``); each ends accepted, rejected, or queued for a
    retry."""
    report = DeliveryReport()
    after = 0
    for _ in range(limit):
        claimed = _claim_next(sessions, ctx, now(), after, only)
        if claimed is None:
            break
        document_id, xml, file_name = claimed
        after = document_id
        if not xml:
            report.waiting += 1
            continue
        with sessions() as s:
            uuid = s.execute(sa.select(OutboundDocument.cufe).where(OutboundDocument.id == document_id)).scalar_one()
        outcome = _submit(ctx, client, uuid or "", file_name, xml)
        _record(sessions, ctx, document_id, xml, outcome, now(), actor, report, max_attempts)
    return report


def _record(sessions: sessionmaker[Session], ctx: IssuingContext, document_id: int, xml: bytes, outcome: _Outcome,
            at: datetime, actor: str, report: DeliveryReport, max_attempts: int) -> None:  # fmt: skip
    with sessions() as s:
        row = s.execute(
            sa.select(OutboundDocument).where(OutboundDocument.id == document_id).with_for_update()
        ).scalar_one()
        data = {"id": row.id, "number": row.number, "attempts": row.attempts}
        response = outcome.response
        if outcome.kind == "accepted":
            assert outcome.answer is not None and outcome.answer_xml is not None and response is not None
            row.state, row.next_attempt_at, row.last_error = OutboundState.ACCEPTED, None, None
            row.dian_status_code = "00"
            row.dian_messages = [m.render() for m in response.messages]
            row.dian_response_blob = ctx.blobs.put(outcome.answer_xml)
            row.validated_at = at
            row.verdict = Verdict.VALID
            row.attached_blob = ctx.blobs.put(attached_document(
                xml, outcome.answer_xml, outcome.answer, environment=ctx.environment, now=at))  # fmt: skip
            record(s, actor=actor, action="outbound.accepted", subject=row.cufe, data={**data, "via": outcome.detail},
                   at=at)  # fmt: skip
            report.accepted.append(row.number)
        elif outcome.kind == "rejected":
            assert response is not None
            messages = [m.render() for m in response.messages] or [response.status_description or "sin detalle"]
            if outcome.detail:
                messages.append(outcome.detail)
            row.state, row.next_attempt_at = OutboundState.REJECTED, None
            row.dian_status_code = response.status_code
            row.dian_messages = messages
            row.last_error = "; ".join(messages)[:2000]
            row.verdict = Verdict.INVALID
            if response.xml:
                row.dian_response_blob = ctx.blobs.put(response.xml)  # kept as received: a refusal proves nothing
            record(s, actor=actor, action="outbound.rejected", subject=row.cufe, data={**data, "messages": messages},
                   at=at)  # fmt: skip
            report.rejected.append(row.number)
        else:
            _retry(row, ctx, outcome, at, max_attempts)
            record(s, actor=actor, action="outbound.send_failed", subject=row.cufe,
                   data={**data, "error": outcome.detail, "cause": outcome.cause, "status_code": row.dian_status_code,
                         "next_attempt_at": row.next_attempt_at.isoformat() if row.next_attempt_at else None},
                   at=at)  # fmt: skip
            (report.retrying if row.next_attempt_at is not None else report.unresolved).append(row.number)
        s.commit()


def _retry(row: OutboundDocument, ctx: IssuingContext, outcome: _Outcome, at: datetime, max_attempts: int) -> None:
    """Queued again after the backoff; a document DIAN keeps answering 98/66 for stops after ``max_attempts``."""
    row.state = OutboundState.SEND_FAILED
    row.dian_status_code = outcome.response.status_code if outcome.response is not None else None
    if outcome.kind == "not_final" and row.attempts >= max_attempts:
        row.next_attempt_at = None
        row.last_error = (
            f"{outcome.detail}: sin respuesta definitiva de la DIAN tras {row.attempts} intentos; "
            "ya no se envía automáticamente. Consulte el documento en el portal de la DIAN."
        )[:2000]
        return
    row.next_attempt_at = at + ctx.backoff.delay(row.attempts)
    row.last_error = (outcome.detail or "sin respuesta de la DIAN")[:2000]
