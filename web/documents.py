"""The document page's routes: the page itself (its contents built by web.document_view), the downloads (PDF, signed
XML, container, zip, DIAN's response, a kept status answer), and the clerk's actions 030, 032, 033 and 031, plus
assignment, internal comments and "Consultar en DIAN".

The actions only go through events.service (dian.rules decides); a refusal is a flash message, never a 500.
After signing, the event is delivered to DIAN at once so the timeline shows DIAN's answer on the next page.
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from dian.codes import ClaimReason, EventCode
from dian.soap import DianFault, DianTransportError
from events.emit import ApprovalPending, EventRefused, EventRequest
from store.audit import record
from store.blobs import BlobError
from store.models import (
    AuditEntry,
    DocumentComment,
    DocumentEvent,
    MailMessage,
    ReceivedDocument,
    Role,
    SubmissionState,
    Verdict,
)
from web import tenant
from web.access import roles
from web.assignment import AssignmentRefused, assign
from web.document_labels import CLAIM_LABELS, EVENT_SHORT, ID_TYPES, PAYMENT_LABELS
from web.document_view import (
    ASSIGNERS,
    STATUS_ACTION,
    UNAVAILABLE,
    assignment_view,
    checks_view,
    combined_available,
    comment_draft,
    comments_view,
    decisions,
    events_service,
    last_status_check,
    lines_view,
    person_of,
    profile_person,
    result_view,
    same_number_view,
    taxes_view,
    timeline_view,
    unconfirmed_view,
    window_view,
    xml_rendering,
)
from web.labels import STATE_LABELS, VERDICT_LABELS, local_time, money
from web.payments import payee_view

log = logging.getLogger(__name__)

bp = Blueprint("documents", __name__)

READERS = (Role.CLERK, Role.TREASURY, Role.ADMIN, Role.AUDITOR)
# The order a clerk meets them in: acknowledge, goods received, then accept or claim.
ACTIONS = (EventCode.ACUSE_RECIBO, EventCode.RECIBO_BIEN, EventCode.ACEPTACION_EXPRESA, EventCode.RECLAMO)
CONFIRMED = (EventCode.ACEPTACION_EXPRESA, EventCode.RECLAMO)  # definitive for the supplier: asked twice
WITH_PERSON = (EventCode.ACUSE_RECIBO, EventCode.RECIBO_BIEN)
NOTE_MAX = 500
COMMENT_MAX = 2000
COMMENTERS = (Role.CLERK, Role.TREASURY, Role.ADMIN)
ASKERS = (Role.CLERK, Role.TREASURY, Role.ADMIN)  # "Consultar en DIAN" writes an audit entry and keeps the answer
# What GetStatus's StatusCode means for a received invoice, in the clerk's words (dian-facts.md 6.5).
STATUS_MEANINGS = {
    "00": ("registered", "La DIAN tiene esta factura registrada como válida."),
    "66": ("queued", "La DIAN no encuentra este CUFE, o su lote aún se está validando."),
    "98": ("queued", "La DIAN aún está procesando este documento."),
    "99": ("rejected", "La DIAN rechazó este documento."),
}


def _db() -> Any:
    return tenant.db()


def _document(document_id: int) -> ReceivedDocument:
    doc = _db().get(ReceivedDocument, document_id)
    if doc is None:
        abort(404)
    return doc


@bp.get("/documentos/<int:document_id>")
@roles(*READERS)
def show(document_id: int) -> str:
    """Everything about one received document, and what the clerk may do with it now."""
    db = _db()
    doc = _document(document_id)
    events = list(
        db.scalars(sa.select(DocumentEvent).where(DocumentEvent.document_id == doc.id).order_by(DocumentEvent.id))
    )
    may_act = current_user.role is Role.CLERK
    decided, unavailable = decisions(doc) if may_act else ({}, None)
    person = profile_person(current_user.load(db)) if may_act else {}
    mail = db.get(MailMessage, doc.mail_message_id) if doc.mail_message_id else None
    unconfirmed = doc.verdict is Verdict.UNCONFIRMED
    checks = checks_view(doc.report, unconfirmed=unconfirmed)
    result, focus = result_view(doc, events)
    return render_template(
        "document.html",
        result=result,
        focus_result=focus,
        combined=combined_available(decided),
        assignment=assignment_view(doc),
        comments=comments_view(doc),
        comment_draft=comment_draft(),
        comment_max=COMMENT_MAX,
        may_comment=current_user.role in COMMENTERS,
        may_ask=current_user.role in ASKERS,
        status_check=last_status_check(doc),
        doc=doc,
        state=STATE_LABELS.get(doc.state, doc.state),
        verdict=VERDICT_LABELS.get(doc.verdict, doc.verdict),
        payment=PAYMENT_LABELS.get(doc.payment_means.value, "") if doc.payment_means else "",
        issued=local_time(doc.issued_at),
        totals=[
            ("Subtotal (valor bruto)", money(doc.line_extension_amount, doc.currency)),
            ("Base gravable", money(doc.tax_exclusive_amount, doc.currency)),
            ("Total con impuestos", money(doc.tax_inclusive_amount, doc.currency)),
            ("Total a pagar", money(doc.payable_amount, doc.currency)),
        ],
        lines=lines_view(doc.lines or [], doc.currency),
        taxes=taxes_view(doc.taxes or [], doc.currency),
        checks=checks,
        check_counts={o: sum(1 for c in checks if c["outcome"] == o) for o in ("pass", "warn", "fail")},
        rendering=None if doc.pdf_blob else xml_rendering(doc),
        timeline=timeline_view(doc, events),
        window=window_view(doc, datetime.now(UTC)),
        may_act=may_act,
        actions=ACTIONS,
        decisions=decided,
        unavailable=unavailable,
        person=person,
        id_types=ID_TYPES,
        claim_labels=CLAIM_LABELS,
        event_names=EVENT_SHORT,
        mail=mail,
        unconfirmed=unconfirmed_view(doc, mail) if unconfirmed else None,
        payee=payee_view(doc),  # RADIAN: "Pagar a" the factor, a 041's frozen payment (web/payments.py)
        same_number=same_number_view(db, doc),
    )


# --- Files -------------------------------------------------------------------------------------------------------


def _blob_response(key: str | None, mimetype: str, filename: str, *, inline: bool = False) -> Response:
    if not key:
        abort(404)
    try:
        data = tenant.blobs().get(key)
    except (BlobError, OSError):
        log.exception("blob %s is missing or corrupt", key)
        abort(404)
    disposition = "inline" if inline else "attachment"
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _stem(doc: ReceivedDocument) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in f"{doc.issuer_nit}-{doc.number}")
    return safe[:80] or str(doc.id)


@bp.get("/documentos/<int:document_id>/pdf")
@roles(*READERS)
def pdf(document_id: int) -> Response:
    """The supplier's PDF, shown inline in the page."""
    doc = _document(document_id)
    return _blob_response(doc.pdf_blob, "application/pdf", f"{_stem(doc)}.pdf", inline=True)


