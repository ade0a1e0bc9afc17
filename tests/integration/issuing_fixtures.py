"""A Buzón configured as the SELLER of the DIAN world issuing its own invoices and notes: numbering ranges read from
the simulator's GetNumberingRange, documents sent with SendBillSync over HTTP, on SQLite or a fresh PostgreSQL
database. Faults are injected through the simulator's admin endpoint over HTTP, as an operator would."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from buzon import jobs
from buzon.config import Settings
from dian.calendar import BOGOTA
from issuing.request import IssueRequest, require_request
from store.models import AuditEntry, NumberingRange, OutboundDocument
from tests.integration.dian_fixtures import BUYER_NIT, DianWorld, make_world
from tests.integration.events_fixtures import database
from tests.integration.titles_fixtures import seller_settings

__all__ = ["CUSTOMER", "IssuingBed", "invoice_data", "issuing_bed"]

CUSTOMER = {"id_type": "31", "id": BUYER_NIT, "dv": "0", "name": "EMPRESA COMPRADORA S.A.S.", "tax_scheme": "01",
            "tax_levels": ["O-13"], "email": "fe@compradora.test",
            "address": {"line": "Cl 10 # 5-20", "city_code": "05001", "city": "Medellín", "department": "Antioquia",
                        "department_code": "05"}}  # fmt: skip


def invoice_data(*, price: str = "50000", quantity: str = "2", rate: str = "19", **extra: Any) -> dict[str, Any]:
    """A credit invoice to the world's buyer, due in 30 days."""
    due = (dt.datetime.now(BOGOTA).date() + dt.timedelta(days=30)).isoformat()
    return {"type": "01", "customer": CUSTOMER,
            "lines": [{"description": "Consultoría", "quantity": quantity, "unit_price": price, "code": "C-1",
                       "taxes": [{"scheme": "01", "rate": rate}]}],
            "payment": {"form": "2", "method": "42", "due_date": due}, **extra}  # fmt: skip


@dataclass
class IssuingBed:
    world: DianWorld
    settings: Settings
    runtime: jobs.Runtime
    tmp_path: Path

    @property
    def issuing(self):
        return self.runtime.issuing

    @property
    def sessions(self):
        return self.runtime.sessions

    def request(self, data: dict[str, Any]) -> IssueRequest:
        return require_request(data)

    def issue(self, data: dict[str, Any], **kwargs: Any):
        kwargs.setdefault("actor", "test:erp")
        return self.issuing.issue(require_request(data), **kwargs)

    def fault(self, operation: str, kind: str, count: int = 1) -> None:
        """Inject a fault through the simulator's admin endpoint over HTTP."""
        answer = requests.post(f"{self.world.server.base_url}/_sim/faults",
                               json={"operation": operation, "kind": kind, "count": count}, timeout=10)  # fmt: skip
        assert answer.status_code == 201, answer.text

    def seed(self, data: dict[str, Any]) -> None:
        answer = requests.post(f"{self.world.server.base_url}/_sim/seed", json=data, timeout=10)
        assert answer.status_code == 200, answer.text

    def due_at(self, at: dt.datetime) -> None:
        """Set every queued document's next attempt (see EventsBed.due_at: no race with the one-second backoff)."""
        with self.sessions() as s:
            s.execute(
                sa.update(OutboundDocument)
                .where(OutboundDocument.next_attempt_at.is_not(None))
                .values(next_attempt_at=at)
            )
            s.commit()

    def row(self, document_id: int) -> OutboundDocument:
        with self.sessions() as s:
            row = s.get(OutboundDocument, document_id)
            assert row is not None
            s.expunge(row)
            return row

    def ranges(self) -> list[NumberingRange]:
        with self.sessions() as s:
            rows = list(s.execute(sa.select(NumberingRange).order_by(NumberingRange.id)).scalars())
            s.expunge_all()
            return rows

    def count(self, model: Any) -> int:
        with self.sessions() as s:
            return int(s.execute(sa.select(sa.func.count()).select_from(model)).scalar_one())

    def audit(self, action: str) -> list[AuditEntry]:
        with self.sessions() as s:
            rows = list(s.execute(sa.select(AuditEntry).where(AuditEntry.action == action)).scalars())
            s.expunge_all()
            return rows


@contextlib.contextmanager
def open_bed(kind: str, tmp_path: Path, adjust: Callable[[Settings], Settings] | None = None) -> Iterator[IssuingBed]:
    """Buzón as the seller issuing its own documents, on SQLite or a fresh PostgreSQL database, with the simulator;
    the ranges are already read from DIAN. ``adjust`` changes the settings first (SMTP, our party, the PDF)."""
    from store.db import make_engine, migrate

    world = make_world(tmp_path / "dian-sim")
    with database(kind, tmp_path) as url:
        settings = seller_settings(tmp_path, world, url)
        if adjust is not None:
            settings = adjust(settings)
        engine = make_engine(url)
        migrate(engine)
        runtime = jobs.configure(settings, engine=engine)
        try:
            bed = IssuingBed(world, settings, runtime, tmp_path)
            bed.issuing.sync_ranges(actor="test:admin")
            yield bed
        finally:
            runtime.close()
            engine.dispose()
            world.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def issuing_bed(request, tmp_path: Path) -> Iterator[IssuingBed]:
    """The issuing bed of `open_bed` with the configuration as the tests' seller has it."""
    with open_bed(request.param, tmp_path) as bed:
        yield bed
