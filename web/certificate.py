"""The company's signing certificate as the admin sees it on /health and the jobs page: expired, not yet valid,
unreadable, or expiring within 30 days (events are refused once it is outside its validity, events/emit.py).

Only a configured certificate (certificate.pkcs12_path) is read: without one the simulator issues a sandbox
certificate of its own. The file is opened once per version of it (path, size, modification time), so a renewed
PKCS#12 dropped in place shows at once and a page view never decrypts it again.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from cryptography import x509

from dian.calendar import bogota_date
from dian.errors import CertificateError
from dian.trust import common_name, expiry_warning, load_pkcs12, pkcs12_unreadable, validity_problem

WARNING_DAYS = 30
CONFIG_KEY = "certificate.pkcs12_path"


@dataclass(frozen=True)
class CertificateStatus:
    """What the admin is told about the company's certificate; ``message`` is None while all is well."""

    status: str  # "ok" | "expiring" | "expired" | "not_yet_valid" | "unreadable"
    message: str | None = None
    subject: str | None = None
    not_after: datetime | None = None
    days_left: int | None = None

    @property
    def blocking(self) -> bool:
        """True when events cannot be signed with it (outside its validity, or it cannot be opened)."""
        return self.status in {"expired", "not_yet_valid", "unreadable"}

    def to_dict(self) -> dict[str, Any]:
        """The status as /health reports it."""
        return {
            "status": self.status,
            "subject": self.subject,
            "not_after": self.not_after.isoformat() if self.not_after else None,
            "days_left": self.days_left,
            "warning": self.message,
        }


@lru_cache(maxsize=8)
def _certificate(path: str, version: tuple[int, int, int], password: str) -> x509.Certificate | str:
    """The certificate of the PKCS#12 at ``path`` in this ``version`` (inode, size, mtime), or why it cannot be read."""
    try:
        return load_pkcs12(path, password).certificate
    except CertificateError as exc:
        return str(exc)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def company_certificate_status(settings: Any, now: datetime | None = None) -> CertificateStatus | None:
    """The configured company certificate's status at ``now``; None when no certificate is configured."""
    path = settings.certificate.pkcs12_path
    if not path:
        return None
    now = now or datetime.now(UTC)
    try:
        st = os.stat(path)
        loaded = _certificate(path, (st.st_ino, st.st_size, st.st_mtime_ns), settings.certificate.password)
    except OSError as exc:
        loaded = pkcs12_unreadable(path, exc)
    if isinstance(loaded, str):
        return CertificateStatus(
            "unreadable",
            f"No se pudo abrir el certificado de firma de la empresa ({CONFIG_KEY}): {loaded}. "
            "Buzón no puede firmar eventos.",
        )
    end = loaded.not_valid_after_utc
    days_left = (end - now).days
    subject = common_name(loaded.subject)
    problem = validity_problem(loaded, now)
    if problem is not None:
        status = "expired" if now > end else "not_yet_valid"
        message = f"{_sentence(problem)}. Buzón no puede firmar eventos hasta que configure uno vigente ({CONFIG_KEY})."
        return CertificateStatus(status, message, subject, end, days_left)
    warning = expiry_warning(loaded, now, days=WARNING_DAYS)
    if warning is not None:
        message = f"{_sentence(warning)} y configure el nuevo en {CONFIG_KEY}."
        return CertificateStatus("expiring", message, subject, end, days_left)
    return CertificateStatus("ok", None, subject, end, days_left)


def valid_until(status: CertificateStatus) -> str:
    """The certificate's last day (Bogotá) as AAAA-MM-DD, the form its warnings use."""
    return bogota_date(status.not_after).isoformat() if status.not_after else ""
