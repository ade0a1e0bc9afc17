"""Intake: store a message's raw bytes, find the documents inside, verify them, then file or quarantine — once.

The steps of one message, in order (each is a place where a crash must lose nothing and duplicate nothing):

``fetched``      the bytes are in memory, nothing stored yet
``stored``       the raw bytes are a blob (content-addressed: storing them again is harmless)
``recorded``     the MailMessage row is committed with status ``pending``
``verified``     the documents are verified; nothing of the outcome is written yet
``parts_stored`` the signed XML, DIAN's answer, the container and the PDF are blobs
``committed``    the outcome (documents, events, status, audit entries) is committed in one transaction
``settled``      the source moved or flagged the message (only ever after ``committed``)

A message is identified by (mailbox, UIDVALIDITY, UID) when the source has UIDs, else by (mailbox, SHA-256 of its
bytes). A message seen again with the same Message-ID and the same bytes is a duplicate; a document is unique by its
CUFE/CUDE, so the same invoice mailed twice is filed once. Nothing here reads files, the environment or the clock:
the session factory, the blob store, the clock and the policy are handed in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from email.message import Message
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from dian.codes import DIAN_NIT, ClaimReason, EventCode
from dian.errors import ParseError
from dian.reception import ReceptionReport, verify_received
from dian.trust import TrustStore
from dian.ubl import ApplicationResponse, TaxTotal, parse_document
from dian.xades import Check, Outcome, Verdict, verify
from dian.xmlsafe import parse_xml
from inbox.unpack import Limits, Part, UnpackError, is_mail, mail_info, parse_mail, unpack
from store import audit
from store.blobs import BlobStore
from store.models import (
    Direction,
    DocumentEvent,
    MailMessage,
    MailStatus,
    QuarantineReason,
    ReceivedDocument,
    SubmissionState,
)
from store.models import Verdict as StoredVerdict

STEPS = ("fetched", "stored", "recorded", "verified", "parts_stored", "committed", "settled")
ACTOR = "system:intake"
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

    ``online_check(cufe)`` returns something with ``outcome`` (pass/warn/fail) and ``detail``, like a
    ``dian.xades.Check``; a fail quarantines the document as not validated by DIAN, an exception is a warning.
    """

    our_nit: str
    trust: TrustStore
    dian_pins: tuple[str, ...] = ()
    max_message_bytes: int = 10 * 1024 * 1024
    limits: Limits = field(default_factory=Limits)
    online_check: Callable[[str], Any] | None = None
    require_dian_validation: bool = False  # quarantine documents that bring no DIAN answer and no online check


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


@dataclass(frozen=True)
class _Received:
    """What receive read of a message, handed straight to process when one run does both (take): the bytes are not
    read back from the blob store and the mail is not parsed twice. After a restart, process reads and parses anew."""

    key: str
    data: bytes = field(repr=False)
    message: Message | None = field(default=None, repr=False)


