"""issuing.totals against amounts worked out by hand (the arithmetic is in the comments; nothing here is computed
with the code under test)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dian.codes import DocumentType
from issuing.payload import Adjustment, Customer, DeclaredTotals, Line, LineTax, Payload, Withholding
from issuing.problems import PayloadError
from issuing.totals import check_declared, compute_totals, money

D = Decimal
BUYER = Customer(id_type="31", id="800199436", dv="4", name="Comprador Ejemplo S.A.")


def _payload(*lines: Line, **extra) -> Payload:
    return Payload(type=DocumentType.INVOICE, customer=BUYER, lines=lines, **extra)


def test_money_rounds_half_up_to_cents() -> None:
    assert money(D("0.005")) == D("0.01")
    assert money(D("0.0049")) == D("0.00")
    assert money(D("1851.8505")) == D("1851.85")
    assert money(D("-0.005")) == D("-0.01")


def test_discounts_and_charges_at_line_and_document_level() -> None:
    payload = _payload(
        Line(
            "Tornillos",
            quantity=D("3"),
            unit_price=D("12345.67"),
            adjustments=(
                Adjustment(False, "Descuento 5 %", percent=D("5")),
                Adjustment(True, "Empaque", amount=D("100")),
            ),
            taxes=(LineTax("01", rate=D("19")),),
        ),
        Line("Servicio", quantity=D("1"), unit_price=D("10000"), taxes=(LineTax("01", rate=D("5")),)),
        adjustments=(Adjustment(False, "Pronto pago", amount=D("1000.00"), code="03"),),
    )
    totals = compute_totals(payload)
    first, second = totals.lines
    # 3 × 12,345.67 = 37,037.01
    assert first.gross == D("37037.01")
    # 5 % of 37,037.01 = 1,851.8505 → 1,851.85 (half up); the charge is 100.00
    assert (first.allowances, first.charges) == (D("1851.85"), D("100.00"))
    # 37,037.01 − 1,851.85 + 100.00 = 35,285.16
    assert first.line_extension == D("35285.16")
    # IVA 19 % of 35,285.16 = 6,704.1804 → 6,704.18
    assert first.taxes[0].amount == D("6704.18")
    # 1 × 10,000 at IVA 5 % = 500.00
    assert (second.line_extension, second.taxes[0].amount) == (D("10000.00"), D("500.00"))
    # Σ lines = 35,285.16 + 10,000.00 = 45,285.16; both lines carry IVA, so TaxExclusive is the same
    assert (totals.line_extension, totals.tax_exclusive) == (D("45285.16"), D("45285.16"))
    # one TaxTotal for IVA = 6,704.18 + 500.00 = 7,204.18 with one subtotal per rate
    (iva,) = totals.taxes
    assert (iva.scheme, iva.amount) == ("01", D("7204.18"))
    assert [(s.rate, s.base, s.amount) for s in iva.subtotals] == [
        (D("19"), D("35285.16"), D("6704.18")),
        (D("5"), D("10000.00"), D("500.00")),
    ]
    # TaxInclusive = 45,285.16 + 7,204.18 = 52,489.34; the document discount only moves the payable:
    # 52,489.34 − 1,000.00 = 51,489.34
    assert totals.tax_inclusive == D("52489.34")
    assert (totals.allowance_total, totals.charge_total) == (D("1000.00"), D("0.00"))
    assert totals.payable == D("51489.34")


def test_per_unit_inc_on_bags_stays_out_of_the_tax_exclusive_base() -> None:
    payload = _payload(
        Line("Mercado", quantity=D("1"), unit_price=D("50000"), taxes=(LineTax("01", rate=D("19")),)),
        Line("Bolsa plástica", quantity=D("4"), unit_price=D("100"), taxes=(LineTax("22", per_unit=D("66")),)),
    )
    totals = compute_totals(payload)
    # IVA 19 % of 50,000 = 9,500.00; INC bolsas 4 bags × 66.00 = 264.00, its base is the 4 units
    assert [(g.scheme, g.amount) for g in totals.taxes] == [("01", D("9500.00")), ("22", D("264.00"))]
    bags = totals.taxes[1].subtotals[0]
    assert (bags.base, bags.per_unit, bags.unit) == (D("4"), D("66"), "94")
    # lines: 50,000.00 + 4 × 100.00 = 50,400.00; only the IVA line is in the taxable base: 50,000.00
    assert (totals.line_extension, totals.tax_exclusive) == (D("50400.00"), D("50000.00"))
    # 50,400.00 + 9,500.00 + 264.00 = 60,164.00
    assert totals.tax_inclusive == totals.payable == D("60164.00")


def test_free_line_extends_to_zero_and_keeps_its_per_unit_tax() -> None:
    payload = _payload(
        Line("Bolsa obsequio", quantity=D("10"), unit_price=D("0"), reference_price=D("50"),
             taxes=(LineTax("22", per_unit=D("50")),)),
    )  # fmt: skip
    totals = compute_totals(payload)
    # free: line extension 0.00; the tax is still 10 × 50.00 = 500.00
    assert (totals.line_extension, totals.tax_amount("22"), totals.payable) == (D("0.00"), D("500.00"), D("500.00"))


def test_withholdings_are_reported_but_not_subtracted_from_the_payable() -> None:
    payload = _payload(
        Line("Consultoría", quantity=D("1"), unit_price=D("1000000"), taxes=(LineTax("01", rate=D("19")),)),
        withholdings=(
            Withholding("05", rate=D("15")),
            Withholding("06", rate=D("2.5")),
            Withholding("07", rate=D("0.966")),
        ),
    )
    totals = compute_totals(payload)
    # IVA 19 % of 1,000,000 = 190,000.00
    assert totals.tax_amount("01") == D("190000.00")
    # ReteIVA 15 % of the IVA 190,000 = 28,500.00; ReteRenta 2.5 % of 1,000,000 = 25,000.00;
    # ReteICA 0.966 % of 1,000,000 = 9,660.00
    assert [(g.scheme, g.subtotals[0].base, g.amount) for g in totals.withholdings] == [
        ("05", D("190000.00"), D("28500.00")),
        ("06", D("1000000.00"), D("25000.00")),
        ("07", D("1000000.00"), D("9660.00")),
    ]
    # payable stays 1,000,000 + 190,000 = 1,190,000.00 (peers-wave2 §2.3)
    assert totals.payable == D("1190000.00")


def test_withholding_with_an_explicit_base() -> None:
    payload = _payload(
        Line("Obra", quantity=D("1"), unit_price=D("2000000"), taxes=(LineTax("01", rate=D("19")),)),
        withholdings=(Withholding("06", rate=D("1"), base=D("1500000")),),
    )
    # 1 % of the stated base 1,500,000 = 15,000.00
    assert compute_totals(payload).withholding_amount("06") == D("15000.00")


def test_export_in_usd_with_a_discount() -> None:
    payload = _payload(
        Line(
            "Café verde (kg)",
            quantity=D("2"),
            unit_price=D("1234.565"),
            adjustments=(Adjustment(False, "Volumen", percent=D("3.5")),),
            taxes=(LineTax("01", rate=D("0")),),
        ),
        currency="USD",
    )
    totals = compute_totals(payload)
    # 2 × 1,234.565 = 2,469.13 USD; 3.5 % of it = 86.41955 → 86.42; 2,469.13 − 86.42 = 2,382.71
    assert (totals.lines[0].gross, totals.lines[0].allowances) == (D("2469.13"), D("86.42"))
    assert totals.line_extension == D("2382.71")
    # IVA 0 % (exempt export) still yields a TaxTotal of 0.00 over a base of 2,382.71
    assert [(g.scheme, g.amount, g.subtotals[0].base) for g in totals.taxes] == [("01", D("0.00"), D("2382.71"))]
    assert totals.tax_exclusive == totals.tax_inclusive == totals.payable == D("2382.71")


def test_excluded_line_without_taxes_is_outside_the_tax_exclusive_base() -> None:
    payload = _payload(
        Line("Arriendo de vivienda", quantity=D("1"), unit_price=D("1500000")),
        Line("Administración", quantity=D("1"), unit_price=D("100000"), taxes=(LineTax("01", rate=D("19")),)),
    )
    totals = compute_totals(payload)
    # lines 1,600,000; taxable base only 100,000; IVA 19,000; total 1,619,000
    assert (totals.line_extension, totals.tax_exclusive) == (D("1600000.00"), D("100000.00"))
    assert totals.payable == D("1619000.00")


def test_impossible_arithmetic_is_refused_with_pointers() -> None:
    payload = _payload(
        Line("A", quantity=D("1"), unit_price=D("100"), adjustments=(Adjustment(False, "x", amount=D("150")),)),
        withholdings=(Withholding("05", rate=D("15")),),
    )
    with pytest.raises(PayloadError) as caught:
        compute_totals(payload)
    pointers = [problem.pointer for problem in caught.value.problems]
    assert pointers == ["/lines/0/adjustments", "/withholdings/0"]


def test_document_discount_above_the_total_is_refused() -> None:
    payload = _payload(
        Line("A", quantity=D("1"), unit_price=D("100")), adjustments=(Adjustment(False, "x", amount=D("100.01")),)
    )
    with pytest.raises(PayloadError) as caught:
        compute_totals(payload)
    assert [problem.pointer for problem in caught.value.problems] == ["/adjustments"]


def test_declared_totals_within_two_pesos_pass_and_beyond_are_named() -> None:
    # apidian's "Impuesto Bolsa" example: 840,336.13 + IVA 159,663.86 + bags 500.00 = 1,000,499.99,
    # declared 1,000,500.00
    bags = (LineTax("22", per_unit=D("50")),)
    payload = _payload(
        Line("Comisión", quantity=D("1"), unit_price=D("840336.13"), taxes=(LineTax("01", rate=D("19")),)),
        Line("Bolsa", quantity=D("10"), unit_price=D("0"), reference_price=D("50"), taxes=bags),
    )
    totals = compute_totals(payload)
    # 19 % of 840,336.13 = 159,663.8647 → 159,663.86
    assert totals.tax_amount("01") == D("159663.86")
    assert totals.payable == D("1000499.99")
    assert check_declared(totals, DeclaredTotals(payable=D("1000500.00"), tax_inclusive=D("1000500.00"))) == ()
    # exactly 2.00 away is still inside the tolerance; 2.01 is not
    assert check_declared(totals, DeclaredTotals(payable=D("1000501.99"))) == ()
    problems = check_declared(totals, DeclaredTotals(line_extension=D("840336.13"), payable=D("1000502.00")))
    assert [p.pointer for p in problems] == ["/totals/payable"]
    assert "1000502.00" in problems[0].message and "2.01" in problems[0].message
