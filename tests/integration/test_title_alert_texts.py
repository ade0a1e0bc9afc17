"""The alerts our own receivable raises, as treasury reads them (SQLite and PostgreSQL, the simulator over HTTP):
amounts in Colombian format, and an endorsement to a factor said as it is for the seller — the buyer pays the
factor and we no longer collect — never "pague solo al nuevo tenedor", which is the payer's alert."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from radian.actions import Counterparty, Endorse, RecordPayment, Register
from store.models import AlertKind, TitleAlert
from tests.integration.dian_fixtures import SELLER_NIT
from tests.integration.titles_fixtures import FACTOR_NAME, FACTOR_NIT, TitlesBed

pytestmark = pytest.mark.integration


def test_a_receivable_partly_paid_then_endorsed_says_so_in_pesos_and_for_the_seller(titles_bed: TitlesBed) -> None:
    bed = titles_bed
    title_id, _ = bed.imported_title(at=(dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)).replace(microsecond=0))
    assert bed.titles.act(title_id, Register(), actor="test:treasury", deliver=True).state == "registered"
    paid = bed.titles.act(title_id, RecordPayment(Decimal("19000.00")), actor="test:treasury", deliver=True)
    assert paid.state == "registered", paid
    endorsed = bed.titles.act(title_id, Endorse(Counterparty(FACTOR_NIT, FACTOR_NAME)), actor="test:treasury",
                              deliver=True)  # fmt: skip
    assert endorsed.state == "registered", endorsed
    with bed.sessions() as s:
        alerts = {a.kind: a for a in s.query(TitleAlert).filter_by(title_id=title_id)}
    title = bed.title(title_id)
    assert alerts[AlertKind.PARTIALLY_PAID].message == (
        f"La factura {title.invoice_number} tiene un pago parcial registrado. Pagado: $ 19.000,00; saldo: $ 100.000,00."
    )
    moved = alerts[AlertKind.HOLDER_CHANGED]
    assert (moved.from_nit, moved.to_nit) == (SELLER_NIT, FACTOR_NIT)
    assert moved.message.endswith(
        f"a {FACTOR_NAME} (NIT {FACTOR_NIT}). El deudor debe pagar ahora a {FACTOR_NAME} (NIT {FACTOR_NIT}); "
        "ya no cobramos este título."
    ), moved.message
    assert "Pague" not in moved.message
