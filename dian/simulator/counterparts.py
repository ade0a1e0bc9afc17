"""Simulated counterparts: the simulator signs events as another party and registers them, so a demo or a test can
play both sides of a title (radian-issuing-facts.md A.3-A.11).

A buyer who acknowledges, receives, accepts or claims an invoice (030-033), a seller's tacit acceptance (034), a holder
who registers (036), endorses (037) and reports it for payment (046), an authority that limits its circulation (041) and
lifts the limit (042), a debtor who pays (045). Each event is built by ``dian.ubl.build`` or ``dian.radian.build``,
signed with a certificate for the acting NIT issued by the simulator's CA (``pki.py``), and registered through the same
checks as SendEventUpdateStatus: a counterpart cannot do what DIAN would refuse. ``register_invoice`` makes an invoice
issued elsewhere known, as DIAN would know it.

The admin API (loopback JSON, served by ``wsgi.py``); a party is ``{"nit", "name"}`` (the NIT without its check digit):

* ``POST /_sim/invoices`` ``{"xml": base64}`` or ``{"xml_text": "…"}`` → 201 (200 when already known) the invoice as
  ``GET /_sim/invoices/<cufe>`` answers it: cufe, number, issuer and buyer (``*_nit``, ``*_name``), payment_means,
  due_date, payable, current_value, signed_at, holders ``[{nit, name}]`` and events ``[{code, operation, cude,
  sender_nit, receiver_nits, signed_at}]``; 404 for an unknown CUFE.
* ``POST /_sim/counterparts`` ``{"action", "cufe", "from"?, "at"? (ISO-8601 with offset; default the simulator's
  clock), "number"? (default a consecutive of the sender)}`` and per action: ``acknowledge`` and ``receipt``
  (``person``? ``{id, first_name, family_name}`` who signs), ``accept``, ``claim`` (``concept`` 01–04, default 02),
  ``tacit``; ``register`` (``operation``? 361 first or 363 later); ``endorse`` (``to`` party, ``operation``? 371
  with or 372 without responsibility, ``amount``? default the current value, ``rate``?, ``blank``?); ``report``
  (046); ``limit`` (``authority``?, ``operation``? 411 seizure or 412 payment order, ``amount``?); ``lift``
  (``limitation`` the 041's CUDE, ``operation``? 421 by judgment or 422 early); ``pay`` (``payer``?, ``amount``?
  default the current value — all of it a 452, less a 451 —, ``date``? ISO date). → 200 ``{registered: true, code,
  operation, cude, number, sender_nit, receiver_nit, signed_at, xml, answer (DIAN's ApplicationResponse, base64),
  holders}``, or ``{registered: false, status_code, errors, xml}`` when DIAN's checks refuse it; a request that
  cannot be made (unknown action, bad field) → 400 ``{"error": "…"}`` naming the field.
"""

from __future__ import annotations

import base64
import datetime as dt
import threading
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from dian.calendar import BOGOTA
from dian.codes import DIAN_DV, DIAN_NAME, DIAN_NIT, ClaimReason, EventCode, Operation, PaymentCondition
from dian.errors import BuildError, DianError, ParseError
from dian.nit import check_digit, same_nit
from dian.radian.blocks import (
    Limitation,
    LimitationEnd,
    Negotiation,
    PaymentRecord,
    PaymentReport,
    Payments,
    discounted_price,
)
from dian.radian.build import build_radian_event
from dian.radian.history import in_force
from dian.radian.model import RadianEvent, Share, TitleReference
from dian.simulator.pki import kept_identity
from dian.simulator.replies import Host, Reply
from dian.simulator.title import Title
from dian.trust import SigningIdentity
from dian.ubl import parse_document
from dian.ubl.build import EventDraft, Software, build_event
from dian.ubl.model import CommercialDocument, Party, Person
from dian.xades import sign, verify
from dian.xmlsafe import parse_xml

__all__ = ["ACTIONS", "CounterpartError", "Counterparts", "Outcome"]

