"""Every real DIAN document in ../shared/samples parses to the values read by hand from the file.

The expected values below were read from the sample files (public data, see PROVENANCE.txt) and written here as
literals on purpose: they are not computed with the code under test.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from dian.codes import DocumentType, PaymentMeans
from dian.ubl import ApplicationResponse, AttachedDocument, CommercialDocument, parse_document
from dian.xmlsafe import parse_xml
from tests.conftest import sample_bytes

# file, number, supplier NIT, customer NIT, CUFE, payable amount, issue date, invoice lines
EXPECTED = [
    ("attached_americanrestaurant_CT33455_ownsw.xml", "CT33455", "900923112", "805007280",
     "aeec8fd5501c7a9e0f39d12eac19b033bbc528e1d055eb094f90468d6c427b72e4a35d789f2ec588026e1bce2c5a66c1",
     "207200.02", "2025-08-08", 12),
    ("attached_aragon_FE6711_sw890930534.xml", "FE6711", "1004518918", "805007280",
     "e430a2e4cd971019efe083e1664f344953e68072568cfef0cecb631b53533710180a2380cf5c383e336355be45cf6c74",
     "756200.02", "2025-08-09", 2),
    ("attached_distripanama_DP20602_sw830099008.xml", "DP20602", "34051908", "805007280",
     "34bdc6a33100f29b362f4ca600876913cfac394d06a590929a2181409ff3000b7d894e37f58181e282863b7f4432e01b",
     "50000.00", "2025-08-05", 1),
    ("attached_gaseosas_FVNB605276_dispapeles.xml", "FVNB605276", "890903858", "805007280",
     "910c529a8d673b6c9124d74a6ab9c43809d83cea09eacb9648264fe9326430d48b162a60f60133f6a531b002f09919e1",
     "100884.00", "2025-07-24", 1),
    ("attached_guerrerosoto_FAC1020_cadena.xml", "FAC1020", "79389881", "79865112",
     "f22fad936818283b33649100c01932c6a89de9a5121b31db8c99f794fc3be380759be5acb4a667f6db87b76afa636c4f",
     "6355700.00", "2025-09-04", 6),
    ("attached_hrincon_RINC430_dianfree.xml", "RINC430", "900181067", "805007280",
     "c0ddbc55ea83390b6cae65f712bde978b8a69da369728f699a95a6e6919dc9e9b49f5b2feb6f1591949d92386a534220",
     "34201361.60", "2025-08-09", 1),
    ("attached_ilucenter_FE4790_sw830048145.xml", "FE4790", "29813684", "805007280",
     "ac11fe3dfbb48858d0e92cc7e7d2b51ef3e89eb2c6a5889ad2686bcec9af1874787c4708fabf4be629bc6e231e42aa66",
     "185000.00", "2025-06-16", 1),
    ("attached_medicalenergy_A01E5687_dataico.xml", "A01E5687", "901019681", "830003564",
     "e6a0b73d78a9e185bdd11a7a1abcff702d8d6fa08e1abeaa13ec65a4efef2cf52752b659af3bb9eb0d041822ac8484c5",
     "1055600.00", "2025-07-09", 1),
    ("attached_nextrading_VC19111_sw900965992.xml", "VC19111", "900040557", "805007280",
     "b08a6d021a85ef2e16a2eec79412258ec3a27bcbf83a9e80c15eb7095934c38f1b975770034b315057997bdaa14aafcb",
     "9247515.00", "2025-08-01", 1),
    ("attached_postobon_CA072079274_carvajal.xml", "CA072079274", "890903939", "900923112",
     "e0eaa8787b373c40b317cb12f3cb33a5d35f7b6f7e926de8325c0c9b4b0d9702c05fc94a1ec1ab55e839d4664b613074",
     "140179.88", "2025-08-09", 1),
    ("attached_torrecafe_07GE28139_sw890319193_excc14n.xml", "07GE28139", "890301054", "805007280",
     "d67619237b527ea60ac2c79a7980f2321032540603a6dfdbc5983529343dc1d37c949be3631d9ab1db2f458d46f87e7f",
     "2472971.00", "2025-06-06", 1),
    ("invoice_alpha_FV937_sw890930534.xml", "FV937", "805004648", "805007280",
     "c1128a739aae8f596302961627a3aa0a995fba6a92d971318d3054ed6c2d8f64be1562622f2a9fe403062c1cbca76137",
     "7140000.00", "2025-04-04", 1),
    ("invoice_empolladora_EMH15818_sw900399741.xml", "EMH15818", "832001292", "79865112",
     "1259dfa22710ee21977f2ce025e29319454c295af456aca2695fcb1c81f3a6a6d838fdc8fcc8c96d705877c9037ee026",
     "5040000.00", "2025-10-01", 1),
    ("invoice_pardodiaz_IP9629_ownsw_camerfirma.xml", "IP9629", "13955460", "79865112",
     "2b08223b3417b2fb69b0c37eb8f60feff74f1f9e47079523911dc0b249b868659d651dd1fb533331e4187e89eb935e34",
     "13440000.00", "2025-10-02", 3),
    ("invoice_saucedo_FESA59211_sw900011395_rsasha1.xml", "FESA59211", "805013122", "805007280",
     "ccf01179e8e25946575698aa50ecfb8563426d3cdd08db5a532371d56958866dbd144222e78c3effb24e0c6d91fab4e5",
     "6302329.00", "2025-05-02", 3),
    ("invoice_taxcontadores_FE751_sw890930534.xml", "FE751", "900690404", "805007280",
     "7fc905301b20afc8deb6ac0f5630ffe940fba6ec56af1b275fb92534b892d111270c851d4a5f344b61eef286a09fc5aa",
     "7140000.00", "2025-05-05", 1),
    ("invoice_vargas_FV12765_sw900965992.xml", "FV12765", "9518343", "79865112",
     "d4d687e2edbf5a96c9db30c2dbd09cd597a9f7c78883c607ed959004b39895669c2ed865c586438f6342e1f319ebdcad",
     "9051000.00", "2025-10-04", 6),
]  # fmt: skip


def test_the_table_covers_every_sample(samples_dir) -> None:
    assert sorted(row[0] for row in EXPECTED) == sorted(path.name for path in samples_dir.glob("*.xml"))


@pytest.mark.parametrize(
    ("name", "number", "supplier", "customer", "cufe", "payable", "issued", "lines"),
    EXPECTED,
    ids=[row[0].removesuffix(".xml") for row in EXPECTED],
)
def test_sample_parses_to_the_values_in_the_file(
    samples_dir, name, number, supplier, customer, cufe, payable, issued, lines
) -> None:
    data = sample_bytes(name)
    document = parse_document(data)
    if name.startswith("attached_"):
        assert isinstance(document, AttachedDocument)
        assert document.parent_document_id == number
        assert document.sender.nit == supplier and document.receiver.nit == customer
        assert document.reference_id == number and document.reference_uuid == cufe
        assert document.is_validated  # "02", or "002" from one provider (dian-facts.md 3.1)
        # The payloads are the exact bytes between the CDATA markers (dian-facts.md 3.1).
        assert document.exact_bytes
        assert document.document_xml in data and document.dian_response_xml in data
        answer = parse_document(document.dian_response_xml)
        assert isinstance(answer, ApplicationResponse)
        assert answer.response_code == "02" and answer.is_validation and not answer.is_event
        assert answer.sender.nit == "800197268"
        assert answer.document_reference is not None
        assert (answer.document_reference.id, answer.document_reference.uuid) == (number, cufe)
        assert answer.line_responses and "RUT01" in {line.code for line in answer.line_responses}
        invoice = parse_document(document.document_xml)
    else:
        invoice = document
    assert isinstance(invoice, CommercialDocument)
    assert invoice.document_type is DocumentType.INVOICE
    assert invoice.number == number
    assert invoice.supplier.nit == supplier
    assert invoice.customer.nit == customer
    assert invoice.uuid == cufe and invoice.uuid_scheme == "CUFE-SHA384"
    assert invoice.monetary_total.payable == Decimal(payable)
    assert invoice.issue_date == date.fromisoformat(issued)
    assert len(invoice.lines) == lines
    assert invoice.number.startswith(invoice.prefix) and invoice.prefix
    assert invoice.payment_means in (PaymentMeans.CASH, PaymentMeans.CREDIT)
    assert invoice.software_provider_nit and invoice.software_id


def test_parse_from_the_element_the_verifier_holds() -> None:
    # The signature verifier passes the element its signature covers; fields must come from that element.
    data = sample_bytes("invoice_alpha_FV937_sw890930534.xml")
    root = parse_xml(data)
    assert parse_document(root) == parse_document(data)


def test_attached_document_from_an_element_with_and_without_source() -> None:
    data = sample_bytes("attached_medicalenergy_A01E5687_dataico.xml")
    root = parse_xml(data)
    exact = parse_document(root, source=data)
    assert isinstance(exact, AttachedDocument) and exact.exact_bytes
    assert exact == parse_document(data)
    # Without the original bytes the payload is the parsed text: DIAN's answer in this file uses CRLF line ends,
    # which XML parsing normalises, so those bytes are not exact (and the flag says so).
    loose = parse_document(root)
    assert isinstance(loose, AttachedDocument) and not loose.exact_bytes
    assert loose.document_xml == exact.document_xml
    assert exact.dian_response_xml is not None and b"\r\n" in exact.dian_response_xml
    assert loose.dian_response_xml == exact.dian_response_xml.replace(b"\r\n", b"\n")


def test_missing_offset_in_issue_time_assumes_bogota() -> None:
    # The ilucenter container writes IssueTime without an offset (dian-facts.md 3.1).
    document = parse_document(sample_bytes("attached_ilucenter_FE4790_sw830048145.xml"))
    assert isinstance(document, AttachedDocument)
    assert document.issue_time == "16:37:09"
    assert document.offset_assumed
    assert document.issued_at.isoformat() == "2025-06-16T16:37:09-05:00"
    assert document.validation_result_code == "002" and document.is_validated


def test_relative_namespace_sample_parses() -> None:
    # invoice_saucedo declares xmlns:none="none"; only C14N refuses a relative URI (dian-facts.md 5).
    invoice = parse_document(sample_bytes("invoice_saucedo_FESA59211_sw900011395_rsasha1.xml"))
    assert isinstance(invoice, CommercialDocument)
    assert invoice.customization_id == "11"
    assert invoice.invoice_control is not None and invoice.invoice_control.prefix == "FESA"


def test_withholdings_are_kept_apart_from_taxes() -> None:
    invoice = parse_document(sample_bytes("invoice_alpha_FV937_sw890930534.xml"))
    assert isinstance(invoice, CommercialDocument)
    assert [total.scheme_id for total in invoice.tax_totals] == ["01"]
    assert invoice.tax_amounts == {"01": Decimal("1140000.00")}
    assert [total.scheme_id for total in invoice.withholdings] == ["06", "07"]
    assert invoice.withholdings[1].subtotals[0].percent == Decimal("0.660")
    assert invoice.payment_means is PaymentMeans.CREDIT and invoice.is_credit_sale
    assert invoice.due_date == date(2025, 4, 4)
