"""A backend-neutral picture of a database schema, to compare SQLite with PostgreSQL."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


def _type_name(t: Any) -> str:
    try:
        generic = t.as_generic()
    except NotImplementedError:
        generic = t
    name = type(generic).__name__
    if name == "JSONB":
        name = "JSON"
    length = getattr(generic, "length", None)
    precision = getattr(generic, "precision", None)
    scale = getattr(generic, "scale", None)
    if isinstance(generic, sa.Numeric) and not isinstance(generic, sa.Float):
        return f"Numeric({precision},{scale})"
    return f"{name}({length})" if length else name


def snapshot(engine: sa.Engine) -> dict[str, Any]:
    """Tables, columns (name, type, nullable), indexes, unique constraints and foreign keys."""
    insp = sa.inspect(engine)
    out: dict[str, Any] = {}
    for table in sorted(insp.get_table_names()):
        if table in {"alembic_version", "apscheduler_jobs"}:
            continue
        out[table] = {
            "columns": sorted((c["name"], _type_name(c["type"]), c["nullable"]) for c in insp.get_columns(table)),
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                for i in insp.get_indexes(table)
                # PostgreSQL also reports each unique constraint as an index; count it once, as a constraint.
                if not i.get("duplicates_constraint")
            ),
            "unique": sorted((u["name"], tuple(u["column_names"])) for u in insp.get_unique_constraints(table)),
            "foreign_keys": sorted(
                (f["name"], tuple(f["constrained_columns"]), f["referred_table"]) for f in insp.get_foreign_keys(table)
            ),
            "primary_key": tuple(insp.get_pk_constraint(table)["constrained_columns"]),
        }
    return out
