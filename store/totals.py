"""The received documents' monthly totals that migration 0009's triggers keep — by month, supplier and state
(document_totals) and by month and supplier (supplier_totals) — read for a run of whole months, so a figure over a
period costs a few rows per state or supplier and month instead of a scan of every document of the period.

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
from store.models import DocumentTotal, Supplier, SupplierTotal
from store.search import fold

T = DocumentTotal
S = SupplierTotal


@dataclass(frozen=True)
class StateFigures:
    state: DocumentState
    documents: int
    cop_amount: Decimal
    other_currency: int  # documents not in COP: counted in ``documents``, left out of ``cop_amount``


@dataclass(frozen=True)
class SupplierFigures:
    nit: str
    name: str  # as on its latest document counted ("" for a supplier known only from the suppliers table)
    documents: int
    cop_amount: Decimal
    other_currency: int
    setting: Supplier | None = None


def by_state(s: Session, first: date, last: date, *, nit: str | None = None) -> list[StateFigures]:
    """Documents and amounts per state over the months (of one supplier when ``nit`` is given). Grouped by month and
    state, the order of the covering index ix_document_totals_month_state, and folded here: no sort in the database."""
    stmt = sa.select(T.state, sa.func.sum(T.documents), sa.func.sum(T.cop_amount), sa.func.sum(T.other_currency))
    if nit is None:
        stmt = stmt.where(T.month.between(first, last)).group_by(T.month, T.state)
    else:
        stmt = stmt.where(T.issuer_nit == nit, T.month.between(first, last)).group_by(T.state)
    found: dict[DocumentState, list[Any]] = {}
    for state, n, amount, other in s.execute(stmt):
        entry = found.setdefault(state, [0, Decimal(0), 0])
        entry[0] += int(n or 0)
        entry[1] += Decimal(amount or 0)
        entry[2] += int(other or 0)
    return [StateFigures(state, *found[state]) for state in DocumentState if state in found and found[state][0] > 0]


def _matching(search: str) -> tuple[Any, Any] | None:
    """The conditions on the totals and on the suppliers table for what was typed: a NIT (dots, spaces and the
    check digit allowed) by its first digits, else a part of the name, accents and case folded."""
    if not search:
        return None
    digits = search.replace(".", "").replace(" ", "").partition("-")[0]
    if digits.isascii() and digits.isdigit():
        return S.issuer_nit.startswith(digits, autoescape=True), Supplier.nit.startswith(digits, autoescape=True)
    # supplier_text is "nit␟name" folded, and the separator is never typed: a match is within the NIT or the name.
    return S.supplier_text.contains(fold(search), autoescape=True), Supplier.name.icontains(search, autoescape=True)


# A suppliers row is listed for a period without its documents when someone configured it, or when it never issued
# us a document; the rows the job refresh_supplier_emails makes for every issuer (events/supplier_emails.py), to keep
# DIAN's addresses, are not (the issuer_nit index of document_totals answers the EXISTS).
_listed_without_documents = sa.or_(
    Supplier.reception_email.is_not(None),
    Supplier.auto_acknowledge,
    Supplier.auto_receipt,
    ~sa.exists().where(T.issuer_nit == Supplier.nit),
)


def by_supplier(
    s: Session, first: date, last: date, *, search: str = "", offset: int = 0, limit: int = 100
) -> tuple[list[SupplierFigures], bool]:
    """Suppliers with documents in the months, the largest amount in pesos first, then those only in the suppliers
    table (configured, nothing in the months); and whether there are more past ``limit``."""
    matching = _matching(search)
    amount = sa.func.sum(S.cop_amount)
    grouped = (
        sa.select(S.issuer_nit)
        .where(S.month.between(first, last), *([matching[0]] if matching else []))
        .group_by(S.issuer_nit)
        .having(sa.func.sum(S.documents) > 0)
    )
    found = s.execute(
        grouped.with_only_columns(S.issuer_nit, sa.func.max(S.issuer_name), sa.func.sum(S.documents), amount,
                                  sa.func.sum(S.other_currency))
        .order_by(amount.desc(), S.issuer_nit)
        .offset(offset)
        .limit(limit + 1)
    ).all()  # fmt: skip
    page = [SupplierFigures(nit, name or "", int(n), Decimal(a or 0), int(o or 0)) for nit, name, n, a, o in found]
    if len(page) <= limit:  # the list of those with documents ends on this page: the configured ones follow
        before = offset + len(page) if page or not offset else s.scalar(sa.select(sa.func.count()).select_from(
            grouped.subquery()))  # fmt: skip
        with_documents = (
            sa.select(S.issuer_nit).where(S.month.between(first, last)).group_by(S.issuer_nit)
            .having(sa.func.sum(S.documents) > 0)
        )  # fmt: skip
        settings_only = s.scalars(
            sa.select(Supplier)
            .where(Supplier.nit.not_in(with_documents), *([matching[1]] if matching else []), _listed_without_documents)
            .order_by(Supplier.nit)
            .offset(max(0, offset - before))
            .limit(limit + 1 - len(page))
        )
        page += [SupplierFigures(x.nit, x.name, 0, Decimal(0), 0, x) for x in settings_only]
    settings = {x.nit: x for x in s.scalars(sa.select(Supplier).where(Supplier.nit.in_([r.nit for r in page])))}
    page = [
        SupplierFigures(r.nit, r.name or (settings[r.nit].name if r.nit in settings else ""), r.documents,
                        r.cop_amount, r.other_currency, settings.get(r.nit))
        for r in page
    ]  # fmt: skip
    return page[:limit], len(page) > limit
