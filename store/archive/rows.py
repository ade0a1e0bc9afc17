"""What the pack reads: the period's documents CHUNK rows at a time along an index (received: ``(issued_at, id)``;
ours: by id), only the columns the pack writes, and each chunk's events in one query."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from dian.calendar import BOGOTA
from store.models import DocumentEvent, OutboundDocument, ReceivedDocument

CHUNK = 500


def _bounds(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The period's days in Bogotá as UTC instants: [first 00:00, the day after last 00:00)."""
    start = dt.datetime.combine(first, dt.time(), BOGOTA)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), BOGOTA)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


RECEIVED_COLUMNS = (ReceivedDocument.id, ReceivedDocument.cufe, ReceivedDocument.document_type,
                    ReceivedDocument.number, ReceivedDocument.issuer_nit, ReceivedDocument.issuer_name,
                    ReceivedDocument.buyer_nit, ReceivedDocument.buyer_name, ReceivedDocument.issue_date,
                    ReceivedDocument.issued_at, ReceivedDocument.state, ReceivedDocument.signed_xml_blob,
                    ReceivedDocument.attached_blob, ReceivedDocument.dian_response_blob, ReceivedDocument.pdf_blob,
                    ReceivedDocument.report)  # fmt: skip
OUTBOUND_COLUMNS = (OutboundDocument.id, OutboundDocument.cufe, OutboundDocument.document_type,
                    OutboundDocument.prefix, OutboundDocument.number, OutboundDocument.buyer_nit,
                    OutboundDocument.buyer_name, OutboundDocument.issue_date, OutboundDocument.issued_at,
                    OutboundDocument.validated_at, OutboundDocument.state, OutboundDocument.xml_blob,
                    OutboundDocument.dian_response_blob, OutboundDocument.attached_blob, OutboundDocument.pdf_blob,
                    OutboundDocument.report)  # fmt: skip
EVENT_COLUMNS = (DocumentEvent.id, DocumentEvent.document_id, DocumentEvent.outbound_document_id, DocumentEvent.code,
                 DocumentEvent.direction, DocumentEvent.number, DocumentEvent.cude, DocumentEvent.referenced_cufe,
                 DocumentEvent.sender_nit, DocumentEvent.sender_name, DocumentEvent.receiver_nit,
                 DocumentEvent.receiver_name, DocumentEvent.signing_time, DocumentEvent.registered_at,
                 DocumentEvent.submission_state, DocumentEvent.signed_xml_blob,
                 DocumentEvent.dian_response_blob)  # fmt: skip


def received_chunks(session: Session, first: dt.date, last: dt.date) -> Iterator[list[Any]]:
    """The period's received documents, CHUNK at a time, along (issued_at, id)."""
    start, end = _bounds(first, last)
    r = ReceivedDocument
    after: tuple[dt.datetime, int] | None = None
    while True:
        query = sa.select(*RECEIVED_COLUMNS).where(r.issued_at >= start, r.issued_at < end)
        if after is not None:
            # Typed binds: an untyped datetime in a row value would skip the column's own conversion (SQLite's text).
            last = sa.tuple_(sa.literal(after[0], r.issued_at.type), sa.literal(after[1], r.id.type))
            query = query.where(sa.tuple_(r.issued_at, r.id) > last)
        rows = list(session.execute(query.order_by(r.issued_at, r.id).limit(CHUNK)))
        if not rows:
            return
        yield rows
        after = (rows[-1].issued_at, rows[-1].id)


def outbound_chunks(session: Session, first: dt.date, last: dt.date) -> Iterator[list[Any]]:
    """The period's documents we issued (or imported) whose signed XML we keep, CHUNK at a time, by id."""
    start, end = _bounds(first, last)
    o = OutboundDocument
    after = 0
    while True:
        query = sa.select(*OUTBOUND_COLUMNS).where(
            o.issued_at >= start, o.issued_at < end, o.xml_blob.is_not(None), o.id > after
        )
        rows = list(session.execute(query.order_by(o.id).limit(CHUNK)))
        if not rows:
            return
        yield rows
        after = rows[-1].id


def events_of(session: Session, column: Any, ids: list[int]) -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = {}
    query = sa.select(*EVENT_COLUMNS).where(column.in_(ids)).order_by(DocumentEvent.id)
    for row in session.execute(query):
        found.setdefault(getattr(row, column.key), []).append(row)
    return found
