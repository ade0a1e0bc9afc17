"""Contingency against the DIAN simulator over HTTP, on SQLite and PostgreSQL: DIAN stops answering (an injected
outage, which opens the simulator's contingency window) → after 4 unanswered sends the contingency is detected →
the next invoice is issued as type 04 and not sent → DIAN is back → the sweep transmits it, DIAN accepts it (signed
inside the window, received within 48 h) and the detected contingency ends. Also: a declared contingency, and the
deadline alert (audit + mail to billing and the admins) for a 04 still unsent near its deadline."""

from __future__ import annotations

import datetime as dt

import pytest
import requests
import sqlalchemy as sa

from buzon import jobs
from dian.codes import DocumentType
from issuing import contingency
from issuing.context import utc_now
from store.models import OutboundState, OutgoingMail, Role, User
from tests.integration.issuing_fixtures import IssuingBed, invoice_data

pytestmark = pytest.mark.integration


def test_an_outage_turns_invoices_into_04_transmitted_within_the_window(issuing_bed: IssuingBed) -> None:
    bed, sessions = issuing_bed, issuing_bed.sessions
    bed.fault("SendBillSync", "http503", count=4)
    failed = [bed.issue(invoice_data(), deliver=True) for _ in range(3)]
    assert {d.state for d in failed} == {OutboundState.SEND_FAILED}
    assert contingency.detect(sessions, now=utc_now()) is None  # three unanswered sends: not yet
    failed.append(bed.issue(invoice_data(), deliver=True))
    held = contingency.detect(sessions, now=utc_now())
    assert held is not None and held.source == "detected" and "503" in held.reason
    windows = requests.get(f"{bed.world.server.base_url}/_sim/contingencies", timeout=10).json()["windows"]
    assert [(w["source"], w["end"]) for w in windows] == [("outage", None)]  # DIAN's window is open

    done = contingency.issue(bed.issuing, bed.request(invoice_data()), actor="test:erp")
    assert done.document_type is DocumentType.DIAN_CONTINGENCY_INVOICE and done.state is OutboundState.SIGNED
    row = bed.row(done.id)
    assert row.next_attempt_at is None and row.contingency_reason.startswith("detected: 4 envíos seguidos")
    assert row.contingency_deadline - row.issued_at == dt.timedelta(hours=48)
    # The outbox does not send it by itself (asked about the 04 alone: the 01s that failed before the detection fall
    # due after their backoff, which a slow machine reaches here).
    assert bed.issuing.deliver(only=[done.id]).as_dict()["accepted"] == 0

    # DIAN is back (the fault count is used up): the sweep transmits the 04; DIAN's window closes at its answer.
    report = contingency.sweep(bed.issuing, bed.runtime.client, now=utc_now(), from_address="fe@proveedor.test")
    assert report.transmitted == [done.number] and report.rejected == [] and report.ended, report
    row = bed.row(done.id)
    assert row.state is OutboundState.ACCEPTED and row.attached_blob is not None
    assert contingency.current(sessions) is None
    windows = requests.get(f"{bed.world.server.base_url}/_sim/contingencies", timeout=10).json()["windows"]
    (window,) = windows
    signed = row.signed_at
    assert window["end"] is not None
    assert dt.datetime.fromisoformat(window["start"]) <= signed <= dt.datetime.fromisoformat(window["end"])
    assert [e.data["source"] for e in bed.audit("contingency.started")] == ["detected"]
    assert len(bed.audit("contingency.ended")) == 1
    # The invoices that failed before the detection are ordinary 01s: the outbox sends them once due.
    assert {bed.row(d.id).document_type for d in failed} == {DocumentType.INVOICE}


