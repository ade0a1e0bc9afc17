"""Contingency (radian-issuing-facts B.3): when DIAN cannot receive, our invoices are issued as type 04, handed to the
buyer meanwhile, and transmitted within 48 hours of DIAN's return; a sweep sends them and alerts before the deadline.

* **Type 04 (DIAN cannot receive)** starts two ways: declared by billing or an admin (`buzon issue contingency start`)
  or detected — ``after_failures`` attempts in a row (default 4, the practice B.3 reports: 4 failed attempts) that got
  no answer from DIAN at all (transport failures, HTTP 5xx; a rejection or DIAN's 98/66 is an answer, so DIAN is up).
  A detected contingency ends by itself once a sweep's transmission is answered; a declared one ends when declared.
* **Type 03 (we cannot issue)** is not started here: while Buzón itself is down the company writes paper invoices from
  its contingency range, and the ERP sends each afterwards as type 03 with ``paper_invoice`` (issuing/payload.py), an
  ordinary request. DIAN's 48 hours run from the end of our outage: the same sweep transmits and alerts for them.

The state is the audit log's last ``contingency.started`` / ``contingency.ended`` entry: who declared it, when and why
stay on record, and every process reads the same answer.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, make_msgid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from dian.codes import DocumentType
from issuing.document import BOGOTA
from issuing.request import IssueRequest
from issuing.service import Issued, IssuingService
from store.audit import record
from store.models import (
    AuditEntry,
    DeliveryState,
    MailKind,
    OutboundDocument,
    OutboundState,
    OutgoingMail,
    Role,
    User,
)

__all__ = ["Contingency", "SweepReport", "current", "detect", "end", "for_contingency", "issue", "start", "sweep"]

DETECT_AFTER_FAILURES = 4
ALERT_BEFORE = dt.timedelta(hours=12)
CONTINGENCY_TYPES = (DocumentType.CONTINGENCY_INVOICE, DocumentType.DIAN_CONTINGENCY_INVOICE)
_STATE_ACTIONS = ("contingency.started", "contingency.ended")
_SIGNS = ("outbound.send_failed", "outbound.accepted", "outbound.rejected", "contingency.ended")


@dataclass(frozen=True)
class Contingency:
    """A contingency under way: since when, declared or detected, why."""

    started_at: dt.datetime
    source: str  # declared | detected
    reason: str
    actor: str


def current(sessions: sessionmaker[Session]) -> Contingency | None:
    """The contingency under way, if any."""
    with sessions() as s:
        entry = s.execute(
            sa.select(AuditEntry).where(AuditEntry.action.in_(_STATE_ACTIONS)).order_by(AuditEntry.id.desc()).limit(1)
        ).scalar_one_or_none()
        if entry is None or entry.action != "contingency.started":
            return None
        return Contingency(entry.at, str(entry.data.get("source", "declared")), str(entry.data.get("reason", "")),
                           entry.actor)  # fmt: skip


def start(sessions: sessionmaker[Session], *, actor: str, reason: str, now: dt.datetime,
          source: str = "declared") -> Contingency:  # fmt: skip
    """Declare (or record the detection of) DIAN's outage; the one under way when there is one already."""
    reason = " ".join(reason.split())
    if not 0 < len(reason) <= 500:
        raise ValueError("diga por qué se declara la contingencia (hasta 500 caracteres)")
    held = current(sessions)
    if held is not None:
        return held
    with sessions() as s:
        record(s, actor=actor, action="contingency.started", subject="04",
               data={"source": source, "reason": reason}, at=now)  # fmt: skip
        s.commit()
    return Contingency(now, source, reason, actor)


def end(sessions: sessionmaker[Session], *, actor: str, now: dt.datetime, reason: str = "") -> bool:
    """End the contingency under way (False when there was none)."""
    held = current(sessions)
    if held is None:
        return False
    with sessions() as s:
        data = {"since": held.started_at.isoformat(), "source": held.source, "reason": reason}
        record(s, actor=actor, action="contingency.ended", subject="04", data=data, at=now)
        s.commit()
    return True


def detect(sessions: sessionmaker[Session], *, now: dt.datetime, after_failures: int = DETECT_AFTER_FAILURES,
           actor: str = "job:contingency") -> Contingency | None:  # fmt: skip
    """Start a detected contingency when the last ``after_failures`` sends all went unanswered by DIAN."""
    held = current(sessions)
    if held is not None:
        return held
    with sessions() as s:
        last = list(s.execute(
            sa.select(AuditEntry).where(AuditEntry.action.in_(_SIGNS)).order_by(AuditEntry.id.desc())
            .limit(after_failures)
        ).scalars())  # fmt: skip
    unanswered = [e for e in last if e.action == "outbound.send_failed" and not e.data.get("status_code")]
    if len(last) < after_failures or len(unanswered) < after_failures:
        return None
    errors = sorted({str(e.data.get("error", ""))[:120] for e in unanswered})
    reason = f"{after_failures} envíos seguidos sin respuesta de la DIAN: {'; '.join(errors)}"[:500]
    return start(sessions, actor=actor, source="detected", now=now, reason=reason)


def for_contingency(request: IssueRequest) -> IssueRequest:
    """The request as a type 04 (an invoice 01; other types unchanged): what is issued while DIAN cannot receive."""
    if request.payload.type is not DocumentType.INVOICE:
        return request
    payload = dataclasses.replace(request.payload, type=DocumentType.DIAN_CONTINGENCY_INVOICE)
    return dataclasses.replace(request, payload=payload, data={**request.data, "type": "04"})


