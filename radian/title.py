"""A value title as treasury sees it, derived only from the RADIAN events registered on the invoice (ours and
observed): state, current legitimate holder (DIAN's replay, radian-issuing-facts.md A.11), who to pay, due date, value,
outstanding balance, limitations (041/042), mandates (043/044) and the chain of circulation.

Pure: no database, no clock. The service layer (next sessions) loads the registered events and calls ``ValueTitle.of``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from dian.codes import EventCode, Operation
from dian.radian.blocks import Limitation, PaymentRecord
from dian.radian.history import TitleAct, holders_since, in_force
from dian.radian.model import Mandate, RadianEvent, Share
from dian.ubl.model import Party

__all__ = ["ChainLink", "TitleState", "ValueTitle"]

E = EventCode


class TitleState(StrEnum):
    """Where the title stands; the labels follow DIAN's portal (A.12), with partial payment told apart."""

    REGISTERED = "registered"  # 036: "Disponibilizada"
    ENDORSED = "endorsed"  # 037/038/039/047: "Endosada"
    LIMITED = "limited"  # an active 041: "Limitada"
    PROTESTED = "protested"  # 048: "Protestada"
    TRANSFERRED = "transferred"  # 049: "Transferida"
    PARTIALLY_PAID = "partially_paid"  # 451/511: the title keeps circulating (A.9)
    PAID = "paid"  # 452/512: "Pagada"; nothing follows (A.9)

    @property
    def label(self) -> str:
        return _STATE_LABELS[self]


_STATE_LABELS = {
    TitleState.REGISTERED: "Inscrita en RADIAN",
    TitleState.ENDORSED: "Endosada",
    TitleState.LIMITED: "Limitada (medida cautelar)",
    TitleState.PROTESTED: "Protestada",
    TitleState.TRANSFERRED: "Derechos transferidos",
    TitleState.PARTIALLY_PAID: "Pagada parcialmente",
    TitleState.PAID: "Pagada",
}
# The event that sets each state, as DIAN's portal reads the chain: the last one wins (A.12).
_STATE_OF = {
    E.INSCRIPCION_TITULO: TitleState.REGISTERED,
    E.ENDOSO_PROPIEDAD: TitleState.ENDORSED,
    E.ENDOSO_GARANTIA: TitleState.ENDORSED,
    E.ENDOSO_PROCURACION: TitleState.ENDORSED,
    E.ENDOSO_CESION: TitleState.ENDORSED,
    E.PROTESTO: TitleState.PROTESTED,
    E.TRANSFERENCIA_DERECHOS: TitleState.TRANSFERRED,
}
_TOTAL = frozenset({Operation.TOTAL_PAYMENT, Operation.TRANSFER_TOTAL_PAYMENT})
_PARTIAL = frozenset({Operation.PARTIAL_PAYMENT, Operation.TRANSFER_PARTIAL_PAYMENT})


@dataclass(frozen=True)
class ChainLink:
    """One registered event in the title's circulation, for the timeline."""

    event: RadianEvent
    signed_at: datetime

    @property
    def operation(self) -> Operation:
        return self.event.operation

    @property
    def sender(self) -> Party:
        return self.event.sender

    @property
    def receivers(self) -> tuple[Share, ...]:
        """The endorsees/assignees with their shares, or the receiving party itself."""
        receiver = self.event.receiver
        return self.event.receiver_shares or (Share(receiver.nit, receiver.registration_name or "", receiver.dv),)


