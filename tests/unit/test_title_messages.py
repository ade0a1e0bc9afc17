"""The words of title alerts: Colombian amounts, and a change of holder said as it is for our side of the title."""

from __future__ import annotations

from decimal import Decimal

import pytest

from radian.messages import holder_changed, pesos, state_words
from store.models import AlertKind, TitleRole

SUPPLIER = {"old_nit": "900111222", "old_name": "PAPELERÍA LOS ANDES S.A.S."}
FACTOR = {"new_nit": "901777888", "new_name": "FACTORING DEL VALLE S.A.S."}


@pytest.mark.parametrize(("value", "currency", "text"), [
    (Decimal("119000"), "COP", "$ 119.000,00"),
    (Decimal("0"), "COP", "$ 0,00"),
    (Decimal("4998000.005"), "COP", "$ 4.998.000,01"),
    (Decimal("1234567.8"), "USD", "1.234.567,80 USD"),
    (Decimal("-2500.5"), "COP", "$ -2.500,50"),
    (None, "COP", "—"),
])  # fmt: skip
def test_amounts_in_colombian_format(value, currency, text):
    assert pesos(value, currency) == text


def test_a_supplier_invoice_endorsed_away_tells_us_to_pay_only_the_new_holder():
    text = holder_changed(TitleRole.OBLIGOR, "PLA1000", **SUPPLIER, **FACTOR)
    assert text == (
        "La factura PLA1000 cambió de tenedor legítimo: de PAPELERÍA LOS ANDES S.A.S. (NIT 900111222) a "
        "FACTORING DEL VALLE S.A.S. (NIT 901777888). Pague solo al nuevo tenedor: FACTORING DEL VALLE S.A.S. "
        "(NIT 901777888)."
    )


def test_our_invoice_endorsed_away_says_the_debtor_pays_the_new_holder_and_we_no_longer_collect():
    ours = {"old_nit": "900654321", "old_name": "NUESTRA EMPRESA S.A.S."}
    text = holder_changed(TitleRole.HOLDER, "FVE1001", **ours, **FACTOR, our_nit="900654321")
    assert text == (
        "La factura FVE1001 cambió de tenedor legítimo: de NUESTRA EMPRESA S.A.S. (NIT 900654321) a "
        "FACTORING DEL VALLE S.A.S. (NIT 901777888). El deudor debe pagar ahora a FACTORING DEL VALLE S.A.S. "
        "(NIT 901777888); ya no cobramos este título."
    )
    assert "Pague" not in text  # we owe nothing on our own invoice
    back = holder_changed(TitleRole.HOLDER, "FVE1001", old_nit=FACTOR["new_nit"], old_name=FACTOR["new_name"],
                          new_nit="900654321", new_name="NUESTRA EMPRESA S.A.S.", our_nit="900654321")  # fmt: skip
    assert back.endswith("El título volvió a nosotros: el deudor nos paga a nosotros y lo cobramos de nuevo.")


def test_a_limitation_is_said_for_each_side_and_every_alert_kind_of_a_state_has_words():
    assert "no la pague" in state_words(AlertKind.LIMITED, TitleRole.OBLIGOR)
    ours = state_words(AlertKind.LIMITED, TitleRole.HOLDER)
    assert "pague" not in ours and "no se puede endosar" in ours
    for kind in (AlertKind.REGISTERED, AlertKind.LIMITATION_LIFTED, AlertKind.PROTESTED, AlertKind.TRANSFERRED,
                 AlertKind.PARTIALLY_PAID, AlertKind.PAID):  # fmt: skip
        for role in TitleRole:
            assert state_words(kind, role)
