"""Paquete de auditoría: the auditor (or an admin) picks a period and downloads the signed pack of it, streamed as it
is written (store/archive/pack.py), the same pack `buzon archive export` writes; the active legal holds are listed.

The pack is signed with the company certificate the shell hands in (``create_app(company_identity=...)``); without
it the page says the pack cannot be made here. The PDFs of the documents we issued are drawn by issuing/pdf.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from flask import Blueprint, Response, render_template, request, stream_with_context
from flask_login import current_user
from sqlalchemy.orm import Session

from dian.calendar import BOGOTA
from store.archive.pack import PackRequest, stream_pack
from store.archive.retention import RETENTION_YEARS, describe, list_holds
from store.models import LegalHold, Role
from web import tenant
from web.access import roles

bp = Blueprint("archive", __name__)
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)
SCOPES = {"document": "Un documento", "supplier": "Un proveedor", "period": "Un periodo"}


class PeriodError(ValueError):
    """A period the pack cannot cover; the message is Spanish and names the field."""


def _db() -> Session:
    return tenant.db()


def _day(value: str, label: str) -> date:
    value = (value or "").strip()
    if not value:
        raise PeriodError(f"{label}: escriba una fecha.")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise PeriodError(f"{label}: «{value[:40]}» no es una fecha; use AAAA-MM-DD.") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise PeriodError(f"{label}: use una fecha entre {FIRST_DAY:%Y} y {LAST_DAY:%Y}.")
    return day


def asked_period(args: Any) -> tuple[date, date]:
    """The period of the form; PeriodError with a Spanish message when it cannot be one."""
    first, last = _day(args.get("desde", ""), "Desde"), _day(args.get("hasta", ""), "Hasta")
    if first > last:
        raise PeriodError(f"Desde ({first:%d/%m/%Y}) es posterior a Hasta ({last:%d/%m/%Y}).")
    return first, last


def covers(hold: LegalHold) -> str:
    """What a hold covers, in words."""
    if hold.scope == "document":
        return f"el documento con CUFE/CUDE {hold.cufe}"
    if hold.scope == "supplier":
        return f"los documentos del NIT {hold.nit}"
    if hold.period_from and hold.period_to:
        return f"los documentos emitidos del {hold.period_from:%d/%m/%Y} al {hold.period_to:%d/%m/%Y}"
    return describe(hold)["what"]


def _render(error: str | None = None, status: int = 200) -> tuple[str, int]:
    today = datetime.now(UTC).astimezone(BOGOTA).date()
    holds = [{"id": h.id, "scope": SCOPES.get(h.scope, h.scope), "what": covers(h), "reason": h.reason,
              "by": h.held_by, "at": h.held_at.astimezone(BOGOTA).strftime("%d/%m/%Y")}
             for h in list_holds(_db())]  # fmt: skip
    return render_template(
        "archive.html",
        error=error,
        asked=request.args,
        default_from=date(today.year - 1, 1, 1).isoformat(),
        default_to=date(today.year - 1, 12, 31).isoformat(),
        first_day=FIRST_DAY.isoformat(),
        last_day=LAST_DAY.isoformat(),
        available=tenant.service("company_identity") is not None,
        holds=holds,
        years=RETENTION_YEARS,
    ), status


@bp.get("/archivo")
@roles(Role.AUDITOR, Role.ADMIN)
def index() -> Any:
    return _render()


@bp.get("/archivo/paquete")
@roles(Role.AUDITOR, Role.ADMIN)
def download() -> Any:
    identity_of = tenant.service("company_identity")
    if identity_of is None:
        return _render("Esta instalación no tiene el certificado de la empresa a mano: el paquete no se puede firmar "
                       "aquí. Use `buzon archive export` en el servidor.", 503)  # fmt: skip
    try:
        first, last = asked_period(request.args)
    except PeriodError as exc:
        return _render(str(exc), 400)
    settings = tenant.settings()
    pack = PackRequest(first, last, settings.company.nit, settings.company.name, current_user.actor)
    identity = identity_of()

    def render_pdf(xml: bytes, validated_at: datetime | None) -> bytes:
        from issuing.pdf import render_pdf as draw

        return draw(xml, validated_at=validated_at)

    name = f"paquete-auditoria-{first}-{last}.zip"
    return Response(
        stream_with_context(stream_pack(_db(), tenant.blobs(), identity, pack, render_pdf=render_pdf)),
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )

