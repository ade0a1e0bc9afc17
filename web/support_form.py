"""Issuing a documento soporte by hand (AP): the seller not obliged to invoice (NIT with its DV, cédula, or a foreign
ID and country for a non-resident), lines with quantity, price, IVA, ReteFuente and ReteIVA and their generation mode
(por operación / acumulado semanal, with the period's start); "Calcular" shows the totals issuing.support_document
computes (web/static/support.js only an estimate while typing), "Vista previa" the PDF built in memory and marked
VISTA PREVIA (never stored, no number taken), "Firmar y enviar a la DIAN" through the SupportService, whose outcome
the document's page tells (validated with its CUDS, rejected with DIAN's rules, queued after an outage). The
adjustment note (95) uses the same form, prefilled from its DS.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_login import current_user

from dian.calendar import BOGOTA
from issuing.problems import PayloadError, Problem
from issuing.service import IdempotencyConflict
from issuing.support_request import read_support_request
from store.models import OutboundDocument, OutboundState
from web.access import roles
from web.issued_fields import problems_view
from web.issued_form import form_fields, preview_pdf_response
from web.labels import money
from web.support import ACTORS, get_support, support_service
from web.support_fields import (
    CONCEPTS,
    FOREIGN_ID_TYPES_ES,
    IVA_RATES,
    MODES,
    PAYMENT_METHODS,
    RESIDENT_ID_TYPES,
    FormMap,
    field_of,
    fields_of_support,
    figure,
    line_count,
    payload_of,
)

log = logging.getLogger(__name__)

bp = Blueprint("support_form", __name__)

# 06 is the retención en la fuente a título de renta: AP calls it ReteFuente.
WITHHOLDING_NAMES = {"06": "ReteFuente (renta)", "05": "ReteIVA"}
TITLES = {"05": "Nuevo documento soporte", "95": "Nueva nota de ajuste"}


def _today() -> dt.date:
    return dt.datetime.now(BOGOTA).date()


def _problems_view(problems: Any, found: FormMap) -> tuple[list[dict[str, str]], dict[str, str]]:
    return problems_view(problems, lambda pointer: field_of(pointer, found))


def totals_view(support_request: Any) -> tuple[dict[str, Any] | None, list[Problem]]:
    """The totals the SupportService will sign (``totals``: issuing.totals with the line withholdings), or the
    problems that prevent them."""
    service = support_service()
    try:
        if service is not None:
            totals = service.totals(support_request)
        else:  # the form still computes when issuing is not configured; the same function the service calls
            from issuing.support_document import support_totals

            totals = support_totals(support_request)[0]
    except PayloadError as exc:
        return None, list(exc.problems)
    cur = support_request.payload.currency
    withheld = sum((g.amount for g in totals.withholdings), Decimal(0))
    return {
        "lines": [money(line.line_extension, cur) for line in totals.lines],
        "rows": [("Subtotal (antes de IVA)", money(totals.line_extension, cur)),
                 *[(g.name, money(g.amount, cur)) for g in totals.taxes if g.amount],
                 ("Total del documento", money(totals.payable, cur))],
        "withholdings": [(WITHHOLDING_NAMES.get(g.scheme, g.name), money(g.amount, cur)) for g in totals.withholdings],
        "net": money(totals.payable - withheld, cur) if withheld else None,
        "payable": money(totals.payable, cur),
    }, []  # fmt: skip


def render_form(fields: dict[str, str], *, problems: Any = (), found: FormMap | None = None, totals: Any = None,
                status: int = 200, note_of: OutboundDocument | None = None) -> Any:  # fmt: skip
    kind = "95" if fields.get("tipo") == "95" else "05"
    fields["tipo"] = kind
    fields.setdefault("clave", secrets.token_urlsafe(16))
    if not fields.get("clave"):
        fields["clave"] = secrets.token_urlsafe(16)
    listed, by_field = _problems_view(problems, found or FormMap())
    return render_template(
        "support_form.html", f=fields, kind=kind, title=TITLES[kind], lines=range(1, line_count(fields) + 1),
        problems=listed, errors=by_field, totals=totals, iva_rates=IVA_RATES, methods=PAYMENT_METHODS,
        resident_ids=RESIDENT_ID_TYPES, foreign_ids=FOREIGN_ID_TYPES_ES, modes=MODES, concepts=CONCEPTS,
        available=support_service() is not None, note_of=note_of,
    ), status  # fmt: skip


@bp.get("/soporte/nuevo")
@roles(*ACTORS)
def new() -> Any:
    """The empty form: a resident seller identified by cédula, one operation today, paid in cash."""
    return render_form({"tipo": "05", "v_residente": "1", "v_tipo_id": "13", "p_forma": "1", "p_medio": "10",
                        "l1_cantidad": "1", "l1_iva": "0", "l1_modo": "1",
                        "l1_inicio": _today().isoformat()})  # fmt: skip


def note_fields(ds: OutboundDocument, *, concept: str = "2", amount: str = "", rate: str = "") -> dict[str, str]:
    """The 95's form fields from its DS: the body SupportService.adjustment_of gives (seller, lines as issued, the
    reference with its CUDS) for concept 2, the annulment; another concept with ``amount`` one line for it (before
    IVA) at ``rate``. A DS DIAN has not validated gives its seller and reference only (the page says why no note)."""
    service = support_service()
    try:
        body = service.adjustment_of(ds.id, concept) if service is not None else None
    except LookupError:
        body = None
    if body is None:
        body = {"seller": (ds.payload or {}).get("seller") or {}, "lines": []}
    fields = fields_of_support(body)
    if concept != "2" and amount:
        fields = {k: v for k, v in fields.items() if not k.startswith("l")}
        words = CONCEPTS.get(concept, "Ajuste")
        fields.update(l1_descripcion=f"{words} · documento soporte {ds.number}", l1_cantidad="1", l1_precio=amount,
                      l1_iva=rate or "0")  # fmt: skip
    fields.update(tipo="95", concepto=concept, r_numero=ds.number, r_cuds=ds.cufe or "",
                  r_fecha=ds.issue_date.isoformat() if ds.issue_date else "")  # fmt: skip
    return fields


@bp.get("/soporte/<int:document_id>/nota-ajuste")
@roles(*ACTORS)
def note(document_id: int) -> Any:
    """The full 95 form for this DS (line by line), prefilled as an annulment; the DS's page offers the short way."""
    ds = get_support(document_id)
    if ds.document_type.value != "05":
        abort(404)
    concept = request.args.get("concepto", "2")
    fields = note_fields(ds, concept=concept if concept in CONCEPTS else "2", amount=request.args.get("valor", ""),
                         rate=request.args.get("iva", ""))  # fmt: skip
    problems = []
    if ds.state is OutboundState.REJECTED:
        problems.append(Problem("/reference/uuid", f"la DIAN rechazó el documento soporte {ds.number}: no admite "
                                "notas de ajuste"))  # fmt: skip
    return render_form(fields, problems=problems, note_of=ds)


