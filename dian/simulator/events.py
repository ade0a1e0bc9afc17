"""Events 030-034 at the simulated DIAN (SendEventUpdateStatus, dian-facts 2): the signature, the software's
fingerprint and CUDE, the referenced invoice, duplicates, and ``dian.rules``' order and windows; 035-051 go on to the
RADIAN desk (radian.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from lxml import etree

from dian.codes import DIAN_NIT, DocumentType, EventCode, PaymentMeans
from dian.cufe import event_cude
from dian.errors import ParseError
from dian.rules import DocumentFacts, Role
from dian.rules import check as check_event
from dian.simulator.replies import (
    ERRORS,
    OK,
    Host,
    Reply,
    _packaging,
    _processed_before,
    _rule,
    _unreadable,
    covered,
    fingerprint_problem,
    iso,
    reply_stem,
    signing_time_problem,
)
from dian.ubl import parse_document
from dian.ubl.model import ApplicationResponse
from dian.xades import Outcome, verify
from dian.xmlsafe import parse_xml

__all__ = ["EventDesk"]

_ONCE = frozenset({"030", "031", "032", "033", "034"})
_COMMERCIAL_EVENTS = frozenset(
    {
        EventCode.ACUSE_RECIBO,
        EventCode.RECLAMO,
        EventCode.RECIBO_BIEN,
        EventCode.ACEPTACION_EXPRESA,
        EventCode.ACEPTACION_TACITA,
    }
)


class EventDesk:
    """The events an invoice's parties send: checked, registered, answered with DIAN's signed 02."""

    def __init__(self, simulator: Host) -> None:
        self.sim = simulator

    def process(
        self, xml: bytes, *, file_name: str | None, caller_nit: str | None, now: dt.datetime | None = None
    ) -> Reply:
        """SendEventUpdateStatus: check one signed event 030-051 against DIAN's rules and register it."""
        now = now or self.sim.clock()
        stem = reply_stem(file_name)
        try:
            root = parse_xml(xml)
        except ParseError as exc:
            return _unreadable(exc)
        if etree.QName(root).localname != "ApplicationResponse":
            return _packaging(f"El archivo contiene un {etree.QName(root).localname}, no un ApplicationResponse.")
        report = verify(root, trust=self.sim.trust, now=now)
        try:
            parsed = parse_document(covered(report, root))
        except ParseError as exc:
            return _unreadable(exc)
        assert isinstance(parsed, ApplicationResponse)
        event = parsed
        code = event.event_code
        if code is not None and code >= EventCode.AVAL:
            return self.sim.radian.process(xml, file_name=stem, caller_nit=caller_nit, now=now, report=report)
        reference = event.document_reference
        if code is None or reference is None or not reference.uuid:
            return Reply(
                False, "99", ERRORS, errors=(_rule("SIM40", "El documento no es un evento sobre una factura."),)
            )
        if not self.sim._authorized(caller_nit, event.sender.nit, event.software_provider_nit):
            return _packaging(f"NIT {caller_nit} no autorizado para enviar eventos del NIT {event.sender.nit}.")

        errors: list[str] = []
        signed_at = report.signing_time
        if not report.core_valid:
            errors.append(_rule("SIM10", f"La firma del evento no es válida: {'; '.join(report.reasons()[:2])}"))
        elif report.outcome("certificate.chain") != Outcome.PASS:
            errors.append(
                _rule("SIM11", "El certificado firmante no proviene de una entidad de certificación reconocida.")
            )
        if (late := signing_time_problem(signed_at, now)) is not None:
            errors.append(late)
        software = self.sim._software(event.software_id)
        if (fingerprint := fingerprint_problem(software, event.software_security_code, event.id)) is not None:
            errors.append(fingerprint)
        elif event.uuid != event_cude(
            number=event.id,
            issue_date=event.issue_date,
            issue_time=event.issue_time,
            sender_nit=event.sender.nit,
            receiver_nit=event.receiver.nit,
            response_code=code.value,
            document_number=reference.id,
            document_type_code=reference.type_code or "01",
            software_pin=software["pin"],
        ):
            errors.append(_rule("AAD06", "Valor del CUDE no está calculado correctamente."))

        with self.sim.store.transaction() as db:
            invoice = db.execute("SELECT * FROM document WHERE key = ?", (reference.uuid.strip().lower(),)).fetchone()
            if invoice is None:
                invoice = db.execute("SELECT * FROM document WHERE key = ?", (reference.uuid.strip(),)).fetchone()
            duplicate = db.execute(
                "SELECT cude, file_name, answer FROM event WHERE cude = ? OR (sender_nit = ? AND number = ?)",
                (event.uuid, event.sender.nit, event.id),
            ).fetchone()
            if duplicate is None and invoice is not None and code.value in _ONCE:
                duplicate = db.execute(
                    "SELECT cude, file_name, answer FROM event WHERE invoice_key = ? AND code = ? AND sender_nit = ?",
                    (invoice["key"], code.value, event.sender.nit),
                ).fetchone()
            if duplicate is not None:
                return _processed_before(duplicate, "cude")
            if invoice is None:
                errors.append(_rule("SIM42", f"La factura referenciada {reference.id} no existe en la DIAN."))
            elif invoice["kind"] != "invoice" or invoice["number"] != reference.id:
                errors.append(
                    _rule("SIM43", f"El documento referenciado {reference.id} no corresponde a la factura registrada.")
                )
            if errors or invoice is None or signed_at is None:
                return Reply(False, "99", ERRORS, errors=tuple(errors), key=event.uuid, file_name=stem)
            errors.extend(self._rules(db, event, code, invoice, signed_at))
            if errors:
                return Reply(False, "99", ERRORS, errors=tuple(errors), key=event.uuid, file_name=stem)
            answer = self.sim._event_answer(db, event.sender, event.id, event.uuid or "", [], now)
            db.execute(
                "INSERT INTO event VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    event.uuid,
                    invoice["key"],
                    code.value,
                    event.id,
                    event.sender.nit,
                    event.receiver.nit,
                    iso(signed_at),
                    stem,
                    xml,
                    answer,
                    iso(now),
                ),
            )
        return Reply(
            True,
            "00",
            OK,
            f"El evento {code.value} ({code.label}) {event.id}, ha sido registrado.",
            xml=answer,
            key=event.uuid,
            file_name=stem,
        )

    def _rules(
        self, db: Any, event: ApplicationResponse, code: EventCode, invoice: Any, signed_at: dt.datetime
    ) -> list[str]:
        sender, receiver = event.sender.nit, event.receiver.nit
        if sender == invoice["receiver_nit"]:
            role = Role.BUYER
        elif sender == invoice["issuer_nit"]:
            role = Role.SELLER
        else:
            role = Role.THIRD_PARTY
        # dian-facts 2.1: 030-033 go from the buyer to the seller; 034 from the seller to DIAN.
        expected_receiver = {
            EventCode.ACEPTACION_TACITA: DIAN_NIT,
        }.get(code, invoice["issuer_nit"] if role is Role.BUYER else None)
        if code in _COMMERCIAL_EVENTS and expected_receiver and receiver != expected_receiver:
            return [_rule("SIM44", f"El receptor del evento ({receiver}) debe ser el NIT {expected_receiver}.")]
        registered: dict[EventCode, list[dt.datetime]] = {}
        for row in db.execute("SELECT code, signing_time FROM event WHERE invoice_key = ?", (invoice["key"],)):
            registered.setdefault(EventCode(row["code"]), []).append(dt.datetime.fromisoformat(row["signing_time"]))
        facts = DocumentFacts(
            document_type=DocumentType(invoice["type_code"]),
            payment_means=PaymentMeans(invoice["payment_means"]) if invoice["payment_means"] else None,
            signed_at=dt.datetime.fromisoformat(invoice["signing_time"]) if invoice["signing_time"] else None,
            events=registered,
        )
        decision = check_event(code, role=role, facts=facts, at=signed_at, calendar=self.sim.calendar)
        if decision.allowed:
            return []
        # dian.rules has no DIAN code for some refusals (e.g. 031 after 033): say so with the simulator's own code.
        return [_rule(decision.rule or "SIM50", decision.reason)]
