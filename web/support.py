"""Documento soporte (AP): the documentos soporte (05) and adjustment notes (95) we issued as buyer to sellers not
obliged to invoice — the list (DIAN's state, seller, amounts, generation mode; filters by seller, state and type;
keyset pages like the other lists), one document's page (DIAN's answer with its rules in Spanish, the lines with their
withholdings, the notes on it, XML and PDF), and the adjustment note in two clicks from a DS's page (the concept and
the amount; concept 2, the annulment, takes the whole DS).

The AP clerks and admins act; treasury and auditors read. Billing (facturación) does not see it: the DS is AP's
document about a purchase, not a sale (its hand form is web/support_form.py, the week's purchases web/support_week.py).
"""

from __future__ import annotations

import logging
import re
import secrets
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, render_template, request
from flask_login import current_user

from dian.codes import DocumentType
from store.models import OutboundDocument, OutboundState
from web import tenant
from web.access import roles
from web.api_issuing import SUPPORT_ISSUERS, SUPPORT_READERS
from web.issued import issuing_service, newest_page, stored_blob
from web.issued_delivery import delivery_view, pdf_options
from web.issued_labels import STATE_HINTS, STATE_LABELS, explain_rules
from web.labels import local_time, money
from web.support_fields import CONCEPTS, MODES

log = logging.getLogger(__name__)

bp = Blueprint("support", __name__)

# AP's document: clerks and admins act, treasury and auditors read (the API's rule too).
READERS = SUPPORT_READERS
ACTORS = SUPPORT_ISSUERS
PAGE_SIZE = 50
SUPPORT_TYPES = (DocumentType.SUPPORT_DOCUMENT, DocumentType.SUPPORT_ADJUSTMENT)
TYPE_LABELS = {DocumentType.SUPPORT_DOCUMENT: "Documento soporte", DocumentType.SUPPORT_ADJUSTMENT: "Nota de ajuste"}
# DIAN's rules on a DS or a 95 (radian-issuing-facts C.2-C.5 and the simulator's), meaning and next step.
_RANGE = ("El administrador debe leer de nuevo los rangos de la DIAN («buzon ranges sync») y revisar la autorización "
          "de numeración del documento soporte (formulario 1876) en el portal de la DIAN.")  # fmt: skip
SUPPORT_RULES = {
    "DSAD06": ("El CUDS del documento soporte no es el que la DIAN calcula.", "Revise el PIN del software en la "
               "configuración; si es correcto, copie el texto de la DIAN y consulte al administrador de Buzón."),
    "NSAD06": ("El CUDS de la nota de ajuste no es el que la DIAN calcula.", "Revise el PIN del software en la "
               "configuración; si es correcto, copie el texto de la DIAN y consulte al administrador de Buzón."),
    # InvoiceControl against DIAN's range table, field by field as the invoice's FAB rules (radian-issuing-facts C.5).
    "DSAB05b": ("El número de la autorización de numeración no es una autorización de documento soporte de este "
                "adquiriente (por ejemplo, el rango es de facturas).", _RANGE),
    "DSAB07a": ("La fecha del documento está fuera de la vigencia de la autorización de numeración.", _RANGE),
    "DSAB07b": ("La fecha inicial de la autorización no coincide con la de la DIAN.", _RANGE),
    "DSAB08b": ("La fecha final de la autorización no coincide con la de la DIAN.", _RANGE),
    "DSAB10b": ("El prefijo no corresponde a la autorización de numeración.", _RANGE),
    "DSAB11b": ("El número está fuera del rango autorizado, o el número inicial del rango no coincide con el "
                "autorizado.", _RANGE),
    "DSAB12b": ("El número final del rango no coincide con el autorizado.", _RANGE),
    "NSBG04": ("El documento soporte que ajusta la nota no existe en la DIAN.",
               "Revise el número y el CUDS del documento soporte referenciado."),
    "RUT01": ("Un aviso de la DIAN sobre la consulta del RUT; no impide la validación.", "Nada: es informativo."),
    "VLR02": ("Las notas de ajuste superan el valor del documento soporte.",
              "Revise los valores de la nota frente al documento soporte y sus notas anteriores."),
}  # fmt: skip


def _db() -> Any:
    return tenant.db()


def support_service() -> Any:
    """The documento soporte façade (issuing.support_service.SupportService) on the app's issuing one, or None."""
    service = issuing_service()
    if service is None:
        return None
    from issuing.support_service import SupportService

    return SupportService(service)


