"""A buyer equal to the seller is refused (issuing/service.py, the one door), on SQLite and PostgreSQL with the
simulator over HTTP: the façade (`buzon issue`), the native API (422 at /customer/id) and the apidian path (its own
field name); nothing is issued and no number is used. The fixtures' buyer is another company (900654321-0)."""

from __future__ import annotations

import pytest

from issuing.problems import PayloadError
from store.models import OutboundDocument
from tests.integration.dian_fixtures import BUYER_NIT, SELLER_NIT
from tests.integration.issuing_fixtures import CUSTOMER, IssuingBed, invoice_data
from tests.integration.issuing_fixtures import issuing_bed as issuing_bed  # the fixture, re-exported
from tests.web.test_api_issuing import make_api
from tests.web.test_api_issuing_apidian import bag_invoice

OURSELVES = {**CUSTOMER, "id": SELLER_NIT, "dv": "8", "name": "PROVEEDOR DE PRUEBA S.A.S."}


def test_a_buyer_equal_to_the_seller_is_refused_everywhere(issuing_bed: IssuingBed) -> None:
    bed = issuing_bed
    assert CUSTOMER["id"] == BUYER_NIT != SELLER_NIT
    with pytest.raises(PayloadError) as refused:
        bed.issue(invoice_data(customer=OURSELVES), deliver=True)
    (problem,) = refused.value.problems
    assert problem.pointer == "/customer/id" and "no puede ser la misma empresa que expide" in problem.message

    api = make_api(bed)
    native = api.post("/api/v1/invoices", invoice_data(customer=OURSELVES), key="yo-mismo")
    assert native.status_code == 422
    assert native.json["problems"] == [{"field": "/customer/id", "message": problem.message}]
    body = bag_invoice()
    body["customer"] = {**body["customer"], "identification_number": int(SELLER_NIT), "dv": 8}
    apidian = api.post("/api/ubl2.1/invoice", body)
    assert apidian.status_code == 422 and apidian.json["is_valid"] is False
    (messages,) = apidian.json["errors"].values()
    assert "no puede ser la misma empresa" in messages[0], apidian.json
    assert bed.count(OutboundDocument) == 0
    # The same request to another company goes through, with the first number of the range (none was used).
    done = api.post("/api/v1/invoices", invoice_data(), key="otro")
    assert done.status_code == 201 and done.json["number"].endswith(str(bed.ranges()[0].from_number))
