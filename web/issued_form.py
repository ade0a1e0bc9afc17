"""Issuing by hand (facturación): the form (buyer, lines with quantity, price, discount, IVA and INC rates; payment
form and means; due date), "Calcular" (the server computes the totals with issuing.totals — the same Decimal code that
builds the document; web/static/issued.js only shows an estimate while typing), the preview PDF, and "Enviar a la
DIAN" through issuing.service, whose answer the document's page tells as it is: validated, queued because DIAN did not
answer, or rejected with its rules. A credit or debit note starts from an invoice's page, its lines and reference
filled in: the concept is chosen and it is sent.

The preview is honest about what it is: the document built and signed in memory with the number the range would give
next (not taken: another sale may take it first), never stored nor sent, printed "VISTA PREVIA — sin validez".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import secrets
from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_login import current_user

from issuing.problems import PayloadError, Problem
from issuing.request import read_request
from issuing.totals import compute_totals
from store.models import OutboundDocument, OutboundState
from web.access import roles
from web.issued import ACTORS, buyer_events, closed_by_buyer, get_document, issuing_service
from web.issued_delivery import pdf_options
from web.issued_fields import (
    CONCEPTS,
    ID_TYPES,
    INC_RATES,
    IVA_RATES,
    PAYMENT_METHODS,
    field_of,
    fields_of_payload,
    line_count,
    payload_of,
    problems_view,
)
from web.labels import money

log = logging.getLogger(__name__)

bp = Blueprint("issue_form", __name__)

TITLES = {"01": "Nueva factura de venta", "91": "Nueva nota crédito", "92": "Nueva nota débito"}
PREVIEW_MARK = "VISTA PREVIA — sin validez"


def _problems_view(problems: Any, rows: dict[int, int]) -> tuple[list[dict[str, str]], dict[str, str]]:
    return problems_view(problems, lambda pointer: field_of(pointer, rows))


def _totals_view(payload: Any) -> dict[str, Any] | None:
    try:
        totals = compute_totals(payload)
    except PayloadError:
        return None
    cur = payload.currency
    taxes = [(f"{g.name}", money(g.amount, cur)) for g in totals.taxes]
    return {
        "lines": [money(line.line_extension, cur) for line in totals.lines],
        "rows": [("Subtotal", money(totals.line_extension, cur)),
                 *([("Descuentos aplicados", money(sum(line.allowances for line in totals.lines), cur))]
                   if any(line.allowances for line in totals.lines) else []),
                 *taxes, ("Total con impuestos", money(totals.tax_inclusive, cur))],
        "payable": money(totals.payable, cur),
    }  # fmt: skip


def _render(fields: dict[str, str], *, problems: Any = (), rows: dict[int, int] | None = None,
            totals: Any = None, status: int = 200, note_of: OutboundDocument | None = None) -> Any:  # fmt: skip
    kind = fields.get("tipo") or "01"
    if kind not in TITLES:
        kind = fields["tipo"] = "01"
    fields.setdefault("clave", secrets.token_urlsafe(16))
    listed, by_field = _problems_view(problems, rows or {})
    return render_template(
        "issued_form.html", f=fields, kind=kind, title=TITLES[kind], lines=range(1, line_count(fields) + 1),
        problems=listed, errors=by_field, totals=totals, iva_rates=IVA_RATES, inc_rates=INC_RATES,
        methods=PAYMENT_METHODS, id_types=ID_TYPES, concepts=CONCEPTS.get(kind, {}),
        available=issuing_service() is not None, note_of=note_of,
    ), status  # fmt: skip


@bp.get("/facturas-emitidas/nueva")
@roles(*ACTORS)
def new() -> Any:
    """The empty form (an invoice paid on credit in 30 days unless changed)."""
    due = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    return _render({"tipo": "01", "c_tipo_id": "31", "c_iva": "01", "p_forma": "2", "p_medio": "42", "p_vence": due,
                    "l1_cantidad": "1", "l1_iva": "19"})  # fmt: skip


@bp.get("/facturas-emitidas/<int:document_id>/nota-<kind>")
@roles(*ACTORS)
def note(document_id: int, kind: str) -> Any:
    """A credit (nota-credito) or debit (nota-debito) note for this invoice: its buyer, lines and reference filled."""
    type_code = {"credito": "91", "debito": "92"}.get(kind)
    invoice = get_document(document_id)
    if type_code is None or not invoice.document_type.is_invoice:
        abort(404)
    fields = fields_of_payload(invoice.payload or {})
    if not invoice.payload:  # an invoice issued elsewhere and imported: the buyer only
        fields.update(c_id=invoice.buyer_nit, c_nombre=invoice.buyer_name, c_correo=invoice.buyer_email or "")
    fields.update(tipo=type_code, r_numero=invoice.number, r_cufe=invoice.cufe or "",
                  r_fecha=invoice.issue_date.isoformat() if invoice.issue_date else "",
                  concepto="2" if type_code == "91" else "4", p_forma="1")  # fmt: skip
    problems = []
    if invoice.state is OutboundState.REJECTED:
        problems.append(Problem("/reference/uuid", f"la DIAN rechazó la factura {invoice.number}: no admite notas"))
    closed = closed_by_buyer(buyer_events([invoice.id])[invoice.id])
    if closed is not None:
        problems.append(Problem("/reference/uuid", f"el comprador aceptó la factura {invoice.number} (evento "
                                                   f"{closed}): la DIAN ya no admite notas sobre ella"))  # fmt: skip
    return _render(fields, problems=problems, note_of=invoice)


def form_fields() -> dict[str, str]:
    """The posted form's fields, without the CSRF token."""
    return {key: value for key, value in request.form.items() if key != "csrf_token"}


