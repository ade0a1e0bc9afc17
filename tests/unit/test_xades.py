"""XAdES-EPES signing in DIAN's shape and the graded verification report (dian-facts 5, 9, 11)."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import json

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree

from dian.errors import ParseError, SignatureError
from dian.trust import SigningIdentity, TrustStore
from dian.ubl import CommercialDocument, parse_document
from dian.xades import (
    POLICY_HASH,
    POLICY_URL,
    Outcome,
    Verdict,
    parse_signing_time,
    sign,
    verify,
)
from dian.xmlsafe import parse_xml
from tests.pki import PROVIDER_NIT, SUPPLIER_NIT, Issued, application_response_xml, invoice_xml, pki

DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
EXT = "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2"
INV = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
SIGNED_AT = dt.datetime(2025, 3, 3, 14, 0, 0, tzinfo=dt.UTC)


def identity(issued: Issued) -> SigningIdentity:
    return SigningIdentity(issued.key, issued.cert, issued.chain)


def full_store() -> TrustStore:
    p = pki()
    return TrustStore(anchors=(p.root.cert, p.intermediate.cert, p.dian_root.cert))


@pytest.fixture(scope="module")
def signed_invoice() -> bytes:
    return sign(invoice_xml(), identity(pki().supplier), signing_time=SIGNED_AT)


def non_pass(report) -> dict[str, str]:
    return {c.name: c.outcome.value for c in report.checks if c.outcome != Outcome.PASS}


# ---------------------------------------------------------------------------------------------------------------
# Signing


def test_signed_invoice_verifies_valid(signed_invoice: bytes) -> None:
    report = verify(signed_invoice, trust=full_store(), expected_nits=[SUPPLIER_NIT])
    assert report.verdict == Verdict.VALID, report.to_dict()
    assert [c.name for c in report.checks] == [
        "signature",
        "reference.document",
        "reference.key_info",
        "reference.signed_properties",
        "signing_time",
        "policy.identifier",
        "policy.hash",
        "signing_certificate",
        "certificate.validity",
        "certificate.chain",
        "signer.nit",
        "algorithms",
    ]
    assert report.signer_nit == SUPPLIER_NIT
    assert report.signing_time == SIGNED_AT
    assert report.claimed_role == "supplier"
    json.dumps(report.to_dict())


def test_signature_has_dians_shape(signed_invoice: bytes) -> None:
    root = etree.fromstring(signed_invoice)
    contents = root.findall(f"{{{EXT}}}UBLExtensions/{{{EXT}}}UBLExtension/{{{EXT}}}ExtensionContent")
    assert contents[1][0].tag == f"{{{DS}}}Signature"  # the placeholder's place, dian-facts 11
    sig = contents[1][0]
    sig_id = sig.get("Id")
    info = sig.find(f"{{{DS}}}SignedInfo")
    assert info.find(f"{{{DS}}}CanonicalizationMethod").get("Algorithm") == (
        "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
    )
    assert info.find(f"{{{DS}}}SignatureMethod").get("Algorithm").endswith("#rsa-sha256")
    refs = info.findall(f"{{{DS}}}Reference")
    assert [r.get("URI") for r in refs] == ["", f"#{sig_id}-keyinfo", f"#{sig_id}-signedprops"]
    assert refs[2].get("Type") == "http://uri.etsi.org/01903#SignedProperties"
    assert [t.get("Algorithm") for t in refs[0].iter(f"{{{DS}}}Transform")] == [
        "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
    ]
    assert all(r.find(f"{{{DS}}}DigestMethod").get("Algorithm").endswith("#sha256") for r in refs)
    props = sig.find(f"{{{DS}}}Object/{{{XADES}}}QualifyingProperties/{{{XADES}}}SignedProperties")
    assert props.findtext(f".//{{{XADES}}}SigningTime") == "2025-03-03T09:00:00.000-05:00"
    certs = props.findall(f".//{{{XADES}}}SigningCertificate/{{{XADES}}}Cert")
    assert len(certs) == 1
    assert certs[0].find(f".//{{{DS}}}DigestMethod").get("Algorithm").endswith("#sha256")
    assert certs[0].findtext(f".//{{{DS}}}X509SerialNumber") == str(pki().supplier.cert.serial_number)
    assert props.findtext(f".//{{{XADES}}}Identifier") == POLICY_URL
    assert props.findtext(f".//{{{XADES}}}SigPolicyHash/{{{DS}}}DigestValue") == POLICY_HASH
    assert props.findtext(f".//{{{XADES}}}ClaimedRole") == "supplier"
    assert b"ns0:" not in signed_invoice
    assert signed_invoice.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<Invoice')


def test_whole_chain_in_signing_certificate_and_third_party_role() -> None:
    out = sign(
        invoice_xml(),
        identity(pki().provider),
        signing_time=SIGNED_AT,
        role="third party",
        include_chain=True,
    )
    assert out.count(b"<xades:Cert>") == 3
    report = verify(out, trust=full_store(), expected_nits=[SUPPLIER_NIT, PROVIDER_NIT])
    assert report.verdict == Verdict.VALID
    assert "3 certificados" in report.check("signing_certificate").detail
    assert report.claimed_role == "third party"


def test_event_application_response_signs_and_verifies() -> None:
    xml = application_response_xml(code="030", sender_nit="900654321", receiver_nit=SUPPLIER_NIT, notifications=())
    out = sign(xml, identity(pki().company), signing_time=SIGNED_AT)
    assert verify(out, trust=full_store(), expected_nits=["900654321"]).verdict == Verdict.VALID


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        (b"<Invoice/>", "exactly one"),
        (invoice_xml().replace(b"</Invoice>", b'<ds:Signature Id="placeholder"/></Invoice>'), "found 2"),
        (b"<Invoice", "unreadable"),
    ],
)
def test_sign_refuses_bad_input(xml: bytes, message: str) -> None:
    with pytest.raises(SignatureError, match=message):
        sign(xml, identity(pki().supplier), signing_time=SIGNED_AT)


def test_sign_refuses_naive_signing_time() -> None:
    with pytest.raises(SignatureError, match="UTC offset"):
        sign(invoice_xml(), identity(pki().supplier), signing_time=dt.datetime(2025, 1, 1))


# ---------------------------------------------------------------------------------------------------------------
# Tampering


def _tamper(signed: bytes, old: bytes, new: bytes) -> bytes:
    assert old in signed
    return signed.replace(old, new, 1)


def test_changed_amount_is_invalid(signed_invoice: bytes) -> None:
    forged = _tamper(signed_invoice, b'"COP">119000.00</cbc:PayableAmount>', b'"COP">1.00</cbc:PayableAmount>')
    report = verify(forged, trust=full_store())
    assert report.verdict == Verdict.INVALID
    assert report.outcome("reference.document") == Outcome.FAIL
    assert report.signed_element is None


def test_changed_signing_time_breaks_signed_properties(signed_invoice: bytes) -> None:
    forged = _tamper(signed_invoice, b"2025-03-03T09:00:00.000-05:00", b"2025-03-01T09:00:00.000-05:00")
    report = verify(forged, trust=full_store())
    assert report.verdict == Verdict.INVALID
    assert report.outcome("reference.signed_properties") == Outcome.FAIL


def test_changed_signature_value_is_invalid(signed_invoice: bytes) -> None:
    root = etree.fromstring(signed_invoice)
    value = root.find(f".//{{{DS}}}SignatureValue")
    raw = bytearray(base64.b64decode(value.text))
    raw[10] ^= 0xFF
    value.text = base64.b64encode(bytes(raw)).decode()
    report = verify(root, trust=full_store())
    assert report.outcome("signature") == Outcome.FAIL
    assert report.verdict == Verdict.INVALID


def test_swapped_certificate_is_invalid(signed_invoice: bytes) -> None:
    root = etree.fromstring(signed_invoice)
    cert = root.find(f".//{{{DS}}}X509Certificate")
    cert.text = base64.b64encode(pki().rogue.cert.public_bytes(encoding=_der())).decode()
    report = verify(root, trust=full_store())
    assert report.outcome("signature") == Outcome.FAIL


def _der():
    from cryptography.hazmat.primitives.serialization import Encoding

    return Encoding.DER


def test_wrapped_invoice_at_root_is_invalid(signed_invoice: bytes) -> None:
    # Signature wrapping: the genuine signed Invoice moved under an extension, a forged Invoice at the root that
    # carries a copy of the genuine signature. URI="" covers the forged root, so its digest cannot match.
    genuine = etree.fromstring(signed_invoice)
    forged = copy.deepcopy(genuine)
    forged.find(f"{{{CAC}}}LegalMonetaryTotal/{{{CBC}}}PayableAmount").text = "1.00"
    holder = etree.SubElement(forged.find(f"{{{EXT}}}UBLExtensions"), f"{{{EXT}}}UBLExtension")
    etree.SubElement(holder, f"{{{EXT}}}ExtensionContent").append(genuine)
    report = verify(etree.fromstring(etree.tostring(forged)), trust=full_store())
    assert report.verdict == Verdict.INVALID
    assert report.outcome("reference.document") == Outcome.FAIL


def test_forged_invoice_hidden_in_the_signature_never_reaches_the_fields(signed_invoice: bytes) -> None:
    # The ds:Signature itself is outside the enveloped digest: a forged Invoice stuffed into a ds:Object does not
    # break the signature, but the signed element handed to the parser cannot contain it.
    root = etree.fromstring(signed_invoice)
    forged = etree.fromstring(invoice_xml(number="FORJADA1", unit_price="1.00"))
    obj = etree.SubElement(root.find(f".//{{{DS}}}Signature"), f"{{{DS}}}Object")
    obj.append(forged)
    report = verify(etree.fromstring(etree.tostring(root)), trust=full_store())
    assert report.core_valid
    signed = report.signed_element
    assert signed is not None
    assert signed.findall(f".//{{{INV}}}Invoice") == []
    assert b"FORJADA1" not in etree.tostring(signed)
    doc = parse_document(signed)
    assert isinstance(doc, CommercialDocument)
    assert doc.number == "SETP990000001"
    assert str(doc.monetary_total.payable) == "119000.00"


def test_a_verified_tree_of_its_own_becomes_the_signed_element_without_its_signature(signed_invoice: bytes) -> None:
    # verify() owns the tree it parsed: the signed element is that tree with the signature detached (no second parse),
    # and a forged Invoice inside the ds:Signature leaves with the signature.
    root = etree.fromstring(signed_invoice)
    obj = etree.SubElement(root.find(f".//{{{DS}}}Signature"), f"{{{DS}}}Object")
    obj.append(etree.fromstring(invoice_xml(number="FORJADA1", unit_price="1.00")))
    owned = parse_xml(etree.tostring(root))
    report = verify(owned, trust=full_store(), owned=True)
    assert report.core_valid
    signed = report.signed_element
    assert signed is owned
    assert signed.findall(f".//{{{DS}}}Signature") == []
    assert b"FORJADA1" not in etree.tostring(signed)
    assert etree.tostring(signed, method="c14n") == etree.tostring(parse_xml(report.signed_c14n), method="c14n")
    doc = parse_document(signed)
    assert doc.number == "SETP990000001"
    assert str(doc.monetary_total.payable) == "119000.00"


def test_a_comment_splitting_a_signed_text_is_read_as_the_digest_read_it(signed_invoice: bytes) -> None:
    # A comment is outside the digest of URI="", so one slipped into the invoice number keeps the signature valid.
    # The fields must still be read from what was digested (the whole number), never from the tree's first text node.
    commented = signed_invoice.replace(b">SETP990000001<", b">SETP99<!-- x -->0000001<", 1)
    assert commented != signed_invoice
    owned = parse_xml(commented)
    report = verify(owned, trust=full_store(), owned=True)
    assert report.core_valid
    signed = report.signed_element
    assert signed is not owned  # re-read from the digested bytes
    assert parse_document(signed).number == "SETP990000001"
    assert owned.findtext(f"{{{CBC}}}ID") == "SETP99"  # what reading the tree would have given


def test_a_callers_tree_is_never_changed_by_the_signed_element(signed_invoice: bytes) -> None:
    root = parse_xml(signed_invoice)
    report = verify(root, trust=full_store())
    assert report.signed_element is not root
    assert root.findall(f".//{{{DS}}}Signature") != []


def test_duplicate_id_is_refused(signed_invoice: bytes) -> None:
    root = etree.fromstring(signed_invoice)
    props = root.find(f".//{{{XADES}}}SignedProperties")
    decoy = copy.deepcopy(props)
    root.find(f"{{{EXT}}}UBLExtensions/{{{EXT}}}UBLExtension/{{{EXT}}}ExtensionContent").append(decoy)
    report = verify(root, trust=full_store())
    assert report.verdict == Verdict.INVALID
    assert "ambigua" in report.check("reference.signed_properties").detail


# ---------------------------------------------------------------------------------------------------------------
# Certificates, trust, NIT, algorithms


def test_expired_certificate_at_signing_time_fails() -> None:
    out = sign(invoice_xml(), identity(pki().expired), signing_time=SIGNED_AT)
    report = verify(out, trust=full_store())
    assert report.outcome("certificate.validity") == Outcome.FAIL
    assert report.verdict == Verdict.INVALID


def test_certificate_judged_at_signing_time_not_now() -> None:
    out = sign(invoice_xml(), identity(pki().expired), signing_time=dt.datetime(2020, 6, 1, tzinfo=dt.UTC))
    report = verify(out, trust=full_store(), now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert report.outcome("certificate.validity") == Outcome.PASS
    assert report.outcome("certificate.chain") == Outcome.PASS


def test_trust_store_with_and_without_the_test_ca(signed_invoice: bytes) -> None:
    p = pki()
    with_ca = verify(signed_invoice, trust=TrustStore(anchors=(p.root.cert, p.intermediate.cert)))
    assert with_ca.outcome("certificate.chain") == Outcome.PASS
    without = verify(signed_invoice, trust=TrustStore(anchors=(p.dian_root.cert,)))
    assert without.outcome("certificate.chain") == Outcome.WARN
    assert "Buzón Test Issuing CA" in without.check("certificate.chain").detail
    assert without.verdict == Verdict.VALID_WITH_WARNINGS
    empty = verify(signed_invoice, trust=TrustStore())
    assert empty.outcome("certificate.chain") == Outcome.WARN
    assert "vacío" in empty.check("certificate.chain").detail


def test_rogue_ca_is_a_warning_naming_the_issuer() -> None:
    out = sign(invoice_xml(), identity(pki().rogue), signing_time=SIGNED_AT)
    report = verify(out, trust=full_store(), expected_nits=[SUPPLIER_NIT])
    assert report.outcome("certificate.chain") == Outcome.WARN
    assert "Rogue Root CA" in report.check("certificate.chain").detail


def test_signer_nit_against_expected(signed_invoice: bytes) -> None:
    report = verify(signed_invoice, trust=full_store(), expected_nits=["800197268"])
    assert report.outcome("signer.nit") == Outcome.FAIL
    assert "800197268" in report.check("signer.nit").detail
    assert verify(signed_invoice, trust=full_store()).check("signer.nit") is None


def _resign_sha1(signed: bytes, issued: Issued) -> etree._Element:
    """Rewrite a signature with SHA-1 digests and rsa-sha1 (signxml refuses to produce SHA-1)."""
    root = etree.fromstring(signed)
    sig = root.find(f".//{{{DS}}}Signature")
    info = sig.find(f"{{{DS}}}SignedInfo")
    info.find(f"{{{DS}}}SignatureMethod").set("Algorithm", "http://www.w3.org/2000/09/xmldsig#rsa-sha1")
    refs = info.findall(f"{{{DS}}}Reference")
    for ref in refs[1:] + refs[:1]:  # SignedProperties/KeyInfo unaffected by order; the document excludes sig
        ref.find(f"{{{DS}}}DigestMethod").set("Algorithm", "http://www.w3.org/2000/09/xmldsig#sha1")
        uri = ref.get("URI")
        if uri == "":
            parent = sig.getparent()
            parent.remove(sig)
            data = etree.tostring(root.getroottree(), method="c14n")
            parent.append(sig)
        else:
            data = etree.tostring(root.xpath("//*[@Id=$i]", i=uri[1:])[0], method="c14n")
        ref.find(f"{{{DS}}}DigestValue").text = base64.b64encode(hashlib.sha1(data).digest()).decode()  # noqa: S324
    value = issued.key.sign(etree.tostring(info, method="c14n"), padding.PKCS1v15(), hashes.SHA1())  # noqa: S303
    sig.find(f"{{{DS}}}SignatureValue").text = base64.b64encode(value).decode()
    return root


def test_sha1_is_a_warning(signed_invoice: bytes) -> None:
    root = _resign_sha1(signed_invoice, pki().supplier)
    report = verify(root, trust=full_store())
    assert non_pass(report) == {"algorithms": "warn"}, report.to_dict()
    assert "rsa-sha1" in report.check("algorithms").detail


def test_policy_checks(signed_invoice: bytes) -> None:
    p = pki()
    mirror = _tamper(
        signed_invoice, POLICY_URL.encode(), b"https://s3.amazonaws.com/efactura.resources/politicadefirmav2.pdf"
    )
    # The tampered policy breaks the SignedProperties digest; re-sign is not needed to grade the policy itself.
    report = verify(mirror, trust=TrustStore(anchors=(p.root.cert, p.intermediate.cert)))
    assert report.outcome("policy.identifier") == Outcome.PASS
    assert "réplica" in report.check("policy.identifier").detail
    other = verify(_tamper(signed_invoice, POLICY_HASH.encode(), b"AAAA"), trust=full_store())
    assert other.outcome("policy.hash") == Outcome.FAIL


# ---------------------------------------------------------------------------------------------------------------
# Hostile and broken input: a verdict, never an exception


def _with_signature(signature_xml: str) -> bytes:
    return invoice_xml().replace(b'<ds:Signature Id="placeholder"/>', signature_xml.encode())


@pytest.mark.parametrize(
    "signature",
    [
        "<ds:Signature/>",
        "<ds:Signature><ds:SignedInfo/></ds:Signature>",
        '<ds:Signature><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="urn:x"/>'
        '<ds:SignatureMethod Algorithm="urn:y"/></ds:SignedInfo><ds:SignatureValue>!!</ds:SignatureValue>'
        "</ds:Signature>",
        '<ds:Signature><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-'
        '20010315"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>'
        '<ds:Reference URI="http://evil.example/x"><ds:DigestMethod Algorithm="urn:z"/><ds:DigestValue>x'
        "</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue>AAAA</ds:SignatureValue>"
        "<ds:KeyInfo><ds:X509Data><ds:X509Certificate>bm90IGEgY2VydA==</ds:X509Certificate></ds:X509Data>"
        "</ds:KeyInfo></ds:Signature>",
        '<ds:Signature><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-'
        '20010315"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>'
        '<ds:Reference URI=""><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116">'
        "<ds:XPath>1</ds:XPath></ds:Transform></ds:Transforms><ds:DigestMethod "
        'Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>%%%</ds:DigestValue></ds:Reference>'
        "</ds:SignedInfo><ds:SignatureValue/></ds:Signature>",
    ],
)
def test_broken_signatures_get_an_invalid_verdict(signature: str) -> None:
    report = verify(_with_signature(signature), trust=full_store(), expected_nits=[SUPPLIER_NIT])
    assert report.verdict == Verdict.INVALID
    assert report.reasons()
    json.dumps(report.to_dict())


def test_unsigned_document_is_invalid() -> None:
    report = verify(invoice_xml().replace(b'<ds:Signature Id="placeholder"/>', b""), trust=full_store())
    assert report.verdict == Verdict.INVALID
    assert "no tiene firma" in report.check("signature").detail


def test_two_signatures_are_refused(signed_invoice: bytes) -> None:
    root = etree.fromstring(signed_invoice)
    sig = root.find(f".//{{{DS}}}Signature")
    sig.getparent().append(copy.deepcopy(sig))
    report = verify(root, trust=full_store())
    assert report.verdict == Verdict.INVALID
    assert "2 firmas" in report.check("signature").detail


def test_unreadable_bytes_raise_parse_error() -> None:
    with pytest.raises(ParseError):
        verify(b"<Invoice><", trust=full_store())


# ---------------------------------------------------------------------------------------------------------------
# SigningTime parsing (dian-facts 2.2)


@pytest.mark.parametrize(
    ("text", "utc", "ambiguous"),
    [
        ("2025-04-04T08:21:43.001486-05:00", dt.datetime(2025, 4, 4, 13, 21, 43, 1486, tzinfo=dt.UTC), False),
        ("2025-08-08T16:19:36+00:00", dt.datetime(2025, 8, 8, 16, 19, 36, tzinfo=dt.UTC), True),
        ("2025-07-24T06:00:48.545Z", dt.datetime(2025, 7, 24, 6, 0, 48, 545000, tzinfo=dt.UTC), True),
        ("2025-07-24T06:00:48.1234567-05:00", dt.datetime(2025, 7, 24, 11, 0, 48, 123456, tzinfo=dt.UTC), False),
        ("2025-07-24T06:00:48", dt.datetime(2025, 7, 24, 11, 0, 48, tzinfo=dt.UTC), False),
    ],
)
def test_parse_signing_time(text: str, utc: dt.datetime, ambiguous: bool) -> None:
    assert parse_signing_time(text) == (utc, ambiguous)


@pytest.mark.parametrize("text", ["", "ayer", "2025-13-01T00:00:00Z", "2025-01-01 10:00:00"])
def test_parse_signing_time_rejects_garbage(text: str) -> None:
    assert parse_signing_time(text) == (None, False)


def test_future_signing_time_is_a_warning(signed_invoice: bytes) -> None:
    report = verify(signed_invoice, trust=full_store(), now=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    assert report.outcome("signing_time") == Outcome.WARN


def test_verify_leaves_the_callers_element_untouched(signed_invoice: bytes) -> None:
    # A redundant xmlns:ds on the Signature (as a real Camerfirma invoice has) is what lxml would "reconcile" away if
    # the verifier detached and re-inserted the signature in the caller's tree.
    data = signed_invoice.replace(
        b"<ds:Signature Id=", b'<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id='
    )
    root = etree.fromstring(data)
    before = etree.tostring(root)
    report = verify(root, trust=full_store())
    assert report.verdict == Verdict.VALID
    assert etree.tostring(root) == before
    assert verify(data, trust=full_store()).verdict == Verdict.VALID


def test_signxml_verifiers_accept_our_signature(signed_invoice: bytes) -> None:
    # dian-facts 11: the shape must satisfy signxml's XMLVerifier (3 references) and XAdESVerifier (DIAN policy).
    from signxml import DigestAlgorithm, SignatureConfiguration, XMLVerifier
    from signxml.xades import XAdESSignaturePolicy, XAdESVerifier

    from dian.xades import POLICY_DESCRIPTION

    cert = pki().supplier.cert
    config = SignatureConfiguration(expect_references=3)
    results = XMLVerifier().verify(signed_invoice, x509_cert=cert, expect_config=config)
    assert results[0].signed_xml.findtext(f"{{{CBC}}}ID") == "SETP990000001"
    policy = XAdESSignaturePolicy(
        Identifier=POLICY_URL,
        Description=POLICY_DESCRIPTION,
        DigestMethod=DigestAlgorithm.SHA256,
        DigestValue=POLICY_HASH,
    )
    XAdESVerifier().verify(signed_invoice, x509_cert=cert, expect_signature_policy=policy, expect_config=config)


def test_an_embedded_element_is_verified_as_its_own_document(signed_invoice: bytes) -> None:
    holder = etree.Element("holder")
    holder.append(etree.fromstring(signed_invoice))
    assert verify(holder[0], trust=full_store()).verdict == Verdict.VALID
    assert verify(holder, trust=full_store()).verdict == Verdict.INVALID  # no signature of its own


def test_missing_signing_time_fails_and_the_clock_is_not_read(signed_invoice: bytes) -> None:
    root = etree.fromstring(signed_invoice)
    signing_time = root.find(f".//{{{XADES}}}SigningTime")
    signing_time.getparent().remove(signing_time)
    report = verify(root, trust=full_store())
    assert report.outcome("signing_time") == Outcome.FAIL
    assert report.outcome("certificate.validity") == Outcome.WARN
    assert report.verdict == Verdict.INVALID
    late = verify(root, trust=full_store(), now=dt.datetime(2046, 1, 1, tzinfo=dt.UTC))
    assert late.outcome("certificate.validity") == Outcome.FAIL


def test_properties_behind_an_empty_first_object_are_read_from_the_one_that_holds_them(signed_invoice: bytes) -> None:
    """Paths such as ds:Object/xades:QualifyingProperties and xades:SigningCertificate/xades:Cert are looked up as
    XPath does, the first match in document order across every parent: an empty ds:Object or SigningCertificate
    put before the real ones (outside everything the signature digests) changes no check of the report."""
    root = parse_xml(signed_invoice)
    sig = root.find(f".//{{{DS}}}Signature")
    sig.find(f"{{{DS}}}Object").addprevious(etree.Element(f"{{{DS}}}Object"))
    expected = verify(signed_invoice, trust=full_store(), expected_nits=[SUPPLIER_NIT])
    report = verify(root, trust=full_store(), expected_nits=[SUPPLIER_NIT])
    assert report.checks == expected.checks and report.verdict == Verdict.VALID
    assert report.signing_time == expected.signing_time and report.claimed_role == expected.claimed_role == "supplier"
    # Only the first ds:Object is looked into by a lookup that stops at the first parent: the properties go missing.
    first_only = copy.deepcopy(root)
    first_only_sig = first_only.find(f".//{{{DS}}}Signature")
    assert first_only_sig.find(f"{{{DS}}}Object/{{{XADES}}}QualifyingProperties") is not None
    assert first_only_sig.find(f"{{{DS}}}Object").find(f"{{{XADES}}}QualifyingProperties") is None