@bp.get("/documentos/<int:document_id>/xml")
@roles(*READERS)
def signed_xml(document_id: int) -> Response:
    """The supplier's signed XML, byte for byte as received."""
    doc = _document(document_id)
    return _blob_response(doc.signed_xml_blob, "application/xml", f"{_stem(doc)}.xml")


@bp.get("/documentos/<int:document_id>/contenedor")
@roles(*READERS)
def attached(document_id: int) -> Response:
    """The AttachedDocument the supplier mailed (the invoice with DIAN's validation)."""
    doc = _document(document_id)
    return _blob_response(doc.attached_blob, "application/xml", f"{_stem(doc)}-attached.xml")


@bp.get("/documentos/<int:document_id>/zip")
@roles(*READERS)
def original_zip(document_id: int) -> Response:
    """The zip the supplier mailed, as received."""
    doc = _document(document_id)
    return _blob_response(doc.zip_blob, "application/zip", f"{_stem(doc)}.zip")


@bp.get("/documentos/<int:document_id>/respuesta-dian")
@roles(*READERS)
def dian_response(document_id: int) -> Response:
    """DIAN's ApplicationResponse validating the document."""
    doc = _document(document_id)
    return _blob_response(doc.dian_response_blob, "application/xml", f"{_stem(doc)}-dian.xml")


