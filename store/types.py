"""Column types shared by the models and the migrations (migrations import them, so keep them stable)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes stored in UTC; naive values are refused so no local time slips in."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} refused: store aware datetimes (UTC)")
        value = value.astimezone(UTC)
        # SQLite has no time-zone type: keep the UTC wall time and re-attach UTC on the way out.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def code_enum(enum_cls: type[Enum], length: int | None = None) -> sa.Enum:
    """An enum column that stores the member's value (the DIAN code "030"), never its name."""
    return sa.Enum(
        enum_cls,
        values_callable=lambda cls: [m.value for m in cls],
        native_enum=False,
        create_constraint=False,
        validate_strings=True,
        length=length or max(len(m.value) for m in enum_cls),
        name=enum_cls.__name__.lower(),
    )


MONEY = sa.Numeric(20, 4)

JSONType: Any = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
