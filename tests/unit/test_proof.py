"""dian.proof: the one trust policy for DIAN's word, and the online confirmation's comparisons (DESIGN.md 5a)."""

from __future__ import annotations

import datetime as dt

import pytest

from dian.proof import SHIPPED_PINS, DianKeys, Level, OnlineAnswer, confirm_online, shipped_pins, weigh_answer
from dian.trust import SigningIdentity, TrustStore, fingerprint, spki_fingerprint
from dian.xades import sign
from tests.pki import CUFE, OTHER_CUFE, SUPPLIER_NIT, application_response_xml, invoice_xml, pki

SIGNED_AT = dt.datetime(2025, 3, 3, 14, 0, tzinfo=dt.UTC)


def _signed(xml: bytes, issued) -> bytes:
    return sign(xml, SigningIdentity(issued.key, issued.cert, issued.chain), signing_time=SIGNED_AT)


@pytest.fixture(scope="module")
def answer() -> bytes:
    return _signed(application_response_xml(), pki().dian)


@pytest.fixture(scope="module")
def invoice() -> bytes:
    return _signed(invoice_xml(), pki().supplier)


def test_shipped_pins_are_the_samples_dian_certificate_by_key_and_by_certificate() -> None:
    (pin,) = shipped_pins()
    assert pin.spki_sha256 in SHIPPED_PINS and pin.fingerprint_sha256 in SHIPPED_PINS
    assert "800197268" in pin.subject and pin.not_after.year == 2025


def test_an_answer_is_proven_by_an_anchor_or_a_pin_and_else_unconfirmed(answer: bytes) -> None:
    p = pki()
    anchored = weigh_answer(answer, DianKeys.of(TrustStore(anchors=(p.dian_root.cert,))), about=CUFE)
    assert (anchored.level, anchored.basis) == (Level.PROVEN, "anchor")
    by_key = weigh_answer(answer, DianKeys.of(TrustStore(), learned=[spki_fingerprint(p.dian.cert)]), about=CUFE)
    assert (by_key.level, by_key.basis) == (Level.PROVEN, "learned")
    by_cert = weigh_answer(answer, DianKeys.of(TrustStore(), [fingerprint(p.dian.cert)]), about=CUFE)
    assert (by_cert.level, by_cert.basis) == (Level.PROVEN, "configured")
    nothing = weigh_answer(answer, DianKeys.of(TrustStore()), about=CUFE)
    assert nothing.level is Level.UNCONFIRMED and "sin confirmar" in nothing.detail
    assert not nothing.proven


def test_an_answer_about_another_document_or_not_signed_by_dian_is_invalid(answer: bytes) -> None:
    p = pki()
    keys = DianKeys.of(TrustStore(anchors=(p.dian_root.cert,)))
    assert weigh_answer(answer, keys, about=OTHER_CUFE).level is Level.INVALID
    impostor = _signed(application_response_xml(), p.impostor)  # "DIAN" by name, another NIT
    assert weigh_answer(impostor, keys, about=CUFE).level is Level.INVALID
    altered = answer.replace(b"RUT01", b"RUT02")
    assert weigh_answer(altered, keys, about=CUFE).level is Level.INVALID


def confirm(online: OnlineAnswer, invoice: bytes, **fields: str):
    values = {"cufe": CUFE, "number": "SETP990000001", "issuer_nit": SUPPLIER_NIT, **fields}
    return confirm_online(online, DianKeys.of(TrustStore()), signed_xml=invoice, **values)


def test_dians_online_answer_confirms_and_teaches_its_certificate_only_over_dians_channel(answer, invoice) -> None:
    proof = confirm(OnlineAnswer("00", answer_xml=answer, document_xml=invoice, learnable=True), invoice)
    assert proof.level is Level.CONFIRMED and "coincide" in proof.detail
    assert proof.learned is not None and proof.learned.spki_sha256 == spki_fingerprint(pki().dian.cert)
    quiet = confirm(OnlineAnswer("00", answer_xml=answer, learnable=False), invoice)
    assert quiet.level is Level.CONFIRMED and quiet.learned is None


@pytest.mark.parametrize("code", ["98", "66"])
def test_answers_that_are_not_final_are_asked_again(code: str, invoice: bytes) -> None:
    proof = confirm(OnlineAnswer(code), invoice)
    assert (proof.level, proof.retry) == (Level.UNCONFIRMED, True)


def test_a_borrowed_cufe_is_refused(answer: bytes, invoice: bytes) -> None:
    # DIAN holds another document under this CUFE (other signature): the mailed one borrowed it.
    other = _signed(invoice_xml(unit_price="999.00"), pki().supplier)  # same CUFE and number, other amounts
    held = confirm(OnlineAnswer("00", answer_xml=answer, document_xml=other), invoice)
    assert held.level is Level.INVALID and "no es el recibido" in held.detail
    number = confirm(OnlineAnswer("00", answer_xml=answer), invoice, number="SETP990000002")
    assert number.level is Level.INVALID and "SETP990000002" in number.detail
    issuer = confirm(OnlineAnswer("00", answer_xml=answer), invoice, issuer_nit="800111222")
    assert issuer.level is Level.INVALID and "800111222" in issuer.detail
    refused = confirm(OnlineAnswer("99", "Documento con errores"), invoice)
    assert refused.level is Level.INVALID and "99" in refused.detail
