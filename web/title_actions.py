"""Treasury acting on a title — ours (circulating it) or a supplier's (recording our payment, 045/051, to the payee the
replay names); the actions and their preconditions are web/title_offer.py's: the form read
into a radian.actions request, checked again (radian.service.check, which asks dian.rules), a confirmation step showing
what will be signed — the endorsement's price value × (100 − rate) / 100 before signing — then the event signed, sent
to DIAN at once and its outcome told on the title page as the document page tells it (web/event_outcome.py).
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, render_template, request
from flask_login import current_user

from radian.actions import (
    Action,
    ActionError,
    CancelEndorsement,
    Counterparty,
    EndMandate,
    Endorse,
    GrantMandate,
    NotifyTransfer,
    PayTransfer,
    Protest_,
    RecordPayment,
    Register,
    ReportForPayment,
    TransferRights,
    parse_amount,
)
from store.models import DocumentEvent, SubmissionState, TitleRole, ValueTitle
from web import tenant
from web.access import roles
from web.labels import money
from web.title_labels import event_name
from web.title_offer import BY_KEY, Spec, specs_for
from web.titles import ACTORS, UNAVAILABLE, back, get_title, title_service

bp = Blueprint("title_actions", __name__)

PROTEST_MAX = 2 * 1024 * 1024


def _lower(verb: str) -> str:
    """The button's words inside a sentence: lower case, but RADIAN stays a name."""
    return verb.lower().replace("radian", "RADIAN")


def _db() -> Any:
    return tenant.db()


# --- Reading the form --------------------------------------------------------------------------------------------


def _text(form: Any, name: str, limit: int = 200) -> str:
    return str(form.get(name, "")).strip()[:limit]


_THOUSANDS = re.compile(r"^\d{1,3}(\.\d{3})+$")


def _number(form: Any, name: str, label: str, *, allow_zero: bool = False) -> Decimal | None:
    """An amount or rate as a person types it: "$ 119000.50" or the Colombian "119000,50"; "119.000" is refused
    (a thousands separator read as a decimal point would sign 119 pesos instead of 119 000)."""
    text = _text(form, name, 30).replace("$", "").replace(" ", "").replace("\u00a0", "")
    if not text:
        return Decimal(0) if allow_zero else None
    if _THOUSANDS.match(text) or ("," in text and "." in text):
        raise ActionError(f"{label}: escriba «{text}» sin separador de miles (por ejemplo 119000 o 119000,50).")
    return parse_amount(text.replace(",", "."), label, allow_zero=allow_zero)


def _counterparty(form: Any) -> Counterparty:
    return Counterparty(_text(form, "nit", 20), _text(form, "nombre"))


def _date(form: Any, name: str, label: str) -> date | None:
    text = _text(form, name, 10)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ActionError(f"{label}: «{text}» no es una fecha (aaaa-mm-dd).") from None


