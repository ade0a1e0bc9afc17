"""'Subir documentos' through the Flask test client on SQLite and PostgreSQL: the real samples (read in place from
../shared/samples) go through the real intake, each file answered in Spanish (valid, sin confirmar, quarantined,
duplicate, refused), with the limits, roles, CSRF and the audit entry."""

from __future__ import annotations

import dataclasses
import io
import re
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from dian.trust import TrustStore
from inbox.intake import Intake, IntakePolicy
from store.blobs import BlobStore
from store.models import AuditEntry, MailMessage, MailStatus, ReceivedDocument, Role, Verdict
from tests.conftest import sample_bytes
from tests.integration.inbox_fixtures import OTHER_BUYER_SAMPLE, OUR_BARE, OUR_NIT, OUR_SAMPLE, mail, zip_bytes
from tests.web.conftest import csrf_token
from web.upload import MAX_FILES, sniff

pytestmark = pytest.mark.integration


@pytest.fixture
def intake(app_and_db) -> list[str]:
    """The real intake on the test's own connection (its commits are savepoints), for our NIT; the actors it ran as."""
    app, session = app_and_db
    settings = app.config["BUZON_SETTINGS"]
    sessions = sessionmaker(bind=session.connection(), join_transaction_mode="create_savepoint", expire_on_commit=False)
    policy = IntakePolicy(our_nit=OUR_NIT, trust=TrustStore(), max_message_bytes=settings.inbox.max_message_bytes)
    actors: list[str] = []

    def make(actor: str) -> Intake:
        actors.append(actor)
        return Intake(sessions, BlobStore(settings.blob_dir), policy, clock=lambda: datetime.now(UTC), actor=actor)

    app.extensions["buzon.intake"] = make
    return actors


def upload(client: Any, *files: tuple[str, bytes], token: str | None = None) -> Any:
    data: dict[str, Any] = {"files": [(io.BytesIO(body), name) for name, body in files]}
    if token is not False:
        data["csrf_token"] = token or csrf_token(client)
    return client.post("/subir", data=data, content_type="multipart/form-data")


def rows(page: str) -> list[tuple[str, str]]:
    """(kind, file name) of each result row, in order."""
    found = re.findall(r'<tr data-kind="(\w+)"><td>([^<]+)<br>', page)
    return [(kind, name) for kind, name in found]


def test_samples_are_filed_valid_unconfirmed_quarantined_and_duplicate(app_and_db, intake, client_as):
    _, session = app_and_db
    client = client_as(Role.CLERK)
    response = upload(
        client,
        (OUR_SAMPLE, sample_bytes(OUR_SAMPLE)),
        (OUR_BARE, sample_bytes(OUR_BARE)),
        (OTHER_BUYER_SAMPLE, sample_bytes(OTHER_BUYER_SAMPLE)),
        ("notas.txt", b"no es una factura"),
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert rows(page) == [
        ("filed", OUR_SAMPLE),
        ("unconfirmed", OUR_BARE),
        ("quarantined", OTHER_BUYER_SAMPLE),
        ("refused", "notas.txt"),
    ]
    assert "Archivado como válido" in page and "Archivado sin confirmar" in page
    assert "No es para ninguna de nuestras empresas" in page
    assert "tipo de archivo no admitido" in page
    assert 'role="status"' in page and 'id="resultado"' in page
    filed = session.scalar(sa.select(ReceivedDocument).where(ReceivedDocument.number == "DP20602"))
    assert filed is not None and filed.verdict is Verdict.VALID_WITH_WARNINGS
    assert f'href="/documentos/{filed.id}"' in page
    document_page = client.get(f"/documentos/{filed.id}").get_data(as_text=True)
    assert "Archivo original (subido o importado)" in document_page and "Correo original (.eml)" not in document_page
    bare = session.scalar(sa.select(ReceivedDocument).where(ReceivedDocument.number == "FV937"))
    assert bare is not None and bare.verdict is Verdict.UNCONFIRMED
    mails = session.scalars(sa.select(MailMessage).where(MailMessage.mailbox == "subida")).all()
    assert sorted(m.status for m in mails) == sorted([MailStatus.FILED, MailStatus.FILED, MailStatus.QUARANTINED])
    assert intake == ["user:usuario-clerk"]  # the intake ran as the clerk (its audit entries name them)
    (entry,) = session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "documents.uploaded")).all()
    assert entry.actor == "user:usuario-clerk"
    assert [(f["name"], f["outcome"]) for f in entry.data["files"]] == [
        (OUR_SAMPLE, "filed"),
        (OUR_BARE, "unconfirmed"),
        (OTHER_BUYER_SAMPLE, "quarantined"),
        ("notas.txt", "refused"),
    ]

    # The same file again, and the same invoice inside a supplier's e-mail and a zip: duplicates, not new documents.
    again = upload(
        client,
        (OUR_SAMPLE, sample_bytes(OUR_SAMPLE)),
        ("correo.eml", mail(("ad.zip", zip_bytes((OUR_SAMPLE, sample_bytes(OUR_SAMPLE)))))),
    ).get_data(as_text=True)
    assert rows(again) == [("duplicate", OUR_SAMPLE), ("duplicate", "correo.eml")]
    assert "ya se había subido" in again
    assert f'href="/documentos/{filed.id}"' in again
    count = session.scalar(sa.select(sa.func.count()).select_from(ReceivedDocument))
    assert count == 2


