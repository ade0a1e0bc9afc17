"""The title page's actions through the Flask client with the real titles service, against the DIAN simulator over
HTTP, on SQLite and PostgreSQL: our invoice imported from the page, each refused action shown as the rules' sentence
(not accepted yet; not the holder any more after the endorsement), the buyer's acceptance learned with "Consultar
eventos en la DIAN", 036 registered after its confirmation step, and the 037's price shown on the confirmation step
before anything is signed."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
import sqlalchemy as sa

from dian.codes import EventCode
from store.models import DocumentEvent, Role, TitleState, ValueTitle
from tests.integration.titles_fixtures import FACTOR_NAME, FACTOR_NIT, TitlesBed, titles_bed  # noqa: F401
from tests.web.conftest import add_user, csrf_token, sign_in
from web.app import create_app

pytestmark = pytest.mark.integration


def _hours_ago(hours: float) -> dt.datetime:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)).replace(microsecond=0)


def _client(bed: TitlesBed, role: Role):
    app = create_app(bed.settings, engine=bed.runtime.engine, titles=bed.runtime.title_service)
    app.config["WTF_CSRF_ENABLED"] = True
    with bed.sessions() as s:
        user = add_user(s, f"u-{role.value}", role)
        s.commit()
        client = app.test_client()
        sign_in(app, client, user)
    return client


def _page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _post(client, path: str, **form):
    return client.post(path, data={"csrf_token": csrf_token(client), **form}, follow_redirects=True)


def _signed(bed: TitlesBed, code: EventCode) -> int:
    with bed.sessions() as s:
        return int(s.scalar(sa.select(sa.func.count()).select_from(DocumentEvent).where(DocumentEvent.code == code)))


def test_treasury_imports_registers_and_sees_the_price_before_endorsing(titles_bed: TitlesBed) -> None:  # noqa: F811
    bed = titles_bed
    client = _client(bed, Role.TREASURY)
    invoice, attached = bed.our_invoice(at=_hours_ago(3))
    page = _page(client.post("/titulos/importar", data={"csrf_token": csrf_token(client),
                                                         "factura": (io.BytesIO(attached), "factura.xml")},
                             follow_redirects=True))  # fmt: skip
    assert "importada (validación de la DIAN comprobada)" in page
    title_id = int(re.search(r'action="/titulos/(\d+)/sincronizar"', page).group(1))

    # Not accepted by the buyer yet: the rules refuse the registration, and the page says why.
    assert 'id="accion-inscribir"' in page
    refused = _page(_post(client, f"/titulos/{title_id}/acciones/inscribir"))
    assert "No se puede inscribir como título valor (036)" in refused and "acept" in refused
    assert _signed(bed, EventCode.INSCRIPCION_TITULO) == 0

    # The buyer accepts (030/032/033 signed by the simulated buyer, over HTTP); the page learns it from DIAN.
    bed.buyer_sends(invoice, EventCode.ACUSE_RECIBO, EventCode.RECIBO_BIEN, EventCode.ACEPTACION_EXPRESA,
                    at=_hours_ago(2))  # fmt: skip
    synced = _page(_post(client, f"/titulos/{title_id}/sincronizar"))
    assert "Consulta a la DIAN: registrados" in synced and "033" in synced

    confirm = _page(_post(client, f"/titulos/{title_id}/acciones/inscribir"))
    assert 'id="confirmar"' in confirm and "361 — Primera inscripción" in confirm
    assert _signed(bed, EventCode.INSCRIPCION_TITULO) == 0  # the confirmation step signs nothing
    done = _page(_post(client, f"/titulos/{title_id}/acciones/inscribir", confirmado="1"))
    assert "título valor (036) n.º" in done and "registrado por la DIAN" in done
    assert "Inscrita en RADIAN" in done

    # The endorsement's price, value × (100 − 2.5) / 100, before signing: 119.000 -> 116.025.
    quote = _page(_post(client, f"/titulos/{title_id}/acciones/endosar", nit=FACTOR_NIT, nombre=FACTOR_NAME,
                        tasa="2.5", valor="119000.00", responsabilidad="con"))  # fmt: skip
    assert 'id="precio"' in quote and "$ 116.025,00" in quote and "$ 2.975,00" in quote
    assert _signed(bed, EventCode.ENDOSO_PROPIEDAD) == 0
    bad = _page(_post(client, f"/titulos/{title_id}/acciones/endosar", nit="12ab", nombre=FACTOR_NAME, tasa="2.5"))
    assert "no es un NIT" in bad and _signed(bed, EventCode.ENDOSO_PROPIEDAD) == 0
    # A slip of the comma ("100,123"): refused at the quote, in the form's words, not priced and not signed.
    slip = _page(_post(client, f"/titulos/{title_id}/acciones/endosar", nit=FACTOR_NIT, nombre=FACTOR_NAME,
                       tasa="2.5", valor="100,123", responsabilidad="con"))  # fmt: skip
    assert "Valor del endoso: 100,123 tiene más de dos decimales" in slip and 'id="precio"' not in slip
    assert _signed(bed, EventCode.ENDOSO_PROPIEDAD) == 0
    endorsed = _page(_post(client, f"/titulos/{title_id}/acciones/endosar", nit=FACTOR_NIT, nombre=FACTOR_NAME,
                           tasa="2.5", valor="119000.00", responsabilidad="con", confirmado="1"))  # fmt: skip
    assert "Endoso en propiedad (037) n.º" in endorsed and "registrado por la DIAN" in endorsed
    with bed.sessions() as s:
        title = s.get(ValueTitle, title_id)
        assert (title.state, title.holder_nit) == (TitleState.ENDORSED, FACTOR_NIT)
    assert FACTOR_NAME in endorsed and "Endosada" in endorsed

    # We no longer hold it: recording a payment is refused with the rules' sentence, naming the factor.
    refused = _page(_post(client, f"/titulos/{title_id}/acciones/pago", valor="119000.00"))
    assert "no es el tenedor legítimo" in refused and FACTOR_NIT in refused
    assert _signed(bed, EventCode.PAGO) == 0

    # An auditor reads the same page with no action and is refused on the action URL.
    auditor = _client(bed, Role.AUDITOR)
    read = _page(auditor.get(f"/titulos/{title_id}"))
    assert "Cadena de circulación" in read and 'id="acciones"' not in read
    assert (
        auditor.post(f"/titulos/{title_id}/acciones/pago", data={"csrf_token": csrf_token(auditor)}).status_code == 403
    )
