"""WSGI entry point for gunicorn: `gunicorn "buzon.wsgi:app"` (configuration from $BUZON_CONFIG)."""

from __future__ import annotations

from buzon.config import load_settings
from buzon.group import Group
from buzon.webapp import web_app

app = web_app(Group.from_settings(load_settings()))
