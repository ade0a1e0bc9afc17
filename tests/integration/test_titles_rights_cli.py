"""`buzon title mandate|end-mandate|protest|transfer|notify-transfer` through the real command line against the
simulator over HTTP: each registered by DIAN, shown by `title show`; bad input and refusals are one line on stderr,
exit 2, no traceback."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from dian.codes import EventCode
from tests.integration.test_events_cli import write_config
from tests.integration.titles_fixtures import FACTOR_NAME, FACTOR_NIT, TitlesBed

pytestmark = pytest.mark.integration

BUZON = [sys.executable, "-m", "buzon.cli"]


@pytest.mark.parametrize("titles_bed", ["sqlite", "postgresql"], indirect=True)
def test_mandate_protest_and_transfer_from_the_command_line(titles_bed: TitlesBed, tmp_path: Path) -> None:
    bed = titles_bed
    at = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)).replace(microsecond=0)
    invoice, attached = bed.our_invoice(at=at)
    (tmp_path / "ours.xml").write_bytes(attached)
    (tmp_path / "acta.pdf").write_bytes(b"%PDF-1.4\n% acta\n")
    (tmp_path / "acta.txt").write_bytes(b"no es un pdf")
    config = write_config(bed.settings, tmp_path / "buzon.toml")

    def run(*args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([*BUZON, "title", *args, "--config", str(config)], capture_output=True, text=True)
        assert done.returncode == code, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
        if code == 2:
            assert done.stderr.startswith("error: ") and len(done.stderr.strip().splitlines()) == 1, done.stderr
        return done

    number = run("import", str(tmp_path / "ours.xml")).stdout.split("Factura ")[1].split(" ")[0]
    bed.buyer_sends(invoice, EventCode.ACUSE_RECIBO, EventCode.RECIBO_BIEN, EventCode.ACEPTACION_EXPRESA,
                    at=at + dt.timedelta(hours=1))  # fmt: skip
    assert "name one TITLE or use --all" in run("sync", code=2).stderr
    assert "consultados 1; con novedades 1; eventos nuevos 3; reclamos 0; fallidos 0" in run("sync", "--all").stdout
    assert "Firmado: 361" in run("register", number).stdout

    assert "NIT: «90-1» no es un NIT" in run("mandate", number, "--to", "90-1", "--name", "X", code=2).stderr
    until = (dt.date.today() + dt.timedelta(days=60)).isoformat()
    granted = run("mandate", number, "--to", FACTOR_NIT, "--name", FACTOR_NAME, "--until", until).stdout
    assert "Firmado: 431" in granted and "DIAN: registered" in granted
    shown = run("show", number).stdout
    assert f"Mandato vigente a NIT {FACTOR_NIT} hasta {until}" in shown and "043/431" in shown
    cude = shown.split(f"hasta {until} (CUDE ")[1].split(")")[0]
    assert "Firmado: 441" in run("end-mandate", number, "--mandate", cude).stdout
    assert "Mandato vigente" not in run("show", number).stdout
    assert "ya fue terminado" in run("end-mandate", number, "--mandate", cude, code=2).stderr

    bad = run("protest", number, "--certificate", str(tmp_path / "acta.txt"), "--non-acceptance", code=2)
    assert "debe ser un PDF" in bad.stderr
    early = run("protest", number, "--certificate", str(tmp_path / "acta.pdf"), code=2)  # 482 before due
    assert "[LGC76]" in early.stderr

    transferred = run("transfer", number, "--to", "901555444", "--name", "CESIONARIA S.A.S.", "--rate", "4", "--yes")
    assert "precio $ 114.240,00" in transferred.stdout and "Firmado: 492" in transferred.stdout
    assert "Firmado: 050" in run("notify-transfer", number).stdout
    shown = run("show", number).stdout
    assert "pagar a: CESIONARIA S.A.S. (NIT 901555444)" in shown and "Estado: transferred" in shown
    after = run("protest", number, "--certificate", str(tmp_path / "acta.pdf"), "--non-acceptance", code=2)
    assert "[LGC74]" in after.stderr and "049" in after.stderr
