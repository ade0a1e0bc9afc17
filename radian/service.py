"""The titles façade the web, the CLI and the jobs use: our own invoices as títulos valor (receivable role), and on a
received supplier invoice that is a title (payable role, we are the debtor) our payments, 045 and 051, made to the
payee DIAN's replay names (the legitimate holder, or the notified assignee) — never to a party typed by a person.

Every action goes the same way: the title's events loaded → ``dian.rules.check`` with who sends which variant → a
refusal comes back as an ``Outcome`` with a Spanish sentence (and DIAN's rule), or the event is drafted
(radian.actions), signed and queued (radian.emission) in one transaction under the invoice's row lock → the events
outbox delivers it → when DIAN registers it the title row is derived again (radian.store.on_registered).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from dian.codes import EventCode, Operation
from dian.errors import BuildError, CertificateError
from dian.nit import check_digit, same_nit
from dian.radian.model import Share
from dian.rules import Role, Sending, check, title_role
from dian.trust import TrustStore
from dian.ubl.model import Party
from events import approvals
from events.approvals import ApprovalError
from events.context import EventContext, utc_now
from events.outbox import DeliveryReport, deliver_events
from radian.actions import (
    PAYMENTS,
    Action,
    ActionError,
    CancelEndorsement,
    EndMandate,
    Endorse,
    PayTransfer,
    TitleSnapshot,
    draft,
    endorsement_price,
    operation_of,
)
from radian.approving import action_of, hold_action, lapse_refused, unreadable
from radian.emission import next_number, sign_and_queue
from radian.importing import Imported, ImportRefused, import_invoice
from radian.store import RADIAN_CODES, counted, derived_title, facts_of, load, refresh_title
from radian.sync import Notice, SyncResult, sync_title
from radian.title import ValueTitle as DerivedTitle
from store.models import Approval, DocumentEvent, OutboundDocument, ReceivedDocument, TitleRole, ValueTitle

__all__ = ["ImportRefused", "Imported", "Outcome", "Quote", "TitleService"]

E = EventCode
_PAYS = (E.PAGO, E.PAGO_TRANSFERENCIA)
_CLOSING = (Operation.TOTAL_PAYMENT, Operation.TRANSFER_TOTAL_PAYMENT)


@dataclass(frozen=True)
class Quote:
    """An endorsement's figures before signing: the endorsed value, the discount rate and what the factor pays."""

    value: Decimal
    rate: Decimal
    price: Decimal

    @property
    def discount(self) -> Decimal:
        return self.value - self.price


@dataclass(frozen=True)
class Outcome:
    """What an action came to: refused (``reason``, DIAN's ``rule``) or signed and queued (the event's id, number,
    CUDE); ``state`` is the event's submission state after an immediate delivery, when one was asked."""

    allowed: bool
    reason: str
    rule: str | None = None
    operation: Operation | None = None
    event_id: int | None = None
    number: str | None = None
    cude: str | None = None
    quote: Quote | None = None
    state: str | None = None
    dian_messages: tuple[str, ...] = ()
    payee: Share | None = None  # a payment on a received title: whom we pay (the replay's holder or assignee)
    list_id: str | None = None  # 045/051: 1 free, 2 under an active 041 (A.4)
    pending_approval: int | None = None  # four-eyes holds it: the approval request that waits (events/approvals.py)

    @property
    def line(self) -> str:
        """One line for the CLI and the flash message."""
        if not self.allowed:
            return self.reason + (f" [{self.rule}]" if self.rule else "")
        text = f"Firmado: {self.operation.value if self.operation else ''} número {self.number} CUDE {self.cude}"
        if self.payee is not None:
            text += f" — pago a {self.payee.registration_name} (NIT {self.payee.nit}), listID {self.list_id}"
        return text + (f" — DIAN: {self.state}" if self.state else "")


def _refused(reason: str, rule: str | None = None, operation: Operation | None = None) -> Outcome:
    return Outcome(allowed=False, reason=reason, rule=rule, operation=operation)


