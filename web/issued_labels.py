"""The words of the issued documents' pages (web/issued.py, web/issued_form.py): states, types, the buyer's events,
and what DIAN's rules on what WE issue mean and what to do (web/dian_rules_es.py does the same for events)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from dian.codes import DocumentType
from store.models import OutboundState

__all__ = [
    "BUYER_EVENTS",
    "STATE_HINTS",
    "STATE_LABELS",
    "TYPE_LABELS",
    "IssuedRule",
    "explain_rules",
]

STATE_LABELS = {
    OutboundState.DRAFT: "Borrador",
    OutboundState.SIGNED: "Firmado, sin enviar",
    OutboundState.SENT: "Enviado, esperando a la DIAN",
    OutboundState.ACCEPTED: "Validado por la DIAN",
    OutboundState.REJECTED: "Rechazado por la DIAN",
    OutboundState.SEND_FAILED: "En cola (la DIAN no respondió)",
}

STATE_HINTS = {
    OutboundState.SIGNED: "Está firmado y numerado; la tarea «Enviar documentos emitidos» lo enviará a la DIAN.",
    OutboundState.SENT: "Se envió; Buzón espera la respuesta de la DIAN y la consultará de nuevo.",
    OutboundState.ACCEPTED: "La DIAN lo validó: tiene validez fiscal.",
    OutboundState.REJECTED: "La DIAN lo rechazó: no tiene validez. Corrija lo que dicen sus reglas y expida uno nuevo.",
    OutboundState.SEND_FAILED: "La DIAN no respondió. No es un rechazo: Buzón lo reintentará solo, con el mismo "
    "número.",
}

TYPE_LABELS = {
    DocumentType.INVOICE: "Factura de venta",
    DocumentType.EXPORT_INVOICE: "Factura de exportación",
    DocumentType.CONTINGENCY_INVOICE: "Factura de contingencia (talonario)",
    DocumentType.DIAN_CONTINGENCY_INVOICE: "Factura de contingencia DIAN",
    DocumentType.CREDIT_NOTE: "Nota crédito",
    DocumentType.DEBIT_NOTE: "Nota débito",
}

# What the buyer (or our tacit acceptance) said about the invoice, as GetStatusEvent or the mail brought it.
BUYER_EVENTS = {
    "030": "Acuse de recibo",
    "032": "Recibo del bien o servicio",
    "033": "Aceptación expresa",
    "034": "Aceptación tácita",
    "031": "Reclamo",
}

_RULE_RE = re.compile(r"^\s*Regla:\s*([A-Za-z0-9]+)\s*,\s*(Rechazo|Notificaci[oó]n)\s*:\s*(.*)$", re.S)
_SUPPORT = "Si no lo tiene claro, copie el código y el texto de la DIAN y consulte al administrador de Buzón."
_RANGE = ("El administrador debe leer de nuevo los rangos de la DIAN («buzon ranges sync») y revisar la resolución "
          "de numeración en el portal de la DIAN.")  # fmt: skip
_KEY = ("La clave técnica del rango no es la que la DIAN tiene: con ella todos los CUFE salen mal. El administrador "
        "debe leer de nuevo los rangos de la DIAN (nunca escribirla a mano).")  # fmt: skip
_TOTALS = ("Los valores no cuadran para la DIAN. Buzón calcula los totales; si ve esto, copie el texto de la DIAN y "
           "consulte al administrador.")  # fmt: skip

# rule → (what it means, what to do)
RULES: dict[str, tuple[str, str]] = {
    "FAD06": ("El CUFE de la factura no es el que la DIAN calcula.", _KEY),
    "CAD06": ("El CUDE de la nota crédito no es el que la DIAN calcula.", _SUPPORT),
    "DAD06": ("El CUDE de la nota débito no es el que la DIAN calcula.", _SUPPORT),
    # InvoiceControl against DIAN's range table, field by field (radian-issuing-facts B.1).
    "FAB05b": ("El número de la resolución no es una autorización de facturación de este facturador (por ejemplo, "
               "el rango es el del documento soporte).", _RANGE),
    "FAB07b": ("La fecha inicial de la resolución no coincide con la de la DIAN.", _RANGE),
    "FAB08b": ("La fecha final de la resolución no coincide con la de la DIAN.", _RANGE),
    "FAB10b": ("El prefijo no corresponde a la resolución de numeración.", _RANGE),
    "FAB11b": ("El número inicial del rango no coincide con el autorizado.", _RANGE),
    "FAB12b": ("El número final del rango no coincide con el autorizado.", _RANGE),
    "FAB27b": ("El software o su huella no corresponden a lo registrado en la DIAN.", _SUPPORT),
    "SIM20": ("El número está fuera del rango de numeración autorizado.", _RANGE),
    "SIM22": ("La resolución de numeración ya venció o aún no empieza.", _RANGE),
    "FAU04": ("El total bruto (suma de las líneas) no cuadra.", _TOTALS),
    "FAU06": ("El total con impuestos no cuadra.", _TOTALS),
    "FAU14": ("El valor a pagar no cuadra (la tolerancia de la DIAN es de ± 2,00).", _TOTALS),
    "FAS02": ("La suma de los impuestos no cuadra con sus subtotales.", _TOTALS),
    "CBG04a": ("La factura que corrige la nota crédito no existe en la DIAN o no fue validada.",
               "Revise el número y el CUFE de la factura referenciada."),
    "DBG04a": ("La factura que corrige la nota débito no existe en la DIAN o no fue validada.",
               "Revise el número y el CUFE de la factura referenciada."),
    "VLR02": ("La nota supera lo que queda de la factura que corrige.",
              "Revise los valores de la nota frente a la factura y sus notas anteriores."),
    "CTG01": ("La factura de contingencia está fuera de la ventana de contingencia declarada.", _SUPPORT),
    "SIM13": ("La DIAN ya tiene otro documento con este número.", _RANGE),
    "SIM88": ("El comprador ya aceptó la factura (evento 033 o 034): la DIAN no admite notas sobre ella.",
              "Acuerde con el comprador cómo corregirlo (por ejemplo, en una factura nueva)."),
    "RUT01": ("Un aviso de la DIAN sobre la consulta del RUT del comprador; no impide la validación.",
              "Nada: es informativo."),
    "SIM93": ("La factura de contingencia se transmitió fuera del plazo.", _SUPPORT),
}  # fmt: skip


@dataclass(frozen=True)
class IssuedRule:
    """One line of DIAN's answer on a document of ours, explained."""

    rule: str | None
    rejection: bool
    text: str  # DIAN's own words
    meaning: str
    next_step: str


def explain_rules(messages: list[str] | tuple[str, ...]) -> list[IssuedRule]:
    """DIAN's lines, the rejections first; a rule Buzón does not know still shows DIAN's own words."""
    found = []
    for message in messages:
        if not message or not message.strip():
            continue
        match = _RULE_RE.match(message)
        if match is None:
            found.append(IssuedRule(None, True, message.strip(), "La DIAN respondió con este texto.", _SUPPORT))
            continue
        rule, kind, text = match.group(1), match.group(2), match.group(3).strip()
        meaning, step = RULES.get(rule, ("Una regla de la DIAN que Buzón aún no explica; abajo está su texto.",
                                         _SUPPORT))  # fmt: skip
        found.append(IssuedRule(rule, kind == "Rechazo", text, meaning, step))
    return [r for r in found if r.rejection] + [r for r in found if not r.rejection]
