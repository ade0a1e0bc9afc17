"""Documento soporte's pages through the Flask client, the real issuing service and the DIAN simulator over HTTP, on
SQLite and PostgreSQL: an AP clerk issues a DS by hand (Calcular shows the server's totals with the withholdings, the
preview takes no number, Enviar comes back validated with its CUDS), a non-resident's DS, a rejection with DIAN's rules
in Spanish, an outage left queued, the 95 from a DS in two clicks, the week's purchases gathered into one DS (mode 2),
the supplier's page listing the DS, bad input named per field in Spanish, and who may act and who may read."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from dian.calendar import BOGOTA
from store.models import NumberingRange, OutboundDocument, OutboundState, Role, Supplier, SupportPurchase
from tests.integration.support_fixtures import DS_RANGE, issuing_bed, support_bed  # noqa: F401 - fixtures
from tests.web.issuing_app import app_for_bed, client, text

pytestmark = [pytest.mark.integration]

USERS = {"ana": Role.CLERK, "alberto": Role.ADMIN, "teresa": Role.TREASURY, "jorge": Role.AUDITOR,
         "diana": Role.BILLING}  # fmt: skip


def today() -> dt.date:
    return dt.datetime.now(BOGOTA).date()


def form(**extra: str) -> dict[str, str]:
    """A farmer's sale: 10 bultos at 85.000, IVA 0 %, ReteFuente 1,5 %, one operation today."""
    return {"tipo": "05", "clave": extra.pop("clave", "k-" + dt.datetime.now().isoformat()), "v_residente": "1",
            "v_tipo_id": "13", "v_id": "79.123.456", "v_nombre": "Pedro Campesino Rojas",
            "v_direccion": "Vereda El Rosal, finca La Esperanza", "v_ciudad": "25754",
            "l1_descripcion": "Papa pastusa, bulto de 50 kg", "l1_cantidad": "10", "l1_precio": "85.000",
            "l1_iva": "0", "l1_retefuente": "1,5", "l1_modo": "1", "l1_inicio": today().isoformat(),
            "p_forma": "1", "p_medio": "10", **extra}  # fmt: skip


def app_for(bed: Any) -> Any:
    return app_for_bed(bed, USERS)


def rows(bed: Any) -> list[OutboundDocument]:
    with bed.sessions() as s:
        found = list(s.scalars(sa.select(OutboundDocument).order_by(OutboundDocument.id)))
        s.expunge_all()
        return found


def follow(c: Any, answer: Any) -> str:
    assert answer.status_code == 302, text(answer)[:3000]
    return text(c.get(answer.headers["Location"].split("#")[0]))