def test_a_declared_contingency_and_the_deadline_alert(issuing_bed: IssuingBed) -> None:
    bed, sessions = issuing_bed, issuing_bed.sessions
    with sessions() as s:
        s.add_all([User(username="fact", role=Role.BILLING, email="facturacion@proveedor.test", password_hash="x"),
                   User(username="adm", role=Role.ADMIN, email="admin@proveedor.test", password_hash="x")])  # fmt: skip
        s.commit()
    with pytest.raises(ValueError):
        contingency.start(sessions, actor="cli:ana", reason="  ", now=utc_now())
    contingency.start(sessions, actor="cli:ana", reason="Caída del servicio de la DIAN anunciada", now=utc_now())
    requests.post(
        f"{bed.world.server.base_url}/_sim/contingencies", json={"start": utc_now().isoformat()}, timeout=10
    ).raise_for_status()  # DIAN declares its window too (GlobalContingency)
    bed.fault("SendBillSync", "http503", count=2)
    done = contingency.issue(bed.issuing, bed.request(invoice_data()), actor="test:erp")
    assert done.document_type is DocumentType.DIAN_CONTINGENCY_INVOICE
    # 40 hours later it is still not transmitted (DIAN down again at the sweep): billing and the admins are told once.
    later = utc_now() + dt.timedelta(hours=40)
    first = contingency.sweep(bed.issuing, bed.runtime.client, now=later, from_address="fe@proveedor.test")
    assert first.transmitted == [] and first.alerted == [done.number] and not first.ended
    again = contingency.sweep(bed.issuing, bed.runtime.client, now=later, from_address="fe@proveedor.test")
    assert again.alerted == [] and again.waiting == [done.number]
    assert bed.row(done.id).attempts == 2 and "503" in bed.row(done.id).last_error
    with sessions() as s:
        mails = list(s.execute(sa.select(OutgoingMail).order_by(OutgoingMail.to_address)).scalars())
        assert [m.to_address for m in mails] == ["admin@proveedor.test", "facturacion@proveedor.test"]
        assert mails[0].subject.startswith(f"Contingencia: transmita {done.number} a la DIAN antes del")
    (alert,) = bed.audit("contingency.deadline_alert")
    assert alert.data["number"] == done.number
    assert contingency.current(sessions) is not None  # a declared contingency ends only when declared
    assert contingency.end(sessions, actor="cli:ana", now=utc_now()) and contingency.current(sessions) is None
    # The scheduled job transmits it now that DIAN answers again (inside DIAN's declared window, before 48 h).
    result = jobs.contingency()
    assert result["outcome"] == "ok" and result["summary"]["transmitted"] == 1, bed.row(done.id).last_error
    assert bed.row(done.id).state is OutboundState.ACCEPTED


@pytest.mark.parametrize("issuing_bed", ["sqlite", "postgresql"], indirect=True)
def test_the_contingency_from_the_command_line(issuing_bed: IssuingBed, tmp_path) -> None:
    import json
    import subprocess
    import sys

    from tests.integration.test_events_cli import write_config

    config = write_config(issuing_bed.settings, tmp_path / "buzon.toml")

    def run(*args: str, code: int = 0) -> str:
        done = subprocess.run([sys.executable, "-m", "buzon.cli", "contingency", *args, "--config", str(config)],
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        assert done.returncode == code and "Traceback" not in done.stderr, (args, done.stdout, done.stderr)
        return done.stdout + done.stderr

    assert run("status").startswith("Sin contingencia")
    assert "diga por qué" in run("start", "--reason", " ", code=2)
    assert "(declared): DIAN anuncia mantenimiento" in run("start", "--reason", "DIAN anuncia mantenimiento")
    assert "Contingencia en curso" in run("status")
    (tmp_path / "factura.json").write_text(json.dumps(invoice_data()), encoding="utf-8")
    issued = subprocess.run([sys.executable, "-m", "buzon.cli", "issue", str(tmp_path / "factura.json"), "--config",
                             str(config)], capture_output=True, text=True, timeout=120)  # fmt: skip
    assert issued.returncode == 0, issued.stderr
    assert issued.stdout.startswith("Factura por contingencia DIAN SETP")
    assert "DIAN: expedido en contingencia (tipo 04)" in issued.stdout and "CUFE: " in issued.stdout
    assert run("sweep").startswith("Transmitidos: ninguno")
    assert run("end") == "Contingencia terminada.\n" and run("end") == "No había contingencia en curso.\n"
    (started,) = issuing_bed.audit("contingency.started")
    assert started.actor.startswith("cli:") and started.data["source"] == "declared"
