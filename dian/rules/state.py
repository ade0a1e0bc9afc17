"""A received document's state, derived from its registered events, else from its verification (DESIGN.md 4, 5a)."""

from __future__ import annotations

from collections.abc import Iterable

from dian.codes import DocumentState, EventCode

E = EventCode


# The events that set a received invoice's state, strongest first (DESIGN.md section 4).
_STATE_BY_EVENT = (
    (E.INSCRIPCION_TITULO, DocumentState.TITLE),
    (E.ACEPTACION_TACITA, DocumentState.TACITLY_ACCEPTED),
    (E.ACEPTACION_EXPRESA, DocumentState.ACCEPTED),
    (E.RECLAMO, DocumentState.CLAIMED),
    (E.RECIBO_BIEN, DocumentState.GOODS_RECEIVED),
    (E.ACUSE_RECIBO, DocumentState.ACKNOWLEDGED),
)


def derive_state(*, validated: bool | None, registered: Iterable[EventCode], confirmed: bool = True) -> DocumentState:
    """Derive a document's state from its DIAN-registered events, else from its verification outcome; a valid
    document whose DIAN validation is not proven yet (``confirmed`` False) is "unconfirmed" (DESIGN.md 5a)."""
    # The events are the truth (DESIGN.md section 4): a registered event outranks our own verification.
    codes = {EventCode(code) for code in registered}
    for code, state in _STATE_BY_EVENT:
        if code in codes:
            return state
    if validated is None:
        return DocumentState.RECEIVED
    if not validated:
        return DocumentState.INVALID
    return DocumentState.VALIDATED if confirmed else DocumentState.UNCONFIRMED
