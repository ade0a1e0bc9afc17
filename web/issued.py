"""Facturas emitidas: our own invoices and notes — the list (state, buyer, amounts, DIAN's answer, the buyer's events;
filters by state, type and date; keyset pages like the inbox), one document's page (DIAN's answer and its rules in
Spanish, the buyer's events, the notes that correct it), and its downloads (signed XML, PDF, the buyer's zip).

Billing (facturación) acts; treasury, admins and auditors read; the supplier-invoice clerks do not see it (their
work is what we receive, not what we sell). The hand-issuing form is web/issued_form.py.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from dian.codes import DocumentType
from dian.soap.packaging import zip_dated
from store.models import Direction, DocumentEvent, OutboundDocument, OutboundState, Role
from web import tenant
from web.access import roles
from web.issued_delivery import delivery_marker, delivery_view, mail_settings, pdf_options
from web.issued_labels import BUYER_EVENTS, STATE_HINTS, STATE_LABELS, TYPE_LABELS, explain_rules
from web.labels import local_time, money

log = logging.getLogger(__name__)

bp = Blueprint("issued", __name__)

READERS = (Role.BILLING, Role.TREASURY, Role.ADMIN, Role.AUDITOR)
ACTORS = (Role.BILLING,)
PAGE_SIZE = 50


def _db() -> Any:
    return tenant.db()


def issuing_service() -> Any:
    """The issuing façade (issuing.service.IssuingService), or None when the app was built without one."""
    return tenant.service("issuing")


def may_issue() -> bool:
    return getattr(current_user, "role", None) in ACTORS


def get_document(document_id: int) -> OutboundDocument:
    row = _db().get(OutboundDocument, document_id)
    if row is None:
        abort(404)
    return row


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def buyer_events(ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The buyer's 030-034 on these documents that DIAN registered (or that we saw registered), oldest first."""
    found: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    if not ids:
        return found
    rows = _db().scalars(
        sa.select(DocumentEvent)
        .where(DocumentEvent.outbound_document_id.in_(ids), DocumentEvent.code.in_(list(BUYER_EVENTS)))
        .order_by(DocumentEvent.id)
    )
    for event in rows:
        found[event.outbound_document_id].append({
            "code": event.code.value, "label": BUYER_EVENTS[event.code.value],
            # the buyer's own moment (its signing time), not when our sync learned it; for our 034, DIAN's registration
            "state": event.submission_state.value, "when": local_time(
                event.signing_time if event.direction is Direction.OBSERVED and event.signing_time
                else event.registered_at or event.signing_time),
            "claim": event.claim_reason.value if event.claim_reason else None, "note": event.note,
        })  # fmt: skip
    return found


def closed_by_buyer(events: list[dict[str, Any]]) -> str | None:
    """The code of the buyer's acceptance (033, or our tacit 034) when there is one: after it the invoice admits no
    credit or debit note (dian-facts 2.2)."""
    return next((e["code"] for e in events if e["code"] in ("033", "034") and e["state"] != "rejected"), None)


def row_view(row: OutboundDocument, events: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": row.id, "number": row.number, "type": TYPE_LABELS.get(row.document_type, row.document_type.value),
        "type_code": row.document_type.value, "buyer": row.buyer_name, "buyer_nit": row.buyer_nit,
        "issued": local_time(row.issued_at), "due": row.due_date.strftime("%d/%m/%Y") if row.due_date else "—",
        "subtotal": money(row.line_extension_amount, row.currency) if row.line_extension_amount is not None else "",
        "taxes": money((row.tax_inclusive_amount or 0) - (row.tax_exclusive_amount or 0), row.currency)
        if row.tax_inclusive_amount is not None else "",
        "payable": money(row.payable_amount, row.currency), "state": row.state.value,
        "state_label": STATE_LABELS.get(row.state, row.state.value), "dian_code": row.dian_status_code,
        "events": events, "claimed": any(e["code"] == "031" for e in events), "mail": delivery_marker(row),
    }  # fmt: skip


