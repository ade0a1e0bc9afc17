"""The document page: parties, lines, taxes and totals, the verification report, the supplier's PDF (or the XML made
readable), downloads, the event timeline, the claim-window countdown, and the clerk's actions 030, 032, 033 and 031.

The actions only go through events.service (dian/rules.py decides); a refusal is a flash message, never a 500.
After signing, the event is delivered to DIAN at once so the timeline shows DIAN's answer on the next page.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from dian.calendar import BusinessCalendar
from dian.codes import ClaimReason, DocumentState, EventCode
from dian.soap.results import NOT_FINAL_CODES
from dian.ubl import Person, parse_document
from dian.ubl.build import qr_url
from events.emit import EventRefused, EventRequest
from events.outbox import unresolved
from store.blobs import BlobError, BlobStore
from store.models import (
    Direction,
    DocumentEvent,
    MailMessage,
    ReceivedDocument,
    Role,
    SubmissionState,
    User,
    Verdict,
)
from web.access import roles
from web.document_labels import (
    CLAIM_LABELS,
    DIRECTION_LABELS,
    EVENT_SHORT,
    ID_TYPES,
    NOT_FINAL_LABEL,
    OUTCOME_LABELS,
    OUTCOME_MARKS,
    PAYMENT_LABELS,
    SUBMISSION_LABELS,
    TAX_LABELS,
    UNITS,
    UNRESOLVED_LABEL,
    check_label,
)
from web.labels import STATE_LABELS, VERDICT_LABELS, local_time, money

log = logging.getLogger(__name__)

bp = Blueprint("documents", __name__)

READERS = (Role.CLERK, Role.TREASURY, Role.ADMIN, Role.AUDITOR)
# The order a clerk meets them in: acknowledge, goods received, then accept or claim.
ACTIONS = (EventCode.ACUSE_RECIBO, EventCode.RECIBO_BIEN, EventCode.ACEPTACION_EXPRESA, EventCode.RECLAMO)
CONFIRMED = (EventCode.ACEPTACION_EXPRESA, EventCode.RECLAMO)  # definitive for the supplier: asked twice
WITH_PERSON = (EventCode.ACUSE_RECIBO, EventCode.RECIBO_BIEN)
NOTE_MAX = 500
# Once accepted, claimed or a title, the 3-business-day window no longer matters to the clerk.
DECIDED = (DocumentState.ACCEPTED, DocumentState.CLAIMED, DocumentState.TACITLY_ACCEPTED, DocumentState.TITLE)
UNAVAILABLE = "Los eventos no están disponibles en esta instalación (falta la configuración de eventos de la DIAN)."


def _db() -> Any:
    return current_app.extensions["buzon.db"]()


def events_service() -> Any:
    """The events façade (events.service.EventService), or None when the app was built without one."""
    return current_app.extensions.get("buzon.events")


def blobs() -> BlobStore:
    """The app's blob store: one per app, so each serving thread keeps its connection between requests."""
    extensions = current_app.extensions
    return extensions.setdefault("buzon.blobs", BlobStore(current_app.config["BUZON_SETTINGS"].blob_dir))


def calendar() -> BusinessCalendar:
    settings = current_app.config["BUZON_SETTINGS"]
    return BusinessCalendar(saturday_is_business_day=settings.scheduler.saturday_is_business_day)


def _document(document_id: int) -> ReceivedDocument:
    doc = _db().get(ReceivedDocument, document_id)
    if doc is None:
        abort(404)
    return doc


# --- Reading -----------------------------------------------------------------------------------------------------


def _amount(value: Any, currency: str) -> str:
    if value is None or value == "":
        return ""
    try:
        return money(Decimal(str(value)), currency)
    except InvalidOperation:
        return str(value)


def _quantity(value: Any) -> str:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, TypeError):
        return str(value or "")
    text = f"{number.normalize():f}"
    whole, _, fraction = text.partition(".")
    whole = f"{int(whole):,}".replace(",", ".") if whole.lstrip("-").isdigit() else whole
    return f"{whole},{fraction}" if fraction else whole


