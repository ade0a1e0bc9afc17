"""Two prefixes for one namespace URI in scope of a signature (issue 14, point 4).

Real signing software declares ``xmlns:xades141`` and ``xmlns:xadesv141`` (both ``…/01903/v1.4.1#``), one on the root
and one on ``ds:Signature``; every reference is canonicalized by inclusive C14N 1.0, which writes every namespace in
scope. The documents below are built as such software builds them: signed by ``dian.xades.sign``, then given the
extra declarations, and every digest and the SignatureValue recomputed the way xmlsec1 computes them (lxml's in-place
C14N of each referenced element in its tree; the document without its signature). xmlsec1 agrees
(tests/integration/test_xmlsec_crosscheck.py).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree

from dian.reception import verify_received
from dian.trust import SigningIdentity, TrustStore
from dian.ubl import parse_document
from dian.xades import Outcome, Verdict, sign, verify
from dian.xmlsafe import parse_xml
from tests.pki import Issued, application_response_xml, attached_document_xml, invoice_xml, pki

DS = "http://www.w3.org/2000/09/xmldsig#"
XADES141 = "http://uri.etsi.org/01903/v1.4.1#"
SIGNED_AT = dt.datetime(2025, 3, 3, 14, 0, 0, tzinfo=dt.UTC)
_SECOND = f' xmlns:xadesv141="{XADES141}"'.encode()
_FIRST = f' xmlns:xades141="{XADES141}"'.encode()

# Where the declarations go. tests/pki.py roots declare xades141 already.
LAYOUTS = {
    # The failing shape: the root declares one prefix, ds:Signature the other.
    "root+signature": lambda d: d.replace(b"<ds:Signature ", b"<ds:Signature" + _SECOND + b" ", 1),
    "both-on-root": lambda d: d.replace(_FIRST, _FIRST + _SECOND, 1),
    "both-on-signature": lambda d: d.replace(_FIRST, b"", 1).replace(
        b"<ds:Signature ", b"<ds:Signature" + _FIRST + _SECOND + b" ", 1
    ),
    "root+ancestor": lambda d: d.replace(
        b"<ext:ExtensionContent><ds:Signature", b"<ext:ExtensionContent" + _SECOND + b"><ds:Signature", 1
    ),
    # The signature's own elements under a second prefix for the XMLDSig URI (the root declares ds).
    "dsig-prefix": lambda d: _rename_signature_prefix(d),
}


def _rename_signature_prefix(data: bytes) -> bytes:
    start = data.index(b"<ds:Signature ")
    end = data.index(b"</ds:Signature>") + len(b"</ds:Signature>")
    span = re.sub(rb"<(/?)ds:", rb"<\1dsig:", data[start:end])
    span = span.replace(b"<dsig:Signature ", f'<dsig:Signature xmlns:dsig="{DS}" '.encode(), 1)
    return data[:start] + span + data[end:]


def _digest(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def resign(data: bytes, issued: Issued) -> bytes:
    """Recompute every DigestValue and the SignatureValue as xmlsec1 does: C14N of each node where it stands."""
    root = etree.fromstring(data)
    signature = root.find(f".//{{{DS}}}Signature")
    signed_info = signature.find(f"{{{DS}}}SignedInfo")
    by_id = {el.get("Id"): el for el in root.iter() if isinstance(el.tag, str) and el.get("Id")}
    for ref in signed_info.findall(f"{{{DS}}}Reference"):
        uri = ref.get("URI")
        if uri == "":
            # The enveloped-signature transform: the document without the signature element, on a copy of it.
            clone = etree.fromstring(etree.tostring(root))
            clone_sig = clone.find(f".//{{{DS}}}Signature")
            clone_sig.getparent().remove(clone_sig)
            c14n = etree.tostring(clone.getroottree(), method="c14n")
        else:
            c14n = etree.tostring(by_id[uri[1:]], method="c14n")
        ref.find(f"{{{DS}}}DigestValue").text = _digest(c14n)
    value = issued.key.sign(etree.tostring(signed_info, method="c14n"), padding.PKCS1v15(), hashes.SHA256())
    signature.find(f"{{{DS}}}SignatureValue").text = base64.b64encode(value).decode("ascii")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(root, encoding="UTF-8")


def two_prefix_document(layout: str, unsigned: bytes | None = None, issued: Issued | None = None) -> bytes:
    """A document signed as the two-prefix signing software signs it (see LAYOUTS)."""
    issued = issued or pki().supplier
    identity = SigningIdentity(issued.key, issued.cert, issued.chain)
    signed = sign(unsigned or invoice_xml(lines=3), identity, signing_time=SIGNED_AT)
    edited = LAYOUTS[layout](signed)
    assert edited != signed
    return resign(edited, issued)


def _in_place_c14n_of_signed_properties(data: bytes) -> bytes:
    root = etree.fromstring(data)
    return etree.tostring(root.find(".//{http://uri.etsi.org/01903/v1.3.2#}SignedProperties"), method="c14n")


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_two_prefixes_for_one_uri_verify(layout: str) -> None:
    data = two_prefix_document(layout)
    report = verify(data, trust=TrustStore())
    failed = {c.name: c.detail for c in report.checks if c.outcome == Outcome.FAIL}
    assert failed == {}
    assert report.outcome("reference.signed_properties") == Outcome.PASS
    assert report.outcome("reference.key_info") == Outcome.PASS
    assert report.core_valid


def test_both_declarations_are_in_the_signed_properties_c14n() -> None:
    # The shape under test really puts both prefixes in the canonical form the digest covers.
    c14n = _in_place_c14n_of_signed_properties(two_prefix_document("root+signature"))
    assert _FIRST.strip() in c14n and _SECOND.strip() in c14n


@pytest.mark.parametrize("layout", ["root+signature", "dsig-prefix"])
def test_verify_leaves_the_signature_exactly_as_parsed(layout: str) -> None:
    # Caller's tree (owned=False) and a tree verify() owns: the canonical signature is the same before and after.
    data = two_prefix_document(layout)
    for owned in (False, True):
        root = parse_xml(data)
        signature = root.find(f".//{{{DS}}}Signature")
        before = etree.tostring(signature, method="c14n")
        assert verify(root, trust=TrustStore(), owned=owned).core_valid
        if not owned:
            assert etree.tostring(signature, method="c14n") == before


def test_altered_signed_properties_still_fail() -> None:
    # The fix must not make the digest lenient: a changed ClaimedRole is still caught.
    data = two_prefix_document("root+signature").replace(b">supplier<", b">third party<", 1)
    report = verify(data, trust=TrustStore())
    assert report.outcome("reference.signed_properties") == Outcome.FAIL
    assert report.verdict == Verdict.INVALID


def test_signed_element_reads_the_two_prefix_document() -> None:
    report = verify(two_prefix_document("root+signature"), trust=TrustStore(), owned=True)
    doc = parse_document(report.signed_element)
    assert doc.number == "SETP990000001"
    assert report.signed_element.find(f".//{{{DS}}}Signature") is None


def test_reception_accepts_a_two_prefix_invoice_and_answer_in_a_container() -> None:
    p = pki()
    document = two_prefix_document("root+signature")
    answer = two_prefix_document("root+signature", application_response_xml(), p.dian)
    report = verify_received(attached_document_xml(document, answer), trust=TrustStore())
    assert report.reasons() == []
    assert report.document is not None and report.document.number == "SETP990000001"
