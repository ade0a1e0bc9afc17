"""Hostile and sloppy input (issue 14): bounded work with a reason, strict dates and digits, liberal containers.

* dian.xmlsafe.parse_xml refuses, from the bytes and before libxml2 builds a tree, markup, namespace declarations
  and attribute values far beyond any DIAN document; libxml2's own depth and text limits come back named.
* dian.xades.verify refuses, before any digest, a signature with more references, certificates or transforms than
  DIAN's shape ever has (2,000 references took 66 s; each one detached the signature again).
* dian.ubl.parse reads dates, times, numbers and amounts as ASCII only, turns every bad date or time (an offset of
  ±24:00 included) into a ParseError naming the field and value, and reads an AttachedDocument container liberally.
"""

from __future__ import annotations

import copy
import datetime as dt
import time

import pytest
from lxml import etree

from dian.errors import ParseError
from dian.reception import verify_received
from dian.trust import SigningIdentity, TrustStore
from dian.ubl import AttachedDocument, CommercialDocument, parse_document
from dian.ubl.parse import parse_time
from dian.xades import (
    MAX_CERTIFICATES,
    MAX_REFERENCES,
    MAX_TRANSFORMS,
    Outcome,
    Verdict,
    certificates,
    parse_signing_time,
    references,
    sign,
    verify,
)
from dian.xmlsafe import (
    DEFAULT_MAX_ATTRIBUTE_CHARS,
    DEFAULT_MAX_MARKUP,
    DEFAULT_MAX_NAMESPACE_WORK,
    LIBXML_MAX_DEPTH,
    LIBXML_MAX_TEXT_BYTES,
    parse_xml,
)
from tests.conftest import SAMPLES, sample_bytes
from tests.pki import application_response_xml, attached_document_xml, invoice_xml, pki

DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"
SIGNED_AT = dt.datetime(2025, 3, 3, 14, 0, 0, tzinfo=dt.UTC)
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def _quick(seconds: float = 0.5):
    """A context that fails the test when its body takes longer than ``seconds``."""

    class _Timer:
        def __enter__(self):
            self.started = time.perf_counter()
            return self

        def __exit__(self, *exc):
            elapsed = time.perf_counter() - self.started
            assert exc[0] is not None or elapsed < seconds, f"took {elapsed:.2f} s, more than {seconds} s"

    return _Timer()


def _refused(data: bytes, **limits: int) -> ParseError:
    with _quick(), pytest.raises(ParseError) as caught:
        parse_xml(data, **limits)
    return caught.value


# --------------------------------------------------------------------------------------------------------------
# parse_xml: markup, namespaces, attributes, depth, text


def test_twenty_megabytes_of_empty_elements_are_refused_by_counting_markup() -> None:
    data = b"<r>" + b"<a/>" * 5_200_000 + b"</r>"  # ~20 MB, 5.2 million elements: 740 MB of tree before
    error = _refused(data)
    assert f"el límite es {DEFAULT_MAX_MARKUP}" in str(error)
    assert "5200002 etiquetas" in str(error)


def test_markup_limit_is_exact_and_overridable() -> None:
    body = b"<r>" + b"<a/>" * 48 + b"</r>"  # 50 "<"
    assert parse_xml(body, max_markup=50) is not None
    error = _refused(b"<r>" + b"<a/>" * 49 + b"</r>", max_markup=50)
    assert "51 etiquetas" in str(error) and "el límite es 50" in str(error)


def test_markup_inside_cdata_and_comments_is_text_not_nodes() -> None:
    # A container's CDATA payload is a whole document: its "<" are not the container's nodes.
    payload = b"<x>" * 200
    data = b"<r><d><![CDATA[" + payload + b"]]></d><!-- " + payload + b" --></r>"
    assert parse_xml(data, max_markup=20).find("d").text == payload.decode()


def test_a_cdata_opener_inside_a_comment_hides_nothing() -> None:
    data = b"<r><!-- <![CDATA[ -->" + b"<a/>" * 100 + b"<!-- ]]> --></r>"
    error = _refused(data, max_markup=50)
    assert "el límite es 50" in str(error)


