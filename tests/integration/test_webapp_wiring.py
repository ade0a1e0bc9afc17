"""buzon.webapp hands web.app.create_app the runtime's collaborators: the events service, intake, the job list, the
job runner ("Ejecutar ahora") and the DIAN client of the port the simulator actually uses."""

from __future__ import annotations

import dataclasses

from buzon import jobs
from buzon.config import default_settings
from buzon.runtime import Runtime
from buzon.webapp import web_app
from store.db import migrate
from tests.services import free_port


def test_the_web_gets_what_the_shell_built(tmp_path):
    settings = default_settings(base=tmp_path)
    port = free_port()  # nothing listens on it here; the client is only built (a test never counts on a fixed port)
    settings = dataclasses.replace(settings, dian=dataclasses.replace(settings.dian, simulator_port=port))
    runtime = Runtime.from_settings(settings)
    try:
        migrate(runtime.engine)
        app = web_app(runtime, sent_mail=tmp_path / "sent-mail")
        ext = app.extensions
        assert ext["buzon.engine"] is runtime.engine
        assert [spec.id for spec in ext["buzon.jobs"]()] == list(jobs.JOBS)
        result = ext["buzon.run_job"]("deadlines")  # the scheduler's own code, recorded as a run
        assert result["outcome"] == "ok", result
        assert jobs.runtime() is runtime
        client = ext["buzon.dian_client"]()
        try:
            assert client.endpoint.startswith(f"http://127.0.0.1:{port}/")
        finally:
            client.close()
        assert ext["buzon.events"].sessions is ext["buzon.sessions"]
        assert callable(ext["buzon.intake"])
        assert "sent_mail.index" in app.view_functions
        assert "sent_mail.index" not in web_app(runtime).view_functions  # no sink, no page
    finally:
        runtime.close()
