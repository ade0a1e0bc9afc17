"""Spanish labels for what the UI shows (es-CO)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from dian.codes import DocumentState

STATE_LABELS = {
    DocumentState.RECEIVED: "Recibida",
    DocumentState.VALIDATED: "Validada",
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
    "invalid": "Inválida",
}

QUARANTINE_LABELS = {
    "not_for_us": "No está dirigida a nuestro NIT",
    "signature_invalid": "Firma inválida",
    "not_validated": "Sin validación de la DIAN",
    "no_document": "Sin documento electrónico",
    "duplicate": "Duplicada",
    "too_large": "Demasiado grande",
    "unreadable": "Ilegible",
}


def money(value: Decimal | None, currency: str = "COP") -> str:
    """Colombian format: $ 1.234.567,89 (dot for thousands, comma for decimals)."""
    if value is None:
        return ""
    rounded = Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    whole, _, cents = f"{rounded:,.2f}".partition(".")
    text = f"{whole.replace(',', '.')},{cents}"
    return f"$ {text}" if currency == "COP" else f"{text} {currency}"
