"""The inbox's text search and its pages: what the search box and a supplier's name find (through the indexes, or
checked row by row along the page's order when many), the WHERE of a whole InboxQuery (web/query.py), and the keyset
pages, counts, ids and CSV rows read by the inbox page, its export, the bulk actions and the API.

Every sort orders by (column, id) and pages by a cursor holding the last row's (value, id), so page 5 000 costs what
page 1 costs; migration 0004 adds the (column, id) indexes each sort and the common filters walk.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from itertools import islice
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from dian.calendar import BOGOTA, BusinessCalendar
from dian.codes import DocumentState
from store.models import MailMessage, MailStatus, ReceivedDocument
from store.search import SEPARATOR, fold
from web.deadline import due_cutoff
from web.query import (
    DEFAULT_SORT,
    INVOICE_TYPES,
    SORTS,
    InboxQuery,
    Sort,
    closing_cutoff,
    decode_cursor,
    dian_condition,
    digits,
    encode,
    encode_cursor,
)

MAX_SEARCH_TERMS = 6  # words of the search box, each of which must be found
MIN_CUFE_PREFIX = 8  # hexadecimal characters before a search is also read as the start of a CUFE
D = ReceivedDocument


def _nit(value: str) -> str | None:
    """The NIT in a supplier or search text (dots, spaces and the check digit dropped), or None when it is not one."""
    text = value.replace(".", "").replace(" ", "")
    number, dash, dv = text.partition("-")
    if digits(number) and 5 <= len(number) <= 15 and (not dash or (len(dv) == 1 and digits(dv))):
        return number
    return None


def _like(term: str) -> str:
    """A LIKE pattern's literal text: backslash, % and _ escaped (the queries say ESCAPE '\\')."""
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# The search text as an expression no index is built on: a LIKE on it is read while walking the page's order (the
# sort's index) instead of through the trigram index, for a text that finds many documents (see Found).
_WALKED_TEXT = D.search_text.concat("")


@dataclass(frozen=True)
class _Search:
    """What one search box text asks for: words to find in the search text, a CUFE's start, a NIT."""

    patterns: tuple[str, ...]  # LIKE patterns, every one of which must match
    cufe_prefix: str | None
    nit: str | None

    def indexed(self, dialect: str) -> Any:
        """The condition written for the indexes, to find the documents when they are few.

        PostgreSQL: the branches OR-ed, so each walks its own index and the bitmaps are OR-ed; only the longest word
        goes through the trigram index (a common word's trigrams are long posting lists: "alvarez" in every name cost
        more than the rest of the query), the others are checked on the rows it finds.
        SQLite: ``id IN (… UNION …)`` so each branch walks its own index; the words are matched by a covering scan of
        the narrow search-text index instead of the wide table."""
        branches = []
        if dialect == "postgresql":
            if self.patterns:
                longest = max(self.patterns, key=len)
                others = [_WALKED_TEXT.like(p, escape="\\") for p in self.patterns if p is not longest]
                branches.append(sa.and_(D.search_text.like(longest, escape="\\"), *others))
            branches += self._exact()
            return sa.or_(*branches) if branches else sa.false()
        if self.patterns:
            branches.append(sa.select(D.id).where(*(D.search_text.like(p, escape="\\") for p in self.patterns)))
        if self.cufe_prefix is not None:
            branches.append(sa.select(D.id).where(*self._cufe()))
        if self.nit is not None:
            branches.append(sa.select(D.id).where(D.issuer_nit == self.nit))
        if not branches:
            return sa.false()
        return D.id.in_(branches[0] if len(branches) == 1 else sa.union(*branches))

    def probes(self, dialect: str) -> list[Any]:
        """The conditions to ask one by one, each stopping at PROBE + 1 ids (see find()): on SQLite each branch alone,
        since a UNION or an IN (subquery) reads every match of the words before a LIMIT applies; on PostgreSQL the
        OR-ed branches, whose bitmaps are OR-ed."""
        if dialect == "postgresql":
            return [self.indexed(dialect)]
        out = []
        if self.patterns:
            out.append(sa.and_(*(D.search_text.like(p, escape="\\") for p in self.patterns)))
        return out + self._exact()

    def walked(self) -> Any:
        """The condition written to be checked row by row while the page's order is walked (many documents match,
        so a page is found after a few hundred rows; reading every match through an index and sorting them cost
        more)."""
        branches = []
        if self.patterns:
            branches.append(sa.and_(*(_WALKED_TEXT.like(p, escape="\\") for p in self.patterns)))
        branches += self._exact()
        return sa.or_(*branches) if branches else sa.false()

    def _cufe(self) -> list[Any]:
        # Stored CUFEs are lower-case hexadecimal: every one that starts with the text sorts in [text, text + "g").
        assert self.cufe_prefix is not None
        if len(self.cufe_prefix) == 96:  # a whole CUFE: the unique index's one entry
            return [D.cufe == self.cufe_prefix]
        return [D.cufe >= self.cufe_prefix, D.cufe < self.cufe_prefix + "g"]

    def _exact(self) -> list[Any]:
        out = []
        if self.cufe_prefix is not None:
            out.append(sa.and_(*self._cufe()))
        if self.nit is not None:
            out.append(D.issuer_nit == self.nit)
        return out


