"""The NIT of a signing certificate as each Colombian CA writes it (dian.trust.certificate_nits and friends).

Each certificate is built here in the shape the CA issues (see the OID constants in dian/trust.py for what was found
about each): GSE's 4710.1.3.2, Certicámara's 23267.2.3 (subject attribute, and the extension form), Camerfirma's
serialNumber with the DV run in (and 17326.30.3), Andes SCD's serialNumber, Olimpia's organizationIdentifier.
"""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from dian.nit import check_digit
from dian.reception import verify_received
from dian.trust import (
    CAMERFIRMA_ORG_ID_OID,
    CERTICAMARA_NIT_OID,
    CERTICAMARA_PERSON_ID_OID,
    NIT_OID,
    SigningIdentity,
    TrustStore,
    certificate_nit,
    certificate_nits,
    nit_matches,
)
from dian.xades import Outcome, sign
from tests.pki import (
    COMPANY_NIT,
    NOT_AFTER,
    NOT_BEFORE,
    SUPPLIER_NIT,
    Issued,
    _key,
    application_response_xml,
    attached_document_xml,
    invoice_xml,
    issue,
    pki,
)

CEDULA = "79111222"  # the legal representative's cédula (its last digit is not the DV of the others)
SIGNED_AT = dt.datetime(2025, 3, 3, 14, 0, tzinfo=dt.UTC)


def _subject(cn: str, *attrs: tuple[x509.ObjectIdentifier, str]) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CO"),
            *(x509.NameAttribute(oid, value) for oid, value in attrs),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _issue(subject: x509.Name, label: str) -> x509.Certificate:
    return issue(subject, key_label=label, issuer=pki().intermediate).cert


def _with_extension(subject: x509.Name, oid: x509.ObjectIdentifier, value: bytes) -> x509.Certificate:
    """A certificate carrying ``value`` as the DER of a private, non-critical extension ``oid``."""
    inter = pki().intermediate
    key = _key("ext-form")
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(inter.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
        .add_extension(x509.UnrecognizedExtension(oid, value), critical=False)
        .sign(inter.key, hashes.SHA256())
    )


def _der(tag: int, body: bytes) -> bytes:
    assert len(body) < 128
    return bytes([tag, len(body)]) + body


def test_certicamara_company_nit_wins_over_the_legal_representatives_cedula() -> None:
    cert = _issue(
        _subject(
            "EMPRESA COMPRADORA S.A.S.",
            (NameOID.SERIAL_NUMBER, CEDULA),
            (CERTICAMARA_NIT_OID, COMPANY_NIT),
            (CERTICAMARA_PERSON_ID_OID, CEDULA),
        ),
        "certicamara",
    )
    assert certificate_nit(cert) == COMPANY_NIT
    assert certificate_nits(cert)[0] == COMPANY_NIT
    assert nit_matches(cert, f"{COMPANY_NIT}-{check_digit(COMPANY_NIT)}")
    # The cédula is the person's, not a NIT of this company certificate.
    assert CEDULA not in certificate_nits(cert)
    assert not nit_matches(cert, CEDULA)


def test_certicamara_nit_with_its_dv_and_words_around_it() -> None:
    cert = _issue(
        _subject("EMPRESA", (NameOID.SERIAL_NUMBER, CEDULA), (CERTICAMARA_NIT_OID, "NIT 900.654.321-0")),
        "certicamara-dv",
    )
    assert certificate_nits(cert) == (COMPANY_NIT,)
    assert certificate_nit(cert) == COMPANY_NIT


@pytest.mark.parametrize(
    "value",
    [
        _der(0x0C, COMPANY_NIT.encode()),  # UTF8String
        _der(0x13, COMPANY_NIT.encode()),  # PrintableString
        _der(0x16, f"{COMPANY_NIT}-0".encode()),  # IA5String, with the DV
        _der(0x04, _der(0x0C, COMPANY_NIT.encode())),  # wrapped in an OCTET STRING
        _der(0x30, _der(0x06, b"\x2b\x06\x01") + _der(0x13, COMPANY_NIT.encode())),  # in a SEQUENCE beside an OID
        COMPANY_NIT.encode(),  # bare text, not DER
    ],
    ids=["utf8", "printable", "ia5-dv", "octet-string", "sequence", "bare"],
)
def test_certicamara_nit_as_an_extension(value: bytes) -> None:
    cert = _with_extension(_subject("EMPRESA", (NameOID.SERIAL_NUMBER, CEDULA)), CERTICAMARA_NIT_OID, value)
    assert certificate_nit(cert) == COMPANY_NIT
    assert nit_matches(cert, COMPANY_NIT)
    assert not nit_matches(cert, CEDULA)


@pytest.mark.parametrize("value", [b"\x30\x85\x01", b"\x0c\x7f" + b"9" * 3, b"\xff\xfe\x00", b""])
def test_a_malformed_nit_extension_is_ignored(value: bytes) -> None:
    cert = _with_extension(_subject("EMPRESA", (NameOID.SERIAL_NUMBER, CEDULA)), CERTICAMARA_NIT_OID, value)
    # Nothing readable in the extension: the serialNumber is all the certificate names.
    assert certificate_nits(cert) == (CEDULA,)


