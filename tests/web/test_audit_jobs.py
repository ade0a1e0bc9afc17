"""The audit log page and the jobs page on SQLite and PostgreSQL: filters, keyset pages, roles, last and next runs."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from store.audit import record
from store.models import JobRun, Role

pytestmark = pytest.mark.integration

CUFE = "ab" * 48


@pytest.fixture
def entries(app_and_db):
    _, session = app_and_db
    base = datetime(2025, 3, 10, 15, tzinfo=UTC)  # 10:00 in Bogota
    record(session, actor="user:ana", action="document.event.030.signed", subject=CUFE, source="10.0.0.1",
           data={"number": "ACU1"}, at=base)  # fmt: skip
    record(session, actor="user:ana", action="document.event.032.signed", subject=CUFE, at=base + timedelta(hours=1))
    record(session, actor="system:scheduler", action="document.event.030.registered", subject=CUFE,
           at=base + timedelta(days=1))  # fmt: skip
    record(session, actor="user:beto", action="auth.login", subject="user:beto", at=base + timedelta(days=2))
    record(session, actor="cli:root", action="user.created", subject="user:carla", data={"password": "secreta"},
           at=base + timedelta(days=3))  # fmt: skip
    session.flush()


def actions(page: str) -> list[str]:
    """The action codes of the listed entries (each sentence carries its code in a title)."""
    return re.findall(r'class="action" title="([^"]+)"', page)


def test_the_audit_log_newest_first_with_filters(client_as, entries):
    auditor = client_as(Role.AUDITOR)
    page = auditor.get("/auditoria").get_data(as_text=True)
    found = actions(page)[1:]  # the newest is the auditor's own user.created, from client_as
    assert found[:5] == ["user.created", "auth.login", "document.event.030.registered",
                         "document.event.032.signed", "document.event.030.signed"]  # fmt: skip
    assert "secreta" not in page  # the audit log masks secrets when written
    assert "10/03/2025 10:00:00" in page  # Bogota time
    assert f"CUFE {CUFE}" in page  # a CUFE not on file is named whole, not cut

    def listed(**params: str) -> list[str]:
        response = auditor.get("/auditoria", query_string=params)
        assert response.status_code == 200
        return [a for a in actions(response.get_data(as_text=True)) if not a.startswith("auth.")]

    assert listed(user="ana") == ["document.event.032.signed", "document.event.030.signed"]
    assert listed(user="system:scheduler") == ["document.event.030.registered"]
    assert listed(subject=CUFE.upper()) == [
        "document.event.030.registered", "document.event.032.signed", "document.event.030.signed"
    ]  # fmt: skip
    assert listed(action="document.event.030") == ["document.event.030.registered", "document.event.030.signed"]
    assert listed(action="document.event") == listed(subject=CUFE)
    assert listed(action="document.ev") == []  # a prefix of whole words only
    assert listed(**{"from": "2025-03-11", "to": "2025-03-12"}) == ["document.event.030.registered"]
    assert auditor.get("/auditoria?from=ayer").status_code == 400
    assert auditor.get("/auditoria?antes=x").status_code == 400


def test_the_audit_log_pages_by_keyset(app_and_db, client_as):
    _, session = app_and_db
    for n in range(230):
        record(session, actor="user:ana", action="inbox.viewed", subject=f"page:{n}")
    session.flush()
    admin = client_as(Role.ADMIN)
    seen: list[str] = []
    url = "/auditoria?user=ana"
    for _ in range(6):
        page = admin.get(url).get_data(as_text=True)
        seen += re.findall(r">(page:\d+)</a>", page)
        match = re.search(r'href="(/auditoria\?antes=[^"]+)"', page)
        if match is None:
            break
        url = match.group(1).replace("&amp;", "&")
        assert "user=ana" in url
    assert len(seen) == 230 == len(set(seen))
    assert seen[0] == "page:229"


@pytest.mark.parametrize("role", [Role.CLERK, Role.TREASURY])
def test_clerks_and_treasury_see_neither_page(client_as, role):
    client = client_as(role)
    assert client.get("/auditoria").status_code == 403
    assert client.get("/tareas").status_code == 403
    page = client.get("/").get_data(as_text=True)
    assert 'href="/auditoria"' not in page
    assert 'href="/tareas"' not in page


def test_the_jobs_page_shows_last_run_outcome_and_next_run(app_and_db, client_as):
    app, session = app_and_db
    app.extensions["buzon.jobs"] = lambda: [
        SimpleNamespace(id="poll_mailbox", description="Leer el buzón de recepción", seconds=60),
        SimpleNamespace(id="deliver_outbox", description="Enviar eventos a la DIAN y correos", seconds=30),
        SimpleNamespace(id="deadlines", description="Cerrar plazos y enviar recordatorios", seconds=3600),
    ]
    start = datetime(2025, 3, 10, 15, tzinfo=UTC)
    session.add_all([
        JobRun(job_id="poll_mailbox", started_at=start, finished_at=start + timedelta(seconds=2), outcome="ok",
               summary={"filed": 3}),
        JobRun(job_id="poll_mailbox", started_at=start + timedelta(minutes=1),
               finished_at=start + timedelta(minutes=1, seconds=1), outcome="ok", summary={"filed": 4}),
        JobRun(job_id="deliver_outbox", started_at=start, finished_at=start + timedelta(seconds=5), outcome="failed",
               error="DianTransportError: sin conexión"),
        JobRun(job_id="old_job", started_at=start, outcome="running"),
    ])  # fmt: skip
    session.flush()
    page = client_as(Role.AUDITOR).get("/tareas").get_data(as_text=True)
    poll = page.split('id="tarea-poll_mailbox"')[1].split("</tr>")[0]
    assert "10/03/2025 10:01:00" in poll
    assert "Correcta" in poll
    assert "<dt>Archivados</dt><dd>4</dd>" in poll  # the summary as labelled fields, not JSON
    assert "cada 1 min" in poll
    outbox = page.split('id="tarea-deliver_outbox"')[1].split("</tr>")[0]
    assert "Falló" in outbox
    assert "sin conexión" in outbox
    assert "Nunca" in page.split('id="tarea-deadlines"')[1].split("</tr>")[0]
    assert 'id="tarea-old_job"' in page  # ran once, no longer listed: shown anyway
    # Runs long ago and none since: the scheduler may have stopped (it did start once).
    assert "no ha ejecutado ninguna tarea desde el 10/03/2025 10:01:00" in page
    assert "aún no ha arrancado" not in page


def test_the_jobs_page_reads_the_next_run_from_the_scheduler_table(app_and_db, client_as):
    app, session = app_and_db
    app.extensions["buzon.jobs"] = lambda: [SimpleNamespace(id="deadlines", description="Plazos", seconds=900)]
    conn = session.connection()
    conn.execute(sa.text("CREATE TABLE apscheduler_jobs (id VARCHAR(191) PRIMARY KEY, next_run_time FLOAT, "
                         "job_state BYTEA)" if conn.dialect.name == "postgresql" else
                         "CREATE TABLE apscheduler_jobs (id VARCHAR(191) PRIMARY KEY, next_run_time FLOAT, "
                         "job_state BLOB)"))  # fmt: skip
    at = datetime(2025, 3, 10, 20, 30, tzinfo=UTC).timestamp()
    conn.execute(sa.text("INSERT INTO apscheduler_jobs (id, next_run_time) VALUES ('deadlines', :at)"), {"at": at})
    page = client_as(Role.ADMIN).get("/tareas").get_data(as_text=True)
    row = page.split('id="tarea-deadlines"')[1].split("</tr>")[0]
    assert "10/03/2025 15:30:00" in row
    assert "cada 15 min" in row
    assert "El programador aún no ha arrancado" not in page
