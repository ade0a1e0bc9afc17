"""Every amount of an invoice or note, computed with Decimal from quantities, prices and rates, and the check of
totals the caller also sent.

Layout (DIAN's LegalMonetaryTotal, annex 1.8/1.9 as peers implement it, peers-wave2 §2.2-§2.3):

* line: gross = quantity × unit price; discounts/charges of the line (fixed, or a percentage of the gross);
  LineExtensionAmount = gross − discounts + charges; each rate tax = line extension × rate; a per-unit tax (INC on
  bags…) = quantity × amount per unit. A free line (reference price) extends to 0.00.
* document: LineExtensionAmount = Σ lines; TaxExclusiveAmount = Σ line extension of the lines that carry a rate tax
  (0 % included, per-unit-only lines not); TaxInclusiveAmount = LineExtensionAmount + Σ taxes; document-level
  discounts/charges stay outside the tax base and only move PayableAmount = TaxInclusive − discounts + charges.
* withholdings (ReteIVA on the IVA, ReteRenta and ReteICA on the line extension unless a base is given) are reported
  in WithholdingTaxTotal and are NOT subtracted from PayableAmount (peers-wave2 §2.3).

Rounding: each computed amount is rounded half-up to cents once, where it arises (line by line); document figures are
sums of those cents, so a document subtotal always equals the sum of its lines. Caller totals are accepted within
±2.00 of ours (radian-issuing-facts B.1, annex 5.2.1.1), and ours are what goes into the XML.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal

from issuing import catalog
from issuing.payload import Adjustment, DeclaredTotals, Line, Payload
from issuing.problems import PayloadError, Problem, Problems, pointer

__all__ = [
    "TOLERANCE",
    "AdjustmentAmount",
    "LineTotals",
    "TaxAmount",
    "TaxGroup",
    "Totals",
    "check_declared",
    "compute_totals",
    "group_amounts",
    "money",
    "percent_of",
]

TOLERANCE = Decimal("2.00")
_CENT = Decimal("0.01")
_HUNDRED = Decimal(100)
_ZERO = Decimal("0.00")
_CONTEXT = Context(prec=60)  # products of 15-digit amounts and 6-decimal quantities stay exact


def money(value: Decimal) -> Decimal:
    """Round to cents, half up (0.005 → 0.01), the way the amounts of the document are written."""
    return _CONTEXT.multiply(value, Decimal(1)).quantize(_CENT, rounding=ROUND_HALF_UP, context=_CONTEXT)


def _times(a: Decimal, b: Decimal) -> Decimal:
    return _CONTEXT.multiply(a, b)


def _percent_of(base: Decimal, percent: Decimal) -> Decimal:
    return money(_CONTEXT.divide(_times(base, percent), _HUNDRED))


@dataclass(frozen=True)
class AdjustmentAmount:
    """A discount or charge with the amount it came to and the base it was taken on."""

    adjustment: Adjustment
    base: Decimal
    amount: Decimal


@dataclass(frozen=True)
class TaxAmount:
    """A tax (or withholding) on one line, or one subtotal of a document: ``base`` is the taxable amount, or for a
    per-unit tax the number of units."""

    scheme: str
    name: str
    base: Decimal
    amount: Decimal
    rate: Decimal | None = None
    per_unit: Decimal | None = None
    unit: str | None = None  # per-unit taxes: the unit counted (UN/ECE code)


@dataclass(frozen=True)
class LineTotals:
    """The computed amounts of one line."""

    gross: Decimal
    allowances: Decimal
    charges: Decimal
    line_extension: Decimal
    adjustments: tuple[AdjustmentAmount, ...]
    taxes: tuple[TaxAmount, ...]


@dataclass(frozen=True)
class TaxGroup:
    """One cac:TaxTotal (or WithholdingTaxTotal): a scheme with its subtotals, one per rate or per-unit amount."""

    scheme: str
    name: str
    amount: Decimal
    subtotals: tuple[TaxAmount, ...]


@dataclass(frozen=True)
class Totals:
    """Every amount of the document, in its currency."""

    lines: tuple[LineTotals, ...]
    taxes: tuple[TaxGroup, ...]
    withholdings: tuple[TaxGroup, ...]
    adjustments: tuple[AdjustmentAmount, ...]  # document level
    line_extension: Decimal
    tax_exclusive: Decimal
    tax_inclusive: Decimal
    allowance_total: Decimal
    charge_total: Decimal
    payable: Decimal

    def tax_amount(self, scheme: str) -> Decimal:
        """The total of one tax scheme, 0.00 when absent (the ValImp inputs of the CUFE)."""
        return next((group.amount for group in self.taxes if group.scheme == scheme), _ZERO)

    def withholding_amount(self, scheme: str) -> Decimal:
        """The total of one withholding scheme, 0.00 when absent."""
        return next((group.amount for group in self.withholdings if group.scheme == scheme), _ZERO)


def _adjustments(items: Iterable[Adjustment], base: Decimal) -> tuple[AdjustmentAmount, ...]:
    return tuple(
        AdjustmentAmount(item, base, money(item.amount) if item.amount is not None else _percent_of(base, item.percent))  # type: ignore[arg-type]
        for item in items
    )


def _line(line: Line, index: int, problems: Problems) -> LineTotals:
    free = line.reference_price is not None
    gross = _ZERO if free else money(_times(line.quantity, line.unit_price))
    adjustments = _adjustments(line.adjustments, gross)
    allowances = sum((a.amount for a in adjustments if not a.adjustment.charge), _ZERO)
    charges = sum((a.amount for a in adjustments if a.adjustment.charge), _ZERO)
    extension = gross - allowances + charges
    if extension < 0:
        problems.add(pointer("lines", index, "adjustments"), f"los descuentos ({allowances}) superan el valor {gross}")
    taxes = []
    for tax in line.taxes:
        name = tax.name if tax.scheme == "ZZ" and tax.name else catalog.TAX_SCHEMES[tax.scheme]
        if tax.per_unit is not None:
            # Nominal tax: the base is the number of units; one unit of the line's measure each (BaseUnitMeasure 1).
            amount = money(_times(line.quantity, tax.per_unit))
            taxes.append(TaxAmount(tax.scheme, name, line.quantity, amount, per_unit=tax.per_unit, unit=line.unit))
        else:
            rate = tax.rate if tax.rate is not None else _ZERO
            taxes.append(TaxAmount(tax.scheme, name, extension, _percent_of(extension, rate), rate=rate))
    return LineTotals(gross, allowances, charges, extension, adjustments, tuple(taxes))


def _group(items: Iterable[TaxAmount]) -> tuple[TaxGroup, ...]:
    # One TaxTotal per scheme (in code order), one TaxSubtotal per rate or per-unit amount (in first-seen order).
    by_scheme: dict[str, dict[tuple, list[TaxAmount]]] = {}
    for item in items:
        by_scheme.setdefault(item.scheme, {}).setdefault((item.rate, item.per_unit, item.unit), []).append(item)
    groups = []
    for scheme in sorted(by_scheme):
        subtotals = tuple(
            TaxAmount(
                scheme,
                parts[0].name,
                sum((p.base for p in parts), Decimal(0)),
                sum((p.amount for p in parts), _ZERO),
                rate=rate,
                per_unit=per_unit,
                unit=unit,
            )
            for (rate, per_unit, unit), parts in by_scheme[scheme].items()
        )
        groups.append(TaxGroup(scheme, subtotals[0].name, sum((s.amount for s in subtotals), _ZERO), subtotals))
    return tuple(groups)


def compute_totals(payload: Payload) -> Totals:
    """Compute every amount of ``payload``; PayloadError when the arithmetic cannot stand (discount above price)."""
    problems = Problems()
    lines = tuple(_line(line, index, problems) for index, line in enumerate(payload.lines))
    line_extension = sum((line.line_extension for line in lines), _ZERO)
    taxes = _group(tax for line in lines for tax in line.taxes)
    tax_exclusive = sum(
        (line.line_extension for line in lines if any(tax.per_unit is None for tax in line.taxes)), _ZERO
    )
    tax_inclusive = line_extension + sum((group.amount for group in taxes), _ZERO)
    adjustments = _adjustments(payload.adjustments, line_extension)
    allowance_total = sum((a.amount for a in adjustments if not a.adjustment.charge), _ZERO)
    charge_total = sum((a.amount for a in adjustments if a.adjustment.charge), _ZERO)
    payable = tax_inclusive - allowance_total + charge_total
    if payable < 0 and not problems:  # a negative line already said why
        problems.add(
            "/adjustments", f"los descuentos del documento ({allowance_total}) superan su total {tax_inclusive}"
        )
    iva = next((group.amount for group in taxes if group.scheme == "01"), _ZERO)
    withholdings = []
    for index, item in enumerate(payload.withholdings):
        base = item.base if item.base is not None else (iva if item.scheme == "05" else line_extension)
        if item.scheme == "05" and item.base is None and iva == 0:
            problems.add(pointer("withholdings", index), "ReteIVA se calcula sobre el IVA y el documento no tiene IVA")
        name = catalog.WITHHOLDING_SCHEMES[item.scheme]
        withholdings.append(TaxAmount(item.scheme, name, base, _percent_of(base, item.rate), rate=item.rate))
    if problems:
        raise PayloadError(problems.items)
    return Totals(
        lines=lines,
        taxes=taxes,
        withholdings=_group(withholdings),
        adjustments=adjustments,
        line_extension=line_extension,
        tax_exclusive=tax_exclusive,
        tax_inclusive=tax_inclusive,
        allowance_total=allowance_total,
        charge_total=charge_total,
        payable=payable,
    )


def group_amounts(items: Iterable[TaxAmount]) -> tuple[TaxGroup, ...]:
    """Group taxes or withholdings into TaxTotals: one per scheme, one subtotal per rate (the documento soporte's
    line withholdings summed for its document, issuing/support_totals.py)."""
    return _group(items)


def percent_of(base: Decimal, percent: Decimal) -> Decimal:
    """``percent`` % of ``base``, rounded half up to cents."""
    return _percent_of(base, percent)


def check_declared(totals: Totals, declared: DeclaredTotals | None) -> tuple[Problem, ...]:
    """Compare the caller's totals with ours: each may differ by at most ±2.00 (radian-issuing-facts B.1)."""
    if declared is None:
        return ()
    problems = []
    for name in ("line_extension", "tax_exclusive", "tax_inclusive", "allowance_total", "charge_total", "payable"):
        sent = getattr(declared, name)
        if sent is None:
            continue
        ours = getattr(totals, name)
        difference = abs(sent - ours)
        if difference > TOLERANCE:
            problems.append(
                Problem(
                    pointer("totals", name),
                    f"el valor enviado {sent} difiere del calculado {ours} en {difference}, "
                    f"más que la tolerancia de {TOLERANCE}",
                )
            )
    return tuple(problems)
