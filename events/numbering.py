"""Our events' numbers: one consecutive per event code (store.models.Counter ``event:<code>``), handed out inside the
emitting transaction, with a prefix per code (RADIAN's emission shares the counter, radian/emission.py)."""

from __future__ import annotations

import sqlalchemy as sa

from dian.codes import EventCode
from store.models import Counter

# Each event type has its own consecutive; the prefix keeps the numbers distinct at DIAN, which refuses a repeated
# (sender, number) pair whatever the code.
NUMBER_PREFIX = {
    EventCode.ACUSE_RECIBO: "ACU",
    EventCode.RECLAMO: "REC",
    EventCode.RECIBO_BIEN: "RBS",
    EventCode.ACEPTACION_EXPRESA: "ACE",
}
_COUNTERS = Counter.__table__
_ADVANCE: dict[str, sa.Executable] = {}


def advance_counter(conn: sa.Connection, code: EventCode, count: int) -> int:
    """Hand out ``count`` consecutive numbers of this code; the last one. The row stays locked until the commit."""
    statement = _ADVANCE.get(conn.dialect.name)
    if statement is None:
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        upsert = insert(_COUNTERS).values(name=sa.bindparam("name"), value=sa.bindparam("count"))
        statement = _ADVANCE.setdefault(
            conn.dialect.name,
            upsert.on_conflict_do_update(
                index_elements=[_COUNTERS.c.name], set_={"value": _COUNTERS.c.value + sa.bindparam("count")}
            ).returning(_COUNTERS.c.value),
        )
    return int(conn.execute(statement, {"name": f"event:{code.value}", "count": count}).scalar_one())
