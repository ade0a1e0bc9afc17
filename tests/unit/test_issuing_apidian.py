"""issuing.apidian: apidian's de-facto JSON (peers-wave2 §2.2) read into the native payload. The bodies below are
apidian's own Postman examples, written out by hand (delivery and PDF knobs included, as an ERP sends them)."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal

import pytest

from dian.codes import DocumentType, Environment
from dian.trust import SigningIdentity
from dian.ubl import parse_document
from dian.ubl.build import NumberingRange, Software
from dian.ubl.model import Party
from issuing.apidian import apidian_pointer, codes, read_apidian
from issuing.document import Issuer, Numbering, issue_document
from issuing.problems import PayloadError
from issuing.totals import compute_totals
from tests.pki import pki

D = Decimal

# Postman "SendInvoice - TestSetId Impuesto Bolsa".
BAG_INVOICE = {
    "number": 990000992,
    "type_document_id": 1,
    "date": "2024-06-07",
    "time": "04:08:12",
    "resolution_number": "18760000001",
    "prefix": "SETP",
    "establishment_name": "TORRE SOFTWARE",
    "sendmail": True,
    "customer": {
        "identification_number": 900166483,
        "dv": 1,
        "name": "INVERSIONES DAVAL SAS",
        "phone": "3103891693",
        "address": "CLL 4 NRO 33-90",
        "email": "alexanderobandolondono@gmail.com",
        "merchant_registration": "0000000-00",
        "type_document_identification_id": 6,
        "type_organization_id": 1,
        "type_liability_id": 7,
        "municipality_id": 822,
        "type_regime_id": 1,
    },
    "payment_form": {"payment_form_id": 2, "payment_method_id": 30, "payment_due_date": "2024-07-07",
                     "duration_measure": "30"},
    "allowance_charges": [{"discount_id": 1, "charge_indicator": False, "allowance_charge_reason": "DESCUENTO GENERAL",
                           "amount": "0.00", "base_amount": "840336.13"}],
    "legal_monetary_totals": {"line_extension_amount": "840336.13", "tax_exclusive_amount": "840336.13",
                              "tax_inclusive_amount": "1000500.00", "allowance_total_amount": "0.00",
                              "charge_total_amount": "0.00", "payable_amount": "1000500.00"},
    "tax_totals": [
        {"tax_id": 1, "tax_amount": "159663.86", "percent": "19", "taxable_amount": "840336.13"},
        {"tax_id": 10, "unit_measure_id": "70", "tax_amount": "500.00", "percent": "0", "taxable_amount": "500.00",
         "per_unit_amount": "50.00", "base_unit_measure": "1.00"},
    ],
    "invoice_lines": [
        {"unit_measure_id": 70, "invoiced_quantity": "1", "line_extension_amount": "840336.13",
         "free_of_charge_indicator": False,
         "allowance_charges": [{"charge_indicator": False, "allowance_charge_reason": "DESCUENTO GENERAL",
                                "amount": "0.00", "base_amount": "1000000.00"}],
         "tax_totals": [{"tax_id": 1, "tax_amount": "159663.86", "taxable_amount": "840336.13", "percent": "19.00"}],
         "description": "COMISION POR SERVICIOS", "code": "COMISION", "type_item_identification_id": 4,
         "price_amount": "840336.13", "base_quantity": "1"},
        {"unit_measure_id": "70", "invoiced_quantity": "10", "line_extension_amount": "0.00", "reference_price_id": 3,
         "free_of_charge_indicator": True,
         "allowance_charges": [{"charge_indicator": False, "allowance_charge_reason": "DESCUENTO GENERAL",
                                "amount": "0.00", "base_amount": "500.00"}],
         "tax_totals": [{"tax_id": "10", "unit_measure_id": "70", "tax_amount": "500.00", "taxable_amount": "0.00",
                         "percent": "0.00", "per_unit_amount": "50.00", "base_unit_measure": "1.00"}],
         "description": "INCBP IMPUESTO NACIONAL AL CONSUMO DE BOLSAS PLASTICAS", "code": "BOLSA",
         "type_item_identification_id": 4, "price_amount": "50.00", "base_quantity": "1"},
    ],
}  # fmt: skip

# Postman "SendInvoice-TestSetId Dos Tarifas Impuestos y Retenciones".
TWO_RATES = {
    "number": 990000369,
    "type_document_id": 1,
    "date": "2021-08-17",
    "time": "08:32:31",
    "resolution_number": "18760000001",
    "prefix": "SETP",
    "customer": {"identification_number": 89008003, "dv": 2, "name": "ALEXANDER OBANDO LONDONO",
                 "phone": 3103891693, "address": "BRR LIMONAR MZ 6 CS 3 ET 1", "email": "alexander_obando@hotmail.com",
                 "merchant_registration": "0000-00", "type_document_identification_id": 3, "type_organization_id": 2,
                 "municipality_id": 149, "type_regime_id": 2},
    "payment_form": {"payment_form_id": 1, "payment_method_id": 10, "payment_due_date": "2021-08-17",
                     "duration_measure": "0"},
    "allowance_charges": [{"discount_id": 1, "charge_indicator": False, "allowance_charge_reason": "DESCUENTO GENERAL",
                           "amount": "0.00", "base_amount": "1140336.13"}],
    "legal_monetary_totals": {"line_extension_amount": "1140336.13", "tax_exclusive_amount": "1140336.13",
                              "tax_inclusive_amount": "1300000.00", "allowance_total_amount": "0.00",
                              "charge_total_amount": "0.00", "payable_amount": "1300000.00"},
    "with_holding_tax_total": [
        {"tax_id": 5, "tax_amount": "126050.042", "percent": "15", "taxable_amount": "840336.13"},
        {"tax_id": 6, "tax_amount": "29411.76", "percent": "3.50", "taxable_amount": "840336.13"},
    ],
    "tax_totals": [
        {"tax_id": 1, "tax_amount": "0.00", "percent": "0", "taxable_amount": "300000.00"},
        {"tax_id": 1, "tax_amount": "159663.86", "percent": "19", "taxable_amount": "840336.13"},
    ],
    "invoice_lines": [
        {"unit_measure_id": 70, "invoiced_quantity": "1", "line_extension_amount": "300000.00",
         "free_of_charge_indicator": False,
         "allowance_charges": [{"charge_indicator": False, "allowance_charge_reason": "DESCUENTO GENERAL",
                                "amount": "0.00", "base_amount": "300000.00"}],
         "tax_totals": [{"tax_id": 1, "tax_amount": "0.00", "taxable_amount": "300000.00", "percent": "0.00"}],
         "description": "CESANTIA MERCANTIL", "code": "CESANTIA", "type_item_identification_id": 4,
         "price_amount": "300000.00", "base_quantity": "1"},
        {"unit_measure_id": 70, "invoiced_quantity": "1", "line_extension_amount": "840336.13",
         "free_of_charge_indicator": False,
         "allowance_charges": [{"charge_indicator": False, "allowance_charge_reason": "DESCUENTO GENERAL",
                                "amount": "0.00", "base_amount": "1000000.00"}],
         "tax_totals": [{"tax_id": 1, "tax_amount": "159663.86", "taxable_amount": "840336.13", "percent": "19.00"}],
         "description": "COMISION POR SERVICIOS", "code": "COMISION", "type_item_identification_id": 4,
         "price_amount": "840336.13", "base_quantity": "1"},
    ],
}  # fmt: skip

# Postman "Nota Credito / Sin Referencia a Factura" in outline: a credit note with invoice_period and no reference.
CREDIT_NO_REFERENCE = {
    "discrepancyresponsecode": 2,
    "discrepancyresponsedescription": "ANULACION",
    "notes": "NOTA CREDITO SIN REFERENCIA",
    "prefix": "NC",
    "number": 1,
    "type_document_id": 4,
    "invoice_period": {"start_date": "2024-08-01", "end_date": "2024-08-31"},
    "customer": TWO_RATES["customer"],
    "legal_monetary_totals": {"line_extension_amount": "300000.00", "tax_exclusive_amount": "300000.00",
                              "tax_inclusive_amount": "357000.00", "payable_amount": "357000.00"},
    "credit_note_lines": [{"unit_measure_id": 70, "invoiced_quantity": "1", "line_extension_amount": "300000.00",
                           "free_of_charge_indicator": False,
                           "tax_totals": [{"tax_id": 1, "tax_amount": "57000.00", "taxable_amount": "300000.00",
                                           "percent": "19.00"}],
                           "description": "DEVOLUCION", "code": "DEV", "type_item_identification_id": 4,
                           "price_amount": "300000.00", "base_quantity": "1"}],
}  # fmt: skip


def test_the_shipped_table_translates_the_ids_peers_wave2_lists() -> None:
    table = codes()
    # peers-wave2 §2.2: taxes 1 IVA 01 … 10 → 22 (bags), 15 ZZ; ids 6 → 31 (NIT), 3 → 13 (CC); liabilities 7 → O-13;
    # unit 70 = "94 unidad"; contingency tipo 04 is type_document_id 12.
    assert [table["taxes"][k] for k in ("1", "4", "5", "6", "7", "8", "10", "14", "15")] == [
        "01", "04", "05", "06", "07", "20", "22", "26", "ZZ"]  # fmt: skip
    assert (table["identification_types"]["6"], table["identification_types"]["3"]) == ("31", "13")
    assert table["liabilities"] == {"7": "O-13", "9": "O-15", "14": "O-23", "112": "O-47", "117": "R-99-PN"}
    assert (table["unit_measures"]["70"], table["document_types"]["12"], table["document_types"]["4"]) == (
        "94", "04", "91")  # fmt: skip
    # municipalities by row id → DANE code: 149 Bogotá 11001, 822 Calarcá 63130
    assert (table["municipalities"]["149"], table["municipalities"]["822"]) == ("11001", "63130")
    assert table["payment_methods"]["75"] == "ZZZ"


def test_bag_tax_example_is_accepted_and_its_totals_fall_within_tolerance() -> None:
    request, problems = read_apidian(BAG_INVOICE, "invoice")
    assert problems == ()
    payload = request.payload
    assert (request.number, request.prefix, request.resolution_number) == (990000992, "SETP", "18760000001")
    assert payload.type is DocumentType.INVOICE
    customer = payload.customer
    assert (customer.id_type, customer.id, customer.dv, customer.tax_scheme) == ("31", "900166483", "1", "01")
    assert customer.tax_levels == ("O-13",) and customer.address.city_code == "63130"
    assert (payload.payment.form, payload.payment.method) == ("2", "30")
    assert payload.adjustments == ()  # the 0.00 "DESCUENTO GENERAL" changes nothing
    commission, bags = payload.lines
    assert (commission.unit, commission.unit_price, commission.adjustments) == ("94", D("840336.13"), ())
    assert (bags.unit_price, bags.reference_price, bags.reference_price_type) == (D("0"), D("50.00"), "03")
    assert [(t.scheme, t.per_unit) for t in bags.taxes] == [("22", D("50.00"))]
    totals = compute_totals(payload)
    # 840,336.13 + IVA 159,663.86 + bags 10 × 50 = 1,000,499.99 against the declared 1,000,500.00
    assert totals.payable == D("1000499.99")
    assert payload.declared.payable == D("1000500.00")


def test_two_rates_and_withholdings_example_is_accepted() -> None:
    request, problems = read_apidian(TWO_RATES, "invoice")
    assert problems == ()
    payload = request.payload
    assert (payload.customer.id_type, payload.customer.organization, payload.customer.tax_scheme) == ("13", "2", "ZZ")
    assert payload.customer.address.city_code == "11001"
    assert payload.payment.due_date is None  # a cash sale
    assert [(w.scheme, w.rate, w.base) for w in payload.withholdings] == [
        ("05", D("15"), D("840336.13")), ("06", D("3.50"), D("840336.13"))]  # fmt: skip
    totals = compute_totals(payload)
    # IVA: 0 % of 300,000 = 0.00 and 19 % of 840,336.13 = 159,663.86; payable 1,299,999.99 vs declared 1,300,000.00
    assert [(s.rate, s.amount) for s in totals.taxes[0].subtotals] == [
        (D("0.00"), D("0.00")),
        (D("19.00"), D("159663.86")),
    ]
    assert totals.payable == D("1299999.99")
    # ReteIVA 15 % of the stated base 840,336.13 = 126,050.4195 → 126,050.42 (apidian's own figure was 126050.042);
    # ReteRenta 3.5 % of it = 29,411.76455 → 29,411.76
    assert (totals.withholding_amount("05"), totals.withholding_amount("06")) == (D("126050.42"), D("29411.76"))


def test_apidian_examples_issue_as_signed_documents() -> None:
    test_pki = pki()
    issuer = Issuer(
        party=Party(nit="900123456", dv="8", registration_name="Proveedor de Prueba S.A.S."),
        software=Software("900123456", "8", "sw-buzon-1", "12345"),
        identity=SigningIdentity(key=test_pki.supplier.key, certificate=test_pki.supplier.cert),
    )
    bogota = dt.timezone(dt.timedelta(hours=-5))
    rng = NumberingRange("18760000001", dt.date(2019, 1, 19), dt.date(2030, 1, 19), "SETP", 990000000, 995000000,
                         "fc8eac422eba16e22ffd8c6f94b3f40a6e38162c")  # fmt: skip
    for body, kind in ((BAG_INVOICE, "invoice"), (TWO_RATES, "invoice"), (CREDIT_NO_REFERENCE, "credit-note")):
        request, problems = read_apidian(body, kind)
        assert problems == (), body
        numbering = Numbering(request.prefix, request.number, rng if request.payload.type.is_invoice else None)
        # issued on the example's own date (its due date follows it); the note has none
        at = dt.datetime.combine(request.issue_date or dt.date(2025, 3, 10), dt.time(10, 0), tzinfo=bogota)
        doc = issue_document(request.payload, issuer=issuer, numbering=numbering, environment=Environment.TESTING,
                             issued_at=at)  # fmt: skip
        parsed = parse_document(doc.xml)
        assert parsed.monetary_total.payable == doc.totals.payable
        assert abs(parsed.monetary_total.payable - D(body["legal_monetary_totals"]["payable_amount"])) <= D("2.00")


def test_credit_note_without_reference_reads_its_period() -> None:
    request, problems = read_apidian(CREDIT_NO_REFERENCE, "credit-note")
    assert problems == ()
    payload = request.payload
    assert (payload.type, payload.concept, payload.reference) == (DocumentType.CREDIT_NOTE, "2", None)
    assert (payload.period.start.isoformat(), payload.period.end.isoformat()) == ("2024-08-01", "2024-08-31")
    assert payload.concept_description == "ANULACION" and payload.notes == ("NOTA CREDITO SIN REFERENCIA",)


def test_unknown_ids_and_bad_values_are_named_in_apidians_own_terms() -> None:
    body = copy.deepcopy(BAG_INVOICE)
    body["customer"]["municipality_id"] = 99999
    body["invoice_lines"][0]["tax_totals"][0]["tax_id"] = 77
    body["payment_form"]["payment_method_id"] = 500
    request, problems = read_apidian(body)
    assert request is None
    assert [p.pointer for p in problems] == [
        "/customer/municipality_id",
        "/invoice_lines/0/tax_totals/0/tax_id",
        "/payment_form/payment_method_id",
    ]
    body = copy.deepcopy(BAG_INVOICE)
    body["invoice_lines"][0]["price_amount"] = "84O336.13"  # letter O
    body["invoice_lines"][0]["invoiced_quantity"] = "0"
    request, problems = read_apidian(body)
    assert [p.pointer for p in problems] == ["/invoice_lines/0/invoiced_quantity", "/invoice_lines/0/price_amount"]
    assert apidian_pointer("/totals/payable", "debit-note") == "/requested_monetary_totals/payable_amount"


def test_pre_1_9_credit_concept_otros_is_refused() -> None:
    body = dict(CREDIT_NO_REFERENCE, discrepancyresponsecode=5)
    request, problems = read_apidian(body, "credit-note")
    assert request is None and [p.pointer for p in problems] == ["/discrepancyresponsecode"]


def test_declared_totals_beyond_tolerance_are_refused_at_issue() -> None:
    body = copy.deepcopy(TWO_RATES)
    body["legal_monetary_totals"]["payable_amount"] = "1300002.00"  # 2.01 above our 1,299,999.99
    request, _ = read_apidian(body)
    with pytest.raises(PayloadError) as caught:
        test_pki = pki()
        issue_document(
            request.payload,
            issuer=Issuer(Party(nit="900123456", dv="8", registration_name="P"), Software("900123456", "8", "s", "1"),
                          SigningIdentity(key=test_pki.supplier.key, certificate=test_pki.supplier.cert)),
            numbering=Numbering("SETP", 990000369, NumberingRange("1", dt.date(2019, 1, 1), dt.date(2030, 1, 1),
                                                                  "SETP", 990000000, 995000000, "k")),
            environment=Environment.TESTING,
            issued_at=dt.datetime(2025, 3, 10, 15, tzinfo=dt.UTC),
        )  # fmt: skip
    assert [apidian_pointer(p.pointer, "invoice") for p in caught.value.problems] == [
        "/legal_monetary_totals/payable_amount"
    ]


@pytest.mark.parametrize("body", [None, [], "x", {"invoice_lines": "x"}, {"customer": 3, "invoice_lines": [None]}])
def test_garbage_never_raises(body) -> None:
    request, problems = read_apidian(body)
    assert request is None and problems