def _percent(value: Any) -> str:
    return f"{_quantity(value)} %" if value not in (None, "") else ""


def lines_view(lines: list[dict[str, Any]], currency: str) -> list[dict[str, str]]:
    """The stored (or parsed) lines with Colombian number formats."""
    return [
        {
            "id": str(line.get("id") or ""),
            "description": line.get("description") or "",
            "quantity": _quantity(line.get("quantity")),
            "unit": UNITS.get(line.get("unit_code") or "", line.get("unit_code") or ""),
            "unit_price": _amount(line.get("unit_price"), currency),
            "amount": _amount(line.get("line_extension_amount"), currency),
            "codes": line.get("codes") or "",
        }
        for line in lines
    ]


def taxes_view(taxes: list[dict[str, Any]], currency: str) -> list[dict[str, str]]:
    """One row per tax subtotal (scheme and rate), withholdings marked."""
    rows = []
    for tax in taxes:
        scheme = tax.get("scheme_id") or ""
        name = TAX_LABELS.get(scheme) or tax.get("scheme_name") or scheme
        subtotals = tax.get("subtotals") or [{"amount": tax.get("amount")}]
        for sub in subtotals:
            rows.append(
                {
                    "name": name,
                    "withholding": "Retención" if tax.get("withholding") else "",
                    "base": _amount(sub.get("taxable_amount"), currency),
                    "percent": _percent(sub.get("percent")),
                    "amount": _amount(sub.get("amount"), currency),
                }
            )
    return rows


def _check_row(name: str, outcome: str, detail: str) -> dict[str, str]:
    return {
        "name": check_label(name),
        "code": name,
        "outcome": outcome,
        "outcome_label": OUTCOME_LABELS.get(outcome, outcome),
        "mark": OUTCOME_MARKS.get(outcome, "?"),
        "detail": detail,
    }


# What a passing DIAN check of an unconfirmed document only shows: what the answer says, not that DIAN said it.
UNPROVEN_NOTE = "lo dice la respuesta adjunta, pero su firma no se pudo atribuir a la DIAN"
UNPROVEN_DETAIL = (
    "Validación DIAN sin confirmar: las firmas verifican, pero nada prueba que la DIAN validó el documento (no trae "
    "respuesta de la DIAN, o su firmante no es un certificado de la DIAN de confianza)."
)


def checks_view(report: dict[str, Any], *, unconfirmed: bool = False) -> list[dict[str, str]]:
    """The verification report, check by check, with Spanish names and pass/warn/fail marks.

    For a document whose DIAN validation is unconfirmed, DIAN's validation never shows as a pass: a passing
    ``dian.response`` (the answer *says* 02) shows as a warning, and when no DIAN check warns or fails, one warning row
    says what is missing."""
    rows = []
    for check in (report or {}).get("checks", []):
        name, outcome, detail = str(check.get("name", "")), str(check.get("outcome", "")), str(check.get("detail", ""))
        if unconfirmed and name == "dian.response" and outcome == "pass":
            outcome, detail = "warn", f"{detail} ({UNPROVEN_NOTE})" if detail else UNPROVEN_NOTE
        rows.append(_check_row(name, outcome, detail))
    if unconfirmed and not any(r["code"].startswith("dian.") and r["outcome"] in ("warn", "fail") for r in rows):
        rows.append(_check_row("dian.response", "warn", UNPROVEN_DETAIL))
    return rows


