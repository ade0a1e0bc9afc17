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
from dian.codes import Environment, EventCode, Operation, PaymentMeans
from dian.nit import check_digit
from dian.ubl import parse_document
from dian.ubl.build import AttachedDraft, build_attached_document
from store.models import Direction, DocumentEvent, ValueTitle
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
        """One action of a party the simulator plays, through its admin endpoint over HTTP (its shapes: the docstring
        of dian/simulator/counterparts.py)."""
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


# Issue 17's "done when": every RADIAN event Buzón signs verifies with xmlsec1 and with `buzon verify`. Each variant
# radian.actions can sign (operation_of's) is verified by the tests named here — on every database those tests run
# on. verify_signatures checks that a test verifies exactly the variants listed for it, and test_titles_cli checks
# that this table covers every variant operation_of returns, so a new variant without a verification case fails.
_CLI = "test_every_radian_event_we_sign_verifies_with_xmlsec1_and_buzon_verify"
_RETURN = "test_a_title_endorsed_back_to_us_is_registered_again_and_paid"
_MANDATE = "test_a_mandate_is_granted_listed_and_revoked"
_PROTEST = "test_a_title_is_protested_and_then_circulates_no_more"
_NON_PAYMENT = "test_a_protest_for_non_payment_after_the_due_date"
_RIGHTS = "test_economic_rights_are_transferred_and_the_debtor_then_pays_the_assignee"
_RIGHTS_VARIANTS = "test_partial_and_without_responsibility_transfers"
_DEBTOR = "test_our_payments_as_debtor_verify_with_xmlsec1_and_buzon_verify"
_ASSIGNEE = "test_after_a_notified_transfer_we_pay_the_assignee_with_a_051"
OP = Operation
SIGNATURE_CASES: dict[str, frozenset[Operation]] = {
    _CLI: frozenset({OP.FIRST_REGISTRATION, OP.PAYMENT_REPORT, OP.MANDATE_GENERAL_UNLIMITED_TIME,
                     OP.GUARANTEE_ENDORSEMENT, OP.CANCEL_GUARANTEE_ENDORSEMENT, OP.COLLECTION_ENDORSEMENT,
                     OP.CANCEL_COLLECTION_ENDORSEMENT, OP.PARTIAL_PAYMENT, OP.ENDORSEMENT_WITH_RESPONSIBILITY}),
    _RETURN: frozenset({OP.FIRST_REGISTRATION_DIRECT, OP.ENDORSEMENT_WITHOUT_RESPONSIBILITY, OP.LATER_REGISTRATION,
                        OP.ENDORSEMENT_WITH_RESPONSIBILITY, OP.LATER_REGISTRATION_DIRECT, OP.TOTAL_PAYMENT}),
    _MANDATE: frozenset({OP.FIRST_REGISTRATION, OP.MANDATE_GENERAL_LIMITED_TIME, OP.MANDATE_REVOKED}),
    _PROTEST: frozenset({OP.FIRST_REGISTRATION, OP.PROTEST_NON_ACCEPTANCE}),
    _NON_PAYMENT: frozenset({OP.FIRST_REGISTRATION, OP.PROTEST_NON_PAYMENT}),
    _RIGHTS: frozenset({OP.FIRST_REGISTRATION, OP.TRANSFER_TOTAL_WITH_RESPONSIBILITY, OP.TRANSFER_NOTICE}),
    _RIGHTS_VARIANTS: frozenset({OP.FIRST_REGISTRATION, OP.TRANSFER_PARTIAL_WITH_RESPONSIBILITY,
                                 OP.TRANSFER_PARTIAL_WITHOUT_RESPONSIBILITY, OP.TRANSFER_TOTAL_WITHOUT_RESPONSIBILITY}),
    _DEBTOR: frozenset({OP.PARTIAL_PAYMENT, OP.TOTAL_PAYMENT}),
    _ASSIGNEE: frozenset({OP.TRANSFER_PARTIAL_PAYMENT, OP.TRANSFER_TOTAL_PAYMENT}),
}  # fmt: skip


def verify_signatures(runtime: jobs.Runtime, settings: Settings, folder: Path) -> frozenset[Operation]:
    """Every RADIAN event Buzón signed in this test's database verifies with xmlsec1 and with `buzon verify` (no
    failed check); the variants verified are exactly those SIGNATURE_CASES lists for the running test."""
    import json
    import os
    import subprocess
    import sys

    from tests.conftest import missing
    from tests.integration.test_events_cli import write_config
    from tests.integration.test_xmlsec_crosscheck import xmlsec_verify

    xmlsec1 = shutil.which("xmlsec1")
    if xmlsec1 is None:
        missing("xmlsec1 not installed")
    test = os.environ["PYTEST_CURRENT_TEST"].split("::")[-1].split("[")[0].split(" ")[0]
    with runtime.sessions() as s:
        signed = sa.select(DocumentEvent).where(DocumentEvent.direction == Direction.EMITTED)
        ours = list(s.execute(signed.where(DocumentEvent.operation.is_not(None))).scalars())
        s.expunge_all()
    operations = frozenset(e.operation for e in ours if e.operation is not None)
    assert operations == SIGNATURE_CASES.get(test), (test, sorted(operations))
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for event in ours:
        assert event.signed_xml_blob, (event.code, event.number)
        path = folder / f"{event.operation}-{event.number}.xml"
        path.write_bytes(runtime.blobs.get(event.signed_xml_blob))
        checked = xmlsec_verify(xmlsec1, path.read_bytes(), folder, f"x-{path.name}")
        assert checked.returncode == 0 and "OK" in checked.stdout + checked.stderr, (event.operation, checked.stderr)
        files.append(str(path))
    config = write_config(settings, folder / "buzon.toml")
    done = subprocess.run([sys.executable, "-m", "buzon.cli", "verify", "--json", *files, "--config", str(config)],
                          capture_output=True, text=True, timeout=180)  # fmt: skip
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert len(lines) == len(files), done.stderr
    for line in lines:
        failed = [c for c in line["checks"] if c["outcome"] == "fail"]
        assert line["verdict"] != "invalid" and not failed, (line["file"], line["verdict"], failed)
        assert any("signature" in c["name"] for c in line["checks"]), line
    return operations


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