def newest_page(query: Any, before: str, size: int) -> tuple[list[OutboundDocument], bool]:
    """One page (``size`` rows) of ``query``'s documents, newest first and older than the id ``before`` when it is one
    (the lists of issued documents here and in web/support.py); and whether more follow."""
    if before.isdigit():
        query = query.where(OutboundDocument.id < int(before))
    rows = list(_db().scalars(query.order_by(OutboundDocument.id.desc()).limit(size + 1)))
    return rows[:size], len(rows) > size


@bp.get("/facturas-emitidas")
@roles(*READERS)
def index() -> str:
    """Our documents, newest first, 50 a page; filtered by state, type and issue date."""
    args = request.args
    state = next((s for s in OutboundState if s.value == args.get("estado", "")), None)
    kind = next((t for t in DocumentType if t.value == args.get("tipo", "")), None)
    since, until = _date(args.get("desde", "")), _date(args.get("hasta", ""))
    problems = []
    if args.get("estado") and state is None:
        problems.append(f"El estado «{args['estado'][:40]}» no existe.")
    if args.get("tipo") and kind is None:
        problems.append(f"El tipo «{args['tipo'][:40]}» no existe.")
    for key, value in (("desde", since), ("hasta", until)):
        if args.get(key) and value is None:
            problems.append(f"La fecha «{args[key][:20]}» no es una fecha (AAAA-MM-DD).")
    # the documentos soporte (05, 95) are AP's, listed in web/support.py, not among our sales
    query = sa.select(OutboundDocument).where(
        OutboundDocument.document_type.not_in([DocumentType.SUPPORT_DOCUMENT, DocumentType.SUPPORT_ADJUSTMENT])
    )
    if state is not None:
        query = query.where(OutboundDocument.state == state)
    if kind is not None:
        query = query.where(OutboundDocument.document_type == kind)
    if since is not None:
        query = query.where(OutboundDocument.issue_date >= since)
    if until is not None:
        query = query.where(OutboundDocument.issue_date <= until)
    before = args.get("antes", "")
    rows, more = newest_page(query, before, PAGE_SIZE)
    events = buyer_events([r.id for r in rows])
    kept = {k: v for k, v in args.items() if k in ("estado", "tipo", "desde", "hasta") and v}
    return render_template(
        "issued.html",
        rows=[row_view(r, events[r.id]) for r in rows],
        next_args={**kept, "antes": rows[-1].id} if more else None,
        first_args=kept if before else None,
        filters={"estado": args.get("estado", ""), "tipo": args.get("tipo", ""), "desde": args.get("desde", ""),
                 "hasta": args.get("hasta", "")},
        states=STATE_LABELS, types=TYPE_LABELS, problems=problems, may_issue=may_issue(),
        available=issuing_service() is not None,
    )  # fmt: skip


@bp.get("/facturas-emitidas/<int:document_id>")
@roles(*READERS)
def show(document_id: int) -> str:
    """One document: its figures, DIAN's answer (rules explained), the buyer's events, its notes, the downloads."""
    row = get_document(document_id)
    if row.document_type.is_support:  # a documento soporte has its own page, for AP (web/support.py)
        return redirect(url_for("support.show", document_id=row.id))  # type: ignore[return-value]
    events = buyer_events([row.id])[row.id]
    notes = list(_db().scalars(sa.select(OutboundDocument).where(OutboundDocument.reference_id == row.id)
                               .order_by(OutboundDocument.id)))  # fmt: skip
    reference = _db().get(OutboundDocument, row.reference_id) if row.reference_id else None
    payload = row.payload or {}
    return render_template(
        "issued_document.html",
        doc=row, view=row_view(row, events), hint=STATE_HINTS.get(row.state, ""),
        rules=explain_rules(list(row.dian_messages or [])),
        lines=payload.get("lines") or [], money=money,
        notes=[row_view(n, []) for n in notes], reference=reference,
        totals=[("Subtotal (antes de impuestos)", row.line_extension_amount),
                ("Descuentos", row.allowance_total_amount), ("Total con impuestos", row.tax_inclusive_amount),
                ("Retenciones (informativas)", row.withholding_amount), ("Total a pagar", row.payable_amount)],
        is_invoice=row.document_type.is_invoice, may_issue=may_issue() and issuing_service() is not None,
        closed=closed_by_buyer(events),
        accepted=row.state is OutboundState.ACCEPTED, local_time=local_time,
        delivery=delivery_view(_db(), row) if row.origin == "issued" else None,
    )  # fmt: skip


