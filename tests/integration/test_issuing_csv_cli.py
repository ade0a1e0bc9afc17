"""`buzon issue FILE.csv` through the real command line, against the simulator over HTTP, on SQLite and PostgreSQL:
two documents of three rows issued and validated by DIAN with the totals the rows add up to; a file with a problem in
any row is refused whole (row and column named, nothing issued); a retried file with the same --key issues nothing
twice."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from dian.calendar import BOGOTA
from store.models import OutboundDocument, OutboundState
from tests.integration.dian_fixtures import BUYER_NIT
from tests.integration.issuing_fixtures import IssuingBed
from tests.integration.test_events_cli import write_config

pytestmark = pytest.mark.integration

HEADER = ("document;customer_id_type;customer_id;customer_dv;customer_name;customer_email;customer_address;"
          "customer_city_code;payment_form;payment_method;due_date;reteiva;description;quantity;unit_price;iva;"
          "discount_percent")  # fmt: skip


def _csv(due: str) -> str:
    buyer = f"31;{BUYER_NIT};0;EMPRESA COMPRADORA S.A.S.;fe@compradora.test;Cl 10 # 5-20;05001"
    return "\n".join((
        HEADER,
        f"PED-1;{buyer};2;42;{due};15;Consultoría;2;50000;19;10",
        "PED-1;;;;;;;;;;;;Licencia anual;1;200000;19;",
        f"PED-2;{buyer};1;10;;;\"Capacitación; 4 horas\";1;80000;0;",
    )) + "\n"  # fmt: skip


def test_a_csv_file_issues_each_of_its_documents(issuing_bed: IssuingBed, tmp_path: Path) -> None:
    bed = issuing_bed
    config = write_config(bed.settings, tmp_path / "buzon.toml")

    def run(*args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([sys.executable, "-m", "buzon.cli", "issue", *args, "--config", str(config)],
                              capture_output=True, text=True, timeout=180)  # fmt: skip
        assert done.returncode == code, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
        return done

    assert "customer_city_code" in run("--help").stdout and "inc_bolsas" in run("--help").stdout
    due = (dt.datetime.now(BOGOTA).date() + dt.timedelta(days=30)).isoformat()
    good = tmp_path / "pedidos.csv"
    good.write_text(_csv(due), encoding="utf-8")

    bad = tmp_path / "malos.csv"
    bad.write_text(_csv(due).replace(";Licencia anual;1;200000;19;", ";Licencia anual;uno;200000;19;"), "utf-8")
    refused = run(str(bad), code=2).stderr
    assert "fila 3, columna quantity: no es un número" in refused and len(refused.strip().splitlines()) == 1
    assert bed.count(OutboundDocument) == 0  # nothing issued while a row has a problem

    out = run(str(good), "--key", "lote-7").stdout
    assert out.count("DIAN: validado por la DIAN") == 2 and "[PED-1] Factura electrónica de venta SETP" in out
    rows = {}
    with bed.sessions() as s:
        for row in s.query(OutboundDocument).order_by(OutboundDocument.id):
            rows[row.idempotency_key] = (row.state, row.payable_amount, row.withholding_amount, row.payload)
    assert set(rows) == {"lote-7/PED-1", "lote-7/PED-2"}
    state, payable, withheld, payload = rows["lote-7/PED-1"]
    # 2 × 50,000 less 10 % = 90,000 and 200,000, IVA 19 % = 55,100; ReteIVA 15 % of the IVA is only informed.
    assert state is OutboundState.ACCEPTED and payable == Decimal("345100.00") and withheld == Decimal("8265.00")
    assert [line["description"] for line in payload["lines"]] == ["Consultoría", "Licencia anual"]
    assert rows["lote-7/PED-2"][:2] == (OutboundState.ACCEPTED, Decimal("80000.00"))
    assert rows["lote-7/PED-2"][3]["lines"][0]["description"] == "Capacitación; 4 horas"

    again = run(str(good), "--key", "lote-7").stdout
    assert again.count("(ya expedido con esta clave)") == 2 and bed.count(OutboundDocument) == 2
