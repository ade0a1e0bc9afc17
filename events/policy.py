"""Events made by policy, not by a clerk: 030 for valid documents (optionally only from listed suppliers), and 032
for suppliers of services, who are "received" when they invoice.

No policy ever acts on a document whose DIAN validation is not proven (DESIGN.md 5a): verdict ``unconfirmed``
("validación DIAN sin confirmar") and ``invalid`` are skipped by every sweep here, whatever state the document is in
(a clerk may have sent a 030 by hand on an unconfirmed invoice; auto_receipt must still not follow it with a 032).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased, sessionmaker

from dian.codes import DocumentState, DocumentType, EventCode
from events.context import EventContext, utc_now
from events.emit import EventRequest, emit_many
from store.models import Direction, DocumentEvent, ReceivedDocument, SubmissionState, Supplier, Verdict

INVOICES = tuple(t for t in DocumentType if t.is_invoice)
# The verdicts an automatic event may act on: DIAN's validation proven. Never UNCONFIRMED, never INVALID.
DIAN_VALIDATED = (Verdict.VALID, Verdict.VALID_WITH_WARNINGS)
MODES = ("off", "valid", "valid_listed")


@dataclass
class PolicyReport:
    emitted: list[int] = field(default_factory=list)  # document ids
    refused: dict[int, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, int]:
        return {"emitted": len(self.emitted), "refused": len(self.refused)}


def _without_live(code: EventCode) -> sa.ColumnElement[bool]:
    ours = aliased(DocumentEvent)
    return ~sa.exists().where(
        ours.document_id == ReceivedDocument.id,
        ours.code == code,
        ours.direction == Direction.EMITTED,
        ours.submission_state != SubmissionState.REJECTED,
    )


def _listed(s: Session, configured: Iterable[str], column: sa.ColumnElement[bool]) -> set[str]:
    nits = {n.split("-")[0].strip() for n in configured if n.strip()}
    nits |= set(s.execute(sa.select(Supplier.nit).where(column)).scalars())
    return nits


def _emit_all(
    sessions: sessionmaker[Session], ctx: EventContext, ids: list[int], code: EventCode, actor: str, at: datetime
) -> PolicyReport:
    emitted, refused = emit_many(sessions, ctx, [(i, EventRequest(code)) for i in ids], actor=actor, now=at)
    return PolicyReport(emitted=[e.document_id for e in emitted], refused=refused)


def auto_acknowledge(
    sessions: sessionmaker[Session],
    ctx: EventContext,
    *,
    mode: str,
    suppliers: Iterable[str] = (),
    now: Callable[[], datetime] = utc_now,
    limit: int = 500,
    actor: str = "job:auto_acknowledge",
) -> PolicyReport:
    """030 on every invoice that verified valid and has none yet ("valid"), or only those from listed suppliers; never
    on one whose DIAN validation is unconfirmed."""
    if mode not in MODES:
        raise ValueError(f"auto_acknowledge: expected one of {MODES}, got {mode!r}")
    if mode == "off":
        return PolicyReport()
    with sessions() as s:
        query = (
            sa.select(ReceivedDocument.id)
            .where(
                ReceivedDocument.verdict == Verdict.VALID,  # so never UNCONFIRMED nor INVALID
                ReceivedDocument.state == DocumentState.VALIDATED,
                ReceivedDocument.document_type.in_(INVOICES),
                _without_live(EventCode.ACUSE_RECIBO),
            )
            .order_by(ReceivedDocument.id)
            .limit(limit)
        )
        if mode == "valid_listed":
            query = query.where(ReceivedDocument.issuer_nit.in_(_listed(s, suppliers, Supplier.auto_acknowledge)))
        ids = list(s.execute(query).scalars())
    return _emit_all(sessions, ctx, ids, EventCode.ACUSE_RECIBO, actor, now())


def auto_receipt(
    sessions: sessionmaker[Session],
    ctx: EventContext,
    *,
    suppliers: Iterable[str] = (),
    now: Callable[[], datetime] = utc_now,
    limit: int = 500,
    actor: str = "job:auto_receipt",
) -> PolicyReport:
    """032 on invoices of suppliers of services once our 030 is registered or on its way (services are received
    when invoiced); never on one whose DIAN validation is unconfirmed or invalid."""
    with sessions() as s:
        nits = _listed(s, suppliers, Supplier.auto_receipt)
        if not nits:
            return PolicyReport()
        acknowledged = aliased(DocumentEvent)
        ids = list(
            s.execute(
                sa.select(ReceivedDocument.id)
                .where(
                    ReceivedDocument.issuer_nit.in_(nits),
                    ReceivedDocument.verdict.in_(DIAN_VALIDATED),
                    ReceivedDocument.document_type.in_(INVOICES),
                    ReceivedDocument.state.in_((DocumentState.VALIDATED, DocumentState.ACKNOWLEDGED)),
                    sa.exists().where(
                        acknowledged.document_id == ReceivedDocument.id,
                        acknowledged.code == EventCode.ACUSE_RECIBO,
                        acknowledged.direction == Direction.EMITTED,
                        acknowledged.submission_state != SubmissionState.REJECTED,
                    ),
                    _without_live(EventCode.RECIBO_BIEN),
                )
                .order_by(ReceivedDocument.id)
                .limit(limit)
            ).scalars()
        )
    return _emit_all(sessions, ctx, ids, EventCode.RECIBO_BIEN, actor, now())