@dataclass
class _Plan:
    items: list[_Item] = field(default_factory=list)
    pdf: bytes | None = None
    containers: dict[str, bytes] = field(default_factory=dict)
    reason: QuarantineReason | None = None  # refusal of the message as a whole
    detail: str = ""
    duplicate_of: int | None = None


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
    if any(n.startswith("document.") for n in failed):
        return QuarantineReason.SIGNATURE_INVALID
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

    def receive(self, envelope: Envelope) -> tuple[int, MailStatus]:
        """Store the raw bytes and record the message (status pending); a message already recorded is returned."""
        mail_id, status, _ = self._receive(envelope)
        return mail_id, status

    def _receive(self, envelope: Envelope) -> tuple[int, MailStatus, _Received]:
        self.hook("fetched")
        key = self.blobs.put(envelope.data)  # durable before the row that names it is committed
        self.hook("stored")
        info = None
        message = None
        if envelope.oversize is not None or is_mail(envelope.data, envelope.name):
            try:
                message = parse_mail(envelope.data)
                info = mail_info(message)
            except Exception:  # a mangled header must not stop the raw bytes being kept
                info = None
        received = _Received(key, envelope.data, message if envelope.oversize is None else None)
        message_id = info.message_id if info and info.message_id else None
        with self.sessions() as s:
            existing = self._existing(s, envelope, key)
            if existing is not None:
                return (*existing, received)
            mail = MailMessage(
                mailbox=_clip(envelope.mailbox, 300),
                uidvalidity=envelope.uidvalidity,
                uid=envelope.uid,
                message_id=_clip(message_id, 998),
                sender=_clip(info.sender if info else "", 998) or "",
                subject=_clip(info.subject if info else envelope.name, 998) or "",
                received_at=envelope.received_at or self.clock(),
                size=envelope.oversize or len(envelope.data),
                blob_key=key,
                status=MailStatus.PENDING,
            )
            s.add(mail)
            try:
                s.commit()
            except IntegrityError:
                # Another intake process recorded it between our look-up and our insert.
                s.rollback()
                found = self._existing(s, envelope, key)
                if found is None:
                    raise
                return (*found, received)
            result = (mail.id, mail.status, received)
        self.hook("recorded")
        return result

    def _existing(self, s: Session, envelope: Envelope, key: str) -> tuple[int, MailStatus] | None:
        query = sa.select(MailMessage.id, MailMessage.status).where(MailMessage.mailbox == envelope.mailbox)
        if envelope.uid is not None:
            query = query.where(MailMessage.uidvalidity == envelope.uidvalidity, MailMessage.uid == envelope.uid)
        else:
            query = query.where(MailMessage.uid.is_(None), MailMessage.blob_key == key)
        row = s.execute(query.order_by(MailMessage.id).limit(1)).first()
        return (row[0], row[1]) if row else None

    def take(self, envelope: Envelope) -> Result:
        """Receive and process one message; a message processed by an earlier run comes back with earlier=True."""
        mail_id, status, received = self._receive(envelope)
        if status != MailStatus.PENDING:
            return self.outcome(mail_id, earlier=True)
        return self._process(mail_id, envelope.oversize, received)

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
        return self._process(mail_id, oversize, None)

    def _process(self, mail_id: int, oversize: int | None, received: _Received | None) -> Result:
        for attempt in range(3):
            try:
                return self._process_once(mail_id, oversize, received)
            except IntegrityError:
                # A concurrent intake filed the same CUFE (or event CUDE) first: decide again, now as a duplicate.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _process_once(self, mail_id: int, oversize: int | None, received: _Received | None) -> Result:
        with self.sessions() as s:
            mail = s.get(MailMessage, mail_id, with_for_update={"skip_locked": True})
            if mail is None:  # another process holds it right now; it will commit the outcome
                return Result(mail_id, MailStatus.PENDING, earlier=True)
            if mail.status != MailStatus.PENDING:
                s.rollback()
                return self.outcome(mail_id, earlier=True)
            if received is not None and received.key == mail.blob_key:
                data, message = received.data, received.message  # the very bytes the key hashes
            else:
                data, message = self.blobs.get(mail.blob_key), None
            plan = self._plan(s, mail, data, oversize, message)
            self.hook("verified")
            result = self._apply(s, mail, plan)
            s.commit()
        self.hook("committed")
        return result

    def _plan(
        self, s: Session, mail: MailMessage, data: bytes, oversize: int | None, message: Message | None = None
    ) -> _Plan:
        plan = _Plan()
        if oversize is not None or len(data) > self.policy.max_message_bytes:
            size = oversize or len(data)
            plan.reason = QuarantineReason.TOO_LARGE
            plan.detail = (
                f"{REASON_TEXT[plan.reason]}: el mensaje pesa {size / 1048576:.1f} MB y el límite es "
                f"{self.policy.max_message_bytes / 1048576:.1f} MB"
            )
            return plan
        if mail.message_id:
            earlier = s.execute(
                sa.select(MailMessage.id)
                .where(
                    MailMessage.message_id == mail.message_id,
                    MailMessage.blob_key == mail.blob_key,
                    MailMessage.id != mail.id,
                    MailMessage.status != MailStatus.PENDING,
                )
                .order_by(MailMessage.id)
                .limit(1)
            ).scalar()
            if earlier is not None:
                plan.duplicate_of = earlier
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
            self._consider(s, part, plan, unreadable)
        plan.items = _prefer_containers(plan.items)
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

    def _consider(self, s: Session, part: Part, plan: _Plan, unreadable: list[str]) -> None:
        report = verify_received(
            part.data, trust=self.policy.trust, our_nit=self.policy.our_nit, dian_pins=self.policy.dian_pins
        )
        short = part.name.rpartition("!")[2]
        if report.unreadable:
            unreadable.append(f"{short}: {_first_failure(report.checks)}")
            return
        if report.kind == "ApplicationResponse":
            self._consider_event(s, part.name, part.data, None, plan)
            return
        attached = report.attached
        if report.document is None and attached is not None and _local(attached.document_xml) == "ApplicationResponse":
            self._consider_event(s, part.name, attached.document_xml, attached.dian_response_xml, plan)
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
            plan.items.append(item)
            return
        assert report.document is not None
        item.cufe = report.document.uuid.strip().lower()
        self._online(item)
        if item.reason is None and self.policy.require_dian_validation:
            answered = report.dian_response is not None
            confirmed = any(c.name == "dian.online" and c.outcome == Outcome.PASS for c in item.extra_checks)
            if not answered and not confirmed:
                item.reason = QuarantineReason.NOT_VALIDATED
                item.detail = f"{REASON_TEXT[item.reason]}: no trae la respuesta de DIAN y no se consultó en línea"
        if item.reason is None:
            self._dedupe(s, item, report)
        plan.items.append(item)

    def _online(self, item: _Item) -> None:
        check = self.policy.online_check
        if check is None or item.cufe is None:
            return
        try:
            answer = check(item.cufe)
            outcome = Outcome(getattr(answer, "outcome", "warn"))
            detail = str(getattr(answer, "detail", "") or "")
        except Exception as exc:  # DIAN down must not block intake: file, warn
            item.extra_checks.append(
                Check("dian.online", Outcome.WARN, f"no se pudo consultar el documento en DIAN: {exc}")
            )
            return
        item.extra_checks.append(Check("dian.online", outcome, detail or f"consulta en línea: {outcome.value}"))
        if outcome == Outcome.FAIL:
            item.reason = QuarantineReason.NOT_VALIDATED
            item.detail = f"{REASON_TEXT[item.reason]}: {detail or 'DIAN no reconoce el CUFE'}"

    def _dedupe(self, s: Session, item: _Item, report: ReceptionReport) -> None:
        assert item.cufe is not None and report.document_xml is not None
        existing = s.execute(
            sa.select(ReceivedDocument.id, ReceivedDocument.signed_xml_blob).where(ReceivedDocument.cufe == item.cufe)
        ).first()
        if existing is None:
            return
        if existing[1] == hashlib.sha256(report.document_xml).hexdigest():
            item.duplicate = True
        else:
            item.reason = QuarantineReason.DUPLICATE
            item.detail = (
                f"{REASON_TEXT[item.reason]}: el CUFE {item.cufe[:16]}… ya está archivado (documento #{existing[0]}) "
                "y este trae otro contenido firmado"
            )

    def _consider_event(self, s: Session, name: str, xml: bytes, answer_xml: bytes | None, plan: _Plan) -> None:
        item = _Item(kind="event", part=name, event_xml=xml, event_answer_xml=answer_xml)
        plan.items.append(item)
        signature = verify(xml, trust=self.policy.trust)
        if signature.signed_element is None or signature.verdict == Verdict.INVALID:
            item.reason = QuarantineReason.SIGNATURE_INVALID
            item.detail = f"{REASON_TEXT[item.reason]} (evento): {_first_failure(signature.checks)}"
            return
        try:
            event = parse_document(signature.signed_element)
        except ParseError as exc:
            item.reason = QuarantineReason.UNREADABLE
            item.detail = f"{REASON_TEXT[item.reason]}: el evento firmado no se puede leer: {exc}"
            return
        codes = {c.value for c in EventCode}
        if not isinstance(event, ApplicationResponse) or event.response_code not in codes:
            plan.items.remove(item)  # DIAN's own validation answer on its own: a companion file, not an event
            return
        item.event = event
        ref = event.document_reference
        item.cufe = (ref.uuid or "").strip().lower() if ref else None
        if not item.cufe:
            item.reason = QuarantineReason.UNREADABLE
            item.detail = f"{REASON_TEXT[item.reason]}: el evento {event.response_code} no nombra el CUFE del documento"
            return
        on_file = s.execute(sa.select(ReceivedDocument.id).where(ReceivedDocument.cufe == item.cufe)).scalar()
        ours = {_digits(event.sender.nit), _digits(event.receiver.nit)}
        # 034 goes from the seller to DIAN and names no buyer: without its invoice on file it waits to be linked.
        if on_file is None and not ours & {_digits(self.policy.our_nit), DIAN_NIT}:
            item.reason = QuarantineReason.NOT_FOR_US
            item.detail = (
                f"{REASON_TEXT[item.reason]}: el evento {event.response_code} es entre los NIT "
                f"{event.sender.nit} y {event.receiver.nit} y su documento no está archivado"
            )
            return
        cude = (event.uuid or "").strip().lower() or None
        if cude and s.execute(sa.select(DocumentEvent.id).where(DocumentEvent.cude == cude)).scalar() is not None:
            item.duplicate = True
            return
        item.event_registered, item.event_note = self._event_answer(answer_xml, cude)

    def _event_answer(self, answer_xml: bytes | None, cude: str | None) -> tuple[bool, str]:
        """Whether DIAN's attached answer registers the event (signed by DIAN, code 02, same CUDE)."""
        if answer_xml is None:
            return False, "evento observado sin la respuesta de DIAN adjunta"
        store = self.policy.trust
        if self.policy.dian_pins:
            store = TrustStore(anchors=store.anchors, pins=store.pins | frozenset(self.policy.dian_pins))
        signature = verify(answer_xml, trust=store, expected_nits=(DIAN_NIT,))
        if signature.signed_element is None or signature.verdict == Verdict.INVALID:
            return False, f"la respuesta de DIAN adjunta al evento no verifica: {_first_failure(signature.checks)}"
        try:
            answer = parse_document(signature.signed_element)
        except ParseError as exc:
            return False, f"la respuesta de DIAN adjunta al evento es ilegible: {exc}"
        if not isinstance(answer, ApplicationResponse) or answer.response_code != "02":
            return False, "DIAN no validó el evento"
        ref = answer.document_reference
        if cude is None or ref is None or (ref.uuid or "").strip().lower() != cude:
            return False, "la respuesta de DIAN adjunta es de otro evento"
        return True, "evento validado por la DIAN"

    # --- writing the outcome ------------------------------------------------------------------------------------

    def _apply(self, s: Session, mail: MailMessage, plan: _Plan) -> Result:
        now = self.clock()
        result = Result(mail.id, MailStatus.PENDING)
        if plan.duplicate_of is not None:
            mail.status, mail.reason = MailStatus.IGNORED, QuarantineReason.DUPLICATE
            mail.reason_detail = f"El mismo correo ya se recibió (mensaje #{plan.duplicate_of})"
            result.duplicates.append(mail.message_id or "")
            self.hook("parts_stored")
            self._audit(s, "mail.duplicate", f"mail:{mail.id}", {"earlier": plan.duplicate_of}, now)
            return self._finish(mail, result)
        if plan.reason is not None:
            self.hook("parts_stored")
            return self._quarantine(s, mail, result, plan.reason, plan.detail, now)
        refused: list[_Item] = []
        # The blobs to write, by what they are (item index or "pdf", role): all written (and flushed) in one go.
        parts: dict[tuple[int | str, str], bytes] = {}
        if plan.pdf:
            parts["pdf", "pdf"] = plan.pdf
        kept: list[tuple[int, _Item]] = []
        for index, item in enumerate(plan.items):
            if item.reason is not None:
                refused.append(item)
            elif item.duplicate:
                result.duplicates.append(item.cufe or "")
            elif item.kind == "document":
                assert item.report is not None and item.report.document_xml is not None
                kept.append((index, item))
                parts[index, "signed"] = item.report.document_xml
                if item.report.dian_response_xml:
                    parts[index, "answer"] = item.report.dian_response_xml
                if item.part in plan.containers:
                    parts[index, "container"] = plan.containers[item.part]
            else:
                assert item.event_xml is not None
                kept.append((index, item))
                parts[index, "signed"] = item.event_xml
                if item.event_answer_xml:
                    parts[index, "answer"] = item.event_answer_xml
        written = dict(zip(parts, self.blobs.put_many(parts.values()), strict=True)) if kept or plan.pdf else {}
        pdf_key = written.get(("pdf", "pdf"))
        stored: list[tuple[_Item, dict[str, str | None]]] = []
        for index, item in kept:
            keys: dict[str, str | None] = {"signed": written[index, "signed"], "answer": written.get((index, "answer"))}
            if item.kind == "document":
                keys["container"] = written.get((index, "container"))
            stored.append((item, keys))
        self.hook("parts_stored")
        for item, keys in stored:
            if item.kind == "document":
                self._file(s, mail, item, keys, pdf_key, now, result)
            else:
                self._record_event(s, mail, item, keys, now, result)
        if refused:
            first = refused[0]
            assert first.reason is not None
            detail = " | ".join(i.detail for i in refused)
            if result.filed or result.events:
                detail += f" (además se archivaron {len(result.filed) + len(result.events)} documento(s) del correo)"
            for item in refused:
                self._audit(
                    s,
                    "document.quarantined",
                    item.cufe or f"mail:{mail.id}",
                    {"mail_message_id": mail.id, "reason": item.reason.value if item.reason else None,
                     "part": item.part, "detail": item.detail},
                    now,
                )  # fmt: skip
            return self._quarantine(s, mail, result, first.reason, detail, now)
        if result.filed or result.events:
            mail.status, mail.reason, mail.reason_detail = MailStatus.FILED, None, None
        else:  # every document in it is already on file
            mail.status, mail.reason = MailStatus.IGNORED, QuarantineReason.DUPLICATE
            mail.reason_detail = "Todos los documentos del correo ya estaban archivados: " + ", ".join(
                c[:16] + "…" for c in result.duplicates
            )
            self._audit(s, "mail.duplicate", f"mail:{mail.id}", {"cufes": result.duplicates}, now)
        return self._finish(mail, result)

    def _finish(self, mail: MailMessage, result: Result) -> Result:
        result.status, result.reason, result.detail = mail.status, mail.reason, mail.reason_detail
        return result

    def _quarantine(
        self, s: Session, mail: MailMessage, result: Result, reason: QuarantineReason, detail: str, now: datetime
    ) -> Result:
        mail.status, mail.reason, mail.reason_detail = MailStatus.QUARANTINED, reason, detail
        self._audit(
            s,
            "mail.quarantined",
            f"mail:{mail.id}",
            {"reason": reason.value, "detail": detail, "subject": mail.subject},
            now,
        )
        return self._finish(mail, result)

    def _audit(self, s: Session, action: str, subject: str, data: dict[str, Any], now: datetime) -> None:
        audit.record(s, actor=self.actor, action=action, subject=subject[:200], source="inbox", data=data, at=now)

    def _file(
        self,
        s: Session,
        mail: MailMessage,
        item: _Item,
        keys: dict[str, str | None],
        pdf_key: str | None,
        now: datetime,
        result: Result,
    ) -> None:
        report = item.report
        assert report is not None and report.document is not None and item.cufe is not None
        doc = report.document
        summary = report.to_dict()
        if item.extra_checks:
            summary["checks"].extend(c.to_dict() for c in item.extra_checks)
        summary["intake"] = {"mail_message_id": mail.id, "part": item.part, "at": now.isoformat()}
        verdict = report.verdict
        if any(c.outcome == Outcome.WARN for c in item.extra_checks) and verdict == Verdict.VALID:
            verdict = Verdict.VALID_WITH_WARNINGS
        summary["verdict"] = verdict.value
        referenced = next((r.uuid.strip().lower() for r in doc.billing_references if r.uuid), None)
        referenced_id = None
        if referenced:
            referenced_id = s.execute(
                sa.select(ReceivedDocument.id).where(ReceivedDocument.cufe == referenced)
            ).scalar()
        total = doc.monetary_total
        row = ReceivedDocument(
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
            report=summary,
            mail_message_id=mail.id,
            referenced_cufe=referenced,
            referenced_document_id=referenced_id,
        )
        s.add(row)
        s.flush()  # the CUFE's unique constraint speaks here when a concurrent intake filed it first
        # A note that arrived before its invoice, and events seen before it, now point at it.
        s.execute(
            sa.update(ReceivedDocument)
            .where(ReceivedDocument.referenced_cufe == item.cufe, ReceivedDocument.referenced_document_id.is_(None))
            .values(referenced_document_id=row.id)
        )
        s.execute(
            sa.update(DocumentEvent)
            .where(DocumentEvent.referenced_cufe == item.cufe, DocumentEvent.document_id.is_(None))
            .values(document_id=row.id)
        )
        self._audit(
            s,
            "document.filed",
            item.cufe,
            {
                "mail_message_id": mail.id,
                "document_id": row.id,
                "type": doc.document_type.value,
                "number": doc.number,
                "issuer_nit": doc.supplier.nit,
                "verdict": verdict.value,
                "referenced_cufe": referenced,
            },
            now,
        )
        result.filed.append(item.cufe)

    def _record_event(
        self, s: Session, mail: MailMessage, item: _Item, keys: dict[str, str | None], now: datetime, result: Result
    ) -> None:
        event = item.event
        assert event is not None and item.cufe is not None
        document_id = s.execute(sa.select(ReceivedDocument.id).where(ReceivedDocument.cufe == item.cufe)).scalar()
        response = event.responses[0] if event.responses else None
        claim = None
        if event.response_code == EventCode.RECLAMO.value and response and response.list_id:
            claim = ClaimReason(response.list_id) if response.list_id in {c.value for c in ClaimReason} else None
        person = event.issuer_person
        cude = (event.uuid or "").strip().lower() or None
        row = DocumentEvent(
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
            signing_time=event.issued_at,
            submission_state=SubmissionState.REGISTERED if item.event_registered else SubmissionState.SENT,
            dian_response_blob=keys.get("answer"),
            registered_at=now if item.event_registered else None,
            actor=self.actor,
        )  # fmt: skip
        s.add(row)
        s.flush()
        self._audit(
            s,
            "document.event.observed",
            item.cufe,
            {"mail_message_id": mail.id, "code": event.response_code, "cude": cude, "document_id": document_id,
             "registered": item.event_registered},
            now,
        )  # fmt: skip
        result.events.append(cude or item.cufe)


def _digits(value: str) -> str:
    return "".join(c for c in value.split("-")[0] if c.isdigit())


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
