"""`buzon init` with no configuration: the demo inbox, validated by the local DIAN simulator."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

import pytest
import sqlalchemy as sa

from dian.simulator import Simulator

pytestmark = pytest.mark.integration

BUZON = [sys.executable, "-m", "buzon.cli"]


def test_demo_inbox_is_validated_by_the_simulator_and_seeded_once(tmp_path):
    first = subprocess.run([*BUZON, "init"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert "demo: 11 documento(s) archivado(s), 1 correo(s) en cuarentena" in first.stdout
    # One receivable of ours: registered in RADIAN and endorsed to a factor, both registered by the simulator.
    assert "inscrita en RADIAN (registered) y endosada a FACTORING DEL VALLE S.A.S. por" in first.stdout
    assert first.stdout.rstrip().count("(registered)") >= 2
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'var' / 'buzon.sqlite3'}")
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT cufe, verdict, report FROM received_documents")).all()
        reasons = conn.execute(sa.text("SELECT reason FROM mail_messages WHERE status = 'quarantined'")).scalars().all()
    assert reasons == ["not_for_us"]
    assert len(rows) == 11
    # The bare invoice brings no DIAN answer: confirmed online by the simulator while seeding, never "sin confirmar".
    assert Counter(verdict for _, verdict, _ in rows) == {"valid": 11}
    confirmed = [json.loads(r) for _, _, r in rows if json.loads(r).get("dian_proof") == "confirmed_online"]
    assert len(confirmed) == 1 and confirmed[0]["dian_validated"] is True
    assert not any("sin confirmar" in c["detail"] for c in confirmed[0]["checks"])
    answered = 0
    for cufe, _, report in rows:
        checks = {c["name"]: c["outcome"] for c in json.loads(report)["checks"]}
        if "dian.signature" in checks:
            answered += 1
            assert checks["dian.certificate.chain"] == "pass", cufe  # DIAN's answer chains to the simulator CA
            assert checks["dian.response"] == "pass", cufe
    assert answered == 10
    # The simulator itself has every answered document on record (a later GetStatus confirms them).
    simulator = Simulator(tmp_path / "var" / "dian-sim")
    try:
        known = [cufe for cufe, _, _ in rows if simulator.get_status(cufe).status_code == "00"]
    finally:
        simulator.close()
    assert len(known) == 11  # the bare invoice was validated too; its mail just does not carry the answer
    # A few invoices carry events registered by the simulator: every state shows, and one live countdown.
    assert "demo: 8 evento(s) registrado(s) en el simulador de la DIAN" in first.stdout
    # … and one 030 that met a DIAN that did not answer waits for the scheduler's retry (issue 15: make run retries).
    assert "; 1 en cola porque la DIAN no respondió (el programador lo reintentará)" in first.stdout
    with engine.connect() as conn:
        states = Counter(conn.execute(sa.text("SELECT state FROM received_documents")).scalars())
        events = conn.execute(sa.text("SELECT code, submission_state, last_error FROM document_events "
                                      "WHERE document_id IS NOT NULL")).all()  # fmt: skip
        title = conn.execute(sa.text("SELECT state, holder_nit, chain_length FROM value_titles")).one()
        notices = conn.execute(sa.text("SELECT count(*) FROM outgoing_mail WHERE kind = 'event_notice'")).scalar()
    assert states == {"validated": 7, "acknowledged": 1, "goods_received": 2, "accepted": 1}
    assert sorted(code for code, _, _ in events) == ["030"] * 5 + ["032"] * 3 + ["033"]
    assert Counter(state for _, state, _ in events) == {"registered": 8, "send_failed": 1}
    assert all(error for _, state, error in events if state == "send_failed")  # the transport error, kept
    assert notices == 8  # waiting for the scheduler's SMTP delivery
    assert tuple(title) == ("endorsed", "901777888", 2)  # 036 and 037 on our receivable
    second = subprocess.run([*BUZON, "init"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert "demo:" not in second.stdout
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM received_documents")).scalar() == 11
        assert conn.execute(sa.text("SELECT count(*) FROM document_events")).scalar() == 9 + 5  # + 030/032/033/036/037
    engine.dispose()
