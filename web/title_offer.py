"""What treasury may do now with a title: on ours the actions of the title page (036, 037/038/039, 040, 043/044, 045,
046, 048, 049/050); on a received one (we are the debtor) our payments, 045 and 051 — each with its precondition in a
sentence, and whether dian.rules allows it now, asked of radian.service.check with a stand-in request before the form
is filled (web/title_actions.py signs the real one).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from dian.codes import EventCode
from radian.actions import (
    Action,
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
)
from store.models import DocumentEvent, SubmissionState, TitleRole, ValueTitle
from web import tenant
from web.title_labels import event_name

E = EventCode
PLACEHOLDER = Counterparty("999999998", "Contraparte por definir")  # for "may we do it now?" before the form


def _db() -> Any:
    return tenant.db()


@dataclass(frozen=True)
class Spec:
    """One action on the title page: its key in the URL, its event, its words, and what it needs."""

    key: str
    code: EventCode
    verb: str  # the button: "Inscribir en RADIAN"
    explains: str  # the precondition, in a sentence, shown whatever the rules say now


SPECS = (
    Spec(
        "inscribir",
        E.INSCRIPCION_TITULO,
        "Inscribir como título valor",
        "Solo una factura a crédito aceptada (expresa o tácitamente) puede inscribirse; la inscribe su tenedor.",
    ),
    Spec(
        "informe-pago",
        E.INFORME_PAGO,
        "Informar para el pago",
        "El tenedor informa al deudor el pago al menos 3 días hábiles antes del vencimiento.",
    ),
    Spec(
        "endosar",
        E.ENDOSO_PROPIEDAD,
        "Endosar en propiedad (factoring)",
        "Después de la inscripción (036), antes del vencimiento y sin limitación (041) vigente; lo firma el tenedor "
        "legítimo. El factor paga el valor menos el descuento.",
    ),
    Spec(
        "endosar-garantia",
        E.ENDOSO_GARANTIA,
        "Endosar en garantía",
        "Inscrita y sin limitación vigente; la factura respalda una obligación sin cambiar de dueño.",
    ),
    Spec(
        "endosar-procuracion",
        E.ENDOSO_PROCURACION,
        "Endosar en procuración (al cobro)",
        "Inscrita y sin limitación vigente; el endosatario cobra en nombre del tenedor.",
    ),
    Spec(
        "cancelar-endoso",
        E.CANCELACION_ENDOSO,
        "Cancelar un endoso",
        "Solo un endoso en garantía (038) o en procuración (039) vigente, por quien lo hizo.",
    ),
    Spec(
        "mandato",
        E.MANDATO,
        "Otorgar un mandato",
        "El tenedor da poder a un mandatario (p. ej. un factor) para enviar eventos sobre esta factura.",
    ),
    Spec(
        "terminar-mandato", E.TERMINACION_MANDATO, "Revocar un mandato", "Solo un mandato (043) vigente que otorgamos."
    ),
    Spec(
        "pago",
        E.PAGO,
        "Registrar un pago recibido",
        "El tenedor registra el pago total (452) o parcial (451); tras el pago total nada más mueve el título.",
    ),
    Spec(
        "protesto",
        E.PROTESTO,
        "Protestar",
        "Por falta de pago (tras el vencimiento) o de aceptación, con el certificado de protesto en PDF.",
    ),
    Spec(
        "transferir",
        E.TRANSFERENCIA_DERECHOS,
        "Transferir los derechos económicos",
        "Cesión de los derechos económicos a un cesionario; el deudor le paga a él una vez notificado (050).",
    ),
    Spec(
        "notificar",
        E.NOTIFICACION_TRANSFERENCIA,
        "Notificar la transferencia al deudor",
        "Después de una transferencia de derechos (049) registrada.",
    ),
)
# On a received title (role obligor) we are the debtor: we only say that we paid (A.3: 045 holder or buyer; 051 buyer).
PAYABLE_SPECS = (
    Spec(
        "pagar",
        E.PAGO,
        "Registrar pago en RADIAN",
        "Cuando le pagamos al tenedor legítimo que muestra RADIAN (no al proveedor si la endosó): total (452) o "
        "parcial (451), nunca más que el saldo. Con una medida cautelar (041) vigente se registra como pago bajo "
        "limitación (listID 2).",
    ),
    Spec(
        "pagar-transferencia",
        E.PAGO_TRANSFERENCIA,
        "Registrar pago de la transferencia",
        "Solo tras una transferencia de derechos económicos (049) notificada al deudor (050): pagamos al cesionario.",
    ),
)
BY_KEY = {spec.key: spec for spec in SPECS + PAYABLE_SPECS}


def specs_for(title: ValueTitle) -> tuple[Spec, ...]:
    """The actions a title's role offers: circulation on ours, payments on a supplier's."""
    return PAYABLE_SPECS if title.role is TitleRole.OBLIGOR else SPECS


def _referenced(title: ValueTitle, codes: tuple[EventCode, ...], ended_by: EventCode) -> list[dict[str, str]]:
    """Our registered events of ``codes`` on the title not ended by a registered ``ended_by`` (for the selects)."""
    events = list(_db().scalars(sa.select(DocumentEvent).where(
        DocumentEvent.outbound_document_id == title.outbound_document_id,
        DocumentEvent.submission_state == SubmissionState.REGISTERED)))  # fmt: skip
    ended = {(e.reference_cude or "").lower() for e in events if e.code is ended_by}
    return [{"cude": e.cude or "", "label": f"{e.code.value} {event_name(e.code)} n.º {e.number} a "
             f"{e.receiver_name or 'NIT ' + (e.receiver_nit or '')}"}
            for e in events if e.code in codes and e.cude and e.cude.lower() not in ended]  # fmt: skip


def _probe(spec: Spec, choices: dict[str, list[dict[str, str]]]) -> Action | str:
    """A stand-in request to ask the rules whether this action is possible now, or why not in words."""
    match spec.key:
        case "inscribir":
            return Register()
        case "informe-pago":
            return ReportForPayment()
        case "endosar":
            return Endorse(PLACEHOLDER)
        case "endosar-garantia":
            return Endorse(PLACEHOLDER, kind="guarantee")
        case "endosar-procuracion":
            return Endorse(PLACEHOLDER, kind="collection")
        case "cancelar-endoso":
            if not choices["endorsements"]:
                return "No hay endosos en garantía o en procuración vigentes que cancelar."
            return CancelEndorsement(choices["endorsements"][0]["cude"], reason="Consulta previa")
        case "mandato":
            return GrantMandate(PLACEHOLDER)
        case "terminar-mandato":
            if not choices["mandates"]:
                return "No hay mandatos vigentes que revocar."
            return EndMandate(choices["mandates"][0]["cude"])
        case "pago" | "pagar":
            return RecordPayment()
        case "pagar-transferencia":
            return PayTransfer()
        case "protesto":
            return Protest_(b"%PDF-1.4 consulta previa")
        case "transferir":
            return TransferRights(PLACEHOLDER)
        case _:
            return NotifyTransfer()


def availability(service: Any, title: ValueTitle) -> list[dict[str, Any]]:
    """Each action with whether the rules allow it now and, if not, the sentence saying why."""
    choices = {
        "endorsements": _referenced(title, (E.ENDOSO_GARANTIA, E.ENDOSO_PROCURACION), E.CANCELACION_ENDOSO),
        "mandates": _referenced(title, (E.MANDATO,), E.TERMINACION_MANDATO),
    }
    if dataclasses.is_dataclass(service) and hasattr(service, "make_context"):
        # One context for the dozen read-only checks: making one loads the company's PKCS#12 (about 0.16 s of CPU
        # each on this machine), which made the title page cost 0.5 s of CPU.
        context = service.make_context()
        service = dataclasses.replace(service, make_context=lambda: context)
    rows = []
    for spec in specs_for(title):
        probe = _probe(spec, choices)
        if isinstance(probe, str):
            allowed, why = False, probe
        else:
            outcome = service.check(title.id, probe)
            allowed = outcome.allowed
            why = "" if allowed else outcome.reason + (f" (regla {outcome.rule})" if outcome.rule else "")
            payee = getattr(outcome, "payee", None)
        rows.append({"spec": spec, "allowed": allowed, "why": why, "choices": choices,
                     "payee": payee if not isinstance(probe, str) else None})  # fmt: skip
    return rows
