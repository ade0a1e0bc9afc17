"""The audit log's hash chain: each sealed entry carries its position and a SHA-256 over its fields and the previous
entry's hash, so a changed, removed or reordered entry breaks the chain where it happened.

Writers never wait on the chain. An entry is inserted unsealed (``chain_seq`` and ``chain_hash`` NULL); a *seal*
takes the transaction advisory lock ``audit.chain`` (store/locks.py), reads the head and gives every unsealed entry it
can see the next position and its hash, in id order. Seals run:

* at the commit of a transaction that wrote audit entries, inside that transaction (store/audit.py's
  ``_seal_on_commit``): only when the lock is free right now (``pg_try_advisory_xact_lock``), in a savepoint, for at
  most `HOOK_LIMIT` entries — a writer that finds the lock taken commits its entries unsealed and goes on;
* by the job ``seal_audit`` and before `buzon audit verify` and an export (`seal`, waiting for the lock, all of them).

The database lets an entry's chain columns be set once, from NULL, and nothing else be changed (migration 0014's
triggers). Between insert and seal an entry is protected by those triggers and the roles' privileges only; once
sealed, also by the chain (an owner who drops the triggers and rewrites a sealed entry is found by `verify`).
A chain can be rewritten whole by someone who recomputes every hash after the change: the head kept outside the
database (in an export pack, a printed `buzon audit verify`) is what catches that (``expect`` below).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from store import locks
from store.models import AuditEntry

GENESIS = "0" * 64  # the "previous hash" of position 1
VERSION = 1  # of the canonical form; a column added to audit_entries enters the hash only under a new version
HOOK_LIMIT = 500  # entries one commit seals at most (a backlog is the job's)
BATCH = 2000  # entries per statement round when sealing or verifying
LOCK = locks.key("audit.chain")

_T = AuditEntry.__table__
_FIELDS = (_T.c.id, _T.c.at, _T.c.actor, _T.c.action, _T.c.subject, _T.c.source, _T.c.data)
_HEAD = sa.select(_T.c.chain_seq, _T.c.chain_hash).where(_T.c.chain_seq.is_not(None)).order_by(_T.c.chain_seq.desc())
_H = _T.alias("head")
_HEAD_SEQ = sa.select(sa.func.max(_H.c.chain_seq)).scalar_subquery()
# The unsealed entries, each row with the head beside it (one round trip; the head is read once by the server).
_UNSEALED = (
    sa.select(
        *_FIELDS,
        _HEAD_SEQ.label("head_seq"),
        sa.select(_H.c.chain_hash).where(_H.c.chain_seq == _HEAD_SEQ).scalar_subquery().label("head_hash"),
    )
    .where(_T.c.chain_seq.is_(None))
    .order_by(_T.c.id)
)
_SEAL = (
    sa.update(_T)
    .where(_T.c.id == sa.bindparam("entry_id"), _T.c.chain_seq.is_(None))
    .values(chain_seq=sa.bindparam("seq"), chain_hash=sa.bindparam("hash"))
)
# PostgreSQL: one statement for the whole batch, three arrays instead of a row of parameters per entry.
_SEAL_PG = sa.text(
    "UPDATE audit_entries AS e SET chain_seq = v.seq, chain_hash = v.hash "
    "FROM unnest(CAST(:ids AS bigint[]), CAST(:seqs AS bigint[]), CAST(:hashes AS text[])) AS v(id, seq, hash) "
    "WHERE e.id = v.id AND e.chain_seq IS NULL"
)


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical(position: int, prev: str, entry: Any) -> bytes:
    """The bytes an entry's hash covers: its position, the previous hash and its fields, as sorted compact JSON
    (UTF-8; the time in UTC with microseconds). ``entry`` has the attributes id, at, actor, action, subject, source,
    data (an AuditEntry or a row)."""
    at: datetime = entry.at
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    doc = {
        "v": VERSION,
        "position": position,
        "prev": prev,
        "id": entry.id,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": entry.actor,
        "action": entry.action,
        "subject": entry.subject,
        "source": entry.source,
        "data": entry.data,
    }
    return _CANONICAL.encode(doc).encode()


def link(position: int, prev: str, entry: Any) -> str:
    """The hash of ``entry`` at ``position`` after ``prev`` (hex SHA-256 of `canonical`)."""
    return hashlib.sha256(canonical(position, prev, entry)).hexdigest()


def _connection(bind: Session | sa.Connection) -> sa.Connection:
    return bind.connection() if isinstance(bind, Session) else bind


def chain_head(session: Session | sa.Connection) -> tuple[int, str]:
    """(last sealed position, its hash); (0, GENESIS) while nothing is sealed. Entries not yet sealed are not in it:
    `seal` first where the head must cover everything written so far (an export pack)."""
    row = _connection(session).execute(_HEAD.limit(1)).first()
    return (0, GENESIS) if row is None else (int(row[0]), row[1])


def lock_chain(bind: Session | sa.Connection, *, wait: bool = True) -> bool:
    """Take the chain's transaction lock (held until commit or rollback); without ``wait``, False when another
    transaction holds it. Granted at once on SQLite, whose writer lock is the whole database."""
    conn = _connection(bind)
    if wait:
        locks.lock_for_transaction(conn, [LOCK])
        return True
    return locks.try_lock_for_transaction(conn, LOCK)


def seal_pending(
    bind: Session | sa.Connection, *, wait: bool = True, limit: int | None = None, locked: bool = False
) -> int | None:
    """Seal the unsealed entries this transaction sees, under the chain's lock (``locked``: `lock_chain` was
    called); how many (None when ``wait`` is False and another transaction holds the lock). The caller commits: the
    lock is held until then."""
    conn = _connection(bind)
    if not locked and not lock_chain(conn, wait=wait):
        return None
    head: tuple[int, str] | None = None
    sealed = 0
    while limit is None or sealed < limit:
        take = BATCH if limit is None else min(BATCH, limit - sealed)
        rows = conn.execute(_UNSEALED.limit(take)).all()
        if not rows:
            break
        position, prev = head or (rows[0].head_seq or 0, rows[0].head_hash or GENESIS)
        ids, seqs, hashes = [], [], []
        for row in rows:
            position += 1
            prev = link(position, prev, row)
            ids.append(row.id)
            seqs.append(position)
            hashes.append(prev)
        if conn.dialect.name == "postgresql":
            result = conn.execute(_SEAL_PG, {"ids": ids, "seqs": seqs, "hashes": hashes})
        else:
            params = [{"entry_id": i, "seq": q, "hash": h} for i, q, h in zip(ids, seqs, hashes, strict=True)]
            result = conn.execute(_SEAL, params)
        if result.rowcount not in (-1, len(ids)):  # pragma: no cover - only a seal outside the lock could do it
            raise RuntimeError("audit chain: an entry was sealed by someone else during this seal")
        head = (position, prev)
        sealed += len(rows)
        if len(rows) < take:
            break
    return sealed


def seal(engine: sa.Engine) -> int:
    """Seal every entry committed so far, each batch in a transaction of its own; how many."""
    total = 0
    while True:
        with engine.begin() as conn:
            sealed = seal_pending(conn, limit=BATCH * 5) or 0
        total += sealed
        if sealed < BATCH * 5:
            return total


@dataclass(frozen=True)
class Break:
    """The first place the chain does not hold."""

    position: int
    entry_id: int | None
    problem: str
    kind: str = "moved"  # changed | removed | moved | rewritten (not the head recorded earlier) | truncated


@dataclass(frozen=True)
class Verdict:
    """What `verify` found: ``count`` sealed entries checked up to ``head``; ``broken`` the first bad link."""

    count: int
    head: tuple[int, str]
    unsealed: int
    broken: Break | None = None

    @property
    def ok(self) -> bool:
        return self.broken is None


def _sealed(conn: sa.Connection) -> Iterator[Any]:
    """Every sealed entry in chain order, read in keyset pages."""
    after = 0
    query = sa.select(*_FIELDS, _T.c.chain_seq, _T.c.chain_hash).where(_T.c.chain_seq.is_not(None))
    query = query.order_by(_T.c.chain_seq).limit(BATCH)
    while True:
        rows = conn.execute(query.where(_T.c.chain_seq > after)).all()
        yield from rows
        if len(rows) < BATCH:
            return
        after = rows[-1].chain_seq


def _diagnose(row: Any, position: int, following: Any | None) -> tuple[str, str]:
    """Why ``row``'s hash does not hold at ``position``: its fields changed (the next entry still links to its sealed
    hash), or it is not where it was sealed."""
    if (
        following is not None
        and following.chain_seq == position + 1
        and following.chain_hash == link(position + 1, row.chain_hash, following)
    ):
        return "changed", (
            f"entry {row.id} at position {position} was changed after it was sealed: its fields (at, actor, action, "
            "subject, source, data) no longer give its hash, which the next entry still links to"
        )
    return "moved", (
        f"entry {row.id} at position {position} does not follow position {position - 1}: its hash matches neither "
        "its fields at this place nor the previous link (entries were moved, reordered or sealed again)"
    )


def verify(bind: Session | sa.Connection, *, expect: tuple[int, str] | None = None) -> Verdict:
    """Walk the whole sealed chain and recompute every hash; the first broken link, if any. With ``expect`` (a head
    recorded earlier, in an export pack), also check that this position still carries that hash."""
    conn = _connection(bind)
    position, prev, count = 0, GENESIS, 0
    unsealed = conn.execute(sa.select(sa.func.count()).select_from(_T).where(_T.c.chain_seq.is_(None))).scalar_one()
    rows = _sealed(conn)
    row = next(rows, None)
    while row is not None:
        following = next(rows, None)
        expected = position + 1
        if row.chain_seq != expected:
            problem = (f"position {expected} is missing (the chain goes from {position} to {row.chain_seq}, before "
                       f"entry {row.id}): an entry was removed")  # fmt: skip
            return Verdict(count, (position, prev), unsealed, Break(expected, row.id, problem, "removed"))
        if link(expected, prev, row) != row.chain_hash:
            kind, problem = _diagnose(row, expected, following)
            return Verdict(count, (position, prev), unsealed, Break(expected, row.id, problem, kind))
        position, prev, count = expected, row.chain_hash, count + 1
        if expect is not None and expect[0] == position and expect[1] != prev:
            problem = f"position {position} (entry {row.id}) no longer has the hash recorded earlier ({expect[1]})"
            return Verdict(count, (position, prev), unsealed, Break(position, row.id, problem, "rewritten"))
        row = following
    if expect is not None and expect[0] > position:
        problem = (f"the chain ends at position {position} but position {expect[0]} was recorded earlier: "
                   "entries at its end were removed")  # fmt: skip
        return Verdict(count, (position, prev), unsealed, Break(position + 1, None, problem, "truncated"))
    return Verdict(count, (position, prev), unsealed)
