"""The DIAN signing certificates learned from DIAN itself (store.models.DianCertificate): read as pins, learned once.

One call per DIAN certificate rotation, not per document: the first document confirmed online teaches the key,
and every later answer it signs is proven offline (DESIGN.md 5a). Learning is audited.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from dian.proof import LearnedCertificate
from store import audit
from store.models import DianCertificate

_TABLE = DianCertificate.__table__


def _dialect(conn: Any) -> str:
    dialect = getattr(conn, "dialect", None)
    if dialect is None:  # a Session, or intake's stand-in for one
        session = getattr(conn, "session", conn)
        dialect = session.get_bind().dialect
    return str(dialect.name)


def _insert(dialect: str) -> Any:
    return postgresql.insert(_TABLE) if dialect == "postgresql" else sqlite.insert(_TABLE)


def learned_pins(conn: Any) -> frozenset[str]:
    """Every pin (SPKI and certificate SHA-256) of the learned certificates; ``conn`` is a connection or session."""
    rows = conn.execute(sa.select(_TABLE.c.spki_sha256, _TABLE.c.fingerprint_sha256)).all()
    return frozenset(pin for row in rows for pin in row)


def learn(conn: Any, cert: LearnedCertificate, *, at: Any, actor: str) -> bool:
    """Remember ``cert`` (once per SPKI: a certificate learned already is left as it is); True when it is new."""
    known = conn.execute(sa.select(_TABLE.c.id).where(_TABLE.c.spki_sha256 == cert.spki_sha256)).first()
    if known is not None:
        return False
    row = {
        "spki_sha256": cert.spki_sha256,
        "fingerprint_sha256": cert.fingerprint_sha256,
        "subject": cert.subject,
        "issuer": cert.issuer,
        "serial": cert.serial[:80],
        "not_before": cert.not_before,
        "not_after": cert.not_after,
        "pem": cert.pem,
        "learned_at": at,
        "learned_from": cert.learned_from[:96],
        "endpoint": cert.endpoint[:300],
        "environment": cert.environment[:20],
    }
    # A concurrent process may learn the same key between the look-up and the insert: ON CONFLICT DO NOTHING keeps
    # our transaction alive, and the other's row is as good as ours.
    inserted = conn.execute(_insert(_dialect(conn)).values(row).on_conflict_do_nothing(index_elements=["spki_sha256"]))
    if not inserted.rowcount:
        return False
    entry = audit.entry(
        actor=actor,
        action="dian.certificate.learned",
        subject=cert.spki_sha256[:24],
        source="dian",
        data={"subject": cert.subject, "learned_from": cert.learned_from, "endpoint": cert.endpoint,
              "not_after": cert.not_after.isoformat()},
        at=at,
    )  # fmt: skip
    audit.insert_entries(conn, [entry])
    return True
