"""Demo invoices of our own (Facturas emitidas), issued through the real issuing service against the local DIAN.

A simulator is started on a free loopback port; our numbering range is read from it (GetNumberingRange, as `buzon
ranges sync` does) and the invoices are signed, numbered and sent with SendBillSync by ``IssuingService``. The
simulator's buyer policy (dian/simulator/buyer.py, per buyer NIT) plays each buyer: one accepts (030, 032, 033), one
claims (031), one receives the goods (032) and then says nothing. The invoices are issued at past moments — the
simulator's clock and the service's set back together, the simulator's WS-Security window widened to match — so
that the silent buyer's 032 is more than three business days old: our receivables sync (the title_sync job's
``radian.sync.sync_receivables``) learns the buyers' events, and the seller's tacit acceptance (034, issuing/tacit.py)
is signed with its sworn note and registered, as billing confirms it under the default policy "propose".

Also: one invoice DIAN rejects (FAD06: DIAN holds another technical key for our range at that moment, put back right
after), a credit note on a validated invoice, and one buyer DIAN knows no reception address for (the page says so).
The buyers' mails are queued with the mail settings of the runtime; the scheduler of `make run` sends them to the
demo's SMTP sink and marks them delivered.

Run once: nothing when any document issued by Buzón exists. Imported where it is used (start-up time).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from buzon import local_dian
from buzon.config import Settings
from buzon.demo_support import seed_support
from buzon.runtime import Runtime
from dian.calendar import BOGOTA
from dian.nit import check_digit


def _buyer(nit: str, name: str, email: str | None, city: tuple[str, str, str]) -> dict[str, Any]:
    buyer = {"id_type": "31", "id": nit, "dv": check_digit(nit), "name": name, "tax_scheme": "01",
             "tax_levels": ["O-13"], "address": {"line": "Cra 15 # 93-40", "city_code": city[0], "city": city[1],
                                                  "department": city[2]}}  # fmt: skip
    return {**buyer, "email": email} if email else buyer


BOGOTA_DC = ("11001", "Bogotá, D.C.", "Bogotá")
MEDELLIN = ("05001", "Medellín", "Antioquia")
CALI = ("76001", "Cali", "Valle del Cauca")
ACCEPTS = _buyer("900555101", "DISTRIBUIDORA EL CAFETAL S.A.S.", "fe@elcafetal.test", MEDELLIN)
CLAIMS = _buyer("900555202", "CONSTRUCCIONES ANDINAS S.A.S.", "facturas@andinas.test", BOGOTA_DC)
SILENT = _buyer("900555303", "HOTEL LOS ALMENDROS S.A.S.", "recepcion.fe@almendros.test", CALI)
PLAIN = _buyer("900555404", "PAPELERÍA CENTRAL LTDA.", "compras@papeleriacentral.test", BOGOTA_DC)
NO_ADDRESS = _buyer("900555505", "FERRETERÍA LA OCHENTA S.A.S.", None, MEDELLIN)
WRONG_KEY = "0" * 40  # the technical key DIAN holds while the rejected invoice is sent


def _line(description: str, quantity: str, price: str, rate: str = "19", discount: str | None = None,
          code: str = "") -> dict[str, Any]:  # fmt: skip
    line: dict[str, Any] = {"description": description, "quantity": quantity, "unit_price": price,
                            "taxes": [{"scheme": "01", "rate": rate}]}  # fmt: skip
    if code:
        line["code"] = code
    if discount:
        line["adjustments"] = [{"reason": "Descuento comercial", "percent": discount}]
    return line


def _invoice(buyer: dict[str, Any], lines: list[dict[str, Any]], issued: dt.datetime, days: int = 30,
             order: str | None = None) -> dict[str, Any]:  # fmt: skip
    due = (issued.astimezone(BOGOTA).date() + dt.timedelta(days=days)).isoformat()
    data: dict[str, Any] = {"type": "01", "customer": buyer, "lines": lines,
                            "payment": {"form": "2", "method": "42", "due_date": due}}  # fmt: skip
    if order:
        data["order_reference"] = order
    return data


# (name, buyer, days before now, lines): issued oldest first.
SALES: tuple[tuple[str, dict[str, Any], float, list[dict[str, Any]]], ...] = (
    ("silent", SILENT, 10, [_line("Mantenimiento de aires acondicionados, 12 unidades", "12", "185000", code="MT-12"),
                            _line("Filtros de repuesto", "24", "38500", code="FL-3")]),
    ("accepts", ACCEPTS, 6, [_line("Café tostado en grano, bulto de 25 kg", "8", "720000", rate="5", code="CF-25"),
                             _line("Empaques valvulados", "200", "1850", discount="5")]),
    ("claims", CLAIMS, 4, [_line("Cemento gris, bulto de 50 kg", "120", "32900", code="CM-50"),
                           _line("Varilla corrugada 1/2\"", "80", "27400", code="VR-12")]),
    ("plain", PLAIN, 2, [_line("Resma de papel carta", "40", "21500", code="PP-CT"),
                         _line("Tóner para impresora láser", "3", "289000", discount="10")]),
    ("rejected", PLAIN, 1, [_line("Carpetas de archivo", "150", "2300")]),
    ("no_address", NO_ADDRESS, 0.1, [_line("Tornillería surtida, caja", "10", "64000")]),
)
POLICIES = {ACCEPTS["id"]: "accept", CLAIMS["id"]: "claim", SILENT["id"]: "silence"}


def seed_issued(settings: Settings, *, now: dt.datetime | None = None) -> str | None:
    """Issue the demo's own invoices once (see the module docstring); a line for `buzon init`, or None."""
    from dian.soap import DianClient
    from issuing.ranges import RangeKind
    from issuing.request import require_request
    from store.models import OutboundDocument

    if not settings.demo or not local_dian.is_local(settings):
        return None
    now = now or dt.datetime.now(dt.UTC)
    probe = Runtime.from_settings(settings)
    try:
        with probe.sessions() as s:
            if s.execute(sa.select(OutboundDocument.id).where(OutboundDocument.origin == "issued")).first():
                return None
    finally:
        probe.close()
    server = local_dian.serve(settings)
    served = dataclasses.replace(settings, dian=dataclasses.replace(settings.dian, simulator_port=server.port))
    runtime = Runtime.from_settings(served)
    simulator, offset = server.simulator, [dt.timedelta(0)]
    real_clock = simulator.clock

    def clock() -> dt.datetime:  # the moment being played: now, minus the offset of the sale
        return now + (dt.datetime.now(dt.UTC) - started) - offset[0]

    started = dt.datetime.now(dt.UTC)
    try:
        simulator.clock = clock
        server.app.clock_skew = dt.timedelta(days=11)  # our WS-Security Timestamps are of today
        service = dataclasses.replace(runtime.issuing_service(), clock=clock)
        service.sync_ranges(actor="demo")
        if any(r.prefix == "DS" for r in service.ranges()):  # before any invoice: a DS range is not theirs
            service.set_kind("DS", RangeKind.SUPPORT_DOCUMENT, actor="demo")
        for nit, policy in POLICIES.items():
            simulator.buyer.set({"policy": policy, "buyer_nit": nit, "concept": "02"})
        done: dict[str, Any] = {}
        for name, buyer, days, lines in SALES:
            offset[0] = dt.timedelta(days=days)
            day = clock().astimezone(BOGOTA).date()
            data = _invoice(buyer, lines, clock(), order=f"OC-{4400 + len(done) * 17}")
            if name == "rejected":
                with _key_at_dian(simulator, settings.company.nit_number, WRONG_KEY):
                    done[name] = service.issue(require_request(data), actor="demo", deliver=True)
            else:
                done[name] = service.issue(require_request(data), actor="demo", deliver=True)
            if name == "plain":  # two units of toner came back damaged: a credit note the next morning
                offset[0] = dt.timedelta(days=days - 0.8)
                done["credit_note"] = service.issue(require_request(_credit_note(done["plain"], day)),
                                                    actor="demo", deliver=True)  # fmt: skip
        offset[0] = dt.timedelta(0)
        simulator.clock = real_clock
        server.app.clock_skew = dt.timedelta(minutes=5)
        client_of = lambda: DianClient(server.url, runtime.company_identity())  # noqa: E731
        tacit = _follow_up(runtime, service, client_of, done["silent"].id, now)
        support = seed_support(service, now)
        _queue_mail(runtime, service, client_of)
        states = ", ".join(f"{d.number} {d.state.value}" for d in done.values())
        return f"demo: {len(done)} documento(s) expedido(s) por Buzón ({states}); {tacit}; {support}"
    finally:
        simulator.clock = real_clock
        runtime.close()
        server.stop()
        simulator.close()


