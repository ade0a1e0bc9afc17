"""A whole Buzón for the events tests: configured as the buyer of the DIAN world, reading supplier mail from a real
Dovecot folder, talking to the simulator over HTTP, sending mail to a real SMTP server (aiosmtpd), on SQLite or on a
fresh PostgreSQL database. The jobs run in-process through buzon.jobs, the code the scheduler runs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

from buzon import jobs
from buzon.config import Settings, parse_settings
from dian.calendar import BOGOTA
from dian.codes import Environment, EventCode, PaymentMeans
from dian.nit import check_digit
from dian.ubl import parse_document
from dian.ubl.build import AttachedDraft, build_attached_document
from events.emit import Emitted, EventRequest, emit_and_commit
from store.models import DocumentEvent, ReceivedDocument
from tests.integration.dian_fixtures import BUYER, BUYER_NIT, BUYER_SW, SELLER, SELLER_NIT, DianWorld, make_world
from tests.integration.inbox_fixtures import append, mail, zip_bytes
from tests.services import fresh_postgres_database

SUPPLIER_MAILBOX = "recepcion@proveedor.test"  # the seller's reception address, on DIAN's list
PERSON = {
    "person_id": "1020304050",
    "person_first_name": "Ana María",
    "person_family_name": "Pérez Gómez",
    "person_job_title": "Almacenista",
    "person_department": "Compras",
}
_folders = itertools.count(1)


@dataclass
class EventsBed:
    world: DianWorld
    settings: Settings
    runtime: jobs.Runtime
    smtp: Any
    dovecot: Any
    folder: str
    invoices: dict[str, bytes] = dataclasses.field(default_factory=dict)  # CUFE -> the seller's signed invoice

    @property
    def sessions(self):
        return self.runtime.sessions

    def supplier_mail(self, *, at: dt.datetime, payment: PaymentMeans = PaymentMeans.CREDIT) -> tuple[bytes, str]:
        """The seller's invoice, validated by the simulator at ``at``, in an AttachedDocument mailed as DIAN says."""
        invoice = self.world.invoice(at=at, payment=payment)
        answer = self.world.simulator.validate(invoice, now=at + dt.timedelta(seconds=30))
        doc = parse_document(invoice)
        self.invoices[doc.uuid.lower()] = invoice
        local = at.astimezone(BOGOTA)
        attached = build_attached_document(
            AttachedDraft(
                id=f"AD{doc.number}",
                issue_date=local.date(),
                issue_time=local.strftime("%H:%M:%S-05:00"),
                environment=Environment.TESTING,
                sender=SELLER,
                receiver=BUYER,
                parent_document_id=doc.number,
                document_xml=invoice,
                dian_response_xml=answer,
                reference_uuid=doc.uuid,
                reference_issue_date=doc.issue_date,
                validation_date=local.date(),
                validation_time=local.strftime("%H:%M:%S-05:00"),
                signed=False,
            )
        )
        subject = f"{SELLER_NIT};PROVEEDOR DE PRUEBA S.A.S.;{doc.number};01;PROVEEDOR"
        return mail((f"z{doc.number}.zip", zip_bytes((f"ad{doc.number}.xml", attached))), subject=subject), doc.uuid

    def receive(self, *, at: dt.datetime, payment: PaymentMeans = PaymentMeans.CREDIT) -> int:
        """Mail one invoice to the reception mailbox, run the poll job, and return the filed document's id."""
        message, cufe = self.supplier_mail(at=at, payment=payment)
        append(self.dovecot, self.folder, message)
        result = jobs.poll_mailbox()
        assert result["outcome"] == "ok", result
        return self.document_id(cufe)

    def document_id(self, cufe: str) -> int:
        with self.sessions() as s:
            found = s.execute(sa.select(ReceivedDocument.id).where(ReceivedDocument.cufe == cufe.lower())).scalar()
        assert found is not None, f"document {cufe} was not filed"
        return found

    def document(self, document_id: int) -> ReceivedDocument:
        with self.sessions() as s:
            doc = s.get(ReceivedDocument, document_id)
            assert doc is not None
            s.expunge(doc)
            return doc

    def events(self, document_id: int) -> list[DocumentEvent]:
        with self.sessions() as s:
            rows = list(
                s.execute(
                    sa.select(DocumentEvent).where(DocumentEvent.document_id == document_id).order_by(DocumentEvent.id)
                ).scalars()
            )
            for row in rows:
                s.expunge(row)
            return rows

    def send(
        self, document_id: int, code: EventCode, *, at: dt.datetime | None = None, force: bool = False, **request: Any
    ) -> Emitted:
        return emit_and_commit(
            self.sessions,
            self.runtime.ctx,
            document_id,
            EventRequest(code, **request),
            actor="test:clerk",
            now=at,
            force=force,
        )

    def with_scheduler(self, **changes: Any) -> None:
        """Run the jobs with these [scheduler] settings from now on."""
        self.settings = dataclasses.replace(
            self.settings, scheduler=dataclasses.replace(self.settings.scheduler, **changes)
        )
        self.runtime = jobs.configure(self.settings, engine=self.runtime.engine)

    def due_at(self, at: dt.datetime) -> None:
        """Set every queued event's next attempt: a test checks "not sent before its backoff" with one an hour away
        and then makes it due, instead of racing the bed's one-second backoff on a loaded machine."""
        with self.sessions() as s:
            s.execute(
                sa.update(DocumentEvent).where(DocumentEvent.next_attempt_at.is_not(None)).values(next_attempt_at=at)
            )
            s.commit()

    def deliver(self) -> dict[str, Any]:
        result = jobs.deliver_outbox()
        assert result["outcome"] == "ok", result
        return result["summary"]