E = EventCode
# The simulator's own software for the events it signs as others; its ProviderID is always the acting NIT, so the
# mandatario rule (A.3) never applies to a counterpart.
SOFTWARE_ID = "5e1a0000-0000-4000-8000-00000000c0de"
SOFTWARE_PIN = "24642"
AUTHORITY = ("899999061", "JUZGADO 1 CIVIL DEL CIRCUITO (simulado)")
ACTIONS = (
    "acknowledge",
    "receipt",
    "accept",
    "claim",
    "tacit",
    "register",
    "endorse",
    "report",
    "limit",
    "lift",
    "pay",
)
_COMMERCIAL = {
    "acknowledge": E.ACUSE_RECIBO,
    "receipt": E.RECIBO_BIEN,
    "accept": E.ACEPTACION_EXPRESA,
    "claim": E.RECLAMO,
    "tacit": E.ACEPTACION_TACITA,
}
_TACIT_NOTE = (
    "Manifiesto bajo la gravedad de juramento que transcurridos 3 días hábiles contados desde la creación del recibo "
    "de la mercancía o del servicio, el adquirente no manifestó expresamente la aceptación o rechazo de la factura."
)


class CounterpartError(DianError):
    """A request the simulator cannot act on: an unknown action or invoice, a missing or malformed field."""


