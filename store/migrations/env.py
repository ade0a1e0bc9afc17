"""Alembic environment: the engine is handed in by store.db.migrate(), never read from a file."""

from __future__ import annotations

from alembic import context

from store.models import Base

target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = context.config.attributes["engine"]
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        context.run_migrations()


if context.is_offline_mode():  # pragma: no cover - Buzón always migrates a live database
    raise SystemExit("offline migrations are not supported; run `buzon init`")
run_migrations_online()
