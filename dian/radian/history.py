"""A title's registered events as DIAN's rules read them, and what DIAN derives from them: the current legitimate
holder (A.11), the mandates in force (A.8) and the limitation in force (A.7).

Pure and ordered by signing time, the order DIAN applies (A.11, A.12). ``dian.rules`` asks these questions before an
event is sent; ``radian.title`` builds the treasurer's view of a title from the same answers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from dian.codes import EventCode, MandateScope, Operation
from dian.nit import same_nit
from dian.radian.literals import MANDATE_GENERAL_POWER
from dian.radian.model import Mandate, RadianEvent, Share

__all__ = [
    "TitleAct",
    "active_mandates",
    "holders",
    "holders_since",
    "in_force",
    "powers_cover",
    "scope_label",
    "total_payment",
]

E = EventCode


@dataclass(frozen=True)
class TitleAct:
    """One event registered on an invoice, as the rules need it: the code (and operation, for 035-051), when it was
    signed, who sent it to whom, and what it ends or grants.

    ``receivers`` are the ReceiverParty/PartyLegalEntity shares (the endorsees of a 037) or, when the event lists none,
    the ReceiverParty itself; ``reference_cude`` is the event a 040/042/044 ends (A.4).
    """

    code: EventCode
    signed_at: datetime
    sender_nit: str
    receivers: tuple[Share, ...] = ()
    operation: Operation | None = None
    cude: str | None = None
    list_id: str | None = None
    reference_cude: str | None = None
    paid: Decimal | None = None  # 045/051: the amount paid
    mandate: Mandate | None = None  # 043
    sender_name: str | None = None

    def __post_init__(self) -> None:
        if self.signed_at.tzinfo is None or self.signed_at.utcoffset() is None:
            raise ValueError(f"the signing time of event {self.code} must be timezone-aware")
        object.__setattr__(self, "code", EventCode(self.code))
        if self.operation is not None and Operation(self.operation).event is not self.code:
            raise ValueError(f"operation {self.operation} is not an operation of event {self.code}")

    @classmethod
    def of(cls, event: RadianEvent, signed_at: datetime) -> TitleAct:
        """The act a registered RADIAN event stands for, signed at its xades:SigningTime."""
        receivers = event.receiver_shares or (
            Share(event.receiver.nit, event.receiver.registration_name or "", event.receiver.dv),
        )
        return cls(
            code=event.code,
            signed_at=signed_at,
            sender_nit=event.sender.nit,
            receivers=receivers,
            operation=event.operation,
            cude=event.cude,
            list_id=event.mandate.scope.value if event.mandate else event.list_id,
            reference_cude=event.reference.uuid if event.reference.is_event else None,
            paid=event.paid if event.code in (E.PAGO, E.PAGO_TRANSFERENCIA) else None,
            mandate=event.mandate,
            sender_name=event.sender.registration_name,
        )


def _ordered(history: Iterable[TitleAct]) -> list[TitleAct]:
    return sorted(history, key=lambda act: act.signed_at)


def holders_since(issuer: Share, history: Iterable[TitleAct]) -> tuple[tuple[Share, ...], TitleAct | None]:
    """The current legitimate holder(s) and the 037 that made them so (None: still the issuer), A.11.

    DIAN's replay: holder := issuer; for each registered 037 in signing order, holder := its ReceiverParty
    PartyLegalEntity(s). 038/039/047/049 do not change it.
    """
    current: tuple[Share, ...] = (issuer,)
    last: TitleAct | None = None
    for act in _ordered(history):
        if act.code is E.ENDOSO_PROPIEDAD and act.receivers:
            current, last = act.receivers, act
    return current, last


def holders(issuer: Share, history: Iterable[TitleAct]) -> tuple[Share, ...]:
    """The current legitimate holder(s) (A.11)."""
    return holders_since(issuer, history)[0]


def total_payment(history: Iterable[TitleAct]) -> TitleAct | None:
    """The 452 total payment that closed the title, if any (A.9)."""
    return next((act for act in _ordered(history) if act.operation is Operation.TOTAL_PAYMENT), None)


def _ended(act: TitleAct, history: Sequence[TitleAct], by: EventCode) -> bool:
    # An ending event names what it ends by CUDE (A.4); lacking a CUDE on either side, a later one of its kind ends it.
    for other in history:
        if other.code is not by or other.signed_at < act.signed_at:
            continue
        if other.reference_cude is None or act.cude is None or other.reference_cude == act.cude:
            return True
    return False


def in_force(history: Iterable[TitleAct], code: EventCode, ended_by: EventCode) -> tuple[TitleAct, ...]:
    """The acts of ``code`` not ended by a later ``ended_by`` (041 by 042, 038/039 by 040, 043 by 044)."""
    ordered = _ordered(history)
    return tuple(act for act in ordered if act.code is code and not _ended(act, ordered, ended_by))


def active_mandates(
    history: Iterable[TitleAct], *, mandante_nit: str, mandatario_nit: str, invoice_cufe: str | None, at: datetime
) -> tuple[TitleAct, ...]:
    """Registered 043 mandates from ``mandante_nit`` to ``mandatario_nit`` in force at ``at``, not ended by a 044,
    covering this invoice (A.3, A.8). Powers are judged by the caller (see ``powers_cover``)."""
    found = []
    for act in in_force(history, E.MANDATO, E.TERMINACION_MANDATO):
        mandate = act.mandate
        if mandate is None or not same_nit(act.sender_nit, mandante_nit):
            continue
        if not same_nit(mandate.mandatario_nit, mandatario_nit) or act.signed_at > at:
            continue
        if not mandate.in_force_on(at.date()):
            continue
        if invoice_cufe is not None and not mandate.covers_invoice(invoice_cufe):
            continue
        found.append(act)
    return tuple(found)


def powers_cover(mandate: Mandate) -> bool | None:
    """True for general powers (ALL17, which cover every event); None when the powers are limited codes whose meaning
    table 14.2.4 does not publish (A.8), so nobody but DIAN can say which events they cover."""
    if all(power.split("-", 1)[0] == MANDATE_GENERAL_POWER for power in mandate.powers):
        return True
    return None


def scope_label(scope: MandateScope) -> str:
    """The mandate's scope in Spanish."""
    return {
        MandateScope.ONE_INVOICE: "una factura",
        MandateScope.SEVERAL_INVOICES: "varias facturas",
        MandateScope.ALL_INVOICES: "todas las facturas del mandante",
    }[scope]
