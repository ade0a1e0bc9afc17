"""issuing.validation: a good payload reads into typed values; a bad one is refused with every problem at once, one
Spanish message per field addressed by a JSON pointer, and nothing ever raises."""

from __future__ import annotations

import copy
import json
from decimal import Decimal

import pytest

from dian.codes import DocumentType
from issuing.payload import LineTax
from issuing.problems import PayloadError
from issuing.validation import read_payload, require_payload

GOOD = {
    "type": "01",
    "customer": {
        "id_type": "31",
        "id": "800199436",
        "dv": "4",
        "name": "Comprador Ejemplo S.A.",
        "tax_levels": ["O-13"],
        "tax_scheme": "01",
        "address": {"line": "Cl 10 # 5-20", "city_code": "05001", "city": "Medellín", "department_code": "05"},
        "email": "facturas@comprador.test",
    },
    "lines": [
        {
            "description": "Servicio de soporte",
            "quantity": "2",
            "unit_price": "500000.00",
            "code": "SOP-1",
            "adjustments": [{"reason": "Descuento comercial", "percent": "10", "code": "09"}],
            "taxes": [{"scheme": "01", "rate": "19"}],
        },
        {"description": "Bolsa", "quantity": 3, "unit_price": "100", "taxes": [{"scheme": "22", "per_unit": "66"}]},
    ],
    "payment": {"form": "2", "method": "42", "due_date": "2025-04-10"},
    "withholdings": [{"scheme": "06", "rate": "2.5"}],
    "totals": {"payable": "1071498.00"},
}


def _with(**changes):
    data = copy.deepcopy(GOOD)
    data.update(changes)
    return data


def _pointers(data) -> list[str]:
    payload, problems = read_payload(data)
    assert payload is None
    return [problem.pointer for problem in problems]


def test_a_good_payload_reads_into_typed_values() -> None:
    payload = require_payload(GOOD)
    assert payload.type is DocumentType.INVOICE
    assert (payload.customer.id, payload.customer.dv, payload.customer.tax_levels) == ("800199436", "4", ("O-13",))
    assert payload.customer.address is not None and payload.customer.address.department_code == "05"
    first, second = payload.lines
    assert (first.quantity, first.unit_price, first.code) == (Decimal("2"), Decimal("500000.00"), "SOP-1")
    assert first.adjustments[0].percent == Decimal("10") and first.adjustments[0].charge is False
    assert second.taxes == (LineTax("22", per_unit=Decimal("66")),)
    assert (payload.payment.form, payload.payment.due_date.isoformat()) == ("2", "2025-04-10")
    assert payload.declared is not None and payload.declared.payable == Decimal("1071498.00")


def test_numbers_parsed_as_decimal_from_json_are_accepted() -> None:
    data = json.loads(json.dumps(GOOD).replace('"500000.00"', "500000.00"), parse_float=Decimal)
    assert require_payload(data).lines[0].unit_price == Decimal("500000.00")


def test_every_problem_is_reported_at_once_with_its_pointer() -> None:
    data = copy.deepcopy(GOOD)
    data["customer"]["dv"] = "3"  # the DV of 800199436 is 4
    data["lines"][0]["quantity"] = "0"
    data["lines"][0]["taxes"][0]["rate"] = "190"
    data["lines"][1]["taxes"].append({"scheme": "22", "per_unit": "10"})
    data["lines"][1]["unit"] = "unidad"
    data["payment"]["method"] = "99"
    data["currency"] = "usd"
    data["extra"] = 1
    payload, problems = read_payload(data)
    assert payload is None
    assert [p.pointer for p in problems] == [
        "/extra",
        "/customer/dv",
        "/lines/0/quantity",
        "/lines/0/taxes/0/rate",
        "/lines/1/taxes/1/scheme",
        "/lines/1/unit",
        "/payment/method",
        "/currency",
    ]
    text = {p.pointer: p.message for p in problems}
    assert text["/customer/dv"] == "no corresponde al NIT 800199436 (debería ser 4)"
    assert text["/lines/0/quantity"] == "debe ser mayor que cero"
    assert text["/lines/0/taxes/0/rate"] == "debe ser a lo sumo 100"
    assert text["/extra"] == "campo desconocido; revise el nombre"
    assert str(problems[0]) == "/extra: campo desconocido; revise el nombre"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (1.5, "pierde centavos"),
        ("1²", "dígitos ASCII"),
        ("١٢", "dígitos ASCII"),
        ("1,5", "dígitos ASCII"),
        ("1e3", "dígitos ASCII"),
        ("NaN", "dígitos ASCII"),
        (True, "pierde centavos"),
        ("0.1234567", "a lo sumo 6 decimales"),
        ("1234567890123456", "dígitos ASCII"),
        ({"a": 1}, "se esperaba un número"),
    ],
)
def test_bad_numbers_are_named(value, fragment) -> None:
    data = copy.deepcopy(GOOD)
    data["lines"][0]["unit_price"] = value
    payload, problems = read_payload(data)
    assert payload is None
    assert [p.pointer for p in problems] == ["/lines/0/unit_price"]
    assert fragment in problems[0].message


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("Servicio\x00", "caracteres de control"),
        ("Servicio\ufffe", "caracteres de control"),
        ("   ", "no puede estar vacío"),
        ("x" * 1001, "a lo sumo 1000 caracteres"),
        (12, "se esperaba un texto"),
    ],
)
def test_text_an_xml_document_cannot_carry_is_refused(value, fragment) -> None:
    data = copy.deepcopy(GOOD)
    data["lines"][0]["description"] = value
    payload, problems = read_payload(data)
    assert payload is None and [p.pointer for p in problems] == ["/lines/0/description"]
    assert fragment in problems[0].message