def _p12(world: DianWorld, path: Path) -> Path:
    identity = world.buyer
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"buzon", identity.key, identity.certificate, list(identity.chain), BestAvailableEncryption(b"clave")
        )
    )
    return path


def make_settings(tmp_path: Path, world: DianWorld, database_url: str, smtp: Any, dovecot: Any, folder: str,
                  **scheduler: Any) -> Settings:  # fmt: skip
    trust = tmp_path / "trust"
    trust.mkdir(exist_ok=True)
    shutil.copy(world.simulator.ca_certificate_path, trust / "simulator-ca.pem")
    data = {
        "data_dir": str(tmp_path / "buzon"),
        "database": {"url": database_url},
        "company": {"nit": f"{BUYER_NIT}-{check_digit(BUYER_NIT)}", "name": "EMPRESA COMPRADORA S.A.S.",
                    "reception_email": "recepcion@compradora.test"},
        "certificate": {"pkcs12_path": str(_p12(world, tmp_path / "empresa.p12")), "password": "clave"},
        "dian": {"environment": "simulator", "endpoint": world.url, "trust_store": str(trust),
                 "software_id": BUYER_SW.software_id, "software_pin": BUYER_SW.pin, "read_timeout": 5,
                 "connect_timeout": 2},
        "inbox": {"source": "imap"},
        "imap": {"host": dovecot.host, "port": dovecot.port, "tls": "none", "user": dovecot.user,
                 "password": dovecot.password, "folder": folder, "processed_folder": f"{folder}-ok",
                 "quarantine_folder": f"{folder}-cuarentena"},
        "smtp": {"host": smtp.host, "port": smtp.port, "tls": "none", "user": "",
                 "from_address": "recepcion@compradora.test"},
        "events": {**PERSON, "retry_seconds": 1, "retry_max_seconds": 2},
        "scheduler": scheduler,
    }  # fmt: skip
    return parse_settings(data, base=tmp_path)


@pytest.fixture(params=["sqlite", "postgresql"])
def events_bed(request, tmp_path: Path, smtp_server, dovecot) -> Iterator[EventsBed]:
    """Buzón as the buyer, on SQLite or a fresh PostgreSQL database, with the simulator, Dovecot and aiosmtpd."""
    from store.db import make_engine, migrate

    world = make_world(tmp_path / "dian-sim")
    world.simulator.seed({"exchange_emails": [{"nit": SELLER_NIT, "name": "PROVEEDOR", "email": SUPPLIER_MAILBOX}]})
    folder = f"Eventos{next(_folders)}"
    with database(request.param, tmp_path) as url:
        settings = make_settings(tmp_path, world, url, smtp_server, dovecot, folder)
        engine = make_engine(url)
        migrate(engine)
        runtime = jobs.configure(settings, engine=engine)
        try:
            yield EventsBed(world, settings, runtime, smtp_server, dovecot, folder)
        finally:
            runtime.close()
            world.stop()


class database:
    """A SQLite file or a fresh PostgreSQL database, as a context manager yielding its URL."""

    def __init__(self, kind: str, tmp_path: Path) -> None:
        self.kind, self.tmp_path, self._pg = kind, tmp_path, None

    def __enter__(self) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.tmp_path / 'buzon.sqlite3'}"
        self._pg = fresh_postgres_database()
        return self._pg.__enter__()

    def __exit__(self, *exc: object) -> None:
        if self._pg is not None:
            self._pg.__exit__(*exc)


def days_ago(days: float, *, hour: int = 9) -> dt.datetime:
    """A business-hours moment ``days`` ago (UTC, aware)."""
    moment = dt.datetime.now(BOGOTA) - dt.timedelta(days=days)
    return moment.replace(hour=hour, minute=0, second=0, microsecond=0).astimezone(dt.UTC)
