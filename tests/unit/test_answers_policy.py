"""events.answers weighs DIAN's answers to our event calls by the one trust policy (dian.proof.weigh_answer).

These answers come from DIAN's endpoint to our own request over TLS: a DIAN-named certificate we cannot anchor is
accepted there (the channel is the proof), but a signature that does not verify, a signer that is not DIAN, or an
answer about another event never is.
"""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from dian.codes import DIAN_NIT, Environment, EventCode
from dian.proof import DianKeys, Level, weigh_answer
from dian.radian.chain import ChainEntry, build_status_events, status_answer_uuid
from dian.soap import DianResponse
from dian.trust import NIT_OID, SigningIdentity, TrustStore
from dian.ubl import Party
from dian.xades import sign
from events.answers import ForgedAnswer, checked_answer, listed_events
from tests.pki import Issued, application_response_xml, issue, pki

CUDE = "d" * 64 + "0123456789abcdef0123456789abcdef"
OTHER_CUDE = "e" * 64 + "0123456789abcdef0123456789abcdef"
SIGNED_AT = dt.datetime(2025, 3, 3, 14, 0, tzinfo=dt.UTC)


def _sign(xml: bytes, issued: Issued) -> bytes:
    return sign(xml, SigningIdentity(issued.key, issued.cert, issued.chain), signing_time=SIGNED_AT, role="supplier")


@pytest.fixture(scope="module")
def self_made_dian() -> Issued:
    """A self-signed certificate whose subject says DIAN (serialNumber and OID 4710.1.3.2 = 800197268)."""
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CO"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "DIAN"),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, DIAN_NIT),
            x509.NameAttribute(NIT_OID, DIAN_NIT),
            x509.NameAttribute(NameOID.COMMON_NAME, "U.A.E. DIRECCION DE IMPUESTOS Y ADUANAS NACIONALES"),
        ]
    )
    return issue(name, key_label="self_made_dian")


def _answer(issued: Issued, about: str = CUDE) -> bytes:
    return _sign(application_response_xml(cufe=about, number="EV030-1"), issued)


def _keys(*anchors: Issued) -> DianKeys:
    return DianKeys.of(TrustStore(anchors=tuple(a.cert for a in anchors)))


def test_a_self_made_dian_answer_about_our_event_is_accepted_from_the_endpoint(self_made_dian: Issued) -> None:
    xml = _answer(self_made_dian)
    # Offline it proves nothing (no anchor, no pin) ...
    assert weigh_answer(xml, _keys(), about=CUDE).level is Level.UNCONFIRMED
    # ... but it is what DIAN's endpoint returned to our request: accepted.
    answer = checked_answer(xml, _keys(), about=CUDE)
    assert answer.document_reference is not None and answer.document_reference.uuid == CUDE


def test_a_dian_answer_that_does_not_verify_is_refused(self_made_dian: Issued) -> None:
    xml = _answer(self_made_dian)
    forged = xml.replace(b"<cbc:ID>987654321</cbc:ID>", b"<cbc:ID>987654322</cbc:ID>")
    assert forged != xml
    checked_answer(xml, _keys(), about=CUDE)  # the untouched answer passes
    with pytest.raises(ForgedAnswer) as refused:
        checked_answer(forged, _keys(), about=CUDE)
    assert "no verifica" in str(refused.value)


def test_an_answer_about_another_event_is_refused(self_made_dian: Issued) -> None:
    with pytest.raises(ForgedAnswer) as refused:
        checked_answer(_answer(self_made_dian, about=OTHER_CUDE), _keys(), about=CUDE)
    assert "otro documento" in str(refused.value) and OTHER_CUDE[:16] in str(refused.value)
    # Anchoring DIAN's CA does not change that: the answer is about another event.
    with pytest.raises(ForgedAnswer):
        checked_answer(_answer(pki().dian, about=OTHER_CUDE), _keys(pki().dian_root), about=CUDE)


def test_anchors_that_are_not_dians_no_longer_refuse_dians_answers() -> None:
    """The trust store holds the suppliers' CAs but not DIAN's (GSE): DIAN's answer is still taken from the endpoint."""
    xml = _answer(pki().dian)
    suppliers_only = _keys(pki().root, pki().intermediate)
    assert weigh_answer(xml, suppliers_only, about=CUDE).level is Level.UNCONFIRMED
    assert checked_answer(xml, suppliers_only, about=CUDE).response_code == "02"
    assert weigh_answer(xml, _keys(pki().dian_root), about=CUDE).level is Level.PROVEN
    assert checked_answer(xml, _keys(pki().dian_root), about=CUDE).response_code == "02"


@pytest.mark.parametrize("signer", ["impostor", "supplier"])
def test_an_answer_not_signed_by_dian_is_refused_even_from_the_endpoint(signer: str) -> None:
    xml = _answer(getattr(pki(), signer))
    with pytest.raises(ForgedAnswer) as refused:
        checked_answer(xml, _keys(pki().dian_root, pki().root), about=CUDE)
    assert DIAN_NIT in str(refused.value)


def test_an_empty_or_unreadable_answer_is_refused() -> None:
    for xml in (None, b"", b"<no"):
        with pytest.raises(ForgedAnswer):
            checked_answer(xml, _keys(), about=CUDE)


def _listing(issued: Issued, uuid: str) -> bytes:
    """DIAN's GetStatusEvent answer (A.12 layout) listing one 030, with the UUID DIAN derives from an invoice."""
    entry = ChainEntry(
        1,
        EventCode.ACUSE_RECIBO,
        "Acuse de recibo",
        "EV030-1",
        CUDE,
        SIGNED_AT,
        Party(nit="900654321", dv="1", registration_name="C"),
        Party(nit="900123456", dv="8", registration_name="S"),
    )
    xml = build_status_events(
        number="4711",
        uuid=uuid,
        issue_date=SIGNED_AT.date(),
        issue_time="09:00:00-05:00",
        environment=Environment.TESTING,
        issuer=entry.receiver,
        entries=(entry,),
    )
    return _sign(xml, issued)


def test_a_listing_about_another_invoice_is_refused(self_made_dian: Issued) -> None:
    ours = status_answer_uuid(issuer_nit="900123456", buyer_nit="900654321", invoice_number="SETP1")
    theirs = status_answer_uuid(issuer_nit="900123456", buyer_nit="900654321", invoice_number="SETP2")
    response = DianResponse(True, "00", "", "", xml=_listing(self_made_dian, theirs))
    with pytest.raises(ForgedAnswer) as refused:
        listed_events(response, OTHER_CUDE, _keys(), answer_uuid=ours)
    assert "otra factura" in str(refused.value)
    listed = listed_events(
        DianResponse(True, "00", "", "", xml=_listing(self_made_dian, ours)), OTHER_CUDE, _keys(), answer_uuid=ours
    )
    assert [(item.code, item.cude) for item in listed] == [(EventCode.ACUSE_RECIBO, CUDE)]
    # A validation-shaped answer lists no event; 67 is "none yet" (A.12).
    assert listed_events(DianResponse(True, "00", "", "", xml=_answer(self_made_dian)), CUDE, _keys()) == []
    assert listed_events(DianResponse(False, "67", "", "", xml=None), CUDE, _keys()) == []