def issue(service: IssuingService, request: IssueRequest, *, actor: str, **kwargs: Any) -> Issued:
    """Issue ``request``: as type 04 and without sending it while a contingency is under way (the sweep transmits it),
    otherwise as asked and sent at once."""
    held = current(service.sessions)
    if held is None:
        return service.issue(request, actor=actor, deliver=True, **kwargs)
    done = service.issue(for_contingency(request), actor=actor, deliver=False, **kwargs)
    with service.sessions() as s:
        row = s.get(OutboundDocument, done.id)
        if row is not None and row.document_type in CONTINGENCY_TYPES and row.contingency_reason is None:
            row.contingency_reason = f"{held.source}: {held.reason}"[:2000]
            # Not sent while DIAN is down; the sweep transmits it (each failed attempt would only push it back).
            row.next_attempt_at = None
            s.commit()
    return service.result(done.id)


@dataclass
class SweepReport:
    transmitted: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    alerted: list[str] = field(default_factory=list)
    ended: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"transmitted": len(self.transmitted), "rejected": len(self.rejected), "waiting": len(self.waiting),
                "alerted": len(self.alerted), "ended": self.ended}  # fmt: skip


def _open_contingency_documents(s: Session) -> list[OutboundDocument]:
    return list(s.execute(
        sa.select(OutboundDocument).where(
            OutboundDocument.document_type.in_(CONTINGENCY_TYPES),
            OutboundDocument.origin == "issued",
            OutboundDocument.state.in_((OutboundState.SIGNED, OutboundState.SENT, OutboundState.SEND_FAILED)),
        ).order_by(OutboundDocument.id)
    ).scalars())  # fmt: skip


def sweep(service: IssuingService, client: Any, *, now: dt.datetime, actor: str = "job:contingency",
          alert_before: dt.timedelta = ALERT_BEFORE, from_address: str = "",
          extra_recipients: Sequence[str] = ()) -> SweepReport:  # fmt: skip
    """Transmit the contingency documents (03/04) not yet validated; end a detected contingency once DIAN answers;
    alert billing and the admins (audit + mail) about those still unsent ``alert_before`` their 48 h deadline."""
    report = SweepReport()
    sessions = service.sessions
    with sessions() as s:
        due = _open_contingency_documents(s)
        ids = [row.id for row in due]
        for row in due:  # the sweep sends them now, whatever the backoff said
            row.next_attempt_at = min(now, service.clock())
        s.commit()
    if ids:
        delivered = service.deliver(only=ids, client=client, actor=actor)
        report.transmitted, report.rejected = list(delivered.accepted), list(delivered.rejected)
        held = current(sessions)
        if held is not None and held.source == "detected" and (delivered.accepted or delivered.rejected):
            report.ended = end(sessions, actor=actor, now=now, reason="la DIAN volvió a responder")
    with sessions() as s:
        late = [row for row in _open_contingency_documents(s)
                if row.contingency_deadline is not None and row.contingency_deadline - now <= alert_before]  # fmt: skip
        report.waiting = [row.number for row in _open_contingency_documents(s)]
        if late:
            to = _recipients(s, extra_recipients)
            for row in late:
                if _alert(s, service, row, now=now, actor=actor, to=to, from_address=from_address):
                    report.alerted.append(row.number)
        s.commit()
    return report


def _recipients(s: Session, extra: Sequence[str]) -> list[str]:
    users = s.execute(
        sa.select(User.email).where(User.role.in_((Role.BILLING, Role.ADMIN)), User.active.is_(True),
                                    User.email.is_not(None))
    ).scalars()  # fmt: skip
    return sorted({str(e).strip().lower() for e in [*users, *extra] if e and "@" in str(e)})


def _alert(s: Session, service: IssuingService, row: OutboundDocument, *, now: dt.datetime, actor: str,
           to: list[str], from_address: str) -> bool:  # fmt: skip
    """One alert per document (audit + one mail per address); False when it was already raised."""
    key = f"contingency_deadline:{row.id}"
    if s.execute(sa.select(OutgoingMail.id).where(OutgoingMail.dedupe_key.like(f"{key}:%"))).first() is not None:
        return False
    if s.execute(sa.select(AuditEntry.id).where(AuditEntry.action == "contingency.deadline_alert",
                                                AuditEntry.subject == row.cufe)).first() is not None:  # fmt: skip
        return False
    assert row.contingency_deadline is not None
    deadline = row.contingency_deadline.astimezone(BOGOTA)
    left = max(dt.timedelta(0), row.contingency_deadline - now)
    subject = f"Contingencia: transmita {row.number} a la DIAN antes del {deadline:%Y-%m-%d %H:%M}"
    body = (f"El documento {row.number} (tipo {row.document_type.value}, comprador {row.buyer_name}) se expidió en "
            f"contingencia y aún no está validado por la DIAN.\n\nPlazo para transmitirlo: {deadline:%Y-%m-%d %H:%M} "
            f"(hora de Colombia); quedan {int(left.total_seconds() // 3600)} h.\n"
            f"Último error: {row.last_error or 'sin intento todavía'}\n")  # fmt: skip
    for address in to:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = from_address or address, address, subject
        message["Date"] = format_datetime(now.astimezone(BOGOTA))
        message["Message-ID"] = make_msgid(domain=(from_address.rpartition("@")[2] or "buzon.local"))
        message.set_content(body)
        s.add(OutgoingMail(kind=MailKind.REMINDER, dedupe_key=f"{key}:{address}"[:200], to_address=address,
                           subject=subject[:300], state=DeliveryState.PENDING, next_attempt_at=now,
                           message_blob=service.ctx.blobs.put(message.as_bytes(policy=SMTP_POLICY)),
                           document_id=None))  # fmt: skip
    record(s, actor=actor, action="contingency.deadline_alert", subject=row.cufe,
           data={"id": row.id, "number": row.number, "deadline": row.contingency_deadline.isoformat(), "to": to},
           at=now)  # fmt: skip
    return True
