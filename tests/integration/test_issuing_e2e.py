"""Issuing end to end against the DIAN simulator over HTTP, on SQLite and PostgreSQL: ranges read with
GetNumberingRange, an invoice issued, sent with SendBillSync and accepted (DIAN's answer proven, the AttachedDocument
built, the XML verifying with `buzon verify` and xmlsec1), a rejection with DIAN's rules kept, an outage queued and
retried, Regla 90 reconciled with GetStatus, idempotent retries, numbers never skipped or doubled, notes in their own
series after their invoice."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from buzon import jobs
from dian.calendar import BOGOTA
from dian.proof import weigh_answer
from dian.ubl import AttachedDocument, CommercialDocument, parse_document
from issuing.problems import PayloadError
from issuing.service import IdempotencyConflict
from store.models import NumberingRange, OutboundDocument, OutboundState, ValueTitle, Verdict
from tests.conftest import missing
from tests.integration.dian_fixtures import NUMBERING, SELLER_NIT, SELLER_SW
from tests.integration.issuing_fixtures import IssuingBed, invoice_data

pytestmark = pytest.mark.integration

FIRST = NUMBERING.from_number  # the simulator's SETP range for the seller: 990000000-995000000


def test_ranges_are_read_from_get_numbering_range(issuing_bed: IssuingBed) -> None:
    (row,) = issuing_bed.ranges()
    assert (row.kind, row.source, row.prefix, row.resolution_number) == ("invoice", "dian", "SETP", "18760000001")
    assert (row.from_number, row.to_number, row.next_number) == (FIRST, NUMBERING.to_number, FIRST)
    assert (row.valid_from, row.valid_to) == (NUMBERING.start_date, NUMBERING.end_date)
    assert row.technical_key == NUMBERING.technical_key and row.software_id == SELLER_SW.software_id
    assert row.active and row.fetched_at is not None
    again = issuing_bed.issuing.sync_ranges(actor="test:admin")
    assert (again.added, again.updated, again.retired, len(again.unchanged)) == ([], [], [], 1)
    # DIAN authorizes a new range that ends within 30 days and almost used up: read, and warned about.
    soon = dt.datetime.now(BOGOTA).date() + dt.timedelta(days=10)
    issuing_bed.seed({"numbering": [{"nit": SELLER_NIT, "software_id": SELLER_SW.software_id,
                                     "resolution": "18764000099", "prefix": "FEV", "from": 1, "to": 10,
                                     "valid_from": "2026-01-01", "valid_to": soon.isoformat(),
                                     "technical_key": "a" * 40}]})  # fmt: skip
    report = issuing_bed.issuing.sync_ranges(actor="test:admin")
    assert report.added == ["FEV 1-10 (resolución 18764000099)"]
    kinds = {(w.prefix, w.kind) for w in issuing_bed.issuing.warnings()}
    assert kinds == {("FEV", "expiring")}
    with issuing_bed.sessions() as s:
        s.execute(sa.update(NumberingRange).where(NumberingRange.prefix == "FEV").values(next_number=10))
        s.commit()
    kinds = {(w.prefix, w.kind) for w in issuing_bed.issuing.warnings()}
    assert kinds == {("FEV", "expiring"), ("FEV", "used")}
    assert len(issuing_bed.audit("numbering.synced")) == 3


def test_an_invoice_is_issued_sent_and_accepted(issuing_bed: IssuingBed, tmp_path: Path) -> None:
    done = issuing_bed.issue(invoice_data(), deliver=True)
    assert (done.number, done.state, done.payable) == (f"SETP{FIRST}", OutboundState.ACCEPTED, 119000)
    assert done.qr_text is not None and done.qr_text.startswith(f"NumFac: SETP{FIRST}\n")
    assert f"documentkey={done.uuid}" in done.qr_text
    row = issuing_bed.row(done.id)
    assert (row.origin, row.consecutive, row.verdict, row.dian_status_code) == ("issued", FIRST, Verdict.VALID, "00")
    assert row.validated_at is not None and row.next_attempt_at is None and row.attempts == 1
    assert (row.line_extension_amount, row.tax_inclusive_amount) == (100000, 119000)
    blobs = issuing_bed.runtime.blobs
    xml, answer, attached = (blobs.get(row.xml_blob), blobs.get(row.dian_response_blob), blobs.get(row.attached_blob))
    # DIAN's answer is DIAN's (the simulator's CA is in our trust store) and names our CUFE.
    proof = weigh_answer(answer, issuing_bed.runtime.dian_keys(), about=done.uuid)
    assert proof.proven, proof.detail
    # The AttachedDocument carries both, byte for byte.
    container = parse_document(attached)
    assert isinstance(container, AttachedDocument)
    assert xml in attached and answer in attached
    invoice = parse_document(xml)
    assert isinstance(invoice, CommercialDocument) and invoice.uuid == done.uuid
    assert invoice.invoice_control is not None and invoice.invoice_control.authorization == "18760000001"
    # The simulator holds it as validated.
    assert issuing_bed.world.simulator.get_status(done.uuid).status_code == "00"
    with issuing_bed.sessions() as s:
        assert s.get(NumberingRange, row.range_id).next_number == FIRST + 1
    assert [e.data["number"] for e in issuing_bed.audit("outbound.accepted")] == [f"SETP{FIRST}"]
    # The receivables side (RADIAN) takes our accepted credit invoice as a title of ours.
    synced = jobs.title_sync()
    assert synced["outcome"] == "ok" and synced["summary"]["enrolled"] == 1, synced
    with issuing_bed.sessions() as s:
        title = s.execute(sa.select(ValueTitle).where(ValueTitle.outbound_document_id == done.id)).scalar_one()
        assert (title.invoice_cufe, title.value) == (done.uuid, 119000)
    _verify_with_buzon_and_xmlsec1(issuing_bed, tmp_path, xml, attached)


def _verify_with_buzon_and_xmlsec1(bed: IssuingBed, tmp_path: Path, xml: bytes, attached: bytes) -> None:
    (tmp_path / "factura.xml").write_bytes(xml)
    (tmp_path / "ad.xml").write_bytes(attached)
    config = tmp_path / "verify.toml"
    config.write_text(f'data_dir = "{tmp_path / "v"}"\n[dian]\ntrust_store = "{bed.settings.trust_store_path}"\n')
    result = subprocess.run([sys.executable, "-m", "buzon.cli", "verify", "--config", str(config), "--json",
                             str(tmp_path / "factura.xml"), str(tmp_path / "ad.xml")],
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.returncode == 0, result.stdout + result.stderr
    bare, container = lines
    assert bare["verdict"] == "unconfirmed" and bare["number"] == f"SETP{FIRST}"  # no DIAN answer inside: honest
    assert container["verdict"] in {"valid", "valid_with_warnings"} and container["dian_validated"] is True
    tool = shutil.which("xmlsec1")
    if tool is None:
        missing("xmlsec1 not installed (scripts/install-test-services)")
    ca = bed.world.simulator.ca_certificate_path
    for name in ("factura.xml",):
        checked = subprocess.run([tool, "--verify", "--trusted-pem", str(ca), "--id-attr:Id", "SignedProperties",
                                  "--id-attr:Id", "KeyInfo", str(tmp_path / name)], capture_output=True)  # fmt: skip
        assert checked.returncode == 0 and b"OK" in checked.stderr, (name, checked.stderr.decode())


def test_a_rejection_keeps_dians_rules(issuing_bed: IssuingBed) -> None:
    # A technical key typed wrong somewhere (the expensive defect of peers-wave2 §2.4): every CUFE is wrong.
    with issuing_bed.sessions() as s:
        s.execute(sa.update(NumberingRange).values(technical_key="0" * 40))
        s.commit()
    done = issuing_bed.issue(invoice_data(), deliver=True)
    assert done.state is OutboundState.REJECTED and done.dian_status_code == "99"
    assert any(m.startswith("Regla: FAD06") for m in done.dian_messages), done.dian_messages
    row = issuing_bed.row(done.id)
    assert row.verdict is Verdict.INVALID and row.next_attempt_at is None and "FAD06" in (row.last_error or "")
    (entry,) = issuing_bed.audit("outbound.rejected")
    assert any("FAD06" in m for m in entry.data["messages"])
    # Rejected is final: the outbox does not send it again.
    assert issuing_bed.issuing.deliver(only=[done.id]).as_dict()["rejected"] == 0


def test_an_outage_is_queued_and_retried_not_rejected(issuing_bed: IssuingBed) -> None:
    issuing_bed.fault("SendBillSync", "http503")
    done = issuing_bed.issue(invoice_data(), deliver=True)
    assert done.state is OutboundState.SEND_FAILED and done.dian_status_code is None
    row = issuing_bed.row(done.id)
    assert row.next_attempt_at is not None and row.attempts == 1
    assert row.last_error == "el servicio de la DIAN respondió HTTP 503 (servicio no disponible)"
    (failed,) = issuing_bed.audit("outbound.send_failed")
    assert "SendBillSync" in failed.data["cause"] and "503" in failed.data["cause"]
    # Not due before its backoff: set an hour away rather than racing the bed's one second on a loaded machine.
    issuing_bed.due_at(dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    assert issuing_bed.issuing.deliver().as_dict() == {"accepted": 0, "rejected": 0, "retrying": 0, "waiting": 0,
                                                        "unresolved": 0}  # fmt: skip
    issuing_bed.fault("SendBillSync", "timeout")  # held longer than the client's read timeout
    issuing_bed.due_at(dt.datetime.now(dt.UTC))
    result = jobs.deliver_issued()
    assert result["outcome"] == "ok" and result["summary"]["retrying"] == 1, result
    assert issuing_bed.row(done.id).attempts == 2
    issuing_bed.due_at(dt.datetime.now(dt.UTC))
    result = jobs.deliver_issued()
    assert result["summary"]["accepted"] == 1, result
    row = issuing_bed.row(done.id)
    assert row.state is OutboundState.ACCEPTED and row.attempts == 3 and row.attached_blob is not None
    assert len(issuing_bed.audit("outbound.send_failed")) == 2


def test_regla_90_takes_the_earlier_answer(issuing_bed: IssuingBed) -> None:
    # DIAN validates the invoice and the answer is lost on the way back.
    issuing_bed.fault("SendBillSync", "drop")
    done = issuing_bed.issue(invoice_data(), deliver=True)
    assert done.state is OutboundState.SEND_FAILED
    assert issuing_bed.world.simulator.get_status(done.uuid).status_code == "00"  # DIAN has it
    issuing_bed.due_at(dt.datetime.now(dt.UTC))
    report = issuing_bed.issuing.deliver()
    assert report.accepted == [done.number], report
    row = issuing_bed.row(done.id)
    assert row.state is OutboundState.ACCEPTED and row.attempts == 2
    (entry,) = issuing_bed.audit("outbound.accepted")
    assert entry.data["via"].startswith("Regla 90")
    original = issuing_bed.world.simulator.store.one("SELECT answer FROM document WHERE key = ?", done.uuid)
    assert issuing_bed.runtime.blobs.get(row.dian_response_blob) == bytes(original["answer"])


def test_regla_90_for_another_document_with_our_number_is_a_rejection(issuing_bed: IssuingBed) -> None:
    # Someone issued SETP990000000 elsewhere (another software) and DIAN validated it.
    issuing_bed.world.simulator.validate(issuing_bed.world.invoice(number=f"SETP{FIRST}", amount="5000.00"))
    done = issuing_bed.issue(invoice_data(), deliver=True)
    assert done.state is OutboundState.REJECTED, done
    assert "otro documento con este número" in done.dian_messages[-1]


def test_an_idempotent_retry_never_issues_twice(issuing_bed: IssuingBed) -> None:
    first = issuing_bed.issue(invoice_data(), idempotency_key="erp-42", client_key="token:1", deliver=True)
    again = issuing_bed.issue(invoice_data(), idempotency_key="erp-42", client_key="token:1", deliver=True)
    assert again.replayed and (again.id, again.uuid, again.state) == (first.id, first.uuid, OutboundState.ACCEPTED)
    with pytest.raises(IdempotencyConflict) as refused:
        issuing_bed.issue(invoice_data(price="60000"), idempotency_key="erp-42", client_key="token:1")
    assert refused.value.problems[0].pointer == "/idempotency_key" and first.number in str(refused.value)
    # The same key from another client is another request.
    other = issuing_bed.issue(invoice_data(), idempotency_key="erp-42", client_key="token:2")
    assert other.id != first.id and other.number == f"SETP{FIRST + 1}"
    assert issuing_bed.count(OutboundDocument) == 2
    assert len(issuing_bed.audit("outbound.issued")) == 2


def test_a_refused_document_gives_its_number_back(issuing_bed: IssuingBed) -> None:
    # Due before its issue date: found only once the document is built, after the number was taken.
    yesterday = (dt.datetime.now(BOGOTA).date() - dt.timedelta(days=1)).isoformat()
    bad = invoice_data()
    bad["payment"]["due_date"] = yesterday
    with pytest.raises(PayloadError) as refused:
        issuing_bed.issue(bad)
    assert refused.value.problems[0].pointer == "/payment/due_date"
    assert issuing_bed.issue(invoice_data()).number == f"SETP{FIRST}"  # no gap
    # The caller's numbering must fall in a range read from DIAN.
    for extra, pointer in (({"number": 5}, "/number"), ({"prefix": "FV"}, "/prefix"),
                           ({"resolution_number": "123"}, "/resolution_number")):  # fmt: skip
        with pytest.raises(PayloadError) as refused:
            issuing_bed.issue(invoice_data(**extra))
        assert refused.value.problems[0].pointer == pointer, refused.value
    chosen = issuing_bed.issue(invoice_data(number=FIRST + 10, prefix="SETP", resolution_number="18760000001"))
    assert chosen.number == f"SETP{FIRST + 10}"
    with pytest.raises(PayloadError, match="ya fue usado"):
        issuing_bed.issue(invoice_data(number=FIRST + 10))
    assert issuing_bed.issue(invoice_data()).number == f"SETP{FIRST + 11}"  # the next moved past the caller's


def test_notes_take_their_own_series_and_wait_for_their_invoice(issuing_bed: IssuingBed) -> None:
    invoice = issuing_bed.issue(invoice_data(), deliver=False)
    day = dt.datetime.now(BOGOTA).date().isoformat()
    note = issuing_bed.issue({
        "type": "91", "customer": invoice_data()["customer"], "concept": "2",
        "reference": {"number": invoice.number, "uuid": invoice.uuid, "issue_date": day},
        "lines": [{"description": "Anulación", "quantity": "2", "unit_price": "50000",
                   "taxes": [{"scheme": "01", "rate": "19"}]}],
    })  # fmt: skip
    assert note.number == "NC1" and note.state is OutboundState.SIGNED
    assert issuing_bed.row(note.id).reference_id == invoice.id
    # The note is not sent before its invoice is accepted.
    waiting = issuing_bed.issuing.deliver(only=[note.id])
    assert waiting.waiting == 1 and issuing_bed.row(note.id).state is OutboundState.SIGNED
    report = issuing_bed.issuing.deliver()
    assert report.accepted == [invoice.number, note.number], report
    debit = issuing_bed.issue({
        "type": "92", "customer": invoice_data()["customer"], "concept": "1",
        "reference": {"number": invoice.number, "uuid": invoice.uuid, "issue_date": day},
        "lines": [{"description": "Intereses", "quantity": "1", "unit_price": "1000"}],
    }, deliver=True)  # fmt: skip
    assert (debit.number, debit.state) == ("ND1", OutboundState.ACCEPTED), debit
    kinds = sorted((r.kind, r.source, r.next_number) for r in issuing_bed.ranges())
    assert kinds == [("credit_note", "own", 2), ("debit_note", "own", 2), ("invoice", "dian", FIRST + 1)]
