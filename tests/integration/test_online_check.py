"""dian.online_check end to end: `buzon import` asks the running DIAN simulator (GetStatus) about each document."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
import sqlalchemy as sa

from dian.nit import check_digit
from tests.integration.dian_fixtures import BUYER_NIT, dian_world  # noqa: F401 - the fixture

pytestmark = pytest.mark.integration

BUZON = [sys.executable, "-m", "buzon.cli"]


def test_import_confirms_with_dian_and_quarantines_what_dian_does_not_know(tmp_path, dian_world):  # noqa: F811
    known = dian_world.invoice()
    dian_world.simulator.validate(known)  # DIAN has this one on record
    unknown = dian_world.invoice()  # signed, but never sent to DIAN
    (tmp_path / "known.xml").write_bytes(known)
    (tmp_path / "unknown.xml").write_bytes(unknown)
    trust = tmp_path / "trust"
    trust.mkdir()
    shutil.copy(dian_world.simulator.ca_certificate_path, trust / "simulator-ca.pem")
    (tmp_path / "buzon.toml").write_text(
        f"""data_dir = "{tmp_path}"
[company]
nit = "{BUYER_NIT}-{check_digit(BUYER_NIT)}"
name = "EMPRESA COMPRADORA S.A.S."
[dian]
environment = "simulator"
endpoint = "{dian_world.url}"
online_check = true
trust_store = "{trust}"
"""
    )
    assert subprocess.run([*BUZON, "init"], cwd=tmp_path, capture_output=True).returncode == 0
    result = subprocess.run(
        [*BUZON, "import", "--json", "known.xml", "unknown.xml"], cwd=tmp_path, capture_output=True, text=True
    )
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    # 66 (DIAN does not know the CUFE yet) is not final: filed "sin confirmar", asked again by confirm_documents.
    assert summary == {"filed": 2, "duplicates": 0, "quarantined": {}}, result.stderr
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'buzon.sqlite3'}")
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT number, verdict, state, report FROM received_documents")).all()
        learned = conn.execute(sa.text("SELECT learned_from, subject, endpoint FROM dian_certificates")).all()
        audited = conn.execute(
            sa.text("SELECT count(*) FROM audit_entries WHERE action = 'dian.certificate.learned'")
        ).scalar()
    engine.dispose()
    by_verdict = {verdict: (state, json.loads(report)) for _, verdict, state, report in rows}
    assert set(by_verdict) == {"valid_with_warnings", "unconfirmed"}
    state, confirmed = by_verdict["valid_with_warnings"]
    checks = {c["name"]: c for c in confirmed["checks"]}
    assert state == "validated" and confirmed["dian_validated"] is True
    assert checks["dian.online"]["outcome"] == "pass"
    assert "GetStatus 00" in checks["dian.online"]["detail"]
    assert "copia del documento coincide" in checks["dian.online"]["detail"]  # GetXmlByDocumentKey compared
    state, pending = by_verdict["unconfirmed"]
    checks = {c["name"]: c for c in pending["checks"]}
    assert state == "unconfirmed" and checks["dian.online"]["outcome"] == "warn"
    assert "(66)" in checks["dian.online"]["detail"]
    # The simulator's DIAN certificate was learned from its GetStatus answer, once, and audited.
    assert len(learned) == 1 and learned[0][2] == dian_world.url and audited == 1
    assert "800197268" in learned[0][1]
    # The sandbox company certificate was issued once under the simulator CA and kept.
    assert (tmp_path / "dian-sim" / "company-sandbox.p12").exists()
