"""Intake on SQLite and PostgreSQL: real samples filed with their report and blobs, hostile mail quarantined with a
reason a clerk can read, duplicates never filed twice, notes linked to their invoice, counterpart events recorded."""

from __future__ import annotations

import hashlib
import re

import sqlalchemy as sa

from dian.codes import DocumentState, DocumentType, Environment, EventCode
from dian.proof import OnlineAnswer
from dian.xades import sign
from inbox.intake import Envelope
from store.models import (
    AuditEntry,
    Direction,
    DocumentEvent,
    MailMessage,
    MailStatus,
    QuarantineReason,
    ReceivedDocument,
    Verdict,
)
from tests.conftest import sample_bytes
from tests.integration.inbox_fixtures import (
    NOW,
    OTHER_BUYER_SAMPLE,
    OUR_BARE,
    OUR_SAMPLE,
    PDF,
    XXE,
    bed_fixture,  # noqa: F401 - the `bed` fixture
    event_xml,
    mail,
    numbered,
    resigned,
    sample_mail,
    signed,
    tampered,
    zip_bomb,
    zip_bytes,
)


def envelope(data: bytes, uid: int | None = None, name: str = "m.eml", mailbox: str = "test") -> Envelope:
    return Envelope(mailbox=mailbox, data=data, name=name, uidvalidity=1 if uid else None, uid=uid)


def test_real_sample_is_filed_with_report_pdf_blobs_and_audit(bed) -> None:
    intake = bed.intake()
    result = intake.take(envelope(sample_mail(), uid=1))
    assert result.status == MailStatus.FILED, result.detail
    with bed.session() as s:
        doc = s.execute(sa.select(ReceivedDocument)).scalar_one()
        assert doc.number == "DP20602" and doc.buyer_nit == "805007280"
        assert doc.cufe == result.filed[0] and doc.cufe == doc.cufe.lower()
        assert doc.verdict.value == "valid_with_warnings"  # no Colombian CA in the empty trust store
        assert {c["name"] for c in doc.report["checks"]} >= {"document.signature", "buyer.nit", "dian.response"}
        assert doc.report["intake"]["mail_message_id"] == result.mail_id
        assert bed.blobs.get(doc.pdf_blob) == PDF
        signed_xml = bed.blobs.get(doc.signed_xml_blob)
        assert signed_xml in sample_bytes(OUR_SAMPLE)  # the exact signed bytes of the CDATA
        assert bed.blobs.get(doc.attached_blob) == sample_bytes(OUR_SAMPLE)
        assert b"ApplicationResponse" in bed.blobs.get(doc.dian_response_blob)
        assert doc.payable_amount > 0 and doc.line_count == len(doc.lines) > 0
        message = s.get(MailMessage, result.mail_id)
        assert message.status == MailStatus.FILED and message.uid == 1
        assert b"DP20602" in bed.blobs.get(message.blob_key) or b"z0000000000.zip" in bed.blobs.get(message.blob_key)
        audit = s.execute(sa.select(AuditEntry).where(AuditEntry.action == "document.filed")).scalar_one()
        assert audit.actor == "system:intake" and audit.subject == doc.cufe


def test_the_same_invoice_twice_makes_one_document(bed) -> None:
    intake = bed.intake()
    data = sample_mail(message_id="<same@proveedor.test>")
    first = intake.take(envelope(data, uid=1))
    again_same_uid = intake.take(envelope(data, uid=1))
    same_message_other_uid = intake.take(envelope(data, uid=2))
    resent = intake.take(envelope(sample_mail(), uid=3))  # another mail with the same invoice
    assert first.status == MailStatus.FILED
    assert again_same_uid.earlier and again_same_uid.mail_id == first.mail_id
    assert same_message_other_uid.status == MailStatus.IGNORED
    assert same_message_other_uid.reason == QuarantineReason.DUPLICATE
    assert resent.status == MailStatus.IGNORED and resent.duplicates == first.filed
    with bed.session() as s:
        assert s.execute(sa.select(sa.func.count()).select_from(ReceivedDocument)).scalar() == 1
        assert s.execute(sa.select(sa.func.count()).select_from(MailMessage)).scalar() == 3


def test_bare_invoice_and_loose_xml_are_read_liberally(bed) -> None:
    intake = bed.intake()
    result = intake.take(envelope(mail(("factura.xml", sample_bytes(OUR_BARE)), ("f.pdf", PDF)), uid=1))
    assert result.status == MailStatus.FILED, result.detail
    with bed.session() as s:
        doc = s.execute(sa.select(ReceivedDocument)).scalar_one()
        assert doc.dian_response_blob is None and doc.pdf_blob is not None
        assert any(c["name"] == "dian.response" and c["outcome"] == "warn" for c in doc.report["checks"])


