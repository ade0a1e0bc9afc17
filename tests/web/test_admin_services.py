"""The admin screens against real services, on SQLite and PostgreSQL: "Probar conexión con la DIAN" through a real
DianClient over HTTP (the simulator answers; a closed port, a silent port and TLS to a plain-HTTP port fail, each
told as what it is), and "Ejecutar ahora" running the scheduler's own job code (buzon.jobs) on a whole Buzón."""

from __future__ import annotations

import html
import re
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from dian.simulator import SERVICE_PATH
from dian.soap import DianClient
from store.models import AuditEntry, JobRun, Role
from tests.integration.dian_fixtures import dian_world as dian_world  # the fixture, re-exported for these tests
from tests.integration.events_fixtures import days_ago
from tests.integration.events_fixtures import events_bed as events_bed  # the fixture, re-exported for these tests
from tests.services import free_port
from tests.web.conftest import PASSWORD, csrf_token, log_in, password_hash
from web.app import create_app
from web.auth import create_user

pytestmark = pytest.mark.integration


def outcome(page: str) -> str:
    found = re.search(r'<p class="result result-(\w+)" role="(?:status|alert)">([^<]*)</p>', page)
    assert found, "no outcome shown"
    return f"{found.group(1)}: {html.unescape(found.group(2))}"


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


def _probe(app_and_db, client_as, make_client) -> tuple[str, AuditEntry]:
    app, session = app_and_db
    app.extensions["buzon.dian_client"] = make_client
    admin = client_as(Role.ADMIN)
    response = admin.post("/admin/dian/probar", data={"csrf_token": csrf_token(admin)})
    assert response.status_code == 302
    page = admin.get(response.location).get_data(as_text=True)
    entry = session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "dian.connection_tested")).one()
    assert (entry.actor, entry.subject) == ("user:usuario-admin", "dian:simulator")
    assert 'id="ultima-prueba"' in page
    return outcome(page), entry


def test_the_connection_test_reaches_the_simulator_over_http(app_and_db, client_as, dian_world):
    said, entry = _probe(app_and_db, client_as, lambda: DianClient(dian_world.url, dian_world.buyer))
    assert said.startswith("ok: Conectado: la DIAN respondió en ")
    assert "StatusCode 66" in said and "TrackId no existe" in said and "clave de prueba" in said
    assert (entry.data["outcome"], entry.data["status_code"], entry.data["endpoint"]) == ("connected", "66",
                                                                                           dian_world.url)  # fmt: skip


def test_a_closed_port_is_no_connection(app_and_db, client_as, dian_world):
    url = f"http://127.0.0.1:{free_port()}{SERVICE_PATH}"
    said, entry = _probe(app_and_db, client_as, lambda: DianClient(url, dian_world.buyer, connect_timeout=2))
    assert said.startswith("error: No se pudo conectar")
    assert entry.data["outcome"] == "refused" and entry.data["endpoint"] == url


def test_a_silent_server_is_a_timeout(app_and_db, client_as, dian_world, silent_port):
    url = f"http://127.0.0.1:{silent_port}{SERVICE_PATH}"
    said, entry = _probe(app_and_db, client_as, lambda: DianClient(url, dian_world.buyer, read_timeout=1))
    assert said.startswith("error: La DIAN no respondió a tiempo")
    assert entry.data["outcome"] == "timeout" and 0.9 < entry.data["seconds"] < 30


def test_tls_to_a_plain_http_server_is_a_tls_error(app_and_db, client_as, dian_world):
    url = dian_world.url.replace("http://", "https://")
    said, entry = _probe(app_and_db, client_as, lambda: DianClient(url, dian_world.buyer, connect_timeout=2))
    assert said.startswith("error: La conexión TLS falló")
    assert entry.data["outcome"] == "tls"


def test_a_client_that_cannot_be_made_is_said(app_and_db, client_as):
    def no_certificate() -> Any:
        raise ValueError("certificate.pkcs12_path: no such file")

    said, entry = _probe(app_and_db, client_as, no_certificate)
    assert said == "error: No se pudo preparar el cliente de la DIAN: certificate.pkcs12_path: no such file"
    assert entry.data["outcome"] == "setup"


# --- Ejecutar ahora with the scheduler's code ---------------------------------------------------------------------


def job_specs(settings: Any) -> list[Any]:
    """The shell's job list (buzon.jobs in the rebuilt shell, buzon.scheduler before)."""
    from buzon import jobs

    if hasattr(jobs, "job_specs"):
        return jobs.job_specs(settings)
    from buzon import scheduler

    return scheduler.job_specs(settings)


