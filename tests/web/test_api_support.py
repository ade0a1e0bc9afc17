"""The documento soporte's API end to end on SQLite and PostgreSQL: a bearer token, the Flask client, the real
issuing service and the DIAN simulator over HTTP (the DS range read with GetNumberingRange, SendBillSync).

A resident DS, a non-resident DS (USD), and a 95 annulment are validated; each verifies with `buzon verify` (its
AttachedDocument and its signed XML) and with xmlsec1; the DS PDF renders with its QR, which zbarimg decodes to the
C.3 text. An idempotent retry, a 422 with pointers and nothing written, the apidian shape (type 11 and 13)."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dian.calendar import BOGOTA
from store.models import OutboundDocument
from tests.conftest import missing
from tests.integration.support_fixtures import FARMER, SAAS, adjustment_data, support_data
from tests.integration.support_fixtures import issuing_bed as issuing_bed  # the fixtures, re-exported
from tests.integration.support_fixtures import support_bed as support_bed
from tests.integration.test_events_cli import write_config
from tests.integration.test_xmlsec_crosscheck import xmlsec_verify
from tests.services import xmlsec1 as xmlsec1  # the fixture, re-exported
from tests.web.test_api_issuing import make_api

pytestmark = pytest.mark.integration

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "soporte-api"


def _verify_cli(bed, paths: list[Path], tmp_path: Path) -> str:
    config = write_config(bed.settings, tmp_path / "buzon.toml")
    done = subprocess.run([sys.executable, "-m", "buzon.cli", "verify", *map(str, paths), "--config", str(config)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, (done.stdout, done.stderr)
    return done.stdout


def test_support_documents_through_the_api(support_bed, tmp_path, xmlsec1, request):
    api = make_api(support_bed, default="clerk")
    day = dt.datetime.now(BOGOTA).date().isoformat()
    body = {key: value for key, value in support_data().items() if key != "kind"}  # the path gives the kind
    first = api.post("/api/v1/support-documents", body, key="compra-1")
    assert first.status_code == 201, first.json
    ds = first.json
    assert ds["document_type"] == "05" and ds["number"] == "DS1" and ds["dian"]["is_valid"] is True, ds
    assert ds["qr_text"].startswith("NumDS: DS1\nFecDS: ") and f"CUDS: {ds['cuds']}" in ds["qr_text"]
    again = api.post("/api/v1/support-documents", body, key="compra-1")
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true" and again.json["id"] == ds["id"]
    count = api.count()
    wrong_line = {**body["lines"][0], "generation": {"mode": "7"}}
    bad = api.post("/api/v1/support-documents", {**body, "seller": {**FARMER, "id_type": "99"}, "lines": [wrong_line]})
    assert bad.status_code == 422 and api.count() == count
    fields = {p["field"] for p in bad.json["problems"]}
    assert {"/seller/id_type", "/lines/0/generation/mode"} <= fields, bad.json
    # AP's document: the billing role (sales) may neither issue nor read it; a clerk or an admin may.
    assert api.post("/api/v1/support-documents", body, who="erp").status_code == 403
    assert api.get(ds["links"]["self"], who="erp").status_code == 403

    foreign = support_data(seller=SAAS, currency="USD", exchange_rate={"rate": "4000", "date": day})
    foreign["lines"] = [{"description": "Suscripción anual herramienta", "quantity": "1", "unit_price": "1200",
                         "generation": {"mode": "1", "start": day}}]  # fmt: skip
    abroad = api.post("/api/v1/support-documents", foreign)
    assert abroad.status_code == 201 and abroad.json["dian"]["is_valid"] is True, abroad.json

    class Ref:
        number, uuid = ds["number"], ds["cuds"]

    note = api.post("/api/v1/support-adjustments", adjustment_data(Ref))
    assert note.status_code == 201 and note.json["document_type"] == "95", note.json
    assert note.json["dian"]["is_valid"] is True, note.json
    over = api.post("/api/v1/support-adjustments", adjustment_data(Ref, concept="5"))
    assert over.status_code == 422 and "más que el documento soporte" in over.json["problems"][0]["message"]

    read = api.get(ds["links"]["self"])
    assert read.status_code == 200 and read.json["document_type"] == "05" and read.json["uuid"] == ds["cuds"]

    # Each verifies with buzon verify (its AttachedDocument and the signed XML) and with xmlsec1.
    files = []
    for done in (ds, abroad.json, note.json):
        xml = api.get(done["links"]["xml"]).data
        attached = api.get(done["links"]["attached"]).data
        name = done["number"]
        (tmp_path / f"{name}.xml").write_bytes(xml)
        (tmp_path / f"{name}-attached.xml").write_bytes(attached)
        files.append(tmp_path / f"{name}-attached.xml")  # the bare XML is "unconfirmed" without DIAN's answer
        checked = xmlsec_verify(xmlsec1, xml, tmp_path, f"{name}-xmlsec.xml")
        assert checked.returncode == 0, checked.stderr
    verified = _verify_cli(support_bed, files, tmp_path)
    for path in files:
        assert f"{path}: valid\n" in verified, verified

    # The PDF of the DS: its title, and the QR decodes to the C.3 text.
    pdf = api.get(ds["links"]["pdf"])
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    if not (shutil.which("pdftoppm") and shutil.which("zbarimg")):
        missing("pdftoppm and zbarimg are not installed (apt-get install poppler-utils zbar-tools)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    stem = SHOTS / f"ds-{request.node.callspec.id}"
    (tmp_path / "ds.pdf").write_bytes(pdf.data)
    subprocess.run(["pdftoppm", "-png", "-r", "150", "-singlefile", str(tmp_path / "ds.pdf"), str(stem)],
                   check=True, timeout=60)  # fmt: skip
    decoded = subprocess.run(["zbarimg", "--quiet", "--raw", f"{stem}.png"], capture_output=True, text=True,
                             timeout=60)  # fmt: skip
    assert decoded.stdout.strip() == ds["qr_text"], decoded.stdout
    text = subprocess.run(["pdftotext", str(tmp_path / "ds.pdf"), "-"], capture_output=True, text=True).stdout
    flat = " ".join(text.split()).lower()
    assert "documento soporte en adquisiciones efectuadas a sujetos no obligados" in flat, flat
    assert "vendedor (no obligado a facturar)" in flat and "pedro campesino rojas" in flat


def test_apidian_support_shape(support_bed):
    api = make_api(support_bed, default="clerk")
    day = dt.datetime.now(BOGOTA).date().isoformat()
    body = {"type_document_id": 11, "prefix": "DS", "number": 7, "date": day,
            "seller": {"identification_number": 79123456, "type_document_identification_id": 3,
                       "name": "Pedro Campesino", "type_organization_id": 2, "address": "Vereda El Rosal",
                       "municipality_id_fact": "25754",
                       "phone": "3001234567", "email": "pedro@vereda.test"},
            "payment_form": {"payment_form_id": 1, "payment_method_id": 10},
            "with_holding_tax_total": [{"tax_id": 6, "percent": "1.50"}],
            "invoice_lines": [{"unit_measure_id": 70, "invoiced_quantity": "4", "price_amount": "20000",
                               "description": "Jornal de cosecha", "type_generation_transmition_id": 1,
                               "start_date": day, "tax_totals": [{"tax_id": 1, "percent": "0"}]}],
            "legal_monetary_totals": {"line_extension_amount": "80000.00", "payable_amount": "80000.00"}}  # fmt: skip
    bad_line = {**body["invoice_lines"][0], "price_amount": "-5", "type_generation_transmition_id": 9}
    refused = api.post("/api/ubl2.1/support-document", {**body, "invoice_lines": [bad_line]})
    assert refused.status_code == 422 and refused.json["is_valid"] is False, refused.json
    assert {"invoice_lines.0.type_generation_transmition_id"} <= set(refused.json["errors"]), refused.json
    done = api.post("/api/ubl2.1/support-document", body)
    assert done.status_code == 200 and done.json["is_valid"] is True, done.json
    assert done.json["number"] == "DS7" and done.json["cuds"] and done.json["QRStr"].startswith("NumDS: DS7")
    with support_bed.sessions() as s:
        row = s.get(
            OutboundDocument,
            done.headers["Location"].rsplit("/", 1)[1] and int(done.headers["Location"].rsplit("/", 1)[1]),
        )
        assert row.withholding_amount == 1200
    wrong = api.post("/api/ubl2.1/support-document", {**body, "type_document_id": 13, "number": 8})
    assert wrong.status_code == 422 and "type_document_id" in wrong.json["errors"]
    note = {"type_document_id": 13, "discrepancyresponsecode": 2, "date": day,
            "billing_reference": {"number": "DS7", "uuid": done.json["cuds"], "issue_date": day},
            "seller": body["seller"],
            "credit_note_lines": [{"unit_measure_id": 70, "invoiced_quantity": "4", "price_amount": "20000",
                                   "description": "Anulación",
                                   "tax_totals": [{"tax_id": 1, "percent": "0"}]}]}  # fmt: skip
    annulled = api.post("/api/ubl2.1/sd-credit-note", note)
    assert annulled.status_code == 200 and annulled.json["is_valid"] is True, annulled.json
    assert annulled.json["type_document_code"] == "95"
