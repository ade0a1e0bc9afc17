"""The treasury pages through the Flask client on SQLite and PostgreSQL: the titles list and its filters, a title's
page (holder, payee, chain), Pagos with the payee column and its CSV (the refused 041 line apart with its reason), the
alerts (unseen first, marked seen by treasury and AP, audited), the document page's red "Pagar a" and frozen banner,
and who may do what (treasury acts, clerks see the payee, auditors read)."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from dian.codes import DocumentState, DocumentType, Environment, EventCode, Operation, PaymentMeans
from store.models import (
    AlertKind,
    AuditEntry,
    Direction,
    DocumentEvent,
    EventParty,
    OutboundDocument,
    PartyRole,
    ReceivedDocument,
    Role,
    SubmissionState,
    TitleAlert,
    TitleRole,
    TitleState,
    ValueTitle,
    Verdict,
)
from tests.web.conftest import csrf_token

SUPPLIER = ("900111222", "PAPELERIA ALVAREZ S.A.S.")
FACTOR = ("901777888", "FACTORING DEL VALLE S.A.S.")
OTHER = ("900333444", "TRANSPORTES ANDINOS LTDA")
US = ("900123456", "EMPRESA DEMO S.A.S.")
T0 = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


def _received(session, n: int, issuer: tuple[str, str], amount: str) -> ReceivedDocument:
    doc = ReceivedDocument(
        cufe=f"{n:096x}", document_type=DocumentType.INVOICE, environment=Environment.PRODUCTION, number=f"FE{n}",
        issuer_nit=issuer[0], issuer_name=issuer[1], buyer_nit=US[0], buyer_name=US[1], issue_date=T0.date(),
        issued_at=T0, due_date=date(2026, 12, 30) + timedelta(days=n), payment_means=PaymentMeans.CREDIT,
        line_extension_amount=Decimal(amount), tax_exclusive_amount=Decimal(amount),
        tax_inclusive_amount=Decimal(amount), payable_amount=Decimal(amount), signed_xml_blob="b" * 64,
        verdict=Verdict.VALID, state=DocumentState.ACCEPTED,
    )  # fmt: skip
    session.add(doc)
    session.flush()
    return doc


def _title(session, doc, **fields) -> ValueTitle:
    values = dict(
        document_id=doc.id, role=TitleRole.OBLIGOR, invoice_cufe=doc.cufe, invoice_number=doc.number,
        state=TitleState.UNREGISTERED, issuer_nit=doc.issuer_nit, issuer_name=doc.issuer_name, debtor_nit=US[0],
        debtor_name=US[1], holder_nit=doc.issuer_nit, holder_name=doc.issuer_name, payee_nit=doc.issuer_nit,
        payee_name=doc.issuer_name, currency="COP", due_date=doc.due_date, value=doc.payable_amount,
        paid=Decimal(0), outstanding=doc.payable_amount,
    )  # fmt: skip
    values.update(fields)
    title = ValueTitle(**values)
    session.add(title)
    session.flush()
    return title


@pytest.fixture
def seeded(app_and_db):
    """An endorsed supplier invoice (pay the factor), a frozen one (041), a plain one, and one of ours."""
    _, session = app_and_db
    endorsed = _received(session, 1, SUPPLIER, "1190000.00")
    frozen = _received(session, 2, OTHER, "500000.00")
    plain = _received(session, 3, OTHER, "250000.00")
    t1 = _title(
        session,
        endorsed,
        state=TitleState.ENDORSED,
        holder_nit=FACTOR[0],
        holder_name=FACTOR[1],
        payee_nit=FACTOR[0],
        payee_name=FACTOR[1],
        chain_length=2,
        holder_since=T0 + timedelta(days=2),
    )
    t2 = _title(session, frozen, state=TitleState.LIMITED, limited=True, limited_amount=Decimal("500000.00"))
    for code, op, sender, at in (
        (EventCode.INSCRIPCION_TITULO, Operation.FIRST_REGISTRATION, SUPPLIER, 1),
        (EventCode.ENDOSO_PROPIEDAD, Operation.ENDORSEMENT_WITH_RESPONSIBILITY, SUPPLIER, 2),
    ):
        event = DocumentEvent(document_id=endorsed.id, code=code, operation=op, direction=Direction.OBSERVED,
                              number=f"SIMEV{at}", cude=f"{at:096x}", sender_nit=sender[0], sender_name=sender[1],
                              receiver_nit="800197268", receiver_name="DIAN", signing_time=T0 + timedelta(days=at),
                              registered_at=T0 + timedelta(days=at), submission_state=SubmissionState.REGISTERED,
                              amount=Decimal("1190000.00"),
                              price=Decimal("1160250.00") if code is EventCode.ENDOSO_PROPIEDAD else None,
                              discount_rate=Decimal("2.5") if code is EventCode.ENDOSO_PROPIEDAD else None)  # fmt: skip
        session.add(event)
        session.flush()
        if code is EventCode.ENDOSO_PROPIEDAD:
            session.add(EventParty(event_id=event.id, role=PartyRole.RECEIVER, position=0, nit=FACTOR[0],
                                   name=FACTOR[1], amount=Decimal("1190000.00")))  # fmt: skip
    ours = OutboundDocument(document_type=DocumentType.INVOICE, environment=Environment.PRODUCTION, number="SETP1",
                            cufe="c" * 96, buyer_nit="900654321", buyer_name="CLIENTE GRANDE S.A.", currency="COP",
                            payable_amount=Decimal("119000.00"), origin="imported", due_date=date(2027, 1, 15),
                            payment_means=PaymentMeans.CREDIT)  # fmt: skip
    session.add(ours)
    session.flush()
    t3 = ValueTitle(outbound_document_id=ours.id, role=TitleRole.HOLDER, invoice_cufe=ours.cufe, invoice_number="SETP1",
                    state=TitleState.REGISTERED, issuer_nit=US[0], issuer_name=US[1], debtor_nit="900654321",
                    debtor_name="CLIENTE GRANDE S.A.", holder_nit=US[0], holder_name=US[1], payee_nit=US[0],
                    payee_name=US[1], value=Decimal("119000.00"), paid=Decimal(0), outstanding=Decimal("119000.00"),
                    due_date=date(2027, 1, 15))  # fmt: skip
    session.add(t3)
    session.flush()
    old = T0 + timedelta(days=3)
    session.add_all([
        TitleAlert(title_id=t1.id, kind=AlertKind.HOLDER_CHANGED, dedupe_key="holder_changed:x", created_at=old,
                   from_nit=SUPPLIER[0], from_name=SUPPLIER[1], to_nit=FACTOR[0], to_name=FACTOR[1],
                   message=f"La factura FE1 cambió de tenedor legítimo: pague a {FACTOR[1]}."),
        TitleAlert(title_id=t2.id, kind=AlertKind.LIMITED, dedupe_key="limited:y", created_at=old - timedelta(hours=1),
                   message="La factura FE2 tiene una limitación a la circulación."),
        TitleAlert(title_id=t3.id, kind=AlertKind.REGISTERED, dedupe_key="registered:z", created_at=old + timedelta(1),
                   message="La factura SETP1 quedó inscrita.", seen_at=old + timedelta(days=1, hours=1),
                   seen_by="alguien"),
    ])  # fmt: skip
    session.flush()
    return {"endorsed": endorsed, "frozen": frozen, "plain": plain, "t1": t1, "t2": t2, "t3": t3}


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.TREASURY, Role.CLERK, Role.ADMIN, Role.AUDITOR])
def test_every_role_reads_the_titles_pagos_and_alerts(client_as, seeded, role):
    client = client_as(role)
    page = _text(client.get("/titulos"))
    assert "FE1" in page and "SETP1" in page and "Endosada" in page
    assert f"Pagar a: {FACTOR[1]} (NIT {FACTOR[0]})" in page
    assert "Pago congelado" in page
    page = _text(client.get(f"/titulos/{seeded['t1'].id}"))
    assert f"Pagar a: {FACTOR[1]}" in page and "Cadena de circulación" in page
    assert "Endoso en propiedad" in page and "$ 1.160.250,00" in page  # the price the factor paid, in the chain
    assert "Inscripción como título valor" in page
    # A payable title: treasury may record our payment (045/051) there; the other roles only read it.
    assert ('id="acciones"' in page) == (role is Role.TREASURY)
    assert "Endosar en propiedad" not in page
    assert _text(client.get("/pagos")).count("data-cufe") == 3
    assert "FE1" in _text(client.get("/alertas"))


def test_the_list_filters_by_role_and_state_and_says_a_bad_filter(client_as, seeded):
    client = client_as(Role.TREASURY)
    receivable = _text(client.get("/titulos?rol=cobrar"))
    assert "SETP1" in receivable and "FE1" not in receivable
    payable = _text(client.get("/titulos?rol=pagar&estado=limited"))
    assert "FE2" in payable and "FE1" not in payable and "SETP1" not in payable
    bad = _text(client.get("/titulos?estado=robada"))
    assert "El estado «robada» no existe" in bad and "FE1" in bad
    assert client.get("/titulos/999999").status_code == 404


def test_treasury_sees_why_actions_are_unavailable_without_the_service(client_as, seeded):
    page = _text(client_as(Role.TREASURY).get(f"/titulos/{seeded['t3'].id}"))
    assert 'id="acciones"' in page and "no están disponibles en esta instalación" in page
    auditor = _text(client_as(Role.AUDITOR).get(f"/titulos/{seeded['t3'].id}"))
    assert 'id="acciones"' not in auditor and "sincronizar" not in auditor


@pytest.mark.parametrize("role", [Role.CLERK, Role.ADMIN, Role.AUDITOR])
def test_only_treasury_may_act_on_titles(client_as, seeded, role):
    client = client_as(role)
    token = csrf_token(client)
    title_id = seeded["t3"].id
    for path in (f"/titulos/{title_id}/acciones/inscribir", f"/titulos/{title_id}/sincronizar",
                 f"/titulos/{title_id}/reintentar", "/titulos/importar"):  # fmt: skip
        assert client.post(path, data={"csrf_token": token}).status_code == 403, path
    assert client.get("/titulos/importar").status_code == 403


def test_an_action_without_the_service_says_so_and_signs_nothing(client_as, seeded, app_and_db):
    _, session = app_and_db
    client = client_as(Role.TREASURY)
    title_id = seeded["t3"].id
    response = client.post(f"/titulos/{title_id}/acciones/endosar",
                           data={"csrf_token": csrf_token(client), "nit": FACTOR[0], "nombre": FACTOR[1]},
                           follow_redirects=True)  # fmt: skip
    assert "no están disponibles en esta instalación" in _text(response)
    count = session.scalar(sa.select(sa.func.count()).select_from(DocumentEvent)
                           .where(DocumentEvent.outbound_document_id.is_not(None)))  # fmt: skip
    assert count == 0


def test_pagos_shows_the_payee_and_keeps_the_frozen_line_apart_with_its_reason(client_as, seeded):
    page = _text(client_as(Role.CLERK).get("/pagos"))
    ok, _, refused = page.partition('id="rechazadas"')
    assert f"Pagar a: {FACTOR[1]} (NIT {FACTOR[0]})" in ok and "FE3" in ok and "FE2" not in ok
    assert "FE2" in refused and "Pago congelado" in refused and "041" in refused
    assert "1 factura se paga a un tercero" in page


def test_the_csv_has_the_factor_as_payee_and_the_refused_file_the_reason(client_as, seeded):
    client = client_as(Role.TREASURY)
    response = client.get("/pagos.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    by_number = {r["numero"]: r for r in rows}
    assert set(by_number) == {"FE1", "FE3"}
    assert (by_number["FE1"]["nit_beneficiario"], by_number["FE1"]["beneficiario"]) == FACTOR
    assert by_number["FE1"]["beneficiario_es_proveedor"] == "false" and by_number["FE1"]["saldo"] == "1190000.00"
    assert by_number["FE3"]["nit_beneficiario"] == OTHER[0]
    refused = list(csv.DictReader(io.StringIO(client.get("/pagos.csv?archivo=rechazados").get_data(as_text=True))))
    assert [r["numero"] for r in refused] == ["FE2"] and "041" in refused[0]["motivo_rechazo"]
    excel = client.get("/pagos.csv?formato=excel").get_data(as_text=True)
    assert excel.startswith("\ufeff") and "1190000,00" in excel and ";" in excel.splitlines()[0]
    only = list(csv.DictReader(io.StringIO(client.get(f"/pagos.csv?proveedor={SUPPLIER[0]}").get_data(as_text=True))))
    assert [r["numero"] for r in only] == ["FE1"]
    assert "no es una fecha" in _text(client.get("/pagos?vence_hasta=mañana"))


def test_alerts_unseen_first_marked_seen_by_treasury_and_audited(client_as, seeded, app_and_db):
    _, session = app_and_db
    client = client_as(Role.TREASURY)
    page = _text(client.get("/alertas"))
    # Unseen first (newest first), then the seen one; the badge in the nav counts the unseen.
    assert page.index("FE1") < page.index("FE2") < page.index("SETP1")
    assert 'class="nav-count"' in page and ">2<" in page
    assert f"Pagar a: {FACTOR[1]} (NIT {FACTOR[0]})" in page
    alert_id = session.scalar(sa.select(TitleAlert.id).where(TitleAlert.dedupe_key == "holder_changed:x"))
    client.post(f"/alertas/{alert_id}/vista", data={"csrf_token": csrf_token(client)})
    alert = session.get(TitleAlert, alert_id)
    assert alert.seen_at is not None and alert.seen_by == "usuario-treasury"
    entry = session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "title.alert.seen"))
    assert entry is not None and entry.data["alert_ids"] == [alert_id]
    client.post("/alertas/vistas", data={"csrf_token": csrf_token(client)})
    assert session.scalar(sa.select(sa.func.count()).select_from(TitleAlert).where(TitleAlert.seen_at.is_(None))) == 0
    assert 'class="nav-count"' not in _text(client.get("/alertas"))


def test_auditors_and_admins_read_alerts_but_do_not_mark_them(client_as, seeded):
    for role in (Role.AUDITOR, Role.ADMIN):
        client = client_as(role)
        page = _text(client.get("/alertas"))
        assert "Marcar como visto" not in page and 'class="nav-count"' not in page
        assert client.post("/alertas/vistas", data={"csrf_token": csrf_token(client)}).status_code == 403


def test_the_document_page_says_pay_the_factor_and_shows_the_frozen_banner(client_as, seeded):
    client = client_as(Role.CLERK)
    endorsed = _text(client.get(f"/documentos/{seeded['endorsed'].id}"))
    assert f"Pagar a: {FACTOR[1]} (NIT {FACTOR[0]})" in endorsed and 'id="pago-congelado"' not in endorsed
    frozen = _text(client.get(f"/documentos/{seeded['frozen'].id}"))
    assert 'id="pago-congelado"' in frozen and "Pago congelado" in frozen and "Pagar a:" not in frozen
    plain = _text(client.get(f"/documentos/{seeded['plain'].id}"))
    assert "Pagar a:" not in plain and 'id="pago-congelado"' not in plain


def test_an_unproven_event_is_said_on_the_title_and_keeps_the_line_out_of_the_bank_file(client_as, seeded, app_and_db):
    _, session = app_and_db
    seeded["t1"].watch_status = "unproven"
    session.flush()
    client = client_as(Role.TREASURY)
    assert "Buzón no pudo verificar" in _text(client.get(f"/titulos/{seeded['t1'].id}"))
    refused = _text(client.get("/pagos")).partition('id="rechazadas"')[2]
    assert "FE1" in refused and "no pudo verificar" in refused
    rows = list(csv.DictReader(io.StringIO(client.get("/pagos.csv").get_data(as_text=True))))
    assert "FE1" not in {r["numero"] for r in rows}


@pytest.mark.parametrize(
    ("typed", "read"),
    [("119000.50", Decimal("119000.50")), ("$ 119000,50", Decimal("119000.50")), ("119000", Decimal("119000")),
     ("119.000", None), ("1.190.000,00", None), ("abc", None), ("-5", None)],
)  # fmt: skip
def test_amounts_as_people_type_them_and_the_thousands_separator_refused(typed, read):
    from radian.actions import ActionError, RecordPayment
    from web.title_actions import read_action
    from web.title_offer import BY_KEY

    if read is None:
        with pytest.raises(ActionError, match="Valor pagado"):
            read_action(BY_KEY["pago"], {"valor": typed}, {})
    else:
        assert read_action(BY_KEY["pago"], {"valor": typed}, {}) == RecordPayment(read, None)


def test_the_badge_counts_for_ap_only_what_it_pays(client_as, seeded, app_and_db):
    _, session = app_and_db
    session.add(TitleAlert(title_id=seeded["t3"].id, kind=AlertKind.HOLDER_CHANGED, dedupe_key="holder_changed:ours",
                           message="La factura SETP1 cambió de tenedor legítimo.", created_at=T0))  # fmt: skip
    session.flush()
    badge = re.compile(r'class="nav-count"[^>]*>(\d+)<')
    assert badge.search(_text(client_as(Role.TREASURY).get("/alertas"))).group(1) == "3"
    clerk = _text(client_as(Role.CLERK).get("/alertas"))
    assert badge.search(clerk).group(1) == "2"
    # Our own endorsement of a receivable is listed, but not in the red of what changes whom we pay.
    ours = clerk[clerk.index("SETP1 cambió") - 600 : clerk.index("SETP1 cambió")]
    assert "alert-urgent" not in ours.rsplit("<li", 1)[1]


def test_an_event_dian_rejected_shows_in_the_chain_with_its_rule_explained(client_as, seeded, app_and_db):
    _, session = app_and_db
    title = seeded["t3"]
    session.add(DocumentEvent(outbound_document_id=title.outbound_document_id, code=EventCode.ENDOSO_PROPIEDAD,
                              operation=Operation.ENDORSEMENT_WITH_RESPONSIBILITY, direction=Direction.EMITTED,
                              number="END9", cude="e" * 96, sender_nit=US[0], receiver_nit=FACTOR[0],
                              submission_state=SubmissionState.REJECTED, signing_time=T0, dian_status_code="99",
                              dian_messages=["Regla: LGC24, Rechazo: El emisor no es el tenedor legitimo."],
                              last_error="Regla: LGC24, Rechazo: El emisor no es el tenedor legitimo."))  # fmt: skip
    session.flush()
    page = _text(client_as(Role.AUDITOR).get(f"/titulos/{title.id}"))
    link = page[page.index('data-code="037"') :]
    link = link[: link.index("</ul>")]  # the link, up to the end of its list of rules
    assert "rechazado por la DIAN" in link and 'data-rule="LGC24"' in link and "Qué hacer" in link


def test_the_document_page_names_a_registered_title_still_paid_to_the_supplier(client_as, seeded, app_and_db):
    _, session = app_and_db
    plain = seeded["plain"]
    _title(session, plain, state=TitleState.REGISTERED)
    page = _text(client_as(Role.CLERK).get(f"/documentos/{plain.id}"))
    assert 'id="titulo-valor"' in page and "Inscrita en RADIAN" in page and "se paga al proveedor" in page
    assert "Pagar a:" not in page


def test_every_alert_kind_has_spanish_words():
    from web.title_labels import ALERT_LABELS

    assert set(ALERT_LABELS) == set(AlertKind)


def test_every_title_state_has_spanish_words():
    from web.title_labels import STATE_LABELS

    assert set(STATE_LABELS) == set(TitleState) and all(STATE_LABELS.values())
