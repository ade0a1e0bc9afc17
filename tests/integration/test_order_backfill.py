"""`buzon init` upgrading a database that already holds documents across migration 0020, on SQLite and PostgreSQL:
the purchase order of each document on file is read from its signed XML (a real sample citing "937", one citing
none, one whose XML is gone), and running init again reads nothing more."""

from __future__ import annotations

import contextlib
import os
import subprocess
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from dian.codes import DocumentType, Environment
from store.blobs import BlobStore
from store.db import alembic_config, make_engine
from store.models import ReceivedDocument, Verdict
from tests.conftest import sample_bytes
from tests.integration.cli_runner import BUZON
from tests.integration.inbox_fixtures import OUR_BARE
from tests.services import fresh_postgres_database

pytestmark = pytest.mark.integration

CITES_NONE = "invoice_empolladora_EMH15818_sw900399741.xml"


def _row(n: int, blob: str) -> dict[str, object]:
    return dict(id=n, cufe=f"{n:096x}", document_type=DocumentType.INVOICE, environment=Environment.PRODUCTION,
                number=f"FE{n}", prefix="", issuer_nit="900000001", issuer_name="Proveedor S.A.S.",
                buyer_nit="805007280", buyer_name="Empresa S.A.S.", issue_date=date(2025, 3, 3),
                issued_at=datetime(2025, 3, 3, tzinfo=UTC),
                currency="COP", line_extension_amount=Decimal("100.00"), tax_exclusive_amount=Decimal("100.00"),
                tax_inclusive_amount=Decimal("119.00"), payable_amount=Decimal("119.00"), taxes=[], lines=[],
                line_count=0, signed_xml_blob=blob, verdict=Verdict.VALID, report={}, search_text="",
                created_at=datetime.now(UTC), updated_at=datetime.now(UTC))  # fmt: skip


def _init(config: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k not in {"BUZON_CONFIG", "BUZON_COMPANY", "BUZON_CRASH_AT"}}
    done = subprocess.run([*BUZON, "init", "--config", str(config)], cwd=config.parent, env=env,
                          capture_output=True, text=True, timeout=180)  # fmt: skip
    assert done.returncode == 0 and "Traceback" not in done.stderr, (done.stdout, done.stderr)
    return done.stdout


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_init_reads_the_orders_of_the_documents_on_file(kind: str, tmp_path: Path) -> None:
    from alembic import command

    url = f"sqlite:///{tmp_path / 'at-0019.sqlite3'}"
    with fresh_postgres_database() if kind == "postgresql" else contextlib.nullcontext(url) as url:
        engine = make_engine(url)
        try:
            command.upgrade(alembic_config(engine), "0019")
            blobs = BlobStore(tmp_path / "blobs")
            keys = [blobs.put(sample_bytes(OUR_BARE)), blobs.put(sample_bytes(CITES_NONE)), "f" * 64]
            with engine.begin() as conn:
                for n, key in enumerate(keys, 1):
                    conn.execute(sa.insert(ReceivedDocument.__table__).values(**_row(n, key)))
            config = tmp_path / "buzon.toml"
            company = '[company]\nnit = "805007280-8"\nname = "EMPRESA S.A.S."\n'
            config.write_text(f'data_dir = "{tmp_path}"\n[database]\nurl = "{url}"\n{company}', encoding="utf-8")
            said = _init(config)
            assert "upgraded from 0019" in said, said
            assert "purchase orders read from 3 documents already on file, 1 cite one; 1 whose XML" in said, said
            with engine.connect() as conn:
                orders = dict(conn.execute(sa.select(ReceivedDocument.id, ReceivedDocument.order_reference)).all())
            assert orders == {1: "937", 2: None, 3: None}
            again = _init(config)
            assert "is up to date" in again and "purchase orders" not in again, again
        finally:
            engine.dispose()