def test_nit_with_non_ascii_digits_is_refused() -> None:
    data = copy.deepcopy(GOOD)
    data["customer"]["id"] = "８００１９９４３６"  # full-width digits
    assert _pointers(data) == ["/customer/id"]


def test_required_fields_and_code_lists() -> None:
    data = copy.deepcopy(GOOD)
    del data["customer"]["name"]
    data["customer"]["id_type"] = "99"
    data["lines"][0]["taxes"][0] = {"scheme": "01"}
    data["lines"][0]["adjustments"][0]["charge"] = True  # a charge cannot carry a discount code
    data["payment"] = {"form": "2", "method": "42"}
    assert _pointers(data) == [
        "/customer/name",
        "/customer/id_type",
        "/lines/0/adjustments/0/code",
        "/lines/0/taxes/0",
        "/payment/due_date",
    ]


def test_export_needs_its_exchange_rate_and_cop_refuses_one() -> None:
    assert _pointers(_with(type="02", currency="USD")) == ["/exchange_rate"]
    good = require_payload(_with(type="02", currency="USD", exchange_rate={"rate": "4100.25", "date": "2025-03-10"}))
    assert (good.currency, good.exchange_rate.rate) == ("USD", Decimal("4100.25"))
    assert _pointers(_with(exchange_rate={"rate": "1", "date": "2025-03-10"})) == ["/exchange_rate"]


def test_contingency_03_names_its_paper_invoice() -> None:
    assert _pointers(_with(type="03")) == ["/paper_invoice"]
    payload = require_payload(_with(type="03", paper_invoice={"number": "TAL-15", "issue_date": "2025-03-08"}))
    assert payload.paper_invoice is not None and payload.paper_invoice.number == "TAL-15"
    assert _pointers(_with(type="04", paper_invoice={"number": "TAL-15", "issue_date": "2025-03-08"})) == [
        "/paper_invoice"
    ]


REFERENCE = {"number": "SETP990000001", "uuid": "ab" * 48, "issue_date": "2025-03-01"}


def _note(**changes):
    data = _with(**changes)
    del data["withholdings"]
    return data


def test_notes_concepts_reference_and_period() -> None:
    credit = require_payload(_note(type="91", concept="6", reference=REFERENCE))
    assert (credit.concept, credit.reference.number) == ("6", "SETP990000001")
    debit = require_payload(_note(type="92", concept="4", period={"start": "2025-02-01", "end": "2025-02-28"}))
    assert debit.reference is None and debit.period is not None
    assert _pointers(_note(type="91", concept="7", reference=REFERENCE)) == ["/concept"]
    assert _pointers(_note(type="92", concept="5", reference=REFERENCE)) == ["/concept"]
    assert _pointers(_note(type="91", reference=REFERENCE)) == ["/concept"]
    assert _pointers(_note(type="91", concept="1")) == ["/period"]
    assert _pointers(_note(type="92", concept="1", period={"start": "2025-03-01", "end": "2025-02-01"})) == [
        "/period/end"
    ]
    assert _pointers(_note(type="91", concept="1", reference=dict(REFERENCE, uuid="XYZ"))) == ["/reference/uuid"]
    assert _pointers(_with(type="91", concept="1", reference=REFERENCE)) == ["/withholdings"]
    assert _pointers(_with(concept="1")) == ["/concept"]


@pytest.mark.parametrize(
    "data",
    [None, [], "factura", 12, {"type": None}, {"type": "01", "customer": [], "lines": {}}, {"lines": [None, 3]}],
)
def test_garbage_never_raises(data) -> None:
    payload, problems = read_payload(data)
    assert payload is None and problems
    with pytest.raises(PayloadError):
        require_payload(data)


def test_size_limits() -> None:
    data = _with(lines=[GOOD["lines"][1]] * 1001)
    payload, problems = read_payload(data)
    assert payload is None and problems[0].pointer == "/lines" and "1000" in problems[0].message