def test_a_clerk_issues_a_ds_by_hand_and_annuls_it_in_two_clicks(support_bed) -> None:  # noqa: F811
    bed = support_bed
    app = app_for(bed)
    ana = client(app, "ana")
    assert "Documento soporte" in text(ana.get("/")) and "Nuevo documento soporte" in text(ana.get("/soporte"))
    assert ana.get("/soporte/nuevo").status_code == 200

    # Calcular: 10 × 85.000 = 850.000, IVA 0; ReteFuente 1,5 % = 12.750 shown apart, not subtracted.
    page = text(ana.post("/soporte/nuevo", data={**form(), "accion": "calcular"}))
    assert re.search(r'id="total-pagar">\$ 850\.000,00<', page), page
    assert "$ 12.750,00" in page and re.search(r'id="neto">\$ 837\.250,00<', page)
    assert bed.count(OutboundDocument) == 0

    # The preview: a page and a PDF marked as such; no number taken, nothing stored.
    before = [(r.prefix, r.next_number) for r in bed.ranges()]
    page = text(ana.post("/soporte/nuevo", data={**form(), "accion": "vista_previa"}))
    assert "Aún no se ha enviado" in page and "$ 850.000,00" in page and "Por operación" in page
    pdf = ana.post("/soporte/vista-previa.pdf", data=form())
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert [(r.prefix, r.next_number) for r in bed.ranges()] == before and bed.count(OutboundDocument) == 0

    # Enviar: numbered from the DS range, sent to the simulator over HTTP, validated; the page shows the CUDS.
    data = {**form(clave="una-vez"), "accion": "enviar"}
    page = follow(ana, ana.post("/soporte/nuevo", data=data))
    (ds,) = rows(bed)
    assert ds.document_type.value == "05" and ds.number == "DS1" and ds.state is OutboundState.ACCEPTED
    assert "Validado por la DIAN" in page and ds.cufe in page and "Pedro Campesino Rojas" in page
    assert ds.buyer_nit == "79123456" and ds.withholding_amount == Decimal("12750.00")
    ana.post("/soporte/nuevo", data=data)  # a double submit issues nothing more
    assert bed.count(OutboundDocument) == 1
    assert ana.get(f"/soporte/{ds.id}/xml").data.startswith(b"<?xml")
    assert ana.get(f"/soporte/{ds.id}/pdf").data.startswith(b"%PDF")

    listing = text(ana.get("/soporte?estado=accepted&vendedor=79.123.456"))
    assert ds.number in listing and "Validado por la DIAN" in listing
    assert ds.number not in text(ana.get("/soporte?estado=rejected"))
    assert ds.number in text(ana.get("/soporte?vendedor=campesino"))
    assert ds.number not in text(ana.get("/soporte?vendedor=otro"))
    assert "no existe" in text(ana.get("/soporte?estado=inventado"))

    # The 95: click 1 is the concept (2, annulment: the whole DS) on the DS's page, click 2 sends it.
    detail = text(ana.get(f"/soporte/{ds.id}"))
    assert 'id="nota-rapida"' in detail and "Queda por ajustar $ 850.000,00" in detail
    page = follow(ana, ana.post(f"/soporte/{ds.id}/nota-ajuste", data={"concepto": "2", "clave": "anular"}))
    note = rows(bed)[-1]
    assert note.document_type.value == "95" and note.reference_id == ds.id and note.payable_amount == ds.payable_amount
    assert note.state is OutboundState.ACCEPTED, note.dian_messages
    assert "Nota de ajuste" in page and "Validado por la DIAN" in page and ds.number in page
    detail = text(ana.get(f"/soporte/{ds.id}"))
    assert note.number in detail and "ya suman el total" in detail and 'id="nota-rapida"' not in detail
    # Nothing left to adjust: the service refuses another, shown at the field on the full form.
    over = ana.post(f"/soporte/{ds.id}/nota-ajuste", data={"concepto": "4", "valor": "10.000", "clave": "mas"})
    assert over.status_code == 422 and "más que el documento soporte" in text(over)
    assert bed.count(OutboundDocument) == 2


def test_a_partial_note_takes_the_amount_and_a_non_resident_ds(support_bed) -> None:  # noqa: F811
    bed = support_bed
    app = app_for(bed)
    alberto = client(app, "alberto")  # admins act too
    foreign = form(v_residente="0", v_tipo_id="50", v_id="US-98-7654321", v_nombre="Cloud Tools Inc.",
                   v_direccion="1 Market St, San Francisco CA", v_ciudad="", v_pais="us", l1_retefuente="",
                   l1_descripcion="Suscripción anual herramienta", l1_cantidad="1", l1_precio="4.800.000",
                   l1_iva="19")  # fmt: skip
    page = follow(alberto, alberto.post("/soporte/nuevo", data={**foreign, "accion": "enviar"}))
    (ds,) = rows(bed)
    assert ds.state is OutboundState.ACCEPTED, ds.dian_messages
    assert "no residente, US" in page and "$ 5.712.000,00" in page  # 4.800.000 + IVA 19 %
    # Concept 4 (price adjustment) of 100.000 before IVA at the DS's 19 %: one line, 119.000.
    assert 'option value="19" selected' in text(alberto.get(f"/soporte/{ds.id}"))
    follow(alberto, alberto.post(f"/soporte/{ds.id}/nota-ajuste",
                                 data={"concepto": "4", "valor": "100.000", "iva": "19", "clave": "p"}))  # fmt: skip
    note = rows(bed)[-1]
    assert note.payable_amount == Decimal("119000.00") and note.state is OutboundState.ACCEPTED, note.dian_messages
    assert note.payload["concept"] == "4"
    bad = alberto.post(f"/soporte/{ds.id}/nota-ajuste", data={"concepto": "3", "valor": "", "clave": "q"})
    assert bad.status_code == 422 and "Escriba el valor de la nota" in text(bad)
    # The full form, line by line, prefilled as an annulment of all the lines.
    full = text(alberto.get(f"/soporte/{ds.id}/nota-ajuste"))
    assert ds.cufe in full and "Suscripción anual herramienta" in full and 'value="2" selected' in full


