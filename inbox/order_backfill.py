"""The purchase order of each document filed before migration 0020, which added ``order_reference`` empty: read once
from the document's signed XML (the parser intake uses) when ``buzon init`` upgrades a database across that revision.
A document whose XML cannot be read now keeps NULL, as one that cites no order does; its page reads the XML anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from dian.ubl import parse_document
from store.blobs import BlobStore
from store.models import ReceivedDocument

REVISION = "0020"  # the migration that added the column
BATCH = 500


@dataclass
class Filled:
    read: int = 0  # documents looked at
    found: int = 0  # of them, those that cite an order (now in the column)
    unreadable: int = 0  # whose signed XML is gone or no longer parses


def crosses(before: str | None, after: str | None) -> bool:
    """Whether an upgrade from ``before`` to ``after`` ran migration 0020 on a database that held documents' rows
    (an empty database, ``before`` None, has none)."""
    return before is not None and after is not None and before < REVISION <= after


def fill_order_references(sessions: sessionmaker[Session], blobs: BlobStore, *, batch: int = BATCH) -> Filled:
    """Read the order of every document whose column is NULL, in id order, a batch per transaction."""
    D = ReceivedDocument
    filled, after = Filled(), 0
    while True:
        with sessions() as s:
            rows = s.execute(
                sa.select(D.id, D.signed_xml_blob).where(D.id > after, D.order_reference.is_(None)).order_by(D.id)
                .limit(batch)
            ).all()  # fmt: skip
            if not rows:
                return filled
            found = []
            for doc_id, key in rows:
                after = doc_id
                filled.read += 1
                try:
                    order = getattr(parse_document(blobs.get(key)), "order_reference", None)
                except Exception:  # a blob gone (retention) or XML the parser refuses: left NULL
                    filled.unreadable += 1
                    continue
                if order:
                    found.append({"id": doc_id, "order_reference": order[:100]})
            if found:
                s.execute(sa.update(D), found)
                filled.found += len(found)
            s.commit()
