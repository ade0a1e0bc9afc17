"""Persistence: SQLAlchemy models, sessions, the append-only audit log, the content-addressed blob store and Alembic migrations."""
