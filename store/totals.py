"""The received documents' totals by month, supplier and state (the document_totals table that migration 0009's
triggers keep): read for a run of whole months, so a figure over a period costs a few rows per supplier and month
instead of a scan of every document of the period.

A month here is the first day of a Bogotá calendar month of issued_at; ``first`` and ``last`` are both such days and
both included.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from dian.codes import DocumentState
from store.models import DocumentTotal, Supplier
from store.search import fold

T = DocumentTotal


@dataclass(frozen=True)
class StateTotal:
    state: DocumentState
    documents: int
    cop_amount: Decimal
    other_currency: int  # documents not in COP: counted in ``documents``, left out of ``cop_amount``


@dataclass(frozen=True)
class SupplierTotal:
    nit: str
    name: str  # as on its latest document counted ("" for a supplier known only from the suppliers table)
    documents: int
    cop_amount: Decimal
    other_currency: int
    setting: Supplier | None = None


def _months(first: date, last: date) -> Any:
    return T.month.between(first, last)


def by_state(s: Session, first: date, last: date, *, nit: str | None = None) -> list[StateTotal]:
    """Documents and amounts per state over the months (of one supplier when ``nit`` is given)."""
    stmt = (
        sa.select(T.state, sa.func.sum(T.documents), sa.func.sum(T.cop_amount), sa.func.sum(T.other_currency))
        .where(_months(first, last))
        .group_by(T.state)
        .having(sa.func.sum(T.documents) > 0)
    )
    if nit is not None:
        stmt = stmt.where(T.issuer_nit == nit)
    found = {state: (int(n), Decimal(amount or 0), int(other)) for state, n, amount, other in s.execute(stmt)}
    return [StateTotal(state, *found[state]) for state in DocumentState if state in found]


def _matching(search: str) -> tuple[Any, Any] | None:
    """The conditions on the totals and on the suppliers table for what was typed: a NIT (dots, spaces and the
    check digit allowed) by its first digits, else a part of the name, accents and case folded."""
    if not search:
        return None
    digits = search.replace(".", "").replace(" ", "").partition("-")[0]
    if digits.isascii() and digits.isdigit():
        return T.issuer_nit.startswith(digits, autoescape=True), Supplier.nit.startswith(digits, autoescape=True)
    # supplier_text is "nit␟name" folded, and the separator is never typed: a match is within the NIT or the name.
    return (
        T.supplier_text.contains(fold(search), autoescape=True),
        Supplier.name.icontains(search, autoescape=True),
    )


def by_supplier(
    s: Session, first: date, last: date, *, search: str = "", offset: int = 0, limit: int = 100
) -> tuple[list[SupplierTotal], bool]:
    """Suppliers with documents in the months, the largest amount in pesos first, then those only in the suppliers
    table (configured, nothing in the months); and whether there are more past ``limit``."""
    matching = _matching(search)
    totals = (
        sa.select(
            T.issuer_nit.label("nit"),
            sa.func.max(T.issuer_name).label("name"),
            sa.func.sum(T.documents).label("documents"),
            sa.func.sum(T.cop_amount).label("amount"),
            sa.func.sum(T.other_currency).label("other"),
        )
        .where(_months(first, last), *([matching[0]] if matching else []))
        .group_by(T.issuer_nit)
        .having(sa.func.sum(T.documents) > 0)
        .subquery()
    )
    # The outer join of both sides (documents without a settings row, settings without documents) as a union:
    # SQLite has FULL JOIN only since 3.39.
    settings_only = sa.select(Supplier.nit.label("nit")).where(
        Supplier.nit.not_in(sa.select(totals.c.nit)), *([matching[1]] if matching else [])
    )
    nits = sa.union_all(sa.select(totals.c.nit), settings_only).subquery()
    stmt = (
        sa.select(nits.c.nit, totals.c.name, totals.c.documents, totals.c.amount, totals.c.other, Supplier)
        .select_from(nits)
        .outerjoin(totals, totals.c.nit == nits.c.nit)
        .outerjoin(Supplier, Supplier.nit == nits.c.nit)
        .order_by(sa.func.coalesce(totals.c.amount, 0).desc(), nits.c.nit)
        .offset(offset)
        .limit(limit + 1)
    )
    rows = [
        SupplierTotal(
            nit, name or (setting.name if setting else ""), int(n or 0), Decimal(amount or 0), int(other or 0), setting
        )
        for nit, name, n, amount, other, setting in s.execute(stmt).all()
    ]
    return rows[:limit], len(rows) > limit
