"""Facturas emitidas through the Flask client, the real issuing service and the DIAN simulator over HTTP, on SQLite and
PostgreSQL: billing issues an invoice by hand (Calcular shows the server's totals, the preview PDF is marked and takes
no number, Enviar comes back validated), a rejected one shows its rules in Spanish, a credit note from an invoice in
two clicks, and who may see and do what (billing acts, treasury and auditors read, the AP clerk does not see it)."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from decimal import Decimal
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from dian.calendar import BOGOTA
from store.models import NumberingRange, OutboundDocument, OutboundState, Role
from tests.integration.issuing_fixtures import BUYER_NIT, IssuingBed, issuing_bed  # noqa: F401 - the fixture
from tests.web.conftest import PASSWORD
from tests.web.issuing_app import app_for_bed, client, text

pytestmark = [pytest.mark.integration]

USERS = {"diana": Role.BILLING, "jorge": Role.AUDITOR, "ana": Role.CLERK, "teresa": Role.TREASURY}


def form(**extra: str) -> dict[str, str]:
    due = (dt.datetime.now(BOGOTA).date() + dt.timedelta(days=30)).isoformat()
    return {"tipo": "01", "clave": extra.pop("clave", "k-" + dt.datetime.now().isoformat()), "c_tipo_id": "31",
            "c_id": BUYER_NIT, "c_nombre": "EMPRESA COMPRADORA S.A.S.", "c_correo": "fe@compradora.test",
            "c_iva": "01", "c_direccion": "Cl 10 # 5-20", "c_ciudad": "05001",
            "l1_descripcion": "Consultoría", "l1_cantidad": "2", "l1_precio": "50.000", "l1_descuento": "10",
            "l1_iva": "19", "l2_descripcion": "Almuerzo de trabajo", "l2_cantidad": "1", "l2_precio": "30000,50",
            "l2_inc": "8", "p_forma": "2", "p_medio": "42", "p_vence": due, **extra}  # fmt: skip


def app_for(bed: IssuingBed) -> Any:
    return app_for_bed(bed, USERS)


def test_billing_issues_by_hand_and_dian_validates(issuing_bed: IssuingBed) -> None:  # noqa: F811
    bed = issuing_bed
    app = app_for(bed)
    diana = client(app, "diana")
    assert "Nueva factura" in text(diana.get("/facturas-emitidas"))
    assert diana.get("/facturas-emitidas/nueva").status_code == 200

    # Calcular: the server's totals (2 × 50.000 − 10 % = 90.000 + IVA 17.100; 30.000,50 + INC 2.400,04).
    page = text(diana.post("/facturas-emitidas/nueva", data={**form(), "accion": "calcular"}))
    assert "$ 120.000,50" in page and "$ 17.100,00" in page and "$ 2.400,04" in page
    assert re.search(r'id="total-pagar">\$ 139\.500,54<', page), page
    assert bed.count(OutboundDocument) == 0

    # The preview: a page, and a PDF marked as such; no number taken, nothing stored.
    before = [(r.prefix, r.next_number) for r in bed.ranges()]
    page = text(diana.post("/facturas-emitidas/nueva", data={**form(), "accion": "vista_previa"}))
    assert "Aún no se ha enviado" in page and "$ 139.500,54" in page
    pdf = diana.post("/facturas-emitidas/vista-previa.pdf", data=form())
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert [(r.prefix, r.next_number) for r in bed.ranges()] == before
    assert bed.count(OutboundDocument) == 0

    # Enviar: issued, sent to the simulator over HTTP, validated; the page says so.
    data = {**form(clave="una-sola-vez"), "accion": "enviar"}
    answer = diana.post("/facturas-emitidas/nueva", data=data)
    assert answer.status_code == 302
    page = text(diana.get(answer.headers["Location"].split("#")[0]))
    assert "Validado por la DIAN" in page and "$ 139.500,54" in page
    (row,) = _rows(bed)
    assert row.state is OutboundState.ACCEPTED and row.payable_amount == Decimal("139500.54")
    # A double submit of the same form issues nothing more.
    diana.post("/facturas-emitidas/nueva", data=data)
    assert bed.count(OutboundDocument) == 1

    listing = text(diana.get("/facturas-emitidas?estado=accepted"))
    assert row.number in listing and "Validado por la DIAN" in listing
    assert row.number not in text(diana.get("/facturas-emitidas?estado=rejected"))
    assert diana.get(f"/facturas-emitidas/{row.id}/xml").data.startswith(b"<?xml")
    assert diana.get(f"/facturas-emitidas/{row.id}/pdf").data.startswith(b"%PDF")
    zipped = diana.get(f"/facturas-emitidas/{row.id}/zip")
    assert zipped.status_code == 200 and zipped.data.startswith(b"PK")
    with zipfile.ZipFile(io.BytesIO(zipped.data)) as archive:  # as the buyer's mail has it: ad….xml and ad….pdf
        xml_name, pdf_name = archive.namelist()
        assert xml_name.startswith("ad") and pdf_name == xml_name[:-4] + ".pdf", archive.namelist()
        assert archive.read(pdf_name).startswith(b"%PDF") and b"AttachedDocument" in archive.read(xml_name)
        *minute, second = row.validated_at.astimezone(BOGOTA).timetuple()[:6]
        # The document's moment, in Bogotá (a zip keeps even seconds).
        assert {info.date_time for info in archive.infolist()} == {(*minute, second // 2 * 2)}
    assert diana.get(f"/facturas-emitidas/{row.id}/zip").data == zipped.data  # the same bytes every time

    # A credit note in two clicks: the invoice's page → Nota crédito (prefilled) → Enviar.
    detail = text(diana.get(f"/facturas-emitidas/{row.id}"))
    assert f"/facturas-emitidas/{row.id}/nota-credito" in detail
    note_form = text(diana.get(f"/facturas-emitidas/{row.id}/nota-credito"))
    assert row.number in note_form and row.cufe in note_form and "Consultoría" in note_form
    answer = diana.post("/facturas-emitidas/nueva", data={**_filled(note_form), "accion": "enviar"})
    assert answer.status_code == 302, text(answer)[:3000]
    note = _rows(bed)[-1]
    assert note.document_type.value == "91" and note.reference_id == row.id, note
    assert note.state is OutboundState.ACCEPTED, (note.state, note.dian_messages)
    assert note.number in text(diana.get(f"/facturas-emitidas/{row.id}"))


def _filled(page: str) -> dict[str, str]:
    """The form's fields as a browser would send them: inputs' values and each select's selected option."""
    fields = {name: value for name, value in re.findall(r'<input[^>]*? name="([a-z0-9_]+)"[^>]*? value="([^"]*)"',
                                                         page)}  # fmt: skip
    for name, body in re.findall(r'<select[^>]*? name="([a-z0-9_]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', body) or re.search(r'<option value="([^"]*)"', body)
        fields[name] = chosen.group(1) if chosen else ""
    fields.pop("csrf_token", None)
    return fields


