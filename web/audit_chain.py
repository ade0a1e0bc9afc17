"""Verificar la cadena: the auditor asks, and the whole audit log's hash chain is recomputed now (store/audit_chain.py);
only then does the page say "verificada" or "rota". Nothing is shown as verified from an earlier run or a cache.

The entries written since the last seal are sealed first (the seal job's work, done now), so the head covers every
entry committed so far. A head recorded earlier (an export pack's) may be given: it must still be in the chain.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, render_template, request
from sqlalchemy.orm import Session

from dian.calendar import BOGOTA
from store import audit_chain
from store.models import Role
from web import tenant
from web.access import roles

bp = Blueprint("audit_chain", __name__)
HEAD_RE = re.compile(r"^(\d{1,15}):([0-9a-f]{64})$")

# What each kind of break means, for the auditor (`buzon audit verify` gives the technical sentence).
BREAKS = {
    "changed": "la entrada fue modificada después de sellada: sus datos ya no dan su hash, y la siguiente sigue "
    "enlazada al hash original",
    "removed": "falta esta posición de la cadena: se borró una entrada",
    "moved": "la entrada no sigue a la anterior: se movieron, reordenaron o volvieron a sellar entradas",
    "rewritten": "esta posición ya no tiene el hash registrado antes (la cadena se recalculó después de un cambio)",
    "truncated": "la cadena termina antes de la posición registrada: se borraron entradas del final",
}


def _db() -> Session:
    return tenant.db()


@bp.get("/auditoria/cadena")
@roles(Role.AUDITOR, Role.ADMIN)
def page() -> Any:
    """What the chain is, and the button that verifies it now."""
    return render_template("audit_chain.html", verdict=None, error=None, recorded="")


@bp.post("/auditoria/cadena")
@roles(Role.AUDITOR, Role.ADMIN)
def verify_now() -> Any:
    """Seal what is new, recompute every link, show the outcome (or the head recorded earlier that is not there)."""
    recorded = request.form.get("cabeza", "").strip().lower()[:100]
    expect = None
    if recorded:
        found = HEAD_RE.match(recorded)
        if found is None:
            error = ("Cabeza registrada: «" + recorded[:40] + "» no tiene la forma POSICIÓN:HASH (un número, dos "
                     "puntos y 64 caracteres hexadecimales), como la trae el paquete de exportación.")  # fmt: skip
            return render_template("audit_chain.html", verdict=None, error=error, recorded=recorded), 400
        expect = (int(found[1]), found[2])
    session = _db()
    started = time.perf_counter()
    audit_chain.seal_pending(session)
    session.commit()
    verdict = audit_chain.verify(session, expect=expect)
    session.rollback()
    seconds = time.perf_counter() - started
    at = datetime.now(UTC).astimezone(BOGOTA).strftime("%Y-%m-%d %H:%M:%S")
    meaning = BREAKS.get(verdict.broken.kind, "") if verdict.broken else ""
    took = f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s".replace(".", ",")
    return render_template("audit_chain.html", verdict=verdict, meaning=meaning, took=took, at=at,
                           recorded=recorded, error=None)  # fmt: skip