class _key_at_dian:
    """DIAN holds ``key`` as our range's technical key inside the block (the original one is put back after)."""

    def __init__(self, simulator: Any, nit: str, key: str) -> None:
        self.simulator, self.nit, self.key = simulator, nit, key
        self.rows: list[Any] = []

    def _seed(self, key: str | None) -> None:
        self.simulator.seed({"numbering": [
            {"nit": r["nit"], "software_id": r["software_id"], "resolution": r["resolution"],
             "resolution_date": r["resolution_date"], "prefix": r["prefix"], "from": r["from_number"],
             "to": r["to_number"], "valid_from": r["valid_from"], "valid_to": r["valid_to"],
             "technical_key": key or r["technical_key"], "kind": r["kind"]} for r in self.rows]})  # fmt: skip

    def __enter__(self) -> None:
        self.rows = self.simulator.store.all("SELECT * FROM numbering WHERE nit = ?", self.nit)
        self._seed(self.key)

    def __exit__(self, *exc: object) -> None:
        self._seed(None)


def _credit_note(invoice: Any, day: dt.date) -> dict[str, Any]:
    return {"type": "91", "concept": "1", "customer": PLAIN,
            "reference": {"number": invoice.number, "uuid": invoice.uuid,
                          "issue_date": day.isoformat()},
            "lines": [_line("Devolución: tóner para impresora láser (llegó averiado)", "2", "289000",
                            discount="10")],
            "payment": {"form": "1", "method": "10"}}  # fmt: skip


