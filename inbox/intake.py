"""Intake: store a message's raw bytes, find the documents inside, verify them, then file or quarantine — once.

The steps of one message, in order (each is a place where a crash must lose nothing and duplicate nothing):

``fetched``      the bytes are in memory, nothing stored yet
``stored``       the raw bytes are a blob (content-addressed: storing them again is harmless)
``recorded``     the MailMessage row is committed with status ``pending``
``verified``     the documents are verified; nothing of the outcome is written yet
``parts_stored`` the signed XML, DIAN's answer, the container and the PDF are blobs
``committed``    the outcome (documents, events, status, audit entries) is committed in one transaction
``settled``      the source moved or flagged the message (only ever after ``committed``)

Sources hand intake a batch of messages at a time (``take_many``; ``take`` is a batch of one): the batch's raw bytes
are stored in one blob transaction and its mail rows committed together, then its outcomes are committed together,
so the database's round trips and commits are paid per batch, not per message. Each step above is then reached by
every message of the batch before the next step begins; a crash anywhere still loses and doubles nothing, because
every step is idempotent and a recorded message that is still pending is processed again by the next run.

A message is identified by (mailbox, UIDVALIDITY, UID) when the source has UIDs, else by (mailbox, SHA-256 of its
bytes). A message seen again with the same Message-ID and the same bytes is a duplicate; a document is unique by its
CUFE/CUDE, so the same invoice mailed twice is filed once. Nothing here reads files, the environment or the clock:
the session factory, the blob store, the clock and the policy are handed in.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from email.message import Message
from typing import Any, Literal, Protocol

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from dian.codes import DIAN_NIT, ClaimReason, DocumentState, EventCode
from dian.errors import ParseError
from dian.nit import nit_digits
from dian.proof import DianKeys, LearnedCertificate, Level, OnlineAnswer, confirm_online
from dian.reception import ONLINE_SETTLED, ReceptionReport, settle_confirmed, verify_received
from dian.rules import sender_refusal
from dian.trust import TrustStore
from dian.ubl import ApplicationResponse, CommercialDocument, TaxTotal
from dian.xades import Check, Outcome, Verdict, verdict_of
from dian.xmlsafe import parse_xml
from inbox.faults import lost_connection, one_line, storable
from inbox.unpack import Limits, Part, UnpackError, is_mail, mail_info, parse_mail, unpack
from store import audit
from store.blobs import BlobStore
from store.dian_certificates import learn, learned_pins
from store.models import (
    Direction,
    DocumentEvent,
    LooseAnswer,
    MailMessage,
    MailStatus,
    QuarantineReason,
    ReceivedDocument,
    SubmissionState,
)
from store.models import Verdict as StoredVerdict

# The statements of every message, built once (Core, not the ORM: a message is a handful of rows, and the ORM's
# unit of work cost more than the SQL itself).
_MAILS = MailMessage.__table__
_DOCS = ReceivedDocument.__table__
_EVENTS = DocumentEvent.__table__
# Many mail rows in one statement, their ids back in the order of the rows.
_INSERT_MAILS = _MAILS.insert().returning(_MAILS.c.id, sort_by_parameter_order=True)
_INSERT_DOCS = _DOCS.insert().returning(_DOCS.c.id, sort_by_parameter_order=True)
_INSERT_EVENT = _EVENTS.insert()
_MAIL_BY_UID = (
    sa.select(_MAILS.c.id, _MAILS.c.status)
    .where(
        _MAILS.c.mailbox == sa.bindparam("mailbox"),
        _MAILS.c.uidvalidity == sa.bindparam("uidvalidity"),
        _MAILS.c.uid == sa.bindparam("uid"),
    )
    .order_by(_MAILS.c.id)
    .limit(1)
)
_MAIL_BY_KEY = (
    sa.select(_MAILS.c.id, _MAILS.c.status)
    .where(
        _MAILS.c.mailbox == sa.bindparam("mailbox"), _MAILS.c.uid.is_(None), _MAILS.c.blob_key == sa.bindparam("key")
    )
    .order_by(_MAILS.c.id)
    .limit(1)
)
_EARLIER = _MAILS.alias("earlier")
# The messages of a batch, locked for this process (those another holds are skipped), each with the first message
# already decided that has the same Message-ID and the same bytes (a copy of the same mail), in one round trip.
_LOCK_MAILS = (
    sa.select(
        _MAILS.c.id,
        _MAILS.c.status,
        _MAILS.c.blob_key,
        _MAILS.c.message_id,
        _MAILS.c.subject,
        sa.select(_EARLIER.c.id)
        .where(
            _EARLIER.c.message_id == _MAILS.c.message_id,
            _EARLIER.c.blob_key == _MAILS.c.blob_key,
            _EARLIER.c.id != _MAILS.c.id,
            _EARLIER.c.status != MailStatus.PENDING,
        )
        .order_by(_EARLIER.c.id)
        .limit(1)
        .scalar_subquery()
        .label("earlier"),
    )
    .where(_MAILS.c.id.in_(sa.bindparam("mail_ids", expanding=True)))
    .order_by(_MAILS.c.id)
    .with_for_update(skip_locked=True, of=_MAILS)
)
_SETTLE_MAIL = (
    _MAILS.update()
    .where(_MAILS.c.id == sa.bindparam("settled_id"))
    .values(status=sa.bindparam("new_status"), reason=sa.bindparam("new_reason"), reason_detail=sa.bindparam("detail"))
)
# What a batch reads of the files before deciding, in one round trip: the documents on file under the CUFEs it names
# (its documents', those its notes reference, those its events are about), which CUFEs it files have notes or events
# waiting to be linked to them (they arrived first), and which of its events' CUDEs are already recorded.
_FILING = sa.bindparam("filing", expanding=True)
_LOOSE = LooseAnswer.__table__
_NULLS = (sa.null(), sa.null(), sa.null(), sa.null(), sa.null())
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
    # DIAN's answers that arrived on their own before their document (kept until it is on file).
    sa.select(sa.literal_column("'answer'"), _LOOSE.c.cufe, sa.null(), _LOOSE.c.blob_key, *_NULLS[:3]).where(
        _LOOSE.c.cufe.in_(_FILING), _LOOSE.c.document_id.is_(None)
    ),
)  # fmt: skip
_MATCH_LOOSE = (
    _LOOSE.update()
    .where(_LOOSE.c.cufe == sa.bindparam("loose_cufe"), _LOOSE.c.document_id.is_(None))
    .values(document_id=sa.bindparam("loose_document"), outcome=sa.bindparam("loose_outcome"))
)
_CONFIRM_DOC = (
    _DOCS.update()
    .where(_DOCS.c.id == sa.bindparam("confirmed_id"), _DOCS.c.verdict == Verdict.UNCONFIRMED.value)
    .values(
        verdict=sa.bindparam("new_verdict"),
        report=sa.bindparam("new_report"),
        dian_response_blob=sa.bindparam("new_answer"),
        state=sa.case((_DOCS.c.state == DocumentState.UNCONFIRMED.value, DocumentState.VALIDATED.value),
                      else_=_DOCS.c.state),
    )
)  # fmt: skip
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
# After the commit, for the CUFEs a batch filed or referred to without finding: notes and events still unlinked whose
# document is now on file point at it. A concurrent intake may have filed a note (or an event) while our invoice was
# in flight, or the invoice while our note was: neither transaction saw the other, and whichever commits second links
# them here.
_ON_FILE = _DOCS.alias("on_file")


def _relink_statement(table: sa.Table, link: sa.Column[Any]) -> sa.Update:
    target = sa.select(_ON_FILE.c.id).where(_ON_FILE.c.cufe == table.c.referenced_cufe).scalar_subquery()
    return (
        table.update()
        .where(link.is_(None), table.c.referenced_cufe.in_(sa.bindparam("cufes", expanding=True)), target.is_not(None))
        .values({link.name: target})
    )


_RELINK_NOTES = _relink_statement(_DOCS, _DOCS.c.referenced_document_id)
_RELINK_EVENTS = _relink_statement(_EVENTS, _EVENTS.c.document_id).returning(_EVENTS.c.document_id)

STEPS = ("fetched", "stored", "recorded", "verified", "parts_stored", "committed", "settled")
ACTOR = "system:intake"
log = logging.getLogger("buzon.intake")
_COMMERCIAL_KINDS = {"attached_document", "invoice", "credit_note", "debit_note"}

# What a clerk reads on the quarantine screen (es-CO), one sentence per reason code.
REASON_TEXT = {
    QuarantineReason.NOT_FOR_US: "El documento no está dirigido a nuestro NIT",
    QuarantineReason.SIGNATURE_INVALID: "La firma del documento no es válida",
    QuarantineReason.NOT_VALIDATED: "El documento no está validado por la DIAN",
    QuarantineReason.NO_DOCUMENT: "El correo no trae ningún documento electrónico",
    QuarantineReason.DUPLICATE: "Ya existe un documento con el mismo CUFE y contenido distinto",
    QuarantineReason.TOO_LARGE: "El correo o sus adjuntos superan el tamaño permitido",
    QuarantineReason.UNREADABLE: "El adjunto no se puede leer",
    QuarantineReason.INTERNAL_ERROR: "Error interno al procesar el correo",
    QuarantineReason.FORGED: "El evento o la respuesta de DIAN no corresponde a quien dice enviarlo",
}


@dataclass(frozen=True)
class Envelope:
    """One message as a source hands it over: its bytes and where it came from.

    ``oversize`` is the real size when the source refused to download a message larger than the limit; ``data``
    then holds only its headers, and intake quarantines it as too large (the message itself stays in the mailbox).
    """

    mailbox: str
    data: bytes = field(repr=False)
    name: str = "message.eml"
    uidvalidity: int | None = None
    uid: int | None = None
    received_at: datetime | None = None
    oversize: int | None = None


@dataclass(frozen=True)
class IntakePolicy:
    """What intake checks against: our NIT, the trust store, DIAN pins, limits and the optional online check.

    ``online_check(cufe)`` returns DIAN's ``dian.proof.OnlineAnswer`` (GetStatus and DIAN's copy of the document),
    asked only for documents whose DIAN validation is not proven offline; ``dian.proof.confirm_online`` weighs it:
    confirmed files the document as validated (and teaches DIAN's certificate), refused quarantines it as not
    validated, and 98/66 or an exception leave it "sin confirmar" for the confirmation job.
    """

    our_nit: str
    trust: TrustStore
    dian_pins: tuple[str, ...] = ()
    max_message_bytes: int = 10 * 1024 * 1024
    limits: Limits = field(default_factory=Limits)
    online_check: Callable[[str], OnlineAnswer] | None = None
    require_dian_validation: bool = False  # quarantine documents whose DIAN validation stays unproven
    # Called after the commit with the ids of documents whose events changed (an observed event recorded, or events
    # seen earlier linked to a newly filed invoice), so their state is derived again; its failure is logged, and the
    # sync job derives the state again anyway.
    on_documents: Callable[[list[int]], None] | None = None


@dataclass
class Result:
    """What became of one message."""

    mail_id: int
    status: MailStatus
    reason: QuarantineReason | None = None
    detail: str | None = None
    filed: list[str] = field(default_factory=list)  # CUFEs filed from this message
    duplicates: list[str] = field(default_factory=list)  # CUFEs already on file (or the message itself seen)
    events: list[str] = field(default_factory=list)  # CUDEs of the observed events recorded
    confirmed: list[str] = field(default_factory=list)  # CUFEs on file "sin confirmar" that this message proved
    answers: list[str] = field(default_factory=list)  # CUFEs of DIAN answers kept until their document arrives
    touched: list[int] = field(default_factory=list)  # documents whose events changed
    earlier: bool = False  # the outcome was committed by an earlier run; nothing was done now


# --- the decision, computed before anything is written ---------------------------------------------------------


@dataclass
class _Item:
    """One document (or event) found in a message, with what intake decided about it."""

    kind: str  # "document" or "event"
    part: str
    report: ReceptionReport | None = None
    reason: QuarantineReason | None = None
    detail: str = ""
    cufe: str | None = None
    duplicate: bool = False
    extra_checks: list[Check] = field(default_factory=list)
    event: ApplicationResponse | None = None
    event_xml: bytes | None = None
    event_answer_xml: bytes | None = None
    event_registered: bool = False
    event_note: str = ""
    event_signing_time: datetime | None = None  # the event's signed xades:SigningTime (dian-facts 2.2)
    confirmed_online: bool = False  # DIAN's endpoint confirmed the document (dian.proof.confirm_online)
    learned: LearnedCertificate | None = None  # DIAN's certificate that confirmation teaches
    answer_xml: bytes | None = None  # kind "answer": DIAN's validation mailed on its own
    upgrade: ReceptionReport | None = None  # a document on file "sin confirmar" that this item proves
    # Found while deduplicating: notes and events already filed that name this CUFE and wait to be linked to it.
    orphan_notes: bool = False
    orphan_events: bool = False


@dataclass(frozen=True)
class _Received:
    """What receive read of a message, handed straight to process when one run does both (take): the bytes are not
    read back from the blob store and the mail is not parsed twice. After a restart, process reads and parses anew."""

    key: str
    data: bytes = field(repr=False)
    message: Message | None = field(default=None, repr=False)


_Params = dict[str, Any] | list[dict[str, Any]] | None


class _Tx(Protocol):
    """A connection, or a session standing for one: statements, commit, rollback."""

    def execute(self, statement: sa.Executable, parameters: _Params = None, /) -> sa.CursorResult[Any]:
        """Run one statement in the current transaction (begun when needed)."""

    def commit(self) -> None:
        """Commit the current transaction."""

    def rollback(self) -> None:
        """Roll the current transaction back."""


class _SessionTx:
    """A session as a _Tx (its commits may be savepoints of an outer transaction)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def execute(self, statement: sa.Executable, parameters: _Params = None, /) -> sa.CursorResult[Any]:
        return self.session.connection().execute(statement, parameters)

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()


@dataclass
class _Mail:
    """The message being processed, as locked, and the outcome decided for it (written by one UPDATE)."""

    id: int
    status: MailStatus
    blob_key: str
    message_id: str | None
    subject: str
    earlier: int | None = None  # a decided copy of the same mail (same Message-ID and bytes)
    reason: QuarantineReason | None = None
    reason_detail: str | None = None


@dataclass
class _Plan:
    items: list[_Item] = field(default_factory=list)
    pdf: bytes | None = None
    containers: dict[str, bytes] = field(default_factory=dict)
    reason: QuarantineReason | None = None  # refusal of the message as a whole
    detail: str = ""
    duplicate_of: int | None = None


@dataclass
class _OnFile:
    """A document on file under a CUFE, as the batch knows it; ``id`` is None while the batch's insert of it waits."""

    id: int | None
    blob: str | None
    issuer_nit: str | None = None
    buyer_nit: str | None = None
    verdict: str | None = None


@dataclass
class _Filing:
    """A document the batch files: inserted with the others in one statement (``_Writes.flush``), then linked."""

    row: dict[str, Any] = field(repr=False)
    on_file: _OnFile
    result: Result
    audit_slot: int
    audit: dict[str, Any]
    link_notes: bool
    link_events: bool
    loose_outcome: str | None = None  # DIAN answers that waited for this document: what weighing them concluded


@dataclass
class _Writes:
    """What a batch writes: its documents (inserted together), the blobs its rows name (stored in one go before the
    commit) and its audit entries (inserted in one statement)."""

    now: datetime
    actor: str
    parts: dict[str, bytes] = field(default_factory=dict, repr=False)
    audits: list[dict[str, Any] | None] = field(default_factory=list)
    relink: set[str] = field(default_factory=set)  # CUFEs filed, or referred to and not found on file
    filings: list[_Filing] = field(default_factory=list)

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

    def flush(self, conn: _Tx) -> None:
        """Insert the documents filed so far (one statement), then link the notes and events that waited for them."""
        filings, self.filings = self.filings, []
        if not filings:
            return
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
                conn.execute(_MATCH_LOOSE, {"loose_cufe": cufe, "loose_document": document_id,
                                            "loose_outcome": filing.loose_outcome})  # fmt: skip
            self.audit("document.filed", cufe, {**filing.audit, "document_id": document_id}, slot=filing.audit_slot)

    def _refuse_unentitled(self, conn: _Tx, row: dict[str, Any], document_id: int) -> None:
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


class _Known:
    """What the batch knows of the files: read for all its CUFEs and CUDEs in one round trip before deciding, then
    kept up to date with the batch's own writes, so that each message is decided as if the ones before it in the
    batch had been committed (a CUFE met twice is filed once; a note or event met before its invoice is linked)."""

    def __init__(self, conn: _Tx, plans: Iterable[_Plan], writes: _Writes) -> None:
        self.conn = conn
        self.writes = writes
        cufes: set[str] = set()
        filing: set[str] = set()
        cudes: set[str] = set()
        for plan in plans:
            for item in plan.items:
                if item.reason is not None or item.cufe is None:
                    continue
                cufes.add(item.cufe)
                if item.kind == "document":
                    assert item.report is not None and item.report.document is not None
                    filing.add(item.cufe)
                    if referenced := _referenced(item.report.document):
                        cufes.add(referenced)
                elif item.event is not None and (cude := _cude(item.event)):
                    cudes.add(cude)
                elif item.kind == "answer":
                    filing.add(item.cufe)
        self.documents: dict[str, _OnFile] = {}
        self.waiting_notes: set[str] = set()  # CUFEs that notes on file reference without being linked to them
        self.waiting_events: set[str] = set()  # CUFEs that events on file are about without being linked to them
        self.cudes: set[str] = set()  # CUDEs of events on file
        self.answers: dict[str, list[str]] = {}  # CUFE -> blobs of DIAN answers that arrived before the document
        if not cufes and not cudes:
            return
        rows = conn.execute(_KNOWN, {"cufes": sorted(cufes), "filing": sorted(filing), "cudes": sorted(cudes)})
        for what, key, document_id, blob, issuer, buyer, verdict in rows:
            if what == "document":
                self.documents[key] = _OnFile(document_id, blob, issuer, buyer, verdict)
            elif what == "answer":
                self.answers.setdefault(key, []).append(blob)
            elif what == "note":
                self.waiting_notes.add(key)
            elif what == "event":
                self.waiting_events.add(key)
            else:
                self.cudes.add(key)

    def id_of(self, cufe: str) -> int | None:
        """The id of the document on file under cufe (inserting the batch's documents first if it is one of them)."""
        on_file = self.documents.get(cufe)
        if on_file is not None and on_file.id is None:
            self.writes.flush(self.conn)
        return on_file.id if on_file is not None else None


# Checks on the shape of signed identifiers (dian.reception): their failure is not the signature's.
_SHAPE_CHECKS = frozenset(
    {"document.uuid", "document.reference.uuid", "document.number", "document.supplier.nit", "document.customer.nit"}
)


def quarantine_reason(report: ReceptionReport) -> QuarantineReason | None:
    """The quarantine reason code for a verified document, or None when it may be filed."""
    if report.unreadable:
        return QuarantineReason.UNREADABLE
    if report.verdict != Verdict.INVALID:
        return None
    failed = [c.name for c in report.checks if c.outcome == Outcome.FAIL]
    if report.document is None:
        signature = report.document_signature
        if signature is not None and any(n.startswith("document.") and n != "document.parse" for n in failed):
            return QuarantineReason.SIGNATURE_INVALID
        return QuarantineReason.UNREADABLE
    if any(n.startswith("document.") and n not in _SHAPE_CHECKS for n in failed):
        return QuarantineReason.SIGNATURE_INVALID
    if any(n in _SHAPE_CHECKS for n in failed):
        return QuarantineReason.UNREADABLE  # signed, but an identifier DIAN never issues: the detail names it
    if "buyer.nit" in failed:
        return QuarantineReason.NOT_FOR_US
    if any(n.startswith("dian.") for n in failed):
        return QuarantineReason.NOT_VALIDATED
    return QuarantineReason.UNREADABLE


def _local(xml: bytes) -> str:
    try:
        root = parse_xml(xml)
    except ParseError:
        return ""
    return root.tag.rpartition("}")[2] if isinstance(root.tag, str) else ""


def _clip(value: str | None, length: int) -> str | None:
    return None if value is None else value[:length]


def _first_failure(checks: Iterable[Check]) -> str:
    failed = [c.detail for c in checks if c.outcome == Outcome.FAIL]
    return "; ".join(failed[:3])


class Intake:
    """The intake service; one instance serves a whole poll or import run."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        blobs: BlobStore,
        policy: IntakePolicy,
        *,
        clock: Callable[[], datetime],
        actor: str = ACTOR,
        hook: Callable[[str], None] | None = None,
    ) -> None:
        self.sessions = sessions
        self.blobs = blobs
        self.policy = policy
        self.clock = clock
        self.actor = actor
        self.hook = hook or (lambda step: None)
        self._engine: sa.Engine | Literal[False] | None = None
        self._dian_keys: DianKeys | None = None
        self._refused: set[int] = set()  # mail rows recorded quarantined by this run (_record_refused)

    # --- recording the raw message ------------------------------------------------------------------------------

    def known(self, mailbox: str, uidvalidity: int, uid: int) -> tuple[int, MailStatus] | None:
        """The id and status of the message recorded under (mailbox, UIDVALIDITY, UID), if any."""
        with self.sessions() as s:
            row = s.execute(
                sa.select(MailMessage.id, MailMessage.status).where(
                    MailMessage.mailbox == mailbox, MailMessage.uidvalidity == uidvalidity, MailMessage.uid == uid
                )
            ).first()
        return (row[0], row[1]) if row else None

    def known_uids(self, mailbox: str, uidvalidity: int) -> dict[int, MailStatus]:
        """Every UID recorded for this mailbox and UIDVALIDITY, with its status."""
        with self.sessions() as s:
            rows = s.execute(
                sa.select(MailMessage.uid, MailMessage.status).where(
                    MailMessage.mailbox == mailbox, MailMessage.uidvalidity == uidvalidity
                )
            ).all()
        return {uid: status for uid, status in rows if uid is not None}

    def checkpoint(self, mailbox: str, uidvalidity: int) -> int:
        """The highest UID recorded for this mailbox under this UIDVALIDITY (0 when none: start over)."""
        with self.sessions() as s:
            value = s.execute(
                sa.select(sa.func.max(MailMessage.uid)).where(
                    MailMessage.mailbox == mailbox, MailMessage.uidvalidity == uidvalidity
                )
            ).scalar()
        return int(value or 0)

    def pending(self, mailbox: str | None = None) -> list[int]:
        """Ids of recorded messages not processed yet (a crash after ``recorded``), oldest first."""
        with self.sessions() as s:
            query = sa.select(MailMessage.id).where(MailMessage.status == MailStatus.PENDING)
            if mailbox is not None:
                query = query.where(MailMessage.mailbox == mailbox)
            return list(s.execute(query.order_by(MailMessage.id)).scalars())

    @contextmanager
    def _connect(self) -> Iterator[_Tx]:
        """Where a message's statements go (Core, not the ORM): one connection of the sessions' engine, kept for all
        the transactions of a take, or a session when the sessions are bound to a connection (tests)."""
        if self._engine is None:
            with self.sessions() as s:
                bind = s.get_bind()
            self._engine = bind if isinstance(bind, sa.Engine) else False
        if self._engine is False:
            with self.sessions() as s:
                yield _SessionTx(s)
        else:
            with self._engine.connect() as conn:
                yield conn

    def receive(self, envelope: Envelope) -> tuple[int, MailStatus]:
        """Store the raw bytes and record the message (status pending); a message already recorded is returned."""
        with self._connect() as conn:
            mail_id, status, _ = self._receive(conn, [envelope])[0]
        return mail_id, status

    def _receive(self, conn: _Tx, envelopes: Sequence[Envelope]) -> list[tuple[int, MailStatus, _Received]]:
        """Store the raw bytes of a batch (one blob transaction) and record its messages (one statement, one commit).

        A message recorded already (by UID, or by its bytes when the source has no UIDs) comes back with its id and
        status; a second copy of the same bytes in one batch of such a source is the first one's id.
        """
        for _ in envelopes:
            self.hook("fetched")
        keys = self.blobs.put_many(e.data for e in envelopes)  # durable before the rows that name them commit
        for _ in envelopes:
            self.hook("stored")
        out: list[tuple[int, MailStatus, _Received] | None] = [None] * len(envelopes)
        rows: dict[int, dict[str, Any]] = {}
        received: list[_Received] = []
        copies: dict[tuple[str, str], int] = {}  # (mailbox, key) -> index of its first copy in this batch
        for index, (envelope, key) in enumerate(zip(envelopes, keys, strict=True)):
            row, got = self._mail_row(envelope, key)
            received.append(got)
            if envelope.uid is None:  # no unique constraint names such a message: look it up first
                if copies.setdefault((envelope.mailbox, key), index) != index:
                    continue
                existing = self._existing(conn, envelope, key)
                if existing is not None:
                    out[index] = (*existing, got)
                    continue
            rows[index] = row
        if rows:
            try:
                ids = conn.execute(_INSERT_MAILS, list(rows.values())).scalars().all()
                conn.commit()
            except Exception as exc:
                # A UID recorded already (by an earlier run, or by another intake process between our look-up and our
                # insert), or a row one message's headers spoil: record them one by one. A lost connection waits.
                conn.rollback()
                if lost_connection(exc):
                    raise
                ids = [self._record_one(conn, envelopes[index], keys[index], row) for index, row in rows.items()]
            except BaseException:
                conn.rollback()
                raise
            for index, found in zip(rows, ids, strict=True):
                mail_id, status = found if isinstance(found, tuple) else (found, MailStatus.PENDING)
                out[index] = (mail_id, status, received[index])
                self.hook("recorded")
        else:
            conn.rollback()
        for index, envelope in enumerate(envelopes):
            if out[index] is None:  # a second copy of the same bytes: the first one's message
                first = out[copies[envelope.mailbox, keys[index]]]
                assert first is not None
                out[index] = (first[0], first[1], received[index])
        return [entry for entry in out if entry is not None]

    def _mail_row(self, envelope: Envelope, key: str) -> tuple[dict[str, Any], _Received]:
        info = None
        message = None
        if envelope.oversize is not None or is_mail(envelope.data, envelope.name):
            try:
                message = parse_mail(envelope.data)
                info = mail_info(message)
            except Exception:  # a mangled header must not stop the raw bytes being kept
                info = None
        received = _Received(key, envelope.data, message if envelope.oversize is None else None)

        def text(value: object, length: int) -> str:
            # Whatever a sender put in a header, the row must insert: a NUL, an undecodable byte or a list (two
            # Subject headers) would fail the batch's INSERT, and with it every message of the poll.
            return storable(value if isinstance(value, str) else "")[:length]

        # The Message-ID is indexed: PostgreSQL refuses an index entry past 2,704 bytes, so clip its bytes too.
        message_id = text(info.message_id if info else None, 998).encode()[:998].decode("utf-8", "ignore") or None
        row = {
            "mailbox": text(envelope.mailbox, 300),
            "uidvalidity": envelope.uidvalidity,
            "uid": envelope.uid,
            "message_id": message_id,
            "sender": text(info.sender if info else "", 998),
            "subject": text(info.subject if info else envelope.name, 998),
            "received_at": envelope.received_at or self.clock(),
            "size": envelope.oversize or len(envelope.data),
            "blob_key": key,
            "status": MailStatus.PENDING,
        }
        return row, received

    def _record_one(self, conn: _Tx, envelope: Envelope, key: str, row: dict[str, Any]) -> tuple[int, MailStatus]:
        try:
            mail_id = conn.execute(_INSERT_MAILS, [row]).scalar_one()
            conn.commit()
            return mail_id, MailStatus.PENDING
        except IntegrityError:
            conn.rollback()
            found = self._existing(conn, envelope, key)
            conn.rollback()
            if found is None:
                raise
            return found
        except Exception as exc:
            conn.rollback()
            if lost_connection(exc):
                raise
            return self._record_refused(conn, row, exc)
        except BaseException:
            conn.rollback()
            raise

    def _record_refused(self, conn: _Tx, row: dict[str, Any], failure: Exception) -> tuple[int, MailStatus]:
        """A message whose row the database refuses as its headers made it: recorded without them, quarantined
        (error_interno) with the failure's summary, so the source settles it and the poll goes on; its raw bytes are
        its blob, as for every message."""
        detail = _internal_error(failure)
        log.error("the mail row of blob %s was refused and is quarantined", row["blob_key"], exc_info=failure)
        bare = {"mailbox": storable(str(row["mailbox"]))[:300], "uidvalidity": row["uidvalidity"], "uid": row["uid"],
                "message_id": None, "sender": "", "subject": "", "received_at": self.clock(), "size": row["size"],
                "blob_key": row["blob_key"], "status": MailStatus.QUARANTINED,
                "reason": QuarantineReason.INTERNAL_ERROR, "reason_detail": detail}  # fmt: skip
        try:
            mail_id = conn.execute(_INSERT_MAILS, [bare]).scalar_one()
            self._audit_internal_error(conn, mail_id, detail, failure, subject="")
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        self._refused.add(mail_id)
        return mail_id, MailStatus.QUARANTINED

    def _existing(self, conn: _Tx, envelope: Envelope, key: str) -> tuple[int, MailStatus] | None:
        if envelope.uid is not None:
            params = {"mailbox": envelope.mailbox, "uidvalidity": envelope.uidvalidity, "uid": envelope.uid}
            row = conn.execute(_MAIL_BY_UID, params).first()
        else:
            row = conn.execute(_MAIL_BY_KEY, {"mailbox": envelope.mailbox, "key": key}).first()
        return (row[0], row[1]) if row else None

    def take(self, envelope: Envelope) -> Result:
        """Receive and process one message; a message processed by an earlier run comes back with earlier=True."""
        return self.take_many([envelope])[0]

    def take_many(self, envelopes: Sequence[Envelope]) -> list[Result]:
        """Receive and process a batch of messages, one Result each, in order.

        The batch shares its transactions: the raw bytes and the mail rows are committed together, then the outcomes
        of all its messages are committed together (``inbox.poll.batches`` says how large a batch should be). A message
        processed by an earlier run (or a second copy in the same batch) comes back with earlier=True.
        """
        if not envelopes:
            return []
        self._dian_keys = None  # the certificates learned meanwhile (by any process) count from this run on
        self._refused.clear()
        with self._connect() as conn:  # one connection for both transactions
            recorded = self._receive(conn, envelopes)
            todo: dict[int, tuple[int, int | None, _Received | None]] = {}
            for envelope, (mail_id, status, received) in zip(envelopes, recorded, strict=True):
                if status == MailStatus.PENDING:
                    todo.setdefault(mail_id, (mail_id, envelope.oversize, received))
            done = self._process(conn, list(todo.values())) if todo else {}
        results = []
        for mail_id, _, _ in recorded:
            result = done.pop(mail_id, None)
            if result is None:  # decided by an earlier run, or refused as it was recorded just now
                result = self.outcome(mail_id, earlier=mail_id not in self._refused)
            results.append(result)
        return results

    def outcome(self, mail_id: int, *, earlier: bool = False) -> Result:
        """The recorded outcome of a processed message."""
        with self.sessions() as s:
            mail = s.get(MailMessage, mail_id)
            assert mail is not None
            cufes = list(
                s.execute(sa.select(ReceivedDocument.cufe).where(ReceivedDocument.mail_message_id == mail_id)).scalars()
            )
            return Result(mail_id, mail.status, mail.reason, mail.reason_detail, filed=cufes, earlier=earlier)

    # --- processing ---------------------------------------------------------------------------------------------

    def process(self, mail_id: int, *, oversize: int | None = None) -> Result:
        """Verify a recorded message and commit its outcome; a message already processed is left as it is."""
        self._dian_keys = None
        with self._connect() as conn:
            return self._process(conn, [(mail_id, oversize, None)])[mail_id]

    def _process(self, conn: _Tx, batch: list[tuple[int, int | None, _Received | None]]) -> dict[int, Result]:
        """Process a batch; when it fails, each message on its own. A message that fails on its own is quarantined
        (error_interno) so that the others and the next poll go on; only a lost database connection is raised."""
        if len(batch) > 1:
            try:
                return self._process_batch(conn, batch)
            except Exception as exc:
                if lost_connection(exc):
                    raise  # the database is unreachable: the poll loop waits and tries again
                if not isinstance(exc, IntegrityError):  # else a concurrent intake filed one of its CUFEs first
                    log.warning("a batch of %d messages failed; taking them one by one", len(batch), exc_info=True)
            done: dict[int, Result] = {}
            for entry in batch:
                done.update(self._process(conn, [entry]))
            return done
        failure: Exception | None = None
        for _ in range(3):
            try:
                return self._process_batch(conn, batch)
            except IntegrityError as exc:
                # A concurrent intake filed the same CUFE (or event CUDE) first: decide again, now as a duplicate.
                # Three times in a row is not a race: it is this message's own values.
                failure = exc
            except Exception as exc:
                if lost_connection(exc):
                    raise
                failure = exc
                break
        assert failure is not None
        mail_id = batch[0][0]
        return {mail_id: self._quarantine_failure(conn, mail_id, failure)}

    def _quarantine_failure(self, conn: _Tx, mail_id: int, failure: Exception) -> Result:
        """Quarantine a pending message whose processing failed (reason error_interno, with the failure's one-line
        summary and an audit entry) in a transaction of its own; its raw bytes stay its blob, for a later reprocess."""
        reason = QuarantineReason.INTERNAL_ERROR
        detail = _internal_error(failure)
        log.error("message #%d failed and is quarantined (%s)", mail_id, reason.value, exc_info=failure)
        try:
            quarantine = (
                _MAILS.update()
                .where(_MAILS.c.id == mail_id, _MAILS.c.status == MailStatus.PENDING)
                .values(status=MailStatus.QUARANTINED, reason=reason, reason_detail=detail)
            )
            if not conn.execute(quarantine).rowcount:
                # Decided meanwhile (by this run, when the failure came after its commit, or by another process).
                conn.rollback()
                return self.outcome(mail_id)
            subject = conn.execute(sa.select(_MAILS.c.subject).where(_MAILS.c.id == mail_id)).scalar_one()
            self._audit_internal_error(conn, mail_id, detail, failure, subject=subject)
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        return Result(mail_id, MailStatus.QUARANTINED, reason, detail)

    def _audit_internal_error(self, conn: _Tx, mail_id: int, detail: str, failure: Exception, *, subject: str) -> None:
        """The audit entry of a message quarantined as error_interno (what _quarantine writes for the others)."""
        data = {"reason": QuarantineReason.INTERNAL_ERROR.value, "detail": detail, "subject": subject,
                "error": type(failure).__name__}  # fmt: skip
        entry = audit.entry(actor=self.actor, action="mail.quarantined", subject=f"mail:{mail_id}", source="inbox",
                            data=data, at=self.clock())  # fmt: skip
        audit.insert_entries(conn, [entry])  # type: ignore[arg-type]

    def _process_batch(self, conn: _Tx, batch: list[tuple[int, int | None, _Received | None]]) -> dict[int, Result]:
        """Lock the batch's messages, verify each (no write yet), then write every outcome and commit once.

        Verification runs before the first write, so SQLite's write lock is held only while the rows are written.
        The outcomes are written in order, each after its dedupe look-ups, so a CUFE (or a copy of a mail) seen
        twice in one batch is filed once, exactly as in two batches.
        """
        done: dict[int, Result] = {}
        todo: list[tuple[_Mail, _Plan]] = []
        writes = _Writes(self.clock(), self.actor)
        try:
            locked = {row.id: _Mail(*row) for row in conn.execute(_LOCK_MAILS, {"mail_ids": [e[0] for e in batch]})}
            copies: dict[tuple[str, str], int] = {}  # (Message-ID, blob) -> the first message of this batch
            for mail_id, oversize, received in batch:
                mail = locked.get(mail_id)
                if mail is None:  # another process holds it right now; it will commit the outcome
                    done[mail_id] = Result(mail_id, MailStatus.PENDING, earlier=True)
                    continue
                if mail.status != MailStatus.PENDING:
                    continue  # decided by an earlier run: its outcome is read below
                if mail.message_id and mail.earlier is None:
                    first = copies.setdefault((mail.message_id, mail.blob_key), mail.id)
                    mail.earlier = first if first != mail.id else None
                if received is not None and received.key == mail.blob_key:
                    data, message = received.data, received.message  # the very bytes the key hashes
                else:
                    data, message = self.blobs.get(mail.blob_key), None
                todo.append((mail, self._verify(mail, data, oversize, message)))
                self.hook("verified")
            if not todo:
                conn.rollback()
            else:
                known = _Known(conn, (plan for _, plan in todo), writes)
                for mail, plan in todo:
                    self._resolve(plan, known)
                    done[mail.id] = self._apply(conn, mail, plan, writes, known)
                writes.flush(conn)
                if writes.parts:
                    self.blobs.put_many(writes.parts.values())  # durable before the rows that name them commit
                for _ in todo:
                    self.hook("parts_stored")
                assert None not in writes.audits  # every reserved entry was written by the flush
                audit.insert_entries(conn, writes.audits)  # type: ignore[arg-type]
                settled = [
                    {"settled_id": m.id, "new_status": m.status, "new_reason": m.reason, "detail": m.reason_detail}
                    for m, _ in todo
                ]
                conn.execute(_SETTLE_MAIL, settled)
                conn.commit()
        except BaseException:
            conn.rollback()
            raise
        for _ in todo:
            self.hook("committed")
        for mail_id, _, _ in batch:
            if mail_id not in done:
                done[mail_id] = self.outcome(mail_id, earlier=True)
        touched = {d for mail, _ in todo for d in done[mail.id].touched}
        if writes.relink:
            touched.update(self._relink(conn, sorted(writes.relink)))
        if touched and self.policy.on_documents is not None:
            try:
                self.policy.on_documents(sorted(touched))
            except Exception:  # the outcome is committed; the sync job derives the state again
                log.exception("deriving the state of documents %s after intake failed", sorted(touched))
        return done

    def _relink(self, conn: _Tx, cufes: list[str]) -> list[int]:
        """Link what a concurrent intake left unlinked (see _RELINK_NOTES); the documents whose events were linked."""
        try:
            conn.execute(_RELINK_NOTES, {"cufes": cufes})
            linked = [row[0] for row in conn.execute(_RELINK_EVENTS, {"cufes": cufes})]
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        return linked

    def _verify(self, mail: _Mail, data: bytes, oversize: int | None, message: Message | None = None) -> _Plan:
        """What to do with a message, from its bytes alone (no database): the items found and their verification."""
        plan = _Plan()
        if oversize is not None or len(data) > self.policy.max_message_bytes:
            size = oversize or len(data)
            plan.reason = QuarantineReason.TOO_LARGE
            plan.detail = (
                f"{REASON_TEXT[plan.reason]}: el mensaje pesa {size / 1048576:.1f} MB y el límite es "
                f"{self.policy.max_message_bytes / 1048576:.1f} MB"
            )
            return plan
        if mail.message_id and mail.earlier is not None:
            plan.duplicate_of = mail.earlier
            return plan
        if is_mail(data):
            name = "correo.eml"
        else:  # a loose file: its name was kept as the subject
            name = mail.subject if mail.subject.lower().endswith((".xml", ".zip", ".eml")) else "adjunto"
        try:
            parts = unpack(data, name, self.policy.limits, message=message)
        except UnpackError as exc:
            plan.reason = QuarantineReason(exc.reason)
            plan.detail = f"{REASON_TEXT[plan.reason]}: {exc}"
            return plan
        plan.pdf = next((p.data for p in parts if p.kind == "pdf"), None)
        unreadable: list[str] = []
        for part in parts:
            if part.kind != "xml":
                continue
            self._consider(part, plan, unreadable)
        if not plan.items:
            if unreadable:
                plan.reason = QuarantineReason.UNREADABLE
                plan.detail = f"{REASON_TEXT[plan.reason]}: {'; '.join(unreadable[:3])}"
            else:
                plan.reason = QuarantineReason.NO_DOCUMENT
                found = ", ".join(p.name.rpartition("!")[2] for p in parts) or "ningún adjunto"
                plan.detail = (
                    f"{REASON_TEXT[plan.reason]} (factura, nota o evento en XML); adjuntos encontrados: {found}"
                )
                if mail.subject.strip().lower().startswith("evento"):
                    plan.detail += ". El asunto anuncia un evento, pero no trae su ApplicationResponse"
        return plan

    def _keys(self) -> DianKeys:
        """What DIAN's signature may be anchored in: the policy's trust store and pins, and the certificates learned
        from DIAN itself (read once per run from the database, and added to as this run learns more)."""
        if self._dian_keys is None:
            with self.sessions() as s:
                learned = learned_pins(s)
            self._dian_keys = DianKeys.of(self.policy.trust, self.policy.dian_pins, learned)
        return self._dian_keys

    def _resolve(self, plan: _Plan, known: _Known) -> None:
        """What the plan's items are against what is on file: duplicates, events of documents we do not hold, DIAN
        answers that arrived apart from their documents, and who may send each event."""
        for item in plan.items:
            if item.reason is not None or item.cufe is None:
                continue
            if item.kind == "document":
                self._dedupe(item, known)
                if not item.duplicate and item.reason is None:
                    self._match_loose_answers(item, known)
                    self._require_validation(item)
            elif item.kind == "answer":
                self._resolve_answer(item, known)
            elif item.event is not None:
                self._resolve_event(item, known)
        plan.items = _prefer_containers(plan.items)

    def _consider(self, part: Part, plan: _Plan, unreadable: list[str]) -> None:
        report = verify_received(part.data, trust=self.policy.trust, our_nit=self.policy.our_nit, keys=self._keys())
        short = part.name.rpartition("!")[2]
        if report.unreadable:
            unreadable.append(f"{short}: {_first_failure(report.checks)}")
            return
        if report.kind == "event":
            self._consider_event(part.name, report, plan)
            return
        if report.kind == "dian_answer":
            self._consider_answer(part.name, report, plan)
            return
        if report.kind not in _COMMERCIAL_KINDS:
            return  # an XML that is no DIAN document (a purchase order, a style sheet): not ours to judge
        item = _Item(kind="document", part=part.name, report=report)
        if report.kind == "attached_document":
            plan.containers[part.name] = part.data
        item.reason = quarantine_reason(report)
        if item.reason is not None:
            item.detail = f"{REASON_TEXT[item.reason]}: {_first_failure(report.checks) or 'documento inválido'}"
            claimed = report.document or report.unverified_document
            item.cufe = claimed.uuid.strip().lower() if claimed else None
            if report.document is None and claimed is not None:  # what it says of itself, to chase the supplier
                item.detail += f" — {_claims(claimed)}"
            plan.items.append(item)
            return
        assert report.document is not None
        item.cufe = report.document.uuid.strip().lower()
        if not report.dian_validated:
            self._online(item)
        plan.items.append(item)

    def _proven(self, item: _Item) -> bool:
        report = item.report
        return item.confirmed_online or (report is not None and report.dian_validated)

    def _require_validation(self, item: _Item) -> None:
        """dian.require_validation: a document whose DIAN validation stays unproven is quarantined, not filed."""
        if not self.policy.require_dian_validation or self._proven(item):
            return
        item.reason = QuarantineReason.NOT_VALIDATED
        report = item.report
        unproven = report.check("dian.certificate.chain") or report.check("dian.response") if report else None
        why = unproven.detail if unproven is not None else "validación DIAN sin confirmar"
        asked = any(c.name == "dian.online" for c in item.extra_checks)
        item.detail = f"{REASON_TEXT[item.reason]}: {why}" + ("" if asked else " (la consulta en línea está apagada)")

    def _online(self, item: _Item) -> None:
        """Ask DIAN's endpoint about a document whose validation is not proven offline (dian.online_check)."""
        check = self.policy.online_check
        report = item.report
        if check is None or item.cufe is None or report is None or report.document is None:
            return
        doc = report.document
        try:
            online = check(item.cufe)
            proof = confirm_online(
                online,
                self._keys(),
                cufe=item.cufe,
                number=doc.number,
                issuer_nit=doc.supplier.nit,
                signed_xml=report.document_xml or b"",
            )
        except Exception as exc:  # DIAN down must not block intake: file it "sin confirmar"; the job asks again
            item.extra_checks.append(
                Check("dian.online", Outcome.WARN, f"no se pudo consultar el documento en DIAN: {exc}; se reintenta")
            )
            return
        if proof.level is Level.CONFIRMED:
            item.confirmed_online, item.learned = True, proof.learned
            item.extra_checks.append(Check("dian.online", Outcome.PASS, proof.detail))
        elif proof.level is Level.INVALID:
            item.extra_checks.append(Check("dian.online", Outcome.FAIL, proof.detail))
            item.reason = QuarantineReason.NOT_VALIDATED
            item.detail = f"{REASON_TEXT[item.reason]}: {proof.detail}"
        else:
            item.extra_checks.append(Check("dian.online", Outcome.WARN, proof.detail))

    def _match_loose_answers(self, item: _Item, known: _Known) -> None:
        """A document "sin confirmar" whose DIAN answer arrived earlier on its own: weigh it against the document."""
        report = item.report
        assert report is not None
        if self._proven(item) or report.document_xml is None:
            return
        for blob in known.answers.get(item.cufe or "", ()):
            weighed = self._with_answer(report.document_xml, self.blobs.get(blob))
            if weighed.dian_validated and weighed.document is not None:
                item.report = weighed
                return

    def _with_answer(self, signed_xml: bytes, answer_xml: bytes) -> ReceptionReport:
        return verify_received(
            signed_xml, trust=self.policy.trust, our_nit=self.policy.our_nit, keys=self._keys(), dian_answer=answer_xml
        )

    def _dedupe(self, item: _Item, known: _Known) -> None:
        report = item.report
        assert item.cufe is not None and report is not None and report.document_xml is not None
        item.orphan_notes = item.cufe in known.waiting_notes
        item.orphan_events = item.cufe in known.waiting_events
        on_file = known.documents.get(item.cufe)
        if on_file is None:
            return
        if on_file.blob == BlobStore.key_of(report.document_xml):
            item.duplicate = True
            # The same signed document again, now with DIAN's proven answer: the copy on file "sin confirmar" is
            # confirmed by it (a bare invoice first, its AttachedDocument later).
            if on_file.verdict == Verdict.UNCONFIRMED.value and self._proven(item):
                item.upgrade = report
        else:
            item.reason = QuarantineReason.DUPLICATE
            item.detail = (
                f"{REASON_TEXT[item.reason]}: el CUFE {item.cufe[:16]}… ya está archivado "
                f"(documento #{known.id_of(item.cufe)}) y este trae otro contenido firmado"
            )

    def _consider_answer(self, name: str, report: ReceptionReport, plan: _Plan) -> None:
        """DIAN's validation mailed on its own: kept by CUFE, and weighed against its document when it is on file."""
        answer = report.dian_response
        ref = answer.document_reference if answer is not None else None
        item = _Item(kind="answer", part=name, report=report, answer_xml=report.dian_response_xml)
        item.cufe = (ref.uuid or "").strip().lower() or None if ref is not None else None
        plan.items.append(item)
        if report.verdict is Verdict.INVALID or item.cufe is None:
            item.reason = QuarantineReason.FORGED if report.dian_signature is not None else QuarantineReason.UNREADABLE
            item.detail = f"{REASON_TEXT[item.reason]}: {_first_failure(report.checks) or 'respuesta de DIAN ilegible'}"

    def _resolve_answer(self, item: _Item, known: _Known) -> None:
        on_file = known.documents.get(item.cufe or "")
        if on_file is None or on_file.blob is None:
            return  # kept until its document arrives (a LooseAnswer row)
        if on_file.verdict != Verdict.UNCONFIRMED.value:
            item.duplicate = True  # the document on file already has DIAN's proven validation (or is not ours)
            return
        assert item.answer_xml is not None
        weighed = self._with_answer(self.blobs.get(on_file.blob), item.answer_xml)
        if weighed.dian_validated:
            item.upgrade = weighed
        elif weighed.verdict is Verdict.INVALID:
            item.reason = QuarantineReason.FORGED
            item.detail = f"{REASON_TEXT[item.reason]}: {_first_failure(weighed.checks) or 'no corresponde'}"
        else:
            item.duplicate = True  # unproven: it proves nothing more than what is on file
            item.detail = "la respuesta atribuida a DIAN no está probada; el documento sigue sin confirmar"

    def _consider_event(self, name: str, report: ReceptionReport, plan: _Plan) -> None:
        """A counterpart's event as reception verified it: recorded as observed, pending DIAN's confirmation, unless
        its DIAN answer is proven; forged when its signer or its DIAN answer do not match."""
        item = _Item(kind="event", part=name, event_xml=report.event_xml, event_answer_xml=report.dian_response_xml)
        plan.items.append(item)
        event = report.event
        claimed = event or report.unverified_event
        ref = claimed.document_reference if claimed is not None else None
        item.cufe = (ref.uuid or "").strip().lower() or None if ref is not None else None
        failed = {c.name for c in report.checks if c.outcome == Outcome.FAIL}
        if event is None:
            item.reason = QuarantineReason.SIGNATURE_INVALID
            item.detail = f"{REASON_TEXT[item.reason]} (evento): {_first_failure(report.checks)}"
            return
        if not event.is_event:
            plan.items.remove(item)  # an ApplicationResponse that is no event and not DIAN's: not ours to judge
            return
        item.event = event
        if failed:
            if "event.signer.nit" in failed or any(n.startswith("dian.") for n in failed):
                item.reason = QuarantineReason.FORGED
            elif "event.uuid" in failed:
                item.reason = QuarantineReason.UNREADABLE
            else:
                item.reason = QuarantineReason.SIGNATURE_INVALID
            item.detail = f"{REASON_TEXT[item.reason]}: evento {event.response_code}: {_first_failure(report.checks)}"
            return
        if not item.cufe:
            item.reason = QuarantineReason.UNREADABLE
            item.detail = f"{REASON_TEXT[item.reason]}: el evento {event.response_code} no nombra el CUFE del documento"
            return
        signature = report.document_signature
        item.event_signing_time = signature.signing_time if signature is not None else None
        item.event_registered = report.dian_validated
        if item.event_registered:
            item.event_note = "evento registrado por la DIAN (su respuesta firmada está probada)"
        else:
            why = report.check("dian.certificate.chain") or report.check("dian.response")
            item.event_note = "evento observado, pendiente de confirmación de la DIAN" + (
                f": {why.detail}" if why is not None else ""
            )

    def _resolve_event(self, item: _Item, known: _Known) -> None:
        event = item.event
        assert event is not None and item.cufe is not None
        ours = {nit_digits(event.sender.nit), nit_digits(event.receiver.nit)}
        on_file = known.documents.get(item.cufe)
        # 034 goes from the seller to DIAN and names no buyer: without its invoice on file it waits to be linked.
        if on_file is None and not ours & {nit_digits(self.policy.our_nit), DIAN_NIT}:
            item.reason = QuarantineReason.NOT_FOR_US
            item.detail = (
                f"{REASON_TEXT[item.reason]}: el evento {event.response_code} es entre los NIT "
                f"{event.sender.nit} y {event.receiver.nit} y su documento no está archivado"
            )
            return
        if on_file is not None and (refusal := _not_entitled(event, on_file)):
            item.reason = QuarantineReason.FORGED
            item.detail = f"{REASON_TEXT[item.reason]}: {refusal}"
            return
        cude = _cude(event)
        if cude and cude in known.cudes:
            item.duplicate = True

    # --- writing the outcome ------------------------------------------------------------------------------------

    def _apply(self, conn: _Tx, mail: _Mail, plan: _Plan, writes: _Writes, known: _Known) -> Result:
        result = Result(mail.id, MailStatus.PENDING)
        if plan.duplicate_of is not None:
            mail.status, mail.reason = MailStatus.IGNORED, QuarantineReason.DUPLICATE
            mail.reason_detail = f"El mismo correo ya se recibió (mensaje #{plan.duplicate_of})"
            result.duplicates.append(mail.message_id or "")
            writes.audit("mail.duplicate", f"mail:{mail.id}", {"earlier": plan.duplicate_of})
            return self._finish(mail, result)
        if plan.reason is not None:
            return self._quarantine(mail, result, plan.reason, plan.detail, writes)
        refused: list[_Item] = []
        kept: list[_Item] = []
        for item in plan.items:
            if item.reason is not None:
                refused.append(item)
            elif item.upgrade is not None:
                self._confirm_on_file(conn, item, known, writes, result)
            elif item.duplicate:
                result.duplicates.append(item.cufe or "")
            else:
                kept.append(item)
            if item.learned is not None and item.reason is None:
                self._learn(conn, item.learned, writes)
        # The blobs the rows name, staged by key: the batch stores them all in one go before it commits.
        pdf_key = writes.stage(plan.pdf) if any(i.kind == "document" for i in kept) else None
        for item in kept:
            if item.kind == "answer":
                self._keep_answer(conn, mail, item, writes, result)
            elif item.kind == "document":
                report = item.report
                assert report is not None and report.document_xml is not None
                keys = {
                    "signed": writes.stage(report.document_xml),
                    "answer": writes.stage(report.dian_response_xml),
                    "container": writes.stage(plan.containers.get(item.part)),
                }
                self._file(mail, item, keys, pdf_key, writes, known, result)
            else:
                assert item.event_xml is not None
                keys = {"signed": writes.stage(item.event_xml), "answer": writes.stage(item.event_answer_xml)}
                self._record_event(conn, mail, item, keys, writes, known, result)
        if refused:
            first = refused[0]
            assert first.reason is not None
            detail = " | ".join(i.detail for i in refused)
            if done := len(result.filed) + len(result.events) + len(result.confirmed) + len(result.answers):
                detail += f" (además se archivaron {done} documento(s) del correo)"
            for item in refused:
                writes.audit("document.quarantined",
                    item.cufe or f"mail:{mail.id}",
                    {"mail_message_id": mail.id, "reason": item.reason.value if item.reason else None,
                     "part": item.part, "detail": item.detail},
                )  # fmt: skip
            return self._quarantine(mail, result, first.reason, detail, writes)
        if result.filed or result.events or result.confirmed or result.answers:
            mail.status, mail.reason, mail.reason_detail = MailStatus.FILED, None, None
        else:  # every document in it is already on file
            mail.status, mail.reason = MailStatus.IGNORED, QuarantineReason.DUPLICATE
            mail.reason_detail = "Todos los documentos del correo ya estaban archivados: " + ", ".join(
                c[:16] + "…" for c in result.duplicates
            )
            writes.audit("mail.duplicate", f"mail:{mail.id}", {"cufes": result.duplicates})
        return self._finish(mail, result)

    def _learn(self, conn: _Tx, cert: LearnedCertificate, writes: _Writes) -> None:
        """Remember DIAN's certificate that an online confirmation verified; this run proves its answers from now."""
        learn(conn, cert, at=writes.now, actor=self.actor)
        keys = self._keys()
        self._dian_keys = dataclasses.replace(keys, learned=keys.learned | frozenset(cert.pins))

    def _confirm_on_file(self, conn: _Tx, item: _Item, known: _Known, writes: _Writes, result: Result) -> None:
        """A document on file "sin confirmar" proven by this message (its DIAN answer, mailed now): validated."""
        report = item.upgrade
        assert report is not None and item.cufe is not None
        document_id = known.id_of(item.cufe)
        answer_key = writes.stage(report.dian_response_xml)
        summary = report.to_dict()
        verdict = report.verdict
        summary["intake"] = {"confirmed_by_part": item.part, "at": writes.now.isoformat()}
        params = {"confirmed_id": document_id, "new_verdict": verdict.value, "new_report": summary}
        confirmed = conn.execute(_CONFIRM_DOC, {**params, "new_answer": answer_key}).rowcount
        if not confirmed:
            result.duplicates.append(item.cufe)
            return
        on_file = known.documents[item.cufe]
        on_file.verdict = verdict.value
        if document_id is not None:
            conn.execute(_MATCH_LOOSE, {"loose_cufe": item.cufe, "loose_document": document_id,
                                        "loose_outcome": "confirma el documento"})  # fmt: skip
            result.touched.append(document_id)
        writes.audit("document.dian.confirmed", item.cufe,
                     {"document_id": document_id, "verdict": verdict.value, "part": item.part,
                      "basis": report.dian_basis})  # fmt: skip
        result.confirmed.append(item.cufe)

    def _keep_answer(self, conn: _Tx, mail: _Mail, item: _Item, writes: _Writes, result: Result) -> None:
        """DIAN's answer for a document not on file yet: kept by CUFE, weighed when the document arrives."""
        assert item.cufe is not None and item.answer_xml is not None
        key = writes.stage(item.answer_xml)
        conn.execute(_LOOSE.insert(), {"cufe": item.cufe, "blob_key": key, "mail_message_id": mail.id,
                                       "received_at": writes.now})  # fmt: skip
        writes.audit("document.dian_answer.kept", item.cufe, {"mail_message_id": mail.id, "part": item.part})
        result.answers.append(item.cufe)

    def _finish(self, mail: _Mail, result: Result) -> Result:
        result.status, result.reason, result.detail = mail.status, mail.reason, mail.reason_detail
        return result

    def _quarantine(
        self, mail: _Mail, result: Result, reason: QuarantineReason, detail: str, writes: _Writes
    ) -> Result:
        mail.status, mail.reason, mail.reason_detail = MailStatus.QUARANTINED, reason, detail
        writes.audit(
            "mail.quarantined", f"mail:{mail.id}",
            {"reason": reason.value, "detail": detail, "subject": mail.subject},
        )  # fmt: skip
        return self._finish(mail, result)

    def _file(
        self,
        mail: _Mail,
        item: _Item,
        keys: dict[str, str | None],
        pdf_key: str | None,
        writes: _Writes,
        known: _Known,
        result: Result,
    ) -> None:
        report = item.report
        assert report is not None and report.document is not None and item.cufe is not None
        doc = report.document
        summary = report.to_dict()
        if item.extra_checks:
            summary["checks"].extend(c.to_dict() for c in item.extra_checks)
        summary["intake"] = {"mail_message_id": mail.id, "part": item.part, "at": writes.now.isoformat()}
        verdict = report.verdict
        if item.confirmed_online:  # DIAN's endpoint confirmed what the mail could not prove
            summary["checks"] = settle_confirmed(summary["checks"], ONLINE_SETTLED)
            verdict = verdict_of(Check(c["name"], Outcome(c["outcome"]), c["detail"]) for c in summary["checks"])
            summary["dian_validated"], summary["dian_proof"] = True, Level.CONFIRMED.value
        elif any(c.outcome == Outcome.WARN for c in item.extra_checks) and verdict == Verdict.VALID:
            verdict = Verdict.VALID_WITH_WARNINGS
        summary["verdict"] = verdict.value
        referenced = _referenced(doc)
        referenced_id = known.id_of(referenced) if referenced else None
        total = doc.monetary_total
        row = dict(
            cufe=item.cufe,
            document_type=doc.document_type,
            environment=doc.environment,
            number=_clip(doc.number, 40),
            prefix=_clip(doc.prefix or "", 10),
            issuer_nit=_clip(doc.supplier.nit, 20),
            issuer_dv=_clip(doc.supplier.dv, 1),
            issuer_name=_clip(doc.supplier.registration_name or doc.supplier.trade_name or "", 450),
            buyer_nit=_clip(doc.customer.nit, 20),
            buyer_name=_clip(doc.customer.registration_name or doc.customer.trade_name or "", 450),
            software_provider_nit=_clip(doc.software_provider_nit, 20),
            issue_date=doc.issue_date,
            issued_at=doc.issued_at,
            due_date=doc.due_date,
            payment_means=doc.payment_means,
            currency=_clip(doc.currency or "COP", 3),
            line_extension_amount=total.line_extension,
            tax_exclusive_amount=total.tax_exclusive if total.tax_exclusive is not None else Decimal(0),
            tax_inclusive_amount=total.tax_inclusive if total.tax_inclusive is not None else total.payable,
            payable_amount=total.payable,
            taxes=[_tax(t) for t in doc.tax_totals] + [_tax(t, withholding=True) for t in doc.withholdings],
            lines=[_line(line) for line in doc.lines],
            line_count=len(doc.lines),
            signed_xml_blob=keys["signed"],
            attached_blob=keys.get("container"),
            dian_response_blob=keys.get("answer"),
            pdf_blob=pdf_key,
            verdict=StoredVerdict(verdict.value),
            state=DocumentState.UNCONFIRMED if verdict is Verdict.UNCONFIRMED else DocumentState.VALIDATED,
            report=summary,
            mail_message_id=mail.id,
            referenced_cufe=referenced,
            referenced_document_id=referenced_id,
        )
        on_file = known.documents[item.cufe] = _OnFile(
            None, keys["signed"], doc.supplier.nit, doc.customer.nit, verdict.value
        )
        audit_data = {
            "mail_message_id": mail.id,
            "document_id": None,  # written by the flush, with the id
            "type": doc.document_type.value,
            "number": doc.number,
            "issuer_nit": doc.supplier.nit,
            "verdict": verdict.value,
            "referenced_cufe": referenced,
        }
        writes.filings.append(
            _Filing(row, on_file, result, writes.reserve(), audit_data, item.orphan_notes, item.orphan_events)
        )
        writes.relink.add(item.cufe)
        if item.cufe in known.answers:  # DIAN's answer mailed before it: weighed (and now matched) with it
            matched = "confirma el documento" if report.dian_validated else "no prueba la validación"
            writes.filings[-1].loose_outcome = matched
        if referenced and referenced_id is None:
            writes.relink.add(referenced)
            known.waiting_notes.add(referenced)
        result.filed.append(item.cufe)

    def _record_event(
        self,
        conn: _Tx,
        mail: _Mail,
        item: _Item,
        keys: dict[str, str | None],
        writes: _Writes,
        known: _Known,
        result: Result,
    ) -> None:
        event = item.event
        assert event is not None and item.cufe is not None
        document_id = known.id_of(item.cufe)
        if document_id is None:
            writes.relink.add(item.cufe)
            known.waiting_events.add(item.cufe)
        response = event.responses[0] if event.responses else None
        claim = None
        if event.response_code == EventCode.RECLAMO.value and response and response.list_id:
            claim = ClaimReason(response.list_id) if response.list_id in {c.value for c in ClaimReason} else None
        person = event.issuer_person
        cude = _cude(event)
        row = dict(
            document_id=document_id,
            code=EventCode(event.response_code),
            direction=Direction.OBSERVED,
            number=_clip(event.id, 40),
            cude=cude,
            referenced_cufe=item.cufe,
            claim_reason=claim,
            note=item.event_note,
            person=None
            if person is None
            else {"id": person.id, "first_name": person.first_name, "family_name": person.family_name,
                  "job_title": person.job_title},
            sender_nit=_clip(event.sender.nit, 20),
            receiver_nit=_clip(event.receiver.nit, 20),
            signed_xml_blob=keys["signed"],
            signing_time=item.event_signing_time,  # the signed xades:SigningTime, never IssueDate (dian-facts 2.2)
            submission_state=SubmissionState.REGISTERED if item.event_registered else SubmissionState.SENT,
            dian_response_blob=keys.get("answer"),
            registered_at=writes.now if item.event_registered else None,
            actor=self.actor,
        )  # fmt: skip
        conn.execute(_INSERT_EVENT, row)  # the CUDE's unique constraint speaks here
        if cude:
            known.cudes.add(cude)
        if document_id is not None:
            result.touched.append(document_id)
        writes.audit("document.event.observed",
            item.cufe,
            {"mail_message_id": mail.id, "code": event.response_code, "cude": cude, "document_id": document_id,
             "registered": item.event_registered},
        )  # fmt: skip
        result.events.append(cude or item.cufe)


def _internal_error(failure: Exception) -> str:
    """The reason a clerk reads for a message quarantined as error_interno: the failure's one-line summary."""
    return f"{REASON_TEXT[QuarantineReason.INTERNAL_ERROR]}: {one_line(failure)}"


def _claims(document: CommercialDocument) -> str:
    """What a document whose signature failed says it is (unproven): number, issuer, date and total, for the clerk."""
    issuer = document.supplier.registration_name or document.supplier.trade_name or ""
    return (
        f"dice ser {document.document_type.label.lower()} {document.number} de {issuer} (NIT {document.supplier.nit}) "
        f"del {document.issue_date.isoformat()} por {document.monetary_total.payable} {document.currency or 'COP'}; "
        "nada de esto está probado"
    )


def _not_entitled(event: ApplicationResponse, on_file: _OnFile) -> str | None:
    """Why the event's SenderParty may not send it on the invoice on file (dian.rules.sender_refusal), or None."""
    try:
        code = EventCode(event.response_code)
    except ValueError:
        return f"código de evento desconocido «{event.response_code}»"
    if not on_file.issuer_nit:
        return None  # the document's parties are not known here: DIAN's confirmation settles it
    return sender_refusal(code, event.sender.nit, seller_nit=on_file.issuer_nit, buyer_nit=on_file.buyer_nit)


def _referenced(document: CommercialDocument) -> str | None:
    """The CUFE of the document a note references (its first billing reference that names one)."""
    return next((r.uuid.strip().lower() for r in document.billing_references if r.uuid), None)


def _cude(event: ApplicationResponse) -> str | None:
    return (event.uuid or "").strip().lower() or None


def _prefer_containers(items: list[_Item]) -> list[_Item]:
    """One item per CUFE: an AttachedDocument beats the bare invoice mailed beside it (it brings DIAN's answer)."""
    chosen: dict[tuple[str, str], _Item] = {}
    order: list[tuple[str, str]] = []
    for index, item in enumerate(items):
        key = (item.kind, item.cufe or f"#{index}")
        if item.kind == "event" and item.event is not None:
            key = ("event", (item.event.uuid or f"#{index}").lower())
        current = chosen.get(key)
        if current is None:
            chosen[key] = item
            order.append(key)
        elif _rank(item) > _rank(current):
            chosen[key] = item
    return [chosen[k] for k in order]


def _rank(item: _Item) -> tuple[int, int]:
    report = item.report
    return (
        int(item.reason is None),
        int(report is not None and report.kind == "attached_document"),
    )


def _tax(total: TaxTotal, *, withholding: bool = False) -> dict[str, Any]:
    return {
        "scheme_id": total.scheme_id,
        "scheme_name": total.scheme_name,
        "amount": str(total.amount),
        "withholding": withholding,
        "subtotals": [
            {
                "scheme_id": sub.scheme_id,
                "amount": str(sub.amount),
                "taxable_amount": None if sub.taxable_amount is None else str(sub.taxable_amount),
                "percent": None if sub.percent is None else str(sub.percent),
            }
            for sub in total.subtotals
        ],
    }


def _line(line: Any) -> dict[str, Any]:
    return {
        "id": line.id,
        "quantity": str(line.quantity),
        "unit_code": line.unit_code,
        "description": line.description,
        "line_extension_amount": str(line.line_extension_amount),
        "unit_price": None if line.unit_price is None else str(line.unit_price),
    }


__all__ = [
    "REASON_TEXT",
    "STEPS",
    "Envelope",
    "Intake",
    "IntakePolicy",
    "Result",
    "quarantine_reason",
]