def test_a_rejection_shows_dians_rules_in_spanish(support_bed) -> None:  # noqa: F811
    bed = support_bed
    # DIAN's authorization cut to DS1-DS5 after Buzón read it, and our range at 999: DIAN refuses (DSAB11b).
    bed.seed({"numbering": [{**DS_RANGE, "to": 5}]})
    with bed.sessions() as s:
        s.execute(sa.update(NumberingRange).where(NumberingRange.prefix == "DS").values(next_number=999))
        s.commit()
    ana = client(app_for(bed), "ana")
    page = follow(ana, ana.post("/soporte/nuevo", data={**form(), "accion": "enviar"}))
    (ds,) = rows(bed)
    assert ds.state is OutboundState.REJECTED
    assert "Rechazado por la DIAN" in page and "Regla DSAB11b" in page and "fuera del rango" in page
    assert "autorización de numeración del documento soporte" in page and 'id="nota-rapida"' not in page
    assert "La nota de ajuste se expide sobre un documento soporte que la DIAN validó" in page
    assert "DSAB11b" in text(ana.get("/soporte?estado=rejected"))


def test_an_outage_leaves_it_queued(support_bed) -> None:  # noqa: F811
    bed = support_bed
    bed.fault("SendBillSync", "http503")
    ana = client(app_for(bed), "ana")
    page = follow(ana, ana.post("/soporte/nuevo", data={**form(), "accion": "enviar"}))
    (ds,) = rows(bed)
    assert ds.state is OutboundState.SEND_FAILED
    assert "En cola (la DIAN no respondió)" in page and "No es un rechazo" in page and "503" in page


def test_the_weeks_purchases_become_one_ds(support_bed) -> None:  # noqa: F811
    bed = support_bed
    app = app_for(bed)
    ana = client(app, "ana")
    week = f"{today().isocalendar()[0]}-W{today().isocalendar()[1]:02d}"
    purchase = {k: v for k, v in form().items() if k.startswith("v_")}
    purchase.update(fecha=today().isoformat(), l1_descripcion="Huevos AA, cubeta", l1_cantidad="20",
                    l1_precio="14.000", l1_iva="0", l1_retefuente="1,5")  # fmt: skip
    for description in ("Huevos AA, cubeta", "Gallina criolla"):
        answer = ana.post("/soporte/semana/compra", data={**purchase, "l1_descripcion": description})
        assert answer.status_code == 302, text(answer)[:3000]
    page = text(ana.get(f"/soporte/semana?semana={week}"))
    assert "Gallina criolla" in page and "2 compras" in page and "$ 560.000,00 antes de impuestos" in page
    # Bad input: each field named in Spanish, nothing kept.
    bad = ana.post("/soporte/semana/compra", data={**purchase, "fecha": "ayer", "l1_cantidad": "veinte",
                                                   "v_direccion": ""})  # fmt: skip
    body = text(bad)
    assert bad.status_code == 422 and "Fecha de la compra" in body and "escriba la fecha de la compra" in body
    bad = ana.post("/soporte/semana/compra", data={**purchase, "l1_cantidad": "veinte", "v_direccion": ""})
    body = text(bad)
    assert bad.status_code == 422 and "Línea 1 · cantidad" in body and "Dirección" in body, body
    assert bed.count(SupportPurchase) == 2

    page = follow(ana, ana.post("/soporte/semana/generar", data={"vendedor": "79123456", "semana": week}))
    (ds,) = rows(bed)
    assert ds.state is OutboundState.ACCEPTED, ds.dian_messages
    assert ds.payable_amount == Decimal("560000.00") and "Acumulado semanal" in page
    assert all(line["generation"]["mode"] == "2" for line in ds.payload["lines"])
    page = text(ana.get(f"/soporte/semana?semana={week}"))
    assert 'id="sin-compras"' in page and ds.number in page
    again = ana.post("/soporte/semana/generar", data={"vendedor": "79123456", "semana": week})
    assert "no hay compras abiertas" in text(ana.get(again.headers["Location"]))
    assert bed.count(OutboundDocument) == 1
    assert "no sirve" in text(ana.get("/soporte/semana?semana=2026-W99"))


