"""Demo documentos soporte (AP's Documento soporte area), issued through the real service against the local DIAN.

Called by `buzon/demo_issued.py` inside its simulator, after it marked the DS range the local DIAN lists
(buzon/local_dian.py) as the documento soporte's (`buzon ranges kind DS support_document`) before any invoice: a
resident farmer's DS and a foreign software provider's DS in dollars are validated, the farmer's gets a partial
adjustment note (95: two bultos came back), and this week's purchases from a second seller wait to be gathered into
the weekly DS (mode 2) from /soporte/semana.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from dian.calendar import BOGOTA

FARMER = {"id_type": "13", "id": "79123456", "name": "Pedro Campesino Rojas", "organization": "2",
          "address": {"line": "Vereda El Rosal, finca La Esperanza", "city_code": "25754", "city": "Soacha",
                      "department": "Cundinamarca"}}  # fmt: skip
SAAS = {"id_type": "50", "id": "US-98-7654321", "name": "Cloud Tools Inc.", "organization": "1", "resident": False,
        "address": {"line": "1 Market St, San Francisco CA", "country": "US"}}  # fmt: skip
ELECTRICIAN = {"id_type": "13", "id": "80456789", "name": "Jairo Electricista Gómez", "organization": "2",
               "address": {"line": "Cl 45 # 12-30", "city_code": "11001", "city": "Bogotá, D.C.",
                           "department": "Bogotá"}}  # fmt: skip
POTATOES = {"description": "Papa pastusa, bulto de 50 kg", "quantity": "10", "unit_price": "85000",
            "taxes": [{"scheme": "01", "rate": "0"}], "withholdings": [{"scheme": "06", "rate": "1.5"}]}  # fmt: skip


def _line(line: dict[str, Any], day: dt.date) -> dict[str, Any]:
    return {**line, "generation": {"mode": "1", "start": day.isoformat()}}


def seed_support(issuing: Any, now: dt.datetime) -> str:
    """Issue the demo's documentos soporte (see the module docstring) from the DS range ``issuing`` already marked as
    theirs; a line for `buzon init`."""
    from issuing.support_request import require_support_request
    from issuing.support_service import SupportService
    from issuing.support_week import register

    if not any(r.prefix == "DS" and r.kind == "support_document" for r in issuing.ranges()):
        return "sin documentos soporte (la DIAN local no lista el rango DS)"
    support = SupportService(issuing)
    day = now.astimezone(BOGOTA).date()
    farmer = support.issue(require_support_request(
        {"kind": "support_document", "seller": FARMER, "lines": [_line(POTATOES, day)],
         "payment": {"form": "1", "method": "10"}}), actor="demo", deliver=True)  # fmt: skip
    saas = support.issue(require_support_request(
        {"kind": "support_document", "seller": SAAS, "currency": "USD",
         "exchange_rate": {"rate": "4012.50", "date": day.isoformat()},
         "lines": [_line({"description": "Suscripción anual, herramienta de diseño (10 usuarios)", "quantity": "10",
                          "unit_price": "120", "taxes": [{"scheme": "01", "rate": "19"}]}, day)],
         "payment": {"form": "1", "method": "47"}}), actor="demo", deliver=True)  # fmt: skip
    note = support.issue(require_support_request(
        {"kind": "support_adjustment", "seller": FARMER, "concept": "1",
         "concept_description": "Devolución de 2 bultos en mal estado",
         "reference": {"number": farmer.number, "uuid": farmer.uuid, "issue_date": day.isoformat()},
         "lines": [{"description": POTATOES["description"], "quantity": "2", "unit_price": "85000",
                    "taxes": [{"scheme": "01", "rate": "0"}]}]}), actor="demo", deliver=True)  # fmt: skip
    monday = day - dt.timedelta(days=day.weekday())
    for offset, (what, price) in enumerate((("Revisión de tablero eléctrico, bodega 2", "180000"),
                                            ("Cambio de luminarias LED, oficina", "95000"))):  # fmt: skip
        line = {"description": what, "quantity": "1", "unit_price": price, "taxes": [{"scheme": "01", "rate": "0"}],
                "withholdings": [{"scheme": "06", "rate": "4"}]}  # fmt: skip
        register(support, ELECTRICIAN, line, min(day, monday + dt.timedelta(days=offset)), actor="demo")
    states = ", ".join(f"{d.number} {d.state.value}" for d in (farmer, saas, note))
    return f"documentos soporte ({states}); 2 compras de la semana por acumular"