def test_gse_nit_oid_and_serial_number() -> None:
    # DIAN's own certificate and GSE's company certificates: 4710.1.3.2 = NIT, serialNumber = the same NIT.
    run_in = COMPANY_NIT + check_digit(COMPANY_NIT)
    cert = _issue(_subject("EMPRESA", (NIT_OID, COMPANY_NIT), (NameOID.SERIAL_NUMBER, run_in)), "gse")
    assert certificate_nits(cert) == (COMPANY_NIT, run_in)
    assert certificate_nit(cert) == COMPANY_NIT
    assert nit_matches(cert, run_in)


def test_a_bare_nit_whose_last_digit_looks_like_a_dv_keeps_its_nine_digits() -> None:
    # 900000008: its last digit is the DV of 90000000, yet an organisation NIT has 9 digits and GSE writes it bare.
    nit = "900000008"
    assert check_digit(nit[:-1]) == nit[-1]
    cert = _issue(_subject("EMPRESA", (NIT_OID, nit), (NameOID.SERIAL_NUMBER, nit)), "gse-ambiguous")
    assert certificate_nits(cert) == (nit,)
    assert certificate_nit(cert) == nit
    assert not nit_matches(cert, nit[:-1])


def test_gse_person_id_in_serial_number_does_not_count_beside_the_nit() -> None:
    cert = _issue(_subject("EMPRESA", (NIT_OID, COMPANY_NIT), (NameOID.SERIAL_NUMBER, CEDULA)), "gse-person")
    assert certificate_nits(cert) == (COMPANY_NIT,)


def test_camerfirma_company_serial_number_runs_the_dv_in() -> None:
    run_in = SUPPLIER_NIT + check_digit(SUPPLIER_NIT)
    cert = _issue(_subject("PROVEEDOR", (NameOID.SERIAL_NUMBER, run_in)), "camerfirma")
    assert certificate_nits(cert) == (run_in, SUPPLIER_NIT)
    assert certificate_nit(cert) == SUPPLIER_NIT


def test_camerfirma_organisation_id_attribute_wins() -> None:
    cert = _issue(
        _subject("PROVEEDOR", (NameOID.SERIAL_NUMBER, CEDULA), (CAMERFIRMA_ORG_ID_OID, SUPPLIER_NIT)),
        "camerfirma-org",
    )
    assert certificate_nit(cert) == SUPPLIER_NIT
    assert not nit_matches(cert, CEDULA)


def test_a_natural_person_certificate_names_the_cedula() -> None:
    # A persona natural invoices under her cédula: with no organisation NIT, serialNumber is the NIT.
    cert = _issue(
        _subject("ANA PÉREZ", (NameOID.SERIAL_NUMBER, CEDULA), (CERTICAMARA_PERSON_ID_OID, CEDULA)), "person"
    )
    assert certificate_nit(cert) == CEDULA
    assert nit_matches(cert, CEDULA)


@pytest.mark.parametrize("value", [COMPANY_NIT, f"VATCO-{COMPANY_NIT}", f"NTRCO-{COMPANY_NIT}-0"])
def test_olimpia_organization_identifier(value: str) -> None:
    cert = _issue(
        _subject("EMPRESA", (NameOID.ORGANIZATION_IDENTIFIER, value), (NameOID.SERIAL_NUMBER, CEDULA)), "olimpia"
    )
    assert certificate_nit(cert) == COMPANY_NIT
    assert not nit_matches(cert, CEDULA)


def test_only_ascii_digits_make_a_nit() -> None:
    # Arabic-Indic digits are digits to str.isdigit, not to a NIT.
    cert = _issue(_subject("RARO", (CERTICAMARA_NIT_OID, "٩٠٠٦٥٤٣٢١")), "arabic")
    assert certificate_nits(cert) == ()
    assert certificate_nit(cert) is None
    assert not nit_matches(cert, "٩٠٠٦٥٤٣٢١")


def _certicamara_supplier(*, with_nit_oid: bool) -> Issued:
    attrs = [(NameOID.SERIAL_NUMBER, CEDULA)]
    if with_nit_oid:
        attrs.append((CERTICAMARA_NIT_OID, SUPPLIER_NIT))
    return issue(
        _subject("PROVEEDOR DE PRUEBA S.A.S.", *attrs),
        key_label=f"certicamara-supplier-{with_nit_oid}",
        issuer=pki().intermediate,
    )


@pytest.mark.parametrize("with_nit_oid", [True, False])
def test_a_document_signed_with_a_certicamara_company_certificate(with_nit_oid: bool) -> None:
    """Through verify_received: the signer's NIT check passes on 23267.2.3; with the cédula alone it fails."""
    p = pki()
    signer = _certicamara_supplier(with_nit_oid=with_nit_oid)
    invoice = sign(
        invoice_xml(), SigningIdentity(signer.key, signer.cert, signer.chain), signing_time=SIGNED_AT, role="supplier"
    )
    answer = sign(
        application_response_xml(), SigningIdentity(p.dian.key, p.dian.cert, p.dian.chain), signing_time=SIGNED_AT
    )
    store = TrustStore(anchors=(p.root.cert, p.intermediate.cert, p.dian_root.cert))
    report = verify_received(attached_document_xml(invoice, answer), trust=store, our_nit=COMPANY_NIT)
    check = next(c for c in report.checks if c.name == "document.signer.nit")
    if with_nit_oid:
        assert check.outcome is Outcome.PASS, check.detail
        assert report.document_signature.signer_nit == SUPPLIER_NIT
    else:
        assert check.outcome is Outcome.FAIL
        assert CEDULA in check.detail
