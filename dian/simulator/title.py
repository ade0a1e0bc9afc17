"""One invoice as the simulator holds it as a title: its row, the parsed invoice and every registered event, and what
DIAN derives from them (the holder replay of A.11, the rules' facts, the title's value)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from dian.codes import DocumentType, Operation, PaymentMeans
from dian.radian.history import TitleAct, holders
from dian.radian.model import Share
from dian.rules import DocumentFacts
from dian.ubl.model import CommercialDocument

__all__ = ["Title"]


def _from_iso(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


@dataclass(frozen=True)
class Title:
    """What the simulator knows of one invoice as a title: its row, the parsed invoice and every registered event."""

    row: Any
    invoice: CommercialDocument
    history: tuple[TitleAct, ...]

    @property
    def cufe(self) -> str:
        return str(self.row["key"])

    @property
    def issuer(self) -> Share:
        party = self.invoice.supplier
        return Share(party.nit, party.registration_name or "", party.dv)

    @property
    def holders(self) -> tuple[Share, ...]:
        """The current legitimate holder(s), DIAN's replay (A.11)."""
        return holders(self.issuer, self.history)

    def facts(self) -> DocumentFacts:
        """The rules' view of the title, with its full history."""
        row = self.row
        return DocumentFacts(
            document_type=DocumentType(row["type_code"]),
            payment_means=PaymentMeans(row["payment_means"]) if row["payment_means"] else None,
            signed_at=_from_iso(row["signing_time"]) if row["signing_time"] else None,
            due_date=self.invoice.due_date,
            issuer_nit=row["issuer_nit"],
            buyer_nit=row["receiver_nit"],
            invoice_cufe=self.cufe,
            history=self.history,
        )

    def current_value(self) -> Decimal:
        """The title's value now: the invoice's payable less the partial payments (451) registered; 0 once a total
        payment (452) is (A.9)."""
        if any(act.operation is Operation.TOTAL_PAYMENT for act in self.history):
            return Decimal("0.00")
        paid = sum(
            (act.paid or Decimal(0) for act in self.history if act.operation is Operation.PARTIAL_PAYMENT), Decimal(0)
        )
        return self.invoice.monetary_total.payable - paid
