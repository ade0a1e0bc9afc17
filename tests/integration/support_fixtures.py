"""Buzón as an obliged BUYER issuing documentos soporte (05) and adjustment notes (95) to the simulator over HTTP:
the issuing bed (SQLite or PostgreSQL) plus the DS's own DIAN range (prefix DS, seeded at the simulator, read with
GetNumberingRange and marked with `ranges kind DS support_document`, radian-issuing-facts C.5)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from dian.calendar import BOGOTA
from issuing.ranges import RangeKind
from issuing.support_request import require_support_request
from issuing.support_service import SupportService
from tests.integration.dian_fixtures import SELLER_NIT, SELLER_SW
from tests.integration.issuing_fixtures import IssuingBed, issuing_bed  # noqa: F401 - the fixture this one extends

__all__ = ["DS_RANGE", "FARMER", "SAAS", "adjustment_data", "support_bed", "support_data"]

DS_RANGE = {"nit": SELLER_NIT, "software_id": SELLER_SW.software_id, "resolution": "18764000001234",
            "resolution_date": "2026-01-01", "prefix": "DS", "from": 1, "to": 1000, "valid_from": "2026-01-01",
            "valid_to": "2028-12-31", "technical_key": "7c1f9c1d2e3a4b5c6d7e8f90a1b2c3d4e5f60718",
            "kind": "support_document"}  # fmt: skip
FARMER = {"id_type": "13", "id": "79123456", "name": "Pedro Campesino Rojas", "organization": "2",
          "email": "pedro@vereda.test",
          "address": {"line": "Vereda El Rosal, finca La Esperanza", "city_code": "25754", "city": "Soacha",
                      "department": "Cundinamarca"}}  # fmt: skip
SAAS = {"id_type": "50", "id": "US-98-7654321", "name": "Cloud Tools Inc.", "organization": "1", "resident": False,
        "address": {"line": "1 Market St, San Francisco CA", "country": "US"}}  # fmt: skip


def today() -> dt.date:
    return dt.datetime.now(BOGOTA).date()


def support_data(seller: dict[str, Any] = FARMER, **extra: Any) -> dict[str, Any]:
    """A resident farmer's sale, one operation: 10 bultos of potatoes, IVA excluded (0 %), ReteRenta 1.5 %."""
    return {"kind": "support_document", "seller": seller,
            "lines": [{"description": "Papa pastusa, bulto de 50 kg", "quantity": "10", "unit_price": "85000",
                       "taxes": [{"scheme": "01", "rate": "0"}], "withholdings": [{"scheme": "06", "rate": "1.5"}],
                       "generation": {"mode": "1", "start": today().isoformat()}}],
            "payment": {"form": "1", "method": "10"}, **extra}  # fmt: skip


def adjustment_data(ds: Any, concept: str = "2", seller: dict[str, Any] = FARMER, **extra: Any) -> dict[str, Any]:
    """A 95 on ``ds`` (an Issued): by default concept 2, the whole DS annulled."""
    return {"kind": "support_adjustment", "seller": seller, "concept": concept,
            "reference": {"number": ds.number, "uuid": ds.uuid, "issue_date": today().isoformat()},
            "lines": [{"description": "Anulación del documento soporte", "quantity": "10", "unit_price": "85000",
                       "taxes": [{"scheme": "01", "rate": "0"}]}], **extra}  # fmt: skip


@pytest.fixture
def support_bed(issuing_bed: IssuingBed) -> IssuingBed:  # noqa: F811
    """The issuing bed with the DS range read from DIAN and marked; ``bed.support`` is the SupportService."""
    issuing_bed.seed({"numbering": [DS_RANGE]})
    issuing_bed.issuing.sync_ranges(actor="test:admin")
    issuing_bed.issuing.set_kind("DS", RangeKind.SUPPORT_DOCUMENT, actor="test:admin")
    issuing_bed.support = SupportService(issuing_bed.issuing)  # type: ignore[attr-defined]
    return issuing_bed


def issue_support(bed: IssuingBed, data: dict[str, Any], **kwargs: Any):
    kwargs.setdefault("actor", "test:ap")
    return bed.support.issue(require_support_request(data), **kwargs)  # type: ignore[attr-defined]
