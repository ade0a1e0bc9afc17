"""The DIAN simulator over real HTTP on a loopback port, seeded parties, and builders of signed documents.

Import the fixtures into a test module with ``from tests.integration.dian_fixtures import *  # noqa: F403``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest

from dian.calendar import BOGOTA
from dian.codes import DIAN_DV, DIAN_NAME, DIAN_NIT, ClaimReason, Environment, EventCode, PaymentMeans
from dian.nit import check_digit
from dian.simulator import Simulator, SimulatorServer
from dian.soap import DianClient
from dian.trust import SigningIdentity
from dian.ubl import Line, MonetaryTotal, Party, Person, TaxSubtotal, TaxTotal, parse_document
from dian.ubl.build import DocumentDraft, EventDraft, NumberingRange, Software, build_event, build_invoice
from dian.xades import sign

__all__ = ["DianWorld", "dian_world", "make_world"]

SELLER_NIT = "900123456"
BUYER_NIT = "900654321"
PROVIDER_NIT = "830111222"
STRANGER_NIT = "811222333"
SELLER_SW = Software(SELLER_NIT, check_digit(SELLER_NIT), "11111111-2222-4333-8444-555555555555", "75315")
BUYER_SW = Software(BUYER_NIT, check_digit(BUYER_NIT), "99999999-2222-4333-8444-555555555555", "24680")
NUMBERING = NumberingRange(
    authorization="18760000001",
    start_date=dt.date(2020, 1, 1),
    end_date=dt.date(2035, 12, 31),
    prefix="SETP",
    from_number=990000000,
    to_number=995000000,
    technical_key="fc8eac422eba16e22ffd8c6f94b3f40a6e38162c",
)
SELLER = Party(nit=SELLER_NIT, dv=check_digit(SELLER_NIT), registration_name="PROVEEDOR DE PRUEBA S.A.S.")
BUYER = Party(nit=BUYER_NIT, dv=check_digit(BUYER_NIT), registration_name="EMPRESA COMPRADORA S.A.S.")
DIAN = Party(nit=DIAN_NIT, dv=DIAN_DV, registration_name=DIAN_NAME)
SEED = {
    "software": [
        {"id": SELLER_SW.software_id, "pin": SELLER_SW.pin, "provider_nit": SELLER_NIT},
        {"id": BUYER_SW.software_id, "pin": BUYER_SW.pin, "provider_nit": BUYER_NIT},
    ],
    "authorizations": [{"provider_nit": PROVIDER_NIT, "issuer_nit": BUYER_NIT}],
    "numbering": [
        {
            "nit": SELLER_NIT,
            "software_id": SELLER_SW.software_id,
            "resolution": NUMBERING.authorization,
            "prefix": NUMBERING.prefix,
            "from": NUMBERING.from_number,
            "to": NUMBERING.to_number,
            "valid_from": NUMBERING.start_date.isoformat(),
            "valid_to": NUMBERING.end_date.isoformat(),
            "technical_key": NUMBERING.technical_key,
        }
    ],
    "exchange_emails": [{"nit": BUYER_NIT, "name": "EMPRESA COMPRADORA S.A.S.", "email": "recepcion@compradora.test"}],
    "acquirers": [{"id_type": "31", "id_number": BUYER_NIT, "name": "EMPRESA COMPRADORA S.A.S.", "email": "fe@c.test"}],
}


def _iva(base: Decimal) -> TaxTotal:
    tax = (base * Decimal("0.19")).quantize(Decimal("0.01"))
    return TaxTotal(
        amount=tax,
        subtotals=(
            TaxSubtotal(scheme_id="01", scheme_name="IVA", amount=tax, taxable_amount=base, percent=Decimal("19.00")),
        ),
    )


def _time(moment: dt.datetime) -> tuple[dt.date, str]:
    local = moment.astimezone(BOGOTA)
    return local.date(), local.strftime("%H:%M:%S") + "-05:00"


@dataclass
class DianWorld:
    """A running simulator with a seller, a buyer, a provider and a stranger, and document builders."""

    simulator: Simulator
    server: SimulatorServer
    seller: SigningIdentity
    buyer: SigningIdentity
    provider: SigningIdentity
    stranger: SigningIdentity
    clients: list[DianClient] = field(default_factory=list)
    _next: int = 1

    @property
    def url(self) -> str:
        return self.server.url

    def client(self, identity: SigningIdentity, **kwargs) -> DianClient:
        c = DianClient(self.url, identity, **kwargs)
        self.clients.append(c)
        return c

    def number(self) -> str:
        self._next += 1
        return f"SETP{NUMBERING.from_number + self._next}"

    def invoice(
        self,
        *,
        at: dt.datetime | None = None,
        number: str | None = None,
        payment: PaymentMeans = PaymentMeans.CREDIT,
        amount: str = "100000.00",
        technical_key: str | None = None,
    ) -> bytes:
        """A signed invoice from the seller to the buyer, issued and signed at ``at`` (default now)."""
        at = at or dt.datetime.now(dt.UTC)
        day, time = _time(at)
        base = Decimal(amount)
        iva = _iva(base)
        draft = DocumentDraft(
            number=number or self.number(),
            issue_date=day,
            issue_time=time,
            environment=Environment.TESTING,
            supplier=SELLER,
            customer=BUYER,
            lines=(
                Line(
                    id="1",
                    quantity=Decimal("1.00"),
                    unit_code="94",
                    description="Servicio de prueba",
                    line_extension_amount=base,
                    unit_price=base,
                    taxes=(iva,),
                ),
            ),
            monetary_total=MonetaryTotal(
                line_extension=base, tax_exclusive=base, tax_inclusive=base + iva.amount, payable=base + iva.amount
            ),
            tax_totals=(iva,),
            due_date=day + dt.timedelta(days=30),
            payment_means=payment,
            payment_method_code="42" if payment is PaymentMeans.CREDIT else "10",
        )
        numbering = NUMBERING
        if technical_key is not None:
            from dataclasses import replace

            numbering = replace(NUMBERING, technical_key=technical_key)
        return sign(build_invoice(draft, software=SELLER_SW, numbering=numbering), self.seller, signing_time=at)

    def event(
        self,
        code: EventCode,
        invoice: bytes,
        *,
        at: dt.datetime | None = None,
        number: str | None = None,
        sender: str = "buyer",
    ) -> bytes:
        """A signed event ``code`` about ``invoice``, by the buyer (or the seller for 034), signed at ``at``."""
        at = at or dt.datetime.now(dt.UTC)
        day, time = _time(at)
        doc = parse_document(invoice)
        if sender == "buyer":
            identity, software, who, to = self.buyer, BUYER_SW, BUYER, SELLER
        else:
            identity, software, who, to = self.seller, SELLER_SW, SELLER, SELLER
        if code is EventCode.ACEPTACION_TACITA:
            to = DIAN
        draft = EventDraft(
            code=code,
            number=number or f"EV{code.value}{self.number()}",
            issue_date=day,
            issue_time=time,
            environment=Environment.TESTING,
            sender=who,
            receiver=to,
            invoice_number=doc.number,
            invoice_cufe=doc.uuid,
            person=Person(id="1020304050", first_name="Ana", family_name="Pérez")
            if code in (EventCode.ACUSE_RECIBO, EventCode.RECIBO_BIEN)
            else None,
            claim_reason=ClaimReason.NOT_DELIVERED_TOTALLY if code is EventCode.RECLAMO else None,
            notes=("Manifiesto bajo la gravedad de juramento que transcurridos 3 días hábiles el adquirente no "
                   "aceptó ni rechazó la factura.",) if code is EventCode.ACEPTACION_TACITA else (),
        )  # fmt: skip
        return sign(build_event(draft, software=software), identity, signing_time=at)

    def stop(self) -> None:
        for c in self.clients:
            c.close()
        self.server.stop()
        self.simulator.close()


def make_world(data_dir: Path) -> DianWorld:
    """Start a seeded simulator on a free loopback port with four sandbox identities."""
    simulator = Simulator(data_dir)
    simulator.seed(SEED)
    server = SimulatorServer(simulator).start()
    return DianWorld(
        simulator=simulator,
        server=server,
        seller=simulator.issue_identity(SELLER_NIT, "PROVEEDOR DE PRUEBA S.A.S."),
        buyer=simulator.issue_identity(BUYER_NIT, "EMPRESA COMPRADORA S.A.S."),
        provider=simulator.issue_identity(PROVIDER_NIT, "SOFTWARE DE PRUEBA S.A.S."),
        stranger=simulator.issue_identity(STRANGER_NIT, "OTRA EMPRESA S.A.S."),
    )


@pytest.fixture
def dian_world(tmp_path: Path) -> Iterator[DianWorld]:
    """A fresh simulator per test (its own data directory)."""
    world = make_world(tmp_path / "dian-sim")
    try:
        yield world
    finally:
        world.stop()