# --- Actions -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionForm:
    """What the action form posted, checked; ``problem`` is a Spanish sentence when it cannot be sent as it is."""

    code: EventCode
    person: dict[str, str]
    claim_reason: str = ""
    note: str = ""
    problem: str | None = None

    def request(self) -> EventRequest:
        if self.code in WITH_PERSON:
            return EventRequest(self.code, person=person_of(self.person))
        if self.code is EventCode.RECLAMO:
            return EventRequest(self.code, claim_reason=ClaimReason(self.claim_reason), note=self.note or None)
        return EventRequest(self.code)


def read_action_form(form: Any) -> ActionForm:
    """The posted action, or a 400 when the code is not one of ours."""
    try:
        code = EventCode(form.get("code", ""))
    except ValueError:
        abort(400, description="Evento desconocido.")
    if code not in ACTIONS:
        abort(400, description="Evento desconocido.")
    person = {k: str(form.get(k, ""))[:120].strip() for k in ("id_type", "id", "first_name", "family_name",
                                                               "job_title", "department")}  # fmt: skip
    reason = str(form.get("claim_reason", "")).strip()
    note = str(form.get("note", "")).strip()[:NOTE_MAX]
    problem = None
    if code is EventCode.RECLAMO and reason not in CLAIM_LABELS:
        problem = "Elija el motivo del reclamo (01 a 04)."
    if code in WITH_PERSON and any(person.values()) and person_of(person) is None:
        problem = "La persona que recibe necesita número de documento, nombres y apellidos."
    return ActionForm(code, person, reason, note, problem)


def _back(document_id: int) -> Any:
    """Back to the document, scrolled to the result box at its top (documents.js moves the focus into it)."""
    return redirect(url_for("documents.show", document_id=document_id) + "#resultado")


def flash_events(*event_ids: int) -> None:
    """The result box of the next page tells what became of these events (read from the database then)."""
    flash({"events": list(event_ids)}, "outcome")


def _emit(service: Any, document_id: int, request_: EventRequest, actor: str) -> Any:
    """Sign one event (queued for DIAN); None, with the refusal flashed, when the rules refuse it."""
    try:
        return service.emit(document_id, request_, actor=actor, source=request.remote_addr)
    except ApprovalPending as exc:
        flash(f"{exc.reason} Quien aprueba la verá en Aprobaciones pendientes.", "info")
        return None
    except EventRefused as exc:
        flash(f"No se envió el evento {request_.code.value} ({EVENT_SHORT[request_.code.value]}): {exc.reason}",
              "error")  # fmt: skip
        return None


def _state_of(event_id: int) -> SubmissionState | None:
    db = _db()
    db.expire_all()
    event = db.get(DocumentEvent, event_id)
    return event.submission_state if event is not None else None


@bp.post("/documentos/<int:document_id>/eventos")
@roles(Role.CLERK)
def send_event(document_id: int) -> Any:
    """Send 030, 031, 032 or 033 on the document (031 and 033 after a confirmation page), then deliver it now."""
    doc = _document(document_id)
    action = read_action_form(request.form)
    if action.problem:
        flash(action.problem, "error")
        return _back(document_id)
    service = events_service()
    if service is None:
        flash(UNAVAILABLE, "error")
        return _back(document_id)
    if action.code in CONFIRMED and request.form.get("confirmado") != "1":
        return render_template(
            "event_confirm.html",
            doc=doc,
            action=action,
            name=EVENT_SHORT[action.code.value],
            claim_label=CLAIM_LABELS.get(action.claim_reason, ""),
            amount=money(doc.payable_amount, doc.currency),
        )
    actor = current_user.actor
    emitted = _emit(service, document_id, action.request(), actor)
    if emitted is not None:
        service.deliver_now(actor=actor)
        flash_events(emitted.id)
    return _back(document_id)


