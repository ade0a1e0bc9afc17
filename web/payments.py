"""The payment run ("Pagos"): what we owe on received credit invoices and **to whom** — the legitimate holder in
RADIAN, the assignee of notified economic rights, or the supplier — with the refused lines apart and their reason (a
041 freezes payment), and the CSV an AP team hands its bank. Lines and files come from radian.payables, the same the
API and the CLI use. ``payee_view`` is the document page's red "Pagar a" line and frozen-payment banner.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, render_template, request
from flask_login import current_user

from dian.nit import same_nit
from radian.payables import PayableFilters, PayableLine, export_csv, payables
from store.models import ReceivedDocument, Role, TitleRole, TitleState, ValueTitle
from web import tenant
from web.access import roles
from web.labels import money
from web.title_labels import STATE_LABELS

bp = Blueprint("payments", __name__)

READERS = (Role.TREASURY, Role.CLERK, Role.ADMIN, Role.AUDITOR)


def _db() -> Any:
    return tenant.db()


def _filters(args: Any) -> tuple[PayableFilters, dict[str, str], str | None]:
    """The page's filters (due on or before a day, one supplier), what was asked, and a sentence when it is wrong."""
    due_text = str(args.get("vence_hasta", "")).strip()[:10]
    supplier = "".join(c for c in str(args.get("proveedor", ""))[:20] if c.isdigit())
    due, problem = None, None
    if due_text:
        try:
            due = date.fromisoformat(due_text)
        except ValueError:
            problem = f"«{due_text}» no es una fecha (aaaa-mm-dd): se muestran todos los vencimientos."
    asked = {"vence_hasta": due.isoformat() if due else "", "proveedor": supplier}
    return PayableFilters(due_before=due, supplier_nit=supplier or None), asked, problem


def _line(line: PayableLine, title_ids: dict[int, int]) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    return {
        "line": line,
        "title_id": title_ids.get(line.document_id),
        "outstanding": money(line.outstanding, line.currency),
        "due": line.due_date.strftime("%d/%m/%Y") if line.due_date else "—",
        "overdue": bool(line.due_date and line.due_date < today),
    }


@bp.get("/pagos")
@roles(*READERS)
def index() -> str:
    """What is due, soonest first, each with its payee; the lines that may not be paid apart, with the reason."""
    filters, asked, problem = _filters(request.args)
    lines = payables(_db(), filters)
    ids = [line.document_id for line in lines]
    title_ids = dict(_db().execute(sa.select(ValueTitle.document_id, ValueTitle.id).where(
        ValueTitle.document_id.in_(ids), ValueTitle.role == TitleRole.OBLIGOR)).all()) if ids else {}  # fmt: skip
    ok = [_line(line, title_ids) for line in lines if line.payable]
    refused = [_line(line, title_ids) for line in lines if not line.payable]
    return render_template("payments.html", ok=ok, refused=refused, asked=asked, problem=problem,
                           moved=sum(1 for r in ok if not r["line"].payee_is_supplier),
                           may_record=current_user.role is Role.TREASURY)  # fmt: skip  # acts as web.titles.ACTORS


@bp.get("/pagos.csv")
@roles(*READERS)
def download() -> Response:
    """The bank file (payable lines only) or, with archivo=rechazados, the refused lines with their reason;
    formato=excel gives what Excel in Colombia opens as columns (; and decimal comma)."""
    filters, _, _ = _filters(request.args)
    excel = request.args.get("formato") == "excel"
    export = export_csv(payables(_db(), filters), excel=excel)
    refused = request.args.get("archivo") == "rechazados"
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    name = f"pagos-{'rechazados-' if refused else ''}{stamp}{'-excel' if excel else ''}.csv"
    response = Response(export.refused if refused else export.payable, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def payee_view(doc: ReceivedDocument) -> dict[str, Any] | None:
    """For the document page: the invoice's title in RADIAN, whom to pay it when that is no longer the supplier, and
    whether a 041 froze its payment; None while the invoice is not a registered title and nothing changed."""
    title = _db().scalar(sa.select(ValueTitle).where(ValueTitle.document_id == doc.id,
                                                     ValueTitle.role == TitleRole.OBLIGOR))  # fmt: skip
    if title is None:
        return None
    moved = bool(title.payee_nit) and not same_nit(title.payee_nit, doc.issuer_nit)
    if not moved and not title.limited and title.state is TitleState.UNREGISTERED:
        return None
    return {
        "title_id": title.id,
        "moved": moved,
        "state": STATE_LABELS.get(title.state, title.state.value),
        "holder": f"{title.holder_name} (NIT {title.holder_nit})",
        "payee": f"{title.payee_name} (NIT {title.payee_nit})",
        "frozen": title.limited,
        "limited_amount": money(title.limited_amount, title.currency) if title.limited_amount is not None else "",
    }
