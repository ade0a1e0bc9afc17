"""The words of title alerts, true for the side we are on, with amounts in Colombian format.

A receivable (role holder: our invoice) and a payable (role obligor: a supplier's invoice we owe) read the same
RADIAN event differently: when a supplier's invoice changes holder we must pay only the new holder; when our own
invoice is endorsed away the buyer pays the new holder and we no longer collect it. radian may not import web, so
the money format (web/labels.money's) is written here too.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from store.models import AlertKind, TitleRole

__all__ = ["holder_changed", "pesos", "state_words"]


def pesos(value: Decimal | None, currency: str = "COP") -> str:
    """Colombian format: $ 1.234.567,89 (dot for thousands, comma for decimals); another currency after the figure."""
    if value is None:
        return "—"
    rounded = Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    whole, _, cents = f"{rounded:,.2f}".partition(".")
    text = f"{whole.replace(',', '.')},{cents}"
    return f"$ {text}" if currency in ("COP", "") else f"{text} {currency}"


def _party(nit: str | None, name: str | None) -> str:
    return f"{name or nit} (NIT {nit})"


def holder_changed(role: TitleRole, invoice: str, *, old_nit: str | None, old_name: str | None, new_nit: str | None,
                   new_name: str | None, our_nit: str | None = None) -> str:  # fmt: skip
    """The alert of a change of legitimate holder on invoice ``invoice``, for our side of it (``our_nit``: who
    collects a receivable when it returns to us, by default its issuer)."""
    new = _party(new_nit, new_name)
    moved = f"La factura {invoice} cambió de tenedor legítimo: de {_party(old_nit, old_name)} a {new}."
    if role is TitleRole.OBLIGOR:
        return f"{moved} Pague solo al nuevo tenedor: {new}."
    if our_nit is not None and new_nit == our_nit:
        return f"{moved} El título volvió a nosotros: el deudor nos paga a nosotros y lo cobramos de nuevo."
    return f"{moved} El deudor debe pagar ahora a {new}; ya no cobramos este título."


_WORDS = {
    AlertKind.REGISTERED: "quedó inscrita en RADIAN como título valor",
    AlertKind.LIMITATION_LIFTED: "ya no tiene limitación a la circulación",
    AlertKind.PROTESTED: "fue protestada",
    AlertKind.TRANSFERRED: "tiene sus derechos económicos transferidos",
    AlertKind.PARTIALLY_PAID: "tiene un pago parcial registrado",
    AlertKind.PAID: "quedó pagada en su totalidad",
}
_LIMITED = {
    TitleRole.OBLIGOR: "tiene una limitación a la circulación (medida cautelar): no la pague hasta que se levante",
    TitleRole.HOLDER: "tiene una limitación a la circulación (medida cautelar): no se puede endosar mientras siga "
    "vigente y su pago queda sujeto a la medida",
}


def state_words(kind: AlertKind, role: TitleRole) -> str:
    """What a title's new state means, as the end of "La factura X …" (no final period)."""
    if kind is AlertKind.LIMITED:
        return _LIMITED[role]
    return _WORDS[kind]
