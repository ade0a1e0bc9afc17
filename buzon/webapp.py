"""The web application as the shell serves it: web.app.create_app handed the runtime's collaborators."""

from __future__ import annotations

from flask import Flask

from buzon.jobs import job_specs
from buzon.runtime import Runtime
from web.app import create_app


def web_app(runtime: Runtime) -> Flask:
    """The Flask app of this runtime (`buzon serve`, `buzon.wsgi:app`)."""
    settings = runtime.settings
    return create_app(
        settings,
        engine=runtime.engine,
        events=runtime.event_service,
        intake=runtime.web_intake,
        jobs=lambda: job_specs(settings),
    )
