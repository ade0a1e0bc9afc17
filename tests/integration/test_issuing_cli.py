"""`buzon issue FILE.json` and `buzon ranges sync|list` through the real command line, against the simulator over
HTTP: the number, CUFE and DIAN's verdict printed; bad input is one line on stderr and exit 2; a rejection exits 1."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from dian.calendar import BOGOTA
from store.models import NumberingRange
from tests.integration.cli_runner import buzon_cli
from tests.integration.dian_fixtures import NUMBERING, SELLER_NIT, SELLER_SW
from tests.integration.issuing_fixtures import IssuingBed, invoice_data

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("issuing_bed", ["sqlite", "postgresql"], indirect=True)
def test_issuing_from_the_command_line(issuing_bed: IssuingBed, tmp_path: Path) -> None:
    bed = issuing_bed
    run = buzon_cli(bed.settings, tmp_path / "buzon.toml")

    bed.seed({"numbering": [{"nit": SELLER_NIT, "software_id": SELLER_SW.software_id, "resolution": "18764000099",
                             "prefix": "FEV", "from": 1, "to": 1000, "valid_from": "2026-01-01",
                             "valid_to": "2027-12-31", "technical_key": "b" * 40}]})  # fmt: skip
    synced = run("ranges", "sync")
    assert "nuevo: FEV 1-1000 (resolución 18764000099)" in synced.stdout
    listed = run("ranges", "list").stdout
    assert f"SETP  {NUMBERING.from_number}-{NUMBERING.to_number}  siguiente {NUMBERING.from_number}" in listed
    assert NUMBERING.technical_key not in listed and "b" * 40 not in listed  # the key is never shown

    # Its first numbers were used by the company's former software: Buzón starts further on, never back.
    assert "FEV: el siguiente número es 101" in run("ranges", "next", "FEV", "101").stdout
    assert "fuera del rango" in run("ranges", "next", "FEV", "5000", code=2).stderr
    assert "no hay un rango vigente" in run("ranges", "next", "XX", "1", code=2).stderr

    # GetNumberingRange does not say which range is the issuer's contingency range (03): the admin does, once.
    assert "FEV: numera facturas de contingencia (03)" in run("ranges", "kind", "FEV", "contingency").stdout
    paper = {"number": "P-17", "issue_date": dt.datetime.now(BOGOTA).date().isoformat()}  # the paper invoice
    (tmp_path / "talonario.json").write_text(json.dumps(invoice_data(type="03", paper_invoice=paper)), encoding="utf-8")
    contingency = run("issue", str(tmp_path / "talonario.json"), "--queue-only").stdout
    assert "Factura por contingencia del facturador FEV101" in contingency and "CUDE: " in contingency

    (tmp_path / "factura.json").write_text(json.dumps(invoice_data(prefix="SETP")), encoding="utf-8")
    issued = run("issue", str(tmp_path / "factura.json"), "--key", "pedido-1").stdout
    assert f"Factura electrónica de venta SETP{NUMBERING.from_number}" in issued
    assert "DIAN: validado por la DIAN" in issued and "Total a pagar: 119,000.00" in issued
    cufe = issued.split("CUFE: ")[1].split()[0]
    assert len(cufe) == 96
    again = run("issue", str(tmp_path / "factura.json"), "--key", "pedido-1").stdout
    assert "(ya expedido con esta clave)" in again and cufe in again

    (tmp_path / "otra.json").write_text(json.dumps(invoice_data(price="1")), encoding="utf-8")
    conflict = run("issue", str(tmp_path / "otra.json"), "--key", "pedido-1", code=2)
    assert conflict.stderr.startswith("error: el documento no se expide: /idempotency_key:")
    assert len(conflict.stderr.strip().splitlines()) == 1

    (tmp_path / "mala.json").write_text('{"type": "01", "lines": []', encoding="utf-8")
    broken = run("issue", str(tmp_path / "mala.json"), code=2)
    assert "no es JSON válido" in broken.stderr and len(broken.stderr.strip().splitlines()) == 1
    wrong = dict(invoice_data(), type="07")
    (tmp_path / "tipo.json").write_text(json.dumps(wrong), encoding="utf-8")
    refused = run("issue", str(tmp_path / "tipo.json"), code=2)
    assert refused.stderr.startswith("error: el documento no se expide: /type:")
    assert "no existe" in run("issue", str(tmp_path / "nada.json"), code=2).stderr

    # A technical key that is not DIAN's: the invoice is signed and DIAN rejects it, with its rules; exit 1.
    with bed.sessions() as s:
        s.execute(sa.update(NumberingRange).where(NumberingRange.prefix == "SETP").values(technical_key="0" * 40))
        s.commit()
    (tmp_path / "rechazada.json").write_text(json.dumps(invoice_data(prefix="SETP")), encoding="utf-8")
    rejected = run("issue", str(tmp_path / "rechazada.json"), code=1).stdout
    assert "DIAN: rechazado por la DIAN" in rejected and "Regla: FAD06" in rejected