def unconfirmed_view(doc: ReceivedDocument, mail: MailMessage | None) -> dict[str, Any]:
    """What the amber banner of a document whose DIAN validation is unconfirmed says: why, and what the clerk can do."""
    if doc.dian_response_blob:
        why = ("El documento trae una respuesta que dice ser de la DIAN, pero está firmada con un certificado que "
               "Buzón no puede atribuir a la DIAN (no encadena a una raíz de confianza, no está fijado y no se "
               "aprendió de la DIAN en línea).")  # fmt: skip
    else:
        why = ("El documento no trae la respuesta de validación de la DIAN (ApplicationResponse) y la DIAN no lo ha "
               "confirmado en línea.")  # fmt: skip
    details = [
        str(check.get("detail", ""))
        for check in (doc.report or {}).get("checks", [])
        if str(check.get("name", "")).startswith("dian.") and check.get("outcome") in ("warn", "fail")
    ]
    settings = current_app.config["BUZON_SETTINGS"]
    return {
        "why": why,
        "details": [d for d in details if d][:3],
        "online_check": bool(getattr(settings.dian, "online_check", False)),
        "catalog_url": qr_url(doc.cufe, doc.environment),
        "supplier_email": mail.sender if mail is not None and mail.sender else "",
    }


def _person_name(person: dict[str, Any] | None) -> str:
    if not person:
        return ""
    name = " ".join(p for p in (person.get("first_name"), person.get("family_name")) if p)
    extra = ", ".join(p for p in (person.get("job_title"), person.get("department")) if p)
    ident = f" (doc. {person['id']})" if person.get("id") else ""
    return f"{name}{ident}" + (f" — {extra}" if extra else "")


def _who(event: DocumentEvent, doc: ReceivedDocument) -> str:
    if event.direction is Direction.EMITTED:
        actor = event.actor or ""
        return actor.removeprefix("user:") if actor.startswith("user:") else actor
    if event.sender_nit and event.sender_nit == doc.issuer_nit:
        return f"{doc.issuer_name} (proveedor)"
    return f"NIT {event.sender_nit}" if event.sender_nit else "—"


def timeline_view(doc: ReceivedDocument, events: list[DocumentEvent]) -> list[dict[str, Any]]:
    """Every event on the document, ours and observed, oldest first, with DIAN's answer and who sent it."""
    rows = []
    for event in events:
        code = event.code.value
        state = event.submission_state.value
        state_label = SUBMISSION_LABELS.get(event.submission_state, str(event.submission_state))
        if unresolved(event):  # DIAN kept answering 98/66: no longer sent automatically, the clerk must look
            state, state_label = "unresolved", UNRESOLVED_LABEL
        elif event.submission_state is SubmissionState.SEND_FAILED and event.dian_status_code in NOT_FINAL_CODES:
            state, state_label = "not_final", NOT_FINAL_LABEL
        rows.append(
            {
                "id": event.id,
                "code": code,
                "name": EVENT_SHORT.get(code, event.code.label),
                "direction": DIRECTION_LABELS.get(event.direction, str(event.direction)),
                "ours": event.direction is Direction.EMITTED,
                "number": event.number or "",
                "state": state,
                "state_label": state_label,
                "signed_at": local_time(event.signing_time),
                "registered_at": local_time(event.registered_at),
                "messages": [str(m) for m in (event.dian_messages or [])],
                "error": event.last_error
                if event.submission_state in (SubmissionState.SEND_FAILED, SubmissionState.REJECTED)
                else None,
                "who": _who(event, doc),
                "person": _person_name(event.person),
                "claim": f"{event.claim_reason.value} — {event.claim_reason.label}" if event.claim_reason else "",
                "note": event.note or "",
                "cude": event.cude or "",
            }
        )
    return rows


def window_view(doc: ReceivedDocument, now: datetime) -> dict[str, Any]:
    """The claim window (031/033 within 3 business days of 032): its end and what is left."""
    if doc.state in DECIDED:
        return {"open": False, "text": f"{STATE_LABELS[doc.state]}: el plazo para reclamar o aceptar ya no aplica."}
    if doc.window_ends_at is None:
        return {"open": False, "text": "El plazo de 3 días hábiles para reclamar o aceptar empieza con el recibo "
                "del bien o servicio (032) registrado."}  # fmt: skip
    remaining = calendar().remaining(now, doc.window_ends_at)
    ends = local_time(doc.window_ends_at)
    if remaining.expired:  # no 031 or 033 of ours was registered in time (DESIGN.md section 4)
        text = (f"El plazo para reclamar o aceptar expresamente venció el {ends} sin reclamo ni aceptación: la factura "
                "se entiende aceptada tácitamente y el emisor puede registrar la aceptación tácita (034).")  # fmt: skip
    else:
        text = f"Plazo para reclamar o aceptar expresamente: hasta el {ends}."
    return {
        "open": not remaining.expired,
        "ends": ends,
        "label": remaining.label,
        "urgent": remaining.is_urgent or remaining.expired,
        "text": text,
    }