def may_act() -> bool:
    return getattr(current_user, "role", None) in ACTORS


def get_support(document_id: int) -> OutboundDocument:
    row = _db().get(OutboundDocument, document_id)
    if row is None or row.document_type not in SUPPORT_TYPES:
        abort(404)
    return row


def explain(messages: list[str]) -> list[Any]:
    """DIAN's lines on a DS/95 explained: the DS rules here, the rest as the invoices' (web/issued_labels.py)."""
    import dataclasses

    found = []
    for rule in explain_rules(messages):
        if rule.rule in SUPPORT_RULES:
            meaning, step = SUPPORT_RULES[rule.rule]
            rule = dataclasses.replace(rule, meaning=meaning, next_step=step)
        found.append(rule)
    return found


def generation_label(row: OutboundDocument) -> str:
    modes = {g[0] for g in ((row.report or {}).get("support") or {}).get("generations") or [] if g}
    return " y ".join(MODES[m].lower() for m in sorted(modes) if m in MODES).capitalize()


def row_view(row: OutboundDocument) -> dict[str, Any]:
    cur = row.currency
    taxes = (row.tax_inclusive_amount or 0) - (row.tax_exclusive_amount or 0)
    return {
        "id": row.id, "number": row.number, "type": TYPE_LABELS.get(row.document_type, row.document_type.value),
        "type_code": row.document_type.value, "seller": row.buyer_name, "seller_id": row.buyer_nit,
        "issued": local_time(row.issued_at), "state": row.state.value,
        "state_label": STATE_LABELS.get(row.state, row.state.value), "dian_code": row.dian_status_code,
        "subtotal": money(row.line_extension_amount, cur) if row.line_extension_amount is not None else "",
        "iva": money(taxes, cur) if row.tax_inclusive_amount is not None else "",
        "withheld": money(row.withholding_amount, cur) if row.withholding_amount else "",
        "payable": money(row.payable_amount, cur), "generation": generation_label(row),
        "rules": [r.rule or "" for r in explain(list(row.dian_messages or [])) if r.rejection][:3]
        if row.state is OutboundState.REJECTED else [],
    }  # fmt: skip


def documents_of_seller(session: Any, seller_id: str, limit: int = 20) -> list[dict[str, Any]]:
    """The DS and 95 we issued to this seller, newest first (the supplier's page lists them beside its invoices)."""
    rows = session.scalars(sa.select(OutboundDocument).where(OutboundDocument.document_type.in_(SUPPORT_TYPES),
                                                             OutboundDocument.buyer_nit == seller_id)
                           .order_by(OutboundDocument.id.desc()).limit(limit))  # fmt: skip
    return [row_view(r) for r in rows]


@bp.get("/soporte")
@roles(*READERS)
def index() -> str:
    """Our DS and 95, newest first, 50 a page; filtered by seller (identification or name), state and type."""
    args = request.args
    state = next((s for s in OutboundState if s.value == args.get("estado", "")), None)
    kind = next((t for t in SUPPORT_TYPES if t.value == args.get("tipo", "")), None)
    seller = (args.get("vendedor") or "").strip()[:80]
    problems = []
    if args.get("estado") and state is None:
        problems.append(f"El estado «{args['estado'][:40]}» no existe.")
    if args.get("tipo") and kind is None:
        problems.append(f"El tipo «{args['tipo'][:40]}» no es documento soporte (05) ni nota de ajuste (95).")
    query = sa.select(OutboundDocument).where(OutboundDocument.document_type.in_(SUPPORT_TYPES))
    if state is not None:
        query = query.where(OutboundDocument.state == state)
    if kind is not None:
        query = query.where(OutboundDocument.document_type == kind)
    if seller:
        plain = seller.replace(".", "").replace(" ", "")
        query = query.where(sa.or_(OutboundDocument.buyer_nit == plain,
                                   sa.func.lower(OutboundDocument.buyer_name).contains(seller.lower())))  # fmt: skip
    before = args.get("antes", "")
    rows, more = newest_page(query, before, PAGE_SIZE)
    kept = {k: v for k, v in args.items() if k in ("estado", "tipo", "vendedor") and v}
    return render_template(
        "support.html", rows=[row_view(r) for r in rows],
        next_args={**kept, "antes": rows[-1].id} if more else None, first_args=kept if before else None,
        filters={"estado": args.get("estado", ""), "tipo": args.get("tipo", ""), "vendedor": seller},
        states={k: v for k, v in STATE_LABELS.items() if k is not OutboundState.DRAFT}, types=TYPE_LABELS,
        problems=problems, may_act=may_act(), available=issuing_service() is not None,
    )  # fmt: skip


