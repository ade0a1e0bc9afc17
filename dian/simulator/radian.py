"""The simulator's RADIAN: registering events 035-051 as DIAN does, the title's history and holder, GetStatusEvent.

A RADIAN event goes through what DIAN checks (radian-issuing-facts.md A.3-A.13): the signature and its signer, the
software fingerprint, the CUDE (the blank-endorsement formula for 037/038/039 with listID 2), the referenced
invoice or event, the receiver each event must name, the invoice's due date, the payment amounts, and then the one
rules table of ``dian.rules`` with the title's full history (``Sending``: the holder replay, 036 before 037, nothing
after a 452, no circulation under a 041, the time rules). Rule codes are DIAN's where the facts give them; the
simulator's own checks say ``SIM…``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import random
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from dian.calendar import BOGOTA
from dian.codes import DIAN_NIT, EventCode, Operation
from dian.errors import ParseError
from dian.nit import check_digit, same_nit
from dian.radian.blocks import PaymentRecord
from dian.radian.build import radian_cude
from dian.radian.chain import ChainEntry, build_status_events, status_answer_uuid
from dian.radian.history import TitleAct
from dian.radian.model import RadianEvent
from dian.radian.parse import parse_radian_event
from dian.rules import DocumentFacts, Role, Sending, check, title_role
from dian.simulator.document_info import DocumentInfoReply, document_info
from dian.simulator.replies import (
    ERRORS,
    NOT_FOUND,
    OK,
    Host,
    Reply,
    _packaging,
    _processed_before,
    _rule,
    _unreadable,
    fingerprint_problem,
    signing_time_problem,
)
from dian.simulator.title import Title
from dian.trust import certificate_nit, nit_matches
from dian.ubl import parse_document
from dian.ubl.model import CommercialDocument, Party
from dian.xades import Outcome, sign
from dian.xmlsafe import parse_xml

__all__ = ["Title", "TitleDesk"]

E = EventCode
# Who receives what (A.3): DIAN; the buyer; another party than the sender.
_TO_DIAN = frozenset({E.AVAL, E.INSCRIPCION_TITULO, E.PAGO, E.MANDATO})
_TO_DIAN_OR_NONE = frozenset({E.LIMITACION_CIRCULACION, E.TERMINACION_LIMITACION, E.TERMINACION_MANDATO})
_TO_BUYER = frozenset({E.INFORME_PAGO, E.PROTESTO, E.NOTIFICACION_TRANSFERENCIA})
_TO_OTHER = frozenset(
    {E.ENDOSO_PROPIEDAD, E.ENDOSO_GARANTIA, E.ENDOSO_PROCURACION, E.ENDOSO_CESION, E.TRANSFERENCIA_DERECHOS}
)
# ValidityPeriod/EndDate must equal the invoice's PaymentDueDate (AAH59): blocking for these, a notification for
# 037-039 (A.4).
_DUE_DATE_BLOCKING = frozenset(
    {E.INSCRIPCION_TITULO, E.PAGO, E.INFORME_PAGO, E.ENDOSO_CESION, E.PROTESTO, E.TRANSFERENCIA_DERECHOS}
    | {E.NOTIFICACION_TRANSFERENCIA, E.PAGO_TRANSFERENCIA}
)
_DUE_DATE_NOTICE = frozenset({E.ENDOSO_PROPIEDAD, E.ENDOSO_GARANTIA, E.ENDOSO_PROCURACION})
_CACHE_SIZE = 50_000
# The role DIAN gives a sender the invoice does not name, by what the event allows (A.3).
_OUTSIDE_ROLES = (Role.AUTHORITY, Role.THIRD_PARTY, Role.MANDATARY)


def _from_iso(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


class TitleDesk:
    """RADIAN inside one simulator: acceptance of 035-051, the title's history, GetStatusEvent's chain."""

    def __init__(self, simulator: Host) -> None:
        self.sim = simulator
        self._parsed: dict[str, object] = {}  # registered invoices and chain entries, by key: they never change

    # -- reading the state --------------------------------------------------------------------------------------

    def title(self, db: Any, invoice_key: str) -> Title | None:
        """The invoice ``invoice_key`` with its history, or None when the simulator does not hold that invoice."""
        row = db.execute("SELECT * FROM document WHERE key = ?", (invoice_key,)).fetchone()
        if row is None or row["kind"] != "invoice":
            return None
        invoice = parse_document(bytes(row["xml"]))
        assert isinstance(invoice, CommercialDocument)
        rows = db.execute(
            "SELECT cude, code, sender_nit, signing_time, xml FROM event WHERE invoice_key = ? ORDER BY signing_time",
            (invoice_key,),
        ).fetchall()
        return Title(row, invoice, tuple(self._act(r) for r in rows))

    @staticmethod
    def _act(row: Any) -> TitleAct:
        signed_at = _from_iso(row["signing_time"])
        code = EventCode(row["code"])
        if code >= E.AVAL:
            return TitleAct.of(parse_radian_event(bytes(row["xml"])), signed_at)
        return TitleAct(code=code, signed_at=signed_at, sender_nit=row["sender_nit"], cude=row["cude"])

    def title_of(self, key: str) -> Title | None:
        """The title of an invoice CUFE (one read)."""
        with self.sim.store.transaction() as db:
            return self.title(db, (key or "").strip().lower())

    # -- SendEventUpdateStatus for 035-051 ----------------------------------------------------------------------

    def process(
        self, xml: bytes, *, file_name: str | None, caller_nit: str | None, now: dt.datetime, report: Any
    ) -> Reply:
        """Check one signed RADIAN event against DIAN's rules and register it (A.3-A.13)."""
        try:
            event = parse_radian_event(report.signed_element if report.signed_element is not None else parse_xml(xml))
        except ParseError as exc:
            return _unreadable(exc)
        if not self.sim._authorized(caller_nit, event.sender.nit, event.software_provider_nit):
            return _packaging(f"NIT {caller_nit} no autorizado para enviar eventos del NIT {event.sender.nit}.")
        errors = self._signature(event, report, now)
        notices: list[str] = []  # DIAN's notifications (AAH59 on 037-039, LGC57), kept on success
        signed_at = report.signing_time
        with self.sim.store.transaction() as db:
            duplicate = db.execute(
                "SELECT cude, file_name, answer FROM event WHERE cude = ? OR (sender_nit = ? AND number = ?)",
                ((event.cude or "").lower(), event.sender.nit, event.number),
            ).fetchone()
            if duplicate is not None:
                return _processed_before(duplicate, "cude")
            invoice_key, reference_error = self._invoice_key(db, event)
            if reference_error:
                errors.append(reference_error)
            title = self.title(db, invoice_key) if invoice_key else None
            if invoice_key and title is None:
                errors.append(_rule("SIM43", f"El documento referenciado {event.reference.id} no es una factura."))
            if title is not None and signed_at is not None and not errors:
                # The parties, then the rules table (history, holder, time), then the values: the strongest first.
                errors += self._parties(event, title) or self._rules(event, title, signed_at)
                more, notices = self._values(event, title)
                errors += more if not errors else []
            if errors or title is None or signed_at is None:
                # Kept for GetStatus(CUDE), as DIAN answers a rejected document's key with its rules.
                lines = errors + notices
                if event.cude:
                    db.execute(
                        "INSERT OR REPLACE INTO rejection VALUES (?, ?, ?, ?, ?, ?)",
                        (event.cude.lower(), event.number, file_name, json.dumps(lines), None,
                         now.astimezone(dt.UTC).isoformat()),
                    )  # fmt: skip
                return Reply(False, "99", ERRORS, errors=tuple(lines), key=event.cude, file_name=file_name)
            db.execute("DELETE FROM rejection WHERE key = ?", ((event.cude or "").lower(),))
            answer = self.sim._event_answer(db, event.sender, event.number, event.cude or "", notices, now)
            db.execute(
                "INSERT INTO event VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    (event.cude or "").lower(),
                    title.cufe,
                    event.code.value,
                    event.number,
                    event.sender.nit,
                    event.receiver.nit,
                    signed_at.astimezone(dt.UTC).isoformat(),
                    file_name,
                    xml,
                    answer,
                    now.astimezone(dt.UTC).isoformat(),
                ),
            )
        return Reply(
            True,
            "00",
            OK,
            f"El evento {event.code.value} ({event.operation.label}) {event.number}, ha sido registrado.",
            errors=tuple(notices),
            xml=answer,
            key=(event.cude or "").lower(),
            file_name=file_name,
        )

    def _signature(self, event: RadianEvent, report: Any, now: dt.datetime) -> list[str]:
        """The signature, its signer (the sender or its software provider), the time, the fingerprint and the CUDE."""
        errors: list[str] = []
        if not report.core_valid:
            errors.append(_rule("SIM10", f"La firma del evento no es válida: {'; '.join(report.reasons()[:2])}"))
        elif report.outcome("certificate.chain") != Outcome.PASS:
            errors.append(
                _rule("SIM11", "El certificado firmante no proviene de una entidad de certificación reconocida.")
            )
        cert = report.certificate
        if cert is not None and not any(
            nit_matches(cert, nit) for nit in (event.sender.nit, event.software_provider_nit) if nit
        ):
            errors.append(
                _rule(
                    "SIM14",
                    f"El certificado firmante (NIT {certificate_nit(cert)}) no es del emisor del evento "
                    f"(NIT {event.sender.nit}) ni de su proveedor tecnológico.",
                )
            )
        if (late := signing_time_problem(report.signing_time, now)) is not None:
            errors.append(late)
        software = self.sim._software(event.software_id)
        if (fingerprint := fingerprint_problem(software, event.software_security_code, event.number)) is not None:
            errors.append(fingerprint)
        elif (event.cude or "").lower() != radian_cude(event, software["pin"]):
            # A.4: a blank endorsement (037/038/039, listID 2) hashes no sender NIT and the listID after the code.
            what = "endoso en blanco " if event.blank else ""
            errors.append(_rule("AAD06", f"Valor del CUDE del evento {what}no está calculado correctamente."))
        return errors

    def _invoice_key(self, db: Any, event: RadianEvent) -> tuple[str | None, str | None]:
        """The invoice the event is about: its reference, or for 040/042/044 the invoice of the event it ends (A.4)."""
        reference = event.reference
        uuid = (reference.uuid or "").strip().lower()
        if reference.is_event:
            row = db.execute("SELECT invoice_key FROM event WHERE cude = ?", (uuid,)).fetchone()
            if row is None:
                return None, _rule("SIM45", f"El evento referenciado {reference.id} no está registrado en la DIAN.")
            return str(row["invoice_key"]), None
        if not uuid:
            return None, _rule("SIM42", f"El evento no indica el CUFE de la factura {reference.id}.")
        row = db.execute("SELECT key, number FROM document WHERE key = ?", (uuid,)).fetchone()
        if row is None:
            return None, _rule("SIM42", f"La factura referenciada {reference.id} no existe en la DIAN.")
        if row["number"] != reference.id:
            return None, _rule(
                "SIM43", f"El documento referenciado {reference.id} no corresponde a la factura {row['number']}."
            )
        return str(row["key"]), None

    def _parties(self, event: RadianEvent, title: Title) -> list[str]:
        """Who must receive each event (A.3); senders are judged by the rules table with the holder replay."""
        code, receiver, sender = event.code, event.receiver.nit, event.sender.nit
        buyer = title.invoice.customer
        if code in _TO_DIAN and receiver != DIAN_NIT:
            return [_rule("AAG01", f"El receptor del evento {code.value} debe ser la DIAN (NIT {DIAN_NIT}).")]
        if code in _TO_DIAN_OR_NONE and receiver not in (DIAN_NIT, ""):
            return [_rule("AAG04", f"El receptor del evento {code.value} debe ser la DIAN (NIT {DIAN_NIT}).")]
        if code in _TO_OTHER and same_nit(receiver, sender):
            return [_rule("AAG04", "El receptor del evento (endosatario o cesionario) debe ser distinto del emisor.")]
        if code in _TO_BUYER and not same_nit(receiver, buyer.nit):
            return [
                _rule(
                    "AAG04",
                    f"El receptor del evento {code.value} debe ser el adquirente de la factura (NIT {buyer.nit}).",
                )
            ]
        if code is E.CANCELACION_ENDOSO:
            target = next((act for act in title.history if act.cude == (event.reference.uuid or "").lower()), None)
            if target is not None and not any(same_nit(receiver, share.nit) for share in target.receivers):
                return [_rule("AAG04a", "El receptor debe ser el endosatario del endoso que se cancela.")]
        return []

    def _values(self, event: RadianEvent, title: Title) -> tuple[list[str], list[str]]:
        """The due date (AAH59), the 036 title value (LGC57) and the payment amounts (AAF19b/c/d)."""
        errors: list[str] = []
        notices: list[str] = []
        code, due = event.code, title.invoice.due_date
        if event.due_date is not None and due is not None and event.due_date != due:
            text = f"La fecha de vencimiento {event.due_date} no corresponde a la de la factura ({due})."
            if code in _DUE_DATE_BLOCKING:
                errors.append(_rule("AAH59", text))
            elif code in _DUE_DATE_NOTICE:
                notices.append(_rule("AAH59", text, kind="Notificación"))
        payable = title.invoice.monetary_total.payable
        if isinstance(event.block, PaymentRecord) and event.block.title_value != payable:
            notices.append(
                _rule(
                    "LGC57",
                    f"ValorFEV-TV {event.block.title_value} no es el valor a pagar de la factura ({payable}).",
                    kind="Notificación",
                )
            )
        if code is E.PAGO:
            paid, current = event.paid or Decimal(0), title.current_value()
            if paid > current:
                errors.append(_rule("AAF19b", f"El valor pagado {paid} supera el valor actual del título ({current})."))
            elif event.operation is Operation.TOTAL_PAYMENT and paid != current:
                errors.append(
                    _rule("AAF19c", f"El pago total debe ser igual al valor actual del título ({current}), no {paid}.")
                )
            elif event.operation is Operation.PARTIAL_PAYMENT and paid == current:
                errors.append(
                    _rule("AAF19d", f"Un pago parcial no puede ser igual al valor actual del título ({current}).")
                )
        return errors, notices

    def _role(self, event: RadianEvent, facts: DocumentFacts) -> Role:
        from dian.rules import RULES

        role = title_role(event.sender.nit, facts)
        if role is not None:
            return role
        senders = RULES[event.code].senders
        return next((r for r in _OUTSIDE_ROLES if r in senders), Role.THIRD_PARTY)

    def _rules(self, event: RadianEvent, title: Title, signed_at: dt.datetime) -> list[str]:
        if event.mandate is not None and not event.mandate.invoices:
            return [
                _rule("SIM49", "El simulador no registra mandatos sobre todas las facturas del mandante (listID 3).")
            ]
        facts = title.facts()
        sending = Sending(
            operation=event.operation,
            sender_nit=event.sender.nit,
            provider_nit=event.software_provider_nit,
            list_id=event.list_id,
            reference_cude=(event.reference.uuid or "").lower() if event.reference.is_event else None,
        )
        decision = check(
            event.code,
            role=self._role(event, facts),
            facts=facts,
            at=signed_at,
            calendar=self.sim.calendar,
            sending=sending,
        )
        if decision.allowed:
            return []
        return [_rule(decision.rule or "SIM50", decision.reason)]

    # -- GetStatusEvent ------------------------------------------------------------------------------------------

    def status_events(self, track_id: str, *, now: dt.datetime) -> Reply:
        """GetStatusEvent by invoice CUFE in DIAN's layout (A.12): 66 unknown, 68 not a CUFE, 67 no events, else 00."""
        key = (track_id or "").strip().lower()
        with self.sim.store.transaction() as db:
            row = db.execute("SELECT * FROM document WHERE key = ?", (key,)).fetchone()
            if row is None:
                if db.execute("SELECT 1 FROM event WHERE cude = ?", (key,)).fetchone() is not None:
                    return Reply(False, "68", "TrackId no corresponde a un CUFE.")
                return Reply(False, "66", NOT_FOUND)
            if row["kind"] != "invoice":
                return Reply(False, "68", "TrackId no corresponde a un CUFE.")
            rows = db.execute(
                "SELECT code, cude, number, signing_time, xml FROM event WHERE invoice_key = ? "
                "ORDER BY signing_time, registered_at",
                (key,),
            ).fetchall()
        # Parsed and signed outside the store's lock, so concurrent queries sign in parallel.
        entries = [self._entry(line, r) for line, r in enumerate(rows, start=1)]
        answer = self.chain_answer(self._invoice(key, row["xml"]), entries, now)
        if not entries:
            message = f"La factura {row['number']} no tiene a la fecha eventos asociados."
            return Reply(False, "67", message, message, xml=answer, key=key)
        return Reply(True, "00", OK, f"{len(entries)} evento(s) registrado(s).", xml=answer, key=key)

    def document_info(self, uuid: str) -> DocumentInfoReply:
        """GetDocumentInfo by invoice CUFE: the invoice, its events and its current legitimate holder (66 unknown)."""
        key = (uuid or "").strip().lower()
        with self.sim.store.transaction() as db:
            title = self.title(db, key)
            if title is None:
                return document_info(None)
            rows = db.execute(
                "SELECT code, cude, number, signing_time, xml FROM event WHERE invoice_key = ? "
                "ORDER BY signing_time, registered_at",
                (key,),
            ).fetchall()
        return document_info(title, tuple(self._entry(line, r) for line, r in enumerate(rows, start=1)))

    def _invoice(self, key: str, xml: bytes) -> CommercialDocument:
        """The parsed invoice, kept: a registered document never changes."""
        invoice = self._parsed.get(key)
        if invoice is None:
            invoice = parse_document(bytes(xml))
            assert isinstance(invoice, CommercialDocument)
            self._remember(key, invoice)
        return invoice  # type: ignore[return-value]

    def _remember(self, key: str, value: object) -> None:
        if len(self._parsed) >= _CACHE_SIZE:
            self._parsed.clear()
        self._parsed[key] = value

    def _entry(self, line: int, row: Any) -> ChainEntry:
        cached = self._parsed.get(row["cude"])
        if isinstance(cached, ChainEntry):
            return replace(cached, line=line)
        entry = self._read_entry(line, row)
        self._remember(row["cude"], entry)
        return entry

    @staticmethod
    def _read_entry(line: int, row: Any) -> ChainEntry:
        event = parse_document(bytes(row["xml"]))
        code = EventCode(row["code"])
        description = code.label
        if code >= E.AVAL and getattr(event, "customization_id", None):
            with contextlib.suppress(ValueError):
                description = Operation(event.customization_id).label  # type: ignore[attr-defined]
        return ChainEntry(
            line=line,
            code=code,
            description=description,
            number=row["number"],
            cude=row["cude"],
            signed_at=_from_iso(row["signing_time"]),
            sender=_named(event.sender),  # type: ignore[attr-defined]
            receiver=_named(event.receiver),  # type: ignore[attr-defined]
        )

    def chain_answer(self, invoice: CommercialDocument, entries: Sequence[ChainEntry], now: dt.datetime) -> bytes:
        """DIAN's signed GetStatusEvent answer for ``invoice`` listing ``entries``."""
        local = now.astimezone(BOGOTA)
        xml = build_status_events(
            number=str(random.randint(1, 99_999_999)),  # noqa: S311 - DIAN: a random number, not a secret (A.12)
            uuid=status_answer_uuid(
                issuer_nit=invoice.supplier.nit, buyer_nit=invoice.customer.nit, invoice_number=invoice.number
            ),
            issue_date=local.date(),
            issue_time=local.strftime("%H:%M:%S") + "-05:00",
            environment=self.sim.environment,
            issuer=_named(invoice.supplier),
            entries=entries,
        )
        return sign(xml, self.sim.pki.dian, signing_time=now, role="supplier")


def _named(party: Party) -> Party:
    """The party with its check digit (DIAN computes it when the event omitted it)."""
    if party.dv or not party.nit.isdigit():
        return party
    return Party(nit=party.nit, dv=check_digit(party.nit), registration_name=party.registration_name)
