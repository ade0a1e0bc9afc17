"""Every real DIAN document in ../shared/samples verifies as its PROVENANCE line says (dian-facts 3, 5, 9).

The samples are read in place and never copied; expectations below are check names and outcomes only.
"""

from __future__ import annotations

import json

import pytest
from lxml import etree

from dian.codes import DIAN_NIT
from dian.proof import DianKeys
from dian.reception import verify_received
from dian.trust import TrustStore, fingerprint, load_base64
from dian.ubl import namespaces as ns
from dian.ubl import parse_document
from dian.xades import Outcome, SignatureReport, Verdict
from dian.xmlsafe import parse_xml
from tests.conftest import sample_bytes

# SHA-256 of DIAN's signing certificate in all 11 DIAN answers of samples/ (serialNumber 800197268, issued by
# "Autoridad Subordinada 01 GSE", valid 2023-12-20 to 2025-12-19). A public certificate, not personal data.
DIAN_CERT_SHA256 = "0496c119a959e94fb0109ad1503ebd86d7994bcda4ced80760d48c26cc383f92"

CHAIN = "document.certificate.chain"  # no Colombian CA in the empty test store: always a warning
DIAN_CHAIN = "dian.certificate.chain"  # DIAN's certificate: proven by the shipped pin (dian/pins.toml)
CADENA = {"document.reference.key_info", "document.reference.signed_properties"}  # uncovered by CADENA's signature
NO_ANSWER = "dian.response"  # bare invoices: no DIAN validation attached

# file -> (checks expected to WARN with an empty trust store and the shipped DIAN pins, ClaimedRole of the invoice
#          signature, number of xades:Cert listed (3 = the whole chain)). The container's own signature is not verified
#          here: the chain's warning already decides the verdict (see the tests of COPIED_CONTAINERS below).
EXPECTED: dict[str, tuple[set[str], str | None, int]] = {
    "attached_americanrestaurant_CT33455_ownsw.xml": ({CHAIN}, "supplier", 1),
    "attached_aragon_FE6711_sw890930534.xml": ({*CADENA, CHAIN}, "third party", 1),
    "attached_distripanama_DP20602_sw830099008.xml": ({CHAIN}, "third party", 1),
    # Dispapeles writes no ClaimedRole and puts the SignedProperties reference first
    "attached_gaseosas_FVNB605276_dispapeles.xml": ({CHAIN}, None, 1),
    "attached_guerrerosoto_FAC1020_cadena.xml": ({*CADENA, CHAIN}, "third party", 1),
    "attached_hrincon_RINC430_dianfree.xml": ({CHAIN}, "supplier", 1),
    "attached_ilucenter_FE4790_sw830048145.xml": ({CHAIN}, "third party", 1),
    "attached_medicalenergy_A01E5687_dataico.xml": ({CHAIN}, "supplier", 3),
    "attached_nextrading_VC19111_sw900965992.xml": ({CHAIN}, "third_party", 3),
    "attached_postobon_CA072079274_carvajal.xml": ({CHAIN}, "third party", 3),
    # exclusive C14N, fixed Ids "KeyInfo" / "SignedPropertiesId"
    "attached_torrecafe_07GE28139_sw890319193_excc14n.xml": ({CHAIN}, "supplier", 3),
    "invoice_alpha_FV937_sw890930534.xml": ({*CADENA, CHAIN, NO_ANSWER}, "third party", 1),
    "invoice_empolladora_EMH15818_sw900399741.xml": ({CHAIN, NO_ANSWER}, "supplier", 1),
    # the declared X509SerialNumber lost its leading digit; the certificate digest matches
    "invoice_pardodiaz_IP9629_ownsw_camerfirma.xml": (
        {"document.signing_certificate", CHAIN, NO_ANSWER},
        "supplier",
        1,
    ),
    "invoice_taxcontadores_FE751_sw890930534.xml": ({*CADENA, CHAIN, NO_ANSWER}, "third party", 1),
    "invoice_vargas_FV12765_sw900965992.xml": ({CHAIN, NO_ANSWER}, "third_party", 3),
}
RELATIVE_NAMESPACE = "invoice_saucedo_FESA59211_sw900011395_rsasha1.xml"
ATTACHED = sorted(name for name in EXPECTED if name.startswith("attached_"))
# Containers whose own signature copies the invoice's Ids and does not verify: a warning, never a failure.
COPIED_CONTAINERS = {"attached_americanrestaurant_CT33455_ownsw.xml", "attached_hrincon_RINC430_dianfree.xml"}
UNSIGNED_CONTAINERS = {"attached_distripanama_DP20602_sw830099008.xml", "attached_medicalenergy_A01E5687_dataico.xml"}
_SIGNATURE = "{%s}UBLExtensions/{%s}UBLExtension/{%s}ExtensionContent/{%s}Signature" % ((ns.EXT,) * 3 + (ns.DS,))


