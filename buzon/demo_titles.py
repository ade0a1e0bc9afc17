"""Demo receivable: one credit invoice of ours, issued elsewhere two days ago and known to the local DIAN, imported
with DIAN's answer, accepted by the simulated buyer (030/032/033, the simulator's counterparts), registered in RADIAN
(036) and endorsed to a factor at 2.5 % (037) — through the real title service and the simulator over HTTP.

The RADIAN and SOAP modules are imported where they are used (start-up time: only `buzon init` in demo mode).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from decimal import Decimal

import sqlalchemy as sa

from buzon import local_dian
from buzon.config import Settings
from buzon.runtime import Runtime
from dian.calendar import BOGOTA
from dian.codes import Environment, PaymentMeans
from dian.nit import check_digit
from dian.ubl import Line, MonetaryTotal, Party, TaxSubtotal, TaxTotal
from dian.ubl.build import DocumentDraft, NumberingRange, build_invoice
from dian.xades import sign

CUSTOMER = Party(nit="860045123", dv=check_digit("860045123"), registration_name="ALMACENES LA SABANA S.A.S.")
FACTOR_NIT, FACTOR_NAME = "901777888", "FACTORING DEL VALLE S.A.S."
RATE = Decimal("2.5")


def _invoice(company: Party, software: object, identity: object, at: dt.datetime) -> bytes:
    local = at.astimezone(BOGOTA)
    base = Decimal("4200000.00")
    tax = (base * Decimal("0.19")).quantize(Decimal("0.01"))
    iva = TaxTotal(amount=tax, subtotals=(TaxSubtotal(scheme_id="01", scheme_name="IVA", amount=tax,
                                                      taxable_amount=base, percent=Decimal("19.00")),))  # fmt: skip
    line = Line(id="1", quantity=Decimal("1.00"), unit_code="94", description="Suministro de estantería metálica",
                line_extension_amount=base, unit_price=base, taxes=(iva,))  # fmt: skip
    draft = DocumentDraft(
        number="FVE1001",
        issue_date=local.date(),
        issue_time=local.strftime("%H:%M:%S-05:00"),
        environment=Environment.TESTING,
        supplier=company,
        customer=CUSTOMER,
        lines=(line,),
        monetary_total=MonetaryTotal(line_extension=base, tax_exclusive=base, tax_inclusive=base + tax,
                                     payable=base + tax),
        tax_totals=(iva,),
        due_date=local.date() + dt.timedelta(days=60),
        payment_means=PaymentMeans.CREDIT,
        payment_method_code="42",
    )
    numbering = NumberingRange(
        authorization="18760000099", start_date=local.date() - dt.timedelta(days=365),
        end_date=local.date() + dt.timedelta(days=365), prefix="FVE", from_number=1000, to_number=9999,
        technical_key=hashlib.sha1(company.nit.encode(), usedforsecurity=False).hexdigest(),
    )  # fmt: skip
    return sign(build_invoice(draft, software=software, numbering=numbering), identity, signing_time=at)  # type: ignore[arg-type]


def seed_titles(settings: Settings, *, now: dt.datetime | None = None) -> str | None:
    """Register and endorse the demo receivable once (nothing when a receivable title exists already)."""
    from dian.soap import DianClient
    from radian.actions import Counterparty, Endorse, Register
    from store.models import TitleRole, ValueTitle

    if not settings.demo or not local_dian.is_local(settings):
        return None
    now = now or dt.datetime.now(dt.UTC)
    runtime = Runtime.from_settings(settings)
    server = None
    try:
        with runtime.sessions() as s:
            if s.execute(sa.select(ValueTitle.id).where(ValueTitle.role == TitleRole.HOLDER)).first():
                return None
        ctx = runtime.event_context()
        issued = now - dt.timedelta(days=2)
        invoice = _invoice(ctx.company, ctx.software, ctx.identity, issued)
        server = local_dian.serve(settings)
        simulator = server.simulator
        known, _ = simulator.counterparts.register_invoice(invoice)
        cufe = known["cufe"]
        answer = bytes(simulator.store.one("SELECT answer FROM document WHERE key = ?", cufe)["answer"])
        titles = dataclasses.replace(runtime.title_service(), make_client=lambda: DianClient(server.url, ctx.identity))
        imported = titles.import_invoice(invoice, actor="demo", source="demo", dian_answer=answer)
        for hours, action in ((1, "acknowledge"), (3, "receipt"), (5, "accept")):
            simulator.counterparts.act({"action": action, "cufe": cufe,
                                        "at": (issued + dt.timedelta(hours=hours)).isoformat()})  # fmt: skip
        titles.sync(imported.title_id, actor="demo")
        registered = titles.act(imported.title_id, Register(), actor="demo", source="demo", deliver=True)
        factor = Counterparty(FACTOR_NIT, FACTOR_NAME)
        endorsed = titles.act(imported.title_id, Endorse(factor, rate=RATE), actor="demo", source="demo", deliver=True)
        price = endorsed.quote.price if endorsed.quote else None
        return (f"demo: factura {imported.number} inscrita en RADIAN ({registered.state}) y endosada a {FACTOR_NAME} "
                f"por {price:,.2f} ({endorsed.state})")  # fmt: skip
    finally:
        if server is not None:
            server.stop()
            server.simulator.close()
        runtime.close()
