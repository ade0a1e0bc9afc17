"""The web application as the shell serves it: web.app.create_app handed each company's collaborators."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from flask import Flask

from buzon import jobs
from buzon.group import Group
from buzon.runtime import Runtime
from web.app import create_app
from web.tenant import CompanyWiring


def wiring(runtime: Runtime, group: list[Runtime]) -> CompanyWiring:
    """What the web needs of one company's runtime (``group``: every company's, this one among them)."""
    settings = runtime.settings
    key = settings.key

    def run_job(job_id: str) -> dict[str, Any]:
        """One job now, with the scheduler's own code, on this company's runtime (the jobs page's "Ejecutar ahora")."""
        if runtime not in jobs.bound():
            jobs.use(*group)
        with jobs.acting_for(key):
            return jobs.JOBS[job_id]()

    return CompanyWiring(
        settings,
        engine=runtime.engine,
        events=runtime.event_service,
        intake=runtime.web_intake,
        jobs=lambda: jobs.job_specs(settings),
        run_job=run_job,
        dian_client=runtime.dian_client,
        titles=runtime.title_service,
        issuing=runtime.issuing_service,
        issued_mail=runtime.buyer_mail_settings,
        company_identity=runtime.company_identity,
    )


def web_app(runtime: Runtime | Group, *, sent_mail: Path | dict[str, Path] | None = None) -> Flask:
    """The Flask app of this runtime, or of every company of this group (`buzon serve`, `buzon.wsgi:app`);
    ``sent_mail``, the demo's Maildir of the mail Buzón sent ("Correo enviado"): the first company's, or each
    company's by its key."""
    runtimes = list(runtime) if isinstance(runtime, Group) else [runtime]
    folders = sent_mail if isinstance(sent_mail, dict) else {runtimes[0].settings.key: sent_mail}
    first, *others = (dataclasses.replace(wiring(rt, runtimes), sent_mail=folders.get(rt.settings.key))
                      for rt in runtimes)  # fmt: skip
    return create_app(
        first.settings,
        engine=first.engine,
        events=first.events,
        intake=first.intake,
        jobs=first.jobs,
        run_job=first.run_job,
        dian_client=first.dian_client,
        sent_mail=first.sent_mail,
        titles=first.titles,
        issuing=first.issuing,
        issued_mail=first.issued_mail,
        company_identity=first.company_identity,
        companies=others,
    )
