"""What every event operation needs, gathered once by the shell (buzon) from the configuration."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dian.calendar import BOGOTA, BusinessCalendar
from dian.codes import Environment
from dian.proof import DianKeys
from dian.trust import SigningIdentity, TrustStore
from dian.ubl import Party, Person
from dian.ubl.build import Software
from events.approvals import ApprovalPolicy
from store.blobs import BlobStore
from store.retry import Backoff, utc_now

__all__ = ["Backoff", "EventContext", "utc_now"]


@dataclass(frozen=True)
class EventContext:
    """Our company, its software and certificate, the environment, the calendar and where blobs go."""

    company: Party  # with its DV: CompanyID/@schemeID carries it on events
    software: Software  # its PIN enters every CUDE
    environment: Environment
    identity: SigningIdentity
    blobs: BlobStore
    calendar: BusinessCalendar = field(default_factory=BusinessCalendar)
    # Who signs events made by scheduled jobs (030 and 032 name the person who received).
    default_person: Person | None = None
    # The trust store of the configuration (the counterparts' certificates: anchors and pins).
    trust: TrustStore | None = None
    # What DIAN's signature may be anchored in (dian.proof): DIAN's answers are weighed with it before they change
    # anything. None: the trust store above, with the shipped pins (no learned ones).
    keys: DianKeys = None  # type: ignore[assignment]  # filled in by __post_init__
    backoff: Backoff = field(default_factory=Backoff)
    lease_seconds: float = 300.0  # an event marked "sent" whose answer never came is retried after this
    provider_code: str = "000"  # PPP in DIAN file names: 000 = own software (dian-facts.md 4.3)
    # Called as (session, event, now) when an event on an invoice is registered, in that transaction: the shell
    # passes radian.store.on_registered, which derives the invoice's value title again (events never import radian).
    on_title_event: Callable[[Any, Any, datetime], None] | None = None
    # Four-eyes (events/approvals.py, issue 20): which events wait for a second user's approval; None when off.
    approvals: ApprovalPolicy | None = None

    def __post_init__(self) -> None:
        if self.keys is None:
            object.__setattr__(self, "keys", DianKeys.of(self.trust or TrustStore()))

    def issue_moment(self, now: datetime) -> tuple[datetime, str]:
        """The event's IssueDate and IssueTime in Bogota, as "HH:MM:SS-05:00" (the literal enters the CUDE)."""
        local = now.astimezone(BOGOTA)
        return local, local.strftime("%H:%M:%S") + "-05:00"
