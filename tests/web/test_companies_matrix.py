"""Issue 20's multi-company matrix: a user of company A can read or act on nothing of company B, through the UI, the
API, the CSV exports, the jobs and the blobs; on SQLite and on PostgreSQL.

One install of two companies, each with its own database (a SQLite file, or a PostgreSQL database of its own), blob
store and users, built as the shell builds it (``Group.from_settings``, ``web_app(group)``) and seeded with real
commits: in each company a user of that company alone, a user of both (same name and password in each) and a clerk
with an API token; documents whose supplier names carry the company's marker (SOLO-EMPRESA-A, SOLO-EMPRESA-B), the
signed XML of each in the company's blob store. B has one document, one user and one token more than A, so B has ids
A lacks. "B unchanged" is every row of every table of B's database and every key of B's blob store.
"""

from __future__ import annotations

import contextlib
import io
import smtplib
import sqlite3
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from buzon import jobs
from buzon.commands.serve import _with_mail_sink
from buzon.config import Settings, parse_settings
from buzon.group import Group
from buzon.runtime import Runtime
from buzon.webapp import web_app
from dian.codes import DocumentState, PaymentMeans
from store import company
from store.blobs import FILENAME, BlobStore
from store.db import migrate
from store.models import ApiToken, JobRun, ReceivedDocument, Role, User
from tests.services import two_databases
from tests.web.conftest import PASSWORD, csrf_token, log_in
from tests.web.test_inbox_page import add_document
from web.access import declared_roles, is_public
from web.auth import create_user, issue_token
from web.company_switch import NOT_MEMBER

pytestmark = pytest.mark.integration

BOTH = "usuario-de-ambas"  # a person with an account, and the same password, in each company
PACK = "/archivo/paquete?desde=2025-01-01&hasta=2025-12-31"  # the auditor's signed pack of the documents' year
SUPPLIERS = {"A": "811111118", "B": "822222228"}  # each company's supplier NIT


@dataclass
class Side:
    """One company of the install as the test seeded it."""

    runtime: Runtime
    marker: str  # in its suppliers' names, its users' names, its tokens' names and its blobs
    only_user: str
    token: str  # its clerk's API token
    cufes: list[str]

    @property
    def key(self) -> str:
        return self.runtime.settings.key

    @property
    def name(self) -> str:
        return self.runtime.settings.company.name

    @property
    def blob_dir(self) -> Path:
        return self.runtime.settings.blob_dir


@dataclass
class Install:
    app: Flask
    group: Group
    a: Side
    b: Side


# --- Setting up ---------------------------------------------------------------------------------------------------


def _seed(rt: Runtime, letter: str, *, documents: int, extra: bool = False, foreign_blob: str | None = None) -> Side:
    """The company's stamp, users, API token, blob and documents, committed. ``extra``: a user and a token more;
    ``foreign_blob``: the last document names a blob key of another company's store (absent from this one's)."""
    marker = f"SOLO-EMPRESA-{letter}"
    settings, now = rt.settings, datetime.now(UTC)
    xml = f"<Invoice><Note>{marker}</Note></Invoice>".encode()
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as z:
        z.writestr(f"fv{letter}.xml", xml)
    blobs = BlobStore(settings.blob_dir)
    try:
        own_blob, zip_blob = blobs.put(xml), blobs.put(packed.getvalue())
    finally:
        blobs.close()
    with rt.sessions() as s:
        company.stamp(s, settings.company.nit, settings.company.name, now=now)
        only = create_user(s, f"usuario-{marker}", role=Role.ADMIN, password=PASSWORD, actor="test")
        create_user(s, BOTH, role=Role.ADMIN, password=PASSWORD, actor="test")
        robot = create_user(s, f"robot-{marker}", role=Role.CLERK, password=PASSWORD, actor="test")
        _, token = issue_token(s, robot, name=f"ERP {marker}", actor="test", now=now)
        if extra:
            auditor = create_user(s, f"auditor-{marker}", role=Role.AUDITOR, password=PASSWORD, actor="test")
            issue_token(s, auditor, name=f"Revisoría {marker}", actor="test", now=now)
        cufes = []
        for n in range(1, documents + 1):
            blob = foreign_blob if foreign_blob and n == documents else own_blob
            doc = add_document(s, n, cufe=f"{letter.lower()}{n:095x}", issuer_nit=SUPPLIERS[letter],
                               issuer_name=f"Proveedor {marker} {n}", buyer_nit=settings.company.nit_number,
                               buyer_name=settings.company.name, signed_xml_blob=blob, zip_blob=zip_blob,
                               payment_means=PaymentMeans.CREDIT, state=DocumentState.VALIDATED,
                               due_date=date(2025, 4, 2))  # fmt: skip
            cufes.append(doc.cufe)
        s.commit()
        return Side(rt, marker, only.username, token, cufes)


