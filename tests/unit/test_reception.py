"""End-to-end reception checks (dian-facts 3.3) on documents signed by the test PKI."""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest
from lxml import etree

from dian.cdata import parse_aside
from dian.reception import verify_received
from dian.trust import SigningIdentity, TrustStore, fingerprint
from dian.xades import Outcome, Verdict, sign
from tests.pki import (
    COMPANY_NIT,
    CUFE,
    OTHER_CUFE,
    Issued,
    application_response_xml,
    attached_document_xml,
    invoice_xml,
    pki,
)

DS = "http://www.w3.org/2000/09/xmldsig#"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
INV = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
SIGNED_AT = dt.datetime(2025, 3, 3, 14, 0, tzinfo=dt.UTC)


def _sign(xml: bytes, issued: Issued, role: str = "supplier") -> bytes:
    return sign(xml, SigningIdentity(issued.key, issued.cert, issued.chain), signing_time=SIGNED_AT, role=role)


def full_store() -> TrustStore:
    p = pki()
    return TrustStore(anchors=(p.root.cert, p.intermediate.cert, p.dian_root.cert))


@pytest.fixture(scope="module")
def invoice() -> bytes:
    return _sign(invoice_xml(), pki().supplier)


@pytest.fixture(scope="module")
def answer() -> bytes:
    return _sign(application_response_xml(notifications=("RUT01", "FAJ43b")), pki().dian)


def non_pass(report) -> dict[str, str]:
    return {c.name: c.outcome.value for c in report.checks if c.outcome != Outcome.PASS}


def test_attached_document_valid_end_to_end(invoice: bytes, answer: bytes) -> None:
    report = verify_received(attached_document_xml(invoice, answer), trust=full_store(), our_nit=COMPANY_NIT)
    assert report.verdict == Verdict.VALID, report.reasons() or non_pass(report)
    assert report.kind == "attached_document"
    assert report.document.number == "SETP990000001"
    assert report.document.uuid == CUFE
    assert str(report.document.monetary_total.payable) == "119000.00"
    assert report.dian_response.response_code == "02"
    assert [n.code for n in report.notifications] == ["RUT01", "FAJ43b"]
    assert report.document_xml == invoice  # the exact signed bytes, to store as they are
    assert report.dian_response_xml == answer
    names = {c.name for c in report.checks}
    assert {
        "container.signature",
        "document.signature",
        "document.signer.nit",
        "buyer.nit",
        "dian.signature",
        "dian.signer.nit",
        "dian.certificate.chain",
        "dian.response",
        "dian.document_reference",
        "dian.notifications",
    } <= names
    json.dumps(report.to_dict())


def test_changed_amount_in_the_embedded_invoice_is_invalid(invoice: bytes, answer: bytes) -> None:
    forged = invoice.replace(b'"COP">119000.00</cbc:PayableAmount>', b'"COP">9.00</cbc:PayableAmount>')
    assert forged != invoice
    report = verify_received(attached_document_xml(forged, answer), trust=full_store())
    assert report.verdict == Verdict.INVALID
    assert report.outcome("document.reference.document") == Outcome.FAIL
    assert report.document is None
    assert report.unverified_document is not None  # shown in quarantine, never filed


def test_answer_for_another_document_is_invalid(invoice: bytes) -> None:
    other = _sign(application_response_xml(number="SETP990000002", cufe=OTHER_CUFE), pki().dian)
    report = verify_received(attached_document_xml(invoice, other), trust=full_store())
    assert report.verdict == Verdict.INVALID
    assert report.outcome("dian.document_reference") == Outcome.FAIL
    assert "otro documento" in report.check("dian.document_reference").detail


def test_answer_with_the_same_number_but_another_cufe_is_invalid(invoice: bytes) -> None:
    other = _sign(application_response_xml(cufe=OTHER_CUFE), pki().dian)
    report = verify_received(attached_document_xml(invoice, other), trust=full_store())
    assert report.outcome("dian.document_reference") == Outcome.FAIL


def test_answer_signed_by_a_certificate_not_of_dian_is_invalid(invoice: bytes) -> None:
    # Same DIAN CA, same CN as DIAN, but another NIT in serialNumber.
    impostor = _sign(application_response_xml(), pki().impostor)
    report = verify_received(attached_document_xml(invoice, impostor), trust=full_store())
    assert report.verdict == Verdict.INVALID
    assert report.outcome("dian.signer.nit") == Outcome.FAIL


def test_answer_signed_by_the_supplier_is_invalid(invoice: bytes) -> None:
    forged = _sign(application_response_xml(), pki().supplier)
    report = verify_received(attached_document_xml(invoice, forged), trust=full_store())
    assert report.outcome("dian.signer.nit") == Outcome.FAIL
    assert report.verdict == Verdict.INVALID


