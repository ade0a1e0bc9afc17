"""issuing.document: payload → totals → UBL → CUFE/CUDE → XAdES → zip. The key is checked against DIAN's published
vectors and one written out by hand; the signed document parses back to the same totals and verifies with Buzón's
verifier and with xmlsec1; the QR carries the very values hashed into the key."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import io
import shutil
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from dian.codes import DocumentType, Environment
from dian.cufe import document_key_fields
from dian.trust import SigningIdentity, TrustStore
from dian.ubl import CommercialDocument, parse_document
from dian.ubl import namespaces as ns
from dian.ubl.build import NumberingRange, Software
from dian.ubl.model import Address, Party
from dian.xades import Verdict, verify
from issuing.document import Issuer, Numbering, issue_document
from issuing.problems import PayloadError
from issuing.validation import require_payload
from tests.conftest import missing
from tests.pki import pki

D = Decimal
AT = dt.datetime(2025, 3, 10, 15, 53, 10, tzinfo=dt.UTC)  # 10:53:10 in Bogotá
TECHNICAL_KEY = "fc8eac422eba16e22ffd8c6f94b3f40a6e38162c"  # habilitación key (radian-issuing-facts B.1)
RANGE = NumberingRange("18760000001", dt.date(2019, 1, 19), dt.date(2030, 1, 19), "SETP", 990000000, 995000000,
                       TECHNICAL_KEY)  # fmt: skip
SOFTWARE = Software(provider_nit="900123456", provider_dv="8", software_id="sw-buzon-1", pin="12345")
SELLER = Party(
    nit="900123456",
    dv="8",
    registration_name="Proveedor de Prueba S.A.S.",
    tax_level_codes=("O-13",),
    address=Address(city="Bogotá, D.C.", city_code="11001", department="Bogotá", department_code="11", country="CO",
                    line="Cra 7 # 1-1"),
)  # fmt: skip


@pytest.fixture(scope="module")
def issuer() -> Issuer:
    test_pki = pki()
    identity = SigningIdentity(key=test_pki.supplier.key, certificate=test_pki.supplier.cert,
                               chain=test_pki.supplier.chain)  # fmt: skip
    return Issuer(party=SELLER, software=SOFTWARE, identity=identity)


@pytest.fixture(scope="module")
def trust() -> TrustStore:
    test_pki = pki()
    return TrustStore(anchors=(test_pki.root.cert, test_pki.intermediate.cert))


CUSTOMER = {"id_type": "31", "id": "800199436", "dv": "4", "name": "Comprador Ejemplo S.A.", "tax_scheme": "01",
            "address": {"line": "Cl 10 # 5-20", "city_code": "05001", "city": "Medellín"}}  # fmt: skip
SIMPLE = {
    "type": "01",
    "customer": CUSTOMER,
    "lines": [{"description": "Consultoría", "quantity": "1", "unit_price": "1000000", "code": "C-1",
               "taxes": [{"scheme": "01", "rate": "19"}]}],
    "payment": {"form": "2", "method": "42", "due_date": "2025-04-09"},
}  # fmt: skip


def _issue(data, issuer, number=990000123, prefix="SETP", numbering_range=RANGE):
    payload = require_payload(data)
    numbering = Numbering(prefix, number, numbering_range if payload.type.is_invoice else None)
    return issue_document(payload, issuer=issuer, numbering=numbering, environment=Environment.TESTING, issued_at=AT)


def _sha384(text: str) -> str:
    return hashlib.sha384(text.encode()).hexdigest()


def _root(xml: bytes) -> etree._Element:
    return etree.fromstring(xml)


def _text(root, path: str) -> str:
    return root.findtext(ns.clark(path))


# --- the key ------------------------------------------------------------------------------------------------------


def test_key_fields_reproduce_dians_published_invoice_example() -> None:
    # dian-facts.md 1.2, the annex example split into its fields by hand.
    fields = document_key_fields(number="323200000129", issue_date=dt.date(2019, 1, 16), issue_time="10:53:10-05:00",
                                 line_extension_amount=D("1500000.00"), tax_amounts={"01": D("285000.00")},
                                 payable_amount=D("1785000.00"), supplier_nit="700085371", customer_nit="800199436",
                                 key="693ff6f2a553c3646a063436fd4dd9ded0311471", environment="1")  # fmt: skip
    assert fields.text() == (
        "3232000001292019-01-1610:53:10-05:001500000.0001285000.00040.00030.001785000.00"
        "700085371800199436693ff6f2a553c3646a063436fd4dd9ded03114711"
    )
    assert fields.digest() == (
        "8bb918b19ba22a694f1da11c643b5e9de39adf60311cf179179e9b33381030bcd4c3c3f156c506ed5908f9276f5bd9b4"
    )


def test_key_fields_reproduce_dians_published_credit_note_example() -> None:
    # dian-facts.md 1.3, credit note with the software PIN.
    fields = document_key_fields(number="8110007871", issue_date=dt.date(2019, 1, 12), issue_time="07:00:00-05:00",
                                 line_extension_amount=D("5000.00"), tax_amounts={"01": D("950.00")},
                                 payable_amount=D("5950.00"), supplier_nit="900373076", customer_nit="8355990",
                                 key="12301", environment="1")  # fmt: skip
    assert fields.digest() == (
        "907e4444decc9e59c160a2fb3b6659b33dc5b632a5008922b9a62f83f757b1c448e47f5867f2b50dbdb96f48c7681168"
    )


# Our own vector: 1 × 1,000,000 with IVA 19 % = 190,000; payable 1,190,000; issued 2025-03-10 10:53:10 Bogotá.
OWN_INPUT = (
    "SETP990000123" "2025-03-10" "10:53:10-05:00" "1000000.00" "01" "190000.00" "04" "0.00" "03" "0.00"
    "1190000.00" "900123456" "800199436" + TECHNICAL_KEY + "2"
)  # fmt: skip


def test_invoice_cufe_matches_our_hand_written_vector(issuer) -> None:
    doc = _issue(SIMPLE, issuer)
    assert doc.number == "SETP990000123"
    assert doc.key.hashed == OWN_INPUT
    assert doc.uuid == _sha384(OWN_INPUT)
    assert doc.key.scheme == "CUFE-SHA384"
    root = _root(doc.xml)
    assert _text(root, "cbc:UUID") == _sha384(OWN_INPUT)


def test_qr_text_carries_the_hashed_values(issuer) -> None:
    doc = _issue(SIMPLE, issuer)
    cufe = _sha384(OWN_INPUT)
    assert doc.qr_text == "\n".join(
        [
            "NumFac: SETP990000123",
            "FecFac: 2025-03-10",
            "HorFac: 10:53:10-05:00",
            "NitFac: 900123456",
            "DocAdq: 800199436",
            "ValFac: 1000000.00",
            "ValIva: 190000.00",
            "ValOtroIm: 0.00",
            "ValTolFac: 1190000.00",
            f"CUFE: {cufe}",
            f"https://catalogo-vpfe-hab.dian.gov.co/document/searchqr?documentkey={cufe}",
        ]
    )
    assert parse_document(doc.xml).qr_code == doc.qr_text


# --- a full invoice: discounts, per-unit INC, withholdings ----------------------------------------------------------

FULL = {
    "type": "01",
    "customer": CUSTOMER,
    "lines": [
        {"description": "Servicio", "quantity": "2", "unit_price": "100000", "code": "S1",
         "adjustments": [{"reason": "Descuento 10 %", "percent": "10", "code": "09"}],
         "taxes": [{"scheme": "01", "rate": "19"}, {"scheme": "04", "rate": "8"}]},
        {"description": "Bolsa", "quantity": "3", "unit_price": "0", "reference_price": "50",
         "taxes": [{"scheme": "22", "per_unit": "66"}]},
    ],
    "adjustments": [{"reason": "Pronto pago", "amount": "1000", "code": "03"},
                    {"reason": "Flete", "amount": "500", "charge": True}],
    "withholdings": [{"scheme": "05", "rate": "15"}, {"scheme": "06", "rate": "2.5"},
                     {"scheme": "07", "rate": "0.966"}],
    "payment": {"form": "2", "method": "42", "due_date": "2025-04-10"},
    "totals": {"line_extension": "180000.00", "payable": "228299.50"},  # within ±2.00 of 228,298.00
}  # fmt: skip


def test_full_invoice_parses_back_to_the_hand_computed_totals(issuer, trust) -> None:
    doc = _issue(FULL, issuer)
    parsed = parse_document(doc.xml)
    assert isinstance(parsed, CommercialDocument)
    total = parsed.monetary_total
    # 2 × 100,000 = 200,000 − 10 % = 180,000; IVA 19 % = 34,200; INC 8 % = 14,400; bags 3 × 66 = 198 (free line: 0)
    # TaxInclusive = 180,000 + 34,200 + 14,400 + 198 = 228,798; − 1,000 discount + 500 freight = 228,298
    assert (total.line_extension, total.tax_exclusive, total.tax_inclusive) == (
        D("180000.00"), D("180000.00"), D("228798.00"))  # fmt: skip
    assert (total.allowance_total, total.charge_total, total.payable) == (D("1000.00"), D("500.00"), D("228298.00"))
    assert parsed.tax_amounts == {"01": D("34200.00"), "04": D("14400.00"), "22": D("198.00")}
    # ReteIVA 15 % of 34,200 = 5,130; ReteRenta 2.5 % of 180,000 = 4,500; ReteICA 0.966 % of 180,000 = 1,738.80
    assert [(w.scheme_id, w.amount) for w in parsed.withholdings] == [
        ("05", D("5130.00")), ("06", D("4500.00")), ("07", D("1738.80"))]  # fmt: skip
    # the key takes IVA and INC (ICA 0.00) and the payable of 228,298.00
    assert doc.key.hashed == (
        "SETP9900001232025-03-1010:53:10-05:00180000.000134200.000414400.00030.00228298.00900123456800199436"
        + TECHNICAL_KEY + "2"
    )  # fmt: skip
    assert parsed.uuid == _sha384(doc.key.hashed)
    # ValOtroIm = INC 14,400 + bags 198 = 14,598
    assert "ValOtroIm: 14598.00" in doc.qr_text
    report = verify(doc.xml, trust=trust, expected_nits=["900123456"])
    assert report.verdict is Verdict.VALID, report.reasons()


def test_full_invoice_xml_carries_charges_per_unit_tax_and_withholdings(issuer) -> None:
    root = _root(_issue(FULL, issuer).xml)
    line1, line2 = root.findall(ns.clark("cac:InvoiceLine"))
    allowance = line1.find(ns.clark("cac:AllowanceCharge"))
    assert [child.text for child in allowance] == [
        "1",
        "false",
        "09",
        "Descuento 10 %",
        "10.00",
        "20000.00",
        "200000.00",
    ]
    assert _text(line2, "cbc:FreeOfChargeIndicator") == "true"
    assert _text(line2, "cac:PricingReference/cac:AlternativeConditionPrice/cbc:PriceAmount") == "50"
    bag = line2.find(ns.clark("cac:TaxTotal/cac:TaxSubtotal"))
    assert _text(bag, "cbc:TaxableAmount") == "3"
    assert (_text(bag, "cbc:BaseUnitMeasure"), _text(bag, "cbc:PerUnitAmount")) == ("1", "66.00")
    assert bag.find(ns.clark("cbc:BaseUnitMeasure")).get("unitCode") == "94"
    charges = root.findall(ns.clark("cac:AllowanceCharge"))
    assert [(_text(c, "cbc:ChargeIndicator"), _text(c, "cbc:Amount")) for c in charges] == [
        ("false", "1000.00"), ("true", "500.00")]  # fmt: skip
    # the withholdings never enter the payable (peers-wave2 §2.3)
    assert _text(root, "cac:LegalMonetaryTotal/cbc:PayableAmount") == "228298.00"


def test_signed_invoice_verifies_with_xmlsec1(issuer, tmp_path: Path) -> None:
    tool = shutil.which("xmlsec1")
    if tool is None:
        missing("xmlsec1 not installed (scripts/install-test-services)")
    doc = _issue(FULL, issuer)
    path = tmp_path / doc.file_name
    path.write_bytes(doc.xml)
    result = subprocess.run(
        [tool, "--verify", "--insecure", "--id-attr:Id", "SignedProperties", "--id-attr:Id", "KeyInfo", str(path)],
        capture_output=True,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert b"OK" in result.stderr


def test_zip_holds_the_exact_signed_bytes_under_dians_file_name(issuer) -> None:
    doc = _issue(SIMPLE, issuer)
    # fv + NIT to 10 digits + 000 (own software) + 25 + the consecutive in 8 hex digits (dian-facts 4.3):
    # 990,000,000 = 0x3B023380, + 123 (0x7B) = 0x3B0233FB
    assert (doc.file_name, doc.zip_name) == ("fv0900123456000253B0233FB.xml", "z0900123456000253B0233FB.zip")
    with zipfile.ZipFile(io.BytesIO(doc.zip_bytes)) as archive:
        assert archive.namelist() == [doc.file_name]
        assert archive.read(doc.file_name) == doc.xml


# --- the other types -------------------------------------------------------------------------------------------------


def test_export_in_usd_states_the_exchange_rate(issuer, trust) -> None:
    data = copy.deepcopy(SIMPLE)
    data.update(type="02", currency="USD", exchange_rate={"rate": "4100.25", "date": "2025-03-10"})
    data["customer"] = {"id_type": "50", "id": "US-7788", "name": "Importer Inc.", "organization": "1",
                        "address": {"line": "1 Main St", "country": "US", "city": "Miami"}}  # fmt: skip
    data["lines"] = [{"description": "Café verde", "quantity": "2", "unit_price": "1234.565",
                      "adjustments": [{"reason": "Volumen", "percent": "3.5"}],
                      "taxes": [{"scheme": "01", "rate": "0"}]}]  # fmt: skip
    doc = _issue(data, issuer)
    root = _root(doc.xml)
    assert _text(root, "cbc:InvoiceTypeCode") == "02"
    assert _text(root, "cbc:DocumentCurrencyCode") == "USD"
    rate = root.find(ns.clark("cac:PaymentExchangeRate"))
    assert [child.text for child in rate] == ["USD", "1.00", "COP", "1.00", "4100.25", "2025-03-10"]
    # 2 × 1,234.565 = 2,469.13 − 3.5 % (86.42) = 2,382.71 USD, IVA 0 %: payable 2,382.71 USD
    payable = root.find(ns.clark("cac:LegalMonetaryTotal/cbc:PayableAmount"))
    assert (payable.text, payable.get("currencyID")) == ("2382.71", "USD")
    # the CUFE hashes the amounts as written in the document's currency
    assert doc.key.hashed == (
        "SETP9900001232025-03-1010:53:10-05:002382.71010.00040.00030.002382.71900123456US-7788" + TECHNICAL_KEY + "2"
    )
    assert verify(doc.xml, trust=trust).verdict is Verdict.VALID


def test_contingency_03_takes_a_cude_and_names_the_paper_invoice(issuer) -> None:
    data = dict(SIMPLE, type="03", paper_invoice={"number": "TAL-15", "issue_date": "2025-03-08"})
    doc = _issue(data, issuer)
    assert doc.key.scheme == "CUDE-SHA384"
    assert doc.uuid == _sha384(OWN_INPUT.replace(TECHNICAL_KEY, "12345"))  # the software PIN, B.2
    root = _root(doc.xml)
    reference = root.find(ns.clark("cac:AdditionalDocumentReference"))
    assert [child.text for child in reference] == ["TAL-15", "2025-03-08", "01"]
    assert parse_document(doc.xml).document_type is DocumentType.CONTINGENCY_INVOICE


def test_contingency_04_takes_the_cufe(issuer) -> None:
    doc = _issue(dict(SIMPLE, type="04"), issuer)
    assert (doc.key.scheme, doc.uuid) == ("CUFE-SHA384", _sha384(OWN_INPUT))
    assert _text(_root(doc.xml), "cbc:InvoiceTypeCode") == "04"


REFERENCE = {"number": "SETP990000001", "uuid": "ab" * 48, "issue_date": "2025-03-01"}


def _note(**changes):
    data = copy.deepcopy(SIMPLE)
    data["payment"] = {"form": "1", "method": "10"}
    data.update(changes)
    return data


def test_credit_note_with_reference(issuer, trust) -> None:
    doc = _issue(_note(type="91", concept="2", reference=REFERENCE), issuer, number=17, prefix="NC")
    # CUDE with the software PIN: "NC17" + the same amounts as OWN_INPUT
    expected = "NC172025-03-1010:53:10-05:001000000.0001190000.00040.00030.001190000.0090012345680019943612345" + "2"
    assert (doc.key.hashed, doc.uuid) == (expected, _sha384(expected))
    root = _root(doc.xml)
    assert _text(root, "cbc:CustomizationID") == "20"
    assert _text(root, "cac:DiscrepancyResponse/cbc:ResponseCode") == "2"
    assert _text(root, "cac:DiscrepancyResponse/cbc:Description") == "Anulación de factura electrónica"
    assert _text(root, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:UUID") == "ab" * 48
    assert root.find(ns.clark("cac:InvoicePeriod")) is None
    assert verify(doc.xml, trust=trust).verdict is Verdict.VALID
    assert doc.file_name.startswith("nc0900123456")


def test_notes_without_reference_state_their_period(issuer) -> None:
    period = {"start": "2025-02-01", "end": "2025-02-28"}
    credit = _root(_issue(_note(type="91", concept="5", period=period), issuer, number=18, prefix="NC").xml)
    debit = _root(_issue(_note(type="92", concept="1", period=period), issuer, number=1, prefix="ND").xml)
    assert (_text(credit, "cbc:CustomizationID"), _text(debit, "cbc:CustomizationID")) == ("22", "32")
    for root in (credit, debit):
        assert _text(root, "cac:InvoicePeriod/cbc:StartDate") == "2025-02-01"
        assert _text(root, "cac:InvoicePeriod/cbc:EndDate") == "2025-02-28"
        assert root.find(ns.clark("cac:BillingReference")) is None
        assert root.find(ns.clark("cac:DiscrepancyResponse/cbc:ReferenceID")) is None
    assert debit.find(ns.clark("cac:RequestedMonetaryTotal/cbc:PayableAmount")).text == "1190000.00"


def test_debit_note_with_reference(issuer) -> None:
    doc = _issue(_note(type="92", concept="1", reference=REFERENCE), issuer, number=2, prefix="ND")
    root = _root(doc.xml)
    assert _text(root, "cbc:CustomizationID") == "30"
    assert _text(root, "cac:DiscrepancyResponse/cbc:ReferenceID") == "SETP990000001"
    assert parse_document(doc.xml).document_type is DocumentType.DEBIT_NOTE


# --- refusals --------------------------------------------------------------------------------------------------------


def _problems(data, issuer, **kwargs) -> list[str]:
    with pytest.raises(PayloadError) as caught:
        _issue(data, issuer, **kwargs)
    return [problem.pointer for problem in caught.value.problems]


def test_declared_totals_beyond_tolerance_are_refused(issuer) -> None:
    data = dict(FULL, totals={"payable": "228300.01", "tax_inclusive": "228798.00"})
    assert _problems(data, issuer) == ["/totals/payable"]


def test_numbering_and_dates_are_checked_at_issue(issuer) -> None:
    assert _problems(SIMPLE, issuer, number=995000001) == ["/number"]
    assert _problems(SIMPLE, issuer, prefix="FE") == ["/prefix"]
    late = dict(SIMPLE, payment={"form": "2", "method": "42", "due_date": "2025-03-09"})
    assert _problems(late, issuer) == ["/payment/due_date"]
    assert _problems(SIMPLE, issuer, numbering_range=None) == [""]
    future = _note(type="91", concept="1", reference=dict(REFERENCE, issue_date="2025-03-11"))
    assert _problems(future, issuer, number=3, prefix="NC") == ["/reference/issue_date"]
