"""Trust you can defend (issue 14), through intake on SQLite and PostgreSQL: DIAN's word counts only when proven.

Each forgery below is a set of *real* signatures (xmlsec1 verifies them); what is false is their anchor: a forger's
own CA, a forger's own "DIAN" whose subject says NIT 800197268, a stranger's event. None of them may come out valid,
and none may change an invoice's state.
"""

from __future__ import annotations

import sqlalchemy as sa

from dian.calendar import BusinessCalendar
from dian.codes import DocumentState, EventCode
from dian.trust import TrustStore
from inbox.intake import Envelope
from store.models import (
    AuditEntry,
    DocumentEvent,
    LooseAnswer,
    MailStatus,
    QuarantineReason,
    ReceivedDocument,
    SubmissionState,
    Verdict,
)
from store.state import refresh_documents
from tests.integration.inbox_fixtures import (
    bed_fixture,  # noqa: F401 - the `bed` fixture
    mail,
    signed,
)
from tests.integration.trust_fixtures import (
    STRANGER_NIT,
    dian_answer,
    event_from,
    event_mail,
    forged,
    party,
    stranger,
    xmlsec_verifies,
)
from tests.services import xmlsec1  # noqa: F401 - the fixture

COMPANY = "900654321"


def envelope(data: bytes, uid: int) -> Envelope:
    return Envelope(mailbox="trust", data=data, uidvalidity=1, uid=uid)


def intake(bed, **policy):
    calendar = BusinessCalendar()
    return bed.intake(
        our_nit=COMPANY,
        trust=policy.pop("trust", signed().trust),
        on_documents=lambda ids: refresh_documents(bed.sessions, ids, calendar),
        **policy,
    )


def document(bed, cufe: str) -> ReceivedDocument:
    with bed.session() as s:
        return s.execute(sa.select(ReceivedDocument).where(ReceivedDocument.cufe == cufe)).scalar_one()


def test_the_full_forgery_is_filed_unconfirmed_never_valid(bed, xmlsec1, tmp_path) -> None:  # noqa: F811
    fake = forged()
    # Real signatures: the independent verifier accepts the invoice's and the forged "DIAN"'s alike.
    assert xmlsec_verifies(xmlsec1, fake.invoice.signed, tmp_path, "invoice.xml")
    assert xmlsec_verifies(xmlsec1, fake.invoice.answer, tmp_path, "answer.xml")
    # A trust store is configured (the genuine demo CA): the forger's CA is not in it.
    result = intake(bed).take(envelope(mail(("ad.xml", fake.invoice.attached)), uid=1))
    assert result.status == MailStatus.FILED
    doc = document(bed, fake.invoice.cufe)
    assert (doc.verdict, doc.state) == (Verdict.UNCONFIRMED, DocumentState.UNCONFIRMED)
    checks = {c["name"]: c for c in doc.report["checks"]}
    assert checks["dian.certificate.chain"]["outcome"] == "warn"
    assert "validación DIAN sin confirmar" in checks["dian.certificate.chain"]["detail"]
    assert doc.report["dian_validated"] is False
    # The genuine document, in the same install, is proven by its DIAN answer chaining to the trusted CA.
    genuine = signed()
    assert intake(bed).take(envelope(mail(("ad.xml", genuine.invoice.attached)), uid=2)).status == MailStatus.FILED
    real = document(bed, genuine.invoice.cufe)
    assert real.verdict in {Verdict.VALID, Verdict.VALID_WITH_WARNINGS} and real.report["dian_validated"] is True
    assert real.state == DocumentState.VALIDATED


def test_the_full_forgery_is_quarantined_when_dian_validation_is_required(bed) -> None:
    result = intake(bed, require_dian_validation=True).take(envelope(mail(("ad.xml", forged().invoice.attached)), 1))
    assert (result.status, result.reason) == (MailStatus.QUARANTINED, QuarantineReason.NOT_VALIDATED)
    assert "validación DIAN sin confirmar" in result.detail
    with bed.session() as s:
        assert s.execute(sa.select(sa.func.count()).select_from(ReceivedDocument)).scalar() == 0


