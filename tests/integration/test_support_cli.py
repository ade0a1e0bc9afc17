"""`buzon soporte purchase|accumulate` and `buzon issue` of a documento soporte through the real command line against
the simulator over HTTP: two purchases of the week gathered into one DS mode 2 that DIAN validates, a second run with
nothing left refused in one line; a non-resident DS from `buzon issue`; `buzon verify` on what was issued."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from lxml import etree

from dian.ubl import namespaces as ns
from store.models import OutboundDocument, SupportPurchase
from tests.integration.cli_runner import buzon_cli
from tests.integration.issuing_fixtures import IssuingBed
from tests.integration.support_fixtures import DS_RANGE, FARMER, SAAS, support_data, today
from tests.integration.support_fixtures import issuing_bed as issuing_bed  # the fixtures, re-exported
from tests.integration.support_fixtures import support_bed as support_bed
from tests.integration.test_xmlsec_crosscheck import xmlsec_verify
from tests.services import xmlsec1 as xmlsec1  # the fixture, re-exported

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("issuing_bed", ["sqlite", "postgresql"], indirect=True)
def test_weekly_ds_from_the_command_line(support_bed: IssuingBed, tmp_path: Path, xmlsec1: str) -> None:
    bed = support_bed
    run = buzon_cli(bed.settings, tmp_path / "buzon.toml")

    # GetNumberingRange does not say which range is the DS's (C.5): the admin says it once (the fixture did too);
    # a new range read by `ranges sync` is said to number invoices until then.
    bed.seed({"numbering": [{**DS_RANGE, "prefix": "DSB", "resolution": "18764000005678", "to": 50}]})
    synced = run("ranges", "sync").stdout
    assert "nuevo: DSB 1-50" in synced and "buzon ranges kind PREFIJO support_document" in synced, synced
    assert "DS: numera documentos soporte" in run("ranges", "kind", "DS", "support_document").stdout
    day = today()
    year, week, _ = day.isocalendar()
    week_text = f"{year}-W{week:02d}"
    for quantity, price in (("3", "12000"), ("5", "11500")):
        line = {"description": "Huevos AA, cubeta x30", "quantity": quantity, "unit_price": price,
                "taxes": [{"scheme": "01", "rate": "0"}]}  # fmt: skip
        purchase = {"seller": FARMER, "line": line}
        (tmp_path / "compra.json").write_text(json.dumps(purchase), encoding="utf-8")
        assert f"para la semana {week_text}" in run("soporte", "purchase", str(tmp_path / "compra.json")).stdout
    bad = {"seller": {**FARMER, "address": None}, "line": {"description": "x", "quantity": "0", "unit_price": "1"}}
    (tmp_path / "mala.json").write_text(json.dumps(bad), encoding="utf-8")
    refused = run("soporte", "purchase", str(tmp_path / "mala.json"), code=2).stderr
    assert "/line/quantity" in refused and "/seller/address" in refused

    done = run("soporte", "accumulate", "--seller", FARMER["id"], "--week", week_text).stdout
    assert "Documento soporte DS1" in done and "DIAN: validado por la DIAN" in done, done
    assert "Total: 93,500.00" in done
    assert "no hay compras abiertas" in run("soporte", "accumulate", "--seller", FARMER["id"], "--week", week_text,
                                            code=2).stderr  # fmt: skip
    assert "AAAA-Www" in run("soporte", "accumulate", "--seller", "1", "--week", "48", code=2).stderr
    with bed.sessions() as s:
        row = s.execute(sa.select(OutboundDocument).where(OutboundDocument.number == "DS1")).scalar_one()
        gathered = s.execute(sa.select(SupportPurchase.support_document_id)).scalars().all()
        xml, attached = bed.runtime.blobs.get(row.xml_blob), bed.runtime.blobs.get(row.attached_blob)
    assert gathered == [row.id, row.id]
    root = etree.fromstring(xml)
    codes = root.findall(f".//{{{ns.CAC}}}InvoiceLine/{{{ns.CAC}}}InvoicePeriod/{{{ns.CBC}}}DescriptionCode")
    assert [c.text for c in codes] == ["2", "2"]
    (tmp_path / "ds1.xml").write_bytes(xml)
    (tmp_path / "ds1-attached.xml").write_bytes(attached)
    verified = run("verify", str(tmp_path / "ds1-attached.xml"), str(tmp_path / "ds1.xml"), code=0).stdout
    assert "ds1-attached.xml: valid" in verified, verified

    # A non-resident DS through `buzon issue` (kind says which document it is).
    foreign = support_data(seller=SAAS, currency="USD", exchange_rate={"rate": "4000", "date": day.isoformat()})
    foreign["lines"] = [{"description": "Suscripción anual herramienta", "quantity": "1", "unit_price": "1200",
                         "generation": {"mode": "1", "start": day.isoformat()}}]  # fmt: skip
    (tmp_path / "saas.json").write_text(json.dumps(foreign), encoding="utf-8")
    issued = run("issue", str(tmp_path / "saas.json")).stdout
    assert "Documento soporte DS2" in issued and "validado por la DIAN" in issued, issued

    # Both verify with buzon verify (their AttachedDocument) and with xmlsec1, the independent checker.
    with bed.sessions() as s:
        row = s.execute(sa.select(OutboundDocument).where(OutboundDocument.number == "DS2")).scalar_one()
        (tmp_path / "ds2.xml").write_bytes(bed.runtime.blobs.get(row.xml_blob))
        (tmp_path / "ds2-attached.xml").write_bytes(bed.runtime.blobs.get(row.attached_blob))
    verified = run("verify", str(tmp_path / "ds2-attached.xml"), code=0).stdout
    assert "ds2-attached.xml: valid" in verified, verified
    for name in ("ds1", "ds2"):
        checked = xmlsec_verify(xmlsec1, (tmp_path / f"{name}.xml").read_bytes(), tmp_path, f"{name}-xmlsec.xml")
        assert checked.returncode == 0, (name, checked.stderr)
