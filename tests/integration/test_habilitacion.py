"""`buzon habilitacion run` against the DIAN simulator over HTTP, on SQLite and PostgreSQL: the quota from the
configuration, the invoices first (SendTestSetAsync, GetStatusZip until the verdict), then the credit and debit notes
on accepted invoices; the simulator's test set shows the quota met, and every document verifies with `buzon verify`
and xmlsec1. A note DIAN refuses only because its invoice is not held yet is resent byte for byte."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from dian.calendar import BOGOTA
from dian.soap import DianResponse
from dian.soap.results import DianMessage
from issuing.habilitacion import Quota, run_test_set
from store.models import AuditEntry, OutboundDocument, OutboundState, Verdict
from tests.conftest import missing
from tests.integration.issuing_fixtures import IssuingBed
from tests.integration.test_events_cli import write_config

pytestmark = pytest.mark.integration


def _test_set(bed: IssuingBed, test_set_id: str) -> dict[str, Any]:
    answer = requests.get(f"{bed.world.server.base_url}/_sim/test-sets/{test_set_id}", timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_whole_test_set_from_the_command_line(issuing_bed: IssuingBed, tmp_path: Path) -> None:
    bed = issuing_bed
    made = requests.post(f"{bed.world.server.base_url}/_sim/test-sets", timeout=10,
                         json={"id": "hab-1", "invoices": 4, "credit_notes": 2, "debit_notes": 1,
                               "delay_seconds": 0.4})  # fmt: skip
    assert made.status_code == 200, made.text
    config = write_config(bed.settings, tmp_path / "buzon.toml")
    with config.open("a", encoding="utf-8") as file:
        file.write("[issuing]\ntest_set_invoices = 4\ntest_set_credit_notes = 2\ntest_set_debit_notes = 1\n"
                   "test_set_poll_seconds = 0.2\ntest_set_max_wait_seconds = 30\n")  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "buzon.cli", "habilitacion", "run", "--test-set-id", "hab-1",
                           "--config", str(config)], capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert len([line for line in lines if "[facturas] DIAN 00: aceptado" in line]) == 4, lines
    assert len([line for line in lines if "[notas crédito] DIAN 00: aceptado" in line]) == 2, lines
    assert len([line for line in lines if "[notas débito] DIAN 00: aceptado" in line]) == 1, lines
    assert lines[-1] == ("Set de pruebas hab-1: aceptados/requeridos: facturas 4/4, notas crédito 2/2, "
                         "notas débito 1/1 — completo")  # fmt: skip

    state = _test_set(bed, "hab-1")
    assert state["accepted"] == {"invoices": 4, "credit_notes": 2, "debit_notes": 1}
    assert state["rejected"] == {"invoices": 0, "credit_notes": 0, "debit_notes": 0}
    assert (state["complete"], state["status"]) == (True, "Aceptado")

    with bed.sessions() as s:
        rows = list(s.execute(sa.select(OutboundDocument).order_by(OutboundDocument.id)).scalars())
        s.expunge_all()
    assert [r.document_type.value for r in rows] == ["01"] * 4 + ["91"] * 2 + ["92"]
    assert {(r.state, r.verdict, r.test_set_id) for r in rows} == {(OutboundState.ACCEPTED, Verdict.VALID, "hab-1")}
    assert all(r.zip_key and r.attempts == 1 and r.attached_blob for r in rows)
    # The samples vary: withholdings on some, a discount on others, several tax rates.
    assert any(r.withholding_amount for r in rows) and any(r.allowance_total_amount for r in rows)
    sent = {d["key"] for d in state["documents"]}
    assert sent == {r.cufe for r in rows}
    with bed.sessions() as s:
        accepted = s.execute(sa.select(sa.func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "outbound.accepted")).scalar_one()  # fmt: skip
    assert accepted == 7
    # Not for the SendBillSync outbox: nothing due there.
    assert bed.issuing.deliver().as_dict()["accepted"] == 0
    _verify_all(bed, tmp_path, rows)


def _verify_all(bed: IssuingBed, tmp_path: Path, rows: list[OutboundDocument]) -> None:
    blobs, paths = bed.runtime.blobs, []
    for row in rows:
        assert row.xml_blob and row.attached_blob
        (tmp_path / f"{row.number}.xml").write_bytes(blobs.get(row.xml_blob))
        (tmp_path / f"ad{row.number}.xml").write_bytes(blobs.get(row.attached_blob))
        paths += [tmp_path / f"{row.number}.xml", tmp_path / f"ad{row.number}.xml"]
    config = tmp_path / "verify.toml"
    config.write_text(f'data_dir = "{tmp_path / "v"}"\n[dian]\ntrust_store = "{bed.settings.trust_store_path}"\n')
    result = subprocess.run([sys.executable, "-m", "buzon.cli", "verify", "--config", str(config), "--json",
                             *map(str, paths)], capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    verdicts = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(verdicts) == 2 * len(rows)
    for bare, container in zip(verdicts[::2], verdicts[1::2], strict=True):
        assert bare["verdict"] == "unconfirmed"  # the signed document alone: DIAN's answer is not inside
        assert container["verdict"] in {"valid", "valid_with_warnings"} and container["dian_validated"] is True
    tool = shutil.which("xmlsec1")
    if tool is None:
        missing("xmlsec1 not installed (scripts/install-test-services)")
    ca = bed.world.simulator.ca_certificate_path
    for row in rows:
        checked = subprocess.run([tool, "--verify", "--trusted-pem", str(ca), "--id-attr:Id", "SignedProperties",
                                  "--id-attr:Id", "KeyInfo", str(tmp_path / f"{row.number}.xml")],
                                 capture_output=True)  # fmt: skip
        assert checked.returncode == 0 and b"OK" in checked.stderr, (row.number, checked.stderr.decode())


class _FirstNoteTooEarly:
    """The real client, except that the first note's first upload is answered as DIAN answers a note whose invoice it
    does not hold yet (CBG04a; that upload never reaches the simulator); every upload's bytes are kept."""

    FAKE_KEY = "zip-refused-cbg04a"

    def __init__(self, real: Any) -> None:
        self.real, self.uploads, self.refused = real, [], False

    def send_test_set_async(self, file_name: str, xml: bytes, test_set_id: str) -> Any:
        from dian.soap.results import UploadResult

        self.uploads.append((file_name, xml))
        if not self.refused and file_name.startswith("nc"):
            self.refused = True
            return UploadResult(zip_key=self.FAKE_KEY)
        return self.real.send_test_set_async(file_name, xml, test_set_id)

    def get_status_zip(self, zip_key: str) -> tuple[DianResponse, ...]:
        if zip_key == self.FAKE_KEY:
            return (DianResponse(is_valid=False, status_code="99", status_description="Documento con errores",
                                 status_message="", messages=(DianMessage("CBG04a", "Rechazo", "Documento "
                                 "referenciado no existe en la DIAN"),)),)  # fmt: skip
        return self.real.get_status_zip(zip_key)

    def get_status(self, track_id: str) -> DianResponse:
        return self.real.get_status(track_id)