def two_companies(folder: Path, a_url: str, b_url: str) -> Settings:
    return parse_settings({
        "data_dir": str(folder),
        "company": {"nit": "900123456-8", "name": "Comercial Andes S.A.S."},
        "database": {"url": a_url},
        "companies": [{"company": {"nit": "800197268-4", "name": "Distribuidora Sabana S.A.S."},
                       "database": {"url": b_url}}],
    }, base=folder)  # fmt: skip


@pytest.fixture(params=["sqlite", "postgresql"])
def install(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Install]:
    with two_databases(request.param, tmp_path) as (a_url, b_url):
        settings = two_companies(tmp_path, a_url, b_url)
        group = Group.from_settings(settings)
        try:
            for rt in group:
                migrate(rt.engine)
            first, second = group
            b = _seed(second, "B", documents=3, extra=True)
            a = _seed(first, "A", documents=2, foreign_blob=_blob_keys(b)[0])
            group.check()  # each database at the current schema and stamped with its own company
            yield Install(web_app(group), group, a, b)
        finally:
            group.close()


# --- Looking ------------------------------------------------------------------------------------------------------


def _blob_keys(side: Side) -> list[str]:
    with contextlib.closing(sqlite3.connect(f"file:{side.blob_dir / FILENAME}?mode=ro", uri=True)) as conn:
        return [row[0] for row in conn.execute("SELECT key FROM blobs ORDER BY key")]


def snapshot(side: Side) -> dict[str, list[tuple[str, ...]]]:
    """Every row of every table of the company's database, and every key of its blob store."""
    found: dict[str, list[tuple[str, ...]]] = {"blob store": [(k,) for k in _blob_keys(side)]}
    meta = sa.MetaData()
    with side.runtime.engine.connect() as conn:
        meta.reflect(conn)
        for table in meta.sorted_tables:
            rows = conn.execute(sa.select(table).order_by(*table.primary_key.columns)).all()
            found[table.name] = [tuple(repr(v) for v in row) for row in rows]
    return found


def text(response: TestResponse) -> str:
    """What a person would read in the response, lower-cased: a zip's members unpacked."""
    data = response.get_data()
    if response.mimetype in ("application/zip", "application/x-zip-compressed"):
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            data = b"\n".join(z.read(name) for name in z.namelist())
    return data.decode("utf-8", "replace").lower()


def job_runs(side: Side) -> int:
    with side.runtime.sessions() as s:
        return s.scalar(sa.select(sa.func.count()).select_from(JobRun)) or 0


def last_id(side: Side, model: Any) -> int:
    with side.runtime.sessions() as s:
        return s.scalar(sa.select(sa.func.max(model.id))) or 0


def pages(app: Flask, role: Role, own: Side) -> list[str]:
    """Every GET page, export and file this role may open: the routes without a variable part (so a page added
    tomorrow is walked too), each of the company's documents and its files, and the supplier pages."""
    found = ["/pagos.csv?archivo=rechazados", "/pagos.csv?formato=excel", "/auditoria/exportar.csv?q=solo", PACK]
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if "GET" not in rule.methods or rule.endpoint == "static" or is_public(view):
            continue
        if role not in (declared_roles(view) or ()):
            continue
        if not rule.arguments:
            found.append(rule.rule)
        elif rule.arguments == {"document_id"} and rule.rule.startswith("/documentos/"):
            found += [rule.rule.replace("<int:document_id>", str(n)) for n in range(1, len(own.cufes) + 1)]
        elif rule.arguments == {"nit"}:
            found += [rule.rule.replace("<nit>", nit) for nit in SUPPLIERS.values()]
        elif rule.arguments == {"cufe"}:
            found += [rule.rule.replace("<cufe>", cufe) for cufe in own.cufes]
    return sorted(set(found))


