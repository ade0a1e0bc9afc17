"""The DIAN connection admin screen: environment, endpoint, software id (never the PIN), and "Probar conexión con la
DIAN" — a real GetStatus of a key nobody issued, through the DIAN client the shell injects (create_app(dian_client=…)).

The outcome is told as it is: connected (DIAN answered, with its StatusCode and text), a TLS failure, a timeout, a
refused connection, an HTTP error without a SOAP answer, or a SOAP fault (DIAN answered but refused the request, e.g.
the WS-Security certificate). Every test is an audit entry (dian.connection_tested) and the page shows the last one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from dian.soap import ENDPOINTS, DianFault, DianTransportError
from store import audit
from store.models import AuditEntry
from web import tenant
from web.access import roles
from web.admin import ADMIN, client_address, db, settings
from web.labels import ENVIRONMENT_LABELS, local_time

bp = Blueprint("admin_dian", __name__)
PROBE_KEY = "0" * 96  # a CUFE nobody issued: DIAN answers 66 ("no existe") when the call gets through
ACTION = "dian.connection_tested"
OUTCOME_LABELS = {
    "connected": "Conectado",
    "fault": "La DIAN rechazó la consulta",
    "tls": "Error de TLS",
    "timeout": "Tiempo de espera agotado",
    "refused": "Sin conexión",
    "http": "Respuesta HTTP sin SOAP",
    "unreadable": "Respuesta ilegible",
    "setup": "No se pudo preparar el cliente",
}


@dataclass(frozen=True)
class Probe:
    """The outcome of one connection test."""

    outcome: str  # a key of OUTCOME_LABELS
    sentence: str  # what happened, in Spanish, for the admin
    endpoint: str
    seconds: float
    status_code: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == "connected"


def _cause_kind(exc: DianTransportError) -> str:
    if exc.kind in ("tls", "timeout"):
        return exc.kind
    if exc.kind == "connection":
        return "refused"
    if exc.status is not None:
        return "http"
    return "unreadable"


def probe(make_client: Any) -> Probe:
    """Build a client and ask DIAN for the status of PROBE_KEY; the outcome, classified, in Spanish."""
    started = time.monotonic()
    try:
        client = make_client()
    except Exception as exc:  # a missing certificate, a bad endpoint: whatever the shell's factory refuses
        return Probe("setup", f"No se pudo preparar el cliente de la DIAN: {exc}", "", 0.0)
    endpoint = getattr(client, "endpoint", "")
    try:
        answer = client.get_status(PROBE_KEY)
    except DianTransportError as exc:
        kind = _cause_kind(exc)
        elapsed = time.monotonic() - started
        sentences = {
            "tls": "La conexión TLS falló (certificado del servidor no confiable, o protocolo rechazado)",
            "timeout": f"La DIAN no respondió a tiempo (se esperó {elapsed:.1f} s)",
            "refused": "No se pudo conectar: el servidor rechazó o cortó la conexión, o la dirección no existe",
            "http": f"El servidor respondió HTTP {exc.status} sin una respuesta SOAP de la DIAN",
            "unreadable": "El servidor respondió algo que no es una respuesta de la DIAN",
        }
        return Probe(kind, f"{sentences[kind]}. Detalle: {exc}", endpoint, elapsed)
    except DianFault as exc:
        elapsed = time.monotonic() - started
        return Probe("fault", f"El servidor respondió, pero rechazó la consulta con un error SOAP "
                              f"{exc.code or ''}: {exc.reason}", endpoint, elapsed)  # fmt: skip
    except Exception as exc:  # anything else the client raises is told, not turned into a 500
        elapsed = time.monotonic() - started
        return Probe("unreadable", f"La consulta falló: {exc.__class__.__name__}: {exc}", endpoint, elapsed)
    finally:
        close = getattr(client, "close", None)
        if close is not None:
            close()
    elapsed = time.monotonic() - started
    description = answer.status_description or answer.status_message or "sin descripción"
    expected = " (lo esperado para una clave de prueba)" if answer.status_code == "66" else ""
    return Probe(
        "connected",
        f"Conectado: la DIAN respondió en {elapsed:.2f} s con StatusCode {answer.status_code} — «{description}»"
        f"{expected}.",
        endpoint,
        elapsed,
        answer.status_code,
    )


def configured_endpoint(config: Any) -> str:
    """The service URL as configured (the client may resolve the simulator's to another port)."""
    if config.dian.endpoint:
        return config.dian.endpoint
    if config.dian.environment in ENDPOINTS:
        return ENDPOINTS[config.dian.environment]
    return f"Simulador local, puerto {config.dian.simulator_port}"


@bp.get("/admin/dian")
@roles(ADMIN)
def index() -> str:
    """The DIAN environment and software, the button to test the connection, and the last test's outcome."""
    config = settings()
    last = db().scalar(sa.select(AuditEntry).where(AuditEntry.action == ACTION).order_by(AuditEntry.id.desc()).limit(1))
    return render_template(
        "admin/dian.html",
        dian=config.dian,
        environment_label=ENVIRONMENT_LABELS.get(config.dian.environment, config.dian.environment),
        endpoint=configured_endpoint(config),
        available=tenant.service("dian_client") is not None,
        last=last,
        last_at=local_time(last.at) if last else "",
        outcome_labels=OUTCOME_LABELS,
    )


@bp.post("/admin/dian/probar")
@roles(ADMIN)
def test() -> Any:
    """Test the connection now (a real GetStatus); the outcome is flashed and kept in the audit log."""
    make_client = tenant.service("dian_client")
    if make_client is None:
        flash("Esta instalación no le dio a la web un cliente de la DIAN: no se puede probar la conexión desde aquí "
              "(pídaselo a quien administra el servidor).", "error")  # fmt: skip
        return redirect(url_for("admin_dian.index"))
    result = probe(make_client)
    session = db()
    audit.record(
        session,
        actor=current_user.actor,
        action=ACTION,
        subject=f"dian:{settings().dian.environment}",
        source=client_address(),
        data={
            "outcome": result.outcome,
            "endpoint": result.endpoint,
            "detail": result.sentence[:1000],
            "seconds": round(result.seconds, 3),
            "status_code": result.status_code,
        },
    )
    session.commit()
    flash(result.sentence, "ok" if result.ok else "error")
    return redirect(url_for("admin_dian.index"))