def _adjustable(row: OutboundDocument) -> tuple[Decimal, str | None]:
    """What is left of a DS for notes, and why no note may be issued on it now (None when one may)."""
    adjusted = _db().scalar(sa.select(sa.func.coalesce(sa.func.sum(OutboundDocument.payable_amount), 0)).where(
        OutboundDocument.reference_id == row.id, OutboundDocument.state != OutboundState.REJECTED))  # fmt: skip
    left = row.payable_amount - Decimal(adjusted)
    if row.state is not OutboundState.ACCEPTED:
        return left, "La nota de ajuste se expide sobre un documento soporte que la DIAN validó."
    if left <= 0:
        return left, "Las notas de ajuste ya suman el total de este documento soporte."
    return left, None


@bp.get("/soporte/<int:document_id>")
@roles(*READERS)
def show(document_id: int) -> str:
    """One DS or 95: DIAN's answer (rules explained), seller, lines with withholdings, totals, notes, downloads."""
    row = get_support(document_id)
    notes = list(_db().scalars(sa.select(OutboundDocument).where(OutboundDocument.reference_id == row.id)
                               .order_by(OutboundDocument.id)))  # fmt: skip
    reference = _db().get(OutboundDocument, row.reference_id) if row.reference_id else None
    payload = row.payload or {}
    left, why_not = _adjustable(row) if row.document_type is DocumentType.SUPPORT_DOCUMENT else (Decimal(0), None)
    rates = {str((t or {}).get("rate")) for line in payload.get("lines") or [] for t in line.get("taxes") or []}
    return render_template(
        "support_document.html", doc=row, view=row_view(row), hint=STATE_HINTS.get(row.state, ""),
        rules=explain(list(row.dian_messages or [])), lines=payload.get("lines") or [], money=money,
        seller=payload.get("seller") or {}, notes=[row_view(n) for n in notes], reference=reference,
        totals=[("Subtotal (antes de IVA)", row.line_extension_amount),
                ("IVA", (row.tax_inclusive_amount or 0) - (row.tax_exclusive_amount or 0)),
                ("Total del documento", row.payable_amount),
                ("Retenciones practicadas (no restan del total)", row.withholding_amount)],
        net=row.payable_amount - (row.withholding_amount or 0) if row.withholding_amount else None,
        is_ds=row.document_type is DocumentType.SUPPORT_DOCUMENT, concepts=CONCEPTS, modes=MODES,
        may_act=may_act() and issuing_service() is not None, left=left, why_not=why_not,
        rate=next(iter(rates)) if len(rates) == 1 else "", local_time=local_time,
        concept=CONCEPTS.get(str(payload.get("concept") or ""), ""),
        delivery=seller_delivery(row), note_key=secrets.token_urlsafe(16),
    )  # fmt: skip


def seller_delivery(row: OutboundDocument) -> dict[str, Any] | None:
    """The seller's copy (issuing/support_mail.py, only when asked) told in the invoices' words
    (web/issued_delivery.py) with the seller where they say the buyer; the jobs' names («…») stay as they are."""
    if not row.buyer_email:
        return None
    view = delivery_view(_db(), row)
    return {k: _COUNTERPART.sub("vendedor", v) if isinstance(v, str) else v for k, v in view.items()}


_COUNTERPART = re.compile(r"comprador(?![^«]*»)")


@bp.get("/soporte/<int:document_id>/xml")
@roles(*READERS)
def xml(document_id: int) -> Response:
    """The signed XML exactly as it was signed and sent."""
    row = get_support(document_id)
    return Response(
        stored_blob(row.xml_blob),
        mimetype="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{row.file_name or row.number}.xml"'},
    )


@bp.get("/soporte/<int:document_id>/pdf")
@roles(*READERS)
def pdf(document_id: int) -> Response:
    """The graphic representation from the signed XML (pending validation printed as such until DIAN validates)."""
    from issuing.pdf import render_pdf

    row = get_support(document_id)
    validated = row.validated_at if row.state is OutboundState.ACCEPTED else None
    body = render_pdf(stored_blob(row.xml_blob), validated_at=validated, options=pdf_options())
    return Response(body, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{row.number}.pdf"'})  # fmt: skip
