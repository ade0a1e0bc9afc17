"""What the rules know about one document: its DocumentFacts (type, payment, dates, registered events, the title's
history) and, for 035-051, the Sending (who sends which variant, and how).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType

from dian.codes import DocumentType, EventCode, Operation, PaymentMeans
from dian.radian.history import TitleAct, holders_since
from dian.radian.model import Share

E = EventCode


# An event that is cancelled or terminated by a later one no longer excludes others (radian-issuing-facts.md A.7, A.12).
# 040 does not say here which endorsement it cancelled; a later 040 is taken to lift both 038 and 039.
_LIFTED_BY = {
    E.LIMITACION_CIRCULACION: E.TERMINACION_LIMITACION,
    E.ENDOSO_GARANTIA: E.CANCELACION_ENDOSO,
    E.ENDOSO_PROCURACION: E.CANCELACION_ENDOSO,
}


def require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got the naive datetime {value.isoformat()}")


@dataclass(frozen=True)
class DocumentFacts:
    """What the rules need to know about one received or issued document."""

    document_type: DocumentType
    payment_means: PaymentMeans | None
    signed_at: datetime | None = None  # the document's xades:SigningTime, when known
    # Registered event code -> its signing time, or times when the code repeats (037, 045...); read back as a
    # read-only mapping of sorted tuples.
    events: Mapping[EventCode, datetime | Sequence[datetime]] = field(default_factory=dict)
    due_date: date | None = None  # cbc:PaymentDueDate, for 046 and 047
    # For the history rules of 035-051 (radian-issuing-facts.md A.3, A.11): the invoice's parties and CUFE, and every
    # registered event on it as a TitleAct (plus the "all invoices" mandates of its parties). Their codes and times
    # join ``events``.
    issuer_nit: str | None = None
    buyer_nit: str | None = None
    invoice_cufe: str | None = None
    history: Sequence[TitleAct] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "document_type", DocumentType(self.document_type))
        if self.payment_means is not None:
            object.__setattr__(self, "payment_means", PaymentMeans(self.payment_means))
        if self.signed_at is not None:
            require_aware(self.signed_at, "signed_at")
        events: dict[EventCode, tuple[datetime, ...]] = {}
        for code, times in self.events.items():
            moments = (times,) if isinstance(times, datetime) else tuple(times)
            if not moments:
                raise ValueError(f"event {code} is registered without a signing time")
            for moment in moments:
                require_aware(moment, f"the signing time of event {code}")
            events[EventCode(code)] = tuple(sorted(moments))
        history = tuple(sorted(self.history, key=lambda act: act.signed_at))
        for act in history:
            if act.signed_at not in events.get(act.code, ()):
                events[act.code] = tuple(sorted((*events.get(act.code, ()), act.signed_at)))
        object.__setattr__(self, "history", history)
        object.__setattr__(self, "events", MappingProxyType(events))

    @property
    def knows_parties(self) -> bool:
        """True when the issuer's NIT is known, so the holder can be replayed (A.11)."""
        return bool(self.issuer_nit)

    def holders(self) -> tuple[tuple[Share, ...], TitleAct | None]:
        """The current legitimate holder(s) and the 037 that made them so (A.11); the issuer while none."""
        return holders_since(Share(self.issuer_nit or "", ""), self.history)

    def latest(self, code: EventCode) -> datetime | None:
        """Return the latest signing time of a registered event, or None."""
        times = self.events.get(code)
        return times[-1] if times else None  # type: ignore[index]  # a tuple since __post_init__

    def in_force(self, code: EventCode) -> bool:
        """True when ``code`` is registered and not lifted by a later cancelling event (040, 042)."""
        latest = self.latest(code)
        if latest is None:
            return False
        lifted = self.latest(_LIFTED_BY[code]) if code in _LIFTED_BY else None
        return lifted is None or lifted < latest


@dataclass(frozen=True)
class Sending:
    """Who sends which variant of an event, and how: what the variant and history rules need (A.3-A.13).

    ``provider_nit`` is the sts:SoftwareProvider: another NIT than the sender's means a mandatario transmits (A.3).
    ``reference_cude`` is the event a 040/042/044 ends. ``list_id`` is ResponseCode/@listID (045/051 under 041).
    """

    operation: Operation
    sender_nit: str
    provider_nit: str | None = None
    list_id: str | None = None
    reference_cude: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "operation", Operation(self.operation))
