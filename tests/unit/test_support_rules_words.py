"""The documento soporte page's words for DIAN's range rules: InvoiceControl checked field by field, the DS's DSAB
ids as the invoice's FAB ones (radian-issuing-facts C.5): 05b the authorization number, 07b/08b its dates, 10b the
prefix, 11b/12b the range's ends."""

from __future__ import annotations

import pytest

from web.support import explain


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ("DSAB05b", "autorización de documento soporte"),
        ("DSAB07b", "fecha inicial"),
        ("DSAB08b", "fecha final"),
        ("DSAB10b", "prefijo"),
        ("DSAB11b", "número inicial"),
        ("DSAB12b", "número final"),
    ],
)
def test_each_range_rule_names_its_own_field(rule: str, words: str) -> None:
    (explained,) = explain([f"Regla: {rule}, Rechazo: texto de la DIAN"])
    assert explained.rule == rule and words in explained.meaning, explained


def test_a_ds_range_used_for_another_kind_is_said_so() -> None:
    (explained,) = explain(["Regla: DSAB05b, Rechazo: el rango DS1 está autorizado para facturas"])
    assert "el rango es de facturas" in explained.meaning and "prefijo" not in explained.meaning