def assert_sees_only(client: FlaskClient, app: Flask, role: Role, own: Side, other: Side, *, headers: Any = None,
                     other_name: bool = True) -> None:  # fmt: skip
    """Every page the role may open shows nothing of ``other`` (its marker; its name too unless the header's
    switcher may list it), and the inbox, the exports, a document, its files and the auditor's pack show ``own``'s."""
    hidden = [other.marker.lower(), *([other.name.lower()] if other_name else [])]
    walked = [url for url in pages(app, role, own) if not headers or url.startswith("/api/")]
    assert len(walked) > (3 if headers else 20), walked
    for url in walked:
        response = client.get(url, headers=headers)
        assert response.status_code < 500, (url, response.status_code)
        seen = text(response)
        for marker in hidden:
            assert marker not in seen, f"{url} shows {marker!r} of the other company"
    for url in (["/api/v1/documents", f"/api/v1/documents/{own.cufes[0]}"] if headers else
                ["/", "/exportar.csv", "/auditoria/exportar.csv", "/pagos.csv", "/documentos/1", "/documentos/1/xml",
                 "/documentos/1/zip", PACK]):  # fmt: skip
        response = client.get(url, headers=headers)
        assert response.status_code == 200 and own.marker.lower() in text(response), url


def bearer(side: Side) -> dict[str, str]:
    return {"Authorization": f"Bearer {side.token}"}


def switch(client: FlaskClient, side: Side) -> TestResponse:
    return client.post("/empresa", data={"empresa": side.key, "csrf_token": csrf_token(client)},
                       follow_redirects=True)  # fmt: skip


# --- The matrix ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["a", "b"])
def test_a_user_of_one_company_sees_nothing_of_the_other(install: Install, who: str) -> None:
    """Signed in through the login form, each company's own user walks every page, export and file: only its own
    company's data, no switcher in the header, and the other company's database and blobs untouched."""
    own, other = (install.a, install.b) if who == "a" else (install.b, install.a)
    before = snapshot(other)
    client = install.app.test_client()
    assert log_in(client, own.only_user).status_code == 302
    home = client.get("/").get_data(as_text=True)
    assert 'action="/empresa"' not in home and own.name in home
    assert_sees_only(client, install.app, Role.ADMIN, own, other)
    refused = switch(client, other)
    assert NOT_MEMBER in refused.get_data(as_text=True)
    assert own.marker in client.get("/").get_data(as_text=True)
    assert snapshot(other) == before


def test_the_other_companys_ids_answer_404_and_its_database_is_untouched(install: Install) -> None:
    """B's document, user and token ids that A lacks: 404 to read, and 404 to comment on, assign, disable or revoke,
    with a valid CSRF token; nothing of B changes."""
    a, b = install.a, install.b
    models = (ReceivedDocument, User, ApiToken)
    missing, user, token_id = (last_id(b, model) for model in models)
    assert all(last_id(b, model) > last_id(a, model) for model in models)  # ids B has and A lacks
    before = snapshot(b)
    client = install.app.test_client()
    log_in(client, a.only_user)
    for url in (f"/documentos/{missing}", f"/documentos/{missing}/xml", f"/documentos/{missing}/zip"):
        assert client.get(url).status_code == 404, url
    token = csrf_token(client)
    for url, form in ((f"/documentos/{missing}/comentarios", {"body": f"nota {b.marker}"}),
                      (f"/documentos/{missing}/asignacion", {"username": a.only_user}),
                      (f"/admin/usuarios/{user}/desactivar", {}),
                      (f"/admin/tokens/{token_id}/revocar", {})):  # fmt: skip
        assert client.post(url, data={**form, "csrf_token": token}).status_code == 404, url
    # A's last document names a blob key that only B's store holds: A's files never come from B's store.
    assert client.get(f"/documentos/{len(a.cufes)}/xml").status_code == 404
    assert snapshot(b) == before


def test_an_api_token_reaches_its_own_company_only(install: Install) -> None:
    """Each company's token lists and reads its company's documents only; the other company's cufes are 404, and
    an event sent on one of them changes nothing there."""
    for own, other in ((install.a, install.b), (install.b, install.a)):
        before = snapshot(other)
        client = install.app.test_client()
        assert_sees_only(client, install.app, Role.CLERK, own, other, headers=bearer(own))
        listed = client.get("/api/v1/documents", headers=bearer(own)).get_json()
        assert sorted(d["cufe"] for d in listed["documents"]) == sorted(own.cufes)
        for cufe in other.cufes:
            assert client.get(f"/api/v1/documents/{cufe}", headers=bearer(own)).status_code == 404
        sent = client.post(f"/api/v1/documents/{other.cufes[-1]}/events", headers=bearer(own),
                           json={"code": "030"})  # fmt: skip
        assert sent.status_code == 404, sent.get_data(as_text=True)
        assert snapshot(other) == before


