"""The apidian-compatible paths (peers-wave2 §2.2) end to end, on SQLite and PostgreSQL, against the DIAN simulator
over HTTP: apidian's example bodies, written out here by hand in its shape (catalogue ids, the caller's totals,
the delivery knobs an ERP sends along), are accepted at /api/ubl2.1/invoice, /credit-note and /debit-note and
answered with the fields integrators read (cufe, QRStr, ResponseDian, is_valid, invoicexml, attacheddocument,
urlinvoicexml…). Dates are today's (the simulator checks the range's validity and the due date); numbers fall in the
simulator's SETP range."""

from __future__ import annotations

import base64
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from dian.calendar import BOGOTA
from store.models import OutboundDocument
from tests.integration.dian_fixtures import NUMBERING
from tests.integration.issuing_fixtures import IssuingBed
from tests.integration.issuing_fixtures import issuing_bed as issuing_bed  # the fixture, re-exported
from tests.web.test_api_issuing import Api, make_api

pytestmark = pytest.mark.integration

FIRST = NUMBERING.from_number


def _today(days: int = 0) -> str:
    return (dt.datetime.now(BOGOTA).date() + dt.timedelta(days=days)).isoformat()


def bag_invoice() -> dict[str, Any]:
    """apidian's example with the plastic-bag tax: a service at 19 % and ten bags given free with INC 50 per bag
    (tax id 10 → DIAN 22), on credit, a NIT customer (id 6 → 31), responsible for IVA (regime 1 → 48)."""
    return {
        "number": FIRST + 992, "type_document_id": 1, "date": _today(), "time": "04:08:12",
        "resolution_number": "18760000001", "prefix": "SETP", "notes": "Factura con bolsas",
        "establishment_name": "TORRE SOFTWARE", "sendmail": True, "head_note": "Gracias por su compra",
        "customer": {"identification_number": 900166483, "dv": 1, "name": "INVERSIONES DAVAL SAS",
                     "phone": "3103891693", "address": "CLL 4 NRO 33-90", "email": "compras@daval.test",
                     "merchant_registration": "0000000-00", "type_document_identification_id": 6,
                     "type_organization_id": 1, "type_liability_id": 7, "municipality_id": 822, "type_regime_id": 1},
        "payment_form": {"payment_form_id": 2, "payment_method_id": 30, "payment_due_date": _today(30),
                         "duration_measure": "30"},
        "allowance_charges": [{"discount_id": 1, "charge_indicator": False,
                               "allowance_charge_reason": "DESCUENTO GENERAL", "amount": "0.00",
                               "base_amount": "840336.13"}],
        "legal_monetary_totals": {"line_extension_amount": "840336.13", "tax_exclusive_amount": "840336.13",
                                  "tax_inclusive_amount": "1000500.00", "allowance_total_amount": "0.00",
                                  "charge_total_amount": "0.00", "payable_amount": "1000500.00"},
        "tax_totals": [
            {"tax_id": 1, "tax_amount": "159663.86", "percent": "19", "taxable_amount": "840336.13"},
            {"tax_id": 10, "unit_measure_id": "70", "tax_amount": "500.00", "percent": "0",
             "taxable_amount": "500.00", "per_unit_amount": "50.00", "base_unit_measure": "1.00"},
        ],
        "invoice_lines": [
            {"unit_measure_id": 70, "invoiced_quantity": "1", "line_extension_amount": "840336.13",
             "free_of_charge_indicator": False,
             "allowance_charges": [{"charge_indicator": False, "allowance_charge_reason": "DESCUENTO GENERAL",
                                    "amount": "0.00", "base_amount": "840336.13"}],
             "tax_totals": [{"tax_id": 1, "tax_amount": "159663.86", "taxable_amount": "840336.13",
                             "percent": "19.00"}],
             "description": "COMISION POR SERVICIOS", "code": "COMISION", "type_item_identification_id": 4,
             "price_amount": "840336.13", "base_quantity": "1"},
            {"unit_measure_id": "70", "invoiced_quantity": "10", "line_extension_amount": "0.00",
             "free_of_charge_indicator": True, "reference_price_id": 3,
             "tax_totals": [{"tax_id": "10", "unit_measure_id": "70", "tax_amount": "500.00",
                             "taxable_amount": "0.00", "percent": "0.00", "per_unit_amount": "50.00",
                             "base_unit_measure": "1.00"}],
             "description": "BOLSA PLASTICA", "code": "BOLSA", "type_item_identification_id": 4,
             "price_amount": "50.00", "base_quantity": "1"},
        ],
    }  # fmt: skip


