"""The lines of an invoice or note (also the documento soporte's, dian/support), with the tax totals and allowance
charges a line writes the way its document does."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from lxml import etree

from dian.errors import BuildError
from dian.ubl.build.drafts import AllowanceCharge, DraftLine, UnitTaxSubtotal
from dian.ubl.build.elements import money, number, sub
from dian.ubl.model import ItemCode, Line, TaxTotal


def tax_totals(parent: etree._Element, name: str, totals: Iterable[TaxTotal], currency: str, field: str) -> None:
    for index, total in enumerate(totals, start=1):
        element = sub(parent, name)
        sub(element, "cbc:TaxAmount", money(total.amount, f"{field}[{index}].amount"), currencyID=currency)
        for part in total.subtotals:
            subtotal = sub(element, "cac:TaxSubtotal")
            if part.taxable_amount is not None:
                sub(subtotal, "cbc:TaxableAmount", number(part.taxable_amount), currencyID=currency)
            sub(subtotal, "cbc:TaxAmount", number(part.amount), currencyID=currency)
            if isinstance(part, UnitTaxSubtotal):
                # UBL 2.1 order inside cac:TaxSubtotal: Percent (unused here), BaseUnitMeasure, PerUnitAmount.
                if part.base_unit_measure is not None:
                    sub(subtotal, "cbc:BaseUnitMeasure", number(part.base_unit_measure), unitCode=part.unit_code)
                if part.per_unit_amount is not None:
                    sub(subtotal, "cbc:PerUnitAmount", number(part.per_unit_amount), currencyID=currency)
            category = sub(subtotal, "cac:TaxCategory")
            if part.percent is not None:
                sub(category, "cbc:Percent", number(part.percent))
            scheme = sub(category, "cac:TaxScheme")
            sub(scheme, "cbc:ID", part.scheme_id)
            if part.scheme_name is not None:
                sub(scheme, "cbc:Name", part.scheme_name)


_ITEM_PATHS = {
    "buyers": "cac:BuyersItemIdentification/cbc:ID",
    "sellers": "cac:SellersItemIdentification/cbc:ID",
    "standard": "cac:StandardItemIdentification/cbc:ID",
}


def _item_codes(item: etree._Element, codes: tuple[ItemCode, ...], field: str) -> None:
    by_kind = {}
    for code in codes:
        if code.kind not in _ITEM_PATHS or code.kind in by_kind:
            raise BuildError(f"{field}.item_codes: one each of {', '.join(_ITEM_PATHS)}; got {code.kind!r} again")
        by_kind[code.kind] = code
    for kind, path in _ITEM_PATHS.items():  # UBL 2.1 order inside cac:Item
        if kind in by_kind:
            sub(item, path, by_kind[kind].value, schemeID=by_kind[kind].scheme_id)


def allowance_charges(parent: etree._Element, charges: Iterable[AllowanceCharge], currency: str, field: str) -> None:
    for index, charge in enumerate(charges, start=1):
        element = sub(parent, "cac:AllowanceCharge")
        sub(element, "cbc:ID", str(index))
        sub(element, "cbc:ChargeIndicator", "true" if charge.charge else "false")
        if charge.reason_code is not None:
            if charge.charge:
                raise BuildError(f"{field}[{index}].reason_code: only discounts carry a DIAN discount code")
            sub(element, "cbc:AllowanceChargeReasonCode", charge.reason_code)
        if charge.reason is not None:
            sub(element, "cbc:AllowanceChargeReason", charge.reason)
        if charge.percent is not None:
            sub(element, "cbc:MultiplierFactorNumeric", number(charge.percent))
        sub(element, "cbc:Amount", money(charge.amount, f"{field}[{index}].amount"), currencyID=currency)
        if charge.base_amount is not None:
            sub(element, "cbc:BaseAmount", number(charge.base_amount), currencyID=currency)


def line_extras(element: etree._Element, local: str, line: Line, currency: str, field: str) -> None:
    """FreeOfChargeIndicator, PricingReference, AllowanceCharge and TaxTotal in the order each root's XSD wants."""
    extra = line if isinstance(line, DraftLine) else None
    if extra is not None and local != "DebitNote":  # DebitNoteLine has no FreeOfChargeIndicator
        sub(element, "cbc:FreeOfChargeIndicator", "true" if extra.free_of_charge else "false")
    if extra is not None and extra.free_of_charge:
        if extra.reference_price is None:
            raise BuildError(f"{field}.reference_price: a free-of-charge line states its reference price")
        price = sub(element, "cac:PricingReference/cac:AlternativeConditionPrice")
        sub(price, "cbc:PriceAmount", number(extra.reference_price), currencyID=currency)
        sub(price, "cbc:PriceTypeCode", extra.reference_price_type)
    charges = extra.allowance_charges if extra is not None else ()
    if local == "Invoice":  # InvoiceLine: AllowanceCharge before TaxTotal; the notes the other way round
        allowance_charges(element, charges, currency, f"{field}.allowance_charges")
        tax_totals(element, "cac:TaxTotal", line.taxes, currency, f"{field}.taxes")
    else:
        tax_totals(element, "cac:TaxTotal", line.taxes, currency, f"{field}.taxes")
        allowance_charges(element, charges, currency, f"{field}.allowance_charges")


def line_start(root: etree._Element, line_name: str, quantity_name: str, line: Any, currency: str) -> etree._Element:
    """A document line's element with its ID, quantity and amount (also the documento soporte's, dian/support)."""
    element = sub(root, line_name)
    sub(element, "cbc:ID", line.id)
    sub(element, quantity_name, number(line.quantity), unitCode=line.unit_code)
    sub(element, "cbc:LineExtensionAmount", number(line.line_extension_amount), currencyID=currency)
    return element


def line_item(element: etree._Element, line: Any, currency: str, field: str, *, base_quantity: Decimal | None) -> None:
    """A line's cac:Item (description, codes) and cac:Price, with cbc:BaseQuantity when ``base_quantity`` is given."""
    item = sub(element, "cac:Item")
    if line.description is not None:
        sub(item, "cbc:Description", line.description)
    _item_codes(item, line.item_codes, field)
    if line.unit_price is not None:
        price = sub(element, "cac:Price")
        sub(price, "cbc:PriceAmount", number(line.unit_price), currencyID=currency)
        if base_quantity is not None:
            sub(price, "cbc:BaseQuantity", number(base_quantity), unitCode=line.unit_code)
