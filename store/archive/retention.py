"""Retention and legal holds: how long every raw byte is kept, what a hold keeps longer, and what a purge would touch.

Every raw byte of a document (its signed XML, the AttachedDocument, DIAN's answer, the PDF, the events and their
answers) is kept at least five years from 1 January after the document's year (Estatuto Tributario art. 632 and
DIAN's five-year keeping of electronic invoices): ``retention_until``. A legal hold keeps what it covers past that,
until it is released; holds are released, never deleted, and every change is audited.

Nothing is ever deleted by default: ``purge_candidates`` only lists what a purge WOULD remove — the documents past
retention that no active hold covers, and their blobs that no kept row references. There is no deleting purge.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from store import audit
from store.models import (
    DocumentEvent,
    LegalHold,
    LooseAnswer,
    MailMessage,
    OutboundDocument,
    ReceivedDocument,
    utcnow,
)

RETENTION_YEARS = 5
SCOPES = ("document", "supplier", "period")
CHUNK = 500


def retention_until(issue_date: dt.date | None) -> dt.date | None:
    """The first day the document's bytes may go: 1 January after its year, plus five years."""
    if issue_date is None:
        return None
    return dt.date(issue_date.year + 1 + RETENTION_YEARS, 1, 1)


def retention_cutoff(today: dt.date) -> dt.date:
    """Documents issued before this day are past retention on ``today``."""
    return dt.date(today.year - RETENTION_YEARS, 1, 1)


class HoldError(ValueError):
    """A hold that cannot be placed or released; the message names the value."""


def add_hold(
    session: Session,
    *,
    scope: str,
    reason: str,
    actor: str,
    cufe: str | None = None,
    nit: str | None = None,
    period_from: dt.date | None = None,
    period_to: dt.date | None = None,
) -> LegalHold:
    """Place a hold (flushed, audited as ``archive.hold.added``; the caller commits)."""
    if scope not in SCOPES:
        raise HoldError(f"scope {scope!r}: expected one of {', '.join(SCOPES)}")
    reason = (reason or "").strip()
    if not reason:
        raise HoldError("reason: a legal hold needs a reason")
    given = {"document": bool(cufe), "supplier": bool(nit), "period": bool(period_from and period_to)}
    if not given[scope] or any(v for k, v in given.items() if k != scope):
        wanted = {"document": "--cufe", "supplier": "--nit", "period": "--from and --to"}[scope]
        raise HoldError(f"a {scope} hold takes {wanted}, and nothing else")
    if scope == "period" and period_from > period_to:  # type: ignore[operator]
        raise HoldError(f"period: {period_from} is after {period_to}")
    hold = LegalHold(scope=scope, cufe=cufe.strip().lower() if cufe else None, nit=nit.strip() if nit else None,
                     period_from=period_from, period_to=period_to, reason=reason[:2000], held_by=actor,
                     held_at=utcnow())  # fmt: skip
    session.add(hold)
    session.flush()
    audit.record(session, actor=actor, action="archive.hold.added", subject=f"hold:{hold.id}", data=describe(hold))
    return hold


def release_hold(session: Session, hold_id: int, *, reason: str, actor: str) -> LegalHold:
    """Release an active hold (audited as ``archive.hold.released``; the caller commits)."""
    hold = session.get(LegalHold, hold_id, with_for_update=True)
    if hold is None:
        raise HoldError(f"hold {hold_id} does not exist")
    if hold.released_at is not None:
        raise HoldError(f"hold {hold_id} was already released on {hold.released_at:%Y-%m-%d} by {hold.released_by}")
    reason = (reason or "").strip()
    if not reason:
        raise HoldError("reason: releasing a legal hold needs a reason")
    hold.released_at, hold.released_by, hold.release_reason = utcnow(), actor, reason[:2000]
    audit.record(session, actor=actor, action="archive.hold.released", subject=f"hold:{hold.id}",
                 data={**describe(hold), "release_reason": hold.release_reason})  # fmt: skip
    return hold


def list_holds(session: Session, *, include_released: bool = False) -> list[LegalHold]:
    """The holds, oldest first (holds are few: a list, not a stream)."""
    query = sa.select(LegalHold).order_by(LegalHold.id)
    if not include_released:
        query = query.where(LegalHold.released_at.is_(None))
    return list(session.execute(query).scalars())


def describe(hold: LegalHold) -> dict[str, str]:
    """What a hold covers, as the audit entry and the command print it."""
    what = {"document": f"cufe={hold.cufe}", "supplier": f"nit={hold.nit}",
            "period": f"{hold.period_from}..{hold.period_to}"}[hold.scope]  # fmt: skip
    return {"scope": hold.scope, "what": what, "reason": hold.reason, "held_by": hold.held_by}


# -- the purge's dry run ------------------------------------------------------------------------------------------


def _held(holds: Sequence[LegalHold], *, cufe: sa.ColumnElement, date: sa.ColumnElement,
          nit: sa.ColumnElement | None) -> sa.ColumnElement[bool]:  # fmt: skip
    """SQL: the row is covered by one of the active holds (holds are few, so they are written into the query)."""
    terms: list[sa.ColumnElement[bool]] = []
    cufes = [h.cufe for h in holds if h.scope == "document" and h.cufe]
    if cufes:
        terms.append(sa.func.lower(cufe).in_(cufes))
    nits = [h.nit for h in holds if h.scope == "supplier" and h.nit]
    if nits and nit is not None:
        terms.append(nit.in_(nits))
    for h in holds:
        if h.scope == "period":
            terms.append(date.between(h.period_from, h.period_to))
    return sa.or_(*terms) if terms else sa.false()


