"""The confirmation job (inbox.confirm) on SQLite and PostgreSQL, against the DIAN simulator over HTTP.

Documents are filed "sin confirmar" by the real intake (an empty trust store: nothing anchors the simulator's DIAN
certificate), then settled by the job: the first confirmed online teaches DIAN's certificate, answers that certificate
signed are then proven offline without asking DIAN, an answer signed by an unknown key stays unconfirmed, a document
DIAN does not know (66) stays unconfirmed with the reason, and one whose DIAN copy carries another signature is refused.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from buzon.config import parse_settings
from buzon.dian_lookups import online_check
from buzon.runtime import dian_keys
from dian.calendar import BOGOTA, BusinessCalendar
from dian.codes import DocumentState, Environment
from dian.nit import check_digit
from dian.proof import Level, OnlineAnswer
from dian.reception import verify_received
from dian.soap import DianClient
from dian.trust import SigningIdentity, spki_fingerprint
from dian.ubl import parse_document
from dian.ubl.build import AttachedDraft, build_attached_document
from dian.xades import sign
from inbox.confirm import confirm_documents
from inbox.intake import Envelope
from store.models import AuditEntry, DianCertificate, LooseAnswer, ReceivedDocument, Verdict
from tests.integration.dian_fixtures import BUYER, BUYER_NIT, SELLER, SELLER_NIT, dian_world  # noqa: F401
from tests.integration.inbox_fixtures import bed_fixture, mail  # noqa: F401 - the fixtures
from tests.pki import application_response_xml, pki
from tests.services import free_port

pytestmark = pytest.mark.integration

NOW = dt.datetime.now(dt.UTC)


def _settings(tmp_path: Path, url: str):
    data = {
        "data_dir": str(tmp_path / "buzon"),
        "company": {"nit": f"{BUYER_NIT}-{check_digit(BUYER_NIT)}", "name": "EMPRESA COMPRADORA S.A.S."},
        "dian": {"environment": "simulator", "endpoint": url, "online_check": True},
    }
    return parse_settings(data, base=tmp_path)


def _attached(invoice: bytes, answer: bytes) -> bytes:
    doc = parse_document(invoice)
    local = NOW.astimezone(BOGOTA)
    return build_attached_document(
        AttachedDraft(
            id=f"AD{doc.number}", issue_date=local.date(), issue_time=local.strftime("%H:%M:%S-05:00"),
            environment=Environment.TESTING, sender=SELLER, receiver=BUYER, parent_document_id=doc.number,
            document_xml=invoice, dian_response_xml=answer, reference_uuid=doc.uuid,
            reference_issue_date=doc.issue_date, validation_date=local.date(),
            validation_time=local.strftime("%H:%M:%S-05:00"), signed=False,
        )
    )  # fmt: skip


def _unknown_dian_answer(invoice: bytes) -> bytes:
    """DIAN's validation of ``invoice`` signed by a DIAN-named certificate nobody anchors, pins or learned."""
    doc = parse_document(invoice)
    xml = application_response_xml(number=doc.number, cufe=doc.uuid, receiver_nit=SELLER_NIT)
    issued = pki().dian
    return sign(xml, SigningIdentity(issued.key, issued.cert, issued.chain), signing_time=NOW, role="supplier")


class Filer:
    """Mails documents to the real intake (empty trust store, no online check) and reads back what it filed."""

    def __init__(self, bed) -> None:
        self.bed, self.intake, self.uid = bed, bed.intake(our_nit=BUYER_NIT), 0

    def file(self, *attachments: tuple[str, bytes]) -> str:
        self.uid += 1
        message = mail(*attachments, subject=f"{SELLER_NIT};PROVEEDOR;X{self.uid};01;PROVEEDOR")
        result = self.intake.take(Envelope(mailbox="confirm", data=message, uidvalidity=1, uid=self.uid))
        assert len(result.filed) == 1, result
        return result.filed[0]

    def doc(self, cufe: str) -> ReceivedDocument:
        with self.bed.session() as s:
            found = s.execute(sa.select(ReceivedDocument).where(ReceivedDocument.cufe == cufe)).scalar_one()
            s.expunge(found)
            return found


