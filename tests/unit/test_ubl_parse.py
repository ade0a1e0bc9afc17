"""The parser is liberal with real-world variation and precise about what is missing (dian-facts.md 3.1)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, time, timedelta, timezone

import pytest
from lxml import etree

from dian.codes import DocumentType, Environment
from dian.errors import ParseError
from dian.ubl import AttachedDocument, CommercialDocument, parse_document
from dian.ubl import namespaces as ns
from dian.ubl.build import AttachedDraft, build_attached_document, build_credit_note, build_invoice
from dian.ubl.parse import parse_time
from dian.xmlsafe import parse_xml
from tests.unit.test_ubl_build import INVOICE, NOTE, NUMBERING, SOFTWARE, VALIDATION

STS_URN = "urn:dian:gov:co:facturaelectronica:Structures-2-1"


@pytest.fixture(scope="module")
def invoice_xml() -> bytes:
    return build_invoice(INVOICE, software=SOFTWARE, numbering=NUMBERING)


def _edit(xml: bytes, edit) -> bytes:
    root = parse_xml(xml)
    edit(root)
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True)


def _remove(path: str):
    def edit(root: etree._Element) -> None:
        for element in root.findall(ns.clark(path)):
            element.getparent().remove(element)

    return edit


def test_root_that_is_not_a_dian_document() -> None:
    with pytest.raises(ParseError, match=r"^no es un documento de la DIAN: su raíz es \{urn:example\}foo$"):
        parse_document(b'<foo xmlns="urn:example"/>')
    with pytest.raises(ParseError, match="su raíz es Invoice"):
        parse_document(b"<Invoice/>")  # right name, no UBL namespace


def test_parse_document_refuses_other_types() -> None:
    with pytest.raises(ParseError, match="se esperaban los bytes de un XML o un elemento lxml, no str"):
        parse_document("<Invoice/>")  # type: ignore[arg-type]


def test_hostile_bytes_are_refused_by_the_hardened_parser() -> None:
    with pytest.raises(ParseError, match="DOCTYPE"):
        parse_document(b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>')


@pytest.mark.parametrize(
    ("path", "where"),
    [
        ("cbc:UUID", "Invoice/cbc:UUID"),
        ("cbc:IssueTime", "Invoice/cbc:IssueTime"),
        ("cbc:ProfileExecutionID", "Invoice/cbc:ProfileExecutionID"),
        ("cac:LegalMonetaryTotal/cbc:PayableAmount", "Invoice/cac:LegalMonetaryTotal/cbc:PayableAmount"),
        ("cac:LegalMonetaryTotal", "Invoice/cac:LegalMonetaryTotal"),
        ("cac:AccountingCustomerParty", "Invoice/cac:AccountingCustomerParty/cac:Party"),
        ("cac:InvoiceLine/cbc:InvoicedQuantity", "Invoice/cac:InvoiceLine[1]/cbc:InvoicedQuantity"),
    ],
)
def test_missing_mandatory_element_names_its_path(invoice_xml: bytes, path: str, where: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_document(_edit(invoice_xml, _remove(path)))
    assert caught.value.where == where
    assert "falta el elemento obligatorio" in str(caught.value)


def test_party_without_any_identification(invoice_xml: bytes) -> None:
    def edit(root: etree._Element) -> None:
        party = root.find(ns.clark("cac:AccountingSupplierParty/cac:Party"))
        for path in ("cac:PartyTaxScheme/cbc:CompanyID", "cac:PartyLegalEntity/cbc:CompanyID"):
            element = party.find(ns.clark(path))
            element.getparent().remove(element)

    with pytest.raises(ParseError) as caught:
        parse_document(_edit(invoice_xml, edit))
    assert caught.value.where == "Invoice/cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme"


def test_nit_falls_back_to_party_legal_entity(invoice_xml: bytes) -> None:
    doc = parse_document(_edit(invoice_xml, _remove("cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme")))
    assert doc.supplier.nit == INVOICE.supplier.nit and doc.supplier.dv == INVOICE.supplier.dv


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("cac:LegalMonetaryTotal/cbc:PayableAmount", "1.190.000,00", "no es un valor numérico válido"),
        ("cbc:IssueDate", "10/03/2025", "no es una fecha"),
        ("cbc:IssueTime", "25:99:00-05:00", "no es una hora válida"),
        ("cbc:ProfileExecutionID", "3", "ambiente desconocido"),
        ("cbc:InvoiceTypeCode", "06", "tipo de documento '06' no admitido"),
        ("cbc:InvoiceTypeCode", "91", "es de una nota, no de una factura"),
    ],
)
def test_bad_values_name_the_element(invoice_xml: bytes, path: str, value: str, message: str) -> None:
    def edit(root: etree._Element) -> None:
        root.find(ns.clark(path)).text = value

    with pytest.raises(ParseError, match=message) as caught:
        parse_document(_edit(invoice_xml, edit))
    assert caught.value.where == f"Invoice/{path}"


def test_sts_namespace_variant_and_extension_position(invoice_xml: bytes) -> None:
    # Real files put the signature 2nd, 3rd, 5th or before custom extensions; apidian writes the urn: sts variant.
    text = invoice_xml.replace(ns.STS.encode(), STS_URN.encode())

    def edit(root: etree._Element) -> None:
        extensions = root.find(ns.clark("ext:UBLExtensions"))
        custom = etree.Element(ns.clark("ext:UBLExtension"))
        etree.SubElement(etree.SubElement(custom, ns.clark("ext:ExtensionContent")), "CustomTagGeneral").text = "x"
        extensions.insert(0, custom)
        extensions.append(extensions[1])  # DianExtensions last

    doc = parse_document(_edit(text, edit))
    assert doc.software_id == SOFTWARE.software_id and doc.software_provider_nit == SOFTWARE.provider_nit
    assert doc.invoice_control is not None and doc.invoice_control.prefix == "SETP"


def test_document_without_dian_extensions(invoice_xml: bytes) -> None:
    doc = parse_document(_edit(invoice_xml, _remove("ext:UBLExtensions")))
    assert (doc.software_id, doc.invoice_control, doc.qr_code) == (None, None, None)
    assert doc.prefix == "SETP"  # derived from the number when no InvoiceControl says otherwise


def test_credit_note_without_type_code_is_91() -> None:
    doc = parse_document(_edit(build_credit_note(NOTE, software=SOFTWARE), _remove("cbc:CreditNoteTypeCode")))
    assert isinstance(doc, CommercialDocument) and doc.document_type is DocumentType.CREDIT_NOTE


def test_invoice_type_code_absent_defaults_to_01(invoice_xml: bytes) -> None:
    assert parse_document(_edit(invoice_xml, _remove("cbc:InvoiceTypeCode"))).document_type is DocumentType.INVOICE


def test_separator_in_a_value_cannot_shift_fields(invoice_xml: bytes) -> None:
    # The parser reads a record of fields with one XPath joined by U+E000; a document containing it falls back to
    # field-by-field reads instead of letting one field spill into the next.
    def edit(root: etree._Element) -> None:
        root.find(ns.clark("cbc:ProfileID")).text = "a\ue000b\ue000c"

    doc = parse_document(_edit(invoice_xml, edit))
    assert doc.profile_id == "a\ue000b\ue000c"
    assert doc.issue_date == INVOICE.issue_date and doc.uuid == parse_document(invoice_xml).uuid


def test_element_and_bytes_give_the_same_document(invoice_xml: bytes) -> None:
    root = parse_xml(invoice_xml)
    assert parse_document(root) == parse_document(invoice_xml) == parse_document(root.getroottree())


def test_fields_come_from_the_element_given(invoice_xml: bytes) -> None:
    # The verifier's element is the truth; bytes passed as source never replace its fields.
    root = parse_xml(invoice_xml)
    root.find(ns.clark("cbc:ID")).text = "SETP990000002"
    assert parse_document(root, source=invoice_xml).number == "SETP990000002"


@pytest.mark.parametrize(
    ("text", "expected", "assumed"),
    [
        ("10:53:10-05:00", time(10, 53, 10, tzinfo=timezone(timedelta(hours=-5))), False),
        ("10:53:10", time(10, 53, 10, tzinfo=timezone(timedelta(hours=-5))), True),
        ("10:53:10Z", time(10, 53, 10, tzinfo=UTC), False),
        ("10:53:10.250-05:00", time(10, 53, 10, 250000, tzinfo=timezone(timedelta(hours=-5))), False),
        ("10:53:10+0000", time(10, 53, 10, tzinfo=timezone(timedelta(0))), False),
        ("10-53-10-05:00", time(10, 53, 10, tzinfo=timezone(timedelta(hours=-5))), False),  # GetStatusEvent style
    ],
)
def test_parse_time_variants(text: str, expected: time, assumed: bool) -> None:
    assert parse_time(text) == (expected, assumed)


def _attached_draft() -> AttachedDraft:
    return AttachedDraft(
        id="AD1",
        issue_date=date(2025, 3, 10),
        issue_time="10:54:00-05:00",
        environment=Environment.TESTING,
        sender=VALIDATION.receiver,
        receiver=INVOICE.customer,
        parent_document_id=INVOICE.number,
        document_xml=b"<a/>",
        dian_response_xml=b"<b/>",
        reference_uuid="ab" * 48,
        reference_issue_date=date(2025, 3, 10),
        validation_date=date(2025, 3, 10),
        validation_time="10:53:20-05:00",
    )


def test_attached_document_with_escaped_payload_is_read_but_not_exact() -> None:
    invoice = build_invoice(INVOICE, software=SOFTWARE, numbering=NUMBERING)
    xml = build_attached_document(dataclasses.replace(_attached_draft(), document_xml=invoice))
    # Re-serialize without CDATA: lxml then escapes the payload as text ("&lt;Invoice ...").
    escaped = etree.tostring(parse_xml(xml), encoding="UTF-8", xml_declaration=True)
    assert b"<![CDATA[" not in escaped
    doc = parse_document(escaped)
    assert isinstance(doc, AttachedDocument)
    assert not doc.exact_bytes
    assert doc.document_xml == invoice  # here the text happens to re-encode to the same bytes
    assert doc.dian_response_xml == b"<b/>"


def test_attached_document_without_payload() -> None:
    xml = build_attached_document(_attached_draft())
    broken = _edit(xml, _remove("cac:Attachment"))
    with pytest.raises(ParseError) as caught:
        parse_document(broken)
    assert caught.value.where == "AttachedDocument/cac:Attachment/cac:ExternalReference/cbc:Description"