def test_bad_input_is_named_per_field(support_bed) -> None:  # noqa: F811
    bed = support_bed
    ana = client(app_for(bed), "ana")
    answer = ana.post("/soporte/nuevo", data={**form(v_tipo_id="31", v_id="900123456", v_dv="3", l1_cantidad="dos",
                                                     v_direccion="", l1_reteiva="15"), "accion": "enviar"})  # fmt: skip
    page = text(answer)
    assert answer.status_code == 422, page
    assert "Dígito de verificación" in page and "debería ser 8" in page
    assert "Línea 1 · cantidad" in page and re.search(r'href="#v_direccion">Dirección</a>: campo obligatorio', page)
    assert 'id="l1_cantidad" name="l1_cantidad" inputmode="decimal" value="dos" aria-invalid="true"' in page
    # ReteIVA on a line without IVA, and a non-resident with a cédula.
    answer = ana.post("/soporte/nuevo", data={**form(l1_reteiva="15", v_residente="0", v_pais="US"),
                                              "accion": "calcular"})  # fmt: skip
    page = text(answer)
    assert answer.status_code == 422 and "Tipo de identificación" in page and "no residente" in page, page
    answer = ana.post("/soporte/nuevo", data={**form(l1_reteiva="15"), "accion": "calcular"})
    assert answer.status_code == 422 and "Línea 1 · ReteIVA" in text(answer) and "no tiene IVA" in text(answer)
    assert bed.count(OutboundDocument) == 0


def test_who_acts_and_who_reads(support_bed) -> None:  # noqa: F811
    from tests.integration.support_fixtures import issue_support, support_data

    bed = support_bed
    app = app_for(bed)
    ds = issue_support(bed, support_data(), deliver=True)
    for name in ("teresa", "jorge"):  # treasury and auditors read
        c = client(app, name)
        assert "Documento soporte" in text(c.get("/soporte"))
        page = text(c.get(f"/soporte/{ds.id}"))
        assert ds.number in page and "nota-rapida" not in page and "Nuevo documento soporte" not in page
        assert c.get(f"/soporte/{ds.id}/pdf").status_code == 200
        assert c.get("/soporte/semana").status_code == 200 and "registrar-compra" not in text(c.get("/soporte/semana"))
        for path in ("/soporte/nuevo", f"/soporte/{ds.id}/nota-ajuste"):
            assert c.get(path).status_code == 403
        for path in ("/soporte/nuevo", f"/soporte/{ds.id}/nota-ajuste", "/soporte/semana/compra",
                     "/soporte/semana/generar", "/soporte/vista-previa.pdf"):  # fmt: skip
            assert c.post(path, data={**form(), "accion": "enviar", "concepto": "2"}).status_code == 403
    diana = client(app, "diana")  # billing: AR, not AP — the area is not hers
    assert diana.get("/soporte").status_code == 403 and diana.get(f"/soporte/{ds.id}").status_code == 403
    sales = text(diana.get("/facturas-emitidas"))
    assert "/soporte" not in sales and ds.number not in sales  # our sales only: the DS is AP's
    assert diana.get(f"/facturas-emitidas/{ds.id}").headers["Location"].endswith(f"/soporte/{ds.id}")
    assert bed.count(OutboundDocument) == 1

    # The supplier's page lists the DS we issued to it beside its invoices.
    with bed.sessions() as s:
        s.add(Supplier(nit="79123456", name="Pedro Campesino Rojas"))
        s.commit()
    page = text(client(app, "ana").get("/proveedores/79123456"))
    assert "Documentos soporte que le expedimos" in page and ds.number in page