def test_bare_invoice_quarantined_when_policy_requires_dian_validation(bed) -> None:
    intake = bed.intake(require_dian_validation=True)
    result = intake.take(envelope(mail(("factura.xml", sample_bytes(OUR_BARE))), uid=1))
    assert (result.status, result.reason) == (MailStatus.QUARANTINED, QuarantineReason.NOT_VALIDATED)


def test_online_check_refusal_quarantines_and_an_undecided_answer_files_it_unconfirmed(bed) -> None:
    # The online check is asked only about documents DIAN's answer does not prove offline (the bare invoice).
    asked: list[str] = []

    def dian_says(code: str, description: str = "") -> object:
        def check(cufe: str) -> OnlineAnswer:
            asked.append(cufe)
            return OnlineAnswer(code, description)

        return check

    refused = bed.intake(online_check=dian_says("99", "Documento con errores"))
    result = refused.take(envelope(mail(("factura.xml", sample_bytes(OUR_BARE))), uid=1))
    assert (result.status, result.reason) == (MailStatus.QUARANTINED, QuarantineReason.NOT_VALIDATED)
    assert "DIAN no valida este CUFE (GetStatus 99: Documento con errores)" in result.detail
    # 66 (not found yet) and 98 (in process) are not final: filed "sin confirmar", asked again by the job.
    pending = bed.intake(online_check=dian_says("98"))
    result = pending.take(envelope(mail(("factura.xml", sample_bytes(OUR_BARE))), uid=2))
    assert result.status == MailStatus.FILED
    with bed.session() as s:
        doc = s.execute(sa.select(ReceivedDocument)).scalar_one()
        assert (doc.verdict, doc.state) == (Verdict.UNCONFIRMED, DocumentState.UNCONFIRMED)
        online = next(c for c in doc.report["checks"] if c["name"] == "dian.online")
        assert online["outcome"] == "warn" and "98" in online["detail"]
    # The AttachedDocument's DIAN answer is proven by the shipped pin: DIAN is not asked about it.
    before = len(asked)
    assert pending.take(envelope(sample_mail(), uid=3)).status == MailStatus.FILED
    assert len(asked) == before


def test_dian_down_files_the_document_unconfirmed(bed) -> None:
    def down(cufe: str) -> OnlineAnswer:
        raise TimeoutError("sin respuesta")

    result = bed.intake(online_check=down).take(envelope(mail(("factura.xml", sample_bytes(OUR_BARE))), uid=1))
    assert result.status == MailStatus.FILED
    with bed.session() as s:
        doc = s.execute(sa.select(ReceivedDocument)).scalar_one()
        assert doc.verdict == Verdict.UNCONFIRMED
        online = next(c for c in doc.report["checks"] if c["name"] == "dian.online")
        said = "no se pudo consultar el documento en DIAN: la DIAN no respondió a tiempo; se reintenta"
        assert online["detail"] == said  # the timeout in words, not the exception's text


def quarantined(bed, data: bytes, **policy) -> tuple[QuarantineReason, str]:
    result = bed.intake(**policy).take(envelope(data))
    assert result.status == MailStatus.QUARANTINED and not result.earlier, result
    with bed.session() as s:
        assert s.execute(sa.select(sa.func.count()).select_from(ReceivedDocument)).scalar() == 0
        message = s.get(MailMessage, result.mail_id)
        assert (message.reason, message.reason_detail) == (result.reason, result.detail)
        entry = s.execute(
            sa.select(AuditEntry).where(
                AuditEntry.action == "mail.quarantined", AuditEntry.subject == f"mail:{message.id}"
            )
        ).scalar_one()
        assert entry.data["reason"] == result.reason.value
    return result.reason, result.detail