def test_rejection_04_is_invalid(invoice: bytes) -> None:
    rejected = _sign(application_response_xml(code="04"), pki().dian)
    report = verify_received(attached_document_xml(invoice, rejected), trust=full_store())
    assert report.outcome("dian.response") == Outcome.FAIL
    assert "rechazado" in report.check("dian.response").detail


def test_broken_answer_signature_is_invalid(invoice: bytes, answer: bytes) -> None:
    broken = answer.replace(b"<cbc:ResponseCode>RUT01<", b"<cbc:ResponseCode>RUT02<")
    assert broken != answer
    report = verify_received(attached_document_xml(invoice, broken), trust=full_store())
    assert report.outcome("dian.reference.document") == Outcome.FAIL
    assert report.verdict == Verdict.INVALID
    assert report.dian_response is None


def test_undecided_dian_chain_warns_and_a_pin_settles_it(invoice: bytes, answer: bytes) -> None:
    p = pki()
    store = TrustStore(anchors=(p.root.cert, p.intermediate.cert))  # no DIAN CA
    undecided = verify_received(attached_document_xml(invoice, answer), trust=store)
    assert undecided.outcome("dian.certificate.chain") == Outcome.WARN
    assert "validación DIAN sin confirmar" in undecided.check("dian.certificate.chain").detail
    # Not a warning among others: its own verdict, never valid.
    assert undecided.verdict == Verdict.UNCONFIRMED and not undecided.dian_validated
    pinned = verify_received(attached_document_xml(invoice, answer), trust=store, dian_pins=[fingerprint(p.dian.cert)])
    assert pinned.outcome("dian.certificate.chain") == Outcome.PASS
    assert pinned.verdict == Verdict.VALID


def test_pin_of_another_certificate_does_not_help(invoice: bytes) -> None:
    p = pki()
    impostor = _sign(application_response_xml(), p.impostor)
    report = verify_received(
        attached_document_xml(invoice, impostor), trust=TrustStore(), dian_pins=[fingerprint(p.dian.cert)]
    )
    assert report.verdict == Verdict.INVALID


def test_bare_invoice_without_dian_answer_warns(invoice: bytes) -> None:
    report = verify_received(invoice, trust=full_store(), our_nit=COMPANY_NIT)
    assert report.kind == "invoice"
    assert non_pass(report) == {"dian.response": "warn"}
    assert "validación DIAN sin confirmar" in report.check("dian.response").detail
    assert report.verdict == Verdict.UNCONFIRMED


def test_buyer_nit_must_be_ours(invoice: bytes) -> None:
    report = verify_received(invoice, trust=full_store(), our_nit="900999999")
    assert report.outcome("buyer.nit") == Outcome.FAIL
    assert report.verdict == Verdict.INVALID
    assert verify_received(invoice, trust=full_store()).check("buyer.nit") is None


def test_signer_must_be_the_issuer_or_its_provider() -> None:
    p = pki()
    by_provider = verify_received(_sign(invoice_xml(), p.provider, "third party"), trust=full_store())
    assert by_provider.outcome("document.signer.nit") == Outcome.PASS
    assert "proveedor tecnológico" in by_provider.check("document.signer.nit").detail
    by_stranger = verify_received(_sign(invoice_xml(), p.company), trust=full_store())
    assert by_stranger.outcome("document.signer.nit") == Outcome.FAIL


def test_forged_root_wrapping_the_signed_invoice_in_the_cdata_is_invalid(invoice: bytes, answer: bytes) -> None:
    genuine = etree.fromstring(invoice)
    forged = copy.deepcopy(genuine)
    forged.find(
        "{urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2}LegalMonetaryTotal/"
        "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}PayableAmount"
    ).text = "1.00"
    ext = forged.find("{urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2}UBLExtensions")
    ext.append(genuine)
    cdata = etree.tostring(forged, xml_declaration=True, encoding="UTF-8")
    report = verify_received(attached_document_xml(cdata, answer), trust=full_store())
    assert report.verdict == Verdict.INVALID
    assert report.document is None


def test_forged_invoice_hidden_in_the_signature_does_not_reach_the_fields(invoice: bytes, answer: bytes) -> None:
    root = etree.fromstring(invoice)
    hidden = etree.fromstring(invoice_xml(number="FORJADA1", unit_price="1.00", customer_nit="900999999"))
    etree.SubElement(root.find(f".//{{{DS}}}Signature"), f"{{{DS}}}Object").append(hidden)
    cdata = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    report = verify_received(attached_document_xml(cdata, answer), trust=full_store(), our_nit=COMPANY_NIT)
    assert report.document is not None
    assert report.document.number == "SETP990000001"
    assert str(report.document.monetary_total.payable) == "119000.00"
    assert report.document.customer.nit == COMPANY_NIT
    assert report.outcome("buyer.nit") == Outcome.PASS


