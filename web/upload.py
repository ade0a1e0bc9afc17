"""Uploading documents ("Subir documentos"): .xml, .zip and .eml files chosen or dropped in the browser, for an invoice
that came by another channel, go into the very intake the mailbox uses (the shell's factory, create_app(intake=…)),
as messages of the mailbox ``subida``; each file gets its own answer in Spanish.

Limits: at most MAX_FILES files, each within the inbox's message size (``inbox.max_message_bytes``), the request
within MAX_REQUEST_BYTES (werkzeug refuses more before it is read; the page says so). Files whose name or first bytes
are not XML, ZIP or e-mail are refused without reaching intake. Every upload is one audit entry listing its files.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import PurePath
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, render_template, request, url_for
from flask_login import current_user

from inbox.intake import Envelope
from store import audit
from store.models import MailStatus, ReceivedDocument, Role, Verdict
from web import tenant
from web.access import roles
from web.labels import QUARANTINE_LABELS, VERDICT_LABELS

log = logging.getLogger(__name__)

bp = Blueprint("upload", __name__)

UPLOADERS = (Role.CLERK,)
MAILBOX = "subida"
MAX_FILES = 20
MAX_REQUEST_BYTES = 60 * 1024 * 1024
SUFFIXES = {".xml": "xml", ".zip": "zip", ".eml": "eml"}
UNAVAILABLE = "La subida de documentos no está disponible en esta instalación."


@bp.record_once
def _bound_requests(state: Any) -> None:
    """No request body past MAX_REQUEST_BYTES, for any page (the upload is the largest one): werkzeug answers 413
    before reading it, and the upload page's handler below says so in Spanish."""
    state.app.config.setdefault("MAX_CONTENT_LENGTH", MAX_REQUEST_BYTES)


@dataclass
class Outcome:
    """What became of one uploaded file, as the page says it."""

    name: str
    size: int
    kind: str  # filed, unconfirmed, quarantined, duplicate, refused, nothing
    label: str
    detail: str = ""
    links: list[tuple[str, str]] = field(default_factory=list)  # (text, url)
    mail_id: int | None = None


KIND_LABELS = {
    "filed": "Archivado como válido",
    "unconfirmed": "Archivado sin confirmar",
    "quarantined": "En cuarentena",
    "duplicate": "Duplicado",
    "refused": "Rechazado",
    "nothing": "Sin documento para archivar",
}


def _limit_bytes() -> int:
    return int(tenant.settings().inbox.max_message_bytes)


def _size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB".replace(".", ",")
    return f"{max(1, round(size / 1024))} KB" if size else "0 KB"


def sniff(name: str, data: bytes) -> str | None:
    """Why the file cannot be taken (Spanish), or None: its name must end in .xml, .zip or .eml and its first bytes
    must agree (an XML declaration or element, a ZIP header, mail headers)."""
    suffix = PurePath(name).suffix.lower()
    if suffix not in SUFFIXES:
        return "tipo de archivo no admitido: suba archivos .xml, .zip o .eml"
    if not data:
        return "el archivo está vacío"
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
    kind = SUFFIXES[suffix]
    if kind == "xml" and not head.startswith(b"<"):
        return "el archivo no es XML (no empieza con «<»)"
    if kind == "zip" and not data.startswith(b"PK\x03\x04"):
        return "el archivo no es un ZIP válido"
    if kind == "eml":
        first = head.split(b"\n", 1)[0]
        if b":" not in first or first[:1] in (b"<", b"{"):
            return "el archivo no parece un correo (.eml con encabezados)"
    return None


def _safe_name(raw: str | None) -> str:
    """The file's own name for display: its last path part, printable, at most 120 characters."""
    name = PurePath((raw or "").replace("\\", "/")).name
    name = "".join(c for c in name if c.isprintable())
    return name[:120] or "(sin nombre)"


@bp.get("/subir")
@roles(*UPLOADERS)
def form() -> str:
    """The upload form."""
    return _page()