def test_hostile_and_wrong_mail_is_quarantined_with_a_reason(bed) -> None:
    reason, detail = quarantined(bed, sample_mail(OTHER_BUYER_SAMPLE))
    assert reason == QuarantineReason.NOT_FOR_US and "900923112" in detail and "805007280" in detail
    reason, detail = quarantined(bed, mail(("ad.xml", tampered())))
    assert reason == QuarantineReason.SIGNATURE_INVALID and detail.startswith("La firma del documento no es válida")
    # What the altered document claims, marked unproven, so the clerk can chase the supplier.
    assert "dice ser factura electrónica de venta DP20602" in detail and "nada de esto está probado" in detail
    reason, detail = quarantined(bed, mail(("ad.xml", XXE)))
    assert reason == QuarantineReason.UNREADABLE
    reason, detail = quarantined(bed, mail(("z.zip", zip_bomb())))
    assert reason == QuarantineReason.TOO_LARGE and "bomba zip" in detail
    reason, detail = quarantined(bed, mail())
    assert reason == QuarantineReason.NO_DOCUMENT and "ningún adjunto" in detail
    reason, detail = quarantined(bed, mail(("f.pdf", PDF), subject="Evento;FV1;900;X;1;030"))
    assert reason == QuarantineReason.NO_DOCUMENT and "anuncia un evento" in detail
    reason, detail = quarantined(bed, sample_mail(), max_message_bytes=10_000)
    assert reason == QuarantineReason.TOO_LARGE
    reason, detail = quarantined(bed, mail(("z.zip", b"PK\x03\x04 not really a zip")))
    assert reason == QuarantineReason.UNREADABLE


def test_same_cufe_with_other_signed_content_is_quarantined_as_duplicate(bed) -> None:
    s_ = signed()
    intake = bed.intake(s_.company_nit, trust=s_.trust)
    assert intake.take(envelope(mail(("ad.xml", s_.invoice.attached)), uid=1)).status == MailStatus.FILED
    result = intake.take(envelope(mail(("fv.xml", resigned(s_))), uid=2))
    assert (result.status, result.reason) == (MailStatus.QUARANTINED, QuarantineReason.DUPLICATE)
    assert "ya está archivado" in result.detail


def test_a_supplier_number_filed_again_under_another_cufe_is_filed_with_a_warning(bed) -> None:
    s_ = signed()
    intake = bed.intake(s_.company_nit, trust=s_.trust)
    first = intake.take(envelope(mail(("ad.xml", s_.invoice.attached)), uid=1))
    other = numbered(s_, 42, quantity=11)  # the same supplier and number, other content: another CUFE
    assert other.number == s_.invoice.number and other.cufe != s_.invoice.cufe
    again = intake.take(envelope(mail(("ad.xml", other.attached)), uid=2))
    # Two more under one number in one batch: the second is warned about the first, not yet inserted.
    batch = [numbered(s_, 43, quantity=q) for q in (3, 4)]
    both = intake.take_many([envelope(mail(("ad.xml", d.attached)), uid=3 + i) for i, d in enumerate(batch)])
    assert [r.status for r in (first, again, *both)] == [MailStatus.FILED] * 4, [r.detail for r in both]
    with bed.session() as s:
        rows = {d.cufe: d for d in s.scalars(sa.select(ReceivedDocument))}
    warned = {cufe: [c for c in d.report["checks"] if c["name"] == "document.number"] for cufe, d in rows.items()}
    first_id = rows[s_.invoice.cufe.lower()].id
    assert warned[s_.invoice.cufe.lower()] == [] and warned[batch[0].cufe.lower()] == []
    assert rows[s_.invoice.cufe.lower()].verdict == Verdict.VALID
    (check,) = warned[other.cufe.lower()]
    assert check["outcome"] == "warn" and f"número {other.number}" in check["detail"], check
    assert f"documento #{first_id}" in check["detail"] and s_.invoice.cufe.lower()[:16] in check["detail"]
    assert rows[other.cufe.lower()].verdict == Verdict.VALID_WITH_WARNINGS  # filed, its signatures all pass
    (in_batch,) = warned[batch[1].cufe.lower()]
    assert "otro documento de este mismo lote" in in_batch["detail"], in_batch