def signers_pinned(name: str) -> TrustStore:
    """A store that trusts every certificate signing something in the sample (as a store holding their CAs would):
    the signers' chains pass, so only the documents' own shapes can warn."""
    root = parse_xml(sample_bytes(name))
    trees = [root, *(parse_xml(d.text.strip().encode()) for d in root.iter(f"{{{ns.CBC}}}Description")
                     if (d.text or "").strip().startswith("<"))]  # fmt: skip
    pins = set()
    for tree in trees:
        signature = tree.find(_SIGNATURE)
        if signature is not None:
            pins.add(fingerprint(load_base64(signature.findtext(f".//{{{ns.DS}}}X509Certificate"))))
    return TrustStore(pins=frozenset(pins))


def test_every_sample_is_listed(samples_dir) -> None:
    on_disk = {p.name for p in samples_dir.glob("*.xml")}
    assert on_disk == {*EXPECTED, RELATIVE_NAMESPACE}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_regular_sample_verifies_with_its_expected_warnings(name: str) -> None:
    warns, role, listed = EXPECTED[name]
    report = verify_received(sample_bytes(name), trust=TrustStore())
    outcomes = {c.name: c.outcome for c in report.checks}
    assert {n for n, o in outcomes.items() if o == Outcome.FAIL} == set(), report.reasons()
    assert {n for n, o in outcomes.items() if o == Outcome.WARN} == warns
    if name.startswith("attached_"):  # DIAN's answer proven offline by the shipped pin
        assert report.verdict == Verdict.VALID_WITH_WARNINGS
        assert report.dian_validated and report.dian_basis == "shipped"
    else:  # a bare invoice brings no DIAN answer: "sin confirmar" offline, never valid and never invalid
        assert report.verdict == Verdict.UNCONFIRMED
        assert not report.dian_validated
        assert report.to_dict()["dian_validated"] is False
    assert outcomes["document.signature"] == Outcome.PASS
    assert outcomes["document.reference.document"] == Outcome.PASS
    assert outcomes["document.signer.nit"] == Outcome.PASS  # the issuer or its software provider
    assert report.document is not None
    assert report.document_signature.claimed_role == role
    detail = report.check("document.signing_certificate").detail
    assert ("3 certificados" in detail) == (listed == 3)
    json.dumps(report.to_dict())


@pytest.mark.parametrize("name", ATTACHED)
def test_dians_answer_is_signed_by_dian_and_names_the_invoice(name: str) -> None:
    report = verify_received(sample_bytes(name), trust=TrustStore())
    assert report.dian_signature is not None
    assert report.dian_signature.signer_nit == DIAN_NIT
    assert report.outcome("dian.signer.nit") == Outcome.PASS
    assert report.outcome("dian.response") == Outcome.PASS
    assert report.outcome("dian.document_reference") == Outcome.PASS
    assert report.dian_response.response_code == "02"
    assert report.dian_response.document_reference.uuid.lower() == report.document.uuid.lower()
    # GSE's CA is not in the empty store: the shipped pin of DIAN's certificate is what proves the answer.
    chain = report.check("dian.certificate.chain")
    assert chain.outcome == Outcome.PASS
    assert report.dian_signature.chain_status == "pinned"