def _page(outcomes: list[Outcome] | None = None, error: str | None = None, status: int = 200) -> Any:
    return (
        render_template(
            "upload.html",
            outcomes=outcomes,
            error=error,
            available=tenant.service("intake") is not None,
            max_files=MAX_FILES,
            max_size=_size_text(_limit_bytes()),
            max_request=_size_text(MAX_REQUEST_BYTES),
            tally=_tally(outcomes or []),
        ),
        status,
    )


def _tally(outcomes: list[Outcome]) -> str:
    """'1 archivado como válido, 1 rechazado': how many files ended each way."""
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.label] = counts.get(outcome.label, 0) + 1
    return ", ".join(f"{n} {label.lower()}" for label, n in counts.items())


@bp.errorhandler(413)
def too_large(_exc: Any) -> Any:
    """The whole request went past MAX_REQUEST_BYTES: nothing was read, nothing taken."""
    return _page(
        error=f"La subida supera el máximo de {_size_text(MAX_REQUEST_BYTES)} en total: no se procesó "
        "ningún archivo. Suba menos archivos a la vez.",
        status=413,
    )


def _another_company(name: str, data: bytes) -> str | None:
    """Why a file is not taken here: it is addressed to another company of this install (an upload acts only for the
    company the user is in, so it is neither stored here nor there). None otherwise, or with one company."""
    others = {c.key: c for c in tenant.companies().values() if c is not tenant.tenant()}
    if not others:
        return None
    from inbox.routing import addressed_to  # start-up time: the peek only in an install of several companies

    nits = addressed_to(data, name)
    if tenant.tenant().key in nits:
        return None
    for nit in nits:
        if nit in others:
            company = others[nit]
            return (f"es para {company.name} (NIT {company.settings.company.nit}), otra empresa de este Buzón: "
                    "súbalo desde esa empresa (selector «Empresa» arriba) o pídaselo a alguien de ella.")  # fmt: skip
    return None


@bp.post("/subir")
@roles(*UPLOADERS)
def upload() -> Any:
    """Take the chosen files into intake and say, file by file, what became of each."""
    make_intake = tenant.service("intake")
    if make_intake is None:
        return _page(error=UNAVAILABLE, status=503)
    files = [f for f in request.files.getlist("files") if f and (f.filename or "").strip()]
    if not files:
        return _page(error="No eligió ningún archivo. Elija o arrastre archivos .xml, .zip o .eml.", status=400)
    if len(files) > MAX_FILES:
        return _page(
            error=f"Eligió {len(files)} archivos; el máximo es {MAX_FILES} por subida. No se procesó ninguno.",
            status=400,
        )
    limit = _limit_bytes()
    now = datetime.now(UTC)
    outcomes: list[Outcome | None] = []
    envelopes: list[Envelope] = []
    for storage in files:
        name = _safe_name(storage.filename)
        data = storage.stream.read(limit + 1)
        if len(data) > limit:
            outcomes.append(
                Outcome(
                    name,
                    len(data),
                    "refused",
                    KIND_LABELS["refused"],
                    f"demasiado grande: el máximo por archivo es {_size_text(limit)}",
                )
            )
            continue
        why = sniff(name, data) or _another_company(name, data)
        if why:
            outcomes.append(Outcome(name, len(data), "refused", KIND_LABELS["refused"], why))
            continue
        outcomes.append(None)  # filled from intake's result, in order
        envelopes.append(Envelope(mailbox=MAILBOX, data=data, name=name, received_at=now))
    actor = current_user.actor
    results: list[Any] = []
    failure = None
    if envelopes:
        try:
            results = make_intake(actor).take_many(envelopes)
        except Exception as exc:  # a database or storage failure: nothing is claimed, the clerk may try again
            log.exception("upload by %s: intake failed", actor)
            failure = exc
    db = tenant.db()
    db.expire_all()
    taken = iter(range(len(envelopes)))
    final: list[Outcome] = []
    for outcome in outcomes:
        if outcome is not None:
            final.append(outcome)
            continue
        index = next(taken)
        envelope = envelopes[index]
        if index >= len(results):  # intake failed: say so for every file it was given
            final.append(
                Outcome(
                    envelope.name,
                    len(envelope.data),
                    "refused",
                    "No procesado",
                    "un error interno impidió procesarlo; vuelva a subirlo en unos minutos.",
                )
            )
            continue
        final.append(describe(db, envelope, results[index]))
    audit.record(
        db,
        actor=actor,
        action="documents.uploaded",
        subject=None,
        source=request.remote_addr,
        data={
            "files": [
                {"name": o.name, "size": o.size, "outcome": o.kind, "mail_id": o.mail_id, "detail": o.detail[:300]}
                for o in final
            ],
            "failure": type(failure).__name__ if failure else None,
        },
    )
    db.commit()
    return _page(final)


