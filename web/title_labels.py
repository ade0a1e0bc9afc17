"""The words of the treasury pages (es-CO): title states, RADIAN event names, alert kinds and roles."""

from __future__ import annotations

from dian.codes import EventCode, Operation
from radian.title import TitleState as Derived
from store.models import AlertKind, TitleRole, TitleState

# DIAN's portal words for each state (radian.title), plus a credit invoice that is no title yet.
STATE_LABELS = {TitleState(state.value): state.label for state in Derived} | {TitleState.UNREGISTERED: "No inscrita"}
STATE_HINTS = {
    TitleState.UNREGISTERED: "Aún no está inscrita en RADIAN como título valor (036).",
    TitleState.LIMITED: "Una medida cautelar (041) congela su circulación y su pago.",
    TitleState.PAID: "Pago total registrado: ningún evento la mueve ya.",
}
ROLE_LABELS = {TitleRole.HOLDER: "Por cobrar", TitleRole.OBLIGOR: "Por pagar"}
ROLE_PARAMS = {"cobrar": TitleRole.HOLDER, "pagar": TitleRole.OBLIGOR}

# Short names for the timeline and the actions (DIAN's long ones are in dian.codes).
EVENT_NAMES = {
    "030": "Acuse de recibo",
    "031": "Reclamo",
    "032": "Recibo del bien o servicio",
    "033": "Aceptación expresa",
    "034": "Aceptación tácita",
    "035": "Aval",
    "036": "Inscripción como título valor",
    "037": "Endoso en propiedad",
    "038": "Endoso en garantía",
    "039": "Endoso en procuración",
    "040": "Cancelación del endoso",
    "041": "Limitación a la circulación (medida cautelar)",
    "042": "Terminación de la limitación",
    "043": "Mandato",
    "044": "Terminación del mandato",
    "045": "Pago",
    "046": "Informe para el pago",
    "047": "Endoso con efectos de cesión",
    "048": "Protesto",
    "049": "Transferencia de derechos económicos",
    "050": "Notificación de la transferencia al deudor",
    "051": "Pago de la transferencia",
}

ALERT_LABELS = {
    AlertKind.HOLDER_CHANGED: "Cambio de tenedor",
    AlertKind.LIMITED: "Pago congelado (041)",
    AlertKind.LIMITATION_LIFTED: "Limitación levantada",
    AlertKind.TRANSFERRED: "Derechos transferidos",
    AlertKind.PROTESTED: "Protesto",
    AlertKind.PARTIALLY_PAID: "Pago parcial",
    AlertKind.PAID: "Pagada",
    AlertKind.REGISTERED: "Inscrita en RADIAN",
    AlertKind.REFUSED: "Evento sin verificar",
    AlertKind.HOLDER_DISPUTED: "Tenedor en duda",
    AlertKind.CLAIMED: "Reclamada por el comprador",
}
URGENT_ALERTS = frozenset({AlertKind.HOLDER_CHANGED, AlertKind.LIMITED, AlertKind.TRANSFERRED, AlertKind.REFUSED,
                           AlertKind.HOLDER_DISPUTED, AlertKind.CLAIMED})  # fmt: skip
# Alarming whichever side of the title we are on (the others only on what we pay).
ALARMING_ALWAYS = frozenset({AlertKind.LIMITED, AlertKind.REFUSED, AlertKind.HOLDER_DISPUTED, AlertKind.CLAIMED})


def event_name(code: str | EventCode) -> str:
    """037 -> "Endoso en propiedad"."""
    value = code.value if isinstance(code, EventCode) else str(code)
    return EVENT_NAMES.get(value, value)


def operation_name(operation: Operation | None) -> str:
    """The variant in words ("Endoso en propiedad con responsabilidad"), or "" for 030-034."""
    return operation.label if operation is not None else ""
