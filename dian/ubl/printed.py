"""What a graphic representation prints beyond the parsed CommercialDocument: discounts and charges (per line and
per document), per-unit tax amounts, a free line's reference price, the exchange rate, a type 03's paper invoice and
a note's period (radian-issuing-facts B.3-B.6). Read from the same tree as the parse, so one parse serves both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from lxml import etree

from dian.ubl import namespaces as ns
from dian.ubl.parse import Document, parse_document
from dian.xmlsafe import parse_xml

__all__ = ["Charge", "LineExtras", "PrintedExtras", "read_printed"]


@dataclass(frozen=True)
class Charge:
    """One cac:AllowanceCharge: a discount (charge False) or a surcharge."""

    charge: bool
    amount: Decimal
    reason: str | None = None
    percent: Decimal | None = None  # cbc:MultiplierFactorNumeric


@dataclass(frozen=True)
class LineExtras:
    """A line's discounts/charges, its per-unit tax amounts (one per TaxSubtotal, None for a rate) and, when free of
    charge, its reference price."""

    charges: tuple[Charge, ...] = ()
    per_unit: tuple[Decimal | None, ...] = ()
    reference_price: Decimal | None = None


@dataclass(frozen=True)
class PrintedExtras:
    """The document-level extras; ``lines`` in document order, as the parsed model's lines."""

    lines: tuple[LineExtras, ...] = ()
    charges: tuple[Charge, ...] = ()
    per_unit: tuple[Decimal | None, ...] = ()  # the document's cac:TaxTotal subtotals
    exchange_rate: Decimal | None = None  # cac:PaymentExchangeRate/cbc:CalculationRate
    exchange_target: str | None = None
    exchange_date: date | None = None
    paper_invoices: tuple[tuple[str, date | None], ...] = ()  # cac:AdditionalDocumentReference (type 03)
    period: tuple[date | None, date | None] | None = None  # cac:InvoicePeriod
    provider_dv: str | None = None  # sts:SoftwareProvider/sts:ProviderID/@schemeID


def _decimal(text: str | None) -> Decimal | None:
    return Decimal(text) if text else None


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _charges(parent: etree._Element) -> tuple[Charge, ...]:
    return tuple(
        Charge(
            charge=e.findtext(ns.clark("cbc:ChargeIndicator")) == "true",
            amount=Decimal(e.findtext(ns.clark("cbc:Amount")) or "0"),
            reason=e.findtext(ns.clark("cbc:AllowanceChargeReason")),
            percent=_decimal(e.findtext(ns.clark("cbc:MultiplierFactorNumeric"))),
        )
        for e in parent.iterfind(ns.clark("cac:AllowanceCharge"))
    )


def _per_unit(parent: etree._Element) -> tuple[Decimal | None, ...]:
    path = ns.clark("cac:TaxTotal/cac:TaxSubtotal")
    return tuple(_decimal(s.findtext(ns.clark("cbc:PerUnitAmount"))) for s in parent.iterfind(path))


def read_printed(xml: bytes) -> tuple[Document, PrintedExtras | None]:
    """Parse a DIAN document once: the parsed model, and for an invoice or note its PrintedExtras (None otherwise)."""
    root = parse_xml(xml)
    document = parse_document(root, source=xml)
    local = etree.QName(root).localname
    if local not in ("Invoice", "CreditNote", "DebitNote"):
        return document, None
    lines = tuple(
        LineExtras(
            charges=_charges(line),
            per_unit=_per_unit(line),
            reference_price=_decimal(
                line.findtext(ns.clark("cac:PricingReference/cac:AlternativeConditionPrice/cbc:PriceAmount"))
            )
            if line.findtext(ns.clark("cbc:FreeOfChargeIndicator")) == "true"
            else None,
        )
        for line in root.iterfind(ns.clark(f"cac:{local}Line"))
    )
    rate = root.find(ns.clark("cac:PaymentExchangeRate"))
    period = root.find(ns.clark("cac:InvoicePeriod"))
    provider = root.find(f".//{{{ns.STS}}}SoftwareProvider/{{{ns.STS}}}ProviderID")
    return document, PrintedExtras(
        lines=lines,
        charges=_charges(root),
        per_unit=_per_unit(root),
        exchange_rate=_decimal(rate.findtext(ns.clark("cbc:CalculationRate"))) if rate is not None else None,
        exchange_target=rate.findtext(ns.clark("cbc:TargetCurrencyCode")) if rate is not None else None,
        exchange_date=_day(rate.findtext(ns.clark("cbc:Date"))) if rate is not None else None,
        paper_invoices=tuple(
            (e.findtext(ns.clark("cbc:ID")) or "", _day(e.findtext(ns.clark("cbc:IssueDate"))))
            for e in root.iterfind(ns.clark("cac:AdditionalDocumentReference"))
        ),
        period=(_day(period.findtext(ns.clark("cbc:StartDate"))), _day(period.findtext(ns.clark("cbc:EndDate"))))
        if period is not None
        else None,
        provider_dv=provider.get("schemeID") if provider is not None else None,
    )