def _parse_search(text: str) -> _Search:
    """One box for what people type: every word found in a number, NIT or supplier name (accents and case
    ignored, store/search.py folds both sides), or the start of a CUFE, or a NIT with dots and check digit."""
    folded = fold(text)
    terms = folded.split()[:MAX_SEARCH_TERMS]
    compact = folded.replace(" ", "")
    hexadecimal = MIN_CUFE_PREFIX <= len(compact) <= 96 and re.fullmatch("[0-9a-f]+", compact) is not None
    nit = _nit(text)
    # 20 or more hexadecimal characters are a CUFE's start, and a NIT written with its dots or check digit is a NIT:
    # neither is part of a number or a name, so no text scan (which reads every entry when nothing matches).
    written_as_nit = nit is not None and any(c in text for c in ".-")
    words = terms and not (hexadecimal and len(compact) >= 20) and not written_as_nit
    return _Search(
        patterns=tuple(f"%{_like(t)}%" for t in terms) if words else (),
        cufe_prefix=compact if hexadecimal else None,
        nit=nit,
    )


def _parse_supplier(text: str) -> _Search:
    """A supplier by NIT (with or without dots and check digit) or by part of its name or NIT, accents ignored."""
    nit = _nit(text)
    if nit is not None:
        return _Search((), None, nit)
    # The number comes first in the search text: what follows the first separator is the NIT and the name.
    return _Search((f"%{SEPARATOR}%{_like(fold(text))}%",), None, None)


PROBE = 1000  # a text finding at most this many documents is read through its indexes; more, by walking the order
_FOUND_KEY = "web.search.found"


@dataclass(frozen=True)
class Found:
    """What the search box and the supplier text find, asked once per request (page and counter share it).

    Each is None when the query has no such text, else the ids it finds when there are at most PROBE of them
    (a rare text: the page sorts those few), or ``MANY`` (a common one: the page walks its order and checks each
    row, which finds a page long before it has read PROBE rows)."""

    search: tuple[int, ...] | None = None
    supplier: tuple[int, ...] | None = None
    dialect: str = "postgresql"  # how the indexes read a text that was not asked beforehand, or found many

    @property
    def many(self) -> bool:
        return self.search is MANY or self.supplier is MANY

    @property
    def few(self) -> bool:
        return any(ids is not None and ids is not MANY for ids in (self.search, self.supplier))


MANY: tuple[int, ...] = (-1,)  # a marker: more than PROBE documents (no id is negative)


@contextmanager
def _serial(session: Session) -> Iterator[None]:
    """PostgreSQL without parallel workers for the statements inside (this transaction only, then as it was).

    The planner, which cannot tell how common a word is, expects the search's first look to read the whole narrow
    index and plans two workers; it stops after about PROBE matches instead, and starting the workers cost more than
    the look itself (45-136 ms against 6-7 ms alone for "papeleria alvarez 01" at 200k on two busy cores)."""
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    setting = "max_parallel_workers_per_gather"
    before = session.scalar(sa.select(sa.func.current_setting(setting), sa.func.set_config(setting, "0", True)))
    try:
        yield
    finally:
        session.execute(sa.select(sa.func.set_config(setting, before, True)))


