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
    assert "inscrita en RADIAN (registered) y endosada a FACTORING DEL VALLE S.A.S. por $ " in first.stdout
    # One supplier invoice of ours to pay, endorsed by its supplier to a factor, seen by one sweep of the watch.
    assert ("endosada por su proveedor a LIQUIDEZ ANDINA FACTORING S.A.S.; la vigilancia de endosos revisó 1 "
            "factura(s) y cambió el beneficiario de 1: pagar a LIQUIDEZ ANDINA FACTORING S.A.S.") in first.stdout
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
                                      "WHERE document_id IS NOT NULL AND direction = 'emitted'")).all()  # fmt: skip
        title = conn.execute(sa.text("SELECT state, holder_nit, chain_length FROM value_titles "
                                     "WHERE role = 'holder' AND chain_length > 0")).one()  # fmt: skip
        payable = conn.execute(sa.text(
            "SELECT t.id, t.state, t.issuer_nit, t.holder_nit, t.payee_nit, t.payee_name, t.chain_length, d.state "
            "FROM value_titles t JOIN received_documents d ON d.id = t.document_id WHERE t.role = 'obligor'"
        )).all()  # fmt: skip
        observed = conn.execute(sa.text(
            "SELECT code, sender_nit, receiver_nit FROM document_events "
            "WHERE direction = 'observed' AND code IN ('036', '037') ORDER BY signing_time"
        )).all()  # fmt: skip
        alerts = conn.execute(sa.text("SELECT title_id, kind, to_nit, seen_at FROM title_alerts "
                                      "WHERE kind = 'holder_changed'")).all()  # fmt: skip
        mailed = conn.execute(sa.text("SELECT count(*) FROM outgoing_mail WHERE kind = 'title_alert'")).scalar()
        notices = conn.execute(sa.text("SELECT count(*) FROM outgoing_mail WHERE kind = 'event_notice'")).scalar()
    # the accepted invoice is a título valor now: its supplier registered it (036)
    assert states == {"validated": 7, "acknowledged": 1, "goods_received": 2, "title": 1}
    assert sorted(code for code, _, _ in events) == ["030"] * 5 + ["032"] * 3 + ["033"]
    assert Counter(state for _, state, _ in events) == {"registered": 8, "send_failed": 1}
    assert all(error for _, state, error in events if state == "send_failed")  # the transport error, kept
    assert notices == 8  # waiting for the scheduler's SMTP delivery
    assert tuple(title) == ("endorsed", "901777888", 2)  # 036 and 037 on our receivable
    # The accepted supplier invoice: its title (the watch's row) is paid to the factor, not to the supplier.
    assert len(payable) == 1
    title_id, state, supplier, holder, payee, payee_name, chain, document_state = payable[0]
    assert (state, holder, payee, payee_name, chain) == (
        "endorsed", "901345678", "901345678", "LIQUIDEZ ANDINA FACTORING S.A.S.", 2)  # fmt: skip
    assert supplier == "900111222" and document_state == "title"
    # the supplier's 036 (to DIAN) and 037 (to the factor), proven and kept as observed events of the invoice
    assert [tuple(row) for row in observed] == [("036", supplier, "800197268"), ("037", supplier, "901345678")]
    # … and one unseen holder_changed alert on it (mailed to treasury), beside the one on our own receivable.
    assert [(t, to, seen) for t, _, to, seen in alerts if t == title_id] == [(title_id, "901345678", None)]
    assert len(alerts) == 2 and mailed == 2  # + the claim (031) on one of our issued invoices
    _assert_issued(first.stdout, engine)
    second = subprocess.run([*BUZON, "init"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert "demo:" not in second.stdout
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM received_documents")).scalar() == 11
        # + 030/032/033/036/037 on our receivable, + the supplier's 036/037 the watch observed on the payable,
        # + the buyers' 030/032 and 033, 031 or our 034 on three issued invoices
        assert conn.execute(sa.text("SELECT count(*) FROM document_events")).scalar() == 9 + 5 + 2 + 9
        # our seven sales documents and AP's three documentos soporte (two 05, one 95)
        assert conn.execute(sa.text("SELECT count(*) FROM outbound_documents WHERE origin = 'issued'")).scalar() == 10
        assert conn.execute(sa.text("SELECT count(*) FROM support_purchases")).scalar() == 2
        assert conn.execute(sa.text("SELECT count(*) FROM title_alerts WHERE kind = 'holder_changed'")).scalar() == 2
    engine.dispose()


def _assert_issued(stdout: str, engine: sa.Engine) -> None:
    """Our own invoices, issued through IssuingService against the simulator (buzon/demo_issued.py): every state
    billing meets, with the buyers' events the receivables sync learned and our registered tacit 034."""
    assert "demo: 7 documento(s) expedido(s) por Buzón (" in stdout
    assert "aceptación tácita (034) registrada: tacitly_accepted" in stdout
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT id, number, document_type, state, buyer_name, delivery_state, report, dian_messages, reference_id "
            "FROM outbound_documents WHERE origin = 'issued' AND document_type NOT IN ('05', '95') ORDER BY id"
        )).all()  # fmt: skip
        support = conn.execute(sa.text(
            "SELECT number, document_type, state, buyer_name, reference_id FROM outbound_documents "
            "WHERE document_type IN ('05', '95') ORDER BY id")).all()  # fmt: skip
        open_purchases = conn.execute(sa.text(
            "SELECT seller_id FROM support_purchases WHERE support_document_id IS NULL")).scalars().all()  # fmt: skip
        events = conn.execute(sa.text(
            "SELECT outbound_document_id, code, direction, submission_state FROM document_events "
            "WHERE outbound_document_id IS NOT NULL ORDER BY id")).all()  # fmt: skip
        ranges = conn.execute(sa.text("SELECT prefix, source, resolution_number FROM numbering_ranges "
                                      "WHERE kind = 'invoice'")).all()  # fmt: skip
    assert [tuple(r) for r in ranges] == [("SETP", "dian", "18760000001")]  # read from the simulator
    # AP's documentos soporte (buzon/demo_support.py) from the DS range, marked before any invoice took a number
    assert [(r.number, r.document_type, r.state, r.buyer_name) for r in support] == [
        ("DS1", "05", "accepted", "Pedro Campesino Rojas"), ("DS2", "05", "accepted", "Cloud Tools Inc."),
        ("NDS1", "95", "accepted", "Pedro Campesino Rojas")]  # fmt: skip
    assert "documentos soporte (DS1 accepted, DS2 accepted, NDS1 accepted)" in stdout
    assert open_purchases == ["80456789", "80456789"]  # this week's, for /soporte/semana to gather
    by_buyer = {r.buyer_name: r for r in rows if r.document_type == "01" and r.state == "accepted"}
    assert Counter(r.state for r in rows) == {"accepted": 6, "rejected": 1}
    (rejected,) = [r for r in rows if r.state == "rejected"]
    assert any(m.startswith("Regla: FAD06, Rechazo:") for m in json.loads(rejected.dian_messages))
    (note,) = [r for r in rows if r.document_type == "91"]
    assert note.state == "accepted" and by_buyer["PAPELERÍA CENTRAL LTDA."].id == note.reference_id
    mine = {r.id: sorted((code, direction, state) for doc, code, direction, state in events if doc == r.id)
            for r in rows}  # fmt: skip
    buyer = [("030", "observed", "registered"), ("032", "observed", "registered")]
    assert mine[by_buyer["DISTRIBUIDORA EL CAFETAL S.A.S."].id] == sorted([*buyer, ("033", "observed", "registered")])
    assert mine[by_buyer["CONSTRUCCIONES ANDINAS S.A.S."].id] == sorted([*buyer, ("031", "observed", "registered")])
    assert mine[by_buyer["HOTEL LOS ALMENDROS S.A.S."].id] == sorted([*buyer, ("034", "emitted", "registered")])
    # The buyers' mails: queued for the scheduler's SMTP run, and one buyer with no known address, said so.
    delivery = Counter((r.delivery_state, json.loads(r.report or "{}").get("delivery", {}).get("problem"))
                       for r in rows)  # fmt: skip
    assert delivery == {("pending", None): 5, ("failed", "no_address"): 1, (None, None): 1}
