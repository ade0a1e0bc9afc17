"""The inbox's search text: a document's number, supplier NIT and supplier name folded (no accents, lower case).

The folding is done here, in Python, for the stored column and for what the user types alike, so "cafe" finds
"Café" and "papeleria" finds "Papelería" the same way on PostgreSQL and SQLite (LIKE then compares plain text;
neither backend's collation or case rules matter). The column is filled by a context-sensitive column default, so
intake's Core INSERTs fill it as the ORM's do, and kept by an ORM listener if one of the three fields is changed.
"""

from __future__ import annotations

import unicodedata
from typing import Any

# Between the three parts, so a typed text never matches across two of them; not a character anyone types.
SEPARATOR = "\x1f"
MAX_LENGTH = 520  # number (40) + NIT (20) + name (450) + separators, with room to spare
_PARTS = ("number", "issuer_nit", "issuer_name")


def fold(text: str) -> str:
    """Lower case, accents and other combining marks dropped, runs of white space made one space."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


def search_text(number: str, issuer_nit: str, issuer_name: str) -> str:
    """The stored search text of a document (the parts in this order: the supplier filter relies on the name
    and the NIT coming after the first separator)."""
    return SEPARATOR.join(fold(part or "") for part in (number, issuer_nit, issuer_name))[:MAX_LENGTH]


def search_default(context: Any) -> str:
    """The column default: computed from the INSERT's own parameters (Core and ORM inserts alike)."""
    values = context.get_current_parameters()
    return search_text(*(values.get(part) or "" for part in _PARTS))


def keep_folded(document_class: type) -> None:
    """Recompute the search text when an ORM flush changes the number, the NIT or the name of a document."""
    from sqlalchemy import event, inspect

    @event.listens_for(document_class, "before_update")
    def _refold(_mapper: Any, _connection: Any, target: Any) -> None:
        state = inspect(target)
        if any(state.attrs[part].history.has_changes() for part in _PARTS):
            target.search_text = search_text(*(getattr(target, part) for part in _PARTS))