def _probe(session: Session, parsed: _Search, dialect: str) -> tuple[int, ...]:
    """The ids the text finds, or MANY when more than PROBE."""
    ids: set[int] = set()
    with _serial(session):
        for condition in parsed.probes(dialect):
            some = session.scalars(sa.select(D.id).where(condition).limit(PROBE + 1)).all()
            if len(some) > PROBE:
                return MANY
            ids.update(some)
    return MANY if len(ids) > PROBE else tuple(sorted(ids))


def find(session: Session, query: InboxQuery, now: datetime) -> Found:
    """The query's Found, kept in the session for this request (its ``now``) and dropped by any flush."""
    dialect = session.get_bind().dialect.name
    if not query.search and not _supplier_text(query):
        return Found(dialect=dialect)
    key = (query.search, query.supplier, now)
    kept = session.info.get(_FOUND_KEY)
    if kept is not None and kept[0] == key:
        return kept[1]
    found = Found(
        dialect=dialect,
        search=_probe(session, _parse_search(query.search), dialect) if query.search else None,
        supplier=_probe(session, _parse_supplier(query.supplier), dialect) if _supplier_text(query) else None,
    )
    session.info[_FOUND_KEY] = (key, found)
    return found


@sa.event.listens_for(Session, "after_flush")
def _forget_found(session: Session, _context: Any) -> None:
    """A flush may change what a search finds (a test's, or a request's own writes before it lists)."""
    session.info.pop(_FOUND_KEY, None)


def _supplier_text(query: InboxQuery) -> bool:
    """Whether the supplier filter is a name or part of a NIT (read like the search), not a whole NIT."""
    return bool(query.supplier) and _nit(query.supplier) is None


def _text_condition(parsed: _Search, ids: tuple[int, ...] | None, dialect: str) -> Any:
    if ids is None or ids is MANY:  # not asked beforehand (a caller without a session), or many: the indexes decide
        return parsed.indexed(dialect)
    return D.id.in_(ids)


def _walked_texts(query: InboxQuery) -> list[Any]:
    """The search and supplier texts as conditions checked on each row of a walk (see _walk)."""
    where = []
    if _supplier_text(query):
        where.append(_parse_supplier(query.supplier).walked())
    if query.search:
        where.append(_parse_search(query.search).walked())
    return where


def _bogota_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=BOGOTA)


def conditions(
    query: InboxQuery, *, now: datetime, calendar: BusinessCalendar, found: Found | None = None, texts: bool = True
) -> list[Any]:
    """The WHERE clauses of the query's filters and search (``found``: what its texts find, see find(); ``texts``
    False: the search and a supplier's name left out, for a walk that checks them itself)."""
    found = found or Found()
    where: list[Any] = []
    if query.states:
        where.append(D.state.in_(query.states))
    if query.verdicts:
        where.append(D.verdict.in_(query.verdicts))
    if query.supplier and not _supplier_text(query):
        where.append(D.issuer_nit == _nit(query.supplier))
    if query.date_from:
        where.append(D.issued_at >= _bogota_midnight(query.date_from))
    if query.date_to:
        where.append(D.issued_at < _bogota_midnight(query.date_to + timedelta(days=1)))
    if query.amount_min is not None:
        where.append(D.payable_amount >= query.amount_min)
    if query.amount_max is not None:
        where.append(D.payable_amount <= query.amount_max)
    if query.closing_within:
        # Only goods_received documents have a running window (033 or 031 closes it; 034 and 036 come after it): the
        # column that says so is the one "nearest deadline first" walks, so its index serves both.
        where += [
            D.open_window_ends_at >= now,
            D.open_window_ends_at <= closing_cutoff(now, query.closing_within, calendar),
        ]
    if query.due is not None:
        # By the business day the window ends on, as each row says it (web/deadline.py): "Vence hoy" is due=0.
        where += [D.open_window_ends_at >= now, D.open_window_ends_at < due_cutoff(now, query.due, calendar)]
    if query.assigned:
        where.append(D.assigned_to == query.assigned)
    if query.order:
        where.append(D.order_reference == query.order)
    if query.no_order:
        where.append(D.order_reference.is_(None))
        where.append(D.document_type.in_(INVOICE_TYPES))  # a note cites its invoice, not an order
    if query.dian:
        where.append(dian_condition(query.dian))
    if query.quarantined:
        in_quarantine = sa.select(MailMessage.id).where(MailMessage.status == MailStatus.QUARANTINED)
        where.append(sa.or_(D.state == DocumentState.INVALID, D.mail_message_id.in_(in_quarantine)))
    if texts and _supplier_text(query):
        where.append(_text_condition(_parse_supplier(query.supplier), found.supplier, found.dialect))
    if texts and query.search:
        where.append(_text_condition(_parse_search(query.search), found.search, found.dialect))
    return where


