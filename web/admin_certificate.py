"""The company certificate admin screen: subject, NIT, issuer, validity and the days left, warned 30 days ahead.

The status and its message come from web/certificate.py (the same words as /health and the jobs page); the details
are read here from the same PKCS#12, opened once per version of the file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from flask import Blueprint, render_template

from dian.errors import CertificateError
from dian.trust import certificate_nit, fingerprint, issuer_text, load_pkcs12, nit_matches, subject_text
from web.access import roles
from web.admin import ADMIN, settings
from web.certificate import WARNING_DAYS, company_certificate_status
from web.dian_certificates import readable_name
from web.labels import days_phrase, local_time

bp = Blueprint("admin_certificate", __name__)


@dataclass(frozen=True)
class Details:
    """What the certificate says about itself."""

    subject: str
    issuer: str
    nit: str | None
    nit_matches: bool
    serial: str
    fingerprint: str
    not_before: datetime
    not_after: datetime


@lru_cache(maxsize=8)
def _details(path: str, version: tuple[int, int, int], password: str, company_nit: str) -> Details | None:
    try:
        cert = load_pkcs12(path, password).certificate
    except CertificateError:
        return None
    return Details(
        subject=readable_name(subject_text(cert)),
        issuer=readable_name(issuer_text(cert)),
        nit=certificate_nit(cert),
        nit_matches=nit_matches(cert, company_nit),
        serial=format(cert.serial_number, "X"),
        fingerprint=fingerprint(cert),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
    )


def certificate_details(config: Any) -> Details | None:
    """The configured certificate's details, or None (none configured, or it cannot be opened)."""
    path = config.certificate.pkcs12_path
    if not path:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    version = (st.st_ino, st.st_size, st.st_mtime_ns)
    return _details(path, version, config.certificate.password, config.company.nit_number)


@bp.get("/admin/certificado")
@roles(ADMIN)
def index() -> str:
    """The company's signing certificate: who it names, who issued it, until when, and how many days are left."""
    config = settings()
    now = datetime.now(UTC)
    status = company_certificate_status(config, now)
    details = certificate_details(config) if status is not None and status.status != "unreadable" else None
    days = status.days_left if status is not None else None
    return render_template(
        "admin/certificate.html",
        status=status,
        details=details,
        days=days,
        days_words=days_phrase(days) if days is not None else "",
        warning_days=WARNING_DAYS,
        valid_from=local_time(details.not_before) if details else "",
        valid_to=local_time(details.not_after) if details else "",
        path=config.certificate.pkcs12_path,
        environment=config.dian.environment,
        company_nit=config.company.nit,
    )
