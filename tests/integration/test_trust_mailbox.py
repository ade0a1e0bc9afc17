"""The forgeries of issue 14 as a user meets them: `buzon import` from files, and `poll` from a real Dovecot mailbox.

A trust folder is configured (the genuine CA): the forger's own CA and "DIAN" are not in it. The forged invoice is
filed "sin confirmar" (never valid), the stranger's 034 is quarantined as forged and changes nothing, the genuine
document is proven by DIAN's answer chaining to the trusted CA, and under dian.require_validation the forgery is
quarantined instead.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from dian.trust import TrustStore
from inbox.imap import ImapOptions, ImapSource
from inbox.intake import Intake, IntakePolicy
from inbox.poll import poll_once
from store.blobs import BlobStore
from store.db import make_engine
from store.models import MailMessage, MailStatus, ReceivedDocument
from tests.integration.inbox_fixtures import NOW, append, folder_counts, mail, signed
from tests.integration.trust_fixtures import STRANGER_NIT, event_mail, forged, party, stranger, write_config
from tests.services import fresh_postgres_database, migrated_database

pytestmark = pytest.mark.integration

BUZON = [sys.executable, "-m", "buzon.cli"]
COMPANY = "900654321"


def stranger_034() -> bytes:
    """A 034 about the genuine invoice from NIT 123456789, with a "DIAN" answer of the forger's own."""
    return event_mail(signed(), stranger(), party(STRANGER_NIT, "ATACANTE S.A.S."), forged().pki.dian, COMPANY)


def mails() -> list[bytes]:
    return [
        mail(("ad_genuina.xml", signed().invoice.attached)),
        mail(("ad_falsa.xml", forged().invoice.attached)),
        mail(("evento.xml", stranger_034())),
    ]


def configure(tmp_path: Path, url: str, *, require: bool) -> None:
    trust = tmp_path / "trust"
    trust.mkdir()
    (trust / "ca.pem").write_bytes(signed().pki.ca_pem)
    write_config(tmp_path, COMPANY, database_url=url, trust_store=trust, require_validation=require)
    done = subprocess.run([*BUZON, "init"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def documents(url: str) -> dict[str, tuple[str, str]]:
    engine = make_engine(url)
    with engine.connect() as conn:
        docs = {c: (v, s) for c, v, s in conn.execute(sa.text("SELECT cufe, verdict, state FROM received_documents"))}
    engine.dispose()
    return docs


def database_url(kind: str, tmp_path: Path) -> contextlib.AbstractContextManager[str]:
    if kind == "sqlite":
        return contextlib.nullcontext(f"sqlite:///{tmp_path / 'buzon.sqlite3'}")
    return fresh_postgres_database()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
@pytest.mark.parametrize("require", [False, True], ids=["filed-unconfirmed", "require-validation"])
def test_buzon_import_files_the_forgery_unconfirmed_and_quarantines_the_strangers_event(tmp_path, require, kind):
    with database_url(kind, tmp_path) as url:
        configure(tmp_path, url, require=require)
        paths = []
        for index, data in enumerate(mails()):
            path = tmp_path / f"m{index}.eml"
            path.write_bytes(data)
            paths.append(path.name)
        done = subprocess.run([*BUZON, "import", "--json", *paths], cwd=tmp_path, capture_output=True, text=True)
        summary = json.loads(done.stdout.strip().splitlines()[-1])
        docs = documents(url)
    genuine, fake = signed().invoice.cufe, forged().invoice.cufe
    assert docs[genuine] in {("valid", "validated"), ("valid_with_warnings", "validated")}
    if require:
        assert summary == {"filed": 1, "duplicates": 0, "quarantined": {"not_validated": 1, "forged": 1}}, done.stderr
        assert fake not in docs
    else:
        assert summary == {"filed": 2, "duplicates": 0, "quarantined": {"forged": 1}}, done.stderr
        assert docs[fake] == ("unconfirmed", "unconfirmed")
    # The human report says it too.
    verify = subprocess.run([*BUZON, "verify", "m1.eml"], cwd=tmp_path, capture_output=True, text=True)
    assert "validación DIAN sin confirmar" in verify.stdout


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_poll_over_imap_does_the_same(dovecot, tmp_path, kind) -> None:
    box = {"folder": f"RecepcionTrust{kind}", "processed": f"Trust{kind}/Procesados",
           "quarantine": f"Trust{kind}/Cuarentena"}  # fmt: skip
    append(dovecot, box["folder"], *mails())
    with migrated_database(kind, tmp_path) as engine:
        poll_and_check(dovecot, box, engine, tmp_path)


def poll_and_check(dovecot, box: dict[str, str], engine: sa.Engine, tmp_path: Path) -> None:
    intake = Intake(
        sessionmaker(engine, expire_on_commit=False),
        BlobStore(tmp_path / "blobs"),
        IntakePolicy(our_nit=COMPANY, trust=TrustStore(anchors=(signed().pki.ca,))),
        clock=lambda: NOW,
    )
    src = ImapSource(
        ImapOptions(
            host=dovecot.host, port=dovecot.port, tls="none", user=dovecot.user, password=dovecot.password,
            folder=box["folder"], processed_folder=box["processed"], quarantine_folder=box["quarantine"], timeout=10,
        )
    ).connect()  # fmt: skip
    try:
        summary = poll_once(src, intake)
    finally:
        src.close()
    assert summary.filed == 2 and summary.quarantined == {"forged": 1}
    assert folder_counts(dovecot, *box.values()) == {box["folder"]: 0, box["processed"]: 2, box["quarantine"]: 1}
    with engine.connect() as conn:
        verdicts = dict(conn.execute(sa.select(ReceivedDocument.cufe, ReceivedDocument.verdict)).all())
        quarantined = conn.execute(
            sa.select(MailMessage.reason_detail).where(MailMessage.status == MailStatus.QUARANTINED)
        ).scalar_one()
    assert verdicts[forged().invoice.cufe] == "unconfirmed"
    assert verdicts[signed().invoice.cufe] in {"valid", "valid_with_warnings"}
    assert STRANGER_NIT in quarantined
