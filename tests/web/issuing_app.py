"""The app over an issuing bed (tests/integration/issuing_fixtures.py, support_fixtures.py) with its users, signed in
through the Flask client: what the pages' tests of invoices (test_issued.py) and of the documento soporte
(test_support_pages.py) share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from store.models import Role
from tests.web.conftest import PASSWORD, password_hash
from web.app import create_app
from web.auth import create_user

__all__ = ["app_for_bed", "client", "text"]


def app_for_bed(bed: Any, users: Mapping[str, Role]) -> Any:
    """The app over ``bed``'s database and issuing service, with ``users`` (name → role) created, CSRF off."""
    with bed.sessions() as s:
        for name, role in users.items():
            create_user(s, name, role=role, password=PASSWORD, password_hash=password_hash(PASSWORD), actor="test",
                        first_name=name.capitalize(), family_name="Prueba")  # fmt: skip
        s.commit()
    app = create_app(bed.settings, engine=bed.runtime.engine, issuing=bed.runtime.issuing_service)
    app.config["WTF_CSRF_ENABLED"] = False
    return app


def client(app: Any, username: str) -> Any:
    """A Flask client signed in as ``username``."""
    c = app.test_client()
    answer = c.post("/ingresar", data={"username": username, "password": PASSWORD})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
    return c


def text(answer: Any) -> str:
    return answer.get_data(as_text=True)