def test_the_seller_gets_the_pdf_only_when_asked(support_bed) -> None:  # noqa: F811
    bed = support_bed
    ana = client(app_for(bed), "ana")
    asked = form(enviar_correo="1", v_correo="pedro@vereda.test")
    page = follow(ana, ana.post("/soporte/nuevo", data={**asked, "accion": "enviar"}))
    follow(ana, ana.post("/soporte/nuevo", data={**form(v_correo="pedro@vereda.test"), "accion": "enviar"}))
    mailed, quiet = rows(bed)
    assert mailed.state is OutboundState.ACCEPTED and mailed.buyer_email == "pedro@vereda.test"
    assert 'id="entrega"' in page and "Correo al vendedor" in page
    assert quiet.buyer_email is None and 'id="entrega"' not in text(ana.get(f"/soporte/{quiet.id}"))
    # The job queues the seller's copy (issuing/support_mail.py); the page tells it in the seller's words.
    from issuing.support_mail import queue_seller_mail

    report = queue_seller_mail(bed.sessions, bed.issuing.ctx, from_address="cuentas@empresa.test")
    assert report.queued == [mailed.number], report
    page = text(ana.get(f"/soporte/{mailed.id}"))
    section = page[page.index('id="entrega"') :].split("</section>")[0]
    assert "pedro@vereda.test" in section and "vendedor" in section
    assert "comprador" not in re.sub(r"«[^»]*»", "", section)
    # A bad address is named at its field.
    bad = ana.post("/soporte/nuevo", data={**form(enviar_correo="1", v_correo="no-es-correo"), "accion": "enviar"})
    assert bad.status_code == 422 and "Correo del vendedor" in text(bad)


def test_keyset_pages_and_filters(support_bed, monkeypatch) -> None:  # noqa: F811
    import web.support
    from tests.integration.support_fixtures import SAAS, issue_support, support_data

    bed = support_bed
    numbers = [issue_support(bed, support_data(), idempotency_key=f"k{n}").number for n in range(3)]  # signed
    foreign = support_data(seller=SAAS)
    foreign["lines"][0].pop("withholdings")
    other = issue_support(bed, foreign).number
    monkeypatch.setattr(web.support, "PAGE_SIZE", 2)
    jorge = client(app_for(bed), "jorge")
    first = text(jorge.get("/soporte?estado=signed&tipo=05&vendedor=79123456"))
    assert numbers[2] in first and numbers[1] in first and numbers[0] not in first and other not in first
    following = re.search(r'id="siguientes" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = text(jorge.get(following))
    assert numbers[0] in second and numbers[1] not in second and 'id="siguientes"' not in second
    assert "Firmado, sin enviar" in second and "Más recientes" in second
    assert other in text(jorge.get("/soporte?vendedor=cloud"))
    assert numbers[0] not in text(jorge.get("/soporte?tipo=95"))
    assert "no es documento soporte" in text(jorge.get("/soporte?tipo=01"))