def _audit(bed, action: str) -> list[AuditEntry]:
    with bed.session() as s:
        return list(s.execute(sa.select(AuditEntry).where(AuditEntry.action == action)).scalars())


def _unconfirmed(bed) -> int:
    with bed.session() as s:
        query = sa.select(sa.func.count()).where(ReceivedDocument.verdict == Verdict.UNCONFIRMED)
        return s.execute(query.select_from(ReceivedDocument)).scalar_one()


def test_online_confirmation_teaches_dians_certificate_and_later_answers_are_proven_offline(
    bed, dian_world, tmp_path  # noqa: F811
) -> None:
    world = dian_world
    filer = Filer(bed)
    # A: a bare invoice DIAN validated. B: another, its DIAN answer mailed beside it. B2: another in its
    # AttachedDocument with DIAN's answer. C: an AttachedDocument whose "DIAN" answer is signed by an unknown key (not
    # at DIAN). D: a bare invoice DIAN never saw. E: an invoice DIAN holds, mailed signed again (same CUFE, other
    # signature).
    a = world.invoice()
    world.simulator.validate(a)
    b = world.invoice()
    b_answer = world.simulator.validate(b)
    b2 = world.invoice()
    b2_answer = world.simulator.validate(b2)
    c = world.invoice()
    c_answer = _unknown_dian_answer(c)
    d = world.invoice()
    e_number = world.number()
    e_registered = world.invoice(at=NOW, number=e_number)
    world.simulator.validate(e_registered)
    e_mailed = world.invoice(at=NOW, number=e_number)
    assert parse_document(e_mailed).uuid == parse_document(e_registered).uuid and e_mailed != e_registered

    cufe = {
        "a": filer.file(("factura.xml", a)),
        "b": filer.file(("factura.xml", b), ("respuesta.xml", b_answer)),
        "b2": filer.file(("ad.xml", _attached(b2, b2_answer))),
        "c": filer.file(("ad.xml", _attached(c, c_answer))),
        "d": filer.file(("factura.xml", d)),
        "e": filer.file(("factura.xml", e_mailed)),
    }
    for name, key in cufe.items():
        filed = filer.doc(key)
        assert (filed.verdict, filed.state) == (Verdict.UNCONFIRMED, DocumentState.UNCONFIRMED), name
    assert _unconfirmed(bed) == 6  # nothing else in this database for the job to take

    settings = _settings(tmp_path, world.url)
    real = online_check(world.client(world.buyer), settings)
    asked: list[str] = []

    def counting(key: str) -> OnlineAnswer:
        asked.append(key)
        return real(key)

    def run(check):
        return confirm_documents(
            bed.sessions,
            bed.blobs,
            lambda: dian_keys(settings, bed.trust, bed.sessions),
            check,
            now=lambda: dt.datetime.now(dt.UTC),
            calendar=BusinessCalendar(),
        )

    counts = run(counting)
    assert counts == {"checked": 6, "confirmed": 3, "refused": 1, "still_unconfirmed": 2, "errors": 0}, counts
    # DIAN was asked about A (which taught the key), C, D and E; B and B2 were proven offline by the learned key.
    assert asked == [cufe["a"], cufe["c"], cufe["d"], cufe["e"]]

    # A: confirmed online; DIAN's certificate learned (a row, audited), DIAN's answer kept as the document's.
    doc_a = filer.doc(cufe["a"])
    assert doc_a.verdict in {Verdict.VALID, Verdict.VALID_WITH_WARNINGS}
    assert doc_a.state is DocumentState.VALIDATED and doc_a.last_error is None
    online = [ch for ch in doc_a.report["checks"] if ch["name"] == "dian.online"]
    assert [ch["outcome"] for ch in online] == ["pass"] and "GetStatus 00" in online[0]["detail"]
    assert doc_a.report["dian_validated"] is True and doc_a.report["verdict"] == doc_a.verdict.value
    assert doc_a.report["dian_proof"] == Level.CONFIRMED.value
    assert doc_a.dian_response_blob is not None and b"ApplicationResponse" in bed.blobs.get(doc_a.dian_response_blob)
    with bed.session() as s:
        learned = s.execute(sa.select(DianCertificate)).scalars().all()
    dian_cert = world.simulator.dian_identity.certificate
    assert [(row.spki_sha256, row.learned_from) for row in learned] == [(spki_fingerprint(dian_cert), cufe["a"])]
    assert [entry.subject for entry in _audit(bed, "dian.certificate.learned")] == [spki_fingerprint(dian_cert)[:24]]

    # B (answer mailed on its own) and B2 (answer in its AttachedDocument): proven offline by the learned key.
    for name in ("b", "b2"):
        doc = filer.doc(cufe[name])
        assert doc.verdict in {Verdict.VALID, Verdict.VALID_WITH_WARNINGS}, name
        assert doc.state is DocumentState.VALIDATED
        (reweighed,) = [ch for ch in doc.report["checks"] if ch["name"] == "dian.reweighed"]
        assert reweighed["outcome"] == "pass" and "aprendió de la DIAN" in reweighed["detail"]
        assert doc.report["dian_basis"] == "learned" and doc.report["dian_proof"] == Level.PROVEN.value
        assert doc.report["intake"]["mail_message_id"]  # what intake recorded is kept
        assert any(ch["name"] == "buyer.nit" for ch in doc.report["checks"])
    assert bed.blobs.get(filer.doc(cufe["b"]).dian_response_blob) == b_answer
    with bed.session() as s:
        loose = s.execute(sa.select(LooseAnswer).where(LooseAnswer.cufe == cufe["b"])).scalar_one()
        assert loose.document_id == filer.doc(cufe["b"]).id and loose.outcome == "confirma el documento"
    # verify_received with the learned pins proves B on its own too, and still not C.
    keys = dian_keys(settings, bed.trust, bed.sessions)
    proven = verify_received(b, trust=bed.trust, keys=keys, dian_answer=b_answer)
    assert (proven.dian_proof, proven.dian_basis) == (Level.PROVEN, "learned")
    assert verify_received(c, trust=bed.trust, keys=keys, dian_answer=c_answer).verdict.value == "unconfirmed"

    # C: its answer's key is unknown and DIAN does not hold it (66); D: DIAN never saw it (66). Both wait.
    for name in ("c", "d"):
        doc = filer.doc(cufe[name])
        assert (doc.verdict, doc.state) == (Verdict.UNCONFIRMED, DocumentState.UNCONFIRMED), name
        assert "66" in doc.last_error and "se vuelve a consultar" in doc.last_error
        assert doc.report["dian_confirm"]["attempts"] == 1
    # E: DIAN's copy of that CUFE carries another signature: refused.
    doc_e = filer.doc(cufe["e"])
    assert (doc_e.verdict, doc_e.state) == (Verdict.INVALID, DocumentState.INVALID)
    assert "no es el recibido" in doc_e.last_error
    assert doc_e.report["verdict"] == "invalid" and doc_e.report["dian_validated"] is False

    confirmed = _audit(bed, "document.dian.confirmed")
    assert sorted((entry.subject, entry.data["via"]) for entry in confirmed) == sorted(
        [(cufe["a"], "dian.online"), (cufe["b"], "dian.reweighed"), (cufe["b2"], "dian.reweighed")]
    )
    assert [entry.subject for entry in _audit(bed, "document.dian.refused")] == [cufe["e"]]

    # Offline only (the online check off): C and D are weighed again, stay unconfirmed, and DIAN is not asked.
    again = run(None)
    assert again == {"checked": 2, "confirmed": 0, "refused": 0, "still_unconfirmed": 2, "errors": 0}, again
    assert len(asked) == 4
    assert filer.doc(cufe["c"]).report["dian_confirm"]["attempts"] == 2
    assert "66" in filer.doc(cufe["c"]).last_error  # the last word DIAN gave is kept


