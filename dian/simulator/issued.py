"""DIAN's checks on an invoice (01-04) or a note (91/92) received by SendBillSync or SendTestSetAsync.

Signature and signer, software fingerprint, numbering range and InvoiceControl against the simulator's ranges
(numbering.py, the ones GetNumberingRange answers), CUFE with the range's technical key / CUDE with the software PIN,
dates, totals within the ±2.00 "holgura" (radian-issuing-facts B.1), currency and exchange rate, the contingency
window of 03/04 (B.3) and, for notes, the referenced invoice (B.4). Each refusal is a ``Regla: <id>, Rechazo: …`` line.

Rule ids: DIAN's where the facts name them (FAB27b, FAB05b/07/08b/10b/11b/12b, FAD06/CAD06/DAD06, FAD09e, FAU04,
FAU06, FAS02, FAU14 with the wording of DIAN's real GetStatusZip answer, CBG04a/DBG04a, VLR02, CTG01); where they do
not, the simulator's own ``SIM…`` id rather than an invented one, written beside its check.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from dian.calendar import BOGOTA
from dian.codes import DocumentType
from dian.cufe import invoice_cufe, note_cude, software_security_code
from dian.errors import DianError, ParseError
from dian.simulator.numbering import INVOICE, SUPPORT_DOCUMENT, kind_problem, range_of_number, ranges_for
from dian.simulator.replies import FUTURE_TOLERANCE, Host, _rule
from dian.trust import certificate_nit, nit_matches
from dian.ubl import parse_document
from dian.ubl.model import CommercialDocument
from dian.ubl.namespaces import CAC, CBC
from dian.xades import Outcome
from dian.xmlsafe import parse_xml

__all__ = ["CONTINGENCY_DEADLINE", "TOLERANCE", "IssuedRules"]

TOLERANCE = Decimal("2.00")  # radian-issuing-facts B.1, annex 5.2.1.1
CONTINGENCY_DEADLINE = dt.timedelta(hours=48)  # B.3: transmit within 48 h after the service is back
_NS = {"cac": CAC, "cbc": CBC}
_ZERO = Decimal(0)
_KEY_RULE = {"invoice": "FAD06", "credit_note": "CAD06", "debit_note": "DAD06"}
_KEY_NAME = {"invoice": "CUFE", "credit_note": "CUDE", "debit_note": "CUDE"}
_DATE_RULE = {"invoice": "FAD09e", "credit_note": "CAD09e", "debit_note": "DAD09e"}
_REFERENCE_RULE = {"credit_note": "CBG04a", "debit_note": "DBG04a"}
# The totals rules with DIAN's wording (dian-responses/GetStatusZip_99_rules_…); notes get the simulator's ids.
_TOTALS = {
    "FAU04": (
        "SIM81",
        "Base Imponible es distinto a la suma de los valores de las bases imponibles de todas líneas de detalle.",
    ),
    "FAU06": (
        "SIM82",
        "Valor Bruto más tributos es diferente a Valor Bruto de la factura que contienen el valor comercial más la "
        "Suma de los Tributos de todas las líneas de detalle.",
    ),
    "FAS02": (
        "SIM83",
        "(R) Valor total de un tributo no corresponde a la suma de todas las informaciones correspondientes a cada "
        "una de las tarifas informadas en este documento para este tributo",
    ),
    "FAU14": (
        "SIM84",
        "Valor a Pagar de Factura es distinto de la Suma de Valor Bruto más tributos - Valor del Descuento Total + "
        "Valor del Cargo Total - Valor del Anticipo Total",
    ),
}


def _decimal(element: Any, path: str) -> Decimal | None:
    found = element.find(path, _NS)
    if found is None or not (found.text or "").strip():
        return None
    try:
        return Decimal(found.text.strip())
    except InvalidOperation:
        return None


def _off(a: Decimal, b: Decimal) -> bool:
    return abs(a - b) > TOLERANCE


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _sum(values: Iterable[Decimal | None]) -> Decimal:
    return sum((v for v in values if v is not None), _ZERO)


class IssuedRules:
    """The checks of one received invoice or note; reads the simulator's ranges, software, documents and windows."""

    def __init__(self, host: Host) -> None:
        self.sim = host
        self._outage = host.store.one("SELECT 1 FROM contingency WHERE end IS NULL AND source = 'outage'") is not None

    def check(
        self,
        doc: CommercialDocument,
        root: Any,
        report: Any,
        kind: str,
        now: dt.datetime,
        *,
        batch: Collection[str] = (),
    ) -> list[str]:
        """Every refusal of the document (empty when DIAN would validate it). ``batch``: keys of documents sent in the
        same upload, which a note cannot reference yet (peers-wave2 §2.5: CBG04a/DBG04a in one batch)."""
        if doc.document_type.is_support:  # the documento soporte and its note 95: issued by the buyer (support.py)
            from dian.simulator.support import SupportRules

            return SupportRules(self).check(doc, root, report, kind, now, batch)
        errors = self._signature(report, doc)
        software = self.sim._software(doc.software_id)
        if software is None or doc.software_security_code != software_security_code(
            software["software_id"], software["pin"], doc.number
        ):
            errors.append(_rule("FAB27b", "Huella no corresponde a un software autorizado para este OFE."))
        errors += self._numbering_and_key(doc, kind, software)
        errors += self._dates(doc, kind, report.signing_time, now)
        errors += self._totals(root, kind)
        errors += self._currency(root, doc)
        if kind == "invoice":
            errors += self._contingency(root, doc, report.signing_time, now)
        else:
            errors += self._reference(doc, kind, batch)
        return errors

    # -- signature, numbering, key, dates -----------------------------------------------------------------------

    @staticmethod
    def _signature(report: Any, doc: CommercialDocument) -> list[str]:
        """The signature and its signer: the issuer (the buyer of a documento soporte, C.1) or its provider."""
        if not report.core_valid:
            reasons = "; ".join(report.reasons()[:2]) or "firma ausente"
            return [_rule("SIM10", f"La firma del documento no es válida: {reasons}")]
        errors = []
        if report.outcome("certificate.chain") != Outcome.PASS:
            errors.append(
                _rule("SIM11", "El certificado firmante no proviene de una entidad de certificación reconocida.")
            )
        if report.outcome("certificate.validity") == Outcome.FAIL:
            errors.append(_rule("SIM12", "El certificado firmante no estaba vigente al firmar."))
        cert = report.certificate
        support = doc.document_type.is_support
        issuer = doc.customer.nit if support else doc.supplier.nit
        if cert is not None and not any(nit_matches(cert, nit) for nit in (issuer, doc.software_provider_nit) if nit):
            whose = "del adquiriente que expide el documento soporte" if support else "del emisor"
            errors.append(_rule("SIM13", f"El certificado firmante (NIT {certificate_nit(cert)}) no es {whose} ni de "
                                "su proveedor tecnológico."))  # fmt: skip
        return errors

    def _range(self, doc: CommercialDocument, issuer_nit: str, kind: str) -> tuple[Any | None, list[str]]:
        """The issuer's range holding ``doc``'s number and DIAN's refusals about it: outside every range, a range
        authorized for the other kind (FAB05b / DSAB05b), InvoiceControl, software, issue date outside its validity.
        A documento soporte takes the invoice's rules with its DSAB ids (C.5)."""
        support = kind == SUPPORT_DOCUMENT
        control = doc.invoice_control
        prefix = control.prefix if control and control.prefix else doc.prefix
        rows = ranges_for(self.sim.store, issuer_nit)
        match, near = range_of_number([row for row in rows if row["kind"] == kind], doc.number, prefix)
        if match is None:
            other, _ = range_of_number(rows, doc.number, prefix)
            problem = kind_problem(other, kind) if other is not None else None
            if problem is not None:
                return None, [_rule(*problem)]
            where = f" {near['from_number']}-{near['to_number']}" if near is not None else ""
            text = f"El número {doc.number} está fuera del rango de numeración autorizado{where}."
            return None, [_rule("DSAB11b" if support else "SIM20", text)]
        errors = self._control(doc, match)
        if support:
            errors = [error.replace("Regla: FAB", "Regla: DSAB", 1) for error in errors]
        if match["software_id"] != doc.software_id:
            errors.append(_rule("SIM23", f"El rango {match['prefix']} no está asociado al software {doc.software_id}."))
        valid_from, valid_to = dt.date.fromisoformat(match["valid_from"]), dt.date.fromisoformat(match["valid_to"])
        if not valid_from <= doc.issue_date <= valid_to:
            text = (f"La fecha de emisión {doc.issue_date} está fuera de la vigencia de la autorización de numeración "
                    f"({valid_from} a {valid_to}).")  # fmt: skip
            errors.append(_rule("DSAB07a" if support else "SIM22", text))
        return match, errors

    def _numbering_and_key(self, doc: CommercialDocument, kind: str, software: Any) -> list[str]:
        fields: dict[str, Any] = {
            "number": doc.number,
            "issue_date": doc.issue_date,
            "issue_time": doc.issue_time,
            "line_extension_amount": doc.monetary_total.line_extension,
            "tax_amounts": doc.tax_amounts,
            "payable_amount": doc.monetary_total.payable,
            "supplier_nit": doc.supplier.nit,
            "customer_nit": doc.customer.nit,
            "environment": doc.environment.value,
        }
        errors: list[str] = []
        expected: str | None = None
        if kind == "invoice":
            match, errors = self._range(doc, doc.supplier.nit, INVOICE)
            if match is None:
                return errors
            if doc.document_type is DocumentType.CONTINGENCY_INVOICE:  # B.2: type 03 takes a CUDE (software PIN)
                expected = note_cude(**fields, software_pin=software["pin"]) if software is not None else None
            else:
                expected = invoice_cufe(**fields, technical_key=match["technical_key"])
        elif software is not None:
            expected = note_cude(**fields, software_pin=software["pin"])
        if expected is not None and expected != doc.uuid.strip().lower():
            errors.append(_rule(_KEY_RULE[kind], f"Valor del {_KEY_NAME[kind]} no está calculado correctamente."))
        return errors

    @staticmethod
    def _control(doc: CommercialDocument, row: Any) -> list[str]:
        """sts:InvoiceControl against the range table (radian-issuing-facts B.1's rule per field)."""
        control = doc.invoice_control
        if control is None:
            return [_rule("FAB05b", "No fue informado el número de la resolución de numeración (InvoiceControl).")]
        checks = (
            ("FAB05b", control.authorization, row["resolution"], "Número de la autorización de numeración"),
            ("FAB07b", control.start_date and control.start_date.isoformat(), row["valid_from"], "Fecha inicial"),
            ("FAB08b", control.end_date and control.end_date.isoformat(), row["valid_to"], "Fecha final"),
            ("FAB10b", control.prefix or "", row["prefix"], "Prefijo"),
            ("FAB11b", control.from_number, row["from_number"], "Rango desde"),
            ("FAB12b", control.to_number, row["to_number"], "Rango hasta"),
        )
        return [
            _rule(rule, f"{label} ({given}) no corresponde a la autorización de numeración ({wanted}).")
            for rule, given, wanted, label in checks
            if given != wanted
        ]

    @staticmethod
    def _dates(doc: CommercialDocument, kind: str, signed_at: dt.datetime | None, now: dt.datetime) -> list[str]:
        errors = []
        if signed_at is not None and signed_at.astimezone(BOGOTA).date() != doc.issue_date:
            errors.append(
                _rule(_DATE_RULE[kind], "La fecha de generación del documento es diferente a la fecha de firma.")
            )
        if signed_at is not None and signed_at > now + FUTURE_TOLERANCE:
            errors.append(_rule("SIM30", "La fecha de firma es posterior a la fecha de recepción."))
        return errors

    # -- totals -------------------------------------------------------------------------------------------------

    @staticmethod
    def _totals(root: Any, kind: str) -> list[str]:
        """The monetary cross-checks, each within ±2.00 (B.1)."""
        errors: list[str] = []

        def fail(rule: str, detail: str) -> None:
            note_rule, text = _TOTALS.get(rule, (rule, ""))
            code = rule if kind == "invoice" or rule not in _TOTALS else note_rule
            errors.append(_rule(code, f"{text} ({detail})" if text else detail))

        lines = root.findall("cac:InvoiceLine", _NS) + root.findall("cac:CreditNoteLine", _NS)
        lines += root.findall("cac:DebitNoteLine", _NS)
        line_taxes: dict[str, Decimal] = {}
        taxed_base = _ZERO
        for line in lines:
            line_id = line.findtext("cbc:ID", default="?", namespaces=_NS)
            extension = _decimal(line, "cbc:LineExtensionAmount") or _ZERO
            quantity = next(
                (q for q in (_decimal(line, f"cbc:{n}Quantity") for n in ("Invoiced", "Credited", "Debited")) if q),
                None,
            )
            price = _decimal(line, "cac:Price/cbc:PriceAmount")
            free = (line.findtext("cbc:FreeOfChargeIndicator", namespaces=_NS) or "").strip() == "true"
            if quantity is not None and price is not None and not free:
                per = _decimal(line, "cac:Price/cbc:BaseQuantity") or Decimal(1)
                adjust = _ZERO
                for item in line.findall("cac:AllowanceCharge", _NS):
                    amount = _decimal(item, "cbc:Amount") or _ZERO
                    charge = (item.findtext("cbc:ChargeIndicator", namespaces=_NS) or "").strip() == "true"
                    adjust += amount if charge else -amount
                expected = quantity * price / per + adjust
                if _off(extension, expected):
                    fail("SIM70", f"línea {line_id}: valor {_money(extension)} ≠ cantidad × precio ± descuentos "
                                  f"y cargos {_money(expected)}")  # fmt: skip
            has_rate = False
            for total in line.findall("cac:TaxTotal", _NS):
                for sub in total.findall("cac:TaxSubtotal", _NS):
                    scheme = sub.findtext("cac:TaxCategory/cac:TaxScheme/cbc:ID", default="", namespaces=_NS)
                    line_taxes[scheme] = line_taxes.get(scheme, _ZERO) + (_decimal(sub, "cbc:TaxAmount") or _ZERO)
                    has_rate = has_rate or sub.find("cac:TaxCategory/cbc:Percent", _NS) is not None
            if has_rate:
                taxed_base += extension
        for sub in root.iterfind(".//cac:TaxSubtotal", _NS):
            message = _subtotal_problem(sub)
            if message:
                fail("SIM71", message)

        total_el = root.find("cac:LegalMonetaryTotal", _NS)
        if total_el is None:
            total_el = root.find("cac:RequestedMonetaryTotal", _NS)
        if total_el is None:
            fail("SIM79", "No fue informado el grupo de totales (LegalMonetaryTotal).")
            return errors
        line_extension = _decimal(total_el, "cbc:LineExtensionAmount") or _ZERO
        tax_exclusive = _decimal(total_el, "cbc:TaxExclusiveAmount")
        tax_inclusive = _decimal(total_el, "cbc:TaxInclusiveAmount")
        allowance_total = _decimal(total_el, "cbc:AllowanceTotalAmount") or _ZERO
        charge_total = _decimal(total_el, "cbc:ChargeTotalAmount") or _ZERO
        prepaid = _decimal(total_el, "cbc:PrepaidAmount") or _ZERO
        payable = _decimal(total_el, "cbc:PayableAmount") or _ZERO

        lines_sum = _sum(_decimal(line, "cbc:LineExtensionAmount") for line in lines)
        if _off(line_extension, lines_sum):
            fail("SIM73", f"Valor bruto {_money(line_extension)} ≠ suma de las líneas {_money(lines_sum)}")
        doc_taxes: dict[str, Decimal] = {}
        for total in root.findall("cac:TaxTotal", _NS):
            amount = _decimal(total, "cbc:TaxAmount") or _ZERO
            subs = total.findall("cac:TaxSubtotal", _NS)
            scheme = _scheme(subs[0]) if subs else ""
            doc_taxes[scheme] = doc_taxes.get(scheme, _ZERO) + amount
            subs_sum = _sum(_decimal(s, "cbc:TaxAmount") for s in subs)
            if subs and _off(amount, subs_sum):
                fail("FAS02", f"tributo {scheme}: {_money(amount)} ≠ {_money(subs_sum)}")
        for scheme in sorted(set(doc_taxes) | set(line_taxes)):
            if lines and _off(doc_taxes.get(scheme, _ZERO), line_taxes.get(scheme, _ZERO)):
                fail("SIM72", f"El tributo {scheme} del documento ({_money(doc_taxes.get(scheme, _ZERO))}) no es la "
                              f"suma del de sus líneas ({_money(line_taxes.get(scheme, _ZERO))})")  # fmt: skip
        taxes = _sum(doc_taxes.values())
        if tax_exclusive is not None and _off(tax_exclusive, taxed_base):
            fail("FAU04", f"{_money(tax_exclusive)} ≠ {_money(taxed_base)}")
        if tax_inclusive is not None and _off(tax_inclusive, line_extension + taxes):
            fail("FAU06", f"{_money(tax_inclusive)} ≠ {_money(line_extension + taxes)}")
        allowances = charges = _ZERO
        for item in root.findall("cac:AllowanceCharge", _NS):
            amount = _decimal(item, "cbc:Amount") or _ZERO
            if (item.findtext("cbc:ChargeIndicator", namespaces=_NS) or "").strip() == "true":
                charges += amount
            else:
                allowances += amount
        if _off(allowance_total, allowances):
            fail("SIM74", f"Total de descuentos {_money(allowance_total)} ≠ suma de descuentos {_money(allowances)}")
        if _off(charge_total, charges):
            fail("SIM74", f"Total de cargos {_money(charge_total)} ≠ suma de los cargos {_money(charges)}")
        gross = tax_inclusive if tax_inclusive is not None else line_extension + taxes
        expected_payable = gross - allowance_total + charge_total - prepaid
        if _off(payable, expected_payable):
            fail("FAU14", f"{_money(payable)} ≠ {_money(expected_payable)}")
        return errors

    # -- currency, contingency, references ----------------------------------------------------------------------

    @staticmethod
    def _currency(root: Any, doc: CommercialDocument) -> list[str]:
        currency = (doc.currency or "COP").strip()
        if currency == "COP":
            return []
        rate = root.find("cac:PaymentExchangeRate", _NS)
        if rate is None:
            return [_rule("SIM60", f"Documento en {currency} sin tasa de cambio a COP (PaymentExchangeRate).")]
        errors = []
        source = (rate.findtext("cbc:SourceCurrencyCode", namespaces=_NS) or "").strip()
        target = (rate.findtext("cbc:TargetCurrencyCode", namespaces=_NS) or "").strip()
        value = _decimal(rate, "cbc:CalculationRate")
        if source != currency or target != "COP":
            errors.append(_rule("SIM61", f"La tasa de cambio va de {currency} a COP (informada {source}→{target})."))
        if value is None or value <= 0:
            errors.append(_rule("SIM62", "La tasa de cambio (CalculationRate) debe ser un número positivo."))
        return errors

    def _contingency(
        self, root: Any, doc: CommercialDocument, signed_at: dt.datetime | None, now: dt.datetime
    ) -> list[str]:
        if doc.document_type is DocumentType.CONTINGENCY_INVOICE:
            paper = root.find("cac:AdditionalDocumentReference", _NS)
            if paper is None or not (paper.findtext("cbc:ID", namespaces=_NS) or "").strip():
                return [_rule("SIM91", "La factura de contingencia 03 no informa la factura de talonario transmitida.")]
            paper_date = paper.findtext("cbc:IssueDate", namespaces=_NS)
            if paper_date and paper_date.strip() > doc.issue_date.isoformat():
                return [_rule("SIM92", "La factura de talonario es posterior a su transmisión electrónica.")]
            return []
        if doc.document_type is not DocumentType.DIAN_CONTINGENCY_INVOICE or signed_at is None:
            return []
        windows = self.sim.store.all("SELECT start, end FROM contingency ORDER BY start")
        for row in windows:
            start = dt.datetime.fromisoformat(row["start"])
            end = dt.datetime.fromisoformat(row["end"]) if row["end"] else None
            if start <= signed_at and (end is None or signed_at <= end):
                if end is not None and now > end + CONTINGENCY_DEADLINE:
                    return [
                        _rule(
                            "SIM93",
                            f"La factura de contingencia se transmitió después de las 48 horas siguientes al fin de la "
                            f"contingencia ({end.astimezone(BOGOTA):%Y-%m-%d %H:%M}).",
                        )
                    ]
                return []
        return [
            _rule(
                "CTG01",
                "La fecha de firma del documento de contingencia no está dentro de una contingencia declarada por la "
                "DIAN.",
            )
        ]

    def _reference(self, doc: CommercialDocument, kind: str, batch: Collection[str]) -> list[str]:
        if not doc.billing_references:
            return []  # a note without a referenced invoice (CustomizationID 22/32, B.4)
        reference = doc.billing_references[0]
        row = None
        if reference.uuid:
            row = self.sim.store.one(
                "SELECT * FROM document WHERE key = ? AND kind = 'invoice'", reference.uuid.strip().lower()
            )
        if row is None:
            row = self.sim.store.one(
                "SELECT * FROM document WHERE issuer_nit = ? AND kind = 'invoice' AND number = ?",
                doc.supplier.nit,
                reference.number,
            )
        if row is None or row["key"] in batch:
            return [_rule(_REFERENCE_RULE[kind], f"Documento referenciado {reference.number} no existe.")]
        errors = []
        if row["issuer_nit"] != doc.supplier.nit:
            errors.append(_rule("SIM85", "La factura referenciada no fue emitida por el emisor de la nota."))
        if row["number"] != reference.number:
            errors.append(
                _rule("SIM86", f"El número referenciado {reference.number} no es el de la factura ({row['number']}).")
            )
        try:
            invoice = parse_document(parse_xml(bytes(row["xml"])))
        except (ParseError, DianError):  # pragma: no cover - we stored it after parsing it
            return errors
        assert isinstance(invoice, CommercialDocument)
        if doc.issue_date < invoice.issue_date:
            errors.append(_rule("SIM87", "La fecha de la nota es anterior a la de la factura referenciada."))
        if doc.monetary_total.payable > invoice.monetary_total.payable:
            errors.append(
                _rule(
                    "VLR02",
                    f"El valor de la nota ({_money(doc.monetary_total.payable)}) supera el de la factura referenciada "
                    f"({_money(invoice.monetary_total.payable)}).",
                )
            )
        closed = self.sim.store.one(
            "SELECT code FROM event WHERE invoice_key = ? AND code IN ('033', '034')", row["key"]
        )
        if closed is not None:
            errors.append(_rule("SIM88", f"La factura ya fue aceptada (evento {closed['code']}) y no admite notas."))
        return errors

    # -- contingency windows ------------------------------------------------------------------------------------

    def declare(self, start: dt.datetime, end: dt.datetime | None, source: str = "admin") -> None:
        """Declare a DIAN contingency window (``end`` None: still open)."""
        with self.sim.store.transaction() as db:
            db.execute(
                "INSERT INTO contingency (start, end, source) VALUES (?, ?, ?)",
                (start.isoformat(), end.isoformat() if end else None, source),
            )

    def windows(self) -> list[dict[str, Any]]:
        """The declared windows, oldest first."""
        rows = self.sim.store.all("SELECT start, end, source FROM contingency ORDER BY start")
        return [{"start": r["start"], "end": r["end"], "source": r["source"]} for r in rows]

    def service_down(self, now: dt.datetime) -> None:
        """An injected outage: open a window (as DIAN declares one) unless one is open."""
        if not self._outage:
            self.declare(now.replace(microsecond=0), None, "outage")  # signing times are whole seconds
            self._outage = True

    def service_up(self, now: dt.datetime) -> None:
        """The service answered again: close the window an outage opened (nothing to do, and no write, otherwise)."""
        if not self._outage:
            return
        self._outage = False
        with self.sim.store.transaction() as db:
            db.execute("UPDATE contingency SET end = ? WHERE end IS NULL AND source = 'outage'", (now.isoformat(),))


def _scheme(sub: Any) -> str:
    return str(sub.findtext("cac:TaxCategory/cac:TaxScheme/cbc:ID", default="", namespaces=_NS)).strip()


def _subtotal_problem(sub: Any) -> str | None:
    """A TaxSubtotal whose amount is not its base × rate (or units × amount per unit), beyond ±2.00."""
    amount = _decimal(sub, "cbc:TaxAmount")
    base = _decimal(sub, "cbc:TaxableAmount")
    percent = _decimal(sub, "cac:TaxCategory/cbc:Percent")
    per_unit = _decimal(sub, "cbc:PerUnitAmount")
    if amount is None or base is None:
        return None
    scheme = sub.findtext("cac:TaxCategory/cac:TaxScheme/cbc:ID", default="", namespaces=_NS)
    if percent is not None:
        expected = base * percent / 100
        what = f"{_money(base)} × {percent} %"
    elif per_unit is not None:
        measure = _decimal(sub, "cbc:BaseUnitMeasure") or Decimal(1)
        expected = base / measure * per_unit
        what = f"{base} unidades × {_money(per_unit)}"
    else:
        return None
    if _off(amount, expected):
        return f"Tributo {scheme}: {_money(amount)} no es {what} = {_money(expected)}"
    return None
