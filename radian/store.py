"""Value titles in the database: a title's events as the rules read them, the title row derived again from its
registered events (``radian.title.ValueTitle.of``), and the alerts a change raises.

The row (store.models.ValueTitle) is never edited by hand: ``refresh_title`` recomputes every derived column from the
registered RADIAN events whose signed XML is on file, and counts the others (listed by DIAN without their XML) in the
chain. The same function serves our receivables (events on an outbound document) and the payables the watch follows
(events on a received document).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from dian.codes import DocumentType, EventCode, Operation
from dian.errors import DianError
from dian.radian.blocks import Negotiation, PaymentRecord, Payments, RightsTransfer, TransferPayments, block_fields
from dian.radian.history import TitleAct
from dian.radian.model import RadianEvent, Share
from dian.radian.parse import parse_radian_event
from dian.rules import DocumentFacts
from events.context import utc_now
from radian.messages import holder_changed, pesos, state_words
from radian.title import ValueTitle as DerivedTitle
from store.blobs import BlobStore
from store.models import (
    AlertKind,
    Direction,
    DocumentEvent,
    OutboundDocument,
    PartyRole,
    ReceivedDocument,
    SubmissionState,
    TitleAlert,
    TitleRole,
    TitleState,
    ValueTitle,
)
from store.state import IN_FLIGHT

__all__ = [
    "RADIAN_CODES",
    "TitleEvents",
    "counted",
    "derived_title",
    "ensure_title",
    "event_columns",
    "event_parties",
    "facts_of",
    "load",
    "on_registered",
    "refresh_title",
]

E = EventCode
RADIAN_CODES = frozenset(code for code in EventCode if code.value >= E.AVAL.value)
_FIRST_REGISTRATIONS = (Operation.FIRST_REGISTRATION, Operation.FIRST_REGISTRATION_DIRECT)


def event_columns(event: RadianEvent) -> dict[str, Any]:
    """The document_events columns of a RADIAN event: variant, listID, ended event, names, figures, block, dates."""
    block = event.block
    amount = price = rate = None
    if isinstance(block, Negotiation):
        amount, price, rate = block.total, block.price, block.discount_rate
    elif isinstance(block, RightsTransfer):
        amount, price, rate = block.value, block.price, block.discount_rate
    elif isinstance(block, Payments | TransferPayments):
        amount = event.paid
    elif isinstance(block, PaymentRecord):
        amount = block.new_value
    elif block is not None:
        first = next(iter(block_fields(block).values()), None)
        amount = first if isinstance(first, Decimal) else None
    return {
        "operation": event.operation,
        "list_id": event.mandate.scope.value if event.mandate else event.list_id,
        "reference_cude": event.reference.uuid if event.reference.is_event else None,
        "sender_name": event.sender.registration_name,
        "receiver_name": event.receiver.registration_name,
        "amount": amount,
        "price": price,
        "discount_rate": rate,
        "value_block": {"group": block.GROUP, "pairs": [list(pair) for pair in block.pairs()]} if block else None,
        "effective_date": event.effective_date,
        "due_date": event.due_date,
    }


def event_parties(event: RadianEvent) -> list[dict[str, Any]]:
    """The event_parties rows of a RADIAN event (without event_id)."""
    rows: list[dict[str, Any]] = []

    def add(role: PartyRole, shares: Iterable[Share]) -> None:
        for position, share in enumerate(shares):
            rows.append({"role": role, "position": position, "nit": share.nit, "dv": share.dv,
                         "id_scheme": share.id_scheme, "name": share.registration_name, "amount": share.amount,
                         "legal_form_code": share.legal_form_code})  # fmt: skip

    add(PartyRole.SENDER, event.sender_shares)
    add(PartyRole.RECEIVER, event.receiver_shares)
    if event.counterpart is not None:
        add(PartyRole.COUNTERPART, (event.counterpart,))
    if event.debtor is not None:
        debtor = event.debtor
        add(PartyRole.DEBTOR, (Share(debtor.nit, debtor.registration_name or "", debtor.dv),))
    if event.mandate is not None:
        mandate = event.mandate
        add(PartyRole.MANDATARIO, (Share(mandate.mandatario_nit, "", mandate.mandatario_dv),))
    return rows


@dataclass
class TitleEvents:
    """A title's invoice and every event on it (030-051), oldest first, with the RADIAN ones parsed when their XML is
    on file (``parsed`` by event id)."""

    invoice: OutboundDocument | ReceivedDocument
    events: list[DocumentEvent]
    parsed: dict[int, RadianEvent]

    @property
    def registered(self) -> list[DocumentEvent]:
        return [e for e in self.events if e.submission_state is SubmissionState.REGISTERED]


def _moment(event: DocumentEvent) -> datetime:
    moment = event.signing_time or event.registered_at or event.created_at
    assert moment is not None
    return moment


def load(session: Session, blobs: BlobStore, title: ValueTitle) -> TitleEvents:
    """The title's invoice and events; RADIAN events with signed XML are parsed (a broken one is skipped, not fatal)."""
    if title.outbound_document_id is not None:
        invoice: Any = session.get(OutboundDocument, title.outbound_document_id)
        where = DocumentEvent.outbound_document_id == title.outbound_document_id
    else:
        invoice = session.get(ReceivedDocument, title.document_id)
        where = DocumentEvent.document_id == title.document_id
    events = list(session.execute(sa.select(DocumentEvent).where(where).order_by(DocumentEvent.id)).scalars())
    parsed: dict[int, RadianEvent] = {}
    for event in events:
        if event.code in RADIAN_CODES and event.signed_xml_blob:
            try:
                parsed[event.id] = parse_radian_event(blobs.get(event.signed_xml_blob))
            except (DianError, KeyError, OSError):
                continue
    return TitleEvents(invoice, events, parsed)