# --- Keyset pages ---------------------------------------------------------------------------------------------------


def _after(sort: Sort, value: Any, ident: int) -> Any:
    """Rows that come after (value, id) in this sort's order."""
    if value is None:  # inside the NULLs, which come last: only the ids after
        return sa.and_(sort.column.is_(None), D.id > ident)
    # Bind through the column's own type, so a time is compared in its stored UTC format on every backend.
    key = sa.tuple_(sort.column, D.id)
    bound = sa.tuple_(sa.literal(value, sort.column.type), sa.literal(ident, sa.Integer()))
    after = key < bound if sort.descending else key > bound
    return sa.or_(after, sort.column.is_(None)) if sort.nullable else after


def _order(sort: Sort) -> tuple[Any, Any]:
    if sort.nullable:
        return sort.column.asc().nulls_last(), D.id.asc()
    if sort.descending:
        return sort.column.desc(), D.id.desc()
    return sort.column.asc(), D.id.asc()


def statement(
    query: InboxQuery,
    *,
    now: datetime,
    calendar: BusinessCalendar,
    cursor: str | None = None,
    limit: int | None = None,
    found: Found | None = None,
) -> sa.Select[Any]:
    """SELECT the documents of the query in its order, after the cursor, at most limit of them.

    ``found`` (from find()) says what the search and supplier texts found; without it the indexes decide. When a
    text found a few ids, those are ordered and cut to the page first and only the page's wide rows are read."""
    sort = SORTS[query.sort]
    where = conditions(query, now=now, calendar=calendar, found=found)
    if cursor:
        where.append(_after(sort, *decode_cursor(sort, cursor)))
    order = _order(sort)
    if found is not None and found.few and limit is not None:
        # Sorting up to PROBE full rows (their JSON and all) cost more than the page: sort the ids, then read.
        page_ids = sa.select(D.id).where(*where).order_by(*order).limit(limit)
        return sa.select(D).where(D.id.in_(page_ids)).order_by(*order)
    stmt = sa.select(D).where(*where).order_by(*order)
    return stmt.limit(limit) if limit is not None else stmt


# Rows of the page's order read at a time when a common text is checked row by row: the first batch, then twice as
# many each time up to WALK_BATCH ("cafe", a tenth of the documents, fills a page of 51 within 256 + 512 rows).
FIRST_WALK_BATCH, WALK_BATCH = 256, 4096


def _walk(
    session: Session,
    query: InboxQuery,
    columns: list[Any],
    *,
    now: datetime,
    calendar: BusinessCalendar,
    cursor: str | None,
) -> Iterator[Any]:
    """The query's rows in its order, found by walking the order a batch of rows at a time (through the sort's
    index, with the other filters) and checking the search and supplier texts on each batch.

    For a text that finds more than PROBE documents: "cafe" (a tenth of 200k) fills a page within the first batch,
    where reading its 20 000 matches through the trigram index and sorting them cost 0.2 s, and a planner that
    misjudges how common a word is cannot choose that plan. The caller stops reading when it has enough."""
    sort = SORTS[query.sort]
    order = _order(sort)
    filters = conditions(query, now=now, calendar=calendar, texts=False)
    texts = _walked_texts(query)
    key = decode_cursor(sort, cursor) if cursor else None
    size = min(FIRST_WALK_BATCH, WALK_BATCH)
    while True:
        walked = [*filters, _after(sort, *key)] if key is not None else filters
        batch = sa.select(D.id).where(*walked).order_by(*order).limit(size)
        yield from session.execute(sa.select(*columns).where(D.id.in_(batch), *texts).order_by(*order))
        last = session.execute(
            sa.select(sort.column, D.id).where(*walked).order_by(*order).offset(size - 1).limit(1)
        ).first()
        if last is None:
            return
        key = (last[0], last[1])
        size = min(size * 2, WALK_BATCH)


