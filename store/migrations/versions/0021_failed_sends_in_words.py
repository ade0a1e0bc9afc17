"""A failed send's ``last_error`` in the clerk's words: the outboxes now write why DIAN gave no answer in Spanish, from
the error's attributes (``dian.soap.errors``), and the pages show it as written. Rows still waiting for their next
attempt may hold the old English account of the client ("SendEventUpdateStatus: HTTP 503 without a SOAP answer");
they are put in the same words here, once. This is the only place that reads those English words: the translation
is frozen with the migration, as the texts it translates were.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

# (table, state column): the rows an outbox will send again.
_TABLES = (("document_events", "submission_state"), ("outbound_documents", "state"))
# The old account: an optional Spanish prefix, then the client's English ("<Operation>: …" or "SOAP fault …").
_OLD = re.compile(
    r"(?P<prefix>Regla 90 sin confirmar(?: \(GetStatus\))?: )?"
    r"(?P<said>(?:[A-Za-z]+: (?:TLS failed|timed out|connection failed|unreadable answer|HTTP [0-9]{3}|the answer is)"
    r"|SOAP fault ).*)",
    re.DOTALL,
)
_HTTP = {408: "tiempo de espera agotado", 429: "demasiadas solicitudes", 500: "error interno del servidor",
         502: "puerta de enlace inválida", 503: "servicio no disponible",
         504: "tiempo de espera de la puerta de enlace agotado"}  # fmt: skip


def in_words(text: str) -> str | None:
    """The Spanish words for an old English account, or None for a text that is not one."""
    found = _OLD.fullmatch(text)
    if found is None:
        return None
    said = found.group("said")
    status = re.search(r"HTTP ([0-9]{3})", said)
    if said.startswith("SOAP fault "):
        words = "el servicio de la DIAN respondió con un error SOAP"
    elif status:
        code = int(status.group(1))
        words = f"el servicio de la DIAN respondió HTTP {code} ({_HTTP.get(code, 'error del servidor')})"
    elif ": timed out" in said:
        words = "la DIAN no respondió a tiempo"
    elif ": TLS failed" in said:
        words = "falló la conexión segura (TLS) con la DIAN"
    elif ": connection failed" in said:
        words = "no se pudo conectar con el servicio de la DIAN"
    else:
        words = "la respuesta de la DIAN no se pudo leer"
    return (found.group("prefix") or "") + words


def upgrade() -> None:
    bind = op.get_bind()
    for name, state in _TABLES:
        table = sa.table(name, sa.column("id"), sa.column(state), sa.column("last_error"))
        rows = bind.execute(
            sa.select(table.c.id, table.c.last_error).where(
                table.c[state] == "send_failed", table.c.last_error.is_not(None)
            )
        ).all()
        for row_id, text in rows:
            words = in_words(text)
            if words is not None:
                bind.execute(sa.update(table).where(table.c.id == row_id).values(last_error=words))


def downgrade() -> None:
    pass  # the English account is not kept: the audit record of each failed send still holds it