def two_rates_invoice() -> dict[str, Any]:
    """apidian's "two rates, taxes and withholdings" example: an excluded line at 0 % and one at 19 %, cash,
    a cédula customer (id 3 → 13) not responsible for IVA (regime 2 → 49), ReteIVA 15 % and ReteRenta 3.5 %."""
    return {
        "number": FIRST + 369, "type_document_id": 1, "date": _today(), "time": "08:32:31",
        "resolution_number": "18760000001", "prefix": "SETP",
        "customer": {"identification_number": 89008003, "dv": 2, "name": "ALEXANDER OBANDO LONDONO",
                     "phone": 3103891693, "address": "BRR LIMONAR MZ 6 CS 3 ET 1", "email": "alexander@obando.test",
                     "merchant_registration": "0000-00", "type_document_identification_id": 3,
                     "type_organization_id": 2, "municipality_id": 149, "type_regime_id": 2},
        "payment_form": {"payment_form_id": 1, "payment_method_id": 10, "payment_due_date": _today(),
                         "duration_measure": "0"},
        "legal_monetary_totals": {"line_extension_amount": "1140336.13", "tax_exclusive_amount": "1140336.13",
                                  "tax_inclusive_amount": "1300000.00", "allowance_total_amount": "0.00",
                                  "charge_total_amount": "0.00", "payable_amount": "1300000.00"},
        "with_holding_tax_total": [
            {"tax_id": 5, "tax_amount": "23949.58", "percent": "15", "taxable_amount": "159663.86"},
            {"tax_id": 6, "tax_amount": "29411.76", "percent": "3.50", "taxable_amount": "840336.13"},
        ],
        "tax_totals": [
            {"tax_id": 1, "tax_amount": "0.00", "percent": "0", "taxable_amount": "300000.00"},
            {"tax_id": 1, "tax_amount": "159663.86", "percent": "19", "taxable_amount": "840336.13"},
        ],
        "invoice_lines": [
            {"unit_measure_id": 70, "invoiced_quantity": "1", "line_extension_amount": "300000.00",
             "free_of_charge_indicator": False,
             "tax_totals": [{"tax_id": 1, "tax_amount": "0.00", "taxable_amount": "300000.00", "percent": "0.00"}],
             "description": "CESANTIA MERCANTIL", "code": "CESANTIA", "type_item_identification_id": 4,
             "price_amount": "300000.00", "base_quantity": "1"},
            {"unit_measure_id": 70, "invoiced_quantity": "1", "line_extension_amount": "840336.13",
             "free_of_charge_indicator": False,
             "tax_totals": [{"tax_id": 1, "tax_amount": "159663.86", "taxable_amount": "840336.13",
                             "percent": "19.00"}],
             "description": "COMISION POR SERVICIOS", "code": "COMISION", "type_item_identification_id": 4,
             "price_amount": "840336.13", "base_quantity": "1"},
        ],
    }  # fmt: skip


def _line(description: str, price: str, tax: str) -> dict[str, Any]:
    return {"unit_measure_id": 70, "invoiced_quantity": "1", "line_extension_amount": price,
            "free_of_charge_indicator": False,
            "tax_totals": [{"tax_id": 1, "tax_amount": tax, "taxable_amount": price, "percent": "19.00"}],
            "description": description, "code": "COMISION", "type_item_identification_id": 4, "price_amount": price,
            "base_quantity": "1"}  # fmt: skip


def credit_note(invoice: dict[str, Any], customer: dict[str, Any]) -> dict[str, Any]:
    """apidian's credit note on an invoice: billing_reference, concept 2 (anulación), credit_note_lines."""
    return {
        "billing_reference": {"number": invoice["number"], "uuid": invoice["cufe"], "issue_date": _today()},
        "discrepancyresponsecode": 2, "discrepancyresponsedescription": "ANULACION DE FACTURA ELECTRONICA",
        "notes": "Anulación", "prefix": "NC", "number": 1, "type_document_id": 4, "date": _today(), "time": "09:00:00",
        "customer": customer,
        "tax_totals": [{"tax_id": 1, "tax_amount": "159663.86", "percent": "19", "taxable_amount": "840336.13"}],
        "legal_monetary_totals": {"line_extension_amount": "840336.13", "tax_exclusive_amount": "840336.13",
                                  "tax_inclusive_amount": "999999.99", "payable_amount": "999999.99"},
        "credit_note_lines": [_line("COMISION POR SERVICIOS", "840336.13", "159663.86")],
    }  # fmt: skip


def debit_note(invoice: dict[str, Any], customer: dict[str, Any]) -> dict[str, Any]:
    """apidian's debit note: requested_monetary_totals instead of legal_monetary_totals, debit_note_lines."""
    return {
        "billing_reference": {"number": invoice["number"], "uuid": invoice["cufe"], "issue_date": _today()},
        "discrepancyresponsecode": 3, "discrepancyresponsedescription": "CAMBIO DEL VALOR",
        "prefix": "ND", "number": 1, "type_document_id": 5, "date": _today(), "time": "09:30:00",
        "customer": customer,
        "tax_totals": [{"tax_id": 1, "tax_amount": "1900.00", "percent": "19", "taxable_amount": "10000.00"}],
        "requested_monetary_totals": {"line_extension_amount": "10000.00", "tax_exclusive_amount": "10000.00",
                                      "tax_inclusive_amount": "11900.00", "payable_amount": "11900.00"},
        "debit_note_lines": [_line("AJUSTE DE PRECIO", "10000.00", "1900.00")],
    }  # fmt: skip


@pytest.fixture
def api(issuing_bed: IssuingBed) -> Api:
    return make_api(issuing_bed)


