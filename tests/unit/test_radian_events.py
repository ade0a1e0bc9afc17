"""RADIAN events 035-051: every operation of A.2 builds, parses back field for field, signs and verifies (our
verifier and xmlsec1); the CUDEs, the blank-endorsement CUDE included, match vectors computed by hand; bad drafts and
bad documents are refused naming the field (radian-issuing-facts.md A.2-A.10)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from dian.codes import Operation
from dian.errors import BuildError, ParseError
from dian.radian.blocks import Negotiation, Payments, discounted_price
from dian.radian.build import build_radian_event, radian_cude
from dian.radian.literals import PROFILE_ID
from dian.radian.model import RadianEvent, TitleReference
from dian.radian.parse import parse_radian_event
from dian.trust import SigningIdentity, TrustStore
from dian.xades import Verdict, sign, verify
from tests.conftest import missing
from tests.pki import pki
from tests.unit.radian_samples import (
    BUYER,
    FACTOR,
    OPERATIONS,
    SELLER,
    SOFTWARE,
    TOTAL,
    event_reference,
    own_software,
    sample,
    share,
)

OP = Operation
SIGNED_AT = dt.datetime(2025, 4, 1, 15, 0, tzinfo=dt.UTC)
PARSED_ONLY = {"cude", "issued_at", "software_provider_nit", "software_id", "software_security_code", "qr_code"}
PARSED_ONLY |= {"profile_id"}


def test_every_operation_of_the_catalogue_has_a_sample() -> None:
    assert set(OPERATIONS) == set(Operation)
    assert len(Operation) == 35  # A.2: 035, 361-364, 371/372, 038, 039, 401-403, 411/412, ... 511/512


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.value for op in OPERATIONS])
def test_each_operation_round_trips(operation: Operation) -> None:
    event = sample(operation)
    xml = build_radian_event(event, software=own_software(event))
    parsed = parse_radian_event(xml)
    for field in dataclasses.fields(RadianEvent):
        if field.name not in PARSED_ONLY:
            assert getattr(parsed, field.name) == getattr(event, field.name), field.name
    assert parsed.cude == radian_cude(event, SOFTWARE.pin)
    assert parsed.profile_id == PROFILE_ID
    root = etree.fromstring(xml)
    ns = {"cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"}
    assert root.findtext("cbc:CustomizationID", namespaces=ns) == operation.value  # A.2: the variant goes here
    assert root.xpath("string(//cbc:ResponseCode[1])", namespaces=ns) == operation.event.value


def _identity() -> SigningIdentity:
    issued = pki().supplier
    return SigningIdentity(issued.key, issued.cert, issued.chain)


def _store() -> TrustStore:
    p = pki()
    return TrustStore(anchors=(p.root.cert, p.intermediate.cert, p.dian_root.cert))


@pytest.fixture(scope="module")
def signed() -> dict[Operation, bytes]:
    out = {}
    for operation in OPERATIONS:
        event = sample(operation)
        out[operation] = sign(
            build_radian_event(event, software=own_software(event)), _identity(), signing_time=SIGNED_AT
        )
    return out


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.value for op in OPERATIONS])
def test_each_signed_operation_verifies_and_still_parses(signed: dict[Operation, bytes], operation: Operation) -> None:
    report = verify(signed[operation], trust=_store())
    assert report.verdict == Verdict.VALID, report.reasons()
    parsed = parse_radian_event(signed[operation])
    assert parsed.cude == radian_cude(sample(operation), SOFTWARE.pin)
    assert parsed.block == sample(operation).block


def test_the_value_block_is_signed(signed: dict[Operation, bytes]) -> None:
    # The block sits before the signature slot, so changing a value breaks the document digest (peers-wave2.md 1.5).
    tampered = signed[OP.ENDORSEMENT_WITH_RESPONSIBILITY].replace(b"<Value>975.00</Value>", b"<Value>995.00</Value>")
    assert tampered != signed[OP.ENDORSEMENT_WITH_RESPONSIBILITY]
    assert verify(tampered, trust=_store()).verdict == Verdict.INVALID


def test_every_signed_operation_verifies_with_xmlsec1(signed: dict[Operation, bytes], tmp_path: Path) -> None:
    xmlsec1 = shutil.which("xmlsec1")
    if xmlsec1 is None:
        missing("xmlsec1 not installed (scripts/install-test-services)")
    for operation, data in signed.items():
        path = tmp_path / f"{operation.value}.xml"
        path.write_bytes(data)
        result = subprocess.run(
            [xmlsec1, "--verify", "--insecure", "--id-attr:Id", "SignedProperties", "--id-attr:Id", "KeyInfo", path],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, (operation.value, result.stderr)
        assert "SignedInfo References (ok/all): 3/3" in result.stderr


# --- CUDE vectors ------------------------------------------------------------------------------------------------
# Each expected digest was computed outside the code under test, with
#   python3 -c "import hashlib; print(hashlib.sha384(b'<input>').hexdigest())"
# over the concatenation written out beside it (dian-facts.md 1.4; radian-issuing-facts.md A.4 for the blank one).

CUDE_VECTORS = {
    # Num_DE + Fec + Hor + NitFE (sender) + DocAdq (receiver) + ResponseCode + ID + DocumentTypeCode + PIN
    "037 complete": (
        sample(OP.ENDORSEMENT_WITH_RESPONSIBILITY, number="END1"),
        "END12025-04-0110:00:00-05:00900123456800111222037FE1000112345",
        "6bfa6b7bd74c7f616f80927fbcb18b37a5dc77b208bea8ddaf745e58fb0adbe6107f9dd8f370c539c5b6a7edb7d14c27",
    ),
    # Blank: Num_DE + Fec + Hor + DocAdq (receiver) + ResponseCode + listID + ID + DocumentTypeCode + PIN, no sender.
    "037 blank": (
        sample(OP.ENDORSEMENT_WITH_RESPONSIBILITY, number="END2", issue_time="11:30:00-05:00", list_id="2"),
        "END22025-04-0111:30:00-05:008001112220372FE1000112345",
        "7a22a82ea450c777a2c9690fb7149688d3c452a5dd5558af0a57dd20ab891a47763a7322891434c1b8c1c55337a1cd77",
    ),
    "045 total payment by the buyer to DIAN": (
        sample(OP.TOTAL_PAYMENT, number="PAG7", issue_date=dt.date(2025, 6, 2), issue_time="09:15:00-05:00"),
        "PAG72025-06-0209:15:00-05:00900654321800197268045FE1000112345",
        "5241a78a77b44551f48ccf4e77f0b40224178b8dcd4fa3be868b2d0bfd4ff1e8092378d0f5fa11a571332888709130db",
    ),
    # 040 references the cancelled event: its number and DocumentTypeCode 96 enter the CUDE (A.4).
    "040 cancelling the 038 GAR1": (
        sample(
            OP.CANCEL_GUARANTEE_ENDORSEMENT, number="CAN3", issue_date=dt.date(2025, 4, 15), issue_time="08:00:00-05:00"
        ),
        "CAN32025-04-1508:00:00-05:00900123456800111222040GAR19612345",
        "91b228a26ad9361ba76deae74551824980c07aaf3d7caf823fc91d480eb6bf68037bd7198cf5035862c203da2bb16d17",
    ),
}


@pytest.mark.parametrize(("event", "text", "digest"), CUDE_VECTORS.values(), ids=CUDE_VECTORS.keys())
def test_cude_vectors(event: RadianEvent, text: str, digest: str) -> None:
    from dian.cufe import event_cude_input
    from dian.radian.cude import blank_endorsement_cude_input

    common = {
        "number": event.number,
        "issue_date": event.issue_date,
        "issue_time": event.issue_time,
        "response_code": event.code.value,
        "document_number": event.reference.id,
        "document_type_code": event.reference.type_code,
        "software_pin": SOFTWARE.pin,
    }
    if event.blank:
        assert blank_endorsement_cude_input(receiver_nit=event.receiver.nit, list_id="2", **common) == text
    else:
        assert event_cude_input(sender_nit=event.sender.nit, receiver_nit=event.receiver.nit, **common) == text
    assert radian_cude(event, SOFTWARE.pin) == digest
    xml = build_radian_event(event, software=own_software(event))
    assert parse_radian_event(xml).cude == digest


def test_blank_and_complete_endorsements_differ_only_by_the_formula() -> None:
    complete = sample(OP.ENDORSEMENT_WITH_RESPONSIBILITY)
    blank = dataclasses.replace(complete, list_id="2")
    assert blank.blank and not complete.blank
    assert radian_cude(blank, "12345") != radian_cude(complete, "12345")
    # 047 carries listID 2 per TS-annex, but the CUDE exception is confirmed for 037/038/039 only (A.4).
    assert not sample(OP.ASSIGNMENT_ENDORSEMENT, list_id="2").blank


# --- value blocks ----------------------------------------------------------------------------------------------


def test_the_price_follows_the_discount_rate() -> None:
    # AAI07b: PrecioPagarseFEV = ValorTotalEndoso × (100 − TasaDescuento) / 100; 1,234,567.89 at 1.75 % by hand:
    # 1,234,567.89 × 0.9825 = 1,212,962.951925 → 1,212,962.95.
    assert discounted_price(Decimal("1234567.89"), Decimal("1.75")) == Decimal("1212962.95")
    assert Negotiation.for_rate(TOTAL, Decimal("2.5")).price == Decimal("975.00")


def test_the_block_writes_names_in_the_annex_order() -> None:
    xml = build_radian_event(sample(OP.ENDORSEMENT_WITH_RESPONSIBILITY), software=SOFTWARE)
    root = etree.fromstring(xml)
    block = next(root.iter("{*}CustomTagGeneral"))
    pairs = [(etree.QName(element).localname, element.text) for element in block[0]]
    assert pairs == [
        ("Name", "ValorTotalEndoso"),
        ("Value", "1000.00"),
        ("Name", "PrecioPagarseFEV"),
        ("Value", "975.00"),
        ("Name", "TasaDescuento"),
        ("Value", "2.5"),
        ("Name", "MedioPago"),
        ("Value", "47"),
    ]
    assert etree.QName(block).namespace == "urn:oasis:names:specification:ubl:schema:xsd:ApplicationResponse-2"
    # The block comes before the signature placeholder (so it is signed).
    extensions = [etree.QName(child[0][0]).localname for child in root[0]]
    assert extensions == ["DianExtensions", "CustomTagGeneral", "Signature"]


def test_a_block_without_namespace_is_read_too() -> None:
    xml = build_radian_event(sample(OP.PAYMENT_REPORT), software=SOFTWARE)
    bare = xml.replace(b"<CustomTagGeneral>", b'<CustomTagGeneral xmlns="">')
    assert bare != xml
    assert parse_radian_event(bare).block == sample(OP.PAYMENT_REPORT).block


# --- refusals ----------------------------------------------------------------------------------------------------

REFUSED = {
    "037 price off the formula": (
        sample(OP.ENDORSEMENT_WITH_RESPONSIBILITY, block=Negotiation(TOTAL, Decimal("980.00"), Decimal("2.5"), "47")),
        "AAI07b",
    ),
    "037 without terms": (sample(OP.ENDORSEMENT_WITH_RESPONSIBILITY, block=Negotiation(TOTAL)), "AAI05"),
    "037 shares off the total": (
        sample(OP.ENDORSEMENT_WITH_RESPONSIBILITY, receiver_shares=(share(FACTOR, Decimal("900.00")),)),
        "AAF19/AAG20",
    ),
    "037 without listID": (sample(OP.ENDORSEMENT_WITH_RESPONSIBILITY, list_id=None), "endoso en blanco"),
    "037 to oneself": (sample(OP.ENDORSEMENT_WITH_RESPONSIBILITY, receiver=SELLER), "AAG04"),
    "037 without debtor": (sample(OP.ENDORSEMENT_WITH_RESPONSIBILITY, debtor=None), "debtor"),
    "037 without due date": (sample(OP.ENDORSEMENT_WITH_RESPONSIBILITY, due_date=None), "AAH59"),
    "038 with a price": (
        sample(OP.GUARANTEE_ENDORSEMENT, block=Negotiation.for_rate(TOTAL, Decimal("1"))),
        "only ValorTotalEndoso",
    ),
    "372 without the declaration": (sample(OP.ENDORSEMENT_WITHOUT_RESPONSIBILITY, notes=()), "sin mi responsabilidad"),
    "036 to the buyer": (sample(OP.FIRST_REGISTRATION, receiver=BUYER), "goes to DIAN"),
    "361 naming a buyer": (sample(OP.FIRST_REGISTRATION, counterpart=share(FACTOR)), "only 362/364"),
    "362 without the buyer": (sample(OP.FIRST_REGISTRATION_DIRECT, counterpart=None), "pre-agreed"),
    "036 values that do not add up": (
        sample(OP.FIRST_REGISTRATION, block=Payments(TOTAL, TOTAL)),
        "ConstanciadePagos",
    ),
    "040 referencing the invoice": (
        sample(OP.CANCEL_GUARANTEE_ENDORSEMENT, reference=TitleReference("FE100", "c" * 96)),
        "96",
    ),
    "037 referencing an event": (
        sample(OP.ENDORSEMENT_WITH_RESPONSIBILITY, reference=event_reference("X", "a" * 96)),
        "the invoice",
    ),
    "402 without reasons": (sample(OP.CANCEL_COLLECTION_ENDORSEMENT, notes=()), "AAD11a"),
    "452 not paying the whole": (
        sample(OP.TOTAL_PAYMENT, sender_shares=(share(BUYER, Decimal("999.99")),)),
        "AAF19c",
    ),
    "451 paying the whole": (
        sample(OP.PARTIAL_PAYMENT, sender_shares=(share(BUYER, TOTAL),), block=Payments(TOTAL, Decimal("0.00"))),
        "AAF19d",
    ),
    "451 with a wrong balance": (sample(OP.PARTIAL_PAYMENT, block=Payments(TOTAL, Decimal("500.00"))), "AAK07"),
    "045 without the payment date": (sample(OP.PARTIAL_PAYMENT, effective_date=None), "EffectiveDate"),
    "045 with an endorsement listID": (sample(OP.PARTIAL_PAYMENT, list_id="3"), "not a listID"),
    "048 without the certificate": (sample(OP.PROTEST_NON_PAYMENT, attachments=()), "AAI84"),
    "431 without an end": (
        sample(
            OP.MANDATE_GENERAL_LIMITED_TIME,
            mandate=dataclasses.replace(sample(OP.MANDATE_GENERAL_LIMITED_TIME).mandate, end_date=None),
        ),
        "start and an end",
    ),
    "433 with general powers": (
        sample(
            OP.MANDATE_LIMITED_UNLIMITED_TIME,
            mandate=dataclasses.replace(sample(OP.MANDATE_LIMITED_UNLIMITED_TIME).mandate, powers=("ALL17-FE",)),
        ),
        "AAL03",
    ),
    "a mandate on a 045": (
        sample(OP.PARTIAL_PAYMENT, mandate=sample(OP.MANDATE_GENERAL_LIMITED_TIME).mandate),
        "only event 043",
    ),
    "a rate with 8 decimals": (
        sample(
            OP.ENDORSEMENT_WITH_RESPONSIBILITY,
            block=Negotiation(TOTAL, Decimal("1000.00"), Decimal("0.00000001"), "47"),
        ),
        "more than 7 decimals",
    ),
}


@pytest.mark.parametrize(("event", "words"), REFUSED.values(), ids=REFUSED.keys())
def test_bad_drafts_are_refused_naming_the_field(event: RadianEvent, words: str) -> None:
    with pytest.raises(BuildError, match=None) as caught:
        build_radian_event(event, software=own_software(event))
    assert words in str(caught.value)


def test_a_mandatario_transmitting_must_say_so_in_a_note() -> None:
    event = sample(OP.PARTIAL_PAYMENT)
    provider = dataclasses.replace(SOFTWARE, provider_nit=FACTOR.nit)
    with pytest.raises(BuildError, match="OBRANDO EN NOMBRE Y REPRESENTACION DE"):
        build_radian_event(event, software=provider)
    noted = dataclasses.replace(event, notes=("Factor SA OBRANDO EN NOMBRE Y REPRESENTACION DE Comprador SAS",))
    assert parse_radian_event(build_radian_event(noted, software=provider)).software_provider_nit == FACTOR.nit


def _xml(operation: Operation) -> bytes:
    event = sample(operation)
    return build_radian_event(event, software=own_software(event))


def _second_value_block(xml: bytes) -> bytes:
    start = xml.index(b"<ext:UBLExtension><ext:ExtensionContent><CustomTagGeneral>")
    end = xml.index(b"</ext:UBLExtension>", start) + len(b"</ext:UBLExtension>")
    return xml[:end] + xml[start:end] + xml[end:]


def _bad_attachment(xml: bytes) -> bytes:
    tag = b'<cbc:EmbeddedDocumentBinaryObject mimeCode="application/pdf" filename="contrato.pdf">'
    assert tag in xml
    return xml.replace(tag, tag + b"no-es-base64!")


BAD_DOCUMENTS = {
    "unknown operation": (
        _xml(OP.TOTAL_PAYMENT).replace(b">452<", b">459<"),
        "la operación '459' no existe para el evento 045 (A.2)",
    ),
    "operation of another event": (
        _xml(OP.TOTAL_PAYMENT).replace(b">452<", b">371<"),
        "la operación 371 corresponde al evento 037, no al 045 (A.2)",
    ),
    "listID the event does not take": (
        _xml(OP.PAYMENT_REPORT).replace(b"<cbc:ResponseCode>046<", b'<cbc:ResponseCode listID="9">046<'),
        "el evento 046 no admite el listID '9' (A.4)",
    ),
    "unreadable amount in the block": (
        _xml(OP.PAYMENT_REPORT).replace(b"<Value>1000.00</Value>", b"<Value>1.000,00</Value>"),
        "no es un número decimal no negativo: '1.000,00'",
    ),
    "unreadable amount of a share": (
        _xml(OP.AVAL).replace(
            b'"COP">1000.00</cbc:CorporateStockAmount>', b'"COP">1.000,00</cbc:CorporateStockAmount>'
        ),
        "no es un valor numérico válido: '1.000,00'",
    ),
    "block of another event": (
        _xml(OP.PAYMENT_REPORT).replace(b"InformacionParaelPago", b"InformacionPagos"),
        "el bloque de valores InformacionPagos no corresponde al evento 046",
    ),
    "a block missing a name": (
        _xml(OP.TOTAL_PAYMENT).replace(b"ValorPendienteTituloValor", b"Otro"),
        "al bloque de valores InformacionPagos le falta ValorPendienteTituloValor",
    ),
    "a block repeating a name": (
        _xml(OP.TOTAL_PAYMENT).replace(b"<Name>ValorPendienteTituloValor<", b"<Name>ValorActualTituloValor<"),
        "el bloque de valores InformacionPagos repite ValorActualTituloValor",
    ),
    "two value blocks": (_second_value_block(_xml(OP.TOTAL_PAYMENT)), "hay dos bloques CustomTagGeneral"),
    "a 030-034 event": (
        _xml(OP.TOTAL_PAYMENT).replace(b">045<", b">033<"),
        "el evento 033 no es un evento RADIAN (035 a 051)",
    ),
    "a mandate with an unknown mandante type": (
        _xml(OP.MANDATE_GENERAL_LIMITED_TIME).replace(b">Mandante-FE<", b">Mandante-XX<"),
        "mandato 043: el tipo de mandante 'Mandante-XX' no es un código válido (tabla 13.2.5)",
    ),
    "a mandate without the mandatario's NIT": (
        _xml(OP.MANDATE_GENERAL_LIMITED_TIME).replace(
            b">800111222</cbc:ID><cbc:Description>Mandatario", b"></cbc:ID><cbc:Description>Mandatario"
        ),
        "mandato 043: falta el NIT del mandatario",
    ),
    "a mandate with an unknown schemeID": (
        _xml(OP.MANDATE_GENERAL_LIMITED_TIME).replace(b'schemeID="1">431<', b'schemeID="7">431<'),
        "mandato 043: CustomizationID/@schemeID '7' no es un valor conocido",
    ),
    "an attachment that is not base64": (
        _bad_attachment(_xml(OP.MANDATE_LIMITED_LIMITED_TIME)),
        "el adjunto no está en base64",
    ),
}


@pytest.mark.parametrize(("xml", "words"), BAD_DOCUMENTS.values(), ids=BAD_DOCUMENTS.keys())
def test_bad_documents_are_refused_naming_what_and_where(xml: bytes, words: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_radian_event(xml)
    assert words in str(caught.value)