def test_a_bare_self_signed_invoice_is_unconfirmed(bed) -> None:
    result = intake(bed).take(envelope(mail(("factura.xml", forged().invoice.signed)), uid=1))
    assert result.status == MailStatus.FILED
    doc = document(bed, forged().invoice.cufe)
    assert (doc.verdict, doc.state) == (Verdict.UNCONFIRMED, DocumentState.UNCONFIRMED)
    assert any(c["name"] == "dian.response" and "sin confirmar" in c["detail"] for c in doc.report["checks"])


def test_a_forged_034_from_a_stranger_is_quarantined_and_changes_nothing(bed) -> None:
    genuine = signed()
    assert intake(bed).take(envelope(mail(("ad.xml", genuine.invoice.attached)), uid=1)).status == MailStatus.FILED
    container = event_mail(genuine, stranger(), party(STRANGER_NIT, "ATACANTE S.A.S."), forged().pki.dian, COMPANY)
    result = intake(bed).take(envelope(mail(("evento.xml", container)), uid=2))
    assert (result.status, result.reason) == (MailStatus.QUARANTINED, QuarantineReason.FORGED)
    assert STRANGER_NIT in result.detail and "vendedor" in result.detail
    with bed.session() as s:
        assert s.execute(sa.select(sa.func.count()).select_from(DocumentEvent)).scalar() == 0
    assert document(bed, genuine.invoice.cufe).state == DocumentState.VALIDATED


def test_an_event_whose_signer_is_not_its_sender_is_forged(bed) -> None:
    genuine = signed()
    intake(bed).take(envelope(mail(("ad.xml", genuine.invoice.attached)), uid=1))
    seller = party(genuine.invoice.supplier.nit, genuine.invoice.supplier.name)
    # The stranger signs an event that names the real seller as its sender.
    event = event_from(stranger(), seller, genuine)
    result = intake(bed).take(envelope(mail(("evento.xml", event)), uid=2))
    assert (result.status, result.reason) == (MailStatus.QUARANTINED, QuarantineReason.FORGED)
    assert STRANGER_NIT in result.detail and "event.signer.nit" not in result.detail


def test_a_genuine_034_registered_by_dian_makes_the_invoice_tacitly_accepted(bed) -> None:
    genuine = signed()
    intake(bed).take(envelope(mail(("ad.xml", genuine.invoice.attached)), uid=1))
    seller = party(genuine.invoice.supplier.nit, genuine.invoice.supplier.name)
    signer = genuine.pki.suppliers[genuine.invoice.supplier.nit]
    container = event_mail(genuine, signer, seller, genuine.pki.dian, COMPANY)  # the demo DIAN: trusted CA
    result = intake(bed).take(envelope(mail(("evento.xml", container)), uid=2))
    assert result.status == MailStatus.FILED, result.detail
    with bed.session() as s:
        observed = s.execute(sa.select(DocumentEvent)).scalar_one()
        assert observed.submission_state == SubmissionState.REGISTERED
        assert observed.code == EventCode.ACEPTACION_TACITA
        assert observed.signing_time is not None  # the signed xades:SigningTime, not IssueDate
    assert document(bed, genuine.invoice.cufe).state == DocumentState.TACITLY_ACCEPTED


def test_a_genuine_034_with_a_forged_dian_answer_waits_for_dians_confirmation(bed) -> None:
    genuine = signed()
    intake(bed).take(envelope(mail(("ad.xml", genuine.invoice.attached)), uid=1))
    seller = party(genuine.invoice.supplier.nit, genuine.invoice.supplier.name)
    signer = genuine.pki.suppliers[genuine.invoice.supplier.nit]
    container = event_mail(genuine, signer, seller, forged().pki.dian, COMPANY)  # a "DIAN" nobody trusts
    assert intake(bed).take(envelope(mail(("evento.xml", container)), uid=2)).status == MailStatus.FILED
    with bed.session() as s:
        observed = s.execute(sa.select(DocumentEvent)).scalar_one()
        assert observed.submission_state == SubmissionState.SENT  # observed, pending DIAN's confirmation
        assert "pendiente de confirmación" in (observed.note or "")
    # The invoice's state waits for DIAN: the buyer's own 031/033 are still possible.
    assert document(bed, genuine.invoice.cufe).state == DocumentState.VALIDATED


