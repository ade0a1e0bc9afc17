"""Real documents from providers we had not seen (issue 14 point 4), through intake on SQLite and PostgreSQL: two
prefixes for one namespace URI in scope of the SignedProperties, a Certicámara company certificate whose
serialNumber is the legal representative's cédula, and AttachedDocuments sloppy where the signed invoice is not.
Each is built here (tests/pki.py), never copied from a sample; signatures are cross-checked with xmlsec1."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from dian.trust import SigningIdentity, TrustStore
from dian.xades import sign
from inbox.intake import Envelope
from store.models import MailStatus, ReceivedDocument, Verdict
from tests.integration.inbox_fixtures import (
    bed_fixture,  # noqa: F401 - the `bed` fixture
    mail,
)
from tests.integration.trust_fixtures import xmlsec_verifies
from tests.pki import COMPANY_NIT, SUPPLIER_NIT, application_response_xml, attached_document_xml, invoice_xml, pki
from tests.services import xmlsec1  # noqa: F401 - the fixture
from tests.unit.test_c14n_prefixes import SIGNED_AT, two_prefix_document
from tests.unit.test_certificate_nits import CEDULA, _certicamara_supplier
from tests.unit.test_hostile_xml import SLOPPY, _sloppy

VALID = {Verdict.VALID, Verdict.VALID_WITH_WARNINGS}


def trust() -> TrustStore:
    p = pki()
    return TrustStore(anchors=(p.root.cert, p.intermediate.cert, p.dian_root.cert))


def file_one(bed, data: bytes, uid: int = 1) -> ReceivedDocument:
    result = bed.intake(our_nit=COMPANY_NIT, trust=trust()).take(
        Envelope(mailbox="shapes", data=mail(("ad.xml", data)), uidvalidity=1, uid=uid)
    )
    assert result.status == MailStatus.FILED, result.detail
    with bed.session() as s:
        return s.execute(sa.select(ReceivedDocument).where(ReceivedDocument.mail_message_id == result.mail_id)).one()[0]


def identity(issued) -> SigningIdentity:
    return SigningIdentity(issued.key, issued.cert, issued.chain)


def test_two_prefixes_for_one_namespace_uri_are_filed_valid(bed, xmlsec1, tmp_path) -> None:  # noqa: F811
    document = two_prefix_document("root+signature")
    answer = two_prefix_document("root+signature", application_response_xml(), pki().dian)
    assert xmlsec_verifies(xmlsec1, document, tmp_path, "invoice.xml")  # the independent verifier agrees
    assert xmlsec_verifies(xmlsec1, answer, tmp_path, "answer.xml")
    doc = file_one(bed, attached_document_xml(document, answer))
    assert doc.verdict in VALID
    checks = {c["name"]: c["outcome"] for c in doc.report["checks"]}
    assert checks["document.reference.signed_properties"] == "pass"
    assert checks["dian.reference.signed_properties"] == "pass"


def test_a_certicamara_company_certificate_is_read_by_its_nit(bed, xmlsec1, tmp_path) -> None:  # noqa: F811
    signer = _certicamara_supplier(with_nit_oid=True)
    invoice = sign(invoice_xml(), identity(signer), signing_time=SIGNED_AT, role="supplier")
    answer = sign(application_response_xml(), identity(pki().dian), signing_time=SIGNED_AT)
    assert xmlsec_verifies(xmlsec1, invoice, tmp_path, "certicamara.xml")
    doc = file_one(bed, attached_document_xml(invoice, answer))
    assert doc.verdict in VALID
    signer_check = next(c for c in doc.report["checks"] if c["name"] == "document.signer.nit")
    assert signer_check["outcome"] == "pass" and SUPPLIER_NIT in signer_check["detail"]
    assert CEDULA not in signer_check["detail"]
    assert doc.report["document_signature"]["signer_nit"] == SUPPLIER_NIT


@pytest.mark.parametrize("case", sorted(SLOPPY))
def test_a_container_sloppy_where_the_signed_invoice_is_not_is_filed(bed, case: str) -> None:
    p = pki()
    document = sign(invoice_xml(), identity(p.supplier), signing_time=SIGNED_AT)
    answer = sign(application_response_xml(), identity(p.dian), signing_time=SIGNED_AT)
    container = _sloppy(attached_document_xml(document, answer), *SLOPPY[case])
    doc = file_one(bed, container)
    assert doc.verdict in VALID and doc.number == "SETP990000001"
    assert doc.report["dian_validated"] is True
