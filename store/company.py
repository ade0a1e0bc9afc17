"""The company stamp: which company a database belongs to (one row; migration 0019)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from store.models import CompanyStamp


class WrongCompany(Exception):
    """The database is stamped with another company's NIT."""


def stamp(session: Session, nit: str, name: str, *, now: datetime) -> bool:
    """Stamp an unstamped database with this company (True when it did); WrongCompany when another's stamp is there.
    The caller commits."""
    found = session.scalars(sa.select(CompanyStamp)).all()
    if not found:
        session.add(CompanyStamp(nit=nit, name=name[:450], stamped_at=now))
        return True
    check(found, nit)
    return False


def check(found: list[CompanyStamp] | Session, nit: str) -> None:
    """WrongCompany unless the stamp (when there is one) is this NIT's."""
    rows = found.scalars(sa.select(CompanyStamp)).all() if isinstance(found, Session) else found
    others = [row.nit for row in rows if row.nit != nit]
    if others:
        raise WrongCompany(f"the database belongs to the company with NIT {others[0]}, not {nit}")
