"""The plan of one message: what intake decided to do with it and with each document, event or DIAN answer found
in it, computed before anything is written (``planning``), then written as one outcome (``applying``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from dian.proof import LearnedCertificate
from dian.reception import ReceptionReport
from dian.ubl import ApplicationResponse
from dian.xades import Check
from store.models import MailStatus, QuarantineReason


@dataclass
class Mail:
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
class Item:
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
    outbound_id: int | None = None  # the event is the buyer's, on an invoice of ours (outbound_documents)
    confirmed_online: bool = False  # DIAN's endpoint confirmed the document (dian.proof.confirm_online)
    learned: LearnedCertificate | None = None  # DIAN's certificate that confirmation teaches
    answer_xml: bytes | None = None  # kind "answer": DIAN's validation mailed on its own
    upgrade: ReceptionReport | None = None  # a document on file "sin confirmar" that this item proves
    # Found while deduplicating: notes and events already filed that name this CUFE and wait to be linked to it.
    orphan_notes: bool = False
    orphan_events: bool = False


@dataclass
class Plan:
    """What to do with one message: its items, the PDF and containers their rows name, or its refusal as a whole."""

    items: list[Item] = field(default_factory=list)
    pdf: bytes | None = None
    containers: dict[str, bytes] = field(default_factory=dict)
    reason: QuarantineReason | None = None  # refusal of the message as a whole
    detail: str = ""
    duplicate_of: int | None = None
