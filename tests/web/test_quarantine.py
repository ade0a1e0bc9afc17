"""Quarantine actions through the Flask test client on real SQLite and PostgreSQL: download the raw message,
re-process it (the real intake, and a stand-in for the filed outcome), dismiss it; roles, CSRF and the audit log."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from dian.trust import TrustStore
from inbox.intake import Intake, IntakePolicy, Result
from store.blobs import BlobStore
from store.models import AuditEntry, MailMessage, MailStatus, QuarantineReason, Role
from tests.web.conftest import csrf_token

pytestmark = pytest.mark.integration

RAW = b"From: publicidad@tienda.test\r\nTo: recepcion@empresa.test\r\nSubject: Ofertas\r\n\r\nSin adjuntos.\r\n"


@pytest.fixture
def mail(app_and_db) -> MailMessage:
    app, session = app_and_db
    key = BlobStore(app.config["BUZON_SETTINGS"].blob_dir).put(RAW)
    row = MailMessage(
        mailbox="INBOX",
        uidvalidity=1,
        uid=7,
        message_id="<ofertas@tienda.test>",
        sender="publicidad@tienda.test",
        subject="Ofertas",
        received_at=datetime.now(UTC),
        size=len(RAW),
        blob_key=key,
        status=MailStatus.QUARANTINED,
        reason=QuarantineReason.NO_DOCUMENT,
        reason_detail="El correo no trae documento electrónico",
    )
    session.add(row)
    session.flush()
    return row


def post(client: Any, path: str, **form: str) -> Any:
    return client.post(path, data={"csrf_token": csrf_token(client), **form})


def shown(client: Any) -> str:
    return client.get("/cuarentena").get_data(as_text=True)


def audit(session: Any, action: str) -> list[AuditEntry]:
    return list(session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


def test_the_list_offers_download_to_all_and_actions_to_clerks(mail, client_as):
    page = shown(client_as(Role.CLERK))
    assert "Sin documento electrónico" in page
    assert f'href="/correos/{mail.id}/original"' in page
    assert f'action="/cuarentena/{mail.id}/reprocesar"' in page and f'action="/cuarentena/{mail.id}/descartar"' in page
    auditor = shown(client_as(Role.AUDITOR))
    assert f'href="/correos/{mail.id}/original"' in auditor
    assert "reprocesar" not in auditor and "descartar" not in auditor
    raw = client_as(Role.AUDITOR).get(f"/correos/{mail.id}/original")
    assert raw.status_code == 200
    assert raw.mimetype == "message/rfc822"
    assert raw.headers["Content-Disposition"] == f'attachment; filename="correo-{mail.id}.eml"'
    assert raw.data == RAW


def test_the_list_says_when_mail_arrived_in_bogota_time(app_and_db, mail, client_as):
    _, session = app_and_db
    mail.received_at = datetime(2026, 3, 2, 3, 30, tzinfo=UTC)  # 22:30 of the day before in Bogotá (UTC-5)
    session.flush()
    page = shown(client_as(Role.CLERK))
    assert '<td data-label="Recibido">01/03/2026 22:30</td>' in page and "UTC" not in page


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.TREASURY, Role.ADMIN])
def test_only_clerks_act(app_and_db, mail, client_as, role):
    _, session = app_and_db
    for action in ("reprocesar", "descartar"):
        assert post(client_as(role), f"/cuarentena/{mail.id}/{action}").status_code == 403
    assert mail.status is MailStatus.QUARANTINED
    assert audit(session, "mail.dismissed") == []


def test_actions_need_the_csrf_token(app_and_db, mail, client_as):
    client = client_as(Role.CLERK)
    assert client.post(f"/cuarentena/{mail.id}/descartar").status_code == 400
    assert client.post(f"/cuarentena/{mail.id}/reprocesar").status_code == 400
    assert mail.status is MailStatus.QUARANTINED


def test_dismiss_ignores_the_message_with_who_and_why_and_audits_it(app_and_db, mail, client_as):
    _, session = app_and_db
    client = client_as(Role.CLERK)
    response = post(client, f"/cuarentena/{mail.id}/descartar", note="Correo publicitario")
    assert response.status_code == 302
    assert response.location == "/cuarentena"
    session.refresh(mail)
    assert mail.status is MailStatus.IGNORED
    assert mail.reason_detail.startswith("Descartado por usuario-clerk: Correo publicitario")
    assert "El correo no trae documento electrónico" in mail.reason_detail
    [entry] = audit(session, "mail.dismissed")
    assert (entry.actor, entry.subject) == ("user:usuario-clerk", f"mail:{mail.id}")
    assert entry.data["note"] == "Correo publicitario"
    assert entry.data["before"] == {"reason": "no_document", "detail": "El correo no trae documento electrónico"}
    page = shown(client)
    assert f"Correo {mail.id} descartado" in page
    assert "No hay correos en cuarentena" in page
    again = post(client, f"/cuarentena/{mail.id}/descartar")
    assert again.status_code == 302
    assert "ya no está en cuarentena" in shown(client)
    assert len(audit(session, "mail.dismissed")) == 1


def test_reprocess_without_an_intake_says_so(app_and_db, mail, client_as):
    client = client_as(Role.CLERK)
    assert post(client, f"/cuarentena/{mail.id}/reprocesar").status_code == 302
    assert "no está disponible" in shown(client)
    assert mail.status is MailStatus.QUARANTINED


@dataclass
class FiledIntake:
    """Stands in for an Intake that files the message (the real one needs a signed invoice and its trust store)."""

    session: Any
    seen: list[tuple[int, str, MailStatus]] = field(default_factory=list)
    actor: str = ""

    def process(self, mail_id: int) -> Result:
        row = self.session.get(MailMessage, mail_id)
        self.session.refresh(row)
        self.seen.append((mail_id, self.actor, row.status))
        row.status = MailStatus.FILED
        self.session.flush()
        return Result(mail_id, MailStatus.FILED)


def test_reprocess_runs_intake_again_and_audits_it(app_and_db, mail, client_as):
    app, session = app_and_db
    intake = FiledIntake(session)

    def make(actor: str) -> FiledIntake:
        intake.actor = actor
        return intake

    app.extensions["buzon.intake"] = make
    client = client_as(Role.CLERK)
    assert post(client, f"/cuarentena/{mail.id}/reprocesar").status_code == 302
    assert intake.seen == [(mail.id, "user:usuario-clerk", MailStatus.PENDING)]  # back to pending, then intake ran
    assert f"Correo {mail.id} reprocesado y archivado" in shown(client)
    [entry] = audit(session, "mail.reprocess")
    assert entry.actor == "user:usuario-clerk"
    assert entry.data["before"]["reason"] == "no_document"


def test_reprocess_with_the_real_intake_keeps_a_mail_without_documents_in_quarantine(app_and_db, mail, client_as):
    app, session = app_and_db
    settings = app.config["BUZON_SETTINGS"]
    # The real intake on the test's own connection, so it sees (and rolls back with) the test's rows.
    sessions = sessionmaker(bind=session.connection(), join_transaction_mode="create_savepoint", expire_on_commit=False)
    policy = IntakePolicy(our_nit=settings.company.nit_number, trust=TrustStore())

    def make(actor: str) -> Intake:
        return Intake(sessions, BlobStore(settings.blob_dir), policy, clock=lambda: datetime.now(UTC), actor=actor)

    app.extensions["buzon.intake"] = make
    client = client_as(Role.CLERK)
    assert post(client, f"/cuarentena/{mail.id}/reprocesar").status_code == 302
    page = shown(client)
    assert f"Correo {mail.id} reprocesado: sigue en cuarentena" in page
    assert "Sin documento electrónico" in page
    session.expire_all()
    assert session.get(MailMessage, mail.id).status is MailStatus.QUARANTINED
    assert [e.actor for e in audit(session, "mail.quarantined")] == ["user:usuario-clerk"]
