"""Two companies in one install on SQLite or PostgreSQL, each with its own migrated database, for the web's
multi-company tests: NIT 900123456-8 (Uno S.A.S.) and 805007280-8 (Dos S.A.S., the buyer of most real samples)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from buzon.config import parse_settings
from buzon.group import Group
from store.db import migrate
from store.models import Role
from tests.services import two_databases
from web.auth import create_user

PASSWORD = "una-clave-de-prueba"


@contextlib.contextmanager
def two_companies(kind: str, folder: Path, users: dict[str, list[dict[str, Any]]] | None = None) -> Iterator[Group]:
    """The install's Group; ``users``: {company key: [create_user keywords]}, by default "ana", a clerk in both with
    PASSWORD."""
    with contextlib.ExitStack() as stack:
        urls = stack.enter_context(two_databases(kind, folder))
        settings = parse_settings({
            "data_dir": str(folder / "var"), "database": {"url": urls[0]},
            "company": {"nit": "900123456-8", "name": "Uno S.A.S."},
            "companies": [{"company": {"nit": "805007280-8", "name": "Dos S.A.S."}, "database": {"url": urls[1]}}],
        }, base=folder)  # fmt: skip
        group = Group.from_settings(settings)
        stack.callback(group.close)
        everyone = [{"username": "ana", "role": Role.CLERK, "password": PASSWORD}]
        for runtime in group:
            migrate(runtime.engine)
            with runtime.sessions() as s:
                for user in (everyone if users is None else users.get(runtime.settings.key, [])):
                    fields = dict(user)
                    active = fields.pop("active", True)
                    create_user(s, fields.pop("username"), actor="test", **fields).active = active
                s.commit()
        yield group
