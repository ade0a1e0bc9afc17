"""WSGI entry point for gunicorn: `gunicorn "buzon.wsgi:app"` (configuration from $BUZON_CONFIG)."""

from __future__ import annotations

from buzon.cli import web_intake
from buzon.config import load_settings
from buzon.event_access import event_service
from buzon.scheduler import job_specs
from web.app import create_app

settings = load_settings()
app = create_app(
    settings,
    events=lambda sessions: event_service(settings, sessions),
    intake=lambda sessions: web_intake(settings, sessions),
    jobs=lambda: job_specs(settings),
)
