"""A Buzón configured as the SELLER of the DIAN world (its receivables are our own invoices), talking to the simulator
over HTTP, on SQLite or on a fresh PostgreSQL database. Our invoices are signed by the seller, validated by the
simulator (SendBillSync's answer), wrapped with that answer in an AttachedDocument and imported; the buyer's 030/032/033
(and the judge's 041) come from the simulator's counterparts, asked through its admin endpoint over HTTP.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

from buzon import jobs
from buzon.config import Settings, parse_settings
from dian.calendar import BOGOTA
from dian.codes import Environment, EventCode, PaymentMeans
from dian.nit import check_digit
from dian.ubl import parse_document
from dian.ubl.build import AttachedDraft, build_attached_document
from store.models import DocumentEvent, ValueTitle
from tests.integration.dian_fixtures import BUYER, SELLER, SELLER_NIT, SELLER_SW, DianWorld, make_world
from tests.integration.events_fixtures import database

_BUYER_ACTIONS = {EventCode.ACUSE_RECIBO: "acknowledge", EventCode.RECIBO_BIEN: "receipt",
                  EventCode.ACEPTACION_EXPRESA: "accept"}  # fmt: skip
FACTOR_NIT = "901777888"
FACTOR_NAME = "FACTORING DEL VALLE S.A.S."


@dataclass
class TitlesBed:
    world: DianWorld
    settings: Settings
    runtime: jobs.Runtime
    tmp_path: Path

    @property
    def titles(self):
        return self.runtime.titles

    @property
    def sessions(self):
        return self.runtime.sessions

    def our_invoice(self, *, at: dt.datetime, payment: PaymentMeans = PaymentMeans.CREDIT) -> tuple[bytes, bytes]:
        """(the signed invoice, its AttachedDocument with DIAN's answer) — the simulator validated it at ``at``."""
        invoice = self.world.invoice(at=at, payment=payment)
        dian = self.world.simulator.validate(invoice, now=at + dt.timedelta(seconds=30))
        doc = parse_document(invoice)
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
                dian_response_xml=dian,
                reference_uuid=doc.uuid,
                reference_issue_date=doc.issue_date,
                validation_date=local.date(),
                validation_time=local.strftime("%H:%M:%S-05:00"),
                signed=False,
            )
        )
        return invoice, attached

    def counterpart(self, action: str, cufe: str, *, at: dt.datetime | None = None, **fields: Any) -> dict[str, Any]:
        """One action of a party the simulator plays, through its admin endpoint over HTTP (RADIAN-SIM.md 2)."""
        body = {"action": action, "cufe": cufe, **fields}
        if at is not None:
            body["at"] = at.isoformat()
        answer = requests.post(f"{self.world.server.base_url}/_sim/counterparts", json=body, timeout=10)
        assert answer.status_code in (200, 422), answer.text
        return answer.json()

    def buyer_sends(self, invoice: bytes, *codes: EventCode, at: dt.datetime) -> None:
        """The simulated buyer signs each event (030/032/033) and DIAN registers it, a minute apart."""
        cufe = parse_document(invoice).uuid.lower()
        for offset, code in enumerate(codes):
            done = self.counterpart(_BUYER_ACTIONS[code], cufe, at=at + dt.timedelta(minutes=offset))
            assert done["registered"], done

    def imported_title(self, *, at: dt.datetime, accepted: bool = True,
                       payment: PaymentMeans = PaymentMeans.CREDIT) -> tuple[int, bytes]:  # fmt: skip
        """Import one of our invoices issued at ``at``; with ``accepted`` the buyer sends 030/032/033 an hour later
        and our title learns it from DIAN (sync). Returns (title id, the signed invoice)."""
        invoice, attached = self.our_invoice(at=at, payment=payment)
        imported = self.titles.import_invoice(attached, actor="test:treasury")
        assert imported.proven and not imported.already, imported
        if accepted:
            self.buyer_sends(invoice, EventCode.ACUSE_RECIBO, EventCode.RECIBO_BIEN, EventCode.ACEPTACION_EXPRESA,
                             at=at + dt.timedelta(hours=1))  # fmt: skip
            synced = self.titles.sync(imported.title_id, actor="test:treasury")
            assert synced.error is None and len(synced.observed) == 3, synced
        return imported.title_id, invoice

    def title(self, title_id: int) -> ValueTitle:
        with self.sessions() as s:
            row = s.get(ValueTitle, title_id)
            assert row is not None
            s.expunge(row)
            return row

    def event(self, event_id: int) -> DocumentEvent:
        with self.sessions() as s:
            row = s.get(DocumentEvent, event_id)
            assert row is not None
            _ = row.parties
            s.expunge_all()
            return row

    def chain_cude(self, title_id: int, code: str) -> str:
        """The CUDE of the (last) event of ``code`` on the title's invoice."""
        found = [e.cude for e in self.titles.chain(title_id) if e.code.value == code and e.cude]
        assert found, code
        return found[-1]

    def at_simulator(self, cufe: str) -> list[tuple[str, str]]:
        rows = self.world.simulator.store.all(
            "SELECT code, sender_nit FROM event WHERE invoice_key = ? ORDER BY signing_time", cufe
        )
        return [(r["code"], r["sender_nit"]) for r in rows]

    def count(self, model: Any) -> int:
        with self.sessions() as s:
            return int(s.execute(sa.select(sa.func.count()).select_from(model)).scalar_one())


def _p12(world: DianWorld, path: Path) -> Path:
    identity = world.seller
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"buzon", identity.key, identity.certificate, list(identity.chain), BestAvailableEncryption(b"clave")
        )
    )
    return path


def seller_settings(tmp_path: Path, world: DianWorld, database_url: str) -> Settings:
    trust = tmp_path / "trust"
    trust.mkdir(exist_ok=True)
    shutil.copy(world.simulator.ca_certificate_path, trust / "simulator-ca.pem")
    data = {
        "data_dir": str(tmp_path / "buzon"),
        "database": {"url": database_url},
        "company": {"nit": f"{SELLER_NIT}-{check_digit(SELLER_NIT)}", "name": "PROVEEDOR DE PRUEBA S.A.S.",
                    "reception_email": "recepcion@proveedor.test"},
        "certificate": {"pkcs12_path": str(_p12(world, tmp_path / "empresa.p12")), "password": "clave"},
        "dian": {"environment": "simulator", "endpoint": world.url, "trust_store": str(trust),
                 "software_id": SELLER_SW.software_id, "software_pin": SELLER_SW.pin, "read_timeout": 5,
                 "connect_timeout": 2},
        "inbox": {"source": "folder"},
        "events": {"retry_seconds": 1, "retry_max_seconds": 2},
    }  # fmt: skip
    return parse_settings(data, base=tmp_path)


@pytest.fixture(params=["sqlite", "postgresql"])
def titles_bed(request, tmp_path: Path) -> Iterator[TitlesBed]:
    """Buzón as the seller (our receivables), on SQLite or a fresh PostgreSQL database, with the simulator."""
    from store.db import make_engine, migrate

    world = make_world(tmp_path / "dian-sim")
    with database(request.param, tmp_path) as url:
        settings = seller_settings(tmp_path, world, url)
        engine = make_engine(url)
        migrate(engine)
        runtime = jobs.configure(settings, engine=engine)
        try:
            yield TitlesBed(world, settings, runtime, tmp_path)
        finally:
            runtime.close()
            world.stop()