def test_namespace_declarations_times_elements_are_bounded() -> None:
    # 300 declarations on the root and 10,000 elements: libxml2's inclusive C14N of this took 3.8 s.
    declarations = b" ".join(b'xmlns:p%d="urn:x:%d"' % (i, i) for i in range(300))
    data = b"<r " + declarations + b">" + b"<a/>" * 10_000 + b"</r>"
    error = _refused(data)
    assert "300 declaraciones" in str(error) and f"el límite es {DEFAULT_MAX_NAMESPACE_WORK}" in str(error)


def test_namespace_budget_ignores_declarations_in_a_cdata_payload() -> None:
    inner = b"".join(b'<x xmlns:p%d="urn:x:%d"/>' % (i, i) for i in range(100))
    data = b"<r><d><![CDATA[" + inner + b"]]></d>" + b"<a/>" * 100 + b"</r>"
    assert parse_xml(data, max_namespace_work=10_000) is not None
    assert "declaraciones" in str(_refused(b"<r>" + inner + b"<a/>" * 100 + b"</r>", max_namespace_work=10_000))


@pytest.mark.parametrize("quote", [b'"', b"'"])
def test_attribute_longer_than_the_limit_is_refused_with_its_line(quote: bytes) -> None:
    long = b"<r>\n<a b=" + quote + b"x" * (DEFAULT_MAX_ATTRIBUTE_CHARS + 1) + quote + b"/></r>"
    error = _refused(long)
    assert f"más de {DEFAULT_MAX_ATTRIBUTE_CHARS} caracteres" in str(error)
    assert error.where == "línea 2"
    exact = b"<r>\n<a b=" + quote + b"x" * DEFAULT_MAX_ATTRIBUTE_CHARS + quote + b"/></r>"
    assert len(parse_xml(exact).find("a").get("b")) == DEFAULT_MAX_ATTRIBUTE_CHARS


def test_attribute_limit_is_overridable() -> None:
    assert parse_xml(b'<r a="12345"/>', max_attribute_chars=5) is not None
    assert "más de 4 caracteres" in str(_refused(b'<r a="12345"/>', max_attribute_chars=4))


def test_long_text_is_not_an_attribute() -> None:
    # A long text node (a CDATA payload, a base64 PDF) is not limited by the attribute rule.
    text = b"y" * (DEFAULT_MAX_ATTRIBUTE_CHARS * 2)
    assert len(parse_xml(b'<r a="1">' + text + b"</r>").text) == len(text)


def test_deep_nesting_names_both_depth_limits() -> None:
    error = _refused(b"<a>" * 300 + b"</a>" * 300)
    assert f"anida más de {LIBXML_MAX_DEPTH} niveles (el límite es 64)" in str(error)
    error = _refused(b"<a>" * 5_000_000)  # 15 MB of openings: refused by the markup count, never parsed
    assert "el límite es" in str(error)


def test_text_node_beyond_libxml2s_limit_is_named() -> None:
    error = _refused(b"<r>" + b"x" * (LIBXML_MAX_TEXT_BYTES + 10) + b"</r>")
    assert f"{LIBXML_MAX_TEXT_BYTES} bytes" in str(error)


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="the real samples are not available")
def test_every_real_sample_and_payload_is_far_inside_the_limits() -> None:
    for path in sorted(SAMPLES.glob("*.xml")):
        data = sample_bytes(path.name)
        payloads = [data]
        parsed = parse_document(data)
        if isinstance(parsed, AttachedDocument):
            payloads += [parsed.document_xml] + ([parsed.dian_response_xml] if parsed.dian_response_xml else [])
        for payload in payloads:
            # A tenth of each budget still reads them.
            parse_xml(
                payload,
                max_markup=DEFAULT_MAX_MARKUP // 10,
                max_namespace_work=DEFAULT_MAX_NAMESPACE_WORK // 10,
                max_attribute_chars=DEFAULT_MAX_ATTRIBUTE_CHARS // 10,
            )


