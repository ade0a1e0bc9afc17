"""DIAN's rule codes for the events 030-033, told to a clerk: what the rejection means and what to do next (es-CO).

DIAN answers a refused event with lines like ``Regla: AAB27b, Rechazo: Huella no corresponde…`` (dian-facts.md 6,
and dian/simulator/core.py for the rules the simulator applies; dian/rules/table.py holds the codes Buzón predicts
itself).
``explain`` turns one such line into the rule code, a sentence on its meaning, the next step and DIAN's own text;
a code not in the table still shows DIAN's text with a generic next step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_RULE_RE = re.compile(r"^\s*Regla:\s*([A-Za-z0-9]+)\s*,\s*(Rechazo|Notificaci[oó]n)\s*:\s*(.*)$", re.S)

_CONFIG = "El administrador debe revisarlo en la configuración de Buzón"
_RESEND = "Cuando esté corregido, vuelva a enviar el evento desde esta página."
_SUPPORT = "Si no lo tiene claro, copie el código y el texto de la DIAN y consulte al administrador de Buzón."


@dataclass(frozen=True)
class RuleHelp:
    meaning: str
    next_step: str


# Rule code -> (meaning, next step). Sources: dian-facts.md 2.2, 2.5, 6; dian/rules/table.py; dian/simulator/core.py.
RULES: dict[str, RuleHelp] = {
    "90": RuleHelp(
        "La DIAN ya había recibido este mismo evento (documento procesado anteriormente).",
        "Buzón lo confirma consultando los eventos de la factura en la DIAN; si aquí no aparece registrado, use "
        "«Consultar en DIAN» y revise la lista de eventos antes de enviarlo otra vez.",
    ),
    "LGC01": RuleHelp(
        "La factura ya tiene registrado en la DIAN un evento de este mismo tipo.",
        "No lo envíe de nuevo: use «Consultar en DIAN» para ver lo registrado; la sincronización de eventos lo "
        "mostrará en esta página.",
    ),
    "LGC02": RuleHelp(
        "La factura tiene un reclamo (031) registrado, así que ya no se puede aceptar expresamente.",
        "Resuelva el reclamo con el proveedor; la aceptación expresa no procede mientras el reclamo esté vigente.",
    ),
    "LGC09": RuleHelp(
        "El recibo del bien o servicio (032) exige que antes esté registrado el acuse de recibo (030).",
        "Envíe primero el acuse de recibo (030) y, cuando la DIAN lo registre, el recibo (032).",
    ),
    "LGC12": RuleHelp(
        "La aceptación expresa (033) exige que antes esté registrado el recibo del bien o servicio (032).",
        "Envíe el recibo del bien o servicio (032) y, cuando la DIAN lo registre, la aceptación.",
    ),
    "LGC13": RuleHelp(
        "La aceptación expresa (033) exige que antes esté registrado el acuse de recibo (030).",
        "Envíe el acuse de recibo (030) y el recibo del bien o servicio (032) antes de aceptar.",
    ),
    "LGC62": RuleHelp(
        "La factura no es a crédito: los eventos de aceptación y reclamo solo aplican a ventas a crédito.",
        "No hace falta este evento para una factura de contado. Si la forma de pago es un error del proveedor, "
        "pídale una nota crédito y una factura nueva.",
    ),
    "DC24": RuleHelp(
        "La fecha de firma del evento es posterior a la hora de la DIAN: el reloj de este servidor está adelantado.",
        f"{_CONFIG}: la hora del servidor debe estar sincronizada (NTP). {_RESEND}",
    ),
    "DC24a": RuleHelp(
        "El acuse de recibo (030) quedó firmado antes que la propia factura.",
        f"Revise la hora del servidor de Buzón (debe estar sincronizada). {_RESEND}",
    ),
    "DC24b": RuleHelp(
        "El recibo del bien o servicio (032) quedó firmado antes que el acuse de recibo (030).",
        f"Revise la hora del servidor de Buzón. {_RESEND}",
    ),
    "DC24c": RuleHelp(
        "Se venció el plazo de 3 días hábiles después del recibo del bien o servicio (032) para aceptar expresamente.",
        "Ya no puede aceptarse expresamente: pasado el plazo la factura se entiende aceptada tácitamente y el "
        "proveedor puede registrar la aceptación tácita (034).",
    ),
    "DC24z": RuleHelp(
        "Se venció el plazo de 3 días hábiles después del recibo del bien o servicio (032) para reclamar, o el "
        "reclamo quedó firmado antes que ese recibo.",
        "El reclamo ya no procede ante la DIAN; trate la diferencia directamente con el proveedor (por ejemplo, "
        "pidiéndole una nota crédito).",
    ),
    "AAB27b": RuleHelp(
        "La huella del software (código de seguridad del evento) no corresponde a un software autorizado para "
        "nuestro NIT: el identificador o el PIN del software no coinciden con los registrados en la DIAN.",
        f"{_CONFIG} (dian.software_id y dian.software_pin, los del portal de habilitación de la DIAN). {_RESEND}",
    ),
    "AAD05": RuleHelp(
        "El número del evento ya fue usado por otro evento del mismo tipo.",
        f"{_CONFIG}: la numeración de los eventos no debe repetirse. {_RESEND}",
    ),
    "AAD06": RuleHelp(
        "El CUDE del evento no está bien calculado (no coincide con los datos del evento y el PIN del software).",
        f"{_CONFIG} (dian.software_pin). {_RESEND}",
    ),
    "AAD09e": RuleHelp(
        "La fecha de generación del evento es distinta de la fecha de envío a la DIAN.",
        "Los eventos que quedaron en cola de un día para otro deben firmarse de nuevo: vuelva a enviar el evento.",
    ),
    "AAF01": RuleHelp(
        "Quien envía el evento no es quien puede enviarlo: el acuse, el recibo, el reclamo y la aceptación los "
        "envía el comprador de la factura.",
        "Revise que la factura esté a nombre de nuestra empresa (NIT del adquirente) y que el NIT configurado en "
        "Buzón sea el correcto.",
    ),
    "ZB01": RuleHelp(
        "El XML del evento no cumple el esquema de la DIAN.",
        f"Es un error de Buzón, no suyo. {_SUPPORT}",
    ),
    "ZE02": RuleHelp(
        "La DIAN no acepta la firma digital del evento (valor de la firma inválido).",
        f"{_CONFIG}: el certificado de la empresa y su contraseña. {_SUPPORT}",
    ),
    "RUT01": RuleHelp(
        "Aviso de la DIAN: la validación del estado del RUT aún no está disponible. No impide el registro.",
        "No hace falta hacer nada.",
    ),
    # The simulator's own codes (dian/simulator/core.py) for refusals DIAN words differently or without a public code.
    "SIM10": RuleHelp(
        "La firma digital del evento no es válida para la DIAN.",
        f"{_CONFIG}: el certificado de la empresa. {_RESEND}",
    ),
    "SIM11": RuleHelp(
        "El certificado con que se firmó el evento no proviene de una entidad de certificación reconocida.",
        f"{_CONFIG}: el certificado debe ser de una entidad acreditada por la ONAC. {_RESEND}",
    ),
    "SIM41": RuleHelp(
        "El evento no indica la hora de firma.",
        f"Es un error de Buzón, no suyo. {_SUPPORT}",
    ),
    "SIM42": RuleHelp(
        "La DIAN no tiene registrada la factura a la que se refiere el evento.",
        "Use «Consultar en DIAN» para ver si la DIAN conoce el CUFE; si no, pida al proveedor que confirme que la "
        "factura fue validada por la DIAN.",
    ),
    "SIM43": RuleHelp(
        "El número de factura del evento no coincide con el de la factura registrada en la DIAN para ese CUFE.",
        "Compare el número y el CUFE con los del proveedor; si no coinciden, pídale la factura correcta.",
    ),
    "SIM44": RuleHelp(
        "El receptor del evento no es el emisor de la factura.",
        f"Es un error de Buzón, no suyo. {_SUPPORT}",
    ),
    "SIM50": RuleHelp(
        "La DIAN no admite este evento en el estado en que está la factura (por ejemplo, un reclamo después de una "
        "aceptación).",
        "Lea el texto de la DIAN y compare con los eventos ya registrados en esta página.",
    ),
}

GENERIC = RuleHelp(
    "La DIAN rechazó el evento con una regla que Buzón aún no explica; abajo está el texto de la DIAN.",
    _SUPPORT,
)


@dataclass(frozen=True)
class Explained:
    """One line of DIAN's answer, explained: ``rule`` is None for a line without a rule code."""

    rule: str | None
    kind: str  # "Rechazo" or "Notificación"
    text: str  # DIAN's own words
    meaning: str
    next_step: str
    known: bool

    @property
    def is_rejection(self) -> bool:
        return self.kind == "Rechazo"


def explain(message: str) -> Explained:
    """A line of DIAN's answer (``Regla: X, Rechazo: …`` or free text) with its meaning and next step."""
    match = _RULE_RE.match(message or "")
    if match is None:
        return Explained(None, "Rechazo", (message or "").strip(), GENERIC.meaning, GENERIC.next_step, False)
    rule, kind, text = match.group(1), match.group(2), match.group(3).strip()
    kind = "Rechazo" if kind == "Rechazo" else "Notificación"
    help_ = RULES.get(rule) or RULES.get(rule.upper())
    if help_ is None:
        return Explained(rule, kind, text, GENERIC.meaning, GENERIC.next_step, False)
    return Explained(rule, kind, text, help_.meaning, help_.next_step, True)


def explain_all(messages: list[str]) -> list[Explained]:
    """The rejections first (what blocked the event), then the notifications."""
    explained = [explain(m) for m in messages if m and m.strip()]
    return [e for e in explained if e.is_rejection] + [e for e in explained if not e.is_rejection]
