"""The week's purchases (documento soporte acumulado semanal, generation mode 2): AP registers each purchase from a
seller not obliged to invoice as it happens (a small form: the seller, one line, the day), sees the week's open
purchases per seller with their amounts, and "Generar documento soporte de la semana" gathers one seller's open
purchases into one DS through issuing.support_week.accumulate, which is sent to DIAN at once (an outage leaves it
queued); the DS's page tells the outcome. Clerks and admins act; treasury and auditors read.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import OrderedDict
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from dian.calendar import BOGOTA
from issuing.problems import PayloadError, Problem
from store.models import OutboundDocument, SupportPurchase
from web import tenant
from web.access import roles
from web.labels import money
from web.support import ACTORS, READERS, may_act, support_service
from web.support_fields import FOREIGN_ID_TYPES_ES, IVA_RATES, RESIDENT_ID_TYPES, FormMap, payload_of

log = logging.getLogger(__name__)

bp = Blueprint("support_week", __name__)


def _today() -> dt.date:
    return dt.datetime.now(BOGOTA).date()


def _week_of(day: dt.date) -> str:
    from issuing.support_week import week_of

    return week_of(day)


def _amount(line: dict[str, Any]) -> Decimal | None:
    """quantity × price of a registered line, for the week's view only (the DS's totals are the service's)."""
    try:
        return (Decimal(str(line.get("quantity"))) * Decimal(str(line.get("unit_price")))).quantize(Decimal("0.01"))
    except (InvalidOperation, TypeError):
        return None


