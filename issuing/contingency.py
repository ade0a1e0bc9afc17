"""Contingency (radian-issuing-facts B.3): when DIAN cannot receive, our invoices are issued as type 04, handed to the
buyer meanwhile, and transmitted within 48 hours of DIAN's return; a sweep sends them and alerts before the deadline.

* **Type 04 (DIAN cannot receive)** starts two ways: declared by billing or an admin (`buzon issue contingency start`)
  or detected — ``after_failures`` attempts in a row (default 4, the practice B.3 reports: 4 failed attempts) that got
  no answer from DIAN at all (transport failures, HTTP 5xx; a rejection or DIAN's 98/66 is an answer, so DIAN is up).
  A detected contingency ends by itself once a sweep's transmission is answered; a declared one ends when declared.
* **Type 03 (we cannot issue)** is not started here: while Buzón itself is down the company writes paper invoices from
  its contingency range, and the ERP sends each afterwards as type 03 with ``paper_invoice`` (issuing/payload.py), an
  ordinary request. DIAN's 48 hours run from the end of our outage: the same sweep transmits and alerts for them.

The state (declared, detected, ended) and what an invoice becomes under it live in issuing/outage.py, which the
issuing façade consults on every request; this module re-exports them and owns the sweep and the alerts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, make_msgid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from issuing.document import BOGOTA
from issuing.outage import (
    CONTINGENCY_TYPES,
    DETECT_AFTER_FAILURES,
    Contingency,
    current,
    detect,
    end,
    for_contingency,
    start,
)
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

__all__ = ["CONTINGENCY_TYPES", "DETECT_AFTER_FAILURES", "Contingency", "SweepReport", "current", "detect", "end",
           "for_contingency", "issue", "start", "sweep"]  # fmt: skip

ALERT_BEFORE = dt.timedelta(hours=12)


def issue(service: IssuingService, request: IssueRequest, *, actor: str, **kwargs: Any) -> Issued:
    """Issue ``request`` and send it at once; while a contingency is under way the façade itself issues it as type 04
    and leaves it for the sweep (issuing/outage.py)."""
    return service.issue(request, actor=actor, deliver=True, **kwargs)


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