def counted(event: DocumentEvent, *, include_in_flight: bool) -> bool:
    """Registered, or (when asked) one of our events still on its way to DIAN."""
    if event.submission_state is SubmissionState.REGISTERED:
        return True
    return include_in_flight and event.direction is Direction.EMITTED and event.submission_state in IN_FLIGHT


def _act(event: DocumentEvent, parsed: RadianEvent | None) -> TitleAct:
    if parsed is not None:
        act = TitleAct.of(parsed, _moment(event))
        return act if act.cude else replace(act, cude=event.cude)
    receivers = tuple(
        Share(p.nit, p.name, p.dv, amount=p.amount) for p in event.parties if p.role is PartyRole.RECEIVER
    ) or ((Share(event.receiver_nit, event.receiver_name or ""),) if event.receiver_nit else ())
    return TitleAct(
        code=event.code,
        signed_at=_moment(event),
        sender_nit=event.sender_nit or "",
        receivers=receivers,
        operation=event.operation,
        cude=event.cude,
        list_id=event.list_id,
        reference_cude=event.reference_cude,
        paid=event.amount if event.code in (E.PAGO, E.PAGO_TRANSFERENCIA) else None,
        sender_name=event.sender_name,
    )


def facts_of(loaded: TitleEvents, *, issuer_nit: str, buyer_nit: str, include_in_flight: bool) -> DocumentFacts:
    """What dian.rules needs about the title: the invoice's type, payment, due date, signing time, every counted
    event's time and the RADIAN history (our in-flight events counted as registered when asked)."""
    invoice = loaded.invoice
    times: dict[EventCode, list[datetime]] = {}
    history: list[TitleAct] = []
    for event in loaded.events:
        if not counted(event, include_in_flight=include_in_flight):
            continue
        if event.code in RADIAN_CODES:
            history.append(_act(event, loaded.parsed.get(event.id)))
        else:
            times.setdefault(event.code, []).append(_moment(event))
    signed_at = getattr(invoice, "signed_at", None)
    if isinstance(invoice, ReceivedDocument):
        from store.state import document_signed_at

        signed_at = document_signed_at(invoice)
    return DocumentFacts(
        document_type=invoice.document_type or DocumentType.INVOICE,
        payment_means=invoice.payment_means,
        signed_at=signed_at,
        events=times,
        due_date=invoice.due_date,
        issuer_nit=issuer_nit,
        buyer_nit=buyer_nit,
        invoice_cufe=invoice.cufe,
        history=history,
    )


def derived_title(loaded: TitleEvents, issuer: Share) -> DerivedTitle | None:
    """radian.title's view from the registered RADIAN events with XML on file; None while there is none."""
    pairs = [(loaded.parsed[e.id], _moment(e)) for e in loaded.registered if e.id in loaded.parsed]
    return DerivedTitle.of(pairs, issuer=issuer) if pairs else None


