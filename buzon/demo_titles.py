"""Demo titles, both sides of RADIAN, through the real services and the simulator over HTTP.

Receivable: one credit invoice of ours, issued elsewhere two days ago and known to the local DIAN, imported with
DIAN's answer, accepted by the simulated buyer (030/032/033, the simulator's counterparts), registered in RADIAN (036)
and endorsed to a factor at 2.5 % (037) by the title service.

Payable: the supplier invoice the demo accepted (our 033) is registered (036) and endorsed to another factor (037) by
its supplier — the simulator's counterparts sign as the supplier — and one sweep of the endorsement watch sees it:
the invoice's page, /titulos and /pagos show "Pagar a" the factor, and /alertas the unseen holder-change alert.

The RADIAN and SOAP modules are imported where they are used (start-up time: only `buzon init` in demo mode).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from buzon import local_dian
from buzon.config import Settings
from buzon.runtime import Runtime
from dian.calendar import BOGOTA
from dian.codes import DocumentType, Environment, PaymentMeans
from dian.nit import check_digit
from dian.ubl import Line, MonetaryTotal, Party, TaxSubtotal, TaxTotal
from dian.ubl.build import DocumentDraft, NumberingRange, build_invoice
from dian.xades import sign

CUSTOMER = Party(nit="860045123", dv=check_digit("860045123"), registration_name="ALMACENES LA SABANA S.A.S.")
FACTOR_NIT, FACTOR_NAME = "901777888", "FACTORING DEL VALLE S.A.S."
RATE = Decimal("2.5")
# The factor a supplier endorsed its invoice to (the payable side: "Pagar a" shows it).
PAYEE_FACTOR_NIT, PAYEE_FACTOR_NAME = "901345678", "LIQUIDEZ ANDINA FACTORING S.A.S."
PAYEE_RATE = Decimal("1.8")


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
    """Seed both demo titles once each: our receivable registered and endorsed to a factor, and a supplier's invoice
    that its supplier endorsed to another factor, seen by one sweep of the endorsement watch."""
    if not settings.demo or not local_dian.is_local(settings):
        return None
    now = now or dt.datetime.now(dt.UTC)
    runtime = Runtime.from_settings(settings)
    servers: list[Any] = []

    def server() -> Any:
        if not servers:
            servers.append(local_dian.serve(settings))
        return servers[0]

    try:
        notes = [_seed_receivable(runtime, server, now), _seed_payable(runtime, server, now)]
        return "\n".join(note for note in notes if note) or None
    finally:
        for started in servers:
            started.stop()
            started.simulator.close()
        runtime.close()


def _seed_receivable(runtime: Runtime, server: Callable[[], Any], now: dt.datetime) -> str | None:
    """Register and endorse the demo receivable once (nothing when a receivable title exists already)."""
    from dian.soap import DianClient
    from radian.actions import Counterparty, Endorse, Register
    from radian.messages import pesos
    from store.models import TitleRole, ValueTitle

    with runtime.sessions() as s:
        if s.execute(sa.select(ValueTitle.id).where(ValueTitle.role == TitleRole.HOLDER)).first():
            return None
    ctx = runtime.event_context()
    issued = now - dt.timedelta(days=2)
    invoice = _invoice(ctx.company, ctx.software, ctx.identity, issued)
    simulator = server().simulator
    known, _ = simulator.counterparts.register_invoice(invoice)
    cufe = known["cufe"]
    answer = bytes(simulator.store.one("SELECT answer FROM document WHERE key = ?", cufe)["answer"])
    url = server().url
    titles = dataclasses.replace(runtime.title_service(), make_client=lambda: DianClient(url, ctx.identity))
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
            f"por {pesos(price)} ({endorsed.state})")  # fmt: skip


def _seed_payable(runtime: Runtime, server: Callable[[], Any], now: dt.datetime) -> str | None:
    """The supplier's side, once: the demo's accepted supplier invoice (033 sent by us) is registered in RADIAN (036)
    and endorsed to a factor (037) by its supplier — the simulator's counterparts sign as the supplier — and one
    sweep of the endorsement watch (the title_watch job's radian.watch.sweep) proves both events and moves the payee.
    Nothing when a received invoice's title already has a RADIAN chain, or no supplier invoice was accepted."""
    from buzon.jobs import watch_plan
    from dian.codes import DocumentState
    from dian.soap import DianClient
    from radian.watch import sweep
    from store.models import ReceivedDocument, TitleRole, ValueTitle

    with runtime.sessions() as s:
        seeded = sa.select(ValueTitle.id).where(ValueTitle.role == TitleRole.OBLIGOR, ValueTitle.chain_length > 0)
        if s.execute(seeded).first():
            return None
        accepted = s.execute(
            sa.select(ReceivedDocument.cufe, ReceivedDocument.number, ReceivedDocument.issuer_name)
            .where(ReceivedDocument.state == DocumentState.ACCEPTED,
                   ReceivedDocument.document_type == DocumentType.INVOICE,
                   ReceivedDocument.payment_means == PaymentMeans.CREDIT)
            .order_by(ReceivedDocument.issued_at)
        ).first()  # fmt: skip
    if accepted is None:
        return None
    simulator = server().simulator
    cufe = accepted.cufe.lower()
    for hours, spec in ((26, {"action": "register"}),
                        (3, {"action": "endorse", "to": {"nit": PAYEE_FACTOR_NIT, "name": PAYEE_FACTOR_NAME},
                             "rate": str(PAYEE_RATE)})):  # fmt: skip
        at = (now - dt.timedelta(hours=hours)).isoformat()
        outcome = simulator.counterparts.act({**spec, "cufe": cufe, "at": at})
        if not outcome.reply.is_valid:
            why = "; ".join(outcome.reply.errors)
            return f"demo: la DIAN simulada rechazó el {outcome.code.value} del proveedor: {why}"
    ctx = runtime.event_context(runtime.sessions)
    url = server().url
    report = sweep(runtime.sessions, ctx, lambda: DianClient(url, ctx.identity), watch_plan(runtime.settings),
                   actor="demo")  # fmt: skip
    with runtime.sessions() as s:
        title = s.execute(sa.select(ValueTitle).where(ValueTitle.invoice_cufe == cufe)).scalar_one_or_none()
        payee = title.payee_name if title is not None else "—"
    return (f"demo: factura {accepted.number} de {accepted.issuer_name} endosada por su proveedor a "
            f"{PAYEE_FACTOR_NAME}; la vigilancia de endosos revisó {report.asked} factura(s) y cambió el beneficiario "
            f"de {report.holder_changed}: pagar a {payee}")  # fmt: skip
