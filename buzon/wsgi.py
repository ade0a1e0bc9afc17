"""WSGI entry point for gunicorn: `gunicorn "buzon.wsgi:app"` (configuration from $BUZON_CONFIG)."""

from __future__ import annotations

from buzon.config import load_settings
from web.app import create_app

app = create_app(load_settings())
