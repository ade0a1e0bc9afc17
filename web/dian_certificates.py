"""The "Certificados DIAN" page (admins and auditors, read-only): which DIAN signing certificates Buzón trusts, and why.

DIAN's answer counts as proof only when its signer chains to a configured anchor or is pinned (DESIGN.md 5a); the pins
come from three places, each listed here: shipped with Buzón (dian/pins.toml), configured
(``dian.pinned_dian_certificates``), and learned from DIAN itself (the ``dian_certificates`` table: the signer of an
answer that GetStatus returned over TLS from DIAN's endpoint, never one that arrived by mail).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, render_template

from store.models import DianCertificate, ReceivedDocument, Role
from web import tenant
from web.access import roles
from web.labels import local_time

log = logging.getLogger(__name__)

bp = Blueprint("dian_certificates", __name__)
SHORT = 16  # hex characters of a SHA-256 shown in the tables (the whole value is in the cell's title)
# Attribute types an RFC 4514 rendering leaves as dotted OIDs, named as a person reads them (dian-facts 3.2).
OID_NAMES = {"2.5.4.5": "serialNumber", "1.3.6.1.4.1.4710.1.3.2": "NIT (OID 1.3.6.1.4.1.4710.1.3.2)"}


def readable_name(text: str) -> str:
    """A distinguished name with ", " between its parts (so it wraps) and the OIDs above named."""
    parts = [p.strip() for p in re.split(r"(?<!\\),", text or "") if p.strip()]
    named = []
    for part in parts:
        kind, sep, value = part.partition("=")
        named.append(f"{OID_NAMES.get(kind, kind)}{sep}{value}")
    return ", ".join(named)


@dataclass(frozen=True)
class Shipped:
    """A shipped pin as the page shows it (dian.proof.ShippedPin, read defensively)."""

    spki_sha256: str
    fingerprint_sha256: str
    subject: str
    issuer: str
    serial: str
    not_before: datetime | None
    not_after: datetime | None
    seen_in: str


def shipped_pins() -> tuple[list[Shipped], str | None]:
    """The DIAN certificates shipped with Buzón, and a Spanish note when they cannot be read."""
    try:
        from dian.proof import shipped_pins as read_pins
    except ImportError:
        return [], "Esta versión de Buzón no trae certificados de la DIAN fijados (falta dian.proof)."
    try:
        pins = read_pins()
    except (OSError, ValueError, TypeError) as exc:  # a damaged pins.toml must not take the page down: say it
        log.exception("the shipped DIAN pins could not be read")
        return [], f"No se pudieron leer los certificados fijados que trae Buzón: {exc}"
    return [
        Shipped(
            spki_sha256=str(getattr(p, "spki_sha256", "") or "").lower(),
            fingerprint_sha256=str(getattr(p, "fingerprint_sha256", "") or "").lower(),
            subject=readable_name(str(getattr(p, "subject", "") or "")),
            issuer=readable_name(str(getattr(p, "issuer", "") or "")),
            serial=str(getattr(p, "serial", "") or ""),
            not_before=getattr(p, "not_before", None),
            not_after=getattr(p, "not_after", None),
            seen_in=str(getattr(p, "seen_in", "") or ""),
        )
        for p in pins
    ], None


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def validity(not_before: datetime | None, not_after: datetime | None, now: datetime) -> dict[str, str]:
    """The validity period in Bogotá time and whether the certificate is in force now (css class and label)."""
    start, end = _aware(not_before), _aware(not_after)
    if end is not None and end < now:
        status, label = "expired", "Vencido"
    elif start is not None and start > now:
        status, label = "future", "Aún no vigente"
    else:
        status, label = "current", "Vigente"
    return {"from": local_time(start) or "—", "to": local_time(end) or "—", "status": status, "label": label}


def normalized(pin: str) -> str:
    """A configured pin as lowercase hex without separators (config.py already checked its shape)."""
    return pin.replace(":", "").replace(" ", "").strip().lower()


def _short(value: str) -> str:
    return f"{value[:SHORT]}…" if len(value) > SHORT else value


def _anchors(settings: Any, now: datetime) -> tuple[list[dict[str, Any]], str, str | None]:
    """The trust store's anchors (CA certificates): subject, validity, short SHA-256; and a note when unreadable."""
    from dian.errors import CertificateError
    from dian.trust import TrustStore, fingerprint, issuer_text, subject_text

    path = settings.trust_store_path
    if not path.is_dir():
        return [], str(path), None
    try:
        store = TrustStore.from_folder(path)
    except (CertificateError, OSError, ValueError) as exc:
        return [], str(path), f"No se pudo leer la carpeta de raíces de confianza: {exc}"
    rows = []
    for cert in store.anchors:
        digest = fingerprint(cert)
        rows.append(
            {
                "subject": readable_name(subject_text(cert)),
                "issuer": readable_name(issuer_text(cert)),
                "fingerprint": digest,
                "short": _short(digest),
                "validity": validity(cert.not_valid_before_utc, cert.not_valid_after_utc, now),
            }
        )
    return rows, str(path), None


@bp.get("/certificados-dian")
@roles(Role.ADMIN, Role.AUDITOR)
def index() -> str:
    """The DIAN signing certificates Buzón trusts: shipped pins, configured pins, learned ones; and the anchors."""
    settings = tenant.settings()
    db = tenant.db()
    now = datetime.now(UTC)

    shipped, shipped_note = shipped_pins()
    learned_rows = list(db.scalars(sa.select(DianCertificate).order_by(DianCertificate.learned_at.desc())))
    cufes = {c.learned_from for c in learned_rows if c.learned_from}
    documents: dict[str, int] = {}
    if cufes:
        rows = db.execute(sa.select(ReceivedDocument.cufe, ReceivedDocument.id).where(ReceivedDocument.cufe.in_(cufes)))
        documents = {cufe: ident for cufe, ident in rows}

    known: dict[str, str] = {}  # pin -> who it is, to name a configured pin that matches one we know
    for pin in shipped:
        known.update({pin.spki_sha256: pin.subject, pin.fingerprint_sha256: pin.subject})
    for cert in learned_rows:
        known.update({cert.spki_sha256.lower(): readable_name(cert.subject),
                      cert.fingerprint_sha256.lower(): readable_name(cert.subject)})  # fmt: skip

    configured = [
        {"pin": normalized(p), "short": _short(normalized(p)), "matches": known.get(normalized(p))}
        for p in getattr(settings.dian, "pinned_dian_certificates", ())
    ]
    learned = [
        {
            "cert": c,
            "subject": readable_name(c.subject),
            "issuer": readable_name(c.issuer),
            "spki_short": _short(c.spki_sha256),
            "validity": validity(c.not_before, c.not_after, now),
            "learned_at": local_time(c.learned_at),
            "document_id": documents.get(c.learned_from),
            "cufe_short": _short(c.learned_from),
        }
        for c in learned_rows
    ]
    anchors, trust_path, anchors_note = _anchors(settings, now)
    return render_template(
        "dian_certificates.html",
        shipped=[
            {"pin": p, "spki_short": _short(p.spki_sha256), "validity": validity(p.not_before, p.not_after, now)}
            for p in shipped
        ],
        shipped_note=shipped_note,
        configured=configured,
        learned=learned,
        anchors=anchors,
        anchors_note=anchors_note,
        trust_path=trust_path,
        online_check=bool(getattr(settings.dian, "online_check", False)),
        environment=settings.dian.environment,
    )