def test_a_two_megabyte_invoice_is_far_inside_the_limits() -> None:
    data = invoice_xml(lines=5000)
    assert len(data) > 2_000_000
    parse_xml(data, max_markup=DEFAULT_MAX_MARKUP // 10, max_namespace_work=DEFAULT_MAX_NAMESPACE_WORK // 10)


# --------------------------------------------------------------------------------------------------------------
# verify: references, certificates, transforms


def _identity(issued) -> SigningIdentity:
    return SigningIdentity(issued.key, issued.cert, issued.chain)


@pytest.fixture(scope="module")
def signed() -> bytes:
    return sign(invoice_xml(lines=20), _identity(pki().supplier), signing_time=SIGNED_AT)


def _edited(data: bytes, edit) -> bytes:
    root = etree.fromstring(data)
    edit(root.find(f".//{{{DS}}}Signature"))
    return etree.tostring(root)


def _with_references(data: bytes, count: int, index: int = 0) -> bytes:
    """The signature with ``count`` references: copies of its reference number ``index`` (0: the enveloped one)."""

    def edit(signature: etree._Element) -> None:
        signed_info = signature.find(f"{{{DS}}}SignedInfo")
        references = signed_info.findall(f"{{{DS}}}Reference")
        for _ in range(count - len(references)):
            signed_info.append(copy.deepcopy(references[index]))

    return _edited(data, edit)


@pytest.mark.parametrize("count", [1000, 2000])
def test_thousands_of_references_are_refused_before_any_digest(signed: bytes, count: int) -> None:
    data = _with_references(signed, count)
    with _quick():
        report = verify(data, trust=TrustStore())
    assert report.verdict == Verdict.INVALID
    detail = report.check("signature").detail
    assert f"{count} referencias" in detail and f"como máximo {MAX_REFERENCES}" in detail
    assert report.check("reference.document") is None  # nothing was digested


def test_reference_limit_is_exact(signed: bytes) -> None:
    at_limit = verify(_with_references(signed, MAX_REFERENCES, index=1), trust=TrustStore())
    assert at_limit.outcome("signature") == Outcome.FAIL  # SignedInfo changed: the value no longer matches
    assert "referencias" not in at_limit.check("signature").detail
    assert at_limit.outcome("reference.key_info") == Outcome.PASS  # the copies were digested
    over = verify(_with_references(signed, MAX_REFERENCES + 1, index=1), trust=TrustStore())
    assert f"{MAX_REFERENCES + 1} referencias" in over.check("signature").detail


def test_reference_limit_is_a_parameter(signed: bytes) -> None:
    report = verify(signed, trust=TrustStore(), max_references=2)
    assert "3 referencias" in report.check("signature").detail
    assert verify(signed, trust=TrustStore(), max_references=3).core_valid


def test_repeated_references_are_canonicalized_once(signed: bytes, monkeypatch) -> None:
    calls: list[object] = []
    real = references._Canon.c14n

    def counting(self, node, method, prefixes=None):
        calls.append(node)
        return real(self, node, method, prefixes)

    monkeypatch.setattr(references._Canon, "c14n", counting)
    verify(_with_references(signed, MAX_REFERENCES, index=0), trust=TrustStore())
    # SignedInfo, the document (once for 14 identical enveloped references), KeyInfo, SignedProperties.
    assert len(calls) == 4


def _with_certificates(data: bytes, count: int) -> bytes:
    def edit(signature: etree._Element) -> None:
        x509_data = signature.find(f"{{{DS}}}KeyInfo/{{{DS}}}X509Data")
        first = x509_data[0]
        for _ in range(count - 1):
            x509_data.append(copy.deepcopy(first))

    return _edited(data, edit)


def test_too_many_certificates_in_key_info_are_refused_before_reading_them(signed: bytes, monkeypatch) -> None:
    loaded: list[str] = []
    real = certificates.load_base64
    monkeypatch.setattr(certificates, "load_base64", lambda text: loaded.append(text) or real(text))
    certificates._certificate.cache_clear()  # each distinct certificate text is read once, then remembered
    report = verify(_with_certificates(signed, MAX_CERTIFICATES + 1), trust=TrustStore())
    assert f"{MAX_CERTIFICATES + 1} certificados" in report.check("signature").detail
    assert loaded == []
    report = verify(_with_certificates(signed, MAX_CERTIFICATES), trust=TrustStore())
    assert "certificados" not in report.check("signature").detail
    distinct = {"".join(text.split()) for text in loaded}
    assert loaded and len(loaded) == len(set(loaded)) <= MAX_CERTIFICATES and distinct


def test_certificate_limit_is_a_parameter(signed: bytes) -> None:
    report = verify(_with_certificates(signed, 2), trust=TrustStore(), max_certificates=1)
    assert "2 certificados" in report.check("signature").detail


def test_too_many_transforms_are_refused(signed: bytes) -> None:
    def edit(signature: etree._Element) -> None:
        transforms = signature.find(f"{{{DS}}}SignedInfo/{{{DS}}}Reference/{{{DS}}}Transforms")
        for _ in range(MAX_TRANSFORMS):
            transforms.append(copy.deepcopy(transforms[0]))

    report = verify(_edited(signed, edit), trust=TrustStore())
    assert f"{MAX_TRANSFORMS + 1} transformaciones" in report.check("signature").detail


def test_a_signing_certificate_list_longer_than_any_chain_fails(signed: bytes) -> None:
    # Built by the signer itself so that every digest holds: only the list's length is wrong.
    p = pki()
    identity = SigningIdentity(p.supplier.key, p.supplier.cert, (p.intermediate.cert,) * MAX_CERTIFICATES)
    data = sign(invoice_xml(), identity, signing_time=SIGNED_AT, include_chain=True)
    report = verify(data, trust=TrustStore())
    assert report.core_valid
    assert report.outcome("signing_certificate") == Outcome.FAIL
    assert f"lista {MAX_CERTIFICATES + 1} certificados" in report.check("signing_certificate").detail


@pytest.mark.parametrize(
    ("signing_time", "readable"),
    [
        ("2025-03-03T09:00:00-05:00", True),
        ("2025-03-03T09:00:00+24:00", False),
        ("2025-03-03T09:00:00-24:00", False),
        ("2025-03-03T09:00:00+05:60", False),
        ("2025-03-03T09:00:00+14:00", True),
        ("2025-03-03T09:00:00+14:30", False),
        ("2025-03-03T09:00:00".translate(ARABIC_INDIC), False),
        ("9999-12-31T23:59:59-05:00", False),
        ("0001-01-01T00:00:00+05:00", False),
    ],
)
def test_signing_time_is_ascii_and_in_range(signing_time: str, readable: bool) -> None:
    parsed, _ = parse_signing_time(signing_time)
    assert (parsed is not None) is readable


def test_a_signing_time_offset_of_24_hours_is_a_failed_check_not_a_crash(signed: bytes) -> None:
    data = signed.replace(b"2025-03-03T09:00:00.000-05:00", b"2025-03-03T09:00:00.000+24:00")
    assert data != signed
    report = verify(data, trust=TrustStore())
    assert report.outcome("signing_time") == Outcome.FAIL
    assert "ilegible" in report.check("signing_time").detail


# --------------------------------------------------------------------------------------------------------------
# dian.ubl.parse: dates, times, digits


@pytest.mark.parametrize("offset", ["+24:00", "-24:00", "+2400", "+15:00", "-05:75"])
def test_issue_time_offsets_out_of_range_are_parse_errors(offset: str) -> None:
    data = invoice_xml().replace(b"09:00:00-05:00", f"09:00:00{offset}".encode())
    with pytest.raises(ParseError) as caught:
        parse_document(data)
    assert caught.value.where == "Invoice/cbc:IssueTime"
    assert offset in str(caught.value)
    with pytest.raises(ParseError):
        parse_time(f"09:00:00{offset}")


DATE = "Invoice/cbc:IssueDate"
PAYABLE = "Invoice/cac:LegalMonetaryTotal/cbc:PayableAmount"


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        (b"09:00:00-05:00", "09:00:00-05:00".translate(ARABIC_INDIC).encode(), "Invoice/cbc:IssueTime"),
        (
            b"<cbc:IssueDate>2025-03-03",
            ("<cbc:IssueDate>" + "2025-03-03".translate(ARABIC_INDIC)).encode(),
            "Invoice/cbc:IssueDate",
        ),
        (b"<cbc:IssueDate>2025-03-03", "<cbc:IssueDate>２０２５-03-03".encode(), DATE),
        (b"<cbc:IssueDate>2025-03-03", b"<cbc:IssueDate>20250303", DATE),
        (b"<cbc:IssueDate>2025-03-03", b"<cbc:IssueDate>9999-03-03", DATE),
        (b"<cbc:DueDate>2025-04-02", b"<cbc:DueDate>12/07/2022", "Invoice/cbc:DueDate"),
        (
            b">119000.00</cbc:PayableAmount>",
            ">١١٩٠٠٠.٠٠</cbc:PayableAmount>".encode(),
            "Invoice/cac:LegalMonetaryTotal/cbc:PayableAmount",
        ),
        (
            b">119000.00</cbc:PayableAmount>",
            b">119_000.00</cbc:PayableAmount>",
            "Invoice/cac:LegalMonetaryTotal/cbc:PayableAmount",
        ),
    ],
)
def test_dates_times_and_amounts_are_ascii(old: bytes, new: bytes, where: str) -> None:
    data = invoice_xml()
    assert data.count(old) >= 1
    with pytest.raises(ParseError) as caught:
        parse_document(data.replace(old, new, 1))
    assert caught.value.where == where
    assert new.decode().split(">")[-1].split("<")[0] in str(caught.value)


