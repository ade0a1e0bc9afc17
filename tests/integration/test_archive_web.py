"""The "Paquete de auditoría" page (issue 20): auditors and admins pick a period and download the same signed pack
`buzon archive export` writes, streamed; it verifies offline. Others get 403; a bad period a Spanish error, no zip.
SQLite and PostgreSQL, real signed documents (the archive bed)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from store.archive.verify import verify_pack
from store.models import AuditEntry, Role
from tests.integration.archive_fixtures import ArchiveBed, period
from tests.web.conftest import add_user, sign_in
from web.app import create_app

pytestmark = pytest.mark.integration


def _app(bed: ArchiveBed, *, identity: bool = True):
    runtime = bed.issuing.runtime
    app = create_app(bed.issuing.settings, engine=runtime.engine,
                     company_identity=runtime.company_identity if identity else None)  # fmt: skip
    app.config["WTF_CSRF_ENABLED"] = False
    return app


def _client(app, bed: ArchiveBed, role: Role):
    with bed.sessions() as s:
        user = add_user(s, f"u-{role}", role, first_name="Prueba", family_name=str(role))
        s.commit()
        s.refresh(user)
        s.expunge(user)
    client = app.test_client()
    sign_in(app, client, user)
    return client


def test_an_auditor_downloads_the_signed_pack_of_a_period(archive_bed: ArchiveBed, tmp_path: Path) -> None:
    bed = archive_bed
    app = _app(bed)
    auditor = _client(app, bed, Role.AUDITOR)
    page = auditor.get("/archivo")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Paquete de auditoría" in html and 'id="descargar-paquete"' in html and "sin-retenciones" in html
    first, last = period()
    answer = auditor.get(f"/archivo/paquete?desde={first}&hasta={last}")
    assert answer.status_code == 200 and answer.mimetype == "application/zip"
    assert answer.is_streamed
    pack = tmp_path / "web.zip"
    pack.write_bytes(answer.get_data())
    check = verify_pack(pack)
    assert check.ok, check.problems
    with zipfile.ZipFile(pack) as z:
        assert sum(1 for n in z.namelist() if n.endswith("/documento.xml")) == 3
    with bed.sessions() as s:
        entry = s.execute(sa.select(AuditEntry).where(AuditEntry.action == "archive.exported")).scalar_one()
    assert entry.actor == f"user:u-{Role.AUDITOR}" and entry.data["documents"] == 3

    admin = _client(app, bed, Role.ADMIN)
    assert admin.get("/archivo").status_code == 200
    clerk = _client(app, bed, Role.CLERK)
    assert clerk.get("/archivo").status_code == 403
    assert clerk.get(f"/archivo/paquete?desde={first}&hasta={last}").status_code == 403


def test_a_bad_period_is_a_spanish_error_and_no_pack(archive_bed: ArchiveBed) -> None:
    bed = archive_bed
    auditor = _client(_app(bed), bed, Role.AUDITOR)
    for query, words in (("desde=2026-02-01&hasta=2026-01-01", "es posterior a Hasta"),
                         ("desde=ayer&hasta=2026-01-01", "«ayer» no es una fecha"),
                         ("hasta=2026-01-01", "Desde: escriba una fecha")):  # fmt: skip
        answer = auditor.get(f"/archivo/paquete?{query}")
        assert answer.status_code == 400 and answer.mimetype == "text/html", query
        assert words in answer.get_data(as_text=True), query
    with bed.sessions() as s:
        assert s.execute(sa.select(AuditEntry).where(AuditEntry.action == "archive.exported")).first() is None
    # Without the company certificate the page says so, and offers the command instead.
    bare = _client(_app(bed, identity=False), bed, Role.ADMIN)
    assert "sin-certificado" in bare.get("/archivo").get_data(as_text=True)
    assert bare.get("/archivo/paquete?desde=2026-01-01&hasta=2026-01-31").status_code == 503