def _follow_up(runtime: Runtime, service: Any, client_of: Callable[[], Any], silent_id: int, now: dt.datetime) -> str:
    """The buyers' events learned by one receivables sync, then our 034 on the silent buyer's invoice, registered."""
    from buzon.jobs import watch_plan
    from events.outbox import deliver_events
    from issuing import tacit
    from radian.sync import Notice, sync_receivables

    ctx = runtime.event_context(runtime.sessions)
    notice = Notice(runtime.settings.smtp.from_address, tuple(runtime.settings.radian.alert_emails))
    plan = dataclasses.replace(watch_plan(runtime.settings), rate_per_second=1000.0)  # the local DIAN: no pacing
    sync_receivables(runtime.sessions, ctx, client_of, plan, notice=notice, actor="demo")
    due = [d.invoice_id for d in tacit.due(runtime.sessions, now=now, calendar=runtime.calendar)]
    if silent_id not in due:
        return "sin aceptación tácita (la ventana del comprador no había terminado)"
    ours = tacit.emit(runtime.sessions, service.ctx, silent_id, now=now, calendar=runtime.calendar, actor="demo")
    with client_of() as client:  # only the 034: the 030 the demo left queued is the scheduler's to retry
        report = deliver_events(runtime.sessions, ctx, client, actor="demo", only=[ours.id],
                                on_registered=runtime.on_registered(ctx, None))  # fmt: skip
    state = tacit.acceptance(runtime.sessions, silent_id)
    return f"aceptación tácita (034) {'registrada' if report.registered else 'en cola'}: {state.value}"


def _queue_mail(runtime: Runtime, service: Any, client_of: Callable[[], Any]) -> None:
    """The buyers' copies queued as the deliver_to_buyers job does (the scheduler sends them)."""
    from issuing.delivery import BuyerAddresses, queue_buyer_mail

    with client_of() as client:
        queue_buyer_mail(runtime.sessions, service.ctx, runtime.buyer_mail_settings(),
                         addresses=BuyerAddresses(client), actor="demo")  # fmt: skip