def test_numbering_range_numbers_are_ascii() -> None:
    control = (
        "<sts:InvoiceControl><sts:InvoiceAuthorization>18760000001</sts:InvoiceAuthorization>"
        "<sts:AuthorizationPeriod><cbc:StartDate>2025-01-01</cbc:StartDate><cbc:EndDate>2026-01-01</cbc:EndDate>"
        "</sts:AuthorizationPeriod><sts:AuthorizedInvoices><sts:Prefix>SETP</sts:Prefix>"
        "<sts:From>{first}</sts:From><sts:To>995000000</sts:To></sts:AuthorizedInvoices></sts:InvoiceControl>"
    )
    base = invoice_xml()
    plain = base.replace(b"<sts:DianExtensions>", b"<sts:DianExtensions>" + control.format(first="990000000").encode())
    parsed = parse_document(plain)
    assert isinstance(parsed, CommercialDocument) and parsed.invoice_control.from_number == 990000000
    arabic = control.format(first="990000000".translate(ARABIC_INDIC)).encode()
    with pytest.raises(ParseError) as caught:
        parse_document(base.replace(b"<sts:DianExtensions>", b"<sts:DianExtensions>" + arabic))
    assert caught.value.where.endswith("sts:AuthorizedInvoices/sts:From")


def test_a_number_ending_in_another_scripts_digit_has_no_prefix() -> None:
    # The prefix is what precedes the trailing ASCII digits; a number ending in another script's digit has none.
    assert parse_document(invoice_xml(number="SETP99000000" + "1".translate(ARABIC_INDIC))).prefix == ""
    assert parse_document(invoice_xml(number="SETP990000001")).prefix == "SETP"