def _week_view(week: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The week's open purchases grouped by seller, and the DS that already gathered some of them."""
    from issuing.support_week import week_bounds

    monday, sunday = week_bounds(week)
    db = tenant.db()
    rows = list(db.scalars(sa.select(SupportPurchase).where(SupportPurchase.purchased_on.between(monday, sunday))
                           .order_by(SupportPurchase.seller_id, SupportPurchase.id)))  # fmt: skip
    sellers: OrderedDict[str, dict[str, Any]] = OrderedDict()
    gathered_ids = sorted({r.support_document_id for r in rows if r.support_document_id is not None})
    for row in rows:
        if row.support_document_id is not None:
            continue
        entry = sellers.setdefault(row.seller_id, {"id": row.seller_id, "purchases": [], "total": Decimal(0)})
        entry["name"] = row.seller.get("name", "")
        amount = _amount(row.line)
        entry["total"] += amount or 0
        entry["purchases"].append(
            {
                "id": row.id,
                "day": row.purchased_on.strftime("%d/%m/%Y"),
                "description": row.line.get("description", ""),
                "quantity": row.line.get("quantity"),
                "amount": money(amount) if amount is not None else "—",
                "iva": ", ".join(f"{t.get('rate')} %" for t in row.line.get("taxes") or []),
                "held": ", ".join(
                    f"{'ReteIVA' if w.get('scheme') == '05' else 'ReteFuente'} {w.get('rate')} %"
                    for w in row.line.get("withholdings") or []
                ),
            }
        )
    for entry in sellers.values():
        entry["total_text"] = money(entry["total"])
    gathered = []
    if gathered_ids:
        for doc in db.scalars(sa.select(OutboundDocument).where(OutboundDocument.id.in_(gathered_ids))
                              .order_by(OutboundDocument.id)):  # fmt: skip
            gathered.append(
                {
                    "id": doc.id,
                    "number": doc.number,
                    "seller": doc.buyer_name,
                    "seller_id": doc.buyer_nit,
                    "payable": money(doc.payable_amount, doc.currency),
                    "state": doc.state.value,
                }
            )
    return list(sellers.values()), gathered


def _prefill(seller_id: str) -> dict[str, str]:
    """The seller's fields from its latest registered purchase (another purchase of the same seller)."""
    from web.support_fields import fields_of_support

    db = tenant.db()
    last = db.scalars(sa.select(SupportPurchase).where(SupportPurchase.seller_id == seller_id)
                      .order_by(SupportPurchase.id.desc()).limit(1)).first()  # fmt: skip
    if last is None:
        return {}
    return {k: v for k, v in fields_of_support({"seller": last.seller}).items() if k.startswith("v_")}


def _render(fields: dict[str, str], week: str, *, problems: Any = (), status: int = 200) -> Any:
    from web.support_form import _problems_view

    listed, by_field = _problems_view(problems, FormMap(rows={0: 1}))
    sellers, gathered = _week_view(week)
    from issuing.support_week import week_bounds

    monday, sunday = week_bounds(week)
    previous = _week_of(monday - dt.timedelta(days=7))
    following = _week_of(monday + dt.timedelta(days=7)) if sunday < _today() else None
    from store.models import OutboundState
    from web.issued_labels import STATE_LABELS

    return render_template(
        "support_week.html", f=fields, week=week, monday=monday, sunday=sunday, previous=previous,
        following=following, sellers=sellers, gathered=gathered, problems=listed, errors=by_field,
        iva_rates=IVA_RATES, resident_ids=RESIDENT_ID_TYPES, foreign_ids=FOREIGN_ID_TYPES_ES,
        may_act=may_act(), available=support_service() is not None,
        state_labels={s.value: STATE_LABELS.get(s, s.value) for s in OutboundState},
    ), status  # fmt: skip


def _chosen_week(text: str) -> tuple[str, str | None]:
    from issuing.support_week import WeekError, week_bounds

    if not text:
        return _week_of(_today()), None
    try:
        week_bounds(text)
    except WeekError as exc:
        return _week_of(_today()), f"La semana «{text[:20]}» no sirve: {exc}. Se muestra la semana actual."
    return text.strip(), None


@bp.get("/soporte/semana")
@roles(*READERS)
def index() -> Any:
    """The week's open purchases per seller and, for those who act, the form to register one."""
    week, problem = _chosen_week(request.args.get("semana", ""))
    fields = {"fecha": _today().isoformat(), "v_residente": "1", "v_tipo_id": "13", "l1_cantidad": "1",
              "l1_iva": "0"}  # fmt: skip
    if request.args.get("vendedor"):
        fields.update(_prefill(request.args["vendedor"].strip()[:20]))
    problems = [Problem("/semana", problem)] if problem else []
    return _render(fields, week, problems=problems, status=400 if problem else 200)


@bp.post("/soporte/semana/compra")
@roles(*ACTORS)
def register() -> Any:
    """Keep one purchase for the seller's weekly DS; each problem at its field, nothing kept while any remains."""
    from issuing.support_week import register as keep

    service = support_service()
    if service is None:
        abort(503)
    fields = {k: v for k, v in request.form.items() if k != "csrf_token"}
    problems: list[Problem] = []
    try:
        day = dt.date.fromisoformat((fields.get("fecha") or "").strip())
    except ValueError:
        day = None
        problems.append(Problem("/fecha", "escriba la fecha de la compra (AAAA-MM-DD)"))
    if day is not None and day > _today():
        problems.append(Problem("/fecha", "la compra no puede ser posterior a hoy"))
    data, _found = payload_of({**fields, "tipo": "05", "l1_modo": "2"}, _today())
    line = dict(data["lines"][0]) if data["lines"] else {}
    line.pop("generation", None)
    if not problems and day is not None:
        try:
            done = keep(service, data["seller"], line, day, actor=current_user.actor)
        except PayloadError as exc:
            problems = [Problem(p.pointer.replace("/line", "/lines/0", 1) if p.pointer.startswith("/line") else
                                p.pointer, p.message) for p in exc.problems]  # fmt: skip
        else:
            flash(f"Compra registrada para la semana {done.week}: entra en el documento soporte semanal de "
                  f"{data['seller'].get('name') or done.seller_id}.", "ok")  # fmt: skip
            return redirect(url_for("support_week.index", semana=done.week, vendedor=done.seller_id) + "#compras")
    week = _week_of(day) if day is not None and day <= _today() else _week_of(_today())
    return _render(fields, week, problems=problems, status=422)


@bp.post("/soporte/semana/generar")
@roles(*ACTORS)
def gather() -> Any:
    """Generar documento soporte de la semana: one seller's open purchases of the week into one DS, sent now."""
    from issuing.support_week import WeekError, accumulate

    service = support_service()
    if service is None:
        abort(503)
    seller_id = (request.form.get("vendedor") or "").strip()[:20]
    week = (request.form.get("semana") or "").strip()[:10]
    try:
        done = accumulate(service, seller_id, week, actor=current_user.actor, deliver=False)
    except WeekError as exc:
        flash(f"No se generó: {exc}.", "error")
        return redirect(url_for("support_week.index", semana=week) if week else url_for("support_week.index"))
    except PayloadError as exc:
        flash("No se generó: " + "; ".join(f"{p.pointer or 'documento'}: {p.message}" for p in exc.problems) + ".",
              "error")  # fmt: skip
        return redirect(url_for("support_week.index", semana=week))
    if not done.replayed:
        try:
            service.issuing.deliver(only=[done.id], actor=current_user.actor)
        except Exception:  # signed and numbered: the outbox job sends it; its page says it is queued
            log.exception("sending the weekly DS %s to DIAN failed; it stays queued", done.number)
    return redirect(url_for("support.show", document_id=done.id, enviado=1) + "#resultado")