def test_dian_unreachable_leaves_the_document_unconfirmed_with_the_reason(bed, dian_world, tmp_path) -> None:  # noqa: F811
    world = dian_world
    filer = Filer(bed)
    invoice = world.invoice()
    world.simulator.validate(invoice)
    cufe = filer.file(("factura.xml", invoice))
    settings = _settings(tmp_path, world.url)
    nowhere = DianClient(f"http://127.0.0.1:{free_port()}/WcfDianCustomerServices.svc", world.buyer,
                         connect_timeout=1, read_timeout=1)  # fmt: skip
    try:
        counts = confirm_documents(
            bed.sessions,
            bed.blobs,
            lambda: dian_keys(settings, bed.trust, bed.sessions),
            online_check(nowhere, settings),
            now=dt.datetime.now(dt.UTC),
            calendar=BusinessCalendar(),
        )
    finally:
        nowhere.close()
    assert counts == {"checked": 1, "confirmed": 0, "refused": 0, "still_unconfirmed": 0, "errors": 1}
    doc = filer.doc(cufe)
    assert (doc.verdict, doc.state) == (Verdict.UNCONFIRMED, DocumentState.UNCONFIRMED)
    assert "no se pudo consultar el documento en DIAN" in doc.last_error
    assert _audit(bed, "document.dian.confirmed") == [] and _audit(bed, "document.dian.refused") == []


