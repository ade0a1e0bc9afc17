"""The canonical form an audit entry's hash covers, written out by hand: a change to it would break every chain already
sealed, so it may only change under a new VERSION (store/audit_chain.py)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace

from store.audit_chain import GENESIS, VERSION, canonical, link

ENTRY = SimpleNamespace(
    id=42,
    at=datetime(2026, 3, 2, 10, 0, 0, 5, tzinfo=timezone(timedelta(hours=-5))),  # Bogotá: stored as 15:00 UTC
    actor="user:ana",
    action="document.event.030.sent",
    subject="FE-1063",
    source=None,
    data={"zeta": [1, 2.5, None], "ñandú": "sí", "a": {"b": True}},
)
WRITTEN = (
    '{"action":"document.event.030.sent","actor":"user:ana","at":"2026-03-02T15:00:00.000005+00:00",'
    '"data":{"a":{"b":true},"zeta":[1,2.5,null],"ñandú":"sí"},"id":42,'
    '"position":7,"prev":"' + "0" * 64 + '","source":null,"subject":"FE-1063","v":1}'
)


def test_the_canonical_form_is_sorted_compact_utf8_json_in_utc():
    assert VERSION == 1
    assert canonical(7, GENESIS, ENTRY) == WRITTEN.encode("utf-8")
    assert link(7, GENESIS, ENTRY) == hashlib.sha256(WRITTEN.encode("utf-8")).hexdigest()


def test_every_field_position_and_the_previous_hash_enter_the_hash():
    base = link(7, GENESIS, ENTRY)
    assert link(8, GENESIS, ENTRY) != base
    assert link(7, "1" * 64, ENTRY) != base
    for field, value in (("id", 43), ("at", ENTRY.at + timedelta(microseconds=1)), ("actor", "user:eva"),
                         ("action", "login"), ("subject", None), ("source", "127.0.0.1"), ("data", {})):  # fmt: skip
        changed = SimpleNamespace(**{**vars(ENTRY), field: value})
        assert link(7, GENESIS, changed) != base, field
    same_instant = SimpleNamespace(**{**vars(ENTRY), "at": ENTRY.at.astimezone(UTC)})
    assert link(7, GENESIS, same_instant) == base