def read_action(spec: Spec, form: Any, files: Any) -> Action:
    """The request the form describes; ActionError (a Spanish sentence naming the field) when it is wrong."""
    match spec.key:
        case "inscribir":
            direct = _counterparty(form) if _text(form, "nit") else None
            return Register(direct_buyer=direct)
        case "informe-pago":
            return ReportForPayment()
        case "endosar":
            rate = _number(form, "tasa", "Tasa de descuento", allow_zero=True)
            return Endorse(_counterparty(form), rate=rate if rate is not None else Decimal(0),
                           with_responsibility=form.get("responsabilidad", "con") != "sin",
                           blank=form.get("en_blanco") == "1",
                           amount=_number(form, "valor", "Valor del endoso"))  # fmt: skip
        case "endosar-garantia" | "endosar-procuracion":
            kind = "guarantee" if spec.key == "endosar-garantia" else "collection"
            return Endorse(_counterparty(form), kind=kind, amount=_number(form, "valor", "Valor"))
        case "cancelar-endoso":
            cude = _text(form, "endoso", 100)
            if not cude:
                raise ActionError("Endoso: elija el endoso que cancela.")
            return CancelEndorsement(cude, reason=_text(form, "motivo", 500) or None)
        case "mandato":
            return GrantMandate(_counterparty(form), end_date=_date(form, "hasta", "Vigente hasta"))
        case "terminar-mandato":
            cude = _text(form, "mandato", 100)
            if not cude:
                raise ActionError("Mandato: elija el mandato que revoca.")
            return EndMandate(cude)
        case "pago" | "pagar":
            return RecordPayment(_number(form, "valor", "Valor pagado"),
                                 _date(form, "fecha", "Fecha del pago"))  # fmt: skip
        case "pagar-transferencia":
            return PayTransfer(_number(form, "valor", "Valor pagado"), _date(form, "fecha", "Fecha del pago"))
        case "protesto":
            return Protest_(_certificate(form, files), non_payment=form.get("tipo", "pago") != "aceptacion")
        case "transferir":
            rate = _number(form, "tasa", "Tasa de descuento", allow_zero=True)
            return TransferRights(_counterparty(form), rate=rate if rate is not None else Decimal(0),
                                  amount=_number(form, "valor", "Valor transferido"))  # fmt: skip
        case _:
            return NotifyTransfer()


def _certificate(form: Any, files: Any) -> bytes:
    """The protest certificate: the uploaded PDF, or the one the confirmation step carried (base64)."""
    carried = str(form.get("certificado_b64", ""))
    if carried:
        try:
            data = base64.b64decode(carried, validate=True)
        except (binascii.Error, ValueError):
            raise ActionError(
                "Certificado de protesto: el archivo se dañó en la confirmación; súbalo de nuevo."
            ) from None
    else:
        upload = files.get("certificado")
        data = upload.read(PROTEST_MAX + 1) if upload is not None else b""
    if not data:
        raise ActionError("Certificado de protesto: adjunte el PDF del certificado.")
    if len(data) > PROTEST_MAX:
        raise ActionError(f"Certificado de protesto: el PDF supera {PROTEST_MAX // (1024 * 1024)} MB.")
    return data


def _summary(action: Action, title: ValueTitle, outcome: Any) -> list[tuple[str, str]]:
    """What will be signed, line by line, for the confirmation step (the value block filled from the invoice)."""
    currency = title.currency
    lines: list[tuple[str, str]] = [
        ("Factura", title.invoice_number),
        ("Valor del título", money(title.value, currency)),
        ("Saldo", money(title.outstanding, currency)),
    ]
    if outcome.operation is not None:
        lines.append(("Variante", f"{outcome.operation.value} — {outcome.operation.label}"))
    to = getattr(action, "to", None) or getattr(action, "direct_buyer", None)
    if to is not None:
        lines.append(("Contraparte", f"{to.name} (NIT {to.nit})"))
    if isinstance(action, Endorse) and action.blank:
        lines.append(("Forma", "Endoso en blanco"))
    if isinstance(action, RecordPayment | PayTransfer):
        paid = action.amount if action.amount is not None else title.outstanding
        lines.append(("Valor pagado", money(paid, currency)))
        if outcome.payee is not None:
            lines.append(("Pagado a", f"{outcome.payee.registration_name} (NIT {outcome.payee.nit})"))
            lines.append(("Saldo después del pago", money((title.outstanding or 0) - (paid or 0), currency)))
        if outcome.list_id:
            meaning = "pago bajo limitación (041 vigente)" if outcome.list_id == "2" else "pago sin limitación"
            lines.append(("listID", f"{outcome.list_id} — {meaning}"))
        if action.paid_on:
            lines.append(("Fecha del pago", action.paid_on.strftime("%d/%m/%Y")))
    if isinstance(action, GrantMandate):
        lines.append(
            ("Vigencia", f"hasta el {action.end_date:%d/%m/%Y}" if action.end_date else "Por tiempo ilimitado")
        )
    if isinstance(action, Protest_):
        lines.append(("Certificado", f"PDF de {len(action.certificate):,} bytes".replace(",", ".")))
    return lines


