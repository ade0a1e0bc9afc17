"""What a batch writes: its documents (inserted together, then linked to the notes and events that waited for them),
the blobs its rows name (stored in one go before the commit) and its audit entries (inserted in one statement)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from dian.codes import EventCode
from dian.rules import sender_refusal
from inbox.intake.known import OnFile
from inbox.intake.reasons import REASON_TEXT
from inbox.intake.terms import Result
from inbox.intake.tx import Tx
from store import audit, locks
from store.blobs import BlobStore
from store.models import Direction, DocumentEvent, LooseAnswer, QuarantineReason, ReceivedDocument, SubmissionState

_DOCS = ReceivedDocument.__table__
_EVENTS = DocumentEvent.__table__
_LOOSE = LooseAnswer.__table__
_BOGOTA = timedelta(hours=5)  # Colombia keeps UTC-5 all year
_INSERT_DOCS = _DOCS.insert().returning(_DOCS.c.id, sort_by_parameter_order=True)
# A note that arrived before its invoice, and events seen before it, now point at it.
_LINK_NOTES = (
    _DOCS.update()
    .where(_DOCS.c.referenced_cufe == sa.bindparam("linked_cufe"), _DOCS.c.referenced_document_id.is_(None))
    .values(referenced_document_id=sa.bindparam("linked_id"))
)
_LINK_EVENTS = (
    _EVENTS.update()
    .where(_EVENTS.c.referenced_cufe == sa.bindparam("linked_cufe"), _EVENTS.c.document_id.is_(None))
    .values(document_id=sa.bindparam("linked_id"))
)
# Events seen before their invoice, pending DIAN's confirmation, weighed against the invoice once it is on file: one
# its SenderParty may not send is refused (DIAN's own listing, in the sync job, still outranks this).
_LINKED_PENDING = sa.select(_EVENTS.c.id, _EVENTS.c.code, _EVENTS.c.sender_nit, _EVENTS.c.cude).where(
    _EVENTS.c.document_id == sa.bindparam("linked_id"),
    _EVENTS.c.direction == Direction.OBSERVED.value,
    _EVENTS.c.submission_state != SubmissionState.REGISTERED.value,
)
_REFUSE_EVENT = (
    _EVENTS.update()
    .where(_EVENTS.c.id == sa.bindparam("refused_id"))
    .values(submission_state=SubmissionState.REJECTED, note=sa.bindparam("refused_note"))
)
# DIAN's answers that arrived on their own, matched to their document now on file.
MATCH_LOOSE = (
    _LOOSE.update()
    .where(_LOOSE.c.cufe == sa.bindparam("loose_cufe"), _LOOSE.c.document_id.is_(None))
    .values(document_id=sa.bindparam("loose_document"), outcome=sa.bindparam("loose_outcome"))
)


@dataclass
class Filing:
    """A document the batch files: inserted with the others in one statement (``Writes.flush``), then linked."""

    row: dict[str, Any] = field(repr=False)
    on_file: OnFile
    result: Result
    audit_slot: int
    audit: dict[str, Any]
    link_notes: bool
    link_events: bool
    loose_outcome: str | None = None  # DIAN answers that waited for this document: what weighing them concluded


@dataclass
class Writes:
    """What a batch writes: its documents (inserted together), the blobs its rows name (stored in one go before the
    commit) and its audit entries (inserted in one statement)."""

    now: datetime
    actor: str
    parts: dict[str, bytes] = field(default_factory=dict, repr=False)
    audits: list[dict[str, Any] | None] = field(default_factory=list)
    relink: set[str] = field(default_factory=set)  # CUFEs filed, or referred to and not found on file
    filings: list[Filing] = field(default_factory=list)

    def stage(self, data: bytes | None) -> str | None:
        """The key the bytes will be stored under (None for no bytes)."""
        if not data:
            return None
        key = BlobStore.key_of(data)
        self.parts.setdefault(key, data)
        return key

    def audit(self, action: str, subject: str, data: dict[str, Any], slot: int | None = None) -> None:
        """An audit entry of the inbox (what store.audit.record adds; the log's guards refuse updates and deletes),
        in its place in the batch's order (``slot``, when it was reserved)."""
        entry = audit.entry(actor=self.actor, action=action, subject=subject, source="inbox", data=data, at=self.now)
        if slot is None:
            self.audits.append(entry)
        else:
            self.audits[slot] = entry

    def reserve(self) -> int:
        """A place for an audit entry written later (when the id it names is known)."""
        self.audits.append(None)
        return len(self.audits) - 1

    def flush(self, conn: Tx) -> None:
        """Insert the documents filed so far (one statement), then link the notes and events that waited for them."""
        filings, self.filings = self.filings, []
        if not filings:
            return
        # Another intake process filing documents of the same supplier and month updates the same monthly totals
        # rows (the triggers of migration 0009) and, for the same invoice, the same CUFE index entry: each waits for
        # the other's commit, and two batches taking those rows in different orders would deadlock on PostgreSQL.
        # Both first take a lock per (supplier, month), in one order (store.locks), so one simply waits.
        locks.lock_for_transaction(conn, [_totals_lock(f.row) for f in filings])
        # The CUFE's unique constraint speaks here when a concurrent intake filed one of them first.
        ids = conn.execute(_INSERT_DOCS, [f.row for f in filings]).scalars().all()
        for filing, document_id in zip(filings, ids, strict=True):
            filing.on_file.id = document_id
            cufe = filing.row["cufe"]
            link = {"linked_cufe": cufe, "linked_id": document_id}
            if filing.link_notes:
                conn.execute(_LINK_NOTES, link)
            if filing.link_events and conn.execute(_LINK_EVENTS, link).rowcount:
                filing.result.touched.append(document_id)
                self._refuse_unentitled(conn, filing.row, document_id)
            if filing.loose_outcome is not None:
                conn.execute(MATCH_LOOSE, {"loose_cufe": cufe, "loose_document": document_id,
                                           "loose_outcome": filing.loose_outcome})  # fmt: skip
            self.audit("document.filed", cufe, {**filing.audit, "document_id": document_id}, slot=filing.audit_slot)

    def _refuse_unentitled(self, conn: Tx, row: dict[str, Any], document_id: int) -> None:
        """The events that waited for this invoice, checked now against its seller and buyer (dian.rules)."""
        for event_id, code, sender, cude in conn.execute(_LINKED_PENDING, {"linked_id": document_id}):
            refusal = sender_refusal(EventCode(code), sender or "", seller_nit=row["issuer_nit"],
                                     buyer_nit=row["buyer_nit"])  # fmt: skip
            if refusal is None:
                continue
            note = f"{REASON_TEXT[QuarantineReason.FORGED]}: {refusal}"
            conn.execute(_REFUSE_EVENT, {"refused_id": event_id, "refused_note": note})
            self.audit("document.event.refused", row["cufe"],
                       {"document_id": document_id, "event_id": event_id, "cude": cude, "reason": refusal})  # fmt: skip


def _totals_lock(row: dict[str, Any]) -> int:
    """The lock of the monthly totals a document's row updates: its supplier and its Bogotá month (UTC-5)."""
    issued = row.get("issued_at")
    month = f"{issued - _BOGOTA:%Y-%m}" if isinstance(issued, datetime) else ""
    return locks.key("totals", row.get("issuer_nit") or "", month)


def clip(value: str | None, length: int) -> str | None:
    """A value cut to its column's length."""
    return None if value is None else value[:length]
