"""Spanish labels for what the UI shows (es-CO)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from dian.calendar import BOGOTA, BusinessCalendar, Remaining
from dian.codes import DocumentState

if TYPE_CHECKING:
    from store.models import ReceivedDocument

STATE_LABELS = {
    DocumentState.RECEIVED: "Recibida",
    DocumentState.VALIDATED: "Validada",
    DocumentState.UNCONFIRMED: "Sin confirmar",  # beside it, the verdict says what: "Validación DIAN sin confirmar"
    DocumentState.INVALID: "Inválida",
    DocumentState.ACKNOWLEDGED: "Acuse de recibo",
    DocumentState.GOODS_RECEIVED: "Bien o servicio recibido",
    DocumentState.ACCEPTED: "Aceptada",
    DocumentState.CLAIMED: "Reclamada",
    DocumentState.TACITLY_ACCEPTED: "Aceptación tácita",
    DocumentState.TITLE: "Título valor",
}

VERDICT_LABELS = {
    "valid": "Válida",
    "valid_with_warnings": "Válida con advertencias",
    "unconfirmed": "Validación DIAN sin confirmar",
    "invalid": "Inválida",
}

# The verdicts that count as DIAN's validation (DESIGN.md 5a); "unconfirmed" and "invalid" do not.
DIAN_VALIDATED = frozenset({"valid", "valid_with_warnings"})

QUARANTINE_LABELS = {
    "not_for_us": "No es para ninguna de nuestras empresas",
    "signature_invalid": "Firma inválida",
    "not_validated": "Sin validación de la DIAN",
    "no_document": "Sin documento electrónico",
    "duplicate": "Duplicada",
    "too_large": "Demasiado grande",
    "unreadable": "Ilegible",
    "forged": "Falsificado: firmante, partes o registro en la DIAN no coinciden",
    "error_interno": "Error interno al procesar este correo",
    "unsupported": "Tipo de documento no admitido",
}


def dian_validated(verdict: object) -> bool:
    """Whether a verdict counts as DIAN's validation: valid or valid with warnings, never unconfirmed or invalid."""
    return str(getattr(verdict, "value", verdict)) in DIAN_VALIDATED


def money(value: Decimal | None, currency: str = "COP") -> str:
    """Colombian format: $ 1.234.567,89 (dot for thousands, comma for decimals)."""
    if value is None:
        return ""
    rounded = Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    whole, _, cents = f"{rounded:,.2f}".partition(".")
    text = f"{whole.replace(',', '.')},{cents}"
    return f"$ {text}" if currency == "COP" else f"{text} {currency}"


def claim_window_left(doc: ReceivedDocument, now: datetime, calendar: BusinessCalendar) -> Remaining | None:
    """What is left of the 3 business days to accept (033) or claim (031) after the 032, for the countdown the inbox
    and the API show; None when no window is running: before the 032, and once a 033, 031, the seller's 034 or
    RADIAN's 036 decided the invoice (its window_ends_at stays on file, but "Plazo vencido" there would be false
    alarm). A window that lapsed still shows, expired, while nothing decided the invoice; the inbox's filter and sort
    use open_window_ends_at, which drops a lapsed window once the deadline sweep closes it."""
    if doc.state is not DocumentState.GOODS_RECEIVED or doc.window_ends_at is None:
        return None
    return calendar.remaining(now, doc.window_ends_at)


def local_time(moment: datetime | None) -> str:
    """A moment in Bogotá time, as the clerks read it: 03/03/2025 14:05."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(BOGOTA).strftime("%d/%m/%Y %H:%M")


ENVIRONMENT_LABELS = {
    "simulator": "Simulador local de la DIAN (sin validez fiscal)",
    "habilitacion": "Habilitación de la DIAN (pruebas)",
    "produccion": "Producción de la DIAN",
}

# A role in a sentence, lower case: "Ana Torres (auxiliar)".
ROLE_NOUNS = {"clerk": "auxiliar", "treasury": "tesorería", "admin": "administrador", "auditor": "auditor",
              "billing": "facturación"}


def days_phrase(days: int) -> str:
    """A count of days as words a person reads: hoy, 1 día, 12 días."""
    if days == 0:
        return "hoy"
    return f"{days} día" if abs(days) == 1 else f"{days} días"