def shell_app(bed: Any) -> Any:
    """The web app as the shell wires it: job list and runner from buzon.jobs (configured by the bed)."""
    from buzon import jobs

    with bed.sessions() as s:
        create_user(s, "admin", role=Role.ADMIN, password=PASSWORD, password_hash=password_hash(PASSWORD),
                    actor="test", first_name="Ada", family_name="Admin")  # fmt: skip
        s.commit()
    return create_app(bed.settings, engine=bed.runtime.engine, jobs=lambda: job_specs(bed.settings),
                      run_job=lambda job_id: jobs.JOBS[job_id]())  # fmt: skip


def test_run_now_runs_the_job_records_it_and_says_how_it_ended(events_bed):
    bed = events_bed
    # Mail waiting in the reception mailbox: "Leer el buzón de recepción" files it.
    from tests.integration.inbox_fixtures import append

    message, cufe = bed.supplier_mail(at=days_ago(1))
    append(bed.dovecot, bed.folder, message)
    app = shell_app(bed)
    admin = app.test_client()
    assert log_in(admin, "admin").status_code == 302
    page = admin.get("/tareas").get_data(as_text=True)
    assert "aún no ha arrancado" in page
    assert page.count("Ejecutar ahora<span") == len(job_specs(bed.settings))
    response = admin.post("/tareas/poll_mailbox/ejecutar", data={"csrf_token": csrf_token(admin)})
    assert response.status_code == 302
    page = admin.get(response.location).get_data(as_text=True)
    said = outcome(page)
    assert said.startswith("ok: Tarea «Leer el buzón de recepción» ejecutada en ")
    assert bed.document_id(cufe)  # the job filed the invoice
    row = page.split('id="tarea-poll_mailbox"')[1].split("</tr>")[0]
    assert "Correcta" in row
    # A run started by hand is not the scheduler running.
    assert "aún no ha arrancado" in page
    with bed.sessions() as s:
        runs = s.scalars(sa.select(JobRun).where(JobRun.job_id == "poll_mailbox")).all()
        [entry] = s.scalars(sa.select(AuditEntry).where(AuditEntry.action == "job.run_now")).all()
        assert [r.outcome for r in runs] == ["ok"]
        assert (entry.actor, entry.subject, entry.data["run_ids"], entry.data["outcome"]) == (
            "user:admin", "job:poll_mailbox", [runs[0].id], "ok")  # fmt: skip
    # The scheduler's own runs make it "en marcha".
    from buzon import jobs

    jobs.JOBS["deadlines"]()
    assert "El programador está en marcha" in admin.get("/tareas").get_data(as_text=True)


def test_run_now_of_a_failing_job_says_it_failed(events_bed):
    bed = events_bed
    bed.dovecot.stop()  # the mailbox is unreachable: the job fails and records why
    try:
        app = shell_app(bed)
        admin = app.test_client()
        assert log_in(admin, "admin").status_code == 302
        response = admin.post("/tareas/poll_mailbox/ejecutar", data={"csrf_token": csrf_token(admin)})
        said = outcome(admin.get(response.location).get_data(as_text=True))
        assert said.startswith("error: La tarea «Leer el buzón de recepción» falló tras ")
        with bed.sessions() as s:
            [run] = s.scalars(sa.select(JobRun).where(JobRun.job_id == "poll_mailbox")).all()
            assert run.outcome == "failed" and run.error and run.error.split(":")[0] in said
    finally:
        bed.dovecot.start()


def test_run_now_while_another_process_runs_the_job_says_so_not_failed(events_bed):
    """Several schedulers on one PostgreSQL: a job held by another process is skipped, and the page says so."""
    bed = events_bed
    if bed.runtime.engine.dialect.name != "postgresql":
        pytest.skip("the job lock is PostgreSQL's advisory lock; SQLite serves one process")
    from store import locks

    app = shell_app(bed)
    admin = app.test_client()
    assert log_in(admin, "admin").status_code == 302
    with bed.runtime.engine.connect() as other:  # "another process" holds the job's lock
        other = other.execution_options(isolation_level="AUTOCOMMIT")
        assert locks.try_lock(other, locks.key("job", "deadlines"))
        response = admin.post("/tareas/deadlines/ejecutar", data={"csrf_token": csrf_token(admin)})
        said = outcome(admin.get(response.location).get_data(as_text=True))
        locks.unlock(other, locks.key("job", "deadlines"))
    assert said.startswith("warn: La tarea «")
    assert "no se ejecutó: otro proceso está ejecutando esta tarea ahora" in said
    assert "falló" not in said
    with bed.sessions() as s:
        assert not s.scalars(sa.select(JobRun).where(JobRun.job_id == "deadlines")).all()  # no run recorded
        [entry] = s.scalars(sa.select(AuditEntry).where(AuditEntry.action == "job.run_now")).all()
        assert entry.data["outcome"] == "skipped"