def _expired_received(holds: Sequence[LegalHold], cutoff: dt.date) -> sa.ColumnElement[bool]:
    r = ReceivedDocument
    return sa.and_(r.issue_date < cutoff, sa.not_(_held(holds, cufe=r.cufe, date=r.issue_date, nit=r.issuer_nit)))


def _expired_outbound(holds: Sequence[LegalHold], cutoff: dt.date) -> sa.ColumnElement[bool]:
    o = OutboundDocument
    return sa.and_(o.issue_date.is_not(None), o.issue_date < cutoff,
                   sa.not_(_held(holds, cufe=sa.func.coalesce(o.cufe, ""), date=o.issue_date, nit=None)))  # fmt: skip


@dataclass(frozen=True)
class Candidate:
    """One row a purge would remove, or one blob no kept row references."""

    kind: str  # "received" | "issued" | "blob"
    ident: str  # the row's id, or the blob's key
    label: str  # number and CUFE, or the size
    retention_until: dt.date | None = None


def _kept_reference(session: Session, keys: list[str], holds: Sequence[LegalHold], cutoff: dt.date) -> set[str]:
    """Those of ``keys`` that some row that is kept references (conservative: mail and loose answers always keep)."""
    r, o, e = ReceivedDocument, OutboundDocument, DocumentEvent
    kept_r = sa.not_(_expired_received(holds, cutoff))
    kept_o = sa.not_(_expired_outbound(holds, cutoff))
    found: set[str] = set()
    for column in (r.signed_xml_blob, r.attached_blob, r.dian_response_blob, r.pdf_blob, r.zip_blob):
        found.update(session.execute(sa.select(column).where(column.in_(keys), kept_r)).scalars())
    for column in (o.xml_blob, o.dian_response_blob, o.attached_blob, o.pdf_blob):
        found.update(session.execute(sa.select(column).where(column.in_(keys), kept_o)).scalars())
    for column in (e.signed_xml_blob, e.dian_response_blob):
        # An event is kept unless its document is purged: events of no document, or of a kept one, keep.
        purged_r = sa.select(r.id).where(_expired_received(holds, cutoff))
        purged_o = sa.select(o.id).where(_expired_outbound(holds, cutoff))
        gone = sa.or_(e.document_id.in_(purged_r), e.outbound_document_id.in_(purged_o))
        found.update(session.execute(sa.select(column).where(column.in_(keys), sa.not_(gone))).scalars())
    # A mail's raw bytes and a loose answer are not a document's: the purge never removes them (they keep).
    for column in (MailMessage.blob_key, LooseAnswer.blob_key):
        found.update(session.execute(sa.select(column).where(column.in_(keys))).scalars())
    return found


def _chunks(items: Iterable[str], size: int = CHUNK) -> Iterator[list[str]]:
    chunk: list[str] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def purge_candidates(session: Session, *, today: dt.date) -> Iterator[Candidate]:
    """What a purge would remove on ``today``: the documents past retention and under no active hold (with their
    events), then the blobs only they reference, each once. Streams; nothing is deleted."""
    holds = list_holds(session)
    cutoff = retention_cutoff(today)
    r, o, e = ReceivedDocument, OutboundDocument, DocumentEvent
    purged_r, purged_o = _expired_received(holds, cutoff), _expired_outbound(holds, cutoff)
    query = sa.select(r.id, r.number, r.cufe, r.issue_date).where(purged_r).order_by(r.id)
    for row in session.execute(query.execution_options(yield_per=CHUNK)):
        yield Candidate("received", str(row.id), f"{row.number} {row.cufe}", retention_until(row.issue_date))
    query = sa.select(o.id, o.number, o.cufe, o.issue_date).where(purged_o).order_by(o.id)
    for row in session.execute(query.execution_options(yield_per=CHUNK)):
        yield Candidate("issued", str(row.id), f"{row.number} {row.cufe or ''}", retention_until(row.issue_date))
    # Every blob the purged rows name, each once (the UNION is the database's work, not a set here), in key order.
    gone_events = sa.or_(e.document_id.in_(sa.select(r.id).where(purged_r)),
                         e.outbound_document_id.in_(sa.select(o.id).where(purged_o)))  # fmt: skip
    named = [
        *(sa.select(c.label("k")).where(purged_r, c.is_not(None))
          for c in (r.signed_xml_blob, r.attached_blob, r.dian_response_blob, r.pdf_blob, r.zip_blob)),
        *(sa.select(c.label("k")).where(purged_o, c.is_not(None))
          for c in (o.xml_blob, o.dian_response_blob, o.attached_blob, o.pdf_blob)),
        *(sa.select(c.label("k")).where(gone_events, c.is_not(None))
          for c in (e.signed_xml_blob, e.dian_response_blob)),
    ]  # fmt: skip
    keys = sa.union(*named).subquery()
    found = session.execute(sa.select(keys.c.k).order_by(keys.c.k).execution_options(yield_per=CHUNK)).scalars()
    for chunk in _chunks(found):
        kept = _kept_reference(session, chunk, holds, cutoff)
        for key in chunk:
            if key not in kept:
                yield Candidate("blob", key, "")