def ensure_title(session: Session, invoice: OutboundDocument | ReceivedDocument, *, our_nit: str,
                 our_name: str) -> ValueTitle:  # fmt: skip
    """The title row of this invoice, made (unregistered, held by its issuer) when it does not exist yet."""
    outbound = isinstance(invoice, OutboundDocument)
    column = ValueTitle.outbound_document_id if outbound else ValueTitle.document_id
    title = session.execute(sa.select(ValueTitle).where(column == invoice.id)).scalar_one_or_none()
    if title is not None:
        return title
    issuer_nit = our_nit if outbound else invoice.issuer_nit  # type: ignore[union-attr]
    issuer_name = our_name if outbound else invoice.issuer_name  # type: ignore[union-attr]
    title = ValueTitle(
        document_id=None if outbound else invoice.id,
        outbound_document_id=invoice.id if outbound else None,
        role=TitleRole.HOLDER if outbound else TitleRole.OBLIGOR,
        invoice_cufe=(invoice.cufe or "").lower(),
        invoice_number=invoice.number,
        state=TitleState.UNREGISTERED,
        issuer_nit=issuer_nit,
        issuer_name=issuer_name,
        debtor_nit=invoice.buyer_nit,
        debtor_name=invoice.buyer_name,
        holder_nit=issuer_nit,
        holder_name=issuer_name,
        holders=[{"nit": issuer_nit, "name": issuer_name, "amount": None}],
        payee_nit=issuer_nit,
        payee_name=issuer_name,
        currency=invoice.currency or "COP",
        due_date=invoice.due_date,
        value=invoice.payable_amount,
        paid=Decimal(0),
        outstanding=invoice.payable_amount,
        next_watch_at=utc_now(),  # the sweeps (title_sync, title_watch) ask DIAN about it at their next run
    )
    session.add(title)
    session.flush()
    return title


_STATE_ALERTS = {
    TitleState.REGISTERED: AlertKind.REGISTERED,
    TitleState.LIMITED: AlertKind.LIMITED,
    TitleState.PROTESTED: AlertKind.PROTESTED,
    TitleState.TRANSFERRED: AlertKind.TRANSFERRED,
    TitleState.PARTIALLY_PAID: AlertKind.PARTIALLY_PAID,
    TitleState.PAID: AlertKind.PAID,
}


def _alert(session: Session, title: ValueTitle, kind: AlertKind, key: str, message: str, now: datetime,
           **fields: Any) -> TitleAlert | None:  # fmt: skip
    exists = session.execute(sa.select(TitleAlert.id).where(TitleAlert.dedupe_key == key)).first()
    if exists is not None:
        return None
    alert = TitleAlert(title_id=title.id, kind=kind, dedupe_key=key[:200], message=message, created_at=now, **fields)
    session.add(alert)
    return alert


def _chain_etag(events: Sequence[DocumentEvent]) -> str:
    digest = hashlib.sha256()
    for event in sorted(events, key=_moment):
        digest.update((event.cude or f"#{event.id}").encode("ascii", "replace") + b"\n")
    return digest.hexdigest()


def refresh_title(session: Session, blobs: BlobStore, title: ValueTitle, now: datetime) -> list[TitleAlert]:
    """Derive the title row again from its registered events; on a receivable (role holder) return the in-app alerts
    the change raised (holder changed, limited, paid...), each once. A payable's alerts, with their mail and webhook,
    are the watch's (radian/alerts.py): none is raised here for it."""
    loaded = load(session, blobs, title)
    radian = [e for e in loaded.registered if e.code in RADIAN_CODES]
    issuer = Share(title.issuer_nit, title.issuer_name)
    derived = derived_title(loaded, issuer)
    before = (title.state, title.holder_nit, title.payee_nit, title.limited, title.paid, title.chain_etag)
    old_holder = (title.holder_nit, title.holder_name)
    old_state, was_limited = title.state, title.limited
    invoice = loaded.invoice
    if derived is None:
        title.state = TitleState.UNREGISTERED if not radian else title.state
    else:
        holder = derived.holders[0]
        title.state = TitleState(derived.state.value)
        title.holder_nit, title.holder_name = holder.nit, holder.registration_name or ""
        title.holders = [
            {"nit": h.nit, "name": h.registration_name, "amount": None if h.amount is None else str(h.amount)}
            for h in derived.holders
        ]
        title.holder_since = derived.holder_since
        payee = derived.payee[0]
        title.payee_nit, title.payee_name = payee.nit, payee.registration_name or ""
        title.value = derived.value if derived.value is not None else invoice.payable_amount
        title.paid = derived.paid
        title.outstanding = derived.outstanding if derived.outstanding is not None else title.value - derived.paid
        title.limited = derived.frozen
        title.limited_amount = derived.limited_amount()
        title.due_date = derived.due_date or invoice.due_date
        firsts = [e for e in radian if e.operation in _FIRST_REGISTRATIONS]
        title.registered_at = min((_moment(e) for e in firsts), default=title.registered_at)
    title.chain_length = len(radian)
    title.chain_etag = _chain_etag(radian) if radian else ""
    title.last_event_at = max((_moment(e) for e in radian), default=None)
    after = (title.state, title.holder_nit, title.payee_nit, title.limited, title.paid, title.chain_etag)
    alerts: list[TitleAlert | None] = []
    if after != before:
        title.chain_version += 1
    if after != before and title.role is TitleRole.HOLDER:
        last = max(radian, key=_moment) if radian else None
        key = last.cude if last is not None and last.cude else str(title.chain_version)
        what = f"La factura {title.invoice_number}"
        if (title.holder_nit, title.holder_name) != old_holder and derived is not None and derived.holder_since:
            endorsements = [e for e in radian if e.code is E.ENDOSO_PROPIEDAD and _moment(e) == derived.holder_since]
            endorsement = endorsements[0] if endorsements else None
            alerts.append(_alert(
                session, title, AlertKind.HOLDER_CHANGED, f"holder_changed:{endorsement.cude if endorsement else key}",
                holder_changed(title.role, title.invoice_number, old_nit=old_holder[0], old_name=old_holder[1],
                               new_nit=title.holder_nit, new_name=title.holder_name, our_nit=title.issuer_nit),
                now, from_nit=old_holder[0], from_name=old_holder[1], to_nit=title.holder_nit,
                to_name=title.holder_name, event_id=endorsement.id if endorsement else None,
            ))  # fmt: skip
        if was_limited and not title.limited:
            alerts.append(_alert(session, title, AlertKind.LIMITATION_LIFTED, f"limitation_lifted:{key}",
                                 f"{what} {state_words(AlertKind.LIMITATION_LIFTED, title.role)}.", now))  # fmt: skip
        kind = _STATE_ALERTS.get(title.state)
        if kind is not None and title.state is not old_state:
            detail = ""
            if kind in (AlertKind.PARTIALLY_PAID, AlertKind.PAID):
                paid, left = pesos(title.paid, title.currency), pesos(title.outstanding, title.currency)
                detail = f" Pagado: {paid}; saldo: {left}."
            words = state_words(kind, title.role)
            alerts.append(_alert(session, title, kind, f"{kind.value}:{key}", f"{what} {words}.{detail}",
                                 now, event_id=last.id if last is not None else None))  # fmt: skip
    return [a for a in alerts if a is not None]