@pytest.mark.parametrize("issuing_bed", ["sqlite", "postgresql"], indirect=True)
def test_a_note_refused_for_its_order_is_resent_byte_for_byte(issuing_bed: IssuingBed) -> None:
    bed = issuing_bed
    client = _FirstNoteTooEarly(bed.runtime.dian_client())
    said: list[str] = []
    try:
        report = run_test_set(bed.issuing, client, "hab-2", Quota(1, 1, 0), actor="test:hab", poll_seconds=0.05,
                              max_wait_seconds=10, say=said.append)  # fmt: skip
    finally:
        client.real.close()
    assert report.complete, said
    notes = [xml for name, xml in client.uploads if name.startswith("nc")]
    assert len(notes) == 2 and notes[0] == notes[1]  # the same signed bytes, not a new document
    assert any("[notas crédito] DIAN 00: aceptado (enviado 2 veces)" in line for line in said), said
    assert bed.count(OutboundDocument) == 2
    assert len(bed.audit("outbound.deferred")) == 1
    assert _test_set(bed, "hab-2")["accepted"] == {"invoices": 1, "credit_notes": 1, "debit_notes": 0}


@pytest.mark.parametrize("issuing_bed", ["sqlite"], indirect=True)
def test_a_multi_document_answer_is_unzipped_per_document(issuing_bed: IssuingBed) -> None:
    """DIAN answers a multi-document upload with one 00 whose XmlBase64Bytes is a zip of answers (B.7): each is
    matched to its document, and a note sent with its own invoice comes back refused for its order (CBG04a)."""
    import io
    import zipfile

    from dian.soap.results import upload_result_from
    from issuing.habilitacion import batch_verdicts, sample_invoices, sample_note
    from issuing.request import require_request

    bed = issuing_bed
    today = dt.datetime.now(BOGOTA).date()
    ids = [bed.issuing.issue(require_request(data), actor="test:hab").id for data in sample_invoices(2, today)]
    invoice = bed.row(ids[0])
    ids.append(bed.issuing.issue(require_request(sample_note("credit_notes", invoice, 0)), actor="test:hab").id)
    rows: list[OutboundDocument] = [bed.row(i) for i in ids]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for row in rows:
            assert row.xml_blob and row.file_name
            archive.writestr(row.file_name, bed.runtime.blobs.get(row.xml_blob))
    client = bed.runtime.dian_client()
    try:
        upload = upload_result_from(client._call("SendTestSetAsync", fileName="z.zip", contentFile=buffer.getvalue(),
                                                 testSetId="hab-3"))  # fmt: skip
        (answer,) = client.get_status_zip(upload.zip_key)
    finally:
        client.close()
    assert answer.status_code == "00" and answer.xml[:2] == b"PK"
    verdicts = batch_verdicts(answer.xml)
    assert set(verdicts) == {row.cufe for row in rows}
    assert [verdicts[row.cufe].accepted for row in rows] == [True, True, False]
    note = verdicts[rows[2].cufe]
    assert note.rules == ("CBG04a",) and note.deferred and note.messages[0].startswith("Regla: CBG04a, Rechazo:")
