"""`buzon title import|sync|register|endorse|report|pay|list|show` through the real command line, against the
simulator over HTTP: refusals and bad input are one line on stderr and exit 2; the endorsement's price is printed before
signing. Every RADIAN event Buzón signs verifies with xmlsec1 and with `buzon verify`."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from dian.codes import EventCode, Operation
from tests.integration.dian_fixtures import BUYER_NIT
from tests.integration.test_events_cli import write_config
from tests.integration.titles_fixtures import FACTOR_NAME, FACTOR_NIT, SIGNATURE_CASES, TitlesBed, verify_signatures

pytestmark = pytest.mark.integration

BUZON = [sys.executable, "-m", "buzon.cli"]


@pytest.mark.parametrize("titles_bed", ["sqlite", "postgresql"], indirect=True)
def test_a_receivable_from_the_command_line(titles_bed: TitlesBed, tmp_path: Path) -> None:
    bed = titles_bed
    at = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)).replace(microsecond=0)
    invoice, attached = bed.our_invoice(at=at)
    (tmp_path / "ours.xml").write_bytes(attached)
    (tmp_path / "broken.xml").write_bytes(b"<Invoice>not signed")
    config = write_config(bed.settings, tmp_path / "buzon.toml")

    def run(*args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([*BUZON, "title", *args, "--config", str(config)], capture_output=True, text=True)
        assert done.returncode == code, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
        return done

    broken = run("import", str(tmp_path / "broken.xml"), code=2)
    assert broken.stderr.startswith("error: El archivo no es una factura electrónica legible")
    imported = run("import", str(tmp_path / "ours.xml"))
    assert "importada (validación de la DIAN comprobada)" in imported.stdout
    number = imported.stdout.split("Factura ")[1].split(" ")[0]
    assert "ya estaba importada" in run("import", str(tmp_path / "ours.xml")).stdout

    early = run("register", number, code=2)  # the buyer has not accepted it yet
    assert "error: Buzón no lo envía:" in early.stderr and "033" in early.stderr and "[LGC21]" in early.stderr
    bed.buyer_sends(invoice, EventCode.ACUSE_RECIBO, EventCode.RECIBO_BIEN, EventCode.ACEPTACION_EXPRESA,
                    at=at + dt.timedelta(hours=1))  # fmt: skip
    assert "nuevos: 030" in run("sync", number).stdout
    assert "Firmado: 361" in run("register", number).stdout

    bad_rate = run("endorse", number, "--to", FACTOR_NIT, "--name", FACTOR_NAME, "--rate", "dos", "--yes", code=2)
    assert "--rate: «dos» no es un número" in bad_rate.stderr
    asked = [*BUZON, "title", "endorse", number, "--to", FACTOR_NIT, "--name", FACTOR_NAME, "--rate", "2.5"]
    declined = subprocess.run([*asked, "--config", str(config)], input="n\n", capture_output=True, text=True)
    assert declined.returncode == 2 and "precio a pagar $ 116.025,00 (descuento $ 2.975,00)" in declined.stdout
    endorsed = run("endorse", number, "--to", FACTOR_NIT, "--name", FACTOR_NAME, "--rate", "2.5", "--yes")
    assert "precio a pagar $ 116.025,00" in endorsed.stdout and "Firmado: 371" in endorsed.stdout
    assert "DIAN: registered" in endorsed.stdout

    pay = run("pay", number, code=2)  # the factor holds it now
    assert "no es el tenedor legítimo" in pay.stderr and FACTOR_NIT in pay.stderr
    listing = run("list").stdout
    assert number in listing and "endorsed" in listing and FACTOR_NIT in listing
    shown = run("show", number).stdout
    assert f"Tenedor legítimo: {FACTOR_NAME} (NIT {FACTOR_NIT})" in shown and f"NIT {BUYER_NIT}" in shown
    assert "037/371" in shown and "registered" in shown
    assert run("show", "nada", code=2).stderr.startswith("error: no hay un título")


@pytest.mark.parametrize("titles_bed", ["sqlite", "postgresql"], indirect=True)
def test_every_radian_event_we_sign_verifies_with_xmlsec1_and_buzon_verify(titles_bed: TitlesBed,
                                                                          tmp_path: Path) -> None:  # fmt: skip
    from decimal import Decimal

    from radian.actions import (
        CancelEndorsement,
        Counterparty,
        Endorse,
        GrantMandate,
        RecordPayment,
        Register,
        ReportForPayment,
    )

    bed = titles_bed
    title_id, _ = bed.imported_title(at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=3))
    factor = Counterparty(FACTOR_NIT, FACTOR_NAME)
    for action in (Register(), ReportForPayment(), GrantMandate(factor), Endorse(factor, kind="guarantee")):
        assert bed.titles.act(title_id, action, actor="t").allowed
    guarantee = bed.chain_cude(title_id, "038")
    assert bed.titles.act(title_id, CancelEndorsement(guarantee), actor="t").allowed
    assert bed.titles.act(title_id, Endorse(factor, kind="collection"), actor="t").allowed
    collection = bed.chain_cude(title_id, "039")
    for action in (CancelEndorsement(collection, reason="El endosatario al cobro no gestionó el cobro."),
                   RecordPayment(Decimal("1000.00")), Endorse(factor, rate=Decimal("2"), blank=True)):  # fmt: skip
        done = bed.titles.act(title_id, action, actor="t")
        assert done.allowed, done
    verified = verify_signatures(bed.runtime, bed.settings, tmp_path / "firmados")
    assert {op.value for op in verified} == {"361", "046", "432", "038", "401", "039", "402", "451", "371"}


def test_every_variant_radian_signs_has_a_signature_case() -> None:
    """The variants radian.actions.operation_of can return, read from its source, are each verified by a test that
    SIGNATURE_CASES names — and each test named exists and calls verify_signatures."""
    import ast
    import importlib
    import inspect

    from radian import actions

    tree = ast.parse(inspect.getsource(actions.operation_of))
    names = [node for node in ast.walk(tree) if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)]
    signed = {Operation[node.attr] for node in names if node.value.id == "OP"}
    assert len(signed) >= 20, signed  # the parse found the variants, not nothing
    covered = set().union(*SIGNATURE_CASES.values())
    assert signed - covered == set(), f"variants radian signs with no xmlsec1/buzon verify case: {signed - covered}"
    where = ("test_titles_cli", "test_titles_circulation", "test_titles_rights", "test_title_pay_supplier")
    modules = [importlib.import_module(f"tests.integration.{name}") for name in where]
    for test in SIGNATURE_CASES:
        found = [getattr(m, test) for m in modules if hasattr(m, test)]
        assert len(found) == 1 and "verify_signatures(" in inspect.getsource(found[0]), test
