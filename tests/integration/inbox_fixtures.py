"""Fixtures and builders for the inbox tests: supplier mails around the real samples, hostile ones, demo-signed notes
and events, an intake bound to a rolled-back connection, and IMAP helpers for the Dovecot fixture."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from functools import cache
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from buzon import demo
from dian.codes import DIAN_DV, DIAN_NAME, DIAN_NIT, Environment, EventCode
from dian.nit import check_digit
from dian.trust import TrustStore
from dian.ubl import Party
from dian.ubl.build import EventDraft, build_event
from dian.xades import sign
from inbox.intake import Intake, IntakePolicy
from store.blobs import BlobStore
from tests.conftest import sample_bytes

OUR_NIT = "805007280"  # the buyer of most real samples (DV 8)
OUR_SAMPLE = "attached_distripanama_DP20602_sw830099008.xml"  # AttachedDocument addressed to 805007280
OUR_BARE = "invoice_alpha_FV937_sw890930534.xml"  # bare signed invoice addressed to 805007280
OTHER_BUYER_SAMPLE = "attached_postobon_CA072079274_carvajal.xml"  # buyer 900923112
NOW = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def zip_bytes(*members: tuple[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return out.getvalue()


def mail(
    *attachments: tuple[str, bytes],
    subject: str = "805004648;PROVEEDOR;FV1;01;PROVEEDOR",
    message_id: str | None = None,
    sender: str = "facturas@proveedor.test",
) -> bytes:
    """A supplier's e-mail with the given attachments (zip, xml, pdf by extension)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "recepcion@empresa.test"
    message["Subject"] = subject
    message["Message-ID"] = message_id or make_msgid(domain="proveedor.test")
    message["Date"] = "Mon, 02 Mar 2026 09:00:00 -0500"
    message.set_content("Adjuntamos la factura electrónica.\n")
    for name, data in attachments:
        kind = {"zip": ("application", "zip"), "pdf": ("application", "pdf")}.get(
            name.rsplit(".", 1)[-1], ("application", "xml")
        )
        message.add_attachment(data, maintype=kind[0], subtype=kind[1], filename=name)
    return message.as_bytes()


