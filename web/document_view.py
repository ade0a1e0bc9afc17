"""What the document page shows: builders from the stored rows (document, events, comments, audit entries) to the
dicts and strings templates/document.html reads — lines, taxes, checks, timeline, claim window, the XML made
readable, the actions' decisions, the result box, comments, assignment and DIAN's last status answer.

web/documents.py holds the page's routes and calls these; nothing here imports it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from flask import get_flashed_messages
from flask_login import current_user

from dian.codes import DocumentState, DocumentType
from dian.soap.results import NOT_FINAL_CODES
from dian.ubl import Person, parse_document
from dian.ubl.build import qr_url
from events.outbox import unresolved
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
)
from web import tenant
from web.assignment import ASSIGNABLE_ROLES, assignable_users, display_name
from web.document_labels import (
    DIRECTION_LABELS,
    EVENT_SHORT,
    NOT_FINAL_LABEL,
    OUTCOME_LABELS,
    OUTCOME_MARKS,
    SUBMISSION_LABELS,
    TAX_LABELS,
    UNITS,
    UNRESOLVED_LABEL,
    check_label,
)
from web.event_outcome import WAITING, Result, failure_words, result_box
from web.labels import STATE_LABELS, VERDICT_LABELS, local_time, money

log = logging.getLogger(__name__)

# Once accepted, claimed or a title, the 3-business-day window no longer matters to the clerk.
DECIDED = (DocumentState.ACCEPTED, DocumentState.CLAIMED, DocumentState.TACITLY_ACCEPTED, DocumentState.TITLE)
UNAVAILABLE = "Los eventos no están disponibles en esta instalación (falta la configuración de eventos de la DIAN)."


def _db() -> Any:
    return tenant.db()


def events_service() -> Any:
    """The events façade (events.service.EventService), or None when the app was built without one."""
    return tenant.service("events")


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


def xml_rendering(doc: ReceivedDocument) -> dict[str, Any] | None:
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


def decisions(doc: ReceivedDocument) -> tuple[dict[str, Any], str | None]:
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

ASSIGNERS = (Role.CLERK, Role.ADMIN)
STATUS_ACTION = "document.dian.status_checked"


def result_view(doc: ReceivedDocument, events: list[DocumentEvent]) -> tuple[Result | None, bool]:
    """The result box: what the last action came to (flashed by it; focused), else our events still waiting for
    DIAN (not focused). Returns (result, focus)."""
    return result_box(events, lambda e: e.direction is Direction.EMITTED and e.submission_state in WAITING)


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