def _carried(spec: Spec, form: Any, action: Action) -> dict[str, str]:
    """The form's fields, to post again from the confirmation step."""
    names = ("nit", "nombre", "tasa", "valor", "responsabilidad", "en_blanco", "endoso", "motivo", "hasta", "fecha",
             "tipo")  # fmt: skip
    carried = {name: _text(form, name, 500) for name in names if _text(form, name, 500)}
    if isinstance(action, Protest_):
        carried["certificado_b64"] = base64.b64encode(action.certificate).decode("ascii")
    return carried


@bp.post("/titulos/<int:title_id>/acciones/<key>")
@roles(*ACTORS)
def act(title_id: int, key: str) -> Any:
    """Check the action (dian.rules via radian.service), show what will be signed, then sign, send and report it."""
    title = get_title(title_id)
    spec = BY_KEY.get(key)
    if spec is None:
        flash("Esa acción no existe sobre un título.", "error")
        return back(title_id)
    service = title_service()
    if service is None:
        flash(UNAVAILABLE, "error")
        return back(title_id)
    if spec not in specs_for(title):
        payable = title.role is TitleRole.OBLIGOR
        flash("Este título es por pagar (factura recibida): Buzón no lo circula; solo registra nuestros pagos "
              "(045/051)." if payable else "Esa acción es del deudor de una factura recibida, no de un título "
              "nuestro.", "error")  # fmt: skip
        return back(title_id)
    try:
        action = read_action(spec, request.form, request.files)
    except ActionError as exc:
        flash(f"No se firmó {_lower(spec.verb)} ({spec.code.value}): {exc}", "error")
        return back(title_id)
    name = f"{event_name(spec.code)} ({spec.code.value})"
    if request.form.get("confirmado") != "1":
        preview = service.check(title_id, action)
        if not preview.allowed:
            flash(f"No se puede {_lower(spec.verb)} ({spec.code.value}): {preview.reason}"
                  + (f" [regla {preview.rule}]" if preview.rule else ""), "error")  # fmt: skip
            return back(title_id)
        quote = preview.quote
        if quote is None and isinstance(action, TransferRights):
            quote = service.quote(title_id, action.rate, action.amount)
        return render_template("title_confirm.html", title=title, spec=spec, name=name,
                               lines=_summary(action, title, preview), quote=quote, payee=preview.payee,
                               money=lambda v: money(v, title.currency),
                               carried=_carried(spec, request.form, action))  # fmt: skip
    outcome = service.act(title_id, action, actor=current_user.actor, source=request.remote_addr, deliver=True)
    if outcome.pending_approval is not None:  # four-eyes: nothing signed, a second user approves it
        flash(f"{outcome.reason} Quien aprueba la verá en Aprobaciones pendientes.", "info")
        return back(title_id)
    if not outcome.allowed:
        flash(f"No se firmó {name}: {outcome.reason}" + (f" [regla {outcome.rule}]" if outcome.rule else ""), "error")
        return back(title_id)
    _db().expire_all()
    flash({"events": [outcome.event_id]}, "outcome")
    return back(title_id)


@bp.post("/titulos/<int:title_id>/reintentar")
@roles(*ACTORS)
def retry(title_id: int) -> Any:
    """ "Reintentar ahora": our queued RADIAN events on this title sent to DIAN now."""
    title = get_title(title_id)
    service = title_service()
    if service is None or title.outbound_document_id is None:
        flash(UNAVAILABLE, "error")
        return back(title_id)
    queued = list(_db().scalars(sa.select(DocumentEvent.id).where(
        DocumentEvent.outbound_document_id == title.outbound_document_id,
        DocumentEvent.submission_state.in_((SubmissionState.SIGNED, SubmissionState.SEND_FAILED)))))  # fmt: skip
    if not queued:
        flash("No hay eventos en cola en este título: nada que reintentar.", "info")
        return back(title_id)
    service.deliver(only=queued, actor=current_user.actor)
    _db().expire_all()
    flash({"events": queued}, "outcome")
    return back(title_id)
