"""Builders: documents parse back to what was put in, hashes equal hand-computed values, bad input is refused."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import date
from decimal import Decimal

import pytest
from lxml import etree

from dian.codes import (
    DIAN_DV,
    DIAN_NAME,
    DIAN_NIT,
    ClaimReason,
    DocumentType,
    Environment,
    EventCode,
    PaymentMeans,
    ValidationCode,
)
from dian.errors import BuildError
from dian.ubl import (
    Address,
    ApplicationResponse,
    AttachedDocument,
    BillingReference,
    CommercialDocument,
    DiscrepancyResponse,
    ItemCode,
    Line,
    LineResponse,
    MonetaryTotal,
    Party,
    Person,
    TaxSubtotal,
    TaxTotal,
    parse_document,
)
from dian.ubl import namespaces as ns
from dian.ubl.build import (
    AttachedDraft,
    DocumentDraft,
    EventDraft,
    NumberingRange,
    Software,
    ValidationDraft,
    build_attached_document,
    build_credit_note,
    build_debit_note,
    build_event,
    build_invoice,
    build_validation_response,
)
from dian.xmlsafe import parse_xml

SOFTWARE = Software(
    provider_nit="900373076", provider_dv="5", software_id="56f2ae4e-9812-4fad-9255-08fcfcd5ccb0", pin="12345"
)
NUMBERING = NumberingRange(
    authorization="18760000001",
    start_date=date(2019, 1, 19),
    end_date=date(2030, 1, 19),
    prefix="SETP",
    from_number=990000000,
    to_number=995000000,
    technical_key="fc8eac422eba16e22ffd8c6f94b3f40a6e38162c",
)
SELLER = Party(
    nit="900373076",
    dv="5",
    registration_name="Proveedor de Prueba S.A.S.",
    trade_name="Proveedor",
    tax_level_codes=("O-13", "O-15"),
    address=Address(
        city="Bogotá, D.C.",
        city_code="11001",
        department="Bogotá",
        department_code="11",
        country="CO",
        line="Cra 7 # 1-1",
    ),
    email="facturas@proveedor.test",
    phone="6015550000",
    organization_type="1",
)
BUYER = Party(
    nit="800199436",
    dv="3",
    registration_name="Comprador Ejemplo S.A.",
    tax_level_codes=("R-99-PN",),
    tax_scheme_id="ZZ",
    tax_scheme_name="No aplica",
    organization_type="1",
)
IVA = TaxTotal(
    amount=Decimal("190000.00"),
    subtotals=(
        TaxSubtotal(
            scheme_id="01", scheme_name="IVA", amount=Decimal("190000.00"), taxable_amount=Decimal("1000000.00"),
            percent=Decimal("19.00"),
        ),
    ),
)  # fmt: skip
RETEFUENTE = TaxTotal(
    amount=Decimal("25000.00"),
    subtotals=(
        TaxSubtotal(
            scheme_id="06", scheme_name="ReteRenta", amount=Decimal("25000.00"), taxable_amount=Decimal("1000000.00"),
            percent=Decimal("2.50"),
        ),
    ),
)  # fmt: skip
LINE = Line(
    id="1",
    quantity=Decimal("2.00"),
    unit_code="94",
    description="Servicio de prueba",
    line_extension_amount=Decimal("1000000.00"),
    unit_price=Decimal("500000.00"),
    base_quantity=Decimal("1.00"),
    taxes=(IVA,),
    item_codes=(ItemCode(kind="sellers", value="SKU-1"), ItemCode(kind="standard", value="SKU-1", scheme_id="999")),
)
TOTAL = MonetaryTotal(
    line_extension=Decimal("1000000.00"),
    tax_exclusive=Decimal("1000000.00"),
    tax_inclusive=Decimal("1190000.00"),
    allowance_total=Decimal("0.00"),
    charge_total=Decimal("0.00"),
    prepaid=Decimal("0.00"),
    payable=Decimal("1190000.00"),
)
INVOICE = DocumentDraft(
    number="SETP990000001",
    issue_date=date(2025, 3, 10),
    issue_time="10:53:10-05:00",
    environment=Environment.TESTING,
    supplier=SELLER,
    customer=BUYER,
    lines=(LINE,),
    monetary_total=TOTAL,
    tax_totals=(IVA,),
    withholdings=(RETEFUENTE,),
    due_date=date(2025, 4, 9),
    payment_means=PaymentMeans.CREDIT,
    payment_method_code="42",
    notes=("Factura de prueba",),
    order_reference="OC-77",
)
INVOICE_CUFE = "SETP9900000012025-03-1010:53:10-05:001000000.0001190000.00040.00030.00"
INVOICE_CUFE += "1190000.00900373076800199436fc8eac422eba16e22ffd8c6f94b3f40a6e38162c2"


def _sha384(text: str) -> str:
    return hashlib.sha384(text.encode()).hexdigest()


def _parse(xml: bytes):
    return parse_document(xml)


# --- invoices and notes ------------------------------------------------------------------------------------------


def test_invoice_round_trip() -> None:
    xml = build_invoice(INVOICE, software=SOFTWARE, numbering=NUMBERING)
    assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8" standalone="no"?><Invoice ')
    assert b"\n" not in xml.split(b"<sts:QRCode>")[0]  # not pretty-printed
    doc = _parse(xml)
    assert isinstance(doc, CommercialDocument)
    assert doc.document_type is DocumentType.INVOICE
    assert (doc.number, doc.prefix, doc.environment) == ("SETP990000001", "SETP", Environment.TESTING)
    assert (doc.issue_date, doc.issue_time, doc.offset_assumed) == (INVOICE.issue_date, "10:53:10-05:00", False)
    assert doc.issued_at.isoformat() == "2025-03-10T10:53:10-05:00"
    assert (doc.customization_id, doc.profile_id) == ("10", "DIAN 2.1: Factura Electrónica de Venta")
    assert doc.supplier == SELLER
    assert doc.customer == BUYER
    assert doc.lines == (LINE,)
    assert doc.tax_totals == (IVA,)
    assert doc.withholdings == (RETEFUENTE,)
    assert doc.monetary_total == TOTAL
    assert (doc.due_date, doc.payment_means, doc.payment_method_code) == (date(2025, 4, 9), PaymentMeans.CREDIT, "42")
    assert (doc.currency, doc.order_reference, doc.notes) == ("COP", "OC-77", ("Factura de prueba",))
    assert doc.invoice_control is not None
    assert (doc.invoice_control.authorization, doc.invoice_control.prefix) == ("18760000001", "SETP")
    assert (doc.invoice_control.from_number, doc.invoice_control.to_number) == (990000000, 995000000)
    assert (doc.invoice_control.start_date, doc.invoice_control.end_date) == (date(2019, 1, 19), date(2030, 1, 19))
    assert (doc.software_provider_nit, doc.software_id) == ("900373076", SOFTWARE.software_id)
    # SoftwareSecurityCode = SHA-384(SoftwareID + PIN + number), dian-facts.md 1.5.
    assert doc.software_security_code == _sha384(SOFTWARE.software_id + "12345" + "SETP990000001")
    assert doc.uuid_scheme == "CUFE-SHA384"
    assert doc.qr_code is not None and doc.qr_code.endswith(
        "https://catalogo-vpfe-hab.dian.gov.co/document/searchqr?documentkey=" + doc.uuid
    )


def test_invoice_cufe_equals_the_hand_computed_value() -> None:
    doc = _parse(build_invoice(INVOICE, software=SOFTWARE, numbering=NUMBERING))
    assert doc.uuid == _sha384(INVOICE_CUFE)


def test_contingency_invoice_03_carries_a_cude() -> None:
    draft = dataclasses.replace(INVOICE, document_type=DocumentType.CONTINGENCY_INVOICE)
    doc = _parse(build_invoice(draft, software=SOFTWARE, numbering=NUMBERING))
    assert doc.document_type is DocumentType.CONTINGENCY_INVOICE
    assert doc.uuid_scheme == "CUDE-SHA384"
    assert doc.uuid == _sha384(INVOICE_CUFE.replace(NUMBERING.technical_key, "12345"))


NOTE = dataclasses.replace(
    INVOICE,
    number="NC1",
    withholdings=(),
    due_date=None,
    payment_means=PaymentMeans.CASH,
    order_reference=None,
    billing_references=(
        BillingReference(
            number="SETP990000001", uuid="ab" * 48, uuid_scheme="CUFE-SHA384", issue_date=date(2025, 3, 10)
        ),
    ),
    discrepancy_response=DiscrepancyResponse(reference_id="SETP990000001", code="2", description="Anulación"),
)
NOTE_CUDE = "NC12025-03-1010:53:10-05:001000000.0001190000.00040.00030.00"
NOTE_CUDE += "1190000.00900373076800199436123452"


def test_credit_note_round_trip_and_cude() -> None:
    doc = _parse(build_credit_note(NOTE, software=SOFTWARE))
    assert isinstance(doc, CommercialDocument)
    assert doc.document_type is DocumentType.CREDIT_NOTE
    assert (doc.customization_id, doc.invoice_control) == ("20", None)
    assert doc.uuid_scheme == "CUDE-SHA384" and doc.uuid == _sha384(NOTE_CUDE)
    assert doc.billing_references == NOTE.billing_references
    assert doc.discrepancy_response == NOTE.discrepancy_response
    assert (doc.lines, doc.tax_totals, doc.monetary_total) == ((LINE,), (IVA,), TOTAL)
    assert (doc.supplier, doc.customer, doc.prefix) == (SELLER, BUYER, "NC")


def test_debit_note_uses_requested_monetary_total() -> None:
    draft = dataclasses.replace(NOTE, number="ND1", discrepancy_response=DiscrepancyResponse(None, "1", "Intereses"))
    xml = build_debit_note(draft, software=SOFTWARE)
    root = parse_xml(xml)
    assert root.find(ns.clark("cac:RequestedMonetaryTotal")) is not None
    assert root.find(ns.clark("cac:LegalMonetaryTotal")) is None
    assert root.find(ns.clark("cac:DebitNoteLine/cbc:DebitedQuantity")) is not None
    doc = _parse(xml)
    assert doc.document_type is DocumentType.DEBIT_NOTE and doc.customization_id == "30"
    assert doc.monetary_total == TOTAL
    assert doc.uuid == _sha384(NOTE_CUDE.replace("NC1", "ND1", 1))


@pytest.mark.parametrize(
    "builder",
    [
        lambda: build_invoice(INVOICE, software=SOFTWARE, numbering=NUMBERING),
        lambda: build_credit_note(NOTE, software=SOFTWARE),
        lambda: build_event(EVENT, software=SOFTWARE),
        lambda: build_validation_response(VALIDATION),
    ],
    ids=["invoice", "credit-note", "event", "dian-answer"],
)
def test_extensions_hold_dian_extensions_then_one_placeholder(builder) -> None:
    xml = builder()
    root = parse_xml(xml)
    contents = root.findall(ns.clark("ext:UBLExtensions/ext:UBLExtension/ext:ExtensionContent"))
    assert [etree.QName(content[0]).localname for content in contents] == ["DianExtensions", "Signature"]
    assert contents[1][0].get("Id") == "placeholder" and len(contents[1][0]) == 0
    assert xml.count(b"<ds:Signature") == 1
    for prefix in ("ext", "cbc", "cac", "ds", "xades", "xades141", "sts"):
        assert root.nsmap[prefix] == ns.NSMAP[prefix]
    provider = contents[0][0].find(f"{{{ns.STS}}}SoftwareProvider/{{{ns.STS}}}ProviderID")
    dv = DIAN_DV if provider.text == DIAN_NIT else SOFTWARE.provider_dv
    assert (provider.get("schemeID"), provider.get("schemeName"), provider.get("schemeAgencyID")) == (dv, "31", "195")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"issue_time": "10:53:10"}, "issue_time"),
        ({"number": "FV990000001"}, "number"),
        ({"number": "SETP1"}, "number"),
        ({"due_date": None}, "due_date"),
        ({"lines": ()}, "lines"),
        ({"document_type": DocumentType.CREDIT_NOTE}, "document_type"),
        ({"supplier": dataclasses.replace(SELLER, nit="900.373.076")}, "supplier.nit"),
        ({"monetary_total": dataclasses.replace(TOTAL, payable=Decimal("1190000.005"))}, "monetary_total.payable"),
        ({"issue_date": date(2031, 1, 1)}, "issue_date"),
    ],
)
def test_invoice_refuses_inconsistent_input(change: dict, field: str) -> None:
    with pytest.raises(BuildError, match=f"^{field}"):
        build_invoice(dataclasses.replace(INVOICE, **change), software=SOFTWARE, numbering=NUMBERING)


def test_notes_refuse_missing_concept_and_withholdings() -> None:
    with pytest.raises(BuildError, match=r"^discrepancy_response"):
        build_credit_note(dataclasses.replace(NOTE, discrepancy_response=None), software=SOFTWARE)
    with pytest.raises(BuildError, match=r"^withholdings"):
        build_credit_note(dataclasses.replace(NOTE, withholdings=(RETEFUENTE,)), software=SOFTWARE)


# --- events ------------------------------------------------------------------------------------------------------

RECEIVER_PERSON = Person(
    id="1020304050", first_name="Ana", family_name="Gómez", id_type="13", job_title="Almacenista", department="Compras"
)
CUFE = "ab" * 48
EVENT = EventDraft(
    code=EventCode.ACUSE_RECIBO,
    number="AR0001",
    issue_date=date(2025, 3, 11),
    issue_time="09:00:00-05:00",
    environment=Environment.TESTING,
    sender=dataclasses.replace(BUYER, tax_scheme_id="01", tax_scheme_name="IVA", organization_type=None),
    receiver=Party(nit="900373076", dv="5", registration_name="Proveedor de Prueba S.A.S."),
    invoice_number="SETP990000001",
    invoice_cufe=CUFE,
    person=RECEIVER_PERSON,
)


def test_event_030_round_trip_and_cude() -> None:
    doc = _parse(build_event(EVENT, software=SOFTWARE))
    assert isinstance(doc, ApplicationResponse)
    assert doc.is_event and not doc.is_validation and doc.event_code is EventCode.ACUSE_RECIBO
    assert (doc.id, doc.customization_id, doc.environment) == ("AR0001", "1", Environment.TESTING)
    assert doc.profile_id == "DIAN 2.1: ApplicationResponse de la Factura Electrónica de Venta"
    assert doc.sender == EVENT.sender and doc.receiver == EVENT.receiver
    assert doc.issuer_person == RECEIVER_PERSON
    assert doc.responses[0].code == "030" and doc.responses[0].description == EventCode.ACUSE_RECIBO.label
    assert doc.document_reference is not None
    assert (doc.document_reference.id, doc.document_reference.uuid) == ("SETP990000001", CUFE)
    assert (doc.document_reference.uuid_scheme, doc.document_reference.type_code) == ("CUFE-SHA384", "01")
    assert doc.qr_code == "https://catalogo-vpfe-hab.dian.gov.co/document/searchqr?documentkey=" + CUFE
    # CUDE = SHA-384(Num + Fec + Hor + NitFE + DocAdq + code + invoice ID + type + PIN), dian-facts.md 1.4.
    expected = "AR00012025-03-1109:00:00-05:00800199436900373076030SETP9900000010112345"
    assert doc.uuid == _sha384(expected) and doc.uuid_scheme == "CUDE-SHA384"
    assert doc.software_security_code == _sha384(SOFTWARE.software_id + "12345" + "AR0001")


def _local_names(element: etree._Element) -> list[str]:
    return [etree.QName(child).localname for child in element if isinstance(child.tag, str)]


def test_event_element_order_matches_dian_facts_2_5() -> None:
    root = parse_xml(build_event(dataclasses.replace(EVENT, notes=("Nota",)), software=SOFTWARE))
    assert _local_names(root) == [
        "UBLExtensions", "UBLVersionID", "CustomizationID", "ProfileID", "ProfileExecutionID", "ID", "UUID",
        "IssueDate", "IssueTime", "Note", "SenderParty", "ReceiverParty", "DocumentResponse",
    ]  # fmt: skip
    dian = root.find(ns.clark("ext:UBLExtensions/ext:UBLExtension/ext:ExtensionContent"))[0]
    assert _local_names(dian) == [
        "InvoiceSource", "SoftwareProvider", "SoftwareSecurityCode", "AuthorizationProvider", "QRCode",
    ]  # fmt: skip
    block = root.find(ns.clark("cac:DocumentResponse"))
    assert _local_names(block) == ["Response", "DocumentReference", "IssuerParty"]
    assert _local_names(block.find(ns.clark("cac:DocumentReference"))) == ["ID", "UUID", "DocumentTypeCode"]
    person = block.find(ns.clark("cac:IssuerParty/cac:Person"))
    assert _local_names(person) == ["ID", "FirstName", "FamilyName", "JobTitle", "OrganizationDepartment"]
    assert _local_names(root.find(ns.clark("cac:SenderParty/cac:PartyTaxScheme"))) == [
        "RegistrationName", "CompanyID", "TaxLevelCode", "TaxScheme",
    ]  # fmt: skip
    authorization = dian.find(f"{{{ns.STS}}}AuthorizationProvider/{{{ns.STS}}}AuthorizationProviderID")
    assert (authorization.text, authorization.get("schemeID"), authorization.get("schemeName")) == (DIAN_NIT, "4", "31")


def test_event_031_carries_the_claim_reason() -> None:
    draft = dataclasses.replace(
        EVENT, code=EventCode.RECLAMO, person=None, claim_reason=ClaimReason.NOT_DELIVERED_TOTALLY, notes=("Faltan",)
    )
    xml = build_event(draft, software=SOFTWARE)
    assert b'listID="02" name="Mercanc\xc3\xada no entregada totalmente">031</cbc:ResponseCode>' in xml
    doc = _parse(xml)
    assert doc.claim_reason is ClaimReason.NOT_DELIVERED_TOTALLY and doc.issuer_person is None
    assert doc.notes == ("Faltan",)


def test_event_034_goes_to_dian_with_the_sworn_note() -> None:
    dian = Party(nit=DIAN_NIT, dv=DIAN_DV, registration_name=DIAN_NAME)
    draft = dataclasses.replace(
        EVENT, code=EventCode.ACEPTACION_TACITA, person=None, sender=SELLER, receiver=dian, notes=("Manifiesto…",)
    )
    doc = _parse(build_event(draft, software=SOFTWARE))
    assert doc.receiver.nit == DIAN_NIT and doc.response_code == "034" and doc.notes == ("Manifiesto…",)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"code": EventCode.RECLAMO, "person": None}, "^claim_reason: event 031"),
        ({"claim_reason": ClaimReason.INCONSISTENCIES}, "^claim_reason: only event 031"),
        ({"person": None}, "^person: event 030"),
        ({"code": EventCode.RECIBO_BIEN, "person": None}, "^person: event 032"),
        ({"code": EventCode.ACEPTACION_EXPRESA}, "^person: only events 030 and 032"),
        ({"code": EventCode.ACEPTACION_TACITA, "person": None, "notes": ("x",)}, "^receiver: event 034 goes to DIAN"),
        (
            {"code": EventCode.ACEPTACION_TACITA, "person": None, "receiver": Party(nit=DIAN_NIT, dv="4",
             registration_name=DIAN_NAME)},
            "^notes: event 034",
        ),
        ({"code": EventCode.INSCRIPCION_TITULO}, "^code: only events 030-034"),
        ({"issue_time": "09:00:00"}, "^issue_time"),
        ({"sender": dataclasses.replace(BUYER, dv=None)}, "^sender.dv"),
        ({"invoice_cufe": ""}, "^invoice_number/invoice_cufe"),
    ],
)  # fmt: skip
def test_event_refuses_inconsistent_input(change: dict, message: str) -> None:
    with pytest.raises(BuildError, match=message):
        build_event(dataclasses.replace(EVENT, **change), software=SOFTWARE)


# --- DIAN's validation answer and the AttachedDocument -----------------------------------------------------------

VALIDATION = ValidationDraft(
    number="91234567",
    issue_date=date(2025, 3, 10),
    issue_time="10:53:20-05:00",
    environment=Environment.TESTING,
    receiver=dataclasses.replace(SELLER, address=None, email=None, phone=None, trade_name=None, organization_type=None),
    document_number="SETP990000001",
    document_uuid=CUFE,
    line_responses=(
        LineResponse(line_id="1", code="0000", description="0"),
        LineResponse(
            line_id="2", code="RUT01", description="La validación del estado del RUT próximamente estará disponible."
        ),
    ),
)  # fmt: skip


def test_validation_response_round_trip() -> None:
    doc = _parse(build_validation_response(VALIDATION))
    assert isinstance(doc, ApplicationResponse)
    assert doc.is_validation and doc.response_code == "02" and doc.event_code is None
    assert doc.responses[0].description == "Documento validado por la DIAN"
    assert doc.sender.nit == DIAN_NIT and doc.sender.dv == DIAN_DV and doc.sender.registration_name == DIAN_NAME
    assert doc.receiver == VALIDATION.receiver
    assert doc.document_reference is not None
    assert (doc.document_reference.id, doc.document_reference.uuid) == ("SETP990000001", CUFE)
    assert doc.line_responses == VALIDATION.line_responses
    assert (doc.software_id, doc.software_security_code, doc.qr_code) == ("...", "...", None)
    assert (doc.customization_id, doc.profile_id) == ("1", "DIAN 2.1")
    rejected = _parse(build_validation_response(dataclasses.replace(VALIDATION, code=ValidationCode.REJECTED)))
    assert rejected.response_code == "04" and rejected.responses[0].description == "Documento rechazado por la DIAN"


def test_attached_document_round_trip_keeps_payload_bytes() -> None:
    invoice = build_invoice(INVOICE, software=SOFTWARE, numbering=NUMBERING)
    # CRLF inside the answer must survive byte for byte (one real DIAN answer uses CRLF, dian-facts.md 3.1).
    answer = build_validation_response(VALIDATION).replace(b"><cac:SenderParty>", b">\r\n<cac:SenderParty>")
    draft = AttachedDraft(
        id="AD-SETP990000001",
        issue_date=date(2025, 3, 10),
        issue_time="10:54:00-05:00",
        environment=Environment.TESTING,
        sender=VALIDATION.receiver,
        receiver=dataclasses.replace(BUYER, organization_type=None),
        parent_document_id="SETP990000001",
        document_xml=invoice,
        dian_response_xml=answer,
        reference_uuid=CUFE,
        reference_issue_date=date(2025, 3, 10),
        validation_date=date(2025, 3, 10),
        validation_time="10:53:20-05:00",
    )
    xml = build_attached_document(draft)
    doc = _parse(xml)
    assert isinstance(doc, AttachedDocument)
    assert doc.exact_bytes and doc.document_xml == invoice and doc.dian_response_xml == answer
    assert (doc.id, doc.parent_document_id, doc.reference_id) == ("AD-SETP990000001", "SETP990000001", "SETP990000001")
    assert (doc.reference_uuid, doc.reference_uuid_scheme, doc.reference_issue_date) == (
        CUFE,
        "CUFE-SHA384",
        date(2025, 3, 10),
    )
    assert (doc.validation_result_code, doc.validation_date, doc.validation_time) == (
        "02",
        date(2025, 3, 10),
        "10:53:20-05:00",
    )
    assert doc.is_validated and doc.validator_id == DIAN_NAME
    assert doc.sender == draft.sender and doc.receiver == draft.receiver
    assert (doc.customization_id, doc.document_type_text) == (
        "Documentos adjuntos",
        "Contenedor de Factura Electrónica",
    )
    assert b'<ds:Signature Id="placeholder"/>' in xml
    assert _parse(doc.document_xml).uuid == _sha384(INVOICE_CUFE)
    unsigned = build_attached_document(dataclasses.replace(draft, signed=False))
    assert b"UBLExtensions" not in unsigned.split(b"<![CDATA[")[0]


@pytest.mark.parametrize(
    ("payload", "message"),
    [(b"<a>]]></a>", "']]>'"), (b"\xff\xfe", "not UTF-8"), (b"  <a/>", "surrounding whitespace"), (b"", "empty")],
)
def test_attached_document_refuses_payloads_cdata_cannot_hold(payload: bytes, message: str) -> None:
    draft = AttachedDraft(
        id="x", issue_date=date(2025, 1, 1), issue_time="10:00:00-05:00", environment=Environment.TESTING,
        sender=BUYER, receiver=SELLER, parent_document_id="x", document_xml=payload, dian_response_xml=b"<b/>",
        reference_uuid=CUFE, reference_issue_date=date(2025, 1, 1), validation_date=date(2025, 1, 1),
        validation_time="10:00:00-05:00",
    )  # fmt: skip
    with pytest.raises(BuildError, match=f"^document_xml: .*{message}"):
        build_attached_document(draft)


def test_attached_document_for_an_event_mailed_to_the_supplier() -> None:
    event = build_event(EVENT, software=SOFTWARE)
    cude = _parse(event).uuid
    answer = build_validation_response(
        dataclasses.replace(VALIDATION, receiver=EVENT.sender, document_number="AR0001", document_uuid=cude,
                            document_uuid_scheme="CUDE-SHA384")
    )  # fmt: skip
    draft = AttachedDraft(
        id="AD-AR0001", issue_date=date(2025, 3, 11), issue_time="09:01:00-05:00", environment=Environment.TESTING,
        sender=EVENT.sender, receiver=EVENT.receiver, parent_document_id="AR0001", document_xml=event,
        dian_response_xml=answer, reference_uuid=cude, reference_uuid_scheme="CUDE-SHA384",
        reference_issue_date=date(2025, 3, 11), validation_date=date(2025, 3, 11), validation_time="09:00:30-05:00",
        document_type_text="Contenedor de ApplicationResponse",
    )  # fmt: skip
    doc = _parse(build_attached_document(draft))
    assert isinstance(doc, AttachedDocument) and doc.document_xml == event and doc.dian_response_xml == answer
    assert (doc.reference_uuid, doc.reference_uuid_scheme) == (cude, "CUDE-SHA384")
    inner = _parse(doc.document_xml)
    assert isinstance(inner, ApplicationResponse) and inner.response_code == "030"
    dian = _parse(doc.dian_response_xml)
    assert dian.document_reference is not None and dian.document_reference.uuid_scheme == "CUDE-SHA384"


def test_built_documents_sign_and_verify_with_the_signer() -> None:
    # The placeholder and the root's prefixes are what dian/xades/sign.py expects (dian-facts.md 11).
    import datetime as dt

    from dian.trust import SigningIdentity, TrustStore
    from dian.xades import Outcome, sign, verify
    from tests.pki import pki

    issued = pki()
    identity = SigningIdentity(issued.supplier.key, issued.supplier.cert, issued.supplier.chain)
    store = TrustStore(anchors=(issued.root.cert, issued.intermediate.cert, issued.dian_root.cert))
    at = dt.datetime(2025, 3, 10, 15, 0, tzinfo=dt.UTC)
    for xml in (build_invoice(INVOICE, software=SOFTWARE, numbering=NUMBERING), build_event(EVENT, software=SOFTWARE)):
        signed = sign(xml, identity, signing_time=at)
        assert b"ns0:" not in signed
        report = verify(signed, trust=store, now=at)
        assert [check.name for check in report.checks if check.outcome is not Outcome.PASS] == []
        assert parse_document(report.signed_element) == parse_document(xml)