def on_registered(blobs: BlobStore, *, our_nit: str, our_name: str) -> Any:
    """The hook events.outbox calls (EventContext.on_title_event) when an event on an invoice is registered: our own
    invoice's title row, when it has one or the event is a RADIAN one, is derived again in the same transaction."""

    def hook(session: Session, event: DocumentEvent, now: datetime) -> None:
        # A received invoice's title (payable) is the watch's (radian/watch/), which proves what DIAN says and raises
        # the payee alerts with their mail and webhook — except our own payment as its debtor (045/051), derived here.
        if event.outbound_document_id is None:
            if event.direction is Direction.EMITTED and event.code in RADIAN_CODES and event.document_id is not None:
                _our_payment(session, blobs, event, now)
            return
        invoice = session.get(OutboundDocument, event.outbound_document_id)
        if invoice is None:
            return
        column = ValueTitle.outbound_document_id
        title = session.execute(sa.select(ValueTitle).where(column == invoice.id)).scalar_one_or_none()
        if title is None:
            if event.code not in RADIAN_CODES:
                return
            title = ensure_title(session, invoice, our_nit=our_nit, our_name=our_name)
        session.flush()
        refresh_title(session, blobs, title, now)

    return hook


def _our_payment(session: Session, blobs: BlobStore, event: DocumentEvent, now: datetime) -> None:
    """Our 045/051 on a supplier's invoice, registered: its title derived again and the in-app alert of the payment,
    keyed as the watch keys it (``paid:<CUDE>``), so neither tells it twice; not mailed (radian.alerts.MAILED)."""
    title = session.scalars(sa.select(ValueTitle).where(ValueTitle.document_id == event.document_id)).one_or_none()
    if title is None:
        return
    session.flush()
    refresh_title(session, blobs, title, now)
    kind = _STATE_ALERTS.get(title.state)
    if kind in (AlertKind.PAID, AlertKind.PARTIALLY_PAID):
        words = "total" if kind is AlertKind.PAID else "parcial"
        message = (f"La factura {title.invoice_number} de {title.issuer_name}: registramos en RADIAN nuestro pago "
                   f"{words} a {title.payee_name} (NIT {title.payee_nit}). Pagado: {pesos(title.paid, title.currency)};"
                   f" saldo: {pesos(title.outstanding, title.currency)}.")  # fmt: skip
        _alert(session, title, kind, f"{kind.value}:{(event.cude or '').lower()}", message, now, event_id=event.id,
               to_nit=title.payee_nit, to_name=title.payee_name)  # fmt: skip
