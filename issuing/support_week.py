"""The weekly documento soporte (generation mode 2, "acumulado semanal", radian-issuing-facts C.3): AP registers each
purchase from a seller not obliged to invoice as a line during the week (``register``, kept in support_purchases);
``accumulate`` gathers one seller's open purchases of one ISO week into one DS whose lines are mode 2 starting on the
week's Monday, issues it through the SupportService and marks the purchases gathered.

A crash between the DS and the marking loses nothing: the DS is issued under the idempotency key
``week:<seller>:<week>`` with a body made only of the gathered rows, so running it again returns the same DS (never a
second one) and then marks them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from issuing.problems import PayloadError, Problem
from issuing.service import Issued
from issuing.support_request import read_support_request
from issuing.support_service import SupportService
from store.audit import record
from store.models import SupportPurchase

__all__ = ["WeekError", "accumulate", "open_purchases", "register", "week_bounds"]

_WEEK = re.compile(r"^([0-9]{4})-W([0-9]{2})$")
CLIENT_KEY = "support-week"


class WeekError(ValueError):
    """A week that is not ``YYYY-Www``, or nothing to gather: the sentence says which (Spanish)."""


def week_bounds(week: str) -> tuple[dt.date, dt.date]:
    """Monday and Sunday of an ISO week ``2026-W48``."""
    match = _WEEK.match(week.strip())
    if match is None:
        raise WeekError(f"la semana se escribe AAAA-Www (p. ej. 2026-W48), llegó {week!r}")
    try:
        monday = dt.date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise WeekError(f"la semana {week} no existe") from None
    return monday, monday + dt.timedelta(days=6)


def week_of(day: dt.date) -> str:
    year, number, _ = day.isocalendar()
    return f"{year}-W{number:02d}"


@dataclass(frozen=True)
class Registered:
    id: int
    seller_id: str
    purchased_on: dt.date
    week: str


def register(support: SupportService, seller: Mapping[str, Any], line: Mapping[str, Any], purchased_on: dt.date, *,
             actor: str) -> Registered:  # fmt: skip
    """Keep one purchase for the seller's weekly DS; PayloadError (pointers into ``seller`` and ``line``) when the DS
    it will become could not be issued."""
    monday, _ = week_bounds(week_of(purchased_on))
    probe = {"kind": "support_document", "seller": dict(seller),
             "lines": [{**line, "generation": {"mode": "2", "start": monday.isoformat()}}]}  # fmt: skip
    request, problems = read_support_request(probe)
    if request is None:
        raise PayloadError([Problem(p.pointer.replace("/lines/0", "/line", 1), p.message) for p in problems])
    if "generation" in line:
        raise PayloadError([Problem("/line/generation", "la compra de la semana toma el modo 2 por sí misma")])
    service = support.issuing
    with service.sessions() as s:
        row = SupportPurchase(seller_id=request.payload.customer.id, seller=dict(seller), line=dict(line),
                              purchased_on=purchased_on, actor=actor)  # fmt: skip
        s.add(row)
        s.flush()
        record(s, actor=actor, action="support.purchase_registered", subject=row.seller_id,
               data={"id": row.id, "purchased_on": purchased_on.isoformat()}, at=service.clock())  # fmt: skip
        s.commit()
        return Registered(row.id, row.seller_id, purchased_on, week_of(purchased_on))


def open_purchases(support: SupportService, seller_id: str, week: str) -> list[SupportPurchase]:
    """The seller's purchases of ``week`` no DS gathered yet, in the order they were registered (detached)."""
    monday, sunday = week_bounds(week)
    with support.issuing.sessions() as s:
        rows = list(s.execute(
            sa.select(SupportPurchase).where(
                SupportPurchase.seller_id == seller_id, SupportPurchase.purchased_on.between(monday, sunday),
                SupportPurchase.support_document_id.is_(None),
            ).order_by(SupportPurchase.id)
        ).scalars())  # fmt: skip
        s.expunge_all()
        return rows


def accumulate(support: SupportService, seller_id: str, week: str, *, actor: str, deliver: bool = True,
               client: Any = None) -> Issued:  # fmt: skip
    """Issue the seller's weekly DS (mode 2 from the week's Monday) of its open purchases of ``week`` and mark them
    gathered; WeekError when there is none; PayloadError as for any DS."""
    monday, _ = week_bounds(week)
    rows = open_purchases(support, seller_id, week)
    if not rows:
        raise WeekError(f"no hay compras abiertas del vendedor {seller_id} en la semana {week}")
    data = {"kind": "support_document", "seller": rows[-1].seller,
            "lines": [{**row.line, "generation": {"mode": "2", "start": monday.isoformat()}} for row in rows],
            "notes": [f"Acumulado semanal {week}: {len(rows)} compras"]}  # fmt: skip
    request, problems = read_support_request(data)
    if request is None:
        raise PayloadError(problems)
    key = f"week:{seller_id}:{week}:{rows[0].id}"
    done = support.issue(request, actor=actor, idempotency_key=key, client_key=CLIENT_KEY, deliver=deliver,
                         client=client)  # fmt: skip
    ids = [row.id for row in rows]
    with support.issuing.sessions() as s:
        s.execute(sa.update(SupportPurchase).where(SupportPurchase.id.in_(ids),
                                                   SupportPurchase.support_document_id.is_(None))
                  .values(support_document_id=done.id))  # fmt: skip
        record(s, actor=actor, action="support.week_gathered", subject=done.uuid,
               data={"id": done.id, "number": done.number, "seller": seller_id, "week": week, "purchases": ids},
               at=support.issuing.clock())  # fmt: skip
        s.commit()
    return done
