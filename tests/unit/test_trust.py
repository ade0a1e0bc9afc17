"""PKCS#12 loading, NIT extraction and chain building of dian.trust against the generated test PKI."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from dian.codes import DIAN_NIT
from dian.errors import CertificateError
from dian.nit import check_digit
from dian.trust import (
    TrustStore,
    certificate_nit,
    certificate_nits,
    fingerprint,
    load_pkcs12,
    nit_matches,
    normalize_fingerprint,
)
from tests.pki import COMPANY_NIT, PROVIDER_NIT, SUPPLIER_NIT, _name, issue, pki, write_ca_folder, write_pkcs12

AT = dt.datetime(2025, 3, 3, 14, 0, tzinfo=dt.UTC)


def test_check_digit_matches_dian_examples() -> None:
    # DIAN's own NIT is 800197268-4 (dian-facts 2.1); CADENA 890930534-0 appears in real certificates.
    assert check_digit("800197268") == "4"
    assert check_digit("890930534") == "0"


def test_load_pkcs12_gives_key_certificate_and_chain(tmp_path) -> None:
    p = pki()
    path = write_pkcs12(p.supplier, tmp_path / "supplier.p12")
    identity = load_pkcs12(path, "prueba")
    assert identity.certificate == p.supplier.cert
    assert identity.chain == (p.intermediate.cert, p.root.cert)
    assert identity.nit == SUPPLIER_NIT
    assert identity.key.public_key().public_numbers() == p.supplier.key.public_key().public_numbers()


def test_load_pkcs12_wrong_password_names_the_file(tmp_path) -> None:
    path = write_pkcs12(pki().supplier, tmp_path / "supplier.p12")
    with pytest.raises(CertificateError, match=r"supplier\.p12.*la contraseña no es la correcta"):
        load_pkcs12(path, b"otra")


def test_load_pkcs12_without_key_names_the_file(tmp_path) -> None:
    p = pki()
    data = pkcs12.serialize_key_and_certificates(
        b"only-certs", None, None, [p.root.cert], serialization.BestAvailableEncryption(b"x")
    )
    path = tmp_path / "certs-only.p12"
    path.write_bytes(data)
    with pytest.raises(CertificateError, match=r"certs-only\.p12 no contiene la llave privada"):
        load_pkcs12(path, "x")


def test_load_pkcs12_missing_file(tmp_path) -> None:
    with pytest.raises(CertificateError, match=r"nada\.p12"):
        load_pkcs12(tmp_path / "nada.p12", "x")


def test_nit_from_serial_number_with_dv_run_in_or_dashed() -> None:
    p = pki()
    # Andes SCD style "9001234568" (NIT + DV), "NIT-DV", a bare NIT, and DIAN's OID 4710.1.3.2.
    assert certificate_nit(p.supplier.cert) == SUPPLIER_NIT
    assert certificate_nit(p.company.cert) == COMPANY_NIT
    assert certificate_nit(p.provider.cert) == PROVIDER_NIT
    assert certificate_nit(p.dian.cert) == DIAN_NIT
    assert certificate_nits(p.supplier.cert) == (SUPPLIER_NIT + check_digit(SUPPLIER_NIT), SUPPLIER_NIT)
    assert nit_matches(p.supplier.cert, "900.123.456-8")
    assert nit_matches(p.dian.cert, DIAN_NIT)
    assert not nit_matches(p.impostor.cert, DIAN_NIT)
    assert not nit_matches(p.supplier.cert, "")


def test_fingerprint_normalisation() -> None:
    fp = fingerprint(pki().dian.cert)
    colons = ":".join(fp[i : i + 2] for i in range(0, 64, 2)).upper()
    assert normalize_fingerprint(colons) == fp
    with pytest.raises(ValueError, match="not a SHA-256"):
        normalize_fingerprint("abc")


def test_store_from_folder_reads_pem_and_der_and_ignores_other_files(tmp_path) -> None:
    p = pki()
    folder = write_ca_folder(tmp_path / "cas", p.root, p.intermediate)
    write_ca_folder(folder / "..", p.dian_root, der=True)
    (tmp_path / "README.txt").write_text("no es un certificado")
    store = TrustStore.from_folder(folder)
    assert set(store.anchors) == {p.root.cert, p.intermediate.cert}
    der_store = TrustStore.from_folder(tmp_path)
    assert p.dian_root.cert in der_store.anchors


def test_store_from_folder_names_a_bad_file(tmp_path) -> None:
    (tmp_path / "roto.pem").write_bytes(b"-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n")
    with pytest.raises(CertificateError, match=r"roto\.pem"):
        TrustStore.from_folder(tmp_path)
    with pytest.raises(CertificateError, match=r"carpeta de raíces de confianza .* no existe"):
        TrustStore.from_folder(tmp_path / "no-existe")


def test_chain_to_root_through_document_intermediate() -> None:
    p = pki()
    store = TrustStore(anchors=(p.root.cert,))
    result = store.evaluate(p.supplier.cert, [p.intermediate.cert], at=AT)
    assert result.status == "trusted"
    assert result.path == (p.supplier.cert, p.intermediate.cert, p.root.cert)


def test_chain_with_intermediate_in_store() -> None:
    p = pki()
    store = TrustStore(anchors=(p.root.cert, p.intermediate.cert))
    assert store.evaluate(p.supplier.cert, at=AT).trusted


def test_unknown_issuer_is_named() -> None:
    p = pki()
    store = TrustStore(anchors=(p.root.cert,))
    result = store.evaluate(p.supplier.cert, at=AT)
    assert result.status == "unknown_issuer"
    assert "Buzón Test Issuing CA" in result.detail
    assert "Buzón Test Issuing CA" in (result.missing_issuer or "")
    # A self-signed root shipped inside the document is never an anchor.
    rogue = store.evaluate(p.rogue.cert, [p.rogue_root.cert], at=AT)
    assert rogue.status == "unknown_issuer"
    assert "Rogue Root CA" in rogue.detail


def test_pinned_leaf_is_trusted_without_anchors() -> None:
    p = pki()
    store = TrustStore(pins=frozenset({fingerprint(p.dian.cert)}))
    assert store.evaluate(p.dian.cert, at=AT).status == "pinned"
    assert store.evaluate(p.impostor.cert, at=AT).status == "unknown_issuer"


def test_with_pins_adds_pins_once_per_set_and_keeps_the_anchors() -> None:
    p = pki()
    store = TrustStore(anchors=(p.root.cert,))
    pin = fingerprint(p.dian.cert)
    pinned = store.with_pins([pin.upper()])
    assert pinned is not store and pinned.anchors == store.anchors and pin in pinned.pins
    assert pinned.evaluate(p.dian.cert, at=AT).status == "pinned"
    assert store.evaluate(p.dian.cert, at=AT).status != "pinned"  # the original store is unchanged
    assert store.with_pins([pin.upper()]) is pinned  # built once per set of pins
    assert store.with_pins([]) is store and pinned.with_pins([pin]) is pinned
    with pytest.raises(ValueError, match="not a SHA-256 fingerprint"):
        store.with_pins(["abc"])


def test_validity_is_judged_at_the_given_time() -> None:
    p = pki()
    store = TrustStore(anchors=(p.root.cert, p.intermediate.cert))
    assert store.evaluate(p.expired.cert, at=dt.datetime(2020, 6, 1, tzinfo=dt.UTC)).trusted
    late = store.evaluate(p.expired.cert, at=AT)
    assert late.status == "invalid"
    assert "no estaba vigente" in late.detail


def test_a_leaf_cannot_act_as_issuer() -> None:
    p = pki()
    child = issue(_name("HIJO DE UNA HOJA", serial="123"), key_label="child", issuer=p.supplier)
    store = TrustStore(anchors=(p.root.cert,))
    result = store.evaluate(child.cert, [p.supplier.cert, p.intermediate.cert], at=AT)
    assert result.status == "invalid"
    assert "no es una autoridad certificadora" in result.detail


def test_wrong_issuer_signature_is_not_a_chain() -> None:
    p = pki()
    # Same issuer name as the real intermediate, different key: the name matches, the signature does not.
    fake_inter = issue(_name("Buzón Test Issuing CA"), key_label="fake_inter", issuer=p.rogue_root, ca=True)
    store = TrustStore(anchors=(p.root.cert,))
    assert store.evaluate(p.supplier.cert, [fake_inter.cert], at=AT).status == "unknown_issuer"
