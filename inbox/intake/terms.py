"""The terms of intake: what a source hands in (``Envelope``), what intake checks against (``IntakePolicy``), what
becomes of each message (``Result``), and the names of the steps a message goes through (``STEPS``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from dian.codes import Environment
from dian.proof import OnlineAnswer
from dian.trust import TrustStore
from inbox.unpack import Limits
from store.models import MailStatus, QuarantineReason

# The steps of one message, in order (the package's docstring says what each means and which module takes it).
STEPS = ("fetched", "stored", "recorded", "verified", "parts_stored", "committed", "settled")
ACTOR = "system:intake"


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
    # The DIAN environment our events go to (None: DIAN's simulator, no check). A production install quarantines a
    # document of DIAN's test environment (no fiscal validity); one in habilitación warns of a production document.
    environment: Environment | None = None
    # Called after the commit with the ids of documents whose events changed (an observed event recorded, or events
    # seen earlier linked to a newly filed invoice), so their state is derived again; its failure is logged, and the
    # sync job derives the state again anyway.
    on_documents: Callable[[list[int]], None] | None = None
    # Called after the commit with the ids of our own invoices (outbound_documents) whose buyer's events were recorded
    # from mail, so their receivable is derived again and a claim (031) alerts the seller's team (radian/sync.py).
    on_receivables: Callable[[list[int]], None] | None = None


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
    receivables: list[int] = field(default_factory=list)  # our own invoices whose buyer's events were recorded
    earlier: bool = False  # the outcome was committed by an earlier run; nothing was done now