def test_a_document_of_another_dian_environment_is_quarantined_in_production_and_warned_in_habilitacion(bed) -> None:
    # The demo documents are of DIAN's test environment (ProfileExecutionID 2) and carry a DIAN answer that verifies:
    # a production install still must not file one as an invoice.
    s_ = signed()
    production = bed.intake(s_.company_nit, trust=s_.trust, environment=Environment.PRODUCTION)
    result = production.take(envelope(mail(("ad.xml", s_.invoice.attached)), uid=1))
    assert (result.status, result.reason) == (MailStatus.QUARANTINED, QuarantineReason.NOT_VALIDATED)
    assert "ambiente de pruebas (habilitación)" in result.detail and "validez fiscal" in result.detail, result.detail
    with bed.session() as s:
        assert s.scalars(sa.select(ReceivedDocument)).all() == []
    # The real samples are production documents: filed by a production install without a word on the environment,
    # and by an install in habilitación with a warning.
    filed = bed.intake(environment=Environment.PRODUCTION).take(envelope(sample_mail(), uid=2))
    assert filed.status == MailStatus.FILED, filed.detail
    other = bed.intake(environment=Environment.TESTING).take(envelope(sample_mail(OTHER_BUYER_SAMPLE), uid=3))
    assert other.status == MailStatus.QUARANTINED  # another buyer: the environment does not hide the real reason
    with bed.session() as s:
        (doc,) = s.scalars(sa.select(ReceivedDocument)).all()
    assert [c for c in doc.report["checks"] if c["name"] == "dian.environment"] == []
    testing = bed.intake(environment=Environment.TESTING)
    again = testing.take(envelope(mail(("ad.xml", sample_bytes(OUR_BARE))), uid=4))
    assert again.status == MailStatus.FILED, again.detail
    with bed.session() as s:
        bare = s.scalars(sa.select(ReceivedDocument).where(ReceivedDocument.id != doc.id)).one()
    (check,) = [c for c in bare.report["checks"] if c["name"] == "dian.environment"]
    assert check["outcome"] == "warn" and "ambiente de producción" in check["detail"], check
    # Nothing is checked without an environment (DIAN's simulator): the test document is filed.
    assert bed.intake(s_.company_nit, trust=s_.trust).take(envelope(mail(("ad.xml", s_.invoice.attached)), uid=5)
                      ).status == MailStatus.FILED  # fmt: skip


def test_a_signed_document_of_a_type_buzon_does_not_take_is_quarantined_as_such(bed) -> None:
    # The demo invoice re-signed by its supplier as InvoiceTypeCode 20 (a code outside 01-05): its signature holds and
    # it reads, so it is not "Ilegible"; it is not an invoice Buzón may file or answer with events.
    s_ = signed()
    unsigned = re.sub(rb"<ds:Signature .*</ds:Signature>", b'<ds:Signature Id="placeholder"/>', s_.invoice.signed,
                      flags=re.S).replace(b">01</cbc:InvoiceTypeCode>", b">20</cbc:InvoiceTypeCode>")  # fmt: skip
    assert b">20</cbc:InvoiceTypeCode>" in unsigned
    other_type = sign(unsigned, s_.pki.suppliers[s_.invoice.supplier.nit], signing_time=NOW, role="supplier")
    result = bed.intake(s_.company_nit, trust=s_.trust).take(envelope(mail(("pos.xml", other_type)), uid=1))
    assert (result.status, result.reason) == (MailStatus.QUARANTINED, QuarantineReason.UNSUPPORTED), result.detail
    assert result.detail.startswith("El documento es de un tipo que Buzón no recibe como factura: tipo de documento "
                                    "'20' no admitido"), result.detail  # fmt: skip
    with bed.session() as s:
        assert s.scalars(sa.select(ReceivedDocument)).all() == []
        row = s.get(MailMessage, result.mail_id)
        assert (row.status, row.reason) == (MailStatus.QUARANTINED, QuarantineReason.UNSUPPORTED)
    # The same bytes with the type changed after signing: the signature no longer holds, and that is what it says.
    forged = other_type.replace(b">20</cbc:InvoiceTypeCode>", b">21</cbc:InvoiceTypeCode>")
    broken = bed.intake(s_.company_nit, trust=s_.trust).take(envelope(mail(("pos.xml", forged)), uid=2))
    assert broken.reason == QuarantineReason.SIGNATURE_INVALID, broken.detail


def test_credit_note_links_to_its_invoice_whichever_arrives_first(bed) -> None:
    s_ = signed()
    intake = bed.intake(s_.company_nit, trust=s_.trust)
    note = intake.take(envelope(mail(("nc.zip", zip_bytes(("nc.xml", s_.note.attached)))), uid=1))
    assert note.status == MailStatus.FILED, note.detail
    with bed.session() as s:
        row = s.execute(sa.select(ReceivedDocument)).scalar_one()
        assert row.document_type == DocumentType.CREDIT_NOTE
        assert row.referenced_cufe == s_.invoice.cufe.lower() and row.referenced_document_id is None
        assert row.verdict.value == "valid"  # the demo CA is trusted: every check passes
    invoice = intake.take(envelope(mail(("ad.xml", s_.invoice.attached)), uid=2))
    assert invoice.status == MailStatus.FILED
    with bed.session() as s:
        inv = s.execute(sa.select(ReceivedDocument).where(ReceivedDocument.cufe == invoice.filed[0])).scalar_one()
        nc = s.execute(sa.select(ReceivedDocument).where(ReceivedDocument.cufe == note.filed[0])).scalar_one()
        assert nc.referenced_document_id == inv.id


