"""Suppliers ("Proveedores"): each supplier's documents and amounts, where its event notices go, and our automatic
policies for it (030 and 032 by the jobs in events/policy.py), kept in the suppliers table and audited.

A supplier is anyone who sent us a document, plus anyone in the suppliers table; the list, its amounts and a
supplier's figures by state cover a period of whole months (web/period.py) and are read from the monthly totals the
database keeps (store/totals.py), so they cost what the page shows, not the history on file. Its reception address
is read where the notice job reads it (events.notify.supplier_address): set here by hand, on its latest invoice, or in
DIAN's list (GetExchangeEmails) as the daily job refresh_supplier_emails last read it (events/supplier_emails.py), with
its date; a clerk may also ask DIAN's list now (shown, not stored).

A seller we only bought from with documentos soporte (web/support.py: not obliged to invoice, so no received
document and no suppliers row) has a page too, under its identification (cédula, NIT or foreign ID): its DS and 95
history, without the received-invoice figures and switches that do not apply to it.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy.orm import Session

from dian.calendar import BOGOTA
from dian.errors import ParseError
from dian.ubl import parse_document
from store import audit
from store import totals as store_totals
from store.blobs import BlobError
from store.models import ReceivedDocument, Role, Supplier
from store.totals import SupplierFigures
from web import tenant
from web.access import roles
from web.labels import STATE_LABELS, VERDICT_LABELS, local_time, money
from web.period import CHOICES, Period, PeriodError, period

log = logging.getLogger(__name__)

bp = Blueprint("suppliers", __name__)

READERS = (Role.CLERK, Role.TREASURY, Role.ADMIN, Role.AUDITOR)
EDITORS = (Role.CLERK, Role.ADMIN)
PAGE_SIZE = 100
DOCUMENTS_SHOWN = 50
SUPPORT_SHOWN = 20  # the documentos soporte issued to it, newest first (all of them on the Documento soporte page)
NIT_RE = re.compile(r"^[0-9]{5,15}$")
SELLER_ID_RE = re.compile(r"^[A-Za-z0-9-]{1,20}$")  # a DS seller: cédula, NIT or foreign ID (String(20))
# One plain address: a local part and a domain with a dot, no spaces, no display name, no list.
EMAIL_RE = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
DIAN_LOOKUP = "buzon.dian_reception_email"  # the session key of the last GetExchangeEmails answer shown
D = ReceivedDocument


class AddressError(ValueError):
    """A reception address that cannot be used; the message is Spanish and names the problem."""


def reception_address(text: str) -> str | None:
    """The address as stored (trimmed; None when emptied), or AddressError naming what is wrong."""
    value = text.strip()
    if not value:
        return None
    if len(value) > 254:
        raise AddressError("La dirección es demasiado larga (máximo 254 caracteres).")
    if any(c in value for c in ",; <>"):
        raise AddressError(f"Escriba una sola dirección, sin nombre ni espacios: {value!r} no lo es.")
    if not EMAIL_RE.match(value) or ".." in value:
        raise AddressError(f"{value!r} no es una dirección de correo válida (ejemplo: facturacion@proveedor.com.co).")
    return value


def _db() -> Session:
    return tenant.db()


def listing(s: Session, chosen: Period, *, search: str = "", page: int = 1) -> tuple[list[SupplierFigures], bool]:
    """Suppliers with documents issued in the period (largest amount first), then those only in the suppliers table;
    and whether there is a next page. Read from the monthly totals (store.totals): a few rows per supplier and month
    of the period, whatever the history."""
    return store_totals.by_supplier(
        s, chosen.first_month, chosen.last_month, search=search, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )


def _period(today: date) -> tuple[Period, str | None]:
    """The period the address asks for, or the default one and the Spanish reason the asked one was refused."""
    try:
        return period(request.args.get("periodo"), today), None
    except PeriodError as exc:
        return period(None, today), str(exc)


def _today() -> date:
    return datetime.now(UTC).astimezone(BOGOTA).date()


def _page_number() -> int:
    raw = request.args.get("pagina", "1").strip()
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 10_000:
        abort(400, description=f"pagina: use un número de página entre 1 y 10000, no {raw!r}.")
    return int(raw)


@bp.get("/proveedores")
@roles(*READERS)
def index() -> tuple[str, int]:
    """Every supplier, largest amount in the period first, with its switches at a glance."""
    search = request.args.get("q", "").strip()[:120]
    page = _page_number()
    chosen, problem = _period(_today())
    rows, more = listing(_db(), chosen, search=search, page=page)
    body = render_template(
        "suppliers.html",
        rows=rows,
        more=more,
        page=page,
        search=search,
        money=money,
        policy=_policy(),
        period=chosen,
        choices=CHOICES,
        problem=problem,
    )
    return body, 400 if problem else 200


# --- One supplier ---------------------------------------------------------------------------------------------


def _nit(nit: str) -> str:
    if not NIT_RE.match(nit):
        abort(404)
    return nit


def _policy() -> dict[str, Any]:
    """How the configuration's automatic policies treat the suppliers table (the jobs read both)."""
    sched = tenant.settings().scheduler
    return {
        "mode": sched.auto_acknowledge,
        "acknowledge_listed": {n.split("-")[0].strip() for n in sched.auto_acknowledge_suppliers},
        "receipt_listed": {n.split("-")[0].strip() for n in sched.auto_receipt_suppliers},
    }