def _result(body: dict[str, Any]) -> dict[str, Any]:
    return body["ResponseDian"]["Envelope"]["Body"]["SendBillSyncResponse"]["SendBillSyncResult"]


def _accepted(answer: Any, number: str) -> dict[str, Any]:
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert body["is_valid"] is True and body["number"] == number, body
    assert body["message"].endswith(f"#{number} generada con éxito")
    result = _result(body)
    assert (result["IsValid"], result["StatusCode"], result["XmlDocumentKey"]) == ("true", "00", body["cufe"])
    assert result["StatusMessage"].endswith(f"{number}, ha sido autorizada.")
    answer_xml = base64.b64decode(result["XmlBase64Bytes"])
    assert b"ApplicationResponse" in answer_xml and body["cufe"].encode() in answer_xml  # DIAN's own answer
    xml = base64.b64decode(body["invoicexml"])
    assert body["cufe"].encode() in xml and b"<ds:Signature" in xml
    attached = base64.b64decode(body["attacheddocument"])
    assert xml in attached and answer_xml in attached  # both verbatim
    assert body["QRStr"].startswith(f"NumFac: {number}\n") and body["cufe"] in body["QRStr"]
    assert body["urlinvoicexml"].endswith(f"/api/v1/issued/{answer.headers['Location'].rsplit('/', 1)[1]}/xml")
    assert body["urlinvoicepdf"].endswith("/pdf") and body["urlinvoiceattached"].endswith("/attached")
    assert body["errors"] == {}
    return body


def test_apidians_examples_are_accepted_with_the_fields_integrators_read(api: Api) -> None:
    bags = _accepted(api.post("/api/ubl2.1/invoice", bag_invoice()), f"SETP{FIRST + 992}")
    assert len(bags["cufe"]) == 96 and bags["resolution_days_left"] > 0
    two = _accepted(api.post("/api/ubl2.1/invoice", two_rates_invoice()), f"SETP{FIRST + 369}")
    with api.bed.sessions() as s:
        rows = {r.number: r for r in s.query(OutboundDocument)}
        # Buzón's own totals: 840336.13 + 19 % + 10 bags × 50 INC (per unit, free line); withholdings not payable.
        assert rows[bags["number"]].payable_amount == Decimal("1000499.99")
        assert rows[two["number"]].payable_amount == Decimal("1299999.99")
        assert rows[two["number"]].withholding_amount == Decimal("23949.58") + Decimal("29411.76")
    # The PDF link answers.
    assert api.get(bags["urlinvoicepdf"]).data.startswith(b"%PDF-")
    customer = bag_invoice()["customer"]
    credit = api.post("/api/ubl2.1/credit-note", credit_note(bags, customer))
    body = _accepted(credit, "NC1")
    assert body["cude"] == body["cufe"] and body["message"].startswith("Nota crédito")
    debit = _accepted(api.post("/api/ubl2.1/debit-note", debit_note(bags, customer)), "ND1")
    assert debit["cude"] != body["cude"]


def test_an_apidian_retry_with_the_same_number_returns_the_same_invoice(api: Api) -> None:
    first = _accepted(api.post("/api/ubl2.1/invoice", two_rates_invoice()), f"SETP{FIRST + 369}")
    again = api.post("/api/ubl2.1/invoice", two_rates_invoice())
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert (again.json["cufe"], again.json["replayed"]) == (first["cufe"], True)
    changed = two_rates_invoice()
    changed["invoice_lines"][0]["price_amount"] = "310000.00"
    conflict = api.post("/api/ubl2.1/invoice", changed)
    assert conflict.status_code == 409 and first["number"] in conflict.json["message"], conflict.json
    assert "ya se expidió con otro contenido" in conflict.json["message"]
    assert api.count() == 1


@pytest.mark.parametrize("issuing_bed", ["sqlite", "postgresql"], indirect=True)
def test_apidian_refusals_name_apidians_own_fields(api: Api) -> None:
    body = bag_invoice()
    body["customer"]["type_document_identification_id"] = 77
    body["invoice_lines"][0]["price_amount"] = "mil"
    refused = api.post("/api/ubl2.1/invoice", body)
    assert refused.status_code == 422, refused.json
    assert refused.json["is_valid"] is False
    errors = refused.json["errors"]
    assert "customer.type_document_identification_id" in errors, errors
    assert {p["field"] for p in refused.json["problems"]} >= {"/customer/type_document_identification_id"}
    # Totals more than 2.00 from Buzón's are refused at issue time, in apidian's field names.
    off = bag_invoice()
    off["legal_monetary_totals"]["payable_amount"] = "1000600.00"
    far = api.post("/api/ubl2.1/invoice", off)
    assert far.status_code == 422, far.json
    assert any(key.startswith("legal_monetary_totals") for key in far.json["errors"]), far.json
    # A credit note posted at the invoice path is refused.
    note = api.post("/api/ubl2.1/invoice", {**bag_invoice(), "type_document_id": 4})
    assert note.status_code == 422 and "type_document_id" in note.json["errors"], note.json
    assert api.count() == 0