def test_counterpart_event_is_recorded_as_observed_and_linked(bed) -> None:
    s_ = signed()
    intake = bed.intake(s_.company_nit, trust=s_.trust)
    event = event_xml(s_)
    before = intake.take(envelope(mail(("ar.xml", event), subject="Evento;PLA42;900111222;PAPELERIA;EV1;034"), uid=1))
    assert before.status == MailStatus.FILED and len(before.events) == 1, before.detail
    with bed.session() as s:
        row = s.execute(sa.select(DocumentEvent)).scalar_one()
        assert (row.code, row.direction, row.document_id) == (EventCode.ACEPTACION_TACITA, Direction.OBSERVED, None)
        assert row.referenced_cufe == s_.invoice.cufe.lower()
        assert bed.blobs.get(row.signed_xml_blob) == event
        assert row.submission_state.value == "sent"  # no DIAN answer attached: seen, not confirmed registered
    intake.take(envelope(mail(("ad.xml", s_.invoice.attached)), uid=2))
    again = intake.take(envelope(mail(("ar.xml", event), subject="Evento;again"), uid=3))
    assert again.status == MailStatus.IGNORED  # the same event (CUDE) twice
    with bed.session() as s:
        row = s.execute(sa.select(DocumentEvent)).scalar_one()
        doc = s.execute(sa.select(ReceivedDocument)).scalar_one()
        assert row.document_id == doc.id
        assert s.execute(sa.select(AuditEntry).where(AuditEntry.action == "document.event.observed")).scalar_one()


def test_an_event_of_dians_test_environment_is_quarantined_in_production(bed) -> None:
    s_ = signed()
    event = event_xml(s_)  # ProfileExecutionID 2, as the demo's documents
    production = bed.intake(s_.company_nit, trust=s_.trust, environment=Environment.PRODUCTION)
    result = production.take(envelope(mail(("ar.xml", event)), uid=1))
    assert (result.status, result.reason) == (MailStatus.QUARANTINED, QuarantineReason.NOT_VALIDATED)
    assert "el evento 034 es del ambiente de pruebas" in result.detail, result.detail
    with bed.session() as s:
        assert s.scalars(sa.select(DocumentEvent)).all() == []
    testing = bed.intake(s_.company_nit, trust=s_.trust, environment=Environment.TESTING)
    assert testing.take(envelope(mail(("ar.xml", event)), uid=2)).status == MailStatus.FILED  # its own environment


def test_forged_event_is_quarantined(bed) -> None:
    s_ = signed()
    forged = event_xml(s_).replace(b">034<", b">033<")
    result = bed.intake(s_.company_nit, trust=s_.trust).take(envelope(mail(("ar.xml", forged)), uid=1))
    assert (result.status, result.reason) == (MailStatus.QUARANTINED, QuarantineReason.SIGNATURE_INVALID)


def test_loose_files_are_recognised_by_their_bytes(bed) -> None:
    intake = bed.intake()
    data = sample_bytes(OUR_SAMPLE)
    first = intake.take(envelope(data, name="ad.xml"))
    second = intake.take(envelope(data, name="copia.xml"))
    assert first.status == MailStatus.FILED and second.earlier and second.mail_id == first.mail_id
    key = hashlib.sha256(data).hexdigest()
    with bed.session() as s:
        assert s.get(MailMessage, first.mail_id).blob_key == key


def test_take_parses_a_mail_once_and_a_restart_parses_it_again(bed, monkeypatch) -> None:
    import inbox.intake
    import inbox.unpack

    calls: list[int] = []
    real = inbox.unpack.parse_mail

    def counting(data: bytes):
        calls.append(len(data))
        return real(data)

    monkeypatch.setattr(inbox.intake, "parse_mail", counting)
    monkeypatch.setattr(inbox.unpack, "parse_mail", counting)
    intake = bed.intake()
    assert intake.take(envelope(sample_mail(), uid=1)).status == MailStatus.FILED
    assert len(calls) == 1  # receive parsed it; process used that parse and the bytes in hand
    calls.clear()
    # As after a crash at "recorded": the message is pending in the database and nothing is in memory.
    mail_id, status = intake.receive(envelope(sample_mail("attached_aragon_FE6711_sw890930534.xml"), uid=2))
    assert status == MailStatus.PENDING and len(calls) == 1
    result = intake.process(mail_id)
    assert result.status == MailStatus.FILED and len(calls) == 2  # read back from the blob store and parsed anew