BUZON = [sys.executable, "-m", "buzon.cli"]


def test_buzon_jobs_run_confirm_documents(tmp_path, dian_world) -> None:  # noqa: F811
    """The job as the scheduler and `buzon jobs run` call it: a document filed unconfirmed is confirmed online."""
    invoice = dian_world.invoice()
    dian_world.simulator.validate(invoice)
    (tmp_path / "factura.xml").write_bytes(invoice)
    config = tmp_path / "buzon.toml"

    def configure(online: bool) -> None:
        config.write_text(
            f'data_dir = "{tmp_path}"\n[company]\nnit = "{BUYER_NIT}-{check_digit(BUYER_NIT)}"\n'
            f'name = "EMPRESA COMPRADORA S.A.S."\n[dian]\nenvironment = "simulator"\nendpoint = "{dian_world.url}"\n'
            f"online_check = {'true' if online else 'false'}\nconfirm_every_minutes = 15\n"
        )

    def buzon(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*BUZON, *args], cwd=tmp_path, capture_output=True, text=True)

    configure(online=False)
    assert buzon("init").returncode == 0
    imported = buzon("import", "--json", "factura.xml")
    assert json.loads(imported.stdout.strip().splitlines()[-1])["filed"] == 1, imported.stderr
    listed = buzon("jobs", "list")
    assert listed.returncode == 0 and "confirm_documents" in listed.stdout and "cada   900 s" in listed.stdout
    offline = buzon("jobs", "run", "confirm_documents")
    assert offline.returncode == 0, offline.stderr
    summary = json.loads(offline.stdout)["summary"]
    assert (summary["still_unconfirmed"], summary["online"]) == (1, False)

    configure(online=True)
    online = buzon("jobs", "run", "confirm_documents")
    assert online.returncode == 0, online.stderr
    result = json.loads(online.stdout)
    assert result["outcome"] == "ok" and result["summary"]["confirmed"] == 1, result
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'buzon.sqlite3'}")
    try:
        with engine.connect() as conn:
            verdict, state = conn.execute(sa.text("SELECT verdict, state FROM received_documents")).one()
            learned = conn.execute(sa.text("SELECT count(*) FROM dian_certificates")).scalar_one()
            runs = conn.execute(sa.text("SELECT outcome FROM job_runs WHERE job_id = 'confirm_documents'")).all()
    finally:
        engine.dispose()
    assert verdict in {"valid", "valid_with_warnings"} and state == "validated" and learned == 1
    assert [r[0] for r in runs] == ["ok", "ok"]