def test_dians_answer_mailed_apart_confirms_its_invoice_whichever_arrives_first(bed) -> None:
    genuine = signed()
    # Answer first: kept by CUFE.
    first = intake(bed).take(envelope(mail(("respuesta.xml", genuine.invoice.answer)), uid=1))
    assert first.status == MailStatus.FILED and first.answers == [genuine.invoice.cufe]
    # Then the bare invoice: weighed with the answer that waited for it, and filed proven.
    second = intake(bed).take(envelope(mail(("factura.xml", genuine.invoice.signed)), uid=2))
    assert second.filed == [genuine.invoice.cufe]
    doc = document(bed, genuine.invoice.cufe)
    assert doc.verdict in {Verdict.VALID, Verdict.VALID_WITH_WARNINGS} and doc.dian_response_blob is not None
    with bed.session() as s:
        loose = s.execute(sa.select(LooseAnswer)).scalar_one()
        assert loose.document_id == doc.id
    # The other order: the note first (unconfirmed), its answer after confirms it on file.
    note = genuine.note
    intake(bed).take(envelope(mail(("nota.xml", note.signed)), uid=3))
    assert document(bed, note.cufe).verdict == Verdict.UNCONFIRMED
    later = intake(bed).take(envelope(mail(("respuesta.xml", note.answer)), uid=4))
    assert later.status == MailStatus.FILED and later.confirmed == [note.cufe]
    confirmed = document(bed, note.cufe)
    assert confirmed.verdict in {Verdict.VALID, Verdict.VALID_WITH_WARNINGS}
    assert confirmed.state == DocumentState.VALIDATED


def test_a_forged_dian_answer_mailed_apart_proves_nothing(bed) -> None:
    fake = forged()
    genuine = signed()
    intake(bed).take(envelope(mail(("factura.xml", genuine.invoice.signed)), uid=1))
    # The forger's "DIAN" answer about the genuine invoice: signed, but anchored in nothing.
    answer = dian_answer(fake.pki.dian, genuine.invoice.number, genuine.invoice.cufe,
                         party(genuine.invoice.supplier.nit, "X"))  # fmt: skip
    intake(bed, trust=TrustStore(anchors=(genuine.pki.ca,))).take(envelope(mail(("r.xml", answer)), uid=2))
    assert document(bed, genuine.invoice.cufe).verdict == Verdict.UNCONFIRMED


def test_a_strangers_034_mailed_before_its_invoice_is_refused_when_the_invoice_arrives(bed) -> None:
    genuine = signed()
    container = event_mail(genuine, stranger(), party(STRANGER_NIT, "ATACANTE S.A.S."), forged().pki.dian, COMPANY)
    early = intake(bed).take(envelope(mail(("evento.xml", container)), uid=1))
    assert early.status == MailStatus.FILED  # its invoice is not on file: kept, pending, changing nothing
    assert intake(bed).take(envelope(mail(("ad.xml", genuine.invoice.attached)), uid=2)).status == MailStatus.FILED
    with bed.session() as s:
        event = s.execute(sa.select(DocumentEvent)).scalar_one()
        assert event.document_id is not None  # linked to the invoice that arrived
        assert event.submission_state == SubmissionState.REJECTED
        assert STRANGER_NIT in (event.note or "") and "vendedor" in (event.note or "")
        audited = s.execute(
            sa.select(sa.func.count()).select_from(AuditEntry).where(AuditEntry.action == "document.event.refused")
        ).scalar()
        assert audited == 1
    assert document(bed, genuine.invoice.cufe).state == DocumentState.VALIDATED


def test_the_sellers_034_mailed_before_its_invoice_stays_pending_when_the_invoice_arrives(bed) -> None:
    genuine = signed()
    seller = party(genuine.invoice.supplier.nit, genuine.invoice.supplier.name)
    signer = genuine.pki.suppliers[genuine.invoice.supplier.nit]
    container = event_mail(genuine, signer, seller, forged().pki.dian, COMPANY)  # unproven DIAN answer
    intake(bed).take(envelope(mail(("evento.xml", container)), uid=1))
    intake(bed).take(envelope(mail(("ad.xml", genuine.invoice.attached)), uid=2))
    with bed.session() as s:
        event = s.execute(sa.select(DocumentEvent)).scalar_one()
        assert event.document_id is not None and event.submission_state == SubmissionState.SENT
    assert document(bed, genuine.invoice.cufe).state == DocumentState.VALIDATED