@dataclass
class TitleService:
    """Receivable titles: import our invoices, list and show titles, act on them, deliver and sync with DIAN."""

    sessions: sessionmaker[Session]
    make_context: Callable[[], EventContext]
    trust: TrustStore
    make_client: Callable[[], Any] | None = None
    clock: Callable[[], datetime] = utc_now
    notice: Notice | None = None  # who is mailed when a sync finds the buyer's claim (031)

    def _ctx(self) -> EventContext:
        return self.make_context()

    # -- reading --------------------------------------------------------------------------------------------------

    def titles(self, role: TitleRole | None = None, limit: int = 500) -> list[ValueTitle]:
        """Titles, soonest due first (detached rows)."""
        with self.sessions() as s:
            query = sa.select(ValueTitle).order_by(ValueTitle.due_date.is_(None), ValueTitle.due_date, ValueTitle.id)
            if role is not None:
                query = query.where(ValueTitle.role == role)
            rows = list(s.execute(query.limit(limit)).scalars())
            s.expunge_all()
            return rows

    def find(self, key: str | int) -> ValueTitle | None:
        """A title by id, invoice CUFE or invoice number (detached)."""
        with self.sessions() as s:
            text = str(key).strip()
            conditions = [ValueTitle.invoice_cufe == text.lower(), ValueTitle.invoice_number == text]
            if text.isdigit() and len(text) < 10:
                conditions.append(ValueTitle.id == int(text))
            row = s.execute(sa.select(ValueTitle).where(sa.or_(*conditions)).order_by(ValueTitle.id)).scalars().first()
            if row is not None:
                s.expunge(row)
            return row

    def chain(self, title_id: int) -> list[DocumentEvent]:
        """Every event on the title's invoice (030-051), oldest first, with its parties (detached)."""
        with self.sessions() as s:
            title = s.get(ValueTitle, title_id)
            if title is None:
                return []
            loaded = load(s, self._ctx().blobs, title)
            for event in loaded.events:
                _ = event.parties
            s.expunge_all()
            return loaded.events

    def derived(self, title_id: int) -> DerivedTitle | None:
        """DIAN's replay of the title's registered events (radian.title): its active mandates and limitations, the
        payee, the chain with parties — None before any RADIAN event is registered."""
        with self.sessions() as s:
            title = s.get(ValueTitle, title_id)
            if title is None:
                return None
            return derived_title(load(s, self._ctx().blobs, title), Share(title.issuer_nit, title.issuer_name))

    def quote(self, title_id: int, rate: Decimal, amount: Decimal | None = None) -> Quote:
        """The price a factor pays for the title at ``rate`` (value × (100 − rate) / 100), shown before signing."""
        title = self._title(title_id)
        value = amount if amount is not None else (title.outstanding or title.value or Decimal(0))
        return Quote(value, rate, endorsement_price(value, rate))

    def _title(self, title_id: int) -> ValueTitle:
        with self.sessions() as s:
            title = s.get(ValueTitle, title_id)
            if title is None:
                raise ActionError(f"No existe el título {title_id}.")
            s.expunge(title)
            return title

    # -- importing ------------------------------------------------------------------------------------------------

    def import_invoice(self, data: bytes, *, actor: str, source: str | None = None,
                       dian_answer: bytes | None = None) -> Imported:  # fmt: skip
        """File an invoice we issued elsewhere (with DIAN's answer) as a receivable; ImportRefused says why not."""
        ctx = self._ctx()
        with self.sessions() as s:
            imported = import_invoice(
                s, ctx.blobs, data, our_nit=ctx.company.nit, our_name=ctx.company.registration_name or "",
                trust=self.trust, keys=ctx.keys, now=self.clock(), actor=actor, source=source,
                dian_answer=dian_answer,
            )  # fmt: skip
            s.commit()
            return imported

    # -- acting ---------------------------------------------------------------------------------------------------

    def check(self, title_id: int, action: Action, *, now: datetime | None = None) -> Outcome:
        """May we do ``action`` on the title now? The same decision ``act`` takes, with nothing written."""
        with self.sessions() as s:
            return self._decide(s, self._ctx(), title_id, action, now or self.clock(), lock=False)[0]

    def act(self, title_id: int, action: Action, *, actor: str, source: str | None = None,
            now: datetime | None = None, deliver: bool = False, approval: int | None = None) -> Outcome:  # fmt: skip
        """Check ``action`` against DIAN's rules and, if allowed, sign and queue its event (and deliver it now when
        ``deliver``). Never raises for a refusal or bad input: the Outcome says why. An action four-eyes holds is
        kept as a pending approval (``pending_approval``) instead; ``approval`` is the one ``approve`` took."""
        ctx = self._ctx()
        now = now or self.clock()
        try:
            ctx.identity.check_valid_at(now)
        except CertificateError as exc:
            return _refused(f"No se puede firmar el evento: {exc}. Configure el certificado vigente de la empresa.")
        with self.sessions() as s:
            if approval is not None:
                try:
                    approvals.take(s, approval, approver=actor, now=now, source=source)
                except ApprovalError as exc:
                    s.rollback()
                    return _refused(str(exc))
            outcome, event = self._decide(s, ctx, title_id, action, now, lock=True)
            if not outcome.allowed or event is None:
                s.rollback()
                return outcome
            assert outcome.operation is not None
            code, subject = outcome.operation.event, f"title:{title_id}"
            grant = approvals.granted(s, approval, subject=subject, code=code)
            if approval is not None and grant is None:
                s.rollback()
                return _refused(f"La solicitud {approval} no es esta acción sobre este título.")
            if grant is None:
                held = self._hold(s, ctx, title_id, action, outcome, actor=actor, source=source, now=now)
                if held is not None:
                    return held
            invoice = self._invoice(s, title_id)
            try:
                signed = sign_and_queue(s, ctx, invoice, event, now=now, actor=actor, source=source,
                                        rule_check=outcome.reason)  # fmt: skip
            except BuildError as exc:
                s.rollback()
                return _refused(f"El evento no se pudo construir: {exc}", operation=outcome.operation)
            if grant is not None:
                approvals.mark_sent(s, grant, event_id=signed.id, number=signed.number, actor=actor, now=now,
                                    source=source)  # fmt: skip
            s.commit()
        done = replace(outcome, event_id=signed.id, number=signed.number, cude=signed.cude)
        if not deliver:
            return done
        self.deliver(only=[signed.id], actor=actor)
        with self.sessions() as s:
            row = s.get(DocumentEvent, signed.id)
            assert row is not None
            return replace(done, state=row.submission_state.value, dian_messages=tuple(row.dian_messages or ()))

    def _hold(self, s: Session, ctx: EventContext, title_id: int, action: Action, outcome: Outcome, *, actor: str,
              source: str | None, now: datetime) -> Outcome | None:  # fmt: skip
        """Four-eyes: None when the action may be signed now; else nothing of the decision is kept (the number it
        took is given back) and the request is written as a pending approval, the Outcome saying so."""
        assert outcome.operation is not None
        title = s.get(ValueTitle, title_id)
        assert title is not None
        value = outcome.quote.value if outcome.quote is not None else title.outstanding or title.value
        held = hold_action(s, ctx, title_id=title_id, invoice=self._invoice(s, title_id), action=action,
                           code=outcome.operation.event, value=value, payee=outcome.payee, actor=actor, source=source,
                           now=now)  # fmt: skip
        if held is None:
            return None
        if isinstance(held, str):
            return _refused(held, operation=outcome.operation)
        return replace(outcome, allowed=False, reason=held.words, pending_approval=held.approval_id)

    def approve(self, approval_id: int, *, approver: str, source: str | None = None) -> Outcome:
        """A second user approves a pending request on a title: its exact action is checked again, signed, queued
        and delivered now, through ``act``; the Outcome tells the approver what DIAN said."""
        with self.sessions() as s:
            row = s.get(Approval, approval_id)
            if row is None or row.title_id is None:
                return _refused(f"No existe la solicitud de aprobación {approval_id} sobre un título.")
            title_id, kept = row.title_id, dict(row.action)
        try:
            action = action_of(kept)
        except (ActionError, KeyError, TypeError, ValueError) as exc:
            return _refused(unreadable(exc))
        return self.act(title_id, action, actor=approver, source=source, deliver=True, approval=approval_id)

    def refuse(self, approval_id: int, *, approver: str, note: str, source: str | None = None) -> None:
        """A second user refuses a pending request, with the reason (events.approvals.refuse; ApprovalError)."""
        with self.sessions() as s:
            approvals.refuse(s, approval_id, approver=approver, note=note, now=self.clock(), source=source)
            s.commit()

    def lapse_refused(self, *, from_address: str, actor: str = "job:approvals",
                      now: datetime | None = None) -> list[int]:  # fmt: skip
        """Pending requests on titles that the rules now refuse lapse (radian.approving.lapse_refused); the ids."""
        return lapse_refused(self.sessions, self._ctx, lambda title_id, action, at: self.check(title_id, action,
                             now=at), now=now or self.clock(), from_address=from_address, actor=actor)  # fmt: skip

    @staticmethod
    def _invoice(s: Session, title_id: int) -> OutboundDocument | ReceivedDocument:
        """The title's invoice: ours (receivable) or the supplier's (payable)."""
        title = s.get(ValueTitle, title_id)
        assert title is not None
        if title.outbound_document_id is not None:
            invoice: OutboundDocument | ReceivedDocument | None = s.get(OutboundDocument, title.outbound_document_id)
        else:
            invoice = s.get(ReceivedDocument, title.document_id)
        assert invoice is not None
        return invoice

    def _decide(self, s: Session, ctx: EventContext, title_id: int, action: Action, now: datetime, *,
                lock: bool) -> tuple[Outcome, Any]:  # fmt: skip
        title = s.get(ValueTitle, title_id)
        if title is None:
            return _refused(f"No existe el título {title_id}."), None
        us = ctx.company.nit
        payable = title.role is TitleRole.OBLIGOR
        if payable and not isinstance(action, PAYMENTS):
            return _refused(
                "Este título es por pagar (factura recibida): Buzón no lo circula; como deudores solo "
                "registramos nuestros pagos (045, y 051 tras una transferencia notificada)."
            ), None
        if not payable and isinstance(action, PayTransfer):
            return _refused("El pago de la transferencia (051) lo registra el deudor, no el tenedor (A.10)."), None
        invoice: OutboundDocument | ReceivedDocument
        if payable:
            if title.document_id is None:
                return _refused(f"El título {title_id} no tiene la factura recibida en Buzón."), None
            query = sa.select(ReceivedDocument).where(ReceivedDocument.id == title.document_id)
        else:
            query = sa.select(OutboundDocument).where(OutboundDocument.id == title.outbound_document_id)
        invoice = s.execute(query.with_for_update() if lock else query).scalar_one()
        if payable and not same_nit(invoice.buyer_nit, us):
            return _refused(f"La factura {invoice.number} no es a cargo de nuestra empresa: no la pagamos."), None
        issuer = (title.issuer_nit, title.issuer_name) if payable else (us, ctx.company.registration_name or "")
        loaded = load(s, ctx.blobs, title)
        facts = facts_of(loaded, issuer_nit=issuer[0], buyer_nit=invoice.buyer_nit, include_in_flight=True)
        history = facts.history
        value = title.value if title.value is not None else invoice.payable_amount
        paid = sum((act.paid for act in history if act.code in _PAYS and act.paid is not None), Decimal(0))
        closed = any(act.operation in _CLOSING for act in history)
        payee = None
        if payable:
            derived = derived_title(loaded, Share(*issuer))
            payee = derived.payee[0] if derived is not None else Share(*issuer)
        events = {
            (e.cude or "").lower(): (e.code, e.number or "", e.receiver_nit or "", e.receiver_name or "")
            for e in loaded.events
            if counted(e, include_in_flight=True) and e.cude and e.code in RADIAN_CODES
        }
        snapshot = TitleSnapshot(
            invoice_number=invoice.number,
            invoice_cufe=(invoice.cufe or "").lower(),
            due_date=invoice.due_date,
            value=value,
            outstanding=Decimal(0) if closed else value - paid,
            debtor=Party(invoice.buyer_nit, invoice.buyer_name, check_digit(invoice.buyer_nit)),
            holder_registered=E.INSCRIPCION_TITULO in facts.events,
            holder_is_issuer=not any(act.code is E.ENDOSO_PROPIEDAD for act in history),
            limited=facts.in_force(E.LIMITACION_CIRCULACION),
            events=events,
            payee=payee,
        )
        try:
            operation = operation_of(action, snapshot)
            quote = None
            if isinstance(action, Endorse) and action.kind == "property":
                total = action.amount if action.amount is not None else snapshot.outstanding
                quote = Quote(total, action.rate, endorsement_price(total, action.rate))
        except ActionError as exc:
            return _refused(str(exc)), None
        role = title_role(us, facts) or (Role.BUYER if payable else Role.SELLER)
        reference = None
        if isinstance(action, CancelEndorsement):
            reference = action.endorsement_cude.strip().lower()
        elif isinstance(action, EndMandate):
            reference = action.mandate_cude.strip().lower()
        list_id = None
        if operation.event in (E.PAGO, E.PAGO_TRANSFERENCIA):
            list_id = "2" if snapshot.limited else "1"
        elif operation.event is E.ENDOSO_PROPIEDAD and isinstance(action, Endorse):
            list_id = "2" if action.blank else "1"
        sending = Sending(operation=operation, sender_nit=us, provider_nit=ctx.software.provider_nit, list_id=list_id,
                          reference_cude=reference)  # fmt: skip
        decision = check(operation.event, role=role, facts=facts, at=now, calendar=ctx.calendar, sending=sending)
        if not decision.allowed:
            return Outcome(False, decision.reason, decision.rule, operation, quote=quote, payee=payee,
                           list_id=list_id), None  # fmt: skip
        local, issue_time = ctx.issue_moment(now)
        number = next_number(s, operation.event) if lock else "PREVIEW"
        try:
            event = draft(action, snapshot, company=ctx.company, number=number, issue_date=local.date(),
                          issue_time=issue_time, environment=ctx.environment)  # fmt: skip
        except ActionError as exc:
            return _refused(str(exc), operation=operation), None
        return Outcome(True, decision.reason, None, operation, quote=quote, payee=payee, list_id=list_id), event

    # -- DIAN -----------------------------------------------------------------------------------------------------

    def deliver(self, only: Collection[int] | None = None, *, actor: str = "job:deliver_outbox") -> DeliveryReport:
        """Send our due events to DIAN now through the events outbox (only ``only`` when given)."""
        if self.make_client is None:
            return DeliveryReport()
        client = self.make_client()
        try:
            return deliver_events(self.sessions, self._ctx(), client, actor=actor, only=only, now=self.clock)
        finally:
            close = getattr(client, "close", None)
            if close is not None:
                close()

    def sync(self, title_id: int, *, actor: str) -> SyncResult:
        """Ask DIAN what is registered on the title's invoice (the buyer's acceptance, the factor's events)."""
        if self.make_client is None:
            return SyncResult(error="Sin conexión con la DIAN configurada.")
        ctx, client = self._ctx(), self.make_client()
        try:
            with self.sessions() as s:
                title = s.get(ValueTitle, title_id)
                if title is None:
                    return SyncResult(error=f"No existe el título {title_id}.")
                result = sync_title(s, ctx, client, title, self.clock(), actor=actor, notice=self.notice)
                s.commit()
                return result
        finally:
            close = getattr(client, "close", None)
            if close is not None:
                close()

    def refresh(self, title_id: int) -> None:
        """Derive the title row again from its registered events."""
        with self.sessions() as s:
            title = s.get(ValueTitle, title_id)
            if title is not None:
                refresh_title(s, self._ctx().blobs, title, self.clock())
                s.commit()


def holds(title: ValueTitle, nit: str) -> bool:
    """Whether ``nit`` is among the title's legitimate holders."""
    return any(same_nit(nit, h.get("nit", "")) for h in title.holders or []) or same_nit(nit, title.holder_nit)
