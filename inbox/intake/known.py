"""What a batch knows of the files: the dedupe look-ups, read for all its CUFEs and CUDEs in one round trip before
its messages are decided, and kept up to date with the batch's own writes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import sqlalchemy as sa

from dian.codes import DocumentType
from dian.ubl import ApplicationResponse, CommercialDocument
from inbox.intake.plan import Plan
from inbox.intake.tx import Tx
from store.models import DocumentEvent, LooseAnswer, OutboundDocument, ReceivedDocument

_DOCS = ReceivedDocument.__table__
_OUT = OutboundDocument.__table__
_EVENTS = DocumentEvent.__table__
_LOOSE = LooseAnswer.__table__
# What a batch reads of the files before deciding, in one round trip: the documents on file under the CUFEs it names
# (its documents', those its notes reference, those its events are about), which CUFEs it files have notes or events
# waiting to be linked to them (they arrived first), and which of its events' CUDEs are already recorded.
_FILING = sa.bindparam("filing", expanding=True)
_NULLS = (sa.null(), sa.null(), sa.null(), sa.null(), sa.null())
# The documents on file under the numbers and suppliers of the batch's documents, read through the number's index (a
# row value IN is a table scan on SQLite, and a supplier's index walks all its documents: "|| ''" keeps the planners
# off it); the pairs that match are picked in Python: another CUFE under a document's own (supplier, number) is a
# number used twice (columns: its CUFE, id, number, supplier, type).
_NUMBERS = sa.select(
    sa.literal_column("'number'"), _DOCS.c.cufe, _DOCS.c.id, _DOCS.c.number, _DOCS.c.issuer_nit,
    _DOCS.c.document_type, sa.null(),
).where(
    _DOCS.c.number.in_(sa.bindparam("numbers", expanding=True)),
    (_DOCS.c.issuer_nit + "").in_(sa.bindparam("issuers", expanding=True)),
)  # fmt: skip
_KNOWN = sa.union_all(
    sa.select(
        sa.literal_column("'document'"), _DOCS.c.cufe, _DOCS.c.id, _DOCS.c.signed_xml_blob, _DOCS.c.issuer_nit,
        _DOCS.c.buyer_nit, _DOCS.c.verdict,
    ).where(_DOCS.c.cufe.in_(sa.bindparam("cufes", expanding=True))),
    sa.select(sa.literal_column("'note'"), _DOCS.c.referenced_cufe, *_NULLS).where(
        _DOCS.c.referenced_cufe.in_(_FILING), _DOCS.c.referenced_document_id.is_(None)
    ),
    sa.select(sa.literal_column("'event'"), _EVENTS.c.referenced_cufe, *_NULLS).where(
        _EVENTS.c.referenced_cufe.in_(_FILING), _EVENTS.c.document_id.is_(None)
    ),
    sa.select(sa.literal_column("'cude'"), _EVENTS.c.cude, *_NULLS).where(
        _EVENTS.c.cude.in_(sa.bindparam("cudes", expanding=True))
    ),
    # Our own invoices (issued or imported) under the CUFEs: the buyer's events on them are receivables' events.
    sa.select(sa.literal_column("'outbound'"), _OUT.c.cufe, _OUT.c.id, sa.null(), sa.null(), _OUT.c.buyer_nit,
              sa.null()).where(_OUT.c.cufe.in_(sa.bindparam("cufes", expanding=True))),
    # DIAN's answers that arrived on their own before their document (kept until it is on file).
    sa.select(sa.literal_column("'answer'"), _LOOSE.c.cufe, sa.null(), _LOOSE.c.blob_key, *_NULLS[:3]).where(
        _LOOSE.c.cufe.in_(_FILING), _LOOSE.c.document_id.is_(None)
    ),
    _NUMBERS,
)  # fmt: skip


NumberKey = tuple[str, str, str]  # (supplier NIT, "invoice" or the note's type, number): one numbering


def number_key(nit: str, document_type: DocumentType, number: str) -> NumberKey:
    """The numbering a document's number belongs to: a supplier's invoices (sale, export, contingency) share one, each
    kind of note has its own."""
    return nit, document_type.numbering, number


@dataclass
class OnFile:
    """A document on file under a CUFE, as the batch knows it; ``id`` is None while the batch's insert of it waits."""

    id: int | None
    blob: str | None
    issuer_nit: str | None = None
    buyer_nit: str | None = None
    verdict: str | None = None


