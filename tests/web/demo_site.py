"""A whole demo installation for tests that walk the product: a fresh SQLite database migrated and seeded the way
`buzon init` seeds demo mode (the four demo users, the demo invoices through the real intake, events registered in
the simulator), and the app built the way `buzon serve` builds it (events service, quarantine intake, jobs).

The DIAN simulator port is a free one nobody listens on, so an event sent from a test is queued ("DIAN no respondió")
instead of reaching some other test's simulator.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from tests.services import free_port


@dataclass
class DemoSite:
    app: Flask
    settings: Any
    engine: sa.Engine
    url: str | None = None  # set by served()

    def token(self, username: str) -> str:
        """A new API token for a demo user."""
        from store.models import User
        from web.auth import issue_token

        with Session(self.engine) as session, self.app.app_context():
            user = session.scalars(sa.select(User).where(User.username == username)).one()
            _, raw = issue_token(session, user, name="pruebas", actor="test", now=datetime.now(UTC))
            session.commit()
        return raw

    def first_document(self) -> Any:
        from store.models import ReceivedDocument

        with Session(self.engine) as session:
            return session.scalars(sa.select(ReceivedDocument).order_by(ReceivedDocument.id)).first()


@contextmanager
def demo_site(base: Path) -> Iterator[DemoSite]:
    """The seeded demo app (not served; see served())."""
    from buzon.config import default_settings
    from buzon.demo import seed
    from buzon.demo_events import seed_events
    from buzon.demo_users import seed_users
    from store.db import make_engine, migrate

    settings = default_settings(base=base)
    settings = dataclasses.replace(settings, dian=dataclasses.replace(settings.dian, simulator_port=free_port()))
    engine = make_engine(settings.database_url)
    try:
        migrate(engine)
        seed_users(settings)
        seed(settings)
        seed_events(settings)
        app = _app(settings, engine)
        yield DemoSite(app, settings, engine)
    finally:
        engine.dispose()


def _app(settings: Any, engine: sa.Engine) -> Flask:
    """The app as the shell builds it: buzon.webapp over a Runtime."""
    from buzon.runtime import Runtime
    from buzon.webapp import web_app

    return web_app(Runtime.from_settings(settings, engine=engine))


@contextmanager
def served(site: DemoSite) -> Iterator[DemoSite]:
    """The site on a free loopback port (werkzeug, threaded) for a browser."""
    from werkzeug.serving import make_server

    port = free_port()
    server = make_server("127.0.0.1", port, site.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    site.url = f"http://127.0.0.1:{port}"
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