def stored_blob(key: str | None) -> bytes:
    """A stored blob (the signed XML, the AttachedDocument) of an issued document, or a 404 when it has none."""
    if not key:
        abort(404)
    return tenant.blobs().get(key)


@bp.get("/facturas-emitidas/<int:document_id>/xml")
@roles(*READERS)
def xml(document_id: int) -> Response:
    """The signed XML exactly as it was signed and sent."""
    row = get_document(document_id)
    name = row.file_name or f"{row.number}.xml"
    return Response(stored_blob(row.xml_blob), mimetype="application/xml",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip


def pdf_bytes(row: OutboundDocument) -> bytes:
    from issuing.pdf import render_pdf

    validated = row.validated_at if row.state is OutboundState.ACCEPTED else None
    return render_pdf(stored_blob(row.xml_blob), validated_at=validated, options=pdf_options())


@bp.get("/facturas-emitidas/<int:document_id>/pdf")
@roles(*READERS)
def pdf(document_id: int) -> Response:
    """The graphic representation, from the signed XML (pending validation printed as such until DIAN accepts)."""
    row = get_document(document_id)
    return Response(pdf_bytes(row), mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{row.number}.pdf"'})  # fmt: skip


@bp.get("/facturas-emitidas/<int:document_id>/zip")
@roles(*READERS)
def zip_file(document_id: int) -> Response:
    """What the buyer receives (dian-facts §4.1): the AttachedDocument with DIAN's answer and the PDF, once DIAN
    validated the document; before that there is no AttachedDocument to give."""
    row = get_document(document_id)
    if row.state is not OutboundState.ACCEPTED or not row.attached_blob:
        abort(404)
    from issuing.buyer_mail import package_moment  # here, not at import: it loads reportlab, which the app defers

    stem = (row.file_name or row.number).rsplit(".", 1)[0]
    attached_name = f"ad{stem[2:] if stem[:2] in ('fv', 'nc', 'nd') else stem}"
    # Named and dated as the buyer's mail names and dates them (issuing.buyer_mail): ad….xml and ad….pdf.
    data = zip_dated({f"{attached_name}.xml": stored_blob(row.attached_blob), f"{attached_name}.pdf": pdf_bytes(row)},
                     package_moment(row))  # fmt: skip
    return Response(data, mimetype="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="z{stem[2:]}.zip"'})  # fmt: skip


@bp.post("/facturas-emitidas/<int:document_id>/reenviar")
@roles(*ACTORS)
def resend(document_id: int) -> Any:
    """Queue the buyer's copy again (issuing.delivery.resend_to_buyer): to the address typed, else the one found as for
    the first mail (the ERP's, else DIAN's GetAcquirer / GetExchangeEmails)."""
    from issuing.delivery import BuyerAddresses, resend_to_buyer

    service = issuing_service()
    row = get_document(document_id)
    if service is None:
        abort(503)
    to = (request.form.get("correo") or "").strip() or None
    client = service.make_client() if to is None and not row.buyer_email and service.make_client else None
    try:
        delivery = resend_to_buyer(service.sessions, service.ctx, mail_settings(), row.id,
                                   actor=current_user.actor, to=to,
                                   addresses=BuyerAddresses(client) if client is not None else None)  # fmt: skip
    except ValueError as exc:
        flash(f"No se reenvió: {exc}.", "error")
    except Exception:  # DIAN unreachable while looking for the buyer's address
        log.exception("resending %s to the buyer failed", row.number)
        flash("No se reenvió: la DIAN no respondió al buscar el correo del comprador. Escriba el correo y reintente.",
              "error")  # fmt: skip
    else:
        if delivery.get("problem"):
            flash(f"No se reenvió: {delivery.get('detail') or delivery['problem']}.", "error")
        else:
            flash(f"Reenvío en cola para {delivery.get('to')}: sale con el próximo envío de correo.", "ok")
    finally:
        if client is not None:
            client.close()
    return redirect(url_for("issued.show", document_id=row.id) + "#entrega")