def _rows(bed: IssuingBed) -> list[OutboundDocument]:
    with bed.sessions() as s:
        rows = list(s.scalars(sa.select(OutboundDocument).order_by(OutboundDocument.id)))
        s.expunge_all()
        return rows


def test_a_rejection_shows_its_rules_in_spanish(issuing_bed: IssuingBed) -> None:  # noqa: F811
    bed = issuing_bed
    with bed.sessions() as s:  # the technical key typed wrong: DIAN's FAD06 on every CUFE
        s.execute(sa.update(NumberingRange).values(technical_key="0" * 40))
        s.commit()
    app = app_for(bed)
    diana = client(app, "diana")
    answer = diana.post("/facturas-emitidas/nueva", data={**form(), "accion": "enviar"})
    page = text(diana.get(answer.headers["Location"].split("#")[0]))
    assert "Rechazado por la DIAN" in page and "Regla FAD06" in page and "clave técnica" in page
    (row,) = _rows(bed)
    assert row.state is OutboundState.REJECTED
    assert "nota-credito" not in page  # a rejected invoice admits no note


def test_a_bad_form_names_each_field(issuing_bed: IssuingBed) -> None:  # noqa: F811
    app = app_for(issuing_bed)
    diana = client(app, "diana")
    answer = diana.post("/facturas-emitidas/nueva",
                        data={**form(l1_cantidad="dos", c_correo="no-es-correo"), "accion": "enviar"})  # fmt: skip
    page = text(answer)
    assert answer.status_code == 422 and "Línea 1 · cantidad" in page and "Correo de facturación" in page
    assert 'id="l1_cantidad" name="l1_cantidad" inputmode="decimal" value="dos" aria-invalid="true"' in page
    # A figure the form cannot read is explained in the way people type them, not in the API's words.
    assert "no es una cifra: escríbala como 1.250.000 o 1.250.000,50" in page and "ASCII" not in page
    assert issuing_bed.count(OutboundDocument) == 0


def test_who_sees_and_who_acts(issuing_bed: IssuingBed) -> None:  # noqa: F811
    bed = issuing_bed
    app = app_for(bed)
    done = bed.issue({"type": "01", **_api_invoice()}, deliver=True)
    for name in ("jorge", "teresa"):  # auditors and treasury read
        c = client(app, name)
        assert c.get("/facturas-emitidas").status_code == 200
        page = text(c.get(f"/facturas-emitidas/{done.id}"))
        assert done.number in page and "nota-credito" not in page and "Nueva factura" not in page
        assert c.get("/facturas-emitidas/nueva").status_code == 403
        assert c.post("/facturas-emitidas/nueva", data={**form(), "accion": "enviar"}).status_code == 403
    ana = client(app, "ana")  # the AP clerk: not her area
    assert ana.get("/facturas-emitidas").status_code == 403
    assert "Facturas emitidas" not in text(ana.get("/"))
    diana = client(app, "diana")  # billing: no supplier inbox; signing in lands on its own list
    assert diana.get("/").status_code == 403
    landing = app.test_client().post("/ingresar", data={"username": "diana", "password": PASSWORD})
    assert landing.headers["Location"].endswith("/facturas-emitidas"), landing.headers
    assert bed.count(OutboundDocument) == 1