@dataclass(frozen=True)
class Outcome:
    """What one counterpart action came to: the signed event and DIAN's reply to it."""

    reply: Reply
    code: EventCode
    operation: str
    number: str
    sender: Party
    receiver: Party
    signed_at: dt.datetime
    xml: bytes
    holders: tuple[Share, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The admin API's answer (the module docstring)."""
        if not self.reply.is_valid:
            return {
                "registered": False,
                "status_code": self.reply.status_code,
                "errors": list(self.reply.errors),
                "xml": base64.b64encode(self.xml).decode("ascii"),
            }
        return {
            "registered": True,
            "code": self.code.value,
            "operation": self.operation,
            "cude": self.reply.key,
            "number": self.number,
            "sender_nit": self.sender.nit,
            "receiver_nit": self.receiver.nit,
            "signed_at": self.signed_at.isoformat(),
            "xml": base64.b64encode(self.xml).decode("ascii"),
            "answer": base64.b64encode(self.reply.xml or b"").decode("ascii"),
            "holders": [{"nit": share.nit, "name": share.registration_name} for share in self.holders],
        }


def _party(spec: Any, field: str) -> Party:
    if not isinstance(spec, dict):
        raise CounterpartError(f"{field}: expected an object with nit and name")
    nit = str(spec.get("nit", "")).strip()
    name = str(spec.get("name", "")).strip()
    if not nit.isdigit() or not name:
        raise CounterpartError(f"{field}: nit (digits, without check digit) and name are required")
    return Party(nit=nit, dv=check_digit(nit), registration_name=name)


def _amount(value: Any, field: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise CounterpartError(f"{field}: not an amount: {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise CounterpartError(f"{field}: not an amount: {value!r}")
    return amount.quantize(Decimal("0.01"))


def _share(party: Party, amount: Decimal | None = None) -> Share:
    return Share(party.nit, party.registration_name or "", party.dv, amount=amount)


def _with_dv(party: Party) -> Party:
    if party.dv:
        return party
    return Party(nit=party.nit, dv=check_digit(party.nit), registration_name=party.registration_name)


class Counterparts:
    """The parties the simulator plays, over one simulator's state."""

    def __init__(self, simulator: Host) -> None:
        self.sim = simulator
        self._identities: dict[str, SigningIdentity] = {}
        self._lock = threading.Lock()
        self._seeded = False

    # -- invoices -----------------------------------------------------------------------------------------------

    def register_invoice(self, xml: bytes) -> tuple[dict[str, Any], bool]:
        """Make an invoice issued elsewhere known, as DIAN knows it (no numbering or CUFE check): its summary and
        whether it is new."""
        try:
            root = parse_xml(xml)
            document = parse_document(root)
        except (ParseError, DianError) as exc:
            raise CounterpartError(f"xml: not a readable invoice: {exc}") from None
        if not isinstance(document, CommercialDocument) or not document.document_type.is_invoice:
            raise CounterpartError("xml: not an invoice")
        report = verify(root, trust=self.sim.trust, now=self.sim.clock())
        signed_at = report.signing_time
        now = self.sim.clock()
        key = document.uuid.strip().lower()
        with self.sim.store.transaction() as db:
            known = db.execute("SELECT 1 FROM document WHERE key = ?", (key,)).fetchone()
            if known is None:
                answer = self.sim._event_answer(db, document.supplier, document.number, key, [], now)
                db.execute(
                    "INSERT INTO document VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        key,
                        "invoice",
                        document.number,
                        document.supplier.nit,
                        document.customer.nit,
                        document.document_type.value,
                        document.payment_means.value if document.payment_means else None,
                        signed_at.astimezone(dt.UTC).isoformat() if signed_at else None,
                        None,
                        xml,
                        answer,
                        now.astimezone(dt.UTC).isoformat(),
                    ),
                )
        return self.describe(key), known is None

    def describe(self, cufe: str) -> dict[str, Any]:
        """An invoice the simulator holds, its holder(s) and its events (``GET /_sim/invoices/<cufe>``)."""
        title = self.sim.radian.title_of(cufe)
        if title is None:
            raise CounterpartError(f"cufe: the simulator holds no invoice {cufe!r}")
        invoice = title.invoice
        return {
            "cufe": title.cufe,
            "number": invoice.number,
            "issuer_nit": invoice.supplier.nit,
            "issuer_name": invoice.supplier.registration_name,
            "buyer_nit": invoice.customer.nit,
            "buyer_name": invoice.customer.registration_name,
            "payment_means": invoice.payment_means.value if invoice.payment_means else None,
            "due_date": invoice.due_date.isoformat() if invoice.due_date else None,
            "payable": f"{invoice.monetary_total.payable:.2f}",
            "current_value": f"{title.current_value():.2f}",
            "signed_at": title.row["signing_time"],
            "registered": True,
            "holders": [{"nit": share.nit, "name": share.registration_name} for share in title.holders],
            "events": [
                {
                    "code": act.code.value,
                    "operation": act.operation.value if act.operation else None,
                    "cude": act.cude,
                    "sender_nit": act.sender_nit,
                    "receiver_nits": [share.nit for share in act.receivers],
                    "signed_at": act.signed_at.isoformat(),
                }
                for act in title.history
            ],
        }

    # -- acting -------------------------------------------------------------------------------------------------

    def act(self, spec: dict[str, Any]) -> Outcome:
        """Carry out one admin action (the module docstring); CounterpartError for a request that cannot be."""
        action = str(spec.get("action", ""))
        if action not in ACTIONS:
            raise CounterpartError(f"action: one of {', '.join(ACTIONS)}, got {action!r}")
        title = self.sim.radian.title_of(str(spec.get("cufe", "")))
        if title is None:
            raise CounterpartError(f"cufe: the simulator holds no invoice {spec.get('cufe')!r}")
        at = self._at(spec)
        acting = _party(spec["from"], "from") if spec.get("from") is not None else None
        if action in _COMMERCIAL:
            return self._commercial(_COMMERCIAL[action], title, spec, at, acting)
        build = {
            "register": self._register,
            "endorse": self._endorse,
            "report": self._report,
            "limit": self._limit,
            "lift": self._lift,
            "pay": self._pay,
        }[action]
        return build(title, spec, at, acting)

    def _at(self, spec: dict[str, Any]) -> dt.datetime:
        if spec.get("at") is None:
            return self.sim.clock()
        try:
            at = dt.datetime.fromisoformat(str(spec["at"]))
        except ValueError:
            raise CounterpartError(f"at: not an ISO-8601 date and time: {spec['at']!r}") from None
        if at.tzinfo is None:
            raise CounterpartError("at: give the offset (e.g. -05:00)")
        return at

    def identity(self, party: Party) -> SigningIdentity:
        """The acting party's certificate under the simulator's CA, made once per NIT and kept under ``pki/parties``."""
        with self._lock:
            found = self._identities.get(party.nit)
            if found is None:
                folder = self.sim.pki.ca_path.parent / "parties"
                found = kept_identity(
                    self.sim.pki, folder, party.nit, party.registration_name or party.nit, now=self.sim.clock()
                )
                self._identities[party.nit] = found
            return found

    def _software(self, party: Party) -> Software:
        if not self._seeded:
            self.sim.seed(
                {
                    "software": [
                        {
                            "id": SOFTWARE_ID,
                            "pin": SOFTWARE_PIN,
                            "provider_nit": DIAN_NIT,
                            "name": "Contrapartes del simulador",
                        }
                    ]
                }
            )
            self._seeded = True
        return Software(party.nit, party.dv or check_digit(party.nit), SOFTWARE_ID, SOFTWARE_PIN)

    def _number(self, spec: dict[str, Any], party: Party) -> str:
        if spec.get("number"):
            return str(spec["number"])
        with self.sim.store.transaction() as db:
            return f"SIMEV{self.sim.store.next_number(db, f'counterpart:{party.nit}', 1)}"

    def _send(
        self,
        code: EventCode,
        operation: str,
        xml: bytes,
        sender: Party,
        receiver: Party,
        number: str,
        at: dt.datetime,
        title: Title,
    ) -> Outcome:
        signed = sign(xml, self.identity(sender), signing_time=at)
        reply = self.sim.process_event(signed, file_name=f"{number}.xml", caller_nit=None)
        after = self.sim.radian.title_of(title.cufe) if reply.is_valid else None
        return Outcome(
            reply, code, operation, number, sender, receiver, at, signed, after.holders if after is not None else ()
        )

    @staticmethod
    def _time(at: dt.datetime) -> tuple[dt.date, str]:
        local = at.astimezone(BOGOTA)
        return local.date(), local.strftime("%H:%M:%S") + "-05:00"

    def _commercial(
        self, code: EventCode, title: Title, spec: dict[str, Any], at: dt.datetime, acting: Party | None
    ) -> Outcome:
        invoice = title.invoice
        issuer, buyer = _with_dv(invoice.supplier), _with_dv(invoice.customer)
        sender = acting or (issuer if code is E.ACEPTACION_TACITA else buyer)
        receiver = (
            Party(nit=DIAN_NIT, dv=DIAN_DV, registration_name=DIAN_NAME) if code is E.ACEPTACION_TACITA else issuer
        )
        person = None
        if code in (E.ACUSE_RECIBO, E.RECIBO_BIEN):
            given = spec.get("person") or {}
            person = Person(
                id=str(given.get("id", "1020304050")),
                first_name=str(given.get("first_name", "Recepción")),
                family_name=str(given.get("family_name", "Simulada")),
            )
        try:
            reason = ClaimReason(str(spec.get("concept", "02"))) if code is E.RECLAMO else None
        except ValueError:
            raise CounterpartError(f"concept: 01 to 04, got {spec.get('concept')!r}") from None
        number = self._number(spec, sender)
        day, time = self._time(at)
        draft = EventDraft(
            code=code,
            number=number,
            issue_date=day,
            issue_time=time,
            environment=self.sim.environment,
            sender=sender,
            receiver=receiver,
            invoice_number=invoice.number,
            invoice_cufe=title.cufe,
            person=person,
            claim_reason=reason,
            notes=(_TACIT_NOTE,) if code is E.ACEPTACION_TACITA else (),
        )
        try:
            xml = build_event(draft, software=self._software(sender))
        except BuildError as exc:
            raise CounterpartError(str(exc)) from None
        return self._send(code, code.value, xml, sender, receiver, number, at, title)

    def _event(self, title: Title, spec: dict[str, Any], at: dt.datetime, sender: Party, **fields: Any) -> Outcome:
        number = self._number(spec, sender)
        day, time = self._time(at)
        event = RadianEvent(
            number=number,
            issue_date=day,
            issue_time=time,
            environment=self.sim.environment,
            sender=sender,
            reference=fields.pop("reference", TitleReference(title.invoice.number, title.cufe)),
            **fields,
        )
        try:
            xml = build_radian_event(event, software=self._software(sender))
        except BuildError as exc:
            raise CounterpartError(str(exc)) from None
        return self._send(event.code, event.operation.value, xml, sender, event.receiver, number, at, title)

    def _holder(self, title: Title, acting: Party | None) -> Party:
        if acting is not None:
            return acting
        first = title.holders[0]
        return Party(nit=first.nit, dv=first.dv or check_digit(first.nit), registration_name=first.registration_name)

    def _operation(self, spec: dict[str, Any], allowed: tuple[Operation, ...], default: Operation) -> Operation:
        try:
            operation = Operation(str(spec.get("operation", default.value)))
        except ValueError:
            operation = None  # type: ignore[assignment]
        if operation not in allowed:
            raise CounterpartError(
                f"operation: one of {', '.join(op.value for op in allowed)}, got {spec.get('operation')!r}"
            )
        return operation

    def _register(self, title: Title, spec: dict[str, Any], at: dt.datetime, acting: Party | None) -> Outcome:
        sender = self._holder(title, acting)
        first = same_nit(sender.nit, title.invoice.supplier.nit)
        operation = self._operation(
            spec,
            (Operation.FIRST_REGISTRATION, Operation.LATER_REGISTRATION),
            Operation.FIRST_REGISTRATION if first else Operation.LATER_REGISTRATION,
        )
        value = title.current_value()
        return self._event(
            title,
            spec,
            at,
            sender,
            operation=operation,
            receiver=Party(nit=DIAN_NIT, dv=DIAN_DV, registration_name=DIAN_NAME),
            due_date=title.invoice.due_date,
            block=PaymentRecord(title_value=value, paid=Decimal("0.00"), new_value=value),
        )

    def _endorse(self, title: Title, spec: dict[str, Any], at: dt.datetime, acting: Party | None) -> Outcome:
        if spec.get("to") is None:
            raise CounterpartError("to: the endorsee {nit, name} is required")
        endorsee = _party(spec["to"], "to")
        sender = self._holder(title, acting)
        operation = self._operation(
            spec,
            (Operation.ENDORSEMENT_WITH_RESPONSIBILITY, Operation.ENDORSEMENT_WITHOUT_RESPONSIBILITY),
            Operation.ENDORSEMENT_WITH_RESPONSIBILITY,
        )
        total = _amount(spec.get("amount", title.current_value()), "amount")
        rate = Decimal(str(spec.get("rate", "0")))
        blank = bool(spec.get("blank", False))
        without = operation is Operation.ENDORSEMENT_WITHOUT_RESPONSIBILITY
        note = "Endoso sin mi responsabilidad." if without else "Endoso con mi responsabilidad."
        return self._event(
            title,
            spec,
            at,
            sender,
            operation=operation,
            receiver=endorsee,
            sender_shares=(_share(sender, total),),
            receiver_shares=(_share(endorsee, total),),
            list_id="2" if blank else "1",
            due_date=title.invoice.due_date,
            debtor=_with_dv(title.invoice.customer),
            block=Negotiation(
                total=total, price=discounted_price(total, rate), discount_rate=rate, payment_means_code="47"
            ),
            notes=(note,),
        )

    def _report(self, title: Title, spec: dict[str, Any], at: dt.datetime, acting: Party | None) -> Outcome:
        # 046 by the current holder (a factor after a 037), addressed to the debtor (A.9).
        return self._event(
            title,
            spec,
            at,
            self._holder(title, acting),
            operation=Operation.PAYMENT_REPORT,
            receiver=_with_dv(title.invoice.customer),
            due_date=title.invoice.due_date,
            block=PaymentReport(title_value=title.current_value()),
        )

    def _limit(self, title: Title, spec: dict[str, Any], at: dt.datetime, acting: Party | None) -> Outcome:
        given = spec.get("authority")
        authority = acting or (
            _party(given, "authority")
            if given is not None
            else Party(nit=AUTHORITY[0], dv=check_digit(AUTHORITY[0]), registration_name=AUTHORITY[1])
        )
        operation = self._operation(
            spec, (Operation.LIMITATION_SEIZURE, Operation.LIMITATION_PAYMENT_ORDER), Operation.LIMITATION_SEIZURE
        )
        return self._event(
            title,
            spec,
            at,
            authority,
            operation=operation,
            receiver=Party(nit=DIAN_NIT, dv=DIAN_DV, registration_name=DIAN_NAME),
            block=Limitation(amount=_amount(spec.get("amount", title.current_value()), "amount")),
            notes=("Medida cautelar decretada por auto judicial (simulado).",),
        )

    def _lift(self, title: Title, spec: dict[str, Any], at: dt.datetime, acting: Party | None) -> Outcome:
        active = in_force(title.history, E.LIMITACION_CIRCULACION, E.TERMINACION_LIMITACION)
        wanted = str(spec.get("limitation") or "").strip().lower()
        target = (
            next((act for act in active if act.cude == wanted), None) if wanted else (active[-1] if active else None)
        )
        if target is None:
            raise CounterpartError("limitation: no limitation (041) in force with that CUDE on this invoice")
        row = self.sim.store.one("SELECT number FROM event WHERE cude = ?", target.cude)
        authority = acting or Party(
            nit=target.sender_nit,
            dv=check_digit(target.sender_nit),
            registration_name=target.sender_name or AUTHORITY[1],
        )
        operation = self._operation(
            spec, (Operation.LIMITATION_END_BY_JUDGMENT, Operation.LIMITATION_END_EARLY), Operation.LIMITATION_END_EARLY
        )
        value = title.current_value()
        return self._event(
            title,
            spec,
            at,
            authority,
            operation=operation,
            receiver=Party(nit=DIAN_NIT, dv=DIAN_DV, registration_name=DIAN_NAME),
            reference=TitleReference(row["number"], target.cude, "96"),
            block=LimitationEnd(debt=value, limited_value=value),
            notes=("Se levanta la medida cautelar (simulado).",),
        )

    def _pay(self, title: Title, spec: dict[str, Any], at: dt.datetime, acting: Party | None) -> Outcome:
        given = spec.get("payer")
        payer = acting or (_party(given, "payer") if given is not None else _with_dv(title.invoice.customer))
        current = title.current_value()
        paid = _amount(spec.get("amount", current), "amount")
        total = paid == current
        try:
            paid_on = dt.date.fromisoformat(str(spec["date"])) if spec.get("date") else at.astimezone(BOGOTA).date()
        except ValueError:
            raise CounterpartError(f"date: not an ISO date: {spec.get('date')!r}") from None
        limited = bool(in_force(title.history, E.LIMITACION_CIRCULACION, E.TERMINACION_LIMITACION))
        return self._event(
            title,
            spec,
            at,
            payer,
            operation=Operation.TOTAL_PAYMENT if total else Operation.PARTIAL_PAYMENT,
            receiver=Party(nit=DIAN_NIT, dv=DIAN_DV, registration_name=DIAN_NAME),
            sender_shares=(_share(payer, paid),),
            list_id=(PaymentCondition.UNDER_LIMITATION if limited else PaymentCondition.FREE).value,
            due_date=title.invoice.due_date,
            block=Payments(current_value=current, pending_value=current - paid),
            effective_date=paid_on,
        )
