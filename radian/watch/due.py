"""Which titles are due a look: enrolling every received credit invoice that is or may become a title, and
selecting the titles whose next look is due, with the events already on file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from dian.calendar import BOGOTA
from dian.codes import DocumentState, DocumentType, PaymentMeans
from radian.watch.plan import CHUNK, UNPROVEN
from store.models import DocumentEvent, ReceivedDocument, SubmissionState, TitleRole, TitleState, ValueTitle

# Received invoices that are (or may become) titles: accepted expressly or tacitly, a lapsed claim window waiting for
# the supplier's 034, or registered already. A claimed (031) invoice can never become one (A.5).
_ENROLLED_STATES = (DocumentState.ACCEPTED, DocumentState.TACITLY_ACCEPTED, DocumentState.TITLE)


@dataclass(frozen=True)
class Due:
    """One title to ask about: its row, its invoice, and the CUDEs already registered on file for that invoice."""

    title_id: int
    document_id: int
    cufe: str
    known: frozenset[str] = frozenset()
    recheck: bool = False  # an earlier look left an event unproven: settle again whatever DIAN lists


def enrol(s: Session, now: datetime, *, past_due_days: int = 60) -> int:
    """Give every received credit invoice that is or may become a title a value_titles row (role obligor), payee the
    supplier, due to be watched now; the caller commits. Returns how many rows were added."""
    since = now.astimezone(BOGOTA).date() - timedelta(days=past_due_days)
    candidates = s.execute(
        sa.select(ReceivedDocument.id, ReceivedDocument.cufe, ReceivedDocument.number, ReceivedDocument.issuer_nit,
                  ReceivedDocument.issuer_name, ReceivedDocument.buyer_nit, ReceivedDocument.buyer_name,
                  ReceivedDocument.currency, ReceivedDocument.due_date, ReceivedDocument.payable_amount)
        .outerjoin(ValueTitle, ValueTitle.document_id == ReceivedDocument.id)
        .where(
            ValueTitle.id.is_(None),
            ReceivedDocument.document_type == DocumentType.INVOICE,
            ReceivedDocument.payment_means == PaymentMeans.CREDIT,
            sa.or_(
                ReceivedDocument.state.in_(_ENROLLED_STATES),
                sa.and_(ReceivedDocument.state == DocumentState.GOODS_RECEIVED,
                        ReceivedDocument.window_closed_at.is_not(None)),
            ),
            sa.or_(ReceivedDocument.due_date.is_(None), ReceivedDocument.due_date >= since),
        )
    ).all()  # fmt: skip
    rows = [
        {
            "document_id": c.id,
            "role": TitleRole.OBLIGOR,
            "invoice_cufe": c.cufe,
            "invoice_number": c.number[:60],
            "state": TitleState.UNREGISTERED,
            "issuer_nit": c.issuer_nit,
            "issuer_name": c.issuer_name,
            "debtor_nit": c.buyer_nit,
            "debtor_name": c.buyer_name,
            "holder_nit": c.issuer_nit,
            "holder_name": c.issuer_name,
            "holders": [{"nit": c.issuer_nit, "name": c.issuer_name, "amount": None}],
            "payee_nit": c.issuer_nit,
            "payee_name": c.issuer_name,
            "currency": c.currency,
            "due_date": c.due_date,
            "value": c.payable_amount,
            "paid": Decimal(0),
            "outstanding": c.payable_amount,
            "limited": False,
            "chain_length": 0,
            "chain_etag": "",
            "chain_version": 0,
            "watch_failures": 0,
            "next_watch_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for c in candidates
    ]
    for start in range(0, len(rows), CHUNK):
        s.execute(sa.insert(ValueTitle), rows[start : start + CHUNK])
    return len(rows)


def _known(s: Session, document_ids: Sequence[int]) -> dict[int, set[str]]:
    known: dict[int, set[str]] = {}
    for start in range(0, len(document_ids), CHUNK):
        chunk = document_ids[start : start + CHUNK]
        for document_id, cude in s.execute(
            sa.select(DocumentEvent.document_id, DocumentEvent.cude).where(
                DocumentEvent.document_id.in_(chunk),
                DocumentEvent.submission_state == SubmissionState.REGISTERED,
                DocumentEvent.cude.is_not(None),
            )
        ):
            known.setdefault(document_id, set()).add(cude.lower())
    return known


def due_titles(s: Session, now: datetime, *, past_due_days: int = 60, limit: int = 2000) -> list[Due]:
    """The obligor titles whose next look is due, unpaid and not long past due, soonest first, with what is on file."""
    since = now.astimezone(BOGOTA).date() - timedelta(days=past_due_days)
    rows = s.execute(
        sa.select(ValueTitle.id, ValueTitle.document_id, ValueTitle.invoice_cufe, ValueTitle.watch_status)
        .where(
            ValueTitle.role == TitleRole.OBLIGOR,
            ValueTitle.next_watch_at <= now,
            ValueTitle.document_id.is_not(None),
            ValueTitle.state != TitleState.PAID,
            sa.or_(ValueTitle.due_date.is_(None), ValueTitle.due_date >= since),
        )
        .order_by(ValueTitle.next_watch_at, ValueTitle.id)
        .limit(limit)
    ).all()
    known = _known(s, [row.document_id for row in rows])
    return [
        Due(
            row.id,
            row.document_id,
            row.invoice_cufe,
            frozenset(known.get(row.document_id, ())),
            row.watch_status == UNPROVEN,
        )
        for row in rows
    ]