@pytest.mark.parametrize("name", ATTACHED)
def test_without_the_shipped_pins_dians_answer_is_unconfirmed(name: str) -> None:
    report = verify_received(sample_bytes(name), trust=TrustStore(), keys=DianKeys.of(TrustStore(), shipped=False))
    chain = report.check("dian.certificate.chain")
    assert chain.outcome == Outcome.WARN
    assert "validación DIAN sin confirmar" in chain.detail
    assert report.verdict == Verdict.UNCONFIRMED
    assert not report.dian_validated
    # DIAN's notifications are information; RUT01 appears in every 2024-2025 answer (dian-facts 2.6).
    assert "RUT01" in {n.code for n in report.notifications}


@pytest.mark.parametrize("name", ATTACHED)
def test_pinned_dian_certificate_settles_the_chain(name: str) -> None:
    keys = DianKeys.of(TrustStore(), [DIAN_CERT_SHA256], shipped=False)
    report = verify_received(sample_bytes(name), trust=TrustStore(), keys=keys)
    assert report.outcome("dian.certificate.chain") == Outcome.PASS
    assert report.dian_signature.chain_status == "pinned"
    assert report.dian_basis == "configured"
    warns = {c.name for c in report.checks if c.outcome == Outcome.WARN}
    assert DIAN_CHAIN not in warns
    assert warns == EXPECTED[name][0]


def test_relative_namespace_sample_gets_a_clear_verdict() -> None:
    # xmlns:none="none": libxml2's C14N refuses it; Buzón canonicalizes it tolerantly and the signature verifies.
    report = verify_received(sample_bytes(RELATIVE_NAMESPACE), trust=TrustStore())
    assert report.verdict == Verdict.UNCONFIRMED, report.reasons()  # valid signature, no DIAN answer
    assert "espacio de nombres relativo" in report.check("document.signature").detail
    assert report.outcome("document.algorithms") == Outcome.WARN
    assert "rsa-sha1" in report.check("document.algorithms").detail
    warns = {c.name for c in report.checks if c.outcome == Outcome.WARN}
    assert warns == {CHAIN, "document.algorithms", NO_ANSWER}
    assert report.document is not None


def test_tampered_sample_is_invalid() -> None:
    data = sample_bytes("invoice_empolladora_EMH15818_sw900399741.xml")
    start = data.index(b"<cbc:PayableAmount")
    end = data.index(b"</cbc:PayableAmount>", start)
    amount_at = data.rindex(b">", start, end) + 1
    forged = data[:amount_at] + b"1" + data[amount_at:]
    report = verify_received(forged, trust=TrustStore())
    assert report.verdict == Verdict.INVALID
    assert report.outcome("document.reference.document") == Outcome.FAIL
    # Nothing of it is filed, but the clerk still reads what it claims (marked unproven) to chase the supplier.
    assert report.document is None
    claimed = report.to_dict()["claimed_document"]
    assert claimed["proven"] is False
    assert claimed["number"] == "EMH15818" and claimed["supplier_nit"] == "832001292"
    assert claimed["payable"].startswith("1")


def _reads_as_the_digested_bytes(signature: SignatureReport, *, canonical: bool = True) -> None:
    """What signed_element hands the parser (the digested tree without its signature, when verify owned it) is the
    document the digested bytes hold: the same canonical form and the same parsed fields."""
    assert signature.signed_c14n is not None
    reparsed = parse_xml(signature.signed_c14n)
    element = signature.signed_element
    assert element is not None
    if canonical:
        assert etree.tostring(element, method="c14n", exclusive=True) == etree.tostring(
            reparsed, method="c14n", exclusive=True
        )
    assert parse_document(element) == parse_document(reparsed)