def test_unreadable_input_gives_a_verdict() -> None:
    report = verify_received(b"<AttachedDocument><", trust=full_store())
    assert report.unreadable
    assert report.verdict == Verdict.INVALID
    json.dumps(report.to_dict())


def test_dians_answer_on_its_own_is_recognised_and_other_roots_are_refused(answer: bytes) -> None:
    report = verify_received(answer, trust=full_store())
    assert report.kind == "dian_answer" and report.dian_validated
    assert report.verdict == Verdict.VALID
    assert report.outcome("dian.document_reference") == Outcome.PASS
    other = verify_received(b"<Order xmlns='urn:x'/>", trust=full_store())
    assert other.verdict == Verdict.INVALID
    assert other.outcome("input.parse") == Outcome.FAIL


def test_attached_document_without_answer_warns(invoice: bytes) -> None:
    report = verify_received(attached_document_xml(invoice, None), trust=full_store())
    assert non_pass(report) == {"dian.response": "warn"}


def test_attached_document_holding_garbage(answer: bytes) -> None:
    report = verify_received(attached_document_xml(b"<nada/>", answer), trust=full_store())
    assert report.verdict == Verdict.INVALID
    assert report.outcome("document.parse") == Outcome.FAIL


def test_an_unexpected_error_becomes_a_failed_check(invoice: bytes, answer: bytes, monkeypatch) -> None:
    import dian.reception.documents

    def boom(*args, **kwargs):
        raise RuntimeError("parser bug")

    monkeypatch.setattr(dian.reception.documents, "parse_document", boom)
    report = verify_received(attached_document_xml(invoice, answer), trust=full_store())
    assert report.verdict == Verdict.INVALID
    assert "parser bug" in report.check("input.parse").detail


def test_signed_identifiers_of_the_wrong_shape_are_refused_by_name() -> None:
    p = pki()
    long_uuid = "f" * 120
    bad = _sign(invoice_xml().replace(CUFE.encode(), long_uuid.encode()), p.supplier)
    report = verify_received(bad, trust=full_store())
    assert report.outcome("document.signature") == Outcome.PASS  # the signature holds: the value itself is wrong
    assert report.outcome("document.uuid") == Outcome.FAIL
    assert "96 caracteres hexadecimales" in report.check("document.uuid").detail
    assert report.verdict == Verdict.INVALID
    from inbox.intake import quarantine_reason
    from store.models import QuarantineReason

    assert quarantine_reason(report) == QuarantineReason.UNREADABLE


def _signed_container(invoice: bytes, answer: bytes) -> bytes:
    """A container signed by the supplier, its two payloads and its own certificate written as CDATA sections (as
    real containers write them); sign() writes escaped text there, which C14N reads alike: the signature holds."""
    placeholder = (
        b'<ext:UBLExtensions><ext:UBLExtension><ext:ExtensionContent><ds:Signature Id="placeholder"/>'
        b"</ext:ExtensionContent></ext:UBLExtension></ext:UBLExtensions>"
    )
    unsigned = attached_document_xml(invoice, answer)
    signed = _sign(unsigned.replace(b"<cbc:UBLVersionID>", placeholder + b"<cbc:UBLVersionID>", 1), pki().supplier)
    root = etree.fromstring(signed)
    for element in root.iter(f"{{{CBC}}}Description", f"{{{DS}}}X509Certificate"):
        element.text = etree.CDATA(element.text)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_a_signed_containers_own_signature_is_verified_with_its_payloads_set_aside(
    invoice: bytes, answer: bytes
) -> None:
    data = _signed_container(invoice, answer)
    _, aside = parse_aside(data)
    assert len(aside.spans) == 3  # the invoice, DIAN's answer and the container's certificate: none read into the tree
    report = verify_received(data, trust=full_store(), our_nit=COMPANY_NIT)
    assert report.verdict == Verdict.VALID, report.reasons() or non_pass(report)
    check = report.check("container.signature")
    assert check.outcome == Outcome.PASS and "la firma del contenedor verifica" in check.detail
    assert report.container_signature is not None and report.container_signature.core_valid
    assert report.document_xml == invoice and report.dian_response_xml == answer
    # White space inside the invoice's section: the payload reads the same, the container's digest does not.
    moved = data.replace(b"<cbc:Description><![CDATA[", b"<cbc:Description><![CDATA[\n ", 1)
    assert moved != data
    report = verify_received(moved, trust=full_store(), our_nit=COMPANY_NIT)
    assert report.document_xml == invoice
    check = report.check("container.signature")
    assert check.outcome == Outcome.WARN and "no verifica" in check.detail
    assert report.verdict == Verdict.VALID_WITH_WARNINGS
