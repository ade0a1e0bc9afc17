"""The documento soporte (05) and its adjustment note (95): the CUDS reproduces DIAN's official example (C.2); a DS
request is refused field by field in Spanish; a resident and a non-resident DS and a 95 build with the roles inverted
(C.1), their literals, the line generation modes and withholdings (C.3), sign, verify and parse back to the same key."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from lxml import etree

from dian.codes import DocumentType, Environment
from dian.support import literals
from dian.support.cuds import CudsFields, cuds
from dian.trust import SigningIdentity, TrustStore
from dian.ubl import CommercialDocument, parse_document
from dian.ubl import namespaces as ns
from dian.ubl.build import NumberingRange, Software
from dian.ubl.model import Address, Party
from dian.xades import Verdict, verify
from issuing.document import Issuer, Numbering
from issuing.support_document import issue_support
from issuing.support_request import read_support_request, require_support_request
from tests.pki import pki

D = Decimal
AT = dt.datetime(2026, 11, 27, 15, 0, 0, tzinfo=dt.UTC)  # Friday 10:00 in Bogotá
RANGE = NumberingRange("18760000002", dt.date(2026, 1, 1), dt.date(2027, 12, 31), "DS", 1, 5000,
                       "dd85db55545bd6566f36b0fd3be9fd8555c36e")  # fmt: skip
SOFTWARE = Software(provider_nit="900123456", provider_dv="8", software_id="sw-buzon-1", pin="12345")
US = Party(nit="900123456", dv="8", registration_name="Comprador Obligado S.A.S.", tax_level_codes=("O-13",),
           address=Address(city="Bogotá, D.C.", city_code="11001", department="Bogotá", department_code="11",
                           country="CO", line="Cra 7 # 1-1"))  # fmt: skip
FARMER = {"id_type": "13", "id": "79123456", "name": "Pedro Campesino", "organization": "2",
          "address": {"line": "Vereda El Rosal", "city_code": "25754", "city": "Soacha"}}  # fmt: skip
SAAS = {"id_type": "50", "id": "US-98-7654321", "name": "Cloud Tools Inc.", "organization": "1", "resident": False,
        "address": {"line": "1 Market St, San Francisco", "country": "US"}}  # fmt: skip


def ds_data(seller=FARMER, **extra):
    return {"kind": "support_document", "seller": seller,
            "lines": [{"description": "Papa pastusa, bulto 50 kg", "quantity": "10", "unit_price": "85000",
                       "taxes": [{"scheme": "01", "rate": "0"}],
                       "withholdings": [{"scheme": "06", "rate": "1.5"}],
                       "generation": {"mode": "1", "start": "2026-11-27"}}], **extra}  # fmt: skip


@pytest.fixture(scope="module")
def issuer() -> Issuer:
    test_pki = pki()
    identity = SigningIdentity(key=test_pki.supplier.key, certificate=test_pki.supplier.cert,
                               chain=test_pki.supplier.chain)  # fmt: skip
    return Issuer(party=US, software=SOFTWARE, identity=identity)


def _issue(data, issuer, number=7, prefix="DS"):
    request = require_support_request(data)
    numbering = Numbering(prefix, number, RANGE if request.kind is DocumentType.SUPPORT_DOCUMENT else None)
    return issue_support(request, issuer=issuer, numbering=numbering, environment=Environment.TESTING, issued_at=AT)


def test_cuds_reproduces_the_official_example():
    fields = CudsFields("0000000001", "2020-10-24", "14:04:35-05:00", "15000.00", "01", "19.00", "16350.00",
                        "900373076", "8355990", "12345", "1")  # fmt: skip
    assert fields.text() == "00000000012020-10-2414:04:35-05:0015000.000119.0016350.009003730768355990123451"
    expected = "bf4bb6920d5054ac065ddb7e6df0398e63e3ba2ff29cb341edd7d46ee8f2ea1802f84aaca91a19a24623e5e3baff3a71"
    assert fields.digest() == expected
    assert cuds(number="0000000001", issue_date=dt.date(2020, 10, 24), issue_time="14:04:35-05:00",
                line_extension=D("15000"), tax_amount=D("19"), payable=D("16350"), seller_id="900373076",
                buyer_nit="8355990", pin="12345", environment="1") == expected  # fmt: skip
    # Another PIN (the technical key, Vendix's defect) gives another key.
    assert cuds(number="0000000001", issue_date=dt.date(2020, 10, 24), issue_time="14:04:35-05:00",
                line_extension=D("15000"), tax_amount=D("19"), payable=D("16350"), seller_id="900373076",
                buyer_nit="8355990", pin="54321", environment="1") != expected  # fmt: skip


def test_a_bad_request_gets_every_problem_with_its_pointer():
    data = ds_data(seller={**SAAS, "id_type": "31"})
    data["lines"][0]["generation"] = {"mode": "3"}
    data["lines"][0]["taxes"] = [{"scheme": "04", "rate": "8"}]
    data["lines"][0]["withholdings"] = [{"scheme": "07", "rate": "1"}]
    data["concept"] = "2"
    request, problems = read_support_request(data)
    assert request is None
    where = {p.pointer: p.message for p in problems}
    assert "/lines/0/generation/mode" in where and "/lines/0/generation/start" in where
    assert "/lines/0/withholdings/0/scheme" in where
    assert "/concept" in where  # only a 95 has one
    assert "/lines/0/taxes/0/scheme" in where
    assert "no residente" in where["/seller/id_type"]
    assert read_support_request(ds_data(), "support_adjustment")[0] is None
    _, problems = read_support_request({**ds_data(), "seller": {**FARMER, "address": None}})
    assert any(p.pointer == "/seller/address" for p in problems)


def _verify(xml: bytes):
    test_pki = pki()
    report = verify(xml, trust=TrustStore(anchors=(test_pki.root.cert, test_pki.intermediate.cert)))
    assert report.verdict is Verdict.VALID, report.reasons()


def test_resident_ds_has_the_roles_inverted_and_its_literals(issuer):
    done = _issue(ds_data(), issuer)
    _verify(done.xml)
    doc = parse_document(done.xml)
    assert isinstance(doc, CommercialDocument)
    assert doc.document_type is DocumentType.SUPPORT_DOCUMENT
    assert doc.supplier.nit == "79123456" and doc.customer.nit == US.nit  # C.1
    assert doc.profile_id == literals.DS_PROFILE_ID and doc.customization_id == "10"
    assert doc.uuid_scheme == "CUDS-SHA384" and doc.uuid == done.uuid
    assert doc.monetary_total.line_extension == D("850000.00") and doc.monetary_total.payable == D("850000.00")
    assert doc.withholdings[0].amount == D("12750.00")  # ReteRenta 1.5 %, not subtracted from the payable
    root = etree.fromstring(done.xml)
    line = root.find(f"{{{ns.CAC}}}InvoiceLine")
    assert line.findtext(f"{{{ns.CAC}}}InvoicePeriod/{{{ns.CBC}}}DescriptionCode") == "1"
    assert line.findtext(f"{{{ns.CAC}}}InvoicePeriod/{{{ns.CBC}}}StartDate") == "2026-11-27"
    assert line.find(f"{{{ns.CAC}}}WithholdingTaxTotal") is not None
    qr = root.findtext(f".//{{{ns.STS}}}QRCode")
    assert qr == f"https://catalogo-vpfe-hab.dian.gov.co/document/searchqr?documentkey={done.uuid}"
    assert done.qr_text.splitlines()[0] == "NumDS: DS7" and "NumSNO: 79123456" in done.qr_text
    assert f"DocABS: {US.nit}" in done.qr_text and done.file_name.startswith("ds")
    # The key is the CUDS of the values written (one tax pair, the seller before us, the PIN).
    assert done.uuid == cuds(number="DS7", issue_date=doc.issue_date, issue_time=doc.issue_time,
                             line_extension=D("850000"), tax_amount=D("0"), payable=D("850000"),
                             seller_id="79123456", buyer_nit=US.nit, pin="12345", environment="2")  # fmt: skip


def test_non_resident_ds_is_operation_11_without_the_seller_address(issuer):
    data = ds_data(seller=SAAS, currency="USD", exchange_rate={"rate": "4000", "date": "2026-11-27"})
    data["lines"] = [{"description": "Suscripción anual", "quantity": "1", "unit_price": "1200",
                      "generation": {"mode": "1", "start": "2026-11-27"}}]  # fmt: skip
    done = _issue(data, issuer)
    _verify(done.xml)
    doc = parse_document(done.xml)
    assert doc.customization_id == "11" and doc.supplier.id_scheme == "50"


def test_adjustment_note_95_references_its_ds(issuer):
    ds = _issue(ds_data(), issuer)
    data = {"kind": "support_adjustment", "seller": FARMER, "concept": "2",
            "reference": {"number": "DS7", "uuid": ds.uuid, "issue_date": "2026-11-27"},
            "lines": [{"description": "Anulación", "quantity": "10", "unit_price": "85000",
                       "taxes": [{"scheme": "01", "rate": "0"}]}]}  # fmt: skip
    note = _issue(data, issuer, number=1, prefix="NDS")
    _verify(note.xml)
    doc = parse_document(note.xml)
    assert doc.document_type is DocumentType.SUPPORT_ADJUSTMENT
    assert doc.profile_id == literals.ADJUSTMENT_PROFILE_ID
    assert doc.billing_references[0].uuid == ds.uuid and doc.billing_references[0].uuid_scheme == "CUDS-SHA384"
    assert doc.discrepancy_response.code == "2"