def _xml_rendering(doc: ReceivedDocument) -> dict[str, Any] | None:
    """The signed XML made readable (when the supplier sent no PDF): parties, lines, taxes, totals and notes."""
    try:
        parsed = parse_document(blobs().get(doc.signed_xml_blob))
    except Exception:  # a stored document parsed once already; if it no longer does, say so instead of failing
        log.exception("document %s: the signed XML could not be rendered", doc.id)
        return None
    currency = parsed.currency or doc.currency

    def party(p: Any) -> dict[str, str]:
        address = p.address
        where = ", ".join(x for x in (address.line, address.city, address.department) if x) if address else ""
        return {
            "name": p.registration_name or p.trade_name or "",
            "nit": f"{p.nit}-{p.dv}" if p.dv else p.nit,
            "address": where,
            "email": p.email or "",
            "phone": p.phone or "",
        }

    lines = [
        {
            "id": line.id,
            "description": line.description,
            "quantity": line.quantity,
            "unit_code": line.unit_code,
            "unit_price": line.unit_price,
            "line_extension_amount": line.line_extension_amount,
            "codes": ", ".join(c.value for c in line.item_codes if c.value),
        }
        for line in parsed.lines
    ]
    total = parsed.monetary_total
    totals = [
        ("Subtotal (valor bruto)", total.line_extension),
        ("Descuentos", total.allowance_total),
        ("Cargos", total.charge_total),
        ("Base gravable", total.tax_exclusive),
        ("Total con impuestos", total.tax_inclusive),
        ("Anticipos", total.prepaid),
        ("Total a pagar", total.payable),
    ]
    return {
        "supplier": party(parsed.supplier),
        "customer": party(parsed.customer),
        "lines": lines_view(lines, currency),
        "totals": [(label, money(value, currency)) for label, value in totals if value is not None],
        "notes": [n for n in parsed.notes if n.strip()],
        "order": parsed.order_reference or "",
        "references": [
            r.number + (f" ({r.issue_date:%d/%m/%Y})" if r.issue_date else "") for r in parsed.billing_references
        ],
        "authorization": _authorization(parsed.invoice_control),
        "payment_method": parsed.payment_method_code or "",
    }


def _authorization(control: Any) -> str:
    """DIAN's numbering authorization as printed on invoices: number and range."""
    if control is None:
        return ""
    text = f"Autorización de numeración {control.authorization}"
    if control.from_number is not None:
        text += f", rango {control.prefix or ''}{control.from_number} a {control.prefix or ''}{control.to_number}"
    return text


def _decisions(doc: ReceivedDocument) -> tuple[dict[str, Any], str | None]:
    """For each action: may it be sent now and, if not, why; or why no action can be offered at all."""
    service = events_service()
    if service is None:
        return {}, UNAVAILABLE
    try:
        decided = service.decisions(_db(), doc)
    except Exception as exc:  # a broken events configuration must not take the page down: say it instead
        log.exception("decisions for document %s", doc.id)
        return {}, f"No se pudieron evaluar los eventos: {exc}"
    return {code.value: decision for code, decision in decided}, None


def profile_person(user: User) -> dict[str, str]:
    """The 030/032 person form's initial values: the user's profile, else the configured default person."""
    events = current_app.config["BUZON_SETTINGS"].events
    own = bool(user.id_number or user.first_name or user.family_name)
    if own:
        return {
            "id_type": user.id_type or "13",
            "id": user.id_number or "",
            "first_name": user.first_name or "",
            "family_name": user.family_name or "",
            "job_title": user.job_title or "",
            "department": user.department or "",
        }
    return {
        "id_type": events.person_id_type or "13",
        "id": events.person_id or "",
        "first_name": events.person_first_name or "",
        "family_name": events.person_family_name or "",
        "job_title": events.person_job_title or "",
        "department": events.person_department or "",
    }


