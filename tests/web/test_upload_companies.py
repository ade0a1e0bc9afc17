"""Subir documentos in an install of several companies, on SQLite and PostgreSQL: a file addressed to another of
the install's companies is refused by name and stored nowhere (an upload acts only for the company the user is in);
from that company it is taken."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from buzon.config import parse_settings
from buzon.group import Group
from buzon.webapp import web_app
from store.db import migrate
from store.models import MailMessage, Role
from tests.conftest import sample_bytes
from tests.services import fresh_postgres_database
from web.auth import create_user

pytestmark = pytest.mark.integration

SAMPLE = "attached_aragon_FE6711_sw890930534.xml"  # its buyer: NIT 805007280-8, our second company here
PASSWORD = "una-clave-de-prueba"


@contextlib.contextmanager
def two_companies(kind: str, folder: Path) -> Iterator[Group]:
    with contextlib.ExitStack() as stack:
        if kind == "sqlite":
            urls = [f"sqlite:///{folder / 'uno.sqlite3'}", f"sqlite:///{folder / 'dos.sqlite3'}"]
        else:
            urls = [stack.enter_context(fresh_postgres_database()) for _ in range(2)]
        settings = parse_settings({
            "data_dir": str(folder / "var"), "database": {"url": urls[0]},
            "company": {"nit": "900123456-8", "name": "Uno S.A.S."},
            "companies": [{"company": {"nit": "805007280-8", "name": "Dos S.A.S."}, "database": {"url": urls[1]}}],
        }, base=folder)  # fmt: skip
        group = Group.from_settings(settings)
        stack.callback(group.close)
        for runtime in group:
            migrate(runtime.engine)
            with runtime.sessions() as s:
                create_user(s, "ana", role=Role.CLERK, password=PASSWORD, actor="test")
                s.commit()
        yield group


def mails(group: Group) -> list[int]:
    counts = []
    for runtime in group:
        with runtime.sessions() as s:
            counts.append(s.scalar(sa.select(sa.func.count()).select_from(MailMessage)))
    return counts


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_file_for_another_company_is_refused_by_name_and_stored_nowhere(tmp_path: Path, kind: str) -> None:
    with two_companies(kind, tmp_path) as group:
        app = web_app(group)
        app.config["WTF_CSRF_ENABLED"] = False
        client = app.test_client()
        assert client.post("/ingresar", data={"username": "ana", "password": PASSWORD}).status_code == 302

        def upload() -> str:
            files = {"files": (io.BytesIO(sample_bytes(SAMPLE)), SAMPLE)}
            answer = client.post("/subir", data=files, content_type="multipart/form-data")
            assert answer.status_code == 200
            return answer.get_data(as_text=True)

        page = upload()
        assert "es para Dos S.A.S. (NIT 805007280-8), otra empresa de este Buzón" in page
        assert mails(group) == [0, 0]

        switched = client.post("/empresa", data={"empresa": "805007280"}, follow_redirects=True)
        assert "Ahora trabaja en Dos S.A.S." in switched.get_data(as_text=True)
        page = upload()
        assert "otra empresa de este Buzón" not in page
        assert mails(group) == [0, 1]
