"""The document page: parties, lines, taxes and totals, the verification report, the supplier's PDF (or the XML made
readable), downloads, the event timeline, the claim-window countdown, and the clerk's actions 030, 032, 033 and 031.

The actions only go through events.service (dian.rules decides); a refusal is a flash message, never a 500.
After signing, the event is delivered to DIAN at once so the timeline shows DIAN's answer on the next page.
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from dian.codes import ClaimReason, DocumentState, DocumentType, EventCode
from dian.soap import DianFault, DianTransportError
from dian.soap.results import NOT_FINAL_CODES
from dian.ubl import Person, parse_document
from dian.ubl.build import qr_url
from events.emit import ApprovalPending, EventRefused, EventRequest
from events.outbox import unresolved
from store.audit import record
from store.blobs import BlobError
from store.models import (
    AuditEntry,
    Direction,
    DocumentComment,
    DocumentEvent,
    MailMessage,
    ReceivedDocument,
    Role,
    SubmissionState,
    User,
    Verdict,
)
from web import tenant
from web.access import roles
from web.assignment import ASSIGNABLE_ROLES, AssignmentRefused, assign, assignable_users, display_name
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
from web.event_outcome import FLASH_KINDS, QUEUED, EventOutcome, Result, failure_words, outcome_of
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
# Once accepted, claimed or a title, the 3-business-day window no longer matters to the clerk.
DECIDED = (DocumentState.ACCEPTED, DocumentState.CLAIMED, DocumentState.TACITLY_ACCEPTED, DocumentState.TITLE)
UNAVAILABLE = "Los eventos no están disponibles en esta instalación (falta la configuración de eventos de la DIAN)."


def _db() -> Any:
    return tenant.db()


def events_service() -> Any:
    """The events façade (events.service.EventService), or None when the app was built without one."""
    return tenant.service("events")


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


def same_number_view(db: Any, doc: ReceivedDocument) -> list[dict[str, Any]]:
    """The supplier's other documents on file under this number in the same numbering (its invoices of every kind
    share one; each kind of note has its own): DIAN validates one per number, so the clerk must not pay both."""
    kinds = [t for t in DocumentType if t.numbering == doc.document_type.numbering]
    others = db.execute(
        sa.select(ReceivedDocument.id, ReceivedDocument.cufe, ReceivedDocument.state, ReceivedDocument.verdict,
                  ReceivedDocument.issued_at)
        # By the number's index: a supplier's index would walk all its documents ("|| ''" keeps the planner off it).
        .where((ReceivedDocument.issuer_nit + "") == doc.issuer_nit, ReceivedDocument.number == doc.number,
               ReceivedDocument.document_type.in_(kinds), ReceivedDocument.id != doc.id)
        .order_by(ReceivedDocument.id)
    ).all()  # fmt: skip
    return [{"id": o.id, "cufe": o.cufe, "state": STATE_LABELS.get(o.state, o.state),
             "verdict": VERDICT_LABELS.get(o.verdict, o.verdict), "issued": local_time(o.issued_at)}
            for o in others]  # fmt: skip


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
    settings = tenant.settings()
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


def _timeline_error(event: DocumentEvent) -> str | None:
    """DIAN's refusal as DIAN wrote it; a failed send as the outbox told it (both Spanish)."""
    if event.submission_state is SubmissionState.REJECTED:
        return event.last_error
    if event.submission_state is SubmissionState.SEND_FAILED:
        reason = failure_words(event).rstrip(".")
        return reason[:1].upper() + reason[1:] + "."
    return None


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
                "error": _timeline_error(event),
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
    remaining = tenant.calendar().remaining(now, doc.window_ends_at)
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
        parsed = parse_document(tenant.blobs().get(doc.signed_xml_blob))
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
    events = tenant.settings().events
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


# --- The result box, comments, assignment, DIAN's status --------------------------------------------------------