def describe(db: Any, envelope: Envelope, result: Any) -> Outcome:
    """One intake Result as the clerk reads it."""
    name, size = envelope.name, len(envelope.data)
    status = MailStatus(result.status)
    earlier = " Este mismo archivo ya se había subido antes." if getattr(result, "earlier", False) else ""
    if status is MailStatus.QUARANTINED:
        reason = QUARANTINE_LABELS.get(result.reason.value if result.reason else "", "")
        detail = f"{reason}: {result.detail}" if result.detail else reason
        return Outcome(
            name,
            size,
            "quarantined",
            KIND_LABELS["quarantined"],
            detail + earlier,
            [("Ver la cuarentena", url_for("inbox.quarantine"))],
            result.mail_id,
        )
    cufes = list(dict.fromkeys([*result.filed, *result.confirmed]))
    documents = list(db.scalars(sa.select(ReceivedDocument).where(ReceivedDocument.cufe.in_(cufes)))) if cufes else []
    links = [(f"{d.number} · {d.issuer_name}", url_for("documents.show", document_id=d.id)) for d in documents]
    if status is MailStatus.FILED and documents and not getattr(result, "earlier", False):
        unconfirmed = [d for d in documents if d.verdict is Verdict.UNCONFIRMED]
        verdicts = ", ".join(sorted({VERDICT_LABELS.get(d.verdict.value, d.verdict.value) for d in documents}))
        if unconfirmed:
            return Outcome(
                name,
                size,
                "unconfirmed",
                KIND_LABELS["unconfirmed"],
                "la firma es correcta, pero la validación de la DIAN no está probada todavía "
                "(falta su respuesta o la DIAN no la confirmó): no se envían eventos automáticos.",
                links,
                result.mail_id,
            )
        return Outcome(name, size, "filed", KIND_LABELS["filed"], f"verificación: {verdicts}.", links, result.mail_id)
    if result.duplicates or getattr(result, "earlier", False):
        known = list(db.scalars(sa.select(ReceivedDocument).where(ReceivedDocument.cufe.in_(result.duplicates))))
        links += [(f"{d.number} · {d.issuer_name}", url_for("documents.show", document_id=d.id)) for d in known]
        return Outcome(
            name,
            size,
            "duplicate",
            KIND_LABELS["duplicate"],
            ("el documento ya estaba archivado; no se archivó otra vez." + earlier).strip(),
            links,
            result.mail_id,
        )
    if result.events:
        return Outcome(
            name,
            size,
            "filed",
            "Evento archivado",
            f"{len(result.events)} evento(s) de la contraparte registrados.",
            links,
            result.mail_id,
        )
    if result.answers:
        return Outcome(
            name,
            size,
            "filed",
            "Respuesta de la DIAN guardada",
            "se aplicará cuando llegue la factura a la que se refiere.",
            links,
            result.mail_id,
        )
    if status is MailStatus.PENDING:
        return Outcome(
            name,
            size,
            "nothing",
            "En proceso",
            "otro proceso lo está procesando en este momento.",
            links,
            result.mail_id,
        )
    return Outcome(
        name,
        size,
        "nothing",
        KIND_LABELS["nothing"],
        result.detail or "no trae nada para archivar.",
        links,
        result.mail_id,
    )