# --------------------------------------------------------------------------------------------------------------
# AttachedDocument: the container is read liberally


@pytest.fixture(scope="module")
def container() -> bytes:
    p = pki()
    document = sign(invoice_xml(), _identity(p.supplier), signing_time=SIGNED_AT)
    answer = sign(application_response_xml(), _identity(p.dian), signing_time=SIGNED_AT)
    return attached_document_xml(document, answer)


def _sloppy(data: bytes, *edits: tuple[bytes, bytes]) -> bytes:
    for old, new in edits:
        assert data.count(old) == 1, old  # the container's own field, not one inside a payload
        data = data.replace(old, new)
    return data


_LINE_DATE = b"<cbc:IssueDate>2025-03-03</cbc:IssueDate><cbc:DocumentType>ApplicationResponse"
_OWN_ID = b"<cbc:ID>adSETP990000001</cbc:ID>"
_OWN_TIME = b"<cbc:IssueTime>09:01:00-05:00</cbc:IssueTime>"
_OWN_DATE = _OWN_ID + b"<cbc:IssueDate>2025-03-03</cbc:IssueDate>"

SLOPPY = {
    "line-date-dd/mm/yyyy": [(_LINE_DATE, _LINE_DATE.replace(b"2025-03-03", b"12/07/2022"))],
    "no-id": [(_OWN_ID, b"")],
    "own-date-and-time": [
        (_OWN_DATE, _OWN_ID + b"<cbc:IssueDate>03/03/2025</cbc:IssueDate>"),
        (_OWN_TIME, b"<cbc:IssueTime>9:01 a. m.</cbc:IssueTime>"),
    ],
    "no-date-no-time": [(_OWN_DATE, _OWN_ID), (_OWN_TIME, b"")],
    "time-offset-24": [(_OWN_TIME, b"<cbc:IssueTime>09:01:00+24:00</cbc:IssueTime>")],
    "environment": [
        (
            b"<cbc:ProfileExecutionID>2</cbc:ProfileExecutionID><cbc:ID>ad",
            b"<cbc:ProfileExecutionID>Pruebas</cbc:ProfileExecutionID><cbc:ID>ad",
        )
    ],
    "validation-date": [
        (b"<cbc:ValidationDate>2025-03-03</cbc:ValidationDate>", b"<cbc:ValidationDate>3 de marzo</cbc:ValidationDate>")
    ],
}


