"""Suppliers' reception addresses as DIAN lists them (GetExchangeEmails), kept in the suppliers table and read again
once a day by the job refresh_supplier_emails; the event notices (events/notify.py) use them when neither a person
nor the supplier's invoice gave an address.

GetExchangeEmails takes no argument and answers DIAN's whole list as one CSV (Nit, RazonSocial, CorreoElectronico,
FechaActualizacion; dian-facts 4.1, 6.2), so one run asks DIAN once at most, and only when some supplier was not
read in the last day: every supplier that issued us a document gets a row first (one INSERT … SELECT from the
monthly totals), then the due ones — never read first, then the longest unread, ``limit`` of them — are set from
that one answer in batches of ``BATCH`` (one UPDATE per batch), [] for a NIT DIAN does not list. An answer that is
not a success changes nothing, so a supplier's last known addresses are kept until DIAN answers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from store.models import Supplier, SupplierTotal

REFRESH_AFTER = timedelta(days=1)
BATCH = 500
LIMIT = 20_000


class ListUnavailable(Exception):
    """DIAN answered GetExchangeEmails without its list (not a success); nothing was changed."""


@dataclass
class RefreshReport:
    added: int = 0  # supplier rows made for issuers that had none
    due: int = 0  # suppliers not read in the last day (at most the run's limit)
    asked_dian: bool = False
    listed: int = 0  # due suppliers DIAN lists an address for
    unlisted: int = 0  # due suppliers DIAN lists none for
    changed: list[str] = field(default_factory=list)  # NITs whose addresses differ from the last reading

    def as_dict(self) -> dict[str, Any]:
        return {"added": self.added, "due": self.due, "asked_dian": self.asked_dian, "listed": self.listed,
                "unlisted": self.unlisted, "changed": len(self.changed), "changed_nits": self.changed[:10]}  # fmt: skip


def _nit(cell: str | None) -> str:
    return (cell or "").split("-")[0].strip().replace(".", "")


def listed_emails(csv_bytes: bytes | None, wanted: Iterable[str]) -> dict[str, list[str]]:
    """The addresses DIAN's CSV lists for the ``wanted`` NITs (a check digit after '-' ignored), each NIT's in the
    CSV's order without repeats; other NITs are not kept (DIAN's list is the whole country's)."""
    keep = set(wanted)
    found: dict[str, list[str]] = {}
    if not csv_bytes:
        return found
    for row in csv.DictReader(io.StringIO(csv_bytes.decode("utf-8-sig"))):
        nit = _nit(row.get("Nit"))
        email = (row.get("CorreoElectronico") or "").strip()
        if nit in keep and "@" in email and email not in found.setdefault(nit, []):
            found[nit].append(email)
    return found


def add_issuers(s: Session, now: datetime) -> int:
    """Give a suppliers row to every NIT that issued us a document and has none (one INSERT … SELECT)."""
    known = sa.select(Supplier.nit)
    issuers = (
        sa.select(SupplierTotal.issuer_nit, sa.func.max(SupplierTotal.issuer_name), sa.false(), sa.false(),
                  sa.literal(now, Supplier.created_at.type), sa.literal(now, Supplier.updated_at.type))
        .where(SupplierTotal.issuer_nit.not_in(known))
        .group_by(SupplierTotal.issuer_nit)
    )  # fmt: skip
    columns = ["nit", "name", "auto_acknowledge", "auto_receipt", "created_at", "updated_at"]
    added = s.connection().execute(sa.insert(Supplier.__table__).from_select(columns, issuers).returning(Supplier.id))
    return len(added.all())


def due(s: Session, now: datetime, limit: int) -> list[tuple[int, str, list[str] | None]]:
    """The suppliers not read in the last day: never read first, then the longest unread (index on read_at)."""
    stmt = (
        sa.select(Supplier.id, Supplier.nit, Supplier.dian_emails)
        .where(sa.or_(Supplier.dian_emails_read_at.is_(None), Supplier.dian_emails_read_at < now - REFRESH_AFTER))
        .order_by(Supplier.dian_emails_read_at.nulls_first(), Supplier.id)
        .limit(limit)
    )
    return [(id_, nit, emails) for id_, nit, emails in s.execute(stmt)]


def refresh_supplier_emails(
    sessions: sessionmaker[Session], client: Any, *, now: datetime, limit: int = LIMIT
) -> RefreshReport:
    """One run of the daily refresh (see the module's docstring). DIAN unreachable raises, changing nothing."""
    report = RefreshReport()
    with sessions() as s:
        report.added = add_issuers(s, now)
        s.commit()
        pending = due(s, now, limit)
    report.due = len(pending)
    if not pending:
        return report
    report.asked_dian = True
    answer = client.get_exchange_emails()
    if not answer.success:
        raise ListUnavailable(f"GetExchangeEmails answered {answer.status_code}: {answer.message}")
    listed = listed_emails(answer.csv, (nit for _, nit, _ in pending))
    for start in range(0, len(pending), BATCH):
        rows = []
        for id_, nit, before in pending[start : start + BATCH]:
            emails = listed.get(nit, [])
            rows.append({"id": id_, "dian_emails": emails, "dian_emails_read_at": now})
            report.listed += bool(emails)
            report.unlisted += not emails
            if before is not None and before != emails:
                report.changed.append(nit)
        with sessions() as s:
            s.execute(sa.update(Supplier), rows)  # one executemany UPDATE by primary key
            s.commit()
    return report


def stored_address(s: Session, nit: str) -> tuple[str, datetime] | None:
    """DIAN's first listed address for the supplier as last read, and when it was read; None when none is stored."""
    row = s.execute(
        sa.select(Supplier.dian_emails, Supplier.dian_emails_read_at).where(Supplier.nit == nit)
    ).first()  # fmt: skip
    if row is None or not row.dian_emails or row.dian_emails_read_at is None:
        return None
    return str(row.dian_emails[0]), row.dian_emails_read_at