COMMENT_MAX = 2000
COMMENTERS = (Role.CLERK, Role.TREASURY, Role.ADMIN)
ASSIGNERS = (Role.CLERK, Role.ADMIN)
ASKERS = (Role.CLERK, Role.TREASURY, Role.ADMIN)  # "Consultar en DIAN" writes an audit entry and keeps the answer
STATUS_ACTION = "document.dian.status_checked"
# What GetStatus's StatusCode means for a received invoice, in the clerk's words (dian-facts.md 6.5).
STATUS_MEANINGS = {
    "00": ("registered", "La DIAN tiene esta factura registrada como válida."),
    "66": ("queued", "La DIAN no encuentra este CUFE, o su lote aún se está validando."),
    "98": ("queued", "La DIAN aún está procesando este documento."),
    "99": ("rejected", "La DIAN rechazó este documento."),
}


def result_view(doc: ReceivedDocument, events: list[DocumentEvent]) -> tuple[Result | None, bool]:
    """The result box: what the last action came to (flashed by it; focused), else our events still waiting for
    DIAN (not focused). Returns (result, focus)."""
    ids: list[int] = []
    notes: list[tuple[str, str]] = []
    for category, message in get_flashed_messages(with_categories=True):
        if category == "draft":
            continue  # a refused comment's text, given back to its form (comment_draft)
        if category == "outcome" and isinstance(message, dict):
            ids.extend(int(i) for i in message.get("events", []) if str(i).isdigit())
        else:
            notes.append((FLASH_KINDS.get(category, QUEUED), str(message)))
    by_id = {e.id: e for e in events}
    items: list[EventOutcome] = [outcome_of(by_id[i]) for i in ids if i in by_id]
    if items or notes:
        return Result(items, notes), True
    waiting = [
        outcome_of(e)
        for e in events
        if e.direction is Direction.EMITTED
        and e.submission_state in (SubmissionState.SIGNED, SubmissionState.SENT, SubmissionState.SEND_FAILED)
    ]
    return (Result(waiting), False) if waiting else (None, False)


def comment_draft() -> str:
    """The text of a comment just refused, so the clerk can correct it instead of typing it again."""
    return next((str(m) for c, m in get_flashed_messages(with_categories=True) if c == "draft"), "")


def comments_view(doc: ReceivedDocument) -> list[dict[str, str]]:
    rows = _db().scalars(
        sa.select(DocumentComment).where(DocumentComment.document_id == doc.id).order_by(DocumentComment.id)
    )
    return [{"author": c.author, "at": local_time(c.created_at), "body": c.body} for c in rows]


def last_status_check(doc: ReceivedDocument) -> dict[str, Any] | None:
    """The last "Consultar en DIAN" on this document, as kept in the audit log."""
    entry = _db().scalar(
        sa.select(AuditEntry)
        .where(AuditEntry.action == STATUS_ACTION, AuditEntry.subject == doc.cufe)
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    if entry is None or (entry.data or {}).get("document_id") != doc.id:
        return None
    data = entry.data or {}
    return {
        "id": entry.id,
        "at": local_time(entry.at),
        "who": entry.actor.removeprefix("user:"),
        "code": data.get("status_code", ""),
        "description": data.get("description", ""),
        "meaning": data.get("meaning", ""),
        "answer": bool(data.get("answer_blob")),
    }


def assignment_view(doc: ReceivedDocument) -> dict[str, Any]:
    users = assignable_users(_db())
    names = {u.username: display_name(u) for u in users}
    return {
        "current": names.get(doc.assigned_to or "", doc.assigned_to or ""),
        "users": [(u.username, names[u.username]) for u in users],
        "may_assign": current_user.role in ASSIGNERS,
        "me": current_user.username if current_user.role in ASSIGNABLE_ROLES else "",
    }


def combined_available(decisions: dict[str, Any]) -> bool:
    """ "Acuse + recibo" in one click: 030 may be sent now and 032 waits only for it (or may be sent too)."""
    acuse, recibo = decisions.get("030"), decisions.get("032")
    if acuse is None or recibo is None or not acuse.allowed:
        return False
    return bool(recibo.allowed or getattr(recibo, "rule", None) == "LGC09")


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
    result, focus = result_view(doc, events)
    return render_template(
        "document.html",
        result=result,
        focus_result=focus,
        combined=combined_available(decisions),
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
