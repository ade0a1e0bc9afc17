"""Kill `buzon poll --once` at every intake step (os._exit(137), no cleanup), run it again, and check that nothing
is lost and nothing is doubled: database rows, audit entries, blobs and IMAP folders. On SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from inbox.intake import STEPS
from store.blobs import BlobStore
from store.models import AuditEntry, MailMessage, MailStatus, ReceivedDocument
from tests.integration.inbox_fixtures import OTHER_BUYER_SAMPLE, append, folder_counts, sample_mail
from tests.services import fresh_postgres_database

pytestmark = [pytest.mark.integration, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]
BUZON = [sys.executable, "-m", "buzon.cli"]
_names = itertools.count(1)


def buzon(args: list[str], config: Path, crash: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "BUZON_CONFIG": str(config)}
    env.pop("BUZON_CRASH_AT", None)
    if crash:
        env["BUZON_CRASH_AT"] = crash
    return subprocess.run([*BUZON, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


@contextlib.contextmanager
def database(kind: str, tmp_path: Path):
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'buzon.sqlite3'}"
    else:
        with fresh_postgres_database() as url:
            yield url


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_killed_at_every_step_loses_and_doubles_nothing(kind: str, step: str, dovecot, tmp_path: Path) -> None:
    n = next(_names)
    folder, processed, quarantine = f"Crash{kind}{n}", f"C{kind}{n}/Procesados", f"C{kind}{n}/Cuarentena"
    with database(kind, tmp_path) as url:
        config = tmp_path / "buzon.toml"
        config.write_text(
            f"""data_dir = "{tmp_path / "var"}"
[database]
url = "{url}"
[company]
nit = "805007280-8"
[inbox]
source = "imap"
[imap]
host = "{dovecot.host}"
port = {dovecot.port}
tls = "none"
user = "{dovecot.user}"
password = "{dovecot.password}"
folder = "{folder}"
processed_folder = "{processed}"
quarantine_folder = "{quarantine}"
"""
        )
        assert buzon(["init"], config).returncode == 0
        # Two invoices, one for another company, and the first invoice again in another mail.
        append(
            dovecot,
            folder,
            sample_mail(),
            sample_mail("attached_aragon_FE6711_sw890930534.xml"),
            sample_mail(OTHER_BUYER_SAMPLE),
            sample_mail(),
        )
        killed = buzon(["poll", "--once"], config, crash=f"{step}@2")  # dies on the second message
        assert killed.returncode == 137, killed.stdout + killed.stderr
        again = buzon(["poll", "--once"], config)
        assert again.returncode == 0, again.stderr
        engine = sa.create_engine(url)
        try:
            with engine.connect() as conn:
                docs = conn.execute(sa.select(ReceivedDocument.number)).scalars().all()
                mails = conn.execute(sa.select(MailMessage.uid, MailMessage.status, MailMessage.blob_key)).all()
                filed_audit = (
                    conn.execute(sa.select(AuditEntry.subject).where(AuditEntry.action == "document.filed"))
                    .scalars()
                    .all()
                )
                quarantine_audit = conn.execute(
                    sa.select(sa.func.count()).where(AuditEntry.action == "mail.quarantined")
                ).scalar()
                blob_keys = [
                    k
                    for row in conn.execute(
                        sa.select(
                            ReceivedDocument.signed_xml_blob, ReceivedDocument.dian_response_blob,
                            ReceivedDocument.pdf_blob, ReceivedDocument.attached_blob,
                        )
                    )
                    for k in row
                    if k
                ]  # fmt: skip
        finally:
            engine.dispose()
        assert sorted(docs) == ["DP20602", "FE6711"]
        assert len(filed_audit) == 2 and len(set(filed_audit)) == 2
        assert quarantine_audit == 1
        assert sorted(uid for uid, _, _ in mails) == [1, 2, 3, 4]
        statuses = sorted(status.value if hasattr(status, "value") else status for _, status, _ in mails)
        assert statuses == ["filed", "filed", "ignored", "quarantined"]
        blobs = BlobStore(tmp_path / "var" / "blobs")
        for key in [k for _, _, k in mails] + blob_keys:
            blobs.get(key)  # present and intact
        assert folder_counts(dovecot, folder, processed, quarantine) == {folder: 0, processed: 3, quarantine: 1}
        assert MailStatus.PENDING.value not in statuses