@bp.post("/facturas-emitidas/nueva")
@roles(*ACTORS)
def submit() -> Any:
    """Calcular (totals), Vista previa (the preview page) or Enviar (issue and send), from the same fields."""
    fields = form_fields()
    action = fields.pop("accion", "calcular")
    data, rows = payload_of(fields)
    issue_request, problems = read_request(data)
    totals = _totals_view(issue_request.payload) if issue_request is not None else None
    if issue_request is None or action == "calcular":
        return _render(fields, problems=problems, rows=rows, totals=totals, status=200 if not problems else 422)
    if action == "vista_previa":
        return render_template("issued_preview.html", f=fields, totals=totals, title=TITLES.get(fields["tipo"], ""),
                               payload=issue_request.payload, money=money)  # fmt: skip
    service = issuing_service()
    if service is None:
        abort(503)
    try:
        issued = service.issue(issue_request, actor=current_user.actor, idempotency_key=fields.get("clave") or None,
                               client_key=f"web:{current_user.id}")  # fmt: skip
    except PayloadError as exc:
        return _render(fields, problems=exc.problems, rows=rows, totals=totals, status=422)
    if not issued.replayed:
        try:
            service.deliver(only=[issued.id], actor=current_user.actor)
        except Exception:  # the document is signed and numbered: the outbox job sends it; its page says so
            log.exception("sending %s to DIAN from the form failed; it stays queued", issued.number)
    return redirect(url_for("issued.show", document_id=issued.id, enviado=1) + "#resultado")


@bp.post("/facturas-emitidas/vista-previa.pdf")
@roles(*ACTORS)
def preview_pdf() -> Response:
    """The preview PDF: built and signed in memory with the next number of the range (not taken), never stored,
    never sent, marked VISTA PREVIA — sin validez on every page."""
    from issuing import ranges
    from issuing.document import BOGOTA, Numbering, issue_document

    service = issuing_service()
    if service is None:
        abort(503)
    fields = form_fields()
    data, rows = payload_of(fields)
    issue_request, problems = read_request(data)
    if issue_request is None:
        return _render(fields, problems=problems, rows=rows, status=422)
    payload, ctx, now = issue_request.payload, service.ctx, service.clock()
    kind = ranges.kind_for(payload.type)
    with service.sessions() as s:
        try:
            if not kind.from_dian:
                prefix = ctx.note_prefixes[0 if kind is ranges.RangeKind.CREDIT_NOTE else 1]
                numbering = Numbering(prefix, 0)
            else:
                chosen = ranges.choose_range(s, kind, ctx.environment, now.astimezone(BOGOTA).date())
                numbering = Numbering(chosen.prefix, chosen.next_number, ranges.dian_range(chosen))
        except ranges.RangeError as exc:
            return _render(fields, problems=[Problem(exc.pointer, str(exc))], rows=rows, status=422)
        finally:
            s.rollback()
    try:
        document = issue_document(payload, issuer=ctx.issuer, environment=ctx.environment, issued_at=now,
                                  numbering=numbering)  # fmt: skip
    except PayloadError as exc:
        return _render(fields, problems=exc.problems, rows=rows, status=422)
    return preview_pdf_response(document.xml, counterpart="comprador", key="CUFE", what="una factura electrónica")


def preview_pdf_response(xml: bytes, *, counterpart: str, key: str, what: str) -> Response:
    """The PDF of a document signed in memory for the preview (also the documento soporte's, web/support_form.py):
    marked VISTA PREVIA, its number, ``key`` and QR said to be provisional, the company's logo and business line as
    the real one will print them, and a footer saying it is not ``what``."""
    from issuing.pdf import render_sheet
    from issuing.pdf_content import read_sheet

    sheet = read_sheet(xml, validated_at=None, software_name="Buzón")
    sheet = dataclasses.replace(
        sheet, subtitle=PREVIEW_MARK,
        notes=(f"{PREVIEW_MARK}: no se ha enviado a la DIAN ni al {counterpart}. El número {sheet.number}, el {key} y "
               "el QR son provisionales: los definitivos se asignan al enviar.", *sheet.notes),
    )  # fmt: skip
    options = dataclasses.replace(pdf_options(), footer=f"{PREVIEW_MARK} · no es {what}")
    return Response(render_sheet(sheet, options), mimetype="application/pdf",
                    headers={"Content-Disposition": 'inline; filename="vista-previa.pdf"'})  # fmt: skip
