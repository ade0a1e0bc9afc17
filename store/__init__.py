"""Persistence: SQLAlchemy models, sessions, the append-only audit log, the blob store and migrations."""
