"""`buzon verify` as a user runs it: real samples, tampered copies, hostile XML, .zip and .eml inputs."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import time
import zipfile
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.conftest import SAMPLES, sample_bytes

pytestmark = pytest.mark.integration

BUZON = [sys.executable, "-m", "buzon.cli"]
ARAGON = "attached_aragon_FE6711_sw890930534.xml"
GASEOSAS = "attached_gaseosas_FVNB605276_dispapeles.xml"


def verify(*args: str, cwd: Path) -> tuple[int, list[dict]]:
    result = subprocess.run([*BUZON, "verify", "--json", *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return result.returncode, lines


def test_every_real_sample_verifies_and_reports_its_signed_fields(tmp_path, samples_dir):
    files = sorted(str(p) for p in samples_dir.glob("*.xml"))
    assert len(files) == 17
    code, lines = verify(*files, cwd=tmp_path)
    assert code == 0
    assert len(lines) == 17
    for line in lines:
        # The bare invoices bring no DIAN answer: "sin confirmar", their own verdict, never valid (and exit 0).
        bare = Path(line["file"]).name.startswith("invoice_")
        assert line["verdict"] == ("unconfirmed" if bare else "valid_with_warnings"), line["file"]
        assert line["dian_validated"] is (not bare)
        assert line["proven"] is True
        assert set(line) >= {
            "file",
            "verdict",
            "document_type",
            "number",
            "issuer_nit",
            "buyer_nit",
            "cufe",
            "payable_amount",
            "issue_date",
            "checks",
        }
        assert all(set(c) == {"name", "outcome", "detail"} for c in line["checks"])
    aragon = next(line for line in lines if line["file"].endswith(ARAGON))
    assert (aragon["number"], aragon["issuer_nit"], aragon["buyer_nit"]) == ("FE6711", "1004518918", "805007280")
    assert aragon["payable_amount"] == "756200.02"
    assert aragon["issue_date"] == "2025-08-09"
    assert aragon["cufe"].startswith("e430a2e4cd971019")
    assert aragon["dian_validated"] is True


def _cdata_payloads(data: bytes) -> list[bytes]:
    return [m.group(1).strip() for m in re.finditer(rb"<!\[CDATA\[(.*?)\]\]>", data, re.S)]


def test_one_changed_amount_makes_the_document_invalid(tmp_path, samples_dir):
    original = sample_bytes(ARAGON)
    assert original.count(b"756200.02") >= 1
    tampered = tmp_path / "tampered.xml"
    tampered.write_bytes(original.replace(b"756200.02", b"956200.02"))
    code, [line] = verify(str(tampered), cwd=tmp_path)
    assert code == 1
    assert line["verdict"] == "invalid"
    assert any(c["outcome"] == "fail" and c["name"].startswith("document.") for c in line["checks"])
    # What it claims is reported for chasing the supplier, marked unproven; nothing of it would be filed.
    assert line["proven"] is False and line["payable_amount"] == "956200.02"
    assert line["dian_validated"] is False


def test_dian_answer_swapped_in_from_another_document_is_invalid(tmp_path, samples_dir):
    target = sample_bytes(ARAGON)
    other_answer = _cdata_payloads(sample_bytes(GASEOSAS))[1]
    own_answer = _cdata_payloads(target)[1]
    swapped = tmp_path / "swapped.xml"
    swapped.write_bytes(target.replace(own_answer, other_answer))
    code, [line] = verify(str(swapped), cwd=tmp_path)
    assert code == 1
    assert line["verdict"] == "invalid"
    failed = {c["name"] for c in line["checks"] if c["outcome"] == "fail"}
    assert "dian.document_reference" in failed


def test_a_standalone_dian_answer_and_a_standalone_event_are_recognised(tmp_path, samples_dir):
    answer = tmp_path / "respuesta.xml"
    answer.write_bytes(_cdata_payloads(sample_bytes(ARAGON))[1])
    code, [line] = verify(str(answer), cwd=tmp_path)
    assert code == 0
    assert line["verdict"] == "valid" and line["dian_validated"] is True  # proven by the shipped pin
    reference = next(c for c in line["checks"] if c["name"] == "dian.document_reference")
    assert "FE6711" in reference["detail"]
    # An unsigned event: "unsigned event for invoice X", not "not a supported document".
    from tests.integration.inbox_fixtures import signed
    from tests.integration.trust_fixtures import event_from, party

    genuine = signed()
    event = event_from(genuine.pki.suppliers[genuine.invoice.supplier.nit], party("900123456", "X"), genuine)
    start = event.index(b"<ds:Signature")
    end = event.index(b"</ds:Signature>") + len(b"</ds:Signature>")
    unsigned = tmp_path / "evento.xml"
    unsigned.write_bytes(event[:start] + event[end:])
    code, [line] = verify(str(unsigned), cwd=tmp_path)
    assert code == 1 and line["verdict"] == "invalid"
    signature = next(c for c in line["checks"] if c["name"] == "event.signature")
    assert "no está firmado" in signature["detail"] and genuine.invoice.number in signature["detail"]
    assert line["event"]["code"] == "034" and line["event"]["proven"] is False


def test_xxe_and_billion_laughs_are_unreadable_quickly(tmp_path):
    xxe = tmp_path / "xxe.xml"
    xxe.write_text('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><Invoice>&x;</Invoice>')
    lol = tmp_path / "lol.xml"
    entities = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    lol.write_text(f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY l0 "lol">{entities}]><Invoice>&l9;</Invoice>')
    started = time.monotonic()
    code, lines = verify(str(xxe), str(lol), cwd=tmp_path)
    assert time.monotonic() - started < 10
    assert code == 1
    assert [line["verdict"] for line in lines] == ["unreadable", "unreadable"]
    for line in lines:
        detail = " ".join(c["detail"] for c in line["checks"])
        assert "DOCTYPE" in detail or "DTD" in detail or "entit" in detail
        assert "root:" not in detail  # /etc/passwd never leaks into the report


def test_zip_and_eml_inputs(tmp_path, samples_dir):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ad0805007280.xml", sample_bytes(ARAGON))
        zf.writestr("fv.pdf", b"%PDF-1.4\n")
    (tmp_path / "z.zip").write_bytes(buf.getvalue())
    mail = EmailMessage()
    mail["From"] = "facturas@proveedor.test"
    mail["Subject"] = "1004518918;CAMILO ANDRES ARAGON DIAZ;FE6711;01;CAMILO ANDRES ARAGON DIAZ"
    mail.set_content("Factura adjunta")
    mail.add_attachment(buf.getvalue(), maintype="application", subtype="zip", filename="z.zip")
    (tmp_path / "m.eml").write_bytes(mail.as_bytes())
    code, lines = verify("z.zip", "m.eml", cwd=tmp_path)
    assert code == 0
    assert [line["file"] for line in lines] == ["z.zip!ad0805007280.xml", "m.eml!z.zip!ad0805007280.xml"]
    assert {line["number"] for line in lines} == {"FE6711"}


def test_a_mail_without_documents_and_a_zip_bomb_are_unreadable(tmp_path):
    mail = EmailMessage()
    mail["From"] = "alguien@example.test"
    mail["Subject"] = "Hola"
    mail.set_content("Sin adjuntos")
    (tmp_path / "empty.eml").write_bytes(mail.as_bytes())
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bomb.xml", b"<a>" + b"0" * (40 * 1024 * 1024) + b"</a>")
    (tmp_path / "bomb.zip").write_bytes(buf.getvalue())
    code, lines = verify("empty.eml", "bomb.zip", cwd=tmp_path)
    assert code == 1
    assert [line["verdict"] for line in lines] == ["unreadable", "unreadable"]
    assert "no electronic document" in lines[0]["checks"][-1]["detail"]
    assert "se expande" in lines[1]["checks"][-1]["detail"]


def test_buyer_check_uses_the_configured_company(tmp_path, samples_dir):
    (tmp_path / "buzon.toml").write_text('[company]\nnit = "805007280-8"\n')
    code, [line] = verify("--check-buyer", str(SAMPLES / ARAGON), cwd=tmp_path)
    assert (code, line["verdict"]) == (0, "valid_with_warnings")
    (tmp_path / "buzon.toml").write_text('[company]\nnit = "900123456-8"\n')
    code, [line] = verify("--check-buyer", str(SAMPLES / ARAGON), cwd=tmp_path)
    assert (code, line["verdict"]) == (1, "invalid")


def test_usage_errors_exit_2(tmp_path):
    assert subprocess.run([*BUZON, "verify"], cwd=tmp_path, capture_output=True).returncode == 2
    assert subprocess.run([*BUZON, "verify", "absent.xml"], cwd=tmp_path, capture_output=True).returncode == 2


def test_human_report_lists_every_check(tmp_path, samples_dir):
    result = subprocess.run([*BUZON, "verify", str(SAMPLES / ARAGON)], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0
    assert "valid_with_warnings" in result.stdout.splitlines()[0]
    assert "✓ document.signature" in result.stdout
    assert "DIAN FAJ43b" in result.stdout