def _note_of(fields: dict[str, str]) -> OutboundDocument | None:
    service = support_service()
    if fields.get("tipo") != "95" or service is None or not fields.get("r_cuds"):
        return None
    return service.issuing.find(fields["r_cuds"])


def issue_and_send(fields: dict[str, str], *, note_of: OutboundDocument | None = None) -> Any:
    """Issue the DS/95 the fields describe and send it to DIAN now; its page tells the outcome (a DIAN outage leaves it
    queued for the job deliver_issued). Problems come back on the form, each at its field."""
    service = support_service()
    if service is None:
        abort(503)
    data, found = payload_of(fields, _today())
    support_request, problems = read_support_request(data)
    if support_request is None:
        return render_form(fields, problems=problems, found=found, status=422, note_of=note_of)
    totals, problems = totals_view(support_request)
    if problems:
        return render_form(fields, problems=problems, found=found, status=422, note_of=note_of)
    try:
        issued = service.issue(support_request, actor=current_user.actor, idempotency_key=fields.get("clave") or None,
                               client_key=f"web:{current_user.id}")  # fmt: skip
    except IdempotencyConflict:  # the same form sent again after a change: a new key for the changed document
        fields["clave"] = ""
        return render_form(fields, problems=[Problem("", "este formulario ya se envió con otros datos; revise y "
                                                     "pulse de nuevo «Firmar y enviar a la DIAN»")],
                           found=found, totals=totals, status=409, note_of=note_of)  # fmt: skip
    except PayloadError as exc:
        return render_form(fields, problems=exc.problems, found=found, totals=totals, status=422, note_of=note_of)
    if not issued.replayed:
        try:
            service.issuing.deliver(only=[issued.id], actor=current_user.actor)
        except Exception:  # signed and numbered: the outbox job sends it; its page says it is queued
            log.exception("sending %s to DIAN from the form failed; it stays queued", issued.number)
    return redirect(url_for("support.show", document_id=issued.id, enviado=1) + "#resultado")


