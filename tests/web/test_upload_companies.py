"""Subir documentos in an install of several companies, on SQLite and PostgreSQL: a file addressed to another of
the install's companies is refused by name and stored nowhere (an upload acts only for the company the user is in);
from that company it is taken."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa

from buzon.group import Group
from buzon.webapp import web_app
from store.models import MailMessage
from tests.conftest import sample_bytes
from tests.web.companies_bed import PASSWORD, two_companies

pytestmark = pytest.mark.integration

SAMPLE = "attached_aragon_FE6711_sw890930534.xml"  # its buyer: NIT 805007280-8, our second company here


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
