"""Quarantined mail, per message: download the raw message, re-process it, or dismiss it (both audited).

The list itself is `inbox.quarantine`; these are the actions on one message. Re-processing runs the same intake the
poller runs (inbox.intake.Intake.process), through a factory the shell hands to create_app (``intake=``), so a
message quarantined for a fixable reason (the trust store, our NIT, a DIAN check that was down) can be filed.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from pathlib import PurePath
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_login import current_user

from inbox.unpack import is_mail
from store import audit
from store.blobs import BlobError
from store.models import MailMessage, MailStatus, ReceivedDocument, Role
from web import tenant
from web.access import roles
from web.labels import QUARANTINE_LABELS

log = logging.getLogger(__name__)

bp = Blueprint("quarantine", __name__)

READERS = (Role.CLERK, Role.TREASURY, Role.ADMIN, Role.AUDITOR)
NOTE_MAX = 300
UNAVAILABLE = "El reprocesamiento no está disponible en esta instalación."
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")  # what a Content-Disposition file name may carry unquoted
_FILE_TYPES = {".xml": "application/xml", ".zip": "application/zip", ".pdf": "application/pdf"}  # what uploads take


def _db() -> Any:
    return tenant.db()


def _mail(mail_id: int) -> MailMessage:
    mail = _db().get(MailMessage, mail_id)
    if mail is None:
        abort(404)
    return mail


def _back() -> Any:
    return redirect(url_for("inbox.quarantine"))


@bp.get("/correos/<int:mail_id>/original")
@roles(*READERS)
def raw(mail_id: int) -> Response:
    """The message exactly as received (RFC 5322), to open in a mail program; a file uploaded or imported as it is
    (an XML, a zip) under its own name and type."""
    mail = _mail(mail_id)
    try:
        data = tenant.blobs().get(mail.blob_key)
    except (BlobError, OSError):
        log.exception("mail %s: raw message blob %s is missing", mail.id, mail.blob_key)
        abort(404)
    name, mimetype = f"correo-{mail.id}.eml", "message/rfc822"
    if mail.is_file and not is_mail(data, mail.subject):
        name = _SAFE_NAME.sub("_", mail.subject).strip("._")[:120] or f"archivo-{mail.id}"
        mimetype = _FILE_TYPES.get(PurePath(name).suffix.lower(), "application/octet-stream")
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _settle_check(mail_id: int) -> MailMessage:
    """The message, which must still be in quarantine (another clerk may have acted first)."""
    mail = _mail(mail_id)
    if mail.status is not MailStatus.QUARANTINED:
        flash(f"El correo {mail.id} ya no está en cuarentena.", "info")
        abort(_back())
    return mail


def _leave_quarantine(db: Any, mail: MailMessage, **values: Any) -> bool:
    """Move the message out of quarantine, guarded on its status so that two clerks cannot both act on it; False
    (rolled back, and said) when another clerk or process moved it first."""
    changed = db.execute(
        sa.update(MailMessage)
        .where(MailMessage.id == mail.id, MailMessage.status == MailStatus.QUARANTINED)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        db.rollback()
        flash(f"El correo {mail.id} ya no está en cuarentena.", "info")
    return changed == 1


@bp.post("/cuarentena/<int:mail_id>/reprocesar")
@roles(Role.CLERK)
def reprocess(mail_id: int) -> Any:
    """Run intake again on the stored message: it is filed, or stays in quarantine with the new reason."""
    make_intake = tenant.service("intake")
    if make_intake is None:
        flash(UNAVAILABLE, "error")
        return _back()
    db = _db()
    mail = _settle_check(mail_id)
    actor = current_user.actor
    before = {"reason": mail.reason.value if mail.reason else None, "detail": mail.reason_detail}
    # Back to pending, guarded on the status so two clerks cannot both reprocess; intake then takes it like new mail.
    if not _leave_quarantine(db, mail, status=MailStatus.PENDING, reason=None, reason_detail=None,
                             updated_at=datetime.now(UTC)):  # fmt: skip
        return _back()
    audit.record(db, actor=actor, action="mail.reprocess", subject=f"mail:{mail.id}", source=request.remote_addr,
                 data={"before": before, "subject": mail.subject})  # fmt: skip
    db.commit()
    try:
        result = make_intake(actor).process(mail.id)
    except Exception:  # the message stays pending; the poller's next run takes it again
        log.exception("re-processing mail %s", mail.id)
        flash(f"El correo {mail.id} no se pudo reprocesar ahora; quedó pendiente y el próximo ciclo lo "
              "procesará.", "error")  # fmt: skip
        return _back()
    db.expire_all()
    _say(result)
    return _back()


def _say(result: Any) -> None:
    status = MailStatus(result.status)
    if status is MailStatus.FILED:
        db = _db()
        filed = db.scalars(sa.select(ReceivedDocument).where(ReceivedDocument.cufe.in_(result.filed or []))).all()
        numbers = ", ".join(f"{d.number} ({d.issuer_name})" for d in filed) or "sin documentos nuevos"
        flash(f"Correo {result.mail_id} reprocesado y archivado: {numbers}.", "success")
    elif status is MailStatus.QUARANTINED:
        reason = QUARANTINE_LABELS.get(result.reason.value if result.reason else "", "")
        detail = f" — {result.detail}" if result.detail else ""
        flash(f"Correo {result.mail_id} reprocesado: sigue en cuarentena. {reason}{detail}", "error")
    elif status is MailStatus.PENDING:
        flash(f"Correo {result.mail_id}: otro proceso lo está procesando en este momento.", "info")
    else:
        flash(f"Correo {result.mail_id} reprocesado: {result.detail or 'no trae nada para archivar'}.", "info")


@bp.post("/cuarentena/<int:mail_id>/descartar")
@roles(Role.CLERK)
def dismiss(mail_id: int) -> Any:
    """Take the message out of quarantine as ignored, with who and why; its raw bytes are kept."""
    db = _db()
    mail = _settle_check(mail_id)
    note = " ".join(str(request.form.get("note", "")).split())[:NOTE_MAX]
    actor = current_user.actor
    before = {"reason": mail.reason.value if mail.reason else None, "detail": mail.reason_detail}
    stamp = datetime.now(UTC)
    detail = f"Descartado por {actor.removeprefix('user:')}" + (f": {note}" if note else "")
    if mail.reason_detail:
        detail += f" (motivo de la cuarentena: {mail.reason_detail})"
    if not _leave_quarantine(db, mail, status=MailStatus.IGNORED, reason_detail=detail[:4000], updated_at=stamp):
        return _back()
    audit.record(db, actor=actor, action="mail.dismissed", subject=f"mail:{mail.id}", source=request.remote_addr,
                 data={"before": before, "note": note, "subject": mail.subject}, at=stamp)  # fmt: skip
    db.commit()
    db.expire_all()
    flash(f"Correo {mail.id} descartado: sale de la cuarentena (queda guardado y auditado).", "success")
    return _back()