def test_bad_files_are_refused_with_the_reason_and_never_reach_intake(app_and_db, intake, client_as):
    _, session = app_and_db
    page = upload(
        client_as(Role.CLERK),
        ("factura.xml", b"%PDF-1.4 esto es un PDF"),
        ("paquete.zip", b"esto no es un zip"),
        ("vacio.xml", b""),
        ("correo.eml", b"<html>no es un correo</html>"),
        ("roto.xml", b"<Invoice><cbc:ID>sin cerrar"),
    ).get_data(as_text=True)
    assert rows(page)[:4] == [
        ("refused", "factura.xml"),
        ("refused", "paquete.zip"),
        ("refused", "vacio.xml"),
        ("refused", "correo.eml"),
    ]
    assert "no es XML" in page and "no es un ZIP" in page and "está vacío" in page and "no parece un correo" in page
    # An XML that is not a readable document passes the sniff and intake quarantines it, saying why.
    assert rows(page)[4] == ("quarantined", "roto.xml")
    (mail_row,) = session.scalars(sa.select(MailMessage).where(MailMessage.mailbox == "subida")).all()
    assert mail_row.status is MailStatus.QUARANTINED and mail_row.subject == "roto.xml"


def test_limits_on_size_and_count(app_and_db, intake, client_as):
    app, session = app_and_db
    settings = app.config["BUZON_SETTINGS"]
    app.config["BUZON_SETTINGS"] = dataclasses.replace(
        settings, inbox=dataclasses.replace(settings.inbox, max_message_bytes=20_000)
    )
    client = client_as(Role.CLERK)
    big = sample_bytes(OUR_SAMPLE)
    assert len(big) > 20_000
    page = upload(client, (OUR_SAMPLE, big)).get_data(as_text=True)
    assert rows(page) == [("refused", OUR_SAMPLE)]
    assert "demasiado grande" in page
    many = upload(client, *[(f"f{n}.xml", b"<x/>") for n in range(MAX_FILES + 1)])
    assert many.status_code == 400
    assert f"el máximo es {MAX_FILES}" in many.get_data(as_text=True)
    none = upload(client)
    assert none.status_code == 400 and "No eligió ningún archivo" in none.get_data(as_text=True)
    app.config["MAX_CONTENT_LENGTH"] = 4096  # the whole request past the limit: refused before it is read
    token = csrf_token(client)
    huge = upload(client, ("a.xml", b"<" + b"x" * 10_000 + b"/>"), token=token)
    assert huge.status_code == 413
    assert "no se procesó ningún archivo" in huge.get_data(as_text=True)
    assert session.scalar(sa.select(sa.func.count()).select_from(MailMessage)) == 0