def _api_invoice() -> dict[str, Any]:
    from tests.integration.issuing_fixtures import invoice_data

    data = invoice_data()
    data.pop("type")
    return data


def test_the_buyers_events_show_on_the_list_and_the_page(issuing_bed: IssuingBed) -> None:  # noqa: F811
    from buzon import jobs

    bed = issuing_bed
    answer = requests.post(f"{bed.world.server.base_url}/_sim/buyer-policy", json={"policy": "claim"}, timeout=10)
    assert answer.status_code == 200, answer.text  # the simulator's buyer: 030, 032, then a claim (031)
    app = app_for(bed)
    diana = client(app, "diana")
    sent = diana.post("/facturas-emitidas/nueva", data={**form(), "accion": "enviar"})
    assert sent.status_code == 302
    (row,) = _rows(bed)
    assert row.state is OutboundState.ACCEPTED
    assert "Aún nada registrado en la DIAN" in text(diana.get(f"/facturas-emitidas/{row.id}"))
    for _ in range(2):  # enrol, then look (the receivables sync, job title_sync, over HTTP)
        assert jobs.title_sync()["outcome"] == "ok"
    listing = text(diana.get("/facturas-emitidas"))
    assert "Acuse de recibo" in listing and "Recibo del bien o servicio" in listing and "Reclamo" in listing
    page = text(diana.get(f"/facturas-emitidas/{row.id}"))
    assert re.search(r'bevent-031">031</span> Reclamo', page), page


def test_an_invoice_the_buyer_accepted_offers_no_note(issuing_bed: IssuingBed) -> None:  # noqa: F811
    from buzon import jobs

    bed = issuing_bed
    answer = requests.post(f"{bed.world.server.base_url}/_sim/buyer-policy", json={"policy": "accept"}, timeout=10)
    assert answer.status_code == 200, answer.text
    diana = client(app_for(bed), "diana")
    diana.post("/facturas-emitidas/nueva", data={**form(), "accion": "enviar"})
    (row,) = _rows(bed)
    assert jobs.title_sync()["outcome"] == "ok"
    page = text(diana.get(f"/facturas-emitidas/{row.id}"))
    assert "Aceptación expresa" in page and "no admite notas" in page and "nota-credito" not in page
    note_form = text(diana.get(f"/facturas-emitidas/{row.id}/nota-credito"))
    assert "ya no admite notas" in note_form


def test_keyset_pages_and_filters(issuing_bed: IssuingBed, monkeypatch) -> None:  # noqa: F811
    import web.issued

    bed = issuing_bed
    numbers = [bed.issue(_typed(), idempotency_key=f"k{n}").number for n in range(3)]  # signed, not sent
    monkeypatch.setattr(web.issued, "PAGE_SIZE", 2)
    jorge = client(app_for(bed), "jorge")
    first = text(jorge.get("/facturas-emitidas?estado=signed&tipo=01"))
    assert numbers[2] in first and numbers[1] in first and numbers[0] not in first
    following = re.search(r'id="siguientes" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = text(jorge.get(following))
    assert numbers[0] in second and numbers[1] not in second and 'id="siguientes"' not in second
    assert "Firmado, sin enviar" in second
    assert numbers[0] not in text(jorge.get("/facturas-emitidas?estado=accepted"))
    assert numbers[0] not in text(jorge.get("/facturas-emitidas?tipo=91"))
    tomorrow = (dt.datetime.now(BOGOTA).date() + dt.timedelta(days=1)).isoformat()
    assert numbers[0] not in text(jorge.get(f"/facturas-emitidas?desde={tomorrow}"))
    assert "no es una fecha" in text(jorge.get("/facturas-emitidas?desde=ayer"))


def _typed() -> dict[str, Any]:
    return {"type": "01", **_api_invoice()}


def test_billing_resends_to_the_buyer(issuing_bed: IssuingBed) -> None:  # noqa: F811
    bed = issuing_bed
    app = app_for(bed)
    diana = client(app, "diana")
    diana.post("/facturas-emitidas/nueva", data={**form(), "accion": "enviar"})
    (row,) = _rows(bed)
    assert 'id="reenviar"' in text(diana.get(f"/facturas-emitidas/{row.id}"))
    page = text(diana.post(f"/facturas-emitidas/{row.id}/reenviar", data={"correo": "cartera@compradora.test"},
                           follow_redirects=True))  # fmt: skip
    assert "Reenvío en cola para cartera@compradora.test" in page
    (entry,) = bed.audit("outbound.delivery_resent")
    assert entry.data["to"] == "cartera@compradora.test"
    page = text(diana.post(f"/facturas-emitidas/{row.id}/reenviar", data={"correo": "no es correo"},
                           follow_redirects=True))  # fmt: skip
    assert "No se reenvió" in page and "no es una dirección de correo" in page
    jorge = client(app, "jorge")  # an auditor reads, never resends
    assert 'id="reenviar"' not in text(jorge.get(f"/facturas-emitidas/{row.id}"))
    assert jorge.post(f"/facturas-emitidas/{row.id}/reenviar", data={}).status_code == 403