@dataclass(frozen=True)
class ValueTitle:
    """The title derived from its registered events; see ``of``."""

    invoice_number: str
    invoice_cufe: str | None
    issuer: Share
    debtor: Party | None
    value: Decimal | None  # ConstanciadePagos NuevoValorTV of the first registration (A.5)
    due_date: date | None  # ValidityPeriod/EndDate (AAH59)
    paid: Decimal
    state: TitleState
    holders: tuple[Share, ...]  # DIAN's legitimate holder(s), A.11
    holder_since: datetime | None  # the 037 that made them holders; None while the issuer holds it
    payee: tuple[Share, ...]  # whom the debtor pays: the holder, or the assignee of notified economic rights
    limitations: tuple[ChainLink, ...]  # active 041s
    mandates: tuple[ChainLink, ...]  # 043s not ended by a 044
    chain: tuple[ChainLink, ...]  # every registered event, in signing order

    @property
    def outstanding(self) -> Decimal | None:
        """What remains to be paid: the value less the 045/051 payments; 0 once paid in total (A.9)."""
        if self.state is TitleState.PAID:
            return Decimal("0.00")
        return None if self.value is None else self.value - self.paid

    @property
    def frozen(self) -> bool:
        """True while a 041 limitation is active: payments must say so and circulation stops (A.7)."""
        return bool(self.limitations)

    @property
    def closed(self) -> bool:
        """True after a total payment: DIAN accepts no further event that moves the title (A.9)."""
        return self.state is TitleState.PAID

    def limited_amount(self) -> Decimal | None:
        """The sum of the active precautionary measures (InformacionMedidaCautelar)."""
        amounts = [link.event.block.amount for link in self.limitations if isinstance(link.event.block, Limitation)]
        return sum(amounts, Decimal(0)) if amounts else None

    def mandate_to(self, nit: str) -> Mandate | None:
        """The active mandate whose mandatario is ``nit``, if any."""
        for link in self.mandates:
            if link.event.mandate is not None and link.event.mandate.mandatario_nit == nit:
                return link.event.mandate
        return None

    @classmethod
    def of(cls, registered: Iterable[tuple[RadianEvent, datetime]], *, issuer: Share | None = None) -> ValueTitle:
        """Derive the title from (event, signing time) pairs DIAN registered on one invoice, in any order.

        The issuer is the sender of the first registration (361/362); pass it when there is none yet (043 and 049 may
        come before any 036, A.5 and A.10). Events about another invoice are refused.
        """
        links = tuple(sorted((ChainLink(e, t) for e, t in registered), key=lambda link: link.signed_at))
        if not links:
            raise ValueError("a value title needs at least one registered event")
        first = next((link for link in links if link.operation in _FIRST_REGISTRATIONS), None)
        if issuer is None:
            if first is None:
                raise ValueError("no first registration (361/362) among the events: pass the invoice issuer")
            sender = first.sender
            issuer = Share(sender.nit, sender.registration_name or "", sender.dv)
        invoice = next((link.event.reference for link in links if not link.event.reference.is_event), None)
        acts = tuple(TitleAct.of(link.event, link.signed_at) for link in links)
        for link in links:
            reference = link.event.reference
            if invoice is not None and not reference.is_event and reference.uuid != invoice.uuid:
                raise ValueError(f"event {link.event.number} is about invoice {reference.id}, not {invoice.id}")
        current, since = holders_since(issuer, acts)
        limitations = tuple(_link(links, a) for a in in_force(acts, E.LIMITACION_CIRCULACION, E.TERMINACION_LIMITACION))
        mandates = tuple(_link(links, a) for a in in_force(acts, E.MANDATO, E.TERMINACION_MANDATO))
        # A 040 takes the cancelled 038/039 out of the state, as DIAN's portal does (A.12).
        standing = {
            (a.signed_at, a.code)
            for code in (E.ENDOSO_GARANTIA, E.ENDOSO_PROCURACION)
            for a in in_force(acts, code, E.CANCELACION_ENDOSO)
        }
        cancelled = {
            (link.signed_at, link.event.code)
            for link in links
            if link.event.code in (E.ENDOSO_GARANTIA, E.ENDOSO_PROCURACION)
        } - standing
        return cls(
            invoice_number=invoice.id if invoice else "",
            invoice_cufe=invoice.uuid if invoice else None,
            issuer=issuer,
            debtor=next((link.event.debtor for link in links if link.event.debtor is not None), None),
            value=_value(links),
            due_date=next((link.event.due_date for link in links if link.event.due_date is not None), None),
            paid=sum((a.paid for a in acts if a.paid is not None), Decimal(0)),
            state=_state(
                [link for link in links if (link.signed_at, link.event.code) not in cancelled], bool(limitations)
            ),
            holders=current,
            holder_since=since.signed_at if since else None,
            payee=_payee(links, current),
            limitations=limitations,
            mandates=mandates,
            chain=links,
        )


_FIRST_REGISTRATIONS = frozenset({Operation.FIRST_REGISTRATION, Operation.FIRST_REGISTRATION_DIRECT})


def _link(links: tuple[ChainLink, ...], act: TitleAct) -> ChainLink:
    return next(link for link in links if link.signed_at == act.signed_at and link.event.code is act.code)


def _value(links: tuple[ChainLink, ...]) -> Decimal | None:
    for link in links:
        if isinstance(link.event.block, PaymentRecord):
            return link.event.block.new_value
    return None


def _state(links: list[ChainLink], limited: bool) -> TitleState:
    # DIAN's portal: the last labelled event wins (A.12); a partial payment keeps the title circulating (A.9).
    if any(link.operation in _TOTAL for link in links):
        return TitleState.PAID
    if limited:
        return TitleState.LIMITED
    state = TitleState.REGISTERED
    for link in links:
        if link.operation in _PARTIAL:
            state = TitleState.PARTIALLY_PAID
        elif link.event.code in _STATE_OF:
            state = _STATE_OF[link.event.code]
    return state


def _payee(links: tuple[ChainLink, ...], current: tuple[Share, ...]) -> tuple[Share, ...]:
    # [?] A 049 transfers the economic rights and a 050 notifies the debtor, who then pays the transfer (051) to the
    # assignee (A.10). DIAN's holder table does not move (A.11), so the payee is the assignee only once notified.
    transfer = None
    for link in links:
        if link.event.code is E.TRANSFERENCIA_DERECHOS:
            transfer = link
        if link.event.code is E.NOTIFICACION_TRANSFERENCIA and transfer is not None:
            return transfer.receivers
    return current