def _invoice_address(document: ReceivedDocument | None) -> str | None:
    """The e-mail the supplier wrote on its latest invoice, if any (as the notice job would read it)."""
    if document is None:
        return None

    try:
        parsed = parse_document(tenant.blobs().get(document.signed_xml_blob))
    except (ParseError, BlobError, OSError, ValueError):
        return None
    email = getattr(getattr(parsed, "supplier", None), "email", None)
    return email.strip() if email and "@" in email else None


def _supplier(s: Session, nit: str) -> tuple[Supplier | None, str]:
    """The settings row (or None) and the supplier's name (from the row, else its latest document); 404 when neither
    exists."""
    setting = s.scalar(sa.select(Supplier).where(Supplier.nit == nit))
    name = s.scalar(
        sa.select(D.issuer_name).where(D.issuer_nit == nit).order_by(D.issued_at.desc(), D.id.desc()).limit(1)
    )
    if setting is None and name is None:
        abort(404)
    return setting, (name or (setting.name if setting else ""))


@bp.get("/proveedores/<nit>")
@roles(*READERS)
def show(nit: str) -> tuple[str, int]:
    """One supplier: its figures by state over the period, reception address, switches and its latest documents;
    the documentos soporte we issued to it. A seller with only documentos soporte gets their history alone."""
    if not SELLER_ID_RE.match(nit):
        abort(404)
    s = _db()
    support_docs = _support_documents(s, nit)
    if not NIT_RE.match(nit) or not _known(s, nit):
        if not support_docs:
            abort(404)
        return render_template("supplier.html", nit=nit, name=support_docs[0]["seller"], support_only=True,
                               support_docs=support_docs), 200  # fmt: skip
    setting, name = _supplier(s, nit)
    chosen, problem = _period(_today())
    by_state = store_totals.by_state(s, chosen.first_month, chosen.last_month, nit=nit)
    documents = list(
        s.scalars(
            sa.select(D).where(D.issuer_nit == nit).order_by(D.issued_at.desc(), D.id.desc()).limit(DOCUMENTS_SHOWN)
        )
    )
    invoices = [d for d in documents if d.document_type.is_invoice]
    body = render_template(
        "supplier.html",
        nit=nit,
        name=name,
        setting=setting,
        by_state=[
            (STATE_LABELS.get(t.state, t.state.value), t.state.value, t.documents, t.cop_amount) for t in by_state
        ],
        total_count=sum(t.documents for t in by_state),
        total_amount=sum((t.cop_amount for t in by_state), Decimal(0)),
        other_currency=sum(t.other_currency for t in by_state),
        documents=documents,
        shown=DOCUMENTS_SHOWN,
        state_labels=STATE_LABELS,
        verdict_labels=VERDICT_LABELS,
        money=money,
        invoice_address=_invoice_address(invoices[0] if invoices else None),
        dian_address=session.get(DIAN_LOOKUP, {}).get(nit),
        dian_emails=setting.dian_emails if setting else None,
        dian_read_at=local_time(setting.dian_emails_read_at) if setting and setting.dian_emails_read_at else None,
        policy=_policy(),
        may_edit=current_user.role in EDITORS,
        lookup_available=_events_client_factory() is not None,
        period=chosen,
        choices=CHOICES,
        problem=problem,
        support_docs=support_docs,
    )
    return body, 400 if problem else 200


def _known(s: Session, nit: str) -> bool:
    """Whether ``nit`` sent us a document or has a suppliers row (a supplier in the full sense)."""
    return (
        s.scalar(sa.select(Supplier.id).where(Supplier.nit == nit)) is not None
        or s.scalar(sa.select(D.id).where(D.issuer_nit == nit).limit(1)) is not None
    )


def _support_documents(s: Session, nit: str) -> list[dict[str, Any]]:
    """The documentos soporte we issued to this supplier as a seller not obliged to invoice (web/support.py)."""
    from web.support import documents_of_seller

    return documents_of_seller(s, nit, limit=SUPPORT_SHOWN)


def _row_for_edit(s: Session, nit: str) -> Supplier:
    """The settings row, made (named after the latest document) when the supplier has none yet."""
    setting, name = _supplier(s, nit)
    if setting is None:
        setting = Supplier(nit=nit, name=name[:450])
        s.add(setting)
        s.flush()
    return setting