@pytest.mark.parametrize("role", [Role.TREASURY, Role.AUDITOR, Role.ADMIN])
def test_only_clerks_upload(app_and_db, intake, client_as, role):
    _, session = app_and_db
    client = client_as(role)
    assert client.get("/subir").status_code == 403
    assert upload(client, (OUR_SAMPLE, sample_bytes(OUR_SAMPLE))).status_code == 403
    assert session.scalar(sa.select(sa.func.count()).select_from(MailMessage)) == 0


def test_upload_needs_the_csrf_token_and_an_intake(app_and_db, client_as):
    _, session = app_and_db
    client = client_as(Role.CLERK)
    assert upload(client, (OUR_SAMPLE, sample_bytes(OUR_SAMPLE)), token=False).status_code == 400
    form = client.get("/subir").get_data(as_text=True)
    assert "no está disponible" in form and 'type="file"' not in form
    refused = upload(client, (OUR_SAMPLE, sample_bytes(OUR_SAMPLE)))
    assert refused.status_code == 503 and "no está disponible" in refused.get_data(as_text=True)
    assert session.scalar(sa.select(sa.func.count()).select_from(MailMessage)) == 0


def test_the_form_offers_multiple_files_of_the_three_types(intake, client_as):
    page = client_as(Role.CLERK).get("/subir").get_data(as_text=True)
    assert 'type="file" multiple' in page and 'accept=".xml,.zip,.eml' in page
    assert 'enctype="multipart/form-data"' in page and 'name="csrf_token"' in page


def test_sniff_names_what_is_wrong():
    assert sniff("a.XML", b"\xef\xbb\xbf  <?xml version='1.0'?><a/>") is None
    assert sniff("a.zip", b"PK\x03\x04rest") is None
    assert sniff("a.eml", b"From: a@b.co\r\nSubject: x\r\n\r\nbody") is None
    assert "no admitido" in (sniff("a.pdf", b"%PDF") or "")
    assert "no admitido" in (sniff("sin-extension", b"<a/>") or "")


def test_a_quarantined_upload_downloads_as_the_file_it_was(app_and_db, intake, client_as):
    """An uploaded XML is no e-mail: the quarantine offers it under its own name and type, not as "correo-N.eml"
    (message/rfc822, which a mail program would show as garbage); an uploaded e-mail still comes back as .eml."""
    _, session = app_and_db
    client = client_as(Role.CLERK)
    broken = b'<?xml version="1.0"?>\n<AttachedDocument>\n<cbc:ID>1</cbc:ID>\n</AttachedDocument>'
    forwarded = mail(("ad.zip", zip_bytes(("ad.xml", broken))))
    upload(client, ("AD roto ñ.xml", broken), ("reenviado.eml", forwarded))
    by_subject = {m.subject: m for m in session.scalars(sa.select(MailMessage).where(MailMessage.mailbox == "subida"))}
    loose = by_subject["AD roto ñ.xml"]
    wrapped = next(m for name, m in by_subject.items() if name != "AD roto ñ.xml")
    assert loose.status is wrapped.status is MailStatus.QUARANTINED
    assert loose.is_file and not wrapped.is_file
    page = client.get("/cuarentena").get_data(as_text=True)
    # The parser's reason, in Spanish, with where it is.
    assert "XML mal formado: el prefijo «cbc» de &lt;cbc:ID&gt; no está declarado" in page
    assert "(en línea 3, columna" in page
    link = f'<a href="/correos/{loose.id}/original">Descargar el archivo</a>'
    assert link in page and f'<a href="/correos/{wrapped.id}/original">Descargar (.eml)</a>' in page
    assert page.count("(archivo subido o importado)") == 1  # in the place of the sender it does not have
    raw = client.get(f"/correos/{loose.id}/original")
    assert raw.status_code == 200 and raw.data == broken
    assert raw.mimetype == "application/xml"
    assert raw.headers["Content-Disposition"] == 'attachment; filename="AD_roto_.xml"'
    eml = client.get(f"/correos/{wrapped.id}/original")
    assert eml.mimetype == "message/rfc822" and eml.data == forwarded
    assert eml.headers["Content-Disposition"] == f'attachment; filename="correo-{wrapped.id}.eml"'