class Pending(Protocol):
    """The batch's writes (``writes.Writes``): documents filed by the batch and not inserted yet."""

    def flush(self, conn: Tx) -> None:
        """Insert the documents filed so far."""


class Known:
    """What the batch knows of the files: read for all its CUFEs and CUDEs in one round trip before deciding, then
    kept up to date with the batch's own writes, so that each message is decided as if the ones before it in the
    batch had been committed (a CUFE met twice is filed once; a note or event met before its invoice is linked)."""

    def __init__(self, conn: Tx, plans: Iterable[Plan], writes: Pending) -> None:
        self.conn = conn
        self.writes = writes
        cufes: set[str] = set()
        filing: set[str] = set()
        cudes: set[str] = set()
        numbers: set[tuple[str, str]] = set()
        for plan in plans:
            for item in plan.items:
                if item.reason is not None or item.cufe is None:
                    continue
                cufes.add(item.cufe)
                if item.kind == "document":
                    assert item.report is not None and item.report.document is not None
                    filing.add(item.cufe)
                    numbers.add((item.report.document.supplier.nit, item.report.document.number))
                    if referenced := referenced_cufe(item.report.document):
                        cufes.add(referenced)
                elif item.event is not None and (event_cude := cude(item.event)):
                    cudes.add(event_cude)
                elif item.kind == "answer":
                    filing.add(item.cufe)
        self.documents: dict[str, OnFile] = {}
        self.outbound: dict[str, OnFile] = {}  # our own invoices under the batch's CUFEs (issuer_nit unset: ours)
        self.waiting_notes: set[str] = set()  # CUFEs that notes on file reference without being linked to them
        self.waiting_events: set[str] = set()  # CUFEs that events on file are about without being linked to them
        self.cudes: set[str] = set()  # CUDEs of events on file
        self.answers: dict[str, list[str]] = {}  # CUFE -> blobs of DIAN answers that arrived before the document
        self.numbers: dict[NumberKey, dict[str, int | None]] = {}  # numbering -> {CUFE: id} of the documents on file
        if not cufes and not cudes:
            return
        rows = conn.execute(_KNOWN, {"cufes": sorted(cufes), "filing": sorted(filing), "cudes": sorted(cudes),
                                     "numbers": sorted({n for _, n in numbers}),
                                     "issuers": sorted({nit for nit, _ in numbers})})  # fmt: skip
        for what, key, document_id, blob, issuer, buyer, verdict in rows:
            if what == "number":
                self.filed_number(number_key(issuer, DocumentType(buyer), blob), key, document_id)
            elif what == "document":
                self.documents[key] = OnFile(document_id, blob, issuer, buyer, verdict)
            elif what == "outbound":
                self.outbound[key] = OnFile(document_id, None, None, buyer)
            elif what == "answer":
                self.answers.setdefault(key, []).append(blob)
            elif what == "note":
                self.waiting_notes.add(key)
            elif what == "event":
                self.waiting_events.add(key)
            else:
                self.cudes.add(key)

    def filed_number(self, key: NumberKey, cufe: str, document_id: int | None) -> None:
        """A document on file (or filed by the batch) under this numbering."""
        self.numbers.setdefault(key, {})[cufe] = document_id

    def id_of(self, cufe: str) -> int | None:
        """The id of the document on file under cufe (inserting the batch's documents first if it is one of them)."""
        on_file = self.documents.get(cufe)
        if on_file is not None and on_file.id is None:
            self.writes.flush(self.conn)
        return on_file.id if on_file is not None else None


def referenced_cufe(document: CommercialDocument) -> str | None:
    """The CUFE of the document a note references (its first billing reference that names one)."""
    return next((r.uuid.strip().lower() for r in document.billing_references if r.uuid), None)


def cude(event: ApplicationResponse) -> str | None:
    """The CUDE of an event, as intake keys it."""
    return (event.uuid or "").strip().lower() or None