def _back(nit: str) -> Any:
    return redirect(url_for("suppliers.show", nit=nit) + "#ajustes")


@bp.post("/proveedores/<nit>/correo")
@roles(*EDITORS)
def set_address(nit: str) -> Any:
    """Set (or clear) the supplier's reception address by hand; validated, audited."""
    nit = _nit(nit)
    s = _db()
    try:
        address = reception_address(str(request.form.get("reception_email", "")))
    except AddressError as exc:
        _supplier(s, nit)
        flash(f"No se guardó la dirección: {exc}", "error")
        return _back(nit)
    setting = _row_for_edit(s, nit)
    before = setting.reception_email
    if before == address:
        flash("La dirección de recepción no cambió.", "info")
        return _back(nit)
    setting.reception_email = address
    audit.record(
        s,
        actor=current_user.actor,
        action="supplier.reception_email.changed",
        subject=f"supplier:{nit}",
        source=request.remote_addr,
        data={"before": before, "after": address},
    )
    s.commit()
    if address:
        flash(
            f"Dirección de recepción guardada: los avisos de eventos a {setting.name or nit} irán a {address}.",
            "success",
        )
    else:
        flash("Dirección de recepción borrada: se usará la de la factura o la de la DIAN.", "success")
    return _back(nit)


SWITCHES = {
    "auto_acknowledge": "acuse de recibo (030) automático",
    "auto_receipt": "recibo del servicio (032) automático",
}


@bp.post("/proveedores/<nit>/automaticos")
@roles(*EDITORS)
def set_switches(nit: str) -> Any:
    """Turn the automatic 030 and 032 on or off for this supplier (both checkboxes are sent with the form)."""
    nit = _nit(nit)
    s = _db()
    setting = _row_for_edit(s, nit)
    changes: dict[str, dict[str, bool]] = {}
    for field_name in SWITCHES:
        value = request.form.get(field_name) in ("1", "on", "true")
        if getattr(setting, field_name) != value:
            changes[field_name] = {"before": getattr(setting, field_name), "after": value}
            setattr(setting, field_name, value)
    if not changes:
        s.rollback()
        flash("Los automáticos no cambiaron.", "info")
        return _back(nit)
    audit.record(
        s,
        actor=current_user.actor,
        action="supplier.automation.changed",
        subject=f"supplier:{nit}",
        source=request.remote_addr,
        data=changes,
    )
    s.commit()
    said = "; ".join(f"{SWITCHES[k]} {'activado' if v['after'] else 'desactivado'}" for k, v in changes.items())
    flash(f"{setting.name or nit}: {said}.", "success")
    return _back(nit)


# --- DIAN's list of reception addresses (GetExchangeEmails) ---------------------------------------------------------


def _events_client_factory() -> Any:
    """The DIAN client factory of the events service the shell injected (create_app(events=…)), or None."""
    service = tenant.service("events")
    return getattr(service, "make_client", None) if service is not None else None


@bp.post("/proveedores/<nit>/consultar-dian")
@roles(*EDITORS)
def ask_dian(nit: str) -> Any:
    """Ask DIAN's list of reception addresses (GetExchangeEmails) for this supplier's; shown, not stored."""
    nit = _nit(nit)
    s = _db()
    _supplier(s, nit)
    make_client = _events_client_factory()
    if make_client is None:
        flash("La consulta a la DIAN no está disponible en esta instalación.", "error")
        return _back(nit)
    try:
        answer = make_client().get_exchange_emails()
        rows = answer.rows() if answer.success else []
    except Exception as exc:  # DIAN unreachable or answering a fault: say so, the page stays as it was
        log.warning("GetExchangeEmails for supplier %s failed: %s", nit, exc)
        flash("La DIAN no respondió a la consulta de correos de recepción; intente más tarde.", "error")
        return _back(nit)
    found = next(
        (
            str(r.get("CorreoElectronico") or "").strip()
            for r in rows
            if str(r.get("Nit") or "").strip() == nit and r.get("CorreoElectronico")
        ),
        "",
    )
    audit.record(
        s,
        actor=current_user.actor,
        action="supplier.dian_lookup",
        subject=f"supplier:{nit}",
        source=request.remote_addr,
        data={"found": found or None},
    )
    s.commit()
    if not found:
        flash(f"La DIAN no tiene un correo de recepción registrado para el NIT {nit}.", "info")
        return _back(nit)
    flash(f"Correo de recepción registrado en la DIAN para el NIT {nit}: {found}.", "success")
    session[DIAN_LOOKUP] = {nit: found}  # in the signed session, so a link cannot make the page claim DIAN said it
    return _back(nit)
