"""`buzon init` upgrading a database that already holds documents across migration 0020, on SQLite and PostgreSQL:
the purchase order of each document on file is read from its signed XML (a real sample citing "937", one citing
none, one whose XML is gone), and running init again reads nothing more."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from dian.codes import DocumentType, Environment
from store.blobs import BlobStore
from store.models import ReceivedDocument, Verdict
from tests.conftest import sample_bytes
from tests.integration.inbox_fixtures import OUR_BARE
from tests.integration.upgrade_bed import database_at, init

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


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_init_reads_the_orders_of_the_documents_on_file(kind: str, tmp_path: Path) -> None:
    with database_at(kind, tmp_path, "0019") as (engine, config):
        blobs = BlobStore(tmp_path / "blobs")
        keys = [blobs.put(sample_bytes(OUR_BARE)), blobs.put(sample_bytes(CITES_NONE)), "f" * 64]
        with engine.begin() as conn:
            for n, key in enumerate(keys, 1):
                conn.execute(sa.insert(ReceivedDocument.__table__).values(**_row(n, key)))
        said = init(config)
        assert "upgraded from 0019" in said, said
        assert "purchase orders read from 3 documents already on file, 1 cite one; 1 whose XML" in said, said
        with engine.connect() as conn:
            orders = dict(conn.execute(sa.select(ReceivedDocument.id, ReceivedDocument.order_reference)).all())
        assert orders == {1: "937", 2: None, 3: None}
        again = init(config)
        assert "is up to date" in again and "purchase orders" not in again, again