def sample_mail(name: str = OUR_SAMPLE, *, message_id: str | None = None, pdf: bool = True) -> bytes:
    """A mail as a supplier sends one: a zip with the real AttachedDocument sample and a PDF."""
    members = [(name, sample_bytes(name))] + ([("representacion.pdf", PDF)] if pdf else [])
    return mail(("z0000000000.zip", zip_bytes(*members)), message_id=message_id)


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE Invoice [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&xxe;</Invoice>"""


def zip_bomb() -> bytes:
    """A small zip whose member expands past every limit (64 MB of zeros compress to ~64 KB)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("ad.xml", "w") as member:
        chunk = b"\0" * (1024 * 1024)
        for _ in range(80):
            member.write(chunk)
    return out.getvalue()


def tampered(name: str = OUR_SAMPLE) -> bytes:
    """The real sample with its payable amount raised inside the signed invoice."""
    data = sample_bytes(name)
    head, sep, tail = data.partition(b"<cbc:PayableAmount")
    assert sep, "sample without PayableAmount"
    value_start = tail.index(b">") + 1
    value_end = tail.index(b"<", value_start)
    return head + sep + tail[:value_start] + b"999999999.00" + tail[value_end:]


# --- demo-signed documents (credit notes and events need a PKI of our own) ---------------------------------------


@dataclass(frozen=True)
class Signed:
    pki: demo.DemoPKI
    company_nit: str
    invoice: demo.DemoDocument
    note: demo.DemoDocument

    @property
    def trust(self) -> TrustStore:
        return TrustStore(anchors=(self.pki.ca,))


def signed_pair(pki: demo.DemoPKI, invoice_number: int = 42, note_number: int = 7) -> Signed:
    """An invoice and a credit note on it, for company 900654321, signed (and "validated") under ``pki``."""
    company = "900654321"
    buyer = Party(
        nit=company, dv=check_digit(company), registration_name="EMPRESA COMPRADORA S.A.S.", organization_type="1"
    )
    supplier = demo.SUPPLIERS[0]
    invoice = demo.make_document(pki, supplier, invoice_number, (("Resmas", 10, "18500.00"),), buyer=buyer, issued=NOW)
    note = demo.make_document(
        pki, supplier, note_number, (("Devolución", 2, "18500.00"),), buyer=buyer, issued=NOW, credit_note_for=invoice
    )
    return Signed(pki, company, invoice, note)


@cache
def signed() -> Signed:
    """An invoice and a credit note on it under a fresh demo CA (once per process)."""
    return signed_pair(demo.make_pki(NOW))


def resigned(s: Signed) -> bytes:
    """The invoice signed again: the same CUFE, other signed bytes (a new random signature Id)."""
    buyer = Party(
        nit=s.company_nit, dv=check_digit(s.company_nit), registration_name="EMPRESA COMPRADORA S.A.S.",
        organization_type="1",
    )  # fmt: skip
    again = demo.make_document(s.pki, demo.SUPPLIERS[0], 42, (("Resmas", 10, "18500.00"),), buyer=buyer, issued=NOW)
    assert again.cufe == s.invoice.cufe and again.signed != s.invoice.signed
    return again.signed


def numbered(s: Signed, number: int, quantity: int) -> demo.DemoDocument:
    """Another invoice of the pair's supplier under ``number``: other content, so another CUFE."""
    buyer = Party(
        nit=s.company_nit, dv=check_digit(s.company_nit), registration_name="EMPRESA COMPRADORA S.A.S.",
        organization_type="1",
    )  # fmt: skip
    items = (("Resmas", quantity, "18500.00"),)
    return demo.make_document(s.pki, demo.SUPPLIERS[0], number, items, buyer=buyer, issued=NOW)


def event_xml(s: Signed, code: EventCode = EventCode.ACEPTACION_TACITA, number: str = "EV1") -> bytes:
    """The seller's signed event about the invoice (034 goes to DIAN, dian-facts 2.4)."""
    supplier = demo.SUPPLIERS[0]
    draft = EventDraft(
        code=code,
        number=number,
        issue_date=NOW.date(),
        issue_time="10:00:00-05:00",
        environment=Environment.TESTING,
        sender=demo._party(supplier),
        receiver=Party(nit=DIAN_NIT, dv=DIAN_DV, registration_name=DIAN_NAME),
        invoice_number=s.invoice.number,
        invoice_cufe=s.invoice.cufe,
        notes=("Manifiesto bajo la gravedad del juramento que ha operado la aceptación tácita",),
    )
    unsigned = build_event(draft, software=demo._software(supplier))
    return sign(unsigned, s.pki.suppliers[supplier.nit], signing_time=NOW, role="supplier")


# --- an intake on a rolled-back connection ------------------------------------------------------------------------


@dataclass
class IntakeBed:
    """An Intake whose commits are savepoints of one outer transaction rolled back after the test."""

    sessions: sessionmaker[Session]
    blobs: BlobStore
    trust: TrustStore

    def intake(self, our_nit: str = OUR_NIT, **policy: object) -> Intake:
        return Intake(
            self.sessions,
            self.blobs,
            IntakePolicy(our_nit=our_nit, trust=policy.pop("trust", self.trust), **policy),  # type: ignore[arg-type]
            clock=lambda: NOW,
        )

    def session(self) -> Session:
        return self.sessions()


@pytest.fixture(name="bed")
def bed_fixture(engine: sa.Engine, tmp_path: Path) -> Iterator[IntakeBed]:
    """PostgreSQL: the run's database, every commit a savepoint of a transaction rolled back afterwards. SQLite: a
    fresh migrated file (pysqlite's savepoints do not isolate committed sessions reliably)."""
    from store.db import make_engine, migrate

    if engine.dialect.name == "sqlite":
        own = make_engine(f"sqlite:///{tmp_path / 'intake.sqlite3'}")
        migrate(own)
        try:
            yield IntakeBed(sessionmaker(own, expire_on_commit=False), BlobStore(tmp_path / "blobs"), TrustStore())
        finally:
            own.dispose()
        return
    with engine.connect() as conn:
        outer = conn.begin()
        sessions = sessionmaker(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
        try:
            yield IntakeBed(sessions, BlobStore(tmp_path / "blobs"), TrustStore())
        finally:
            outer.rollback()


# --- IMAP helpers -------------------------------------------------------------------------------------------------


def imap_client(server):
    from imapclient import IMAPClient

    client = IMAPClient(server.host, port=server.port, ssl=False, timeout=10)
    client.login(server.user, server.password)
    return client


def append(server, folder: str, *messages: bytes) -> None:
    client = imap_client(server)
    try:
        if not client.folder_exists(folder):
            client.create_folder(folder)
        for message in messages:
            client.append(folder, message)
    finally:
        client.logout()


def folder_counts(server, *folders: str) -> dict[str, int]:
    client = imap_client(server)
    try:
        counts = {}
        for folder in folders:
            name = folder.replace("/", ".")
            counts[folder] = client.folder_status(name, [b"MESSAGES"])[b"MESSAGES"] if client.folder_exists(name) else 0
        return counts
    finally:
        client.logout()