def test_a_tampered_session_does_not_reach_the_other_company(install: Install) -> None:
    """A's user rewrites the signed cookie (as one who knew the secret key could): naming B as the company leaves
    them in A; adding B to the companies they proved a password for signs them out, not into B."""
    a, b = install.a, install.b
    before = snapshot(b)
    client = install.app.test_client()
    log_in(client, a.only_user)
    with client.session_transaction() as sess:
        sess["empresa"] = b.key
    page = client.get("/").get_data(as_text=True)
    assert a.marker in page and b.marker not in page
    with client.session_transaction() as sess:
        sess["empresas"] = {**sess["empresas"], b.key: sess["empresas"][a.key]}
        sess["empresa"] = b.key
    for url in ("/", "/exportar.csv", "/auditoria/exportar.csv", f"/documentos/{len(b.cufes)}"):
        response = client.get(url)
        assert response.status_code == 302 and "/ingresar" in response.headers["Location"], url
    assert client.get("/api/v1/documents").status_code == 401
    assert snapshot(b) == before


def test_a_user_of_both_companies_switches_between_them(install: Install) -> None:
    """The switcher lists both companies; after switching, every page is B's and none shows A's data, and back."""
    a, b = install.a, install.b
    client = install.app.test_client()
    log_in(client, BOTH)
    home = client.get("/").get_data(as_text=True)
    assert 'action="/empresa"' in home and a.name in home and b.name in home
    assert a.marker in home and b.marker not in home
    switched = switch(client, b).get_data(as_text=True)
    assert f"Ahora trabaja en {b.name}" in switched
    assert_sees_only(client, install.app, Role.ADMIN, b, a, other_name=False)
    assert client.get(f"/documentos/{len(b.cufes)}").status_code == 200
    switch(client, a)
    page = client.get("/").get_data(as_text=True)
    assert a.marker in page and b.marker not in page


def test_jobs_write_only_to_the_company_they_act_for(install: Install) -> None:
    """A job run acting for one company (the scheduler's way, and the jobs page's "Ejecutar ahora" of a user in
    that company) records its run in that company's database alone."""
    a, b = install.a, install.b
    jobs.use(*install.group)
    for own, other in ((a, b), (b, a)):
        before, runs = snapshot(other), job_runs(own)
        with jobs.acting_for(own.key):
            assert jobs.JOBS["seal_audit"]()["outcome"] == "ok"
        assert job_runs(own) == runs + 1
        assert snapshot(other) == before
    for own, other in ((a, b), (b, a)):
        before, runs = snapshot(other), job_runs(own)
        client = install.app.test_client()
        log_in(client, own.only_user)
        ran = client.post("/tareas/seal_audit/ejecutar", data={"csrf_token": csrf_token(client)})
        assert ran.status_code == 302
        assert job_runs(own) == runs + 1
        assert snapshot(other) == before


def test_the_demo_sent_mail_page_shows_the_own_companys_mail_only(install: Install) -> None:
    """In demo mode `buzon serve` points each company's SMTP at a local sink and shows what it kept under «Correo
    enviado» (wired here as serve wires it): each company's user reads the mail their company sent, not the other's."""
    with contextlib.ExitStack() as running:
        settings, folders = _with_mail_sink(install.group.first.settings, running)
        for side, smtp in zip((install.a, install.b), (s.smtp for s in settings.group), strict=True):
            message = EmailMessage()
            message["From"], message["To"] = smtp.from_address, "proveedor@example.com"
            message["Subject"] = f"Acuse de recibo {side.marker}"
            message.set_content(f"Aviso de {side.name}")
            with smtplib.SMTP(smtp.host, smtp.port) as server:
                server.send_message(message)
    app = web_app(install.group, sent_mail=folders)
    for own, other in ((install.a, install.b), (install.b, install.a)):
        client = app.test_client()
        log_in(client, own.only_user)
        page = client.get("/correo-enviado").get_data(as_text=True)
        assert own.marker in page and other.marker not in page


def test_two_companies_start_without_a_trust_folder(tmp_path: Path) -> None:
    """A fresh install has no trust folder (an empty store for one company): two companies start the same."""
    settings = two_companies(tmp_path, f"sqlite:///{tmp_path / 'a.sqlite3'}", f"sqlite:///{tmp_path / 'b.sqlite3'}")
    group = Group.from_settings(settings)
    try:
        web_app(group)
    finally:
        group.close()