@pytest.mark.parametrize("case", sorted(SLOPPY))
def test_a_sloppy_container_still_yields_its_document_and_dians_answer(container: bytes, case: str) -> None:
    data = _sloppy(container, *SLOPPY[case])
    parsed = parse_document(data)
    assert isinstance(parsed, AttachedDocument)
    clean = parse_document(container)
    assert parsed.document_xml == clean.document_xml and parsed.exact_bytes
    assert parsed.dian_response_xml == clean.dian_response_xml


def test_sloppy_container_fields_become_none(container: bytes) -> None:
    data = _sloppy(container, *SLOPPY["own-date-and-time"], *SLOPPY["line-date-dd/mm/yyyy"], *SLOPPY["no-id"])
    parsed = parse_document(data)
    assert parsed.id is None and parsed.reference_issue_date is None
    assert parsed.issue_date is None and parsed.issued_at is None and parsed.issue_time == "9:01 a. m."
    assert parsed.reference_id == "SETP990000001"  # what is readable is still read
    clean = parse_document(container)
    assert clean.id == "adSETP990000001" and clean.reference_issue_date == dt.date(2025, 3, 3)
    assert clean.issued_at is not None


def test_a_container_without_parties_is_read(container: bytes) -> None:
    start, end = container.index(b"<cac:SenderParty>"), container.index(b"</cac:ReceiverParty>")
    assert container.index(b"<![CDATA[") > end  # the container's parties, before any payload
    parsed = parse_document(container[:start] + container[end + len(b"</cac:ReceiverParty>") :])
    assert parsed.sender is None and parsed.receiver is None and parsed.document_xml


def test_a_container_without_an_embedded_document_is_unreadable(container: bytes) -> None:
    start = container.index(b"<cac:Attachment>")
    end = container.index(b"</cac:Attachment>") + len(b"</cac:Attachment>")
    with pytest.raises(ParseError) as caught:
        parse_document(container[:start] + container[end:])
    assert caught.value.where == "AttachedDocument/cac:Attachment/cac:ExternalReference/cbc:Description"


@pytest.mark.parametrize("case", ["line-date-dd/mm/yyyy", "no-id", "own-date-and-time", "time-offset-24"])
def test_reception_of_a_sloppy_container_reads_the_signed_invoice(container: bytes, case: str) -> None:
    report = verify_received(_sloppy(container, *SLOPPY[case]), trust=TrustStore())
    assert report.check("container.parse") is None
    assert report.document is not None and report.document.number == "SETP990000001"
    assert report.dian_response is not None
    assert report.verdict != Verdict.INVALID
    assert report.verdict == verify_received(container, trust=TrustStore()).verdict