@dataclass(frozen=True)
class Page:
    documents: list[ReceivedDocument]
    next_cursor: str | None


def page(
    session: Session,
    query: InboxQuery,
    *,
    now: datetime,
    calendar: BusinessCalendar,
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    """One page of the query and the cursor of the next one (None on the last page)."""
    found = find(session, query, now)
    if found.many:
        walk = _walk(session, query, [D], now=now, calendar=calendar, cursor=cursor)
        rows = [row[0] for row in islice(walk, limit + 1)]
    else:
        stmt = statement(query, now=now, calendar=calendar, cursor=cursor, limit=limit + 1, found=found)
        rows = list(session.scalars(stmt))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode_cursor(SORTS[query.sort], rows[-1]) if more and rows else None)


def iterate(
    session: Session,
    query: InboxQuery,
    columns: list[Any],
    *,
    now: datetime,
    calendar: BusinessCalendar,
    batch: int = 1000,
) -> Iterator[Any]:
    """Every row of the query as plain column tuples, fetched a keyset page at a time (the CSV export streams these).

    Plain rows, not ORM objects: nothing piles up in the session however many documents are exported.
    """
    found = find(session, query, now)
    sort = SORTS[query.sort]
    if found.many:
        # Every match is read anyway: one ordered pass through the text's indexes, streamed (walking the order would
        # read every document to export a tenth of them; keyset batches would ask the text's indexes once each).
        where = conditions(query, now=now, calendar=calendar, found=found)
        stmt = sa.select(*columns).where(*where).order_by(*_order(sort))
        yield from session.execute(stmt, execution_options={"yield_per": batch})
        return
    picked = [*columns, sort.column.label("_sort_value"), D.id.label("_sort_id")]
    cursor: str | None = None
    while True:
        stmt = statement(query, now=now, calendar=calendar, cursor=cursor, limit=batch, found=found)
        rows = session.execute(stmt.with_only_columns(*picked)).all()
        yield from rows
        if len(rows) < batch:
            return
        last = rows[-1]
        cursor = encode(sort, last._sort_value, last._sort_id)


def count(session: Session, query: InboxQuery, *, now: datetime, calendar: BusinessCalendar, cap: int) -> int:
    """How many documents the query finds, counting no further than ``cap + 1`` (more than cap: cap + 1).

    A search or supplier text that is the only filter was counted when it was looked up (find()): up to PROBE
    documents exactly, or "more" — no second pass over the index."""
    found = find(session, query, now)
    alone = None
    if query.search and not replace(query, search="", sort=DEFAULT_SORT).filtered:
        alone = found.search
    elif found.supplier is not None and not replace(query, supplier="", sort=DEFAULT_SORT).filtered:
        alone = found.supplier
    if alone is MANY and cap <= PROBE:
        return cap + 1
    if alone is not None and alone is not MANY:
        return min(len(alone), cap + 1)
    matching = sa.select(D.id).where(*conditions(query, now=now, calendar=calendar, found=found))
    return int(session.scalar(sa.select(sa.func.count()).select_from(matching.limit(cap + 1).subquery())) or 0)


def matching_ids(
    session: Session, query: InboxQuery, *, now: datetime, calendar: BusinessCalendar, limit: int
) -> list[int]:
    """The ids of the query's first ``limit`` documents in its order (select-all "every one that matches")."""
    found = find(session, query, now)
    if found.many:
        return [row[0] for row in islice(_walk(session, query, [D.id], now=now, calendar=calendar, cursor=None), limit)]
    stmt = statement(query, now=now, calendar=calendar, limit=limit, found=found).with_only_columns(D.id)
    return list(session.scalars(stmt))
