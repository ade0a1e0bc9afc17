"""DIAN's outage as Buzón holds it (radian-issuing-facts B.3, type 04): the contingency under way, declared by a person
or detected from unanswered sends, and what an invoice becomes while it lasts. The issuing façade (service.py) asks
:func:`current` on every request, so every door (the CLI, the native API, the apidian paths, the form) issues a 04
while DIAN cannot receive; issuing/contingency.py owns the rest (the sweep that transmits, the deadline alerts).

The state is the audit log's last ``contingency.started`` / ``contingency.ended`` entry: who declared it, when and why
stay on record, and every process reads the same answer.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from dian.codes import DocumentType
from issuing.request import IssueRequest
from store.audit import record
from store.models import AuditEntry

__all__ = ["CONTINGENCY_TYPES", "CONTINGENCY_WINDOW", "DETECT_AFTER_FAILURES", "Contingency", "current", "detect",
           "end", "for_contingency", "start"]  # fmt: skip

DETECT_AFTER_FAILURES = 4
CONTINGENCY_WINDOW = dt.timedelta(hours=48)  # B.3: transmit within 48 h after the outage
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

    @property
    def summary(self) -> str:
        """What is kept on each document issued under it (``contingency_reason``)."""
        return f"{self.source}: {self.reason}"[:2000]


def current(sessions: sessionmaker[Session]) -> Contingency | None:
    """The contingency under way, if any."""
    with sessions() as s:  # asked on every issue: the columns only, by the action's index (about 0.3 ms on SQLite)
        entry = s.execute(
            sa.select(AuditEntry.action, AuditEntry.at, AuditEntry.data, AuditEntry.actor)
            .where(AuditEntry.action.in_(_STATE_ACTIONS)).order_by(AuditEntry.id.desc()).limit(1)
        ).first()  # fmt: skip
    if entry is None or entry.action != "contingency.started":
        return None
    data = entry.data or {}
    return Contingency(entry.at, str(data.get("source", "declared")), str(data.get("reason", "")), entry.actor)


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
