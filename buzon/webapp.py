"""The web application as the shell serves it: web.app.create_app handed the runtime's collaborators."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from buzon import jobs
from buzon.runtime import Runtime
from web.app import create_app


def web_app(runtime: Runtime, *, sent_mail: Path | None = None) -> Flask:
    """The Flask app of this runtime (`buzon serve`, `buzon.wsgi:app`); ``sent_mail``, the demo's Maildir of the
    mail Buzón sent ("Correo enviado")."""
    settings = runtime.settings

    def run_job(job_id: str) -> dict[str, Any]:
        """One job now, with the scheduler's own code, on this process's runtime (the jobs page's "Ejecutar ahora")."""
        jobs.use(runtime)
        return jobs.JOBS[job_id]()

    return create_app(
        settings,
        engine=runtime.engine,
        events=runtime.event_service,
        intake=runtime.web_intake,
        jobs=lambda: jobs.job_specs(settings),
        run_job=run_job,
        dian_client=runtime.dian_client,
        sent_mail=sent_mail,
        titles=runtime.title_service,
        issuing=runtime.issuing_service,
        issued_mail=runtime.buyer_mail_settings,
        company_identity=runtime.company_identity,
    )