def person_of(values: dict[str, str]) -> Person | None:
    """A Person from complete profile or form values; None when they are incomplete (emit then uses the default)."""
    if not (values.get("id", "").strip() and values.get("first_name", "").strip()
            and values.get("family_name", "").strip()):  # fmt: skip
        return None
    return Person(
        id=values["id"].strip(),
        first_name=values["first_name"].strip(),
        family_name=values["family_name"].strip(),
        id_type=(values.get("id_type") or "13").strip(),
        job_title=(values.get("job_title") or "").strip() or None,
        department=(values.get("department") or "").strip() or None,
    )


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
    decisions, unavailable = _decisions(doc) if may_act else ({}, None)
    person = profile_person(current_user.load(db)) if may_act else {}
    mail = db.get(MailMessage, doc.mail_message_id) if doc.mail_message_id else None
    unconfirmed = doc.verdict is Verdict.UNCONFIRMED
    checks = checks_view(doc.report, unconfirmed=unconfirmed)
    return render_template(
        "document.html",
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
        rendering=None if doc.pdf_blob else _xml_rendering(doc),
        timeline=timeline_view(doc, events),
        window=window_view(doc, datetime.now(UTC)),
        may_act=may_act,
        actions=ACTIONS,
        decisions=decisions,
        unavailable=unavailable,
        person=person,
        id_types=ID_TYPES,
        claim_labels=CLAIM_LABELS,
        event_names=EVENT_SHORT,
        mail=mail,
        unconfirmed=unconfirmed_view(doc, mail) if unconfirmed else None,
    )


# --- Files -------------------------------------------------------------------------------------------------------


def _blob_response(key: str | None, mimetype: str, filename: str, *, inline: bool = False) -> Response:
    if not key:
        abort(404)
    try:
        data = blobs().get(key)
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
    return redirect(url_for("documents.show", document_id=document_id) + "#eventos")


def delivered_message(service: Any, emitted_id: int, code: EventCode, number: str, actor: str) -> tuple[str, str]:
    """Deliver what is due now and say how this event ended: (flash category, Spanish message)."""
    name = f"{code.value} ({EVENT_SHORT.get(code.value, code.label)})"
    report = service.deliver_now(actor=actor)
    db = _db()
    db.expire_all()
    event = db.get(DocumentEvent, emitted_id)
    if event is not None and event.submission_state is SubmissionState.REGISTERED:
        return "success", f"Evento {name} número {number}: registrado por la DIAN."
    if event is not None and event.submission_state is SubmissionState.REJECTED:
        answer = "; ".join(str(m) for m in event.dian_messages or []) or event.last_error or "sin detalle"
        return "error", f"Evento {name} número {number}: rechazado por la DIAN. {answer}"
    if event is not None and event.dian_status_code in NOT_FINAL_CODES:  # 98 or 66: DIAN has not decided yet
        return "info", f"Evento {name} número {number}: firmado y enviado. {event.last_error or NOT_FINAL_LABEL}"
    if report is None:
        return "info", (f"Evento {name} número {number}: firmado y en cola. La DIAN no responde ahora; "
                        "se reintentará automáticamente.")  # fmt: skip
    return "info", f"Evento {name} número {number}: firmado y enviado; esperando la respuesta de la DIAN."


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
    try:
        emitted = service.emit(document_id, action.request(), actor=actor, source=request.remote_addr)
    except EventRefused as exc:
        flash(f"No se envió el evento {action.code.value}: {exc.reason}", "error")
        return _back(document_id)
    category, message = delivered_message(service, emitted.id, emitted.code, emitted.number, actor)
    flash(message, category)
    return _back(document_id)
