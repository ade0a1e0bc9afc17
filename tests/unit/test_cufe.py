"""CUFE/CUDE/SoftwareSecurityCode against the published vectors of dian-facts.md section 1."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from dian import cufe

# dian-facts.md 1.2: the annex invoice example, split by hand into its fields.
INVOICE = dict(
    number="323200000129",
    issue_date=date(2019, 1, 16),
    issue_time="10:53:10-05:00",
    line_extension_amount=Decimal("1500000.00"),
    tax_amounts={"01": Decimal("285000.00")},  # 04 and 03 absent: they enter as 0.00
    payable_amount=Decimal("1785000.00"),
    supplier_nit="700085371",
    customer_nit="800199436",
    technical_key="693ff6f2a553c3646a063436fd4dd9ded0311471",
    environment="1",
)
INVOICE_INPUT = (
    "3232000001292019-01-1610:53:10-05:001500000.0001285000.00040.00030.001785000.00"
    "700085371800199436693ff6f2a553c3646a063436fd4dd9ded03114711"
)
INVOICE_CUFE = "8bb918b19ba22a694f1da11c643b5e9de39adf60311cf179179e9b33381030bcd4c3c3f156c506ed5908f9276f5bd9b4"

# dian-facts.md 1.3: credit note.
CREDIT_NOTE = dict(
    number="8110007871",
    issue_date=date(2019, 1, 12),
    issue_time="07:00:00-05:00",
    line_extension_amount=Decimal("5000.00"),
    tax_amounts={"01": Decimal("950.00"), "04": Decimal("0"), "03": Decimal("0.00")},
    payable_amount=Decimal("5950.00"),
    supplier_nit="900373076",
    customer_nit="8355990",
    software_pin="12301",
    environment="1",
)
CREDIT_NOTE_INPUT = "81100078712019-01-1207:00:00-05:005000.0001950.00040.00030.005950.009003730768355990123011"
CREDIT_NOTE_CUDE = "907e4444decc9e59c160a2fb3b6659b33dc5b632a5008922b9a62f83f757b1c448e47f5867f2b50dbdb96f48c7681168"

# dian-facts.md 1.3: debit note (habilitación, INC instead of IVA).
DEBIT_NOTE = dict(
    number="ND1001",
    issue_date=date(2019, 1, 18),
    issue_time="10:58:00-05:00",
    line_extension_amount=Decimal("30000.00"),
    tax_amounts={"04": Decimal("2400.00")},
    payable_amount=Decimal("32400.00"),
    supplier_nit="900197264",
    customer_nit="10254102",
    software_pin="10201",
    environment="2",
)
DEBIT_NOTE_INPUT = "ND10012019-01-1810:58:00-05:0030000.00010.00042400.00030.0032400.0090019726410254102102012"
DEBIT_NOTE_CUDE = "3fa73a86d57d9341c536afde1f85c4efd9d4591c2c22bce4dfb0e6b0d2e83b8f047a8bde7098292e9d2493e60d1c31da"

# dian-facts.md 1.4: RADIAN annex 12.1.1.1 event example.
EVENT = dict(
    number="1",
    issue_date=date(2019, 4, 30),
    issue_time="19:48:50-05:00",
    sender_nit="99998888",
    receiver_nit="800197268",
    response_code="030",
    document_number="FE123",
    document_type_code="01",
    software_pin="11111",
)
EVENT_INPUT = "12019-04-3019:48:50-05:0099998888800197268030FE1230111111"
EVENT_CUDE = "0d91ba25b01f5e7dbda870a11b274501d3a62a73e91932c473c86c93f12a142a2ac45876efcde3e679024a01c0be41f9"


def test_invoice_cufe_vector() -> None:
    assert cufe.invoice_cufe_input(**INVOICE) == INVOICE_INPUT
    assert cufe.invoice_cufe(**INVOICE) == INVOICE_CUFE


def test_credit_note_cude_vector() -> None:
    assert cufe.note_cude_input(**CREDIT_NOTE) == CREDIT_NOTE_INPUT
    assert cufe.note_cude(**CREDIT_NOTE) == CREDIT_NOTE_CUDE


def test_debit_note_cude_vector() -> None:
    assert cufe.note_cude_input(**DEBIT_NOTE) == DEBIT_NOTE_INPUT
    assert cufe.note_cude(**DEBIT_NOTE) == DEBIT_NOTE_CUDE


def test_event_cude_vector() -> None:
    assert cufe.event_cude_input(**EVENT) == EVENT_INPUT
    assert cufe.event_cude(**EVENT) == EVENT_CUDE


def test_event_cude_puts_sender_before_receiver() -> None:
    swapped = {**EVENT, "sender_nit": EVENT["receiver_nit"], "receiver_nit": EVENT["sender_nit"]}
    assert cufe.event_cude(**swapped) != EVENT_CUDE


def test_software_security_code_vector() -> None:
    # dian-facts.md 1.5: DIAN's event example 030.
    assert cufe.software_security_code("fa326ca7-c1f8-40d3-a6fc-24d7c1040607", "20191", "ACR0021") == (
        "55dfb0384c1d47d41568fbf9b5a5b92151b13490ea4d6cfc45d6b6b4256b81cd1987b188daa53d5f7211fd758eaa4a14"
    )


def test_tax_order_is_iva_inc_ica_whatever_the_mapping_order() -> None:
    taxes = {"03": Decimal("3"), "01": Decimal("1"), "04": Decimal("4")}
    text = cufe.invoice_cufe_input(**{**INVOICE, "tax_amounts": taxes})
    assert "011.00044.00033.00" in text


def test_taxes_outside_the_formula_are_ignored() -> None:
    taxes = {**INVOICE["tax_amounts"], "05": Decimal("999.00"), "06": Decimal("12.00")}
    assert cufe.invoice_cufe(**{**INVOICE, "tax_amounts": taxes}) == INVOICE_CUFE


def test_technical_key_and_environment_change_the_cufe() -> None:
    assert cufe.invoice_cufe(**{**INVOICE, "environment": "2"}) != INVOICE_CUFE
    assert cufe.invoice_cufe(**{**INVOICE, "technical_key": "x"}) != INVOICE_CUFE


def test_environment_is_checked() -> None:
    with pytest.raises(ValueError, match="'3'"):
        cufe.invoice_cufe(**{**INVOICE, "environment": "3"})


def test_amounts_are_formatted_in_the_hash_input() -> None:
    values = {**INVOICE, "line_extension_amount": Decimal("1500000"), "payable_amount": Decimal("1785000.009")}
    assert cufe.invoice_cufe(**values) == INVOICE_CUFE


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("0"), "0.00"),
        (Decimal("1500000"), "1500000.00"),
        (Decimal("285000.0"), "285000.00"),
        (Decimal("1.5"), "1.50"),
        (Decimal("1.239"), "1.23"),  # truncated, not rounded (1.1)
        (Decimal("1.999999"), "1.99"),
        (Decimal("0.005"), "0.00"),
        (Decimal("-0.005"), "0.00"),  # no "-0.00"
        (Decimal("-12.349"), "-12.34"),  # truncation is towards zero
        (Decimal("1E+6"), "1000000.00"),  # no exponent notation
        (Decimal("12345678901234567890123456789.999"), "12345678901234567890123456789.99"),
        (Decimal("1234567.8"), "1234567.80"),  # no thousands separator
    ],
)
def test_format_amount(value: Decimal, text: str) -> None:
    assert cufe.format_amount(value) == text


@pytest.mark.parametrize("value", [1.5, 2, "1.50"])
def test_format_amount_refuses_non_decimals(value: object) -> None:
    with pytest.raises(TypeError):
        cufe.format_amount(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity")])
def test_format_amount_refuses_non_finite(value: Decimal) -> None:
    with pytest.raises(ValueError):
        cufe.format_amount(value)
