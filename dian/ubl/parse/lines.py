"""Tax totals (cac:TaxTotal, cac:WithholdingTaxTotal) and the lines of the three commercial documents."""

from __future__ import annotations

from lxml import etree

from dian.errors import ParseError
from dian.ubl.model import ItemCode, Line, TaxSubtotal, TaxTotal
from dian.ubl.parse.record import Fields, Record, own_text
from dian.ubl.parse.values import amount, parse_decimal, required_amount

_SUBTOTAL = Record(
    scheme_id="cac:TaxCategory/cac:TaxScheme/cbc:ID",
    scheme_name="cac:TaxCategory/cac:TaxScheme/cbc:Name",
    amount="cbc:TaxAmount",
    taxable_amount="cbc:TaxableAmount",
    percent="cac:TaxCategory/cbc:Percent",
)


_TAX_TOTAL = Record(lists={"subtotals": "cac:TaxSubtotal", "amount": "cbc:TaxAmount"})


def _tax_total(element: etree._Element, where: str) -> TaxTotal:
    subtotals = []
    sub_where = f"{where}/cac:TaxSubtotal"
    total = _TAX_TOTAL(element)
    for sub in total["subtotals"]:
        f = _SUBTOTAL(sub)
        subtotals.append(
            TaxSubtotal(
                scheme_id=_SUBTOTAL.need(f, "scheme_id", sub_where),
                scheme_name=f["scheme_name"],
                amount=required_amount(_SUBTOTAL, f, "amount", sub_where),
                taxable_amount=amount(_SUBTOTAL, f, "taxable_amount", sub_where),
                percent=amount(_SUBTOTAL, f, "percent", sub_where),
            )
        )
    value = own_text(total["amount"])
    if not value:
        raise ParseError("falta el elemento obligatorio cbc:TaxAmount", where=f"{where}/cbc:TaxAmount")
    return TaxTotal(amount=parse_decimal(value, f"{where}/cbc:TaxAmount"), subtotals=tuple(subtotals))  # type: ignore[arg-type]


def read_tax_totals(totals: list[etree._Element], name: str, where: str) -> tuple[TaxTotal, ...]:
    """The tax totals a record listed at ``name`` (cac:TaxTotal, cac:WithholdingTaxTotal)."""
    return tuple(_tax_total(total, f"{where}/{name}") for total in totals)


def _line_record(quantity: str) -> Record:
    return Record(
        lists={"taxes": "cac:TaxTotal", "withholdings": "cac:WithholdingTaxTotal"},
        id="cbc:ID",
        quantity=quantity,
        unit_code=f"{quantity}/@unitCode",
        line_extension_amount="cbc:LineExtensionAmount",
        description="cac:Item/cbc:Description",
        unit_price="cac:Price/cbc:PriceAmount",
        base_quantity="cac:Price/cbc:BaseQuantity",
        standard="cac:Item/cac:StandardItemIdentification/cbc:ID",
        standard_scheme="cac:Item/cac:StandardItemIdentification/cbc:ID/@schemeID",
        sellers="cac:Item/cac:SellersItemIdentification/cbc:ID",
        sellers_scheme="cac:Item/cac:SellersItemIdentification/cbc:ID/@schemeID",
        buyers="cac:Item/cac:BuyersItemIdentification/cbc:ID",
        buyers_scheme="cac:Item/cac:BuyersItemIdentification/cbc:ID/@schemeID",
        # Most lines carry one TaxTotal with one subtotal: read it in the same call (fast path, see _line_taxes).
        tax_count="count(cac:TaxTotal)",
        tax_subtotal_count="count(cac:TaxTotal/cac:TaxSubtotal)",
        tax_amount="cac:TaxTotal/cbc:TaxAmount",
        tax_scheme_id="cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cac:TaxScheme/cbc:ID",
        tax_scheme_name="cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cac:TaxScheme/cbc:Name",
        tax_subtotal_amount="cac:TaxTotal/cac:TaxSubtotal/cbc:TaxAmount",
        tax_taxable_amount="cac:TaxTotal/cac:TaxSubtotal/cbc:TaxableAmount",
        tax_percent="cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:Percent",
    )


def _line_taxes(record: Record, f: Fields, where: str) -> tuple[TaxTotal, ...]:
    if f["tax_count"] == "0":
        return ()
    if f["tax_count"] != "1" or f["tax_subtotal_count"] != "1":
        return read_tax_totals(f["taxes"], "cac:TaxTotal", where)
    subtotal = TaxSubtotal(
        scheme_id=record.need(f, "tax_scheme_id", where),
        scheme_name=f["tax_scheme_name"],
        amount=required_amount(record, f, "tax_subtotal_amount", where),
        taxable_amount=amount(record, f, "tax_taxable_amount", where),
        percent=amount(record, f, "tax_percent", where),
    )
    return (TaxTotal(amount=required_amount(record, f, "tax_amount", where), subtotals=(subtotal,)),)


# Document root local name -> (line element, quantity element, its record).
LINES = {
    "Invoice": ("cac:InvoiceLine", _line_record("cbc:InvoicedQuantity")),
    "CreditNote": ("cac:CreditNoteLine", _line_record("cbc:CreditedQuantity")),
    "DebitNote": ("cac:DebitNoteLine", _line_record("cbc:DebitedQuantity")),
}


def read_line(element: etree._Element, record: Record, where: str) -> Line:
    f = record(element)
    codes = tuple(
        ItemCode(kind=kind, value=f[kind], scheme_id=f[f"{kind}_scheme"])  # type: ignore[arg-type]
        for kind in ("buyers", "sellers", "standard")  # the order of cac:Item in UBL 2.1
        if f[kind] is not None
    )
    return Line(
        id=record.need(f, "id", where),
        quantity=required_amount(record, f, "quantity", where),
        unit_code=f["unit_code"],
        description=f["description"],
        line_extension_amount=required_amount(record, f, "line_extension_amount", where),
        unit_price=amount(record, f, "unit_price", where),
        base_quantity=amount(record, f, "base_quantity", where),
        taxes=_line_taxes(record, f, where),
        withholdings=read_tax_totals(f["withholdings"], "cac:WithholdingTaxTotal", where),
        item_codes=codes,
    )
