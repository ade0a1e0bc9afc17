"""The areas of the top bar: which the user may open, in the order of the work, grouped when they are many.

A clerk, a treasurer or a biller sees up to eleven areas, listed as they are. An administrator or an auditor sees up
to sixteen, which wrapped onto two lines of the bar: past ``FLAT_UP_TO`` the areas are grouped under four menus of
the bar (Recepción, Tesorería, Facturación, Control), each a <details> (web/templates/_nav.html, no script), with
Resumen and Avisos left on the bar. On a phone the groups are headings of the folded menu.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, request

from web.access import may_access

# Areas that fit on one line of the bar at 1366 px: a clerk's or a treasurer's (ten, eleven in the demo, which adds
# Correo enviado) stay flat; an administrator's (sixteen) and an auditor's (fifteen) are grouped.
FLAT_UP_TO = 11


@dataclass(frozen=True)
class Area:
    endpoint: str
    label: str
    id: str | None = None  # the link's id: the areas with a count (web/templates/_nav.html)


@dataclass(frozen=True)
class Group:
    label: str  # "" for areas that stay on the bar
    areas: tuple[Area, ...]


GROUPS = (
    Group("", (Area("dashboard.index", "Resumen"),)),
    Group(
        "Recepción",
        (
            Area("inbox.index", "Bandeja"),
            Area("inbox.quarantine", "Cuarentena"),
            Area("upload.form", "Subir documentos"),
            Area("suppliers.index", "Proveedores"),
            Area("approvals.index", "Aprobaciones", "nav-aprobaciones"),
        ),
    ),
    Group("Tesorería", (Area("titles.index", "Títulos valor"), Area("payments.index", "Pagos"))),
    Group("Facturación", (Area("issued.index", "Facturas emitidas"), Area("support.index", "Documento soporte"))),
    Group(
        "Control",
        (
            Area("audit.index", "Auditoría"),
            Area("archive.index", "Paquete de auditoría"),
            Area("sent_mail.index", "Correo enviado"),
            Area("jobs.index", "Tareas"),
            Area("dian_certificates.index", "Certificados DIAN"),
            Area("admin.index", "Administración"),
        ),
    ),
    Group("", (Area("alerts.index", "Avisos", "nav-avisos"),)),
)


@dataclass(frozen=True)
class Shown:
    """One entry of the bar: an area, or a group of areas shown as a menu (``menu``)."""

    label: str
    areas: tuple[Area, ...]
    menu: bool
    current: str | None  # the endpoint of the area the page belongs to, if it is in this entry


def shown(groups: tuple[Group, ...] = GROUPS) -> list[Shown]:
    """The entries of the bar for the signed-in user: the areas they may open, grouped into menus past FLAT_UP_TO."""
    allowed = [Group(g.label, tuple(a for a in g.areas if may_access(a.endpoint))) for g in groups]
    allowed = [g for g in allowed if g.areas]
    grouped = sum(len(g.areas) for g in allowed) > FLAT_UP_TO
    current = _current([a for g in allowed for a in g.areas])
    out: list[Shown] = []
    for group in allowed:
        if grouped and group.label and len(group.areas) > 1:
            out.append(Shown(group.label, group.areas, True, current if _holds(group, current) else None))
        else:
            out.extend(Shown(a.label, (a,), False, current if a.endpoint == current else None) for a in group.areas)
    return out


def _holds(group: Group, endpoint: str | None) -> bool:
    return any(a.endpoint == endpoint for a in group.areas)


# The pages of other blueprints that belong to an area (a document's page to Bandeja, a form to its list).
_PAGES_OF = {
    "documents": "inbox.index",
    "quarantine": "inbox.quarantine",
    "title_actions": "titles.index",
    "issue_form": "issued.index",
    "support_form": "support.index",
    "support_week": "support.index",
    "audit_chain": "audit.index",
}


def _current(areas: list[Area]) -> str | None:
    """The area the page belongs to: the one it is, else the area of its blueprint (a document belongs to Bandeja,
    every admin_* page to Administración)."""
    endpoint = request.endpoint or ""
    blueprint = endpoint.partition(".")[0]
    own = {a.endpoint for a in areas}
    if endpoint in own:
        return endpoint
    if blueprint.startswith("admin_"):
        blueprint = "admin"
    of_blueprint = (a.endpoint for a in areas if a.endpoint.startswith(f"{blueprint}."))
    found = _PAGES_OF.get(blueprint) or next(of_blueprint, None)
    return found if found in own else None


def init_nav(app: Flask) -> None:
    @app.context_processor
    def _nav() -> dict[str, Any]:
        return {"nav_entries": shown}