@pytest.mark.parametrize("name", sorted({*EXPECTED, RELATIVE_NAMESPACE}))
def test_the_signed_element_of_every_sample_is_its_digested_bytes(name: str) -> None:
    report = verify_received(sample_bytes(name), trust=TrustStore())
    # libxml2 cannot canonicalize the relative namespace again (its signed element is re-read from the bytes anyway).
    _reads_as_the_digested_bytes(report.document_signature, canonical=name != RELATIVE_NAMESPACE)
    if report.dian_signature is not None:
        _reads_as_the_digested_bytes(report.dian_signature)


@pytest.mark.parametrize("name", ATTACHED)
def test_the_container_signature_is_not_verified_when_the_document_already_warns(name: str) -> None:
    report = verify_received(sample_bytes(name), trust=TrustStore())  # every signer's chain warns
    check = report.check("container.signature")
    assert check.outcome == Outcome.PASS
    assert report.container_signature is None
    if name in UNSIGNED_CONTAINERS:
        assert check.detail == "el contenedor no está firmado (la firma es opcional)"
    else:  # the report says plainly that it was not checked, and why
        assert check.detail.startswith("la firma del contenedor no se verificó")
        assert "no cambiaría el veredicto" in check.detail
    assert report.to_dict()["container_signature"] is None


@pytest.mark.parametrize("name", ATTACHED)
def test_the_container_signature_is_verified_when_it_can_change_the_verdict(name: str) -> None:
    report = verify_received(sample_bytes(name), trust=signers_pinned(name))
    warns = {c.name for c in report.checks if c.outcome == Outcome.WARN}
    check = report.check("container.signature")
    own = EXPECTED[name][0] - {CHAIN}  # what the document warns of itself once its signer is trusted
    if name in UNSIGNED_CONTAINERS:
        assert report.container_signature is None and check.outcome == Outcome.PASS
    elif own:  # CADENA's uncovered references already warn: the container's result cannot change the verdict
        assert report.container_signature is None
        assert check.detail.startswith("la firma del contenedor no se verificó")
    elif name in COPIED_CONTAINERS:
        assert report.container_signature is not None and not report.container_signature.core_valid
        assert check.outcome == Outcome.WARN and "no verifica" in check.detail
        assert report.verdict == Verdict.VALID_WITH_WARNINGS
    else:
        assert report.container_signature is not None and report.container_signature.core_valid
        assert check.outcome == Outcome.PASS and "verifica" in check.detail
        assert report.verdict == Verdict.VALID
    assert warns == own | ({"container.signature"} if name in COPIED_CONTAINERS and not own else set())


def test_a_container_signature_is_verified_while_dians_word_is_only_unconfirmed() -> None:
    # "Sin confirmar" may be settled online later (settle_confirmed): the container's warning could then still change
    # the verdict, so it is weighed now.
    name = "attached_hrincon_RINC430_dianfree.xml"
    store = TrustStore(pins=signers_pinned(name).pins - {DIAN_CERT_SHA256})
    report = verify_received(sample_bytes(name), trust=store, keys=DianKeys.of(store, shipped=False))
    assert report.verdict == Verdict.UNCONFIRMED
    assert report.container_signature is not None
    assert report.outcome("container.signature") == Outcome.WARN
    assert {c.name for c in report.checks if c.outcome == Outcome.WARN} == {DIAN_CHAIN, "container.signature"}


@pytest.mark.parametrize("name", ATTACHED)
def test_the_containers_own_fields_are_read_on_first_use_and_as_parse_document_reads_them(name: str) -> None:
    data = sample_bytes(name)
    report = verify_received(data, trust=TrustStore())
    assert "_attached" not in report.__dict__  # verification read only the payloads
    assert report.attached == parse_document(data)
    assert report.attached.document_xml == report.document_xml
    assert report.attached.dian_response_xml == report.dian_response_xml