@bp.post("/documentos/<int:document_id>/acuse-y-recibo")
@roles(Role.CLERK)
def acknowledge_and_receive(document_id: int) -> Any:
    """Acuse de recibo (030) then recibo del bien o servicio (032) in one click, each result reported.

    The 032 is signed once the 030 is registered, or queued behind it when DIAN did not answer (the outbox sends
    them in order); after a rejected 030 it is not sent, and the result says why."""
    _document(document_id)
    service = events_service()
    if service is None:
        flash(UNAVAILABLE, "error")
        return _back(document_id)
    form = read_action_form({**request.form.to_dict(), "code": EventCode.ACUSE_RECIBO.value})
    if form.problem:
        flash(form.problem, "error")
        return _back(document_id)
    actor, person = current_user.actor, person_of(form.person)
    acuse = _emit(service, document_id, EventRequest(EventCode.ACUSE_RECIBO, person=person), actor)
    if acuse is None:
        return _back(document_id)
    service.deliver_now(actor=actor)
    if _state_of(acuse.id) is SubmissionState.REJECTED:
        flash_events(acuse.id)
        flash("El recibo del bien o servicio (032) no se envió porque la DIAN rechazó el acuse de recibo (030).",
              "error")  # fmt: skip
        return _back(document_id)
    recibo = _emit(service, document_id, EventRequest(EventCode.RECIBO_BIEN, person=person), actor)
    if recibo is None:
        flash_events(acuse.id)
        return _back(document_id)
    service.deliver_now(actor=actor)
    flash_events(acuse.id, recibo.id)
    return _back(document_id)


@bp.post("/documentos/<int:document_id>/reintentar")
@roles(Role.CLERK)
def retry(document_id: int) -> Any:
    """ "Reintentar ahora": the document's queued events sent to DIAN now (events.service.retry_now), audited."""
    _document(document_id)
    service = events_service()
    if service is None:
        flash(UNAVAILABLE, "error")
        return _back(document_id)
    retried = service.retry_now(document_id, actor=current_user.actor, source=request.remote_addr)
    if not retried:
        flash("No hay eventos en cola en este documento: nada que reintentar.", "info")
    else:
        flash_events(*retried)
    return _back(document_id)


@bp.post("/documentos/<int:document_id>/asignacion")
@roles(*ASSIGNERS)
def set_assignee(document_id: int) -> Any:
    """Assign the document to a clerk ("yo" is the signed-in clerk), or take the assignment away; audited."""
    doc = _document(document_id)
    wanted = str(request.form.get("username", ""))[:81].strip()
    if wanted == "yo":
        wanted = current_user.username
    try:
        changed = assign(_db(), doc, wanted or None, current_user.actor, source=request.remote_addr)
    except AssignmentRefused as exc:
        flash(f"No se asignó el documento: {exc.reason}", "error")
        return _back(document_id)
    _db().commit()
    if not changed:
        flash("La asignación no cambió.", "info")
    elif doc.assigned_to:
        flash(f"Documento asignado a {doc.assigned_to}.", "success")
    else:
        flash("El documento quedó sin asignar.", "success")
    return _back(document_id)


def comment_problem(body: str) -> str | None:
    """Why a comment cannot be kept as written, in Spanish; None when it can."""
    if not body.strip():
        return "Escriba el comentario: está vacío."
    if len(body) > COMMENT_MAX:
        return f"El comentario tiene {len(body)} caracteres; el máximo es {COMMENT_MAX}."
    for char in body:
        if char in "\n\r\t":
            continue
        if unicodedata.category(char) in ("Cc", "Cs", "Cn"):
            return (f"El comentario tiene un carácter de control o inválido (U+{ord(char):04X}); "
                    "quítelo y vuelva a intentarlo.")  # fmt: skip
    return None


