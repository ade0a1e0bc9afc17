"""DIAN's checks on a documento soporte (05) and its adjustment note (95), radian-issuing-facts C: the issuer is the
BUYER (AccountingCustomerParty, C.1), so the signer, the software and the range are the customer's.

* signature and signer (the buyer or its provider, issued.py's check), software fingerprint (FAB27b's wording);
* 05: the number inside one of the buyer's documento soporte ranges — a range DIAN authorized for invoices is refused
  with DSAB05b (numbering.py's kind) — with its InvoiceControl (DSAB05b-12b: the invoice's FAB rules, here with the
  DS's ids), the issue date inside the authorization (DSAB07a); issued.py's ``_range`` for both;
* the CUDS with the software PIN (C.2; DSAD06 / NSAD06);
* dates, totals within ±2.00 and currency as for invoices (issued.py);
* 95: the referenced DS exists and is the same buyer's (NSBG04), the note not above the DS total (VLR02), counting the
  notes already validated on it. DIAN's range checks for the 95 do not exist in its 2022 code (C.5), nor here.

Each refusal is ``Regla: <id>, Rechazo: …``; ids DIAN's where the facts name them, else the simulator's ``SIM…``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from decimal import Decimal
from typing import Any

from dian.codes import DocumentType
from dian.cufe import software_security_code
from dian.errors import DianError, ParseError
from dian.simulator.numbering import SUPPORT_DOCUMENT
from dian.simulator.replies import _rule
from dian.support.cuds import document_fields
from dian.support.literals import CUDS_SCHEME
from dian.ubl import parse_document
from dian.ubl.model import CommercialDocument
from dian.xmlsafe import parse_xml

__all__ = ["SupportRules", "issuer_of"]


def issuer_of(doc: CommercialDocument) -> str:
    """The NIT that issued ``doc``: the buyer for a 05/95 (C.1), the supplier otherwise."""
    return doc.customer.nit if doc.document_type.is_support else doc.supplier.nit


class SupportRules:
    """The checks of one received 05 or 95 (``rules`` is the simulator's IssuedRules, for dates, totals, currency)."""

    def __init__(self, rules: Any) -> None:
        self.rules = rules
        self.sim = rules.sim

    def check(self, doc: CommercialDocument, root: Any, report: Any, kind: str, now: dt.datetime,
              batch: Collection[str] = ()) -> list[str]:  # fmt: skip
        errors = self.rules._signature(report, doc)
        software = self.sim._software(doc.software_id)
        if software is None or doc.software_security_code != software_security_code(
            software["software_id"], software["pin"], doc.number
        ):
            errors.append(_rule("FAB27b", "Huella no corresponde a un software autorizado para este OFE."))
        adjustment = doc.document_type is DocumentType.SUPPORT_ADJUSTMENT
        if not adjustment:
            errors += self.rules._range(doc, doc.customer.nit, SUPPORT_DOCUMENT)[1]
        errors += self._key(doc, software, "NSAD06" if adjustment else "DSAD06")
        errors += self.rules._dates(doc, kind, report.signing_time, now)
        errors += self.rules._totals(root, kind)
        errors += self.rules._currency(root, doc)
        if adjustment:
            errors += self._reference(doc, batch)
        return errors

    @staticmethod
    def _key(doc: CommercialDocument, software: Any, rule: str) -> list[str]:
        if doc.uuid_scheme != CUDS_SCHEME:
            return [_rule(rule, f"El esquema del UUID ({doc.uuid_scheme}) no es {CUDS_SCHEME}.")]
        if software is None:
            return []
        expected = document_fields(doc, pin=software["pin"]).digest()
        if expected != doc.uuid.strip().lower():
            return [_rule(rule, "Valor del CUDS no está calculado correctamente.")]
        return []

    def _reference(self, doc: CommercialDocument, batch: Collection[str]) -> list[str]:
        if not doc.billing_references:
            return [_rule("NSBG04", "La nota de ajuste no referencia su documento soporte.")]
        reference = doc.billing_references[0]
        row = self.sim.store.one(
            "SELECT * FROM document WHERE key = ? AND type_code = '05'", (reference.uuid or "").strip().lower()
        )
        if row is None or row["key"] in batch:
            return [_rule("NSBG04", f"Documento soporte referenciado {reference.number} no existe.")]
        errors = []
        if row["issuer_nit"] != doc.customer.nit:
            errors.append(_rule("SIM85", "El documento soporte referenciado no fue expedido por quien expide la nota."))
        if row["number"] != reference.number:
            errors.append(_rule("SIM86", f"El número referenciado {reference.number} no es el del documento soporte "
                                f"({row['number']})."))  # fmt: skip
        try:
            support = parse_document(parse_xml(bytes(row["xml"])))
        except (ParseError, DianError):  # pragma: no cover - stored after parsing it
            return errors
        assert isinstance(support, CommercialDocument)
        if doc.issue_date < support.issue_date:
            errors.append(_rule("SIM87", "La fecha de la nota es anterior a la del documento soporte referenciado."))
        earlier = Decimal(0)
        for note in self.sim.store.all(
            "SELECT xml FROM document WHERE type_code = '95' AND issuer_nit = ?", doc.customer.nit
        ):
            parsed = parse_document(parse_xml(bytes(note["xml"])))
            if isinstance(parsed, CommercialDocument) and any(
                (b.uuid or "").lower() == row["key"] for b in parsed.billing_references
            ):
                earlier += parsed.monetary_total.payable
        total = earlier + doc.monetary_total.payable
        if total > support.monetary_total.payable:
            errors.append(_rule("VLR02", f"El valor de las notas de ajuste ({total:.2f}) supera el del documento "
                                f"soporte ({support.monetary_total.payable:.2f})."))  # fmt: skip
        return errors