@bp.post("/soporte/nuevo")
@roles(*ACTORS)
def submit() -> Any:
    """Calcular (totals), Vista previa (the preview page) or Enviar (issue and send), from the same fields."""
    fields = form_fields()
    action = fields.pop("accion", "calcular")
    note_of = _note_of(fields)
    if action == "enviar":
        return issue_and_send(fields, note_of=note_of)
    data, found = payload_of(fields, _today())
    support_request, problems = read_support_request(data)
    totals = None
    if support_request is not None:
        totals, problems = totals_view(support_request)
    if support_request is None or problems or action != "vista_previa":
        return render_form(fields, problems=problems, found=found, totals=totals, note_of=note_of,
                           status=422 if problems else 200)  # fmt: skip
    kind = "95" if fields.get("tipo") == "95" else "05"
    return render_template("support_preview.html", f=fields, totals=totals, title=TITLES[kind], kind=kind,
                           payload=support_request.payload, support=support_request, money=money,
                           modes=MODES)  # fmt: skip


@bp.post("/soporte/vista-previa.pdf")
@roles(*ACTORS)
def preview_pdf() -> Response:
    """The preview PDF: built and signed in memory with the next number of the DS range (not taken), never stored,
    never sent, marked VISTA PREVIA — sin validez on every page."""
    service = support_service()
    if service is None:
        abort(503)
    fields = form_fields()
    data, found = payload_of(fields, _today())
    support_request, problems = read_support_request(data)
    if support_request is None:
        return render_form(fields, problems=problems, found=found, status=422)
    try:
        document = service.preview(support_request)
    except PayloadError as exc:
        return render_form(fields, problems=exc.problems, found=found, status=422)
    return preview_pdf_response(document.xml, counterpart="vendedor", key="CUDS",
                                what="un documento soporte electrónico")  # fmt: skip


@bp.post("/soporte/<int:document_id>/nota-ajuste")
@roles(*ACTORS)
def quick_note(document_id: int) -> Any:
    """The second click: the 95 on this DS with the concept and amount chosen on its page, issued and sent. Concept 2
    (annulment) copies the DS's lines; the others one line for the amount before IVA at the rate chosen. Problems go
    back to the full note form, filled."""
    ds = get_support(document_id)
    concept = (request.form.get("concepto") or "").strip()
    amount_text = (request.form.get("valor") or "").strip()
    rate = (request.form.get("iva") or "0").strip()
    fields = note_fields(ds, concept=concept, amount=amount_text, rate=rate)
    fields["clave"] = (request.form.get("clave") or "").strip()
    problems = []
    if concept not in CONCEPTS:
        problems.append(("concepto", "Elija el concepto de la nota (1 a 5)."))
    if concept != "2":
        try:
            value = Decimal(figure(amount_text))
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite() or value <= 0:
            problems.append(("valor", "Escriba el valor de la nota antes de IVA, mayor que cero (p. ej. 85.000)."))
    if problems:
        pointers = {"concepto": "/concept", "valor": "/lines/0/unit_price"}
        return render_form(fields, problems=[Problem(pointers[k], m) for k, m in problems], status=422, note_of=ds)
    return issue_and_send(fields, note_of=ds)