@bp.post("/documentos/<int:document_id>/comentarios")
@roles(*COMMENTERS)
def add_comment(document_id: int) -> Any:
    """An internal comment on the document (never sent to the supplier or DIAN), audited."""
    doc = _document(document_id)
    body = str(request.form.get("body", "")).replace("\r\n", "\n")
    problem = comment_problem(body)
    if problem:
        flash(f"No se guardó el comentario. {problem}", "error")
        flash(body[: COMMENT_MAX * 2], "draft")
        return _back(document_id)
    db = _db()
    comment = DocumentComment(document_id=doc.id, author=current_user.username, body=body.strip())
    db.add(comment)
    db.flush()
    record(db, actor=current_user.actor, action="document.comment.added", subject=doc.cufe,
           source=request.remote_addr,
           data={"document_id": doc.id, "number": doc.number, "comment_id": comment.id,
                 "length": len(comment.body)})  # fmt: skip
    db.commit()
    flash("Comentario guardado.", "success")
    return _back(document_id)


@bp.post("/documentos/<int:document_id>/consulta-dian")
@roles(*ASKERS)
def ask_dian(document_id: int) -> Any:
    """ "Consultar en DIAN": GetStatus by CUFE now; the answer shown, kept (blob) and audited."""
    doc = _document(document_id)
    service = events_service()
    if service is None or not hasattr(service, "document_status"):
        flash("La consulta a la DIAN no está disponible en esta instalación (falta la configuración de la DIAN).",
              "error")  # fmt: skip
        return _back(document_id)
    try:
        answer = service.document_status(doc.cufe)
    except (DianTransportError, DianFault) as exc:
        reason = exc.words
        record(_db(), actor=current_user.actor, action="document.dian.status_failed", subject=doc.cufe,
               source=request.remote_addr,
               data={"document_id": doc.id, "number": doc.number, "error": str(exc)[:500]})  # fmt: skip
        _db().commit()
        flash(f"No se pudo consultar la DIAN: {reason}. Intente de nuevo en unos minutos.", "error")
        return _back(document_id)
    if answer is None:
        flash("La consulta a la DIAN no está disponible en esta instalación (falta la configuración de la DIAN).",
              "error")  # fmt: skip
        return _back(document_id)
    kind, meaning = STATUS_MEANINGS.get(answer.status_code, ("queued", "Respuesta no esperada de la DIAN."))
    db = _db()
    blob = tenant.blobs().put(answer.xml) if answer.xml else None
    messages = [m.render() for m in answer.messages]
    record(db, actor=current_user.actor, action=STATUS_ACTION, subject=doc.cufe, source=request.remote_addr,
           data={"document_id": doc.id, "number": doc.number, "status_code": answer.status_code,
                 "description": answer.status_description, "message": answer.status_message, "meaning": meaning,
                 "messages": messages, "answer_blob": blob})  # fmt: skip
    db.commit()
    said = " ".join(x for x in (answer.status_description, answer.status_message) if x)
    text = f"Consulta en la DIAN: código {answer.status_code}. {meaning}" + (f" La DIAN dice: «{said}»" if said else "")
    if messages:
        text += " " + "; ".join(messages[:5])
    flash(text, {"registered": "success", "queued": "info", "rejected": "error"}[kind])
    return _back(document_id)


@bp.get("/documentos/<int:document_id>/consulta-dian/<int:entry_id>")
@roles(*READERS)
def status_answer(document_id: int, entry_id: int) -> Response:
    """DIAN's answer to a "Consultar en DIAN", as kept."""
    doc = _document(document_id)
    entry = _db().get(AuditEntry, entry_id)
    if entry is None or entry.action != STATUS_ACTION or (entry.data or {}).get("document_id") != doc.id:
        abort(404)
    return _blob_response((entry.data or {}).get("answer_blob"), "application/xml",
                          f"{_stem(doc)}-consulta-dian-{entry.id}.xml")  # fmt: skip
