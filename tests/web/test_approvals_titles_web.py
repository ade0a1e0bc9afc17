"""Four-eyes on the title page (issue 20), SQLite and PostgreSQL, simulator over HTTP: treasury's "Inscribir" (036)
is held — the title page says it waits for approval and nothing is signed; the same treasurer finds it on
"Aprobaciones pendientes" without the buttons; a second treasurer approves it there and the result box says DIAN
registered it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from buzon import jobs
from buzon.config import ApprovalSettings
from dian.codes import EventCode
from radian.actions import Counterparty, Endorse, Register
from store.models import Approval, ApprovalState, DocumentEvent, Role, TitleState
from tests.integration.titles_fixtures import FACTOR_NAME, FACTOR_NIT, TitlesBed
from tests.integration.titles_fixtures import titles_bed as titles_bed  # the fixture, re-exported
from tests.web.conftest import add_user, csrf_token, sign_in
from web.app import create_app

pytestmark = pytest.mark.integration


def _result(page: str) -> str:
    found = re.search(r'(<section id="resultado".*?</section>)', page, re.S)
    return found.group(1) if found else ""


def test_a_registration_held_on_the_title_page_is_approved_by_a_second_treasurer(titles_bed: TitlesBed) -> None:
    bed = titles_bed
    settings = dataclasses.replace(bed.settings, approvals=ApprovalSettings(enabled=True, events=("036",)))
    bed.settings, bed.runtime = settings, jobs.configure(settings, engine=bed.runtime.engine)
    title_id, _ = bed.imported_title(at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=5))
    app = create_app(settings, engine=bed.runtime.engine, titles=bed.runtime.title_service)
    clients = {}
    with bed.sessions() as s:
        for name in ("tere", "tomas"):
            user = add_user(s, name, Role.TREASURY, first_name=name.title(), family_name="Tesorería")
            s.commit()
            client = app.test_client()
            sign_in(app, client, user)
            clients[name] = client

    def post(who: str, path: str, **form: str) -> str:
        client = clients[who]
        response = client.post(path, data={"csrf_token": csrf_token(client), **form}, follow_redirects=True)
        assert response.status_code == 200, response.status_code
        return response.get_data(as_text=True)

    page = post("tere", f"/titulos/{title_id}/acciones/inscribir", confirmado="1")
    assert "Pendiente de aprobación" in page and "Aprobaciones pendientes" in page
    with bed.sessions() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(DocumentEvent).where(
            DocumentEvent.code == EventCode.INSCRIPCION_TITULO)) == 0  # fmt: skip
        [row] = s.scalars(sa.select(Approval))
    mine = clients["tere"].get("/aprobaciones").get_data(as_text=True)
    assert "Usted lo pidió" in mine and f"aprobar-{row.id}" not in mine
    listed = clients["tomas"].get("/aprobaciones").get_data(as_text=True)
    assert f'id="aprobar-{row.id}"' in listed and "Inscripción" in listed
    box = _result(post("tomas", f"/aprobaciones/{row.id}/aprobar"))
    assert 'data-kind="registered"' in box and "registrado por la DIAN" in box, box
    with bed.sessions() as s:
        assert s.get(Approval, row.id).state is ApprovalState.SENT
    assert bed.title(title_id).state is TitleState.REGISTERED


def test_a_lapsed_request_says_why_among_the_decided(titles_bed: TitlesBed) -> None:
    bed = titles_bed
    settings = dataclasses.replace(bed.settings, approvals=ApprovalSettings(enabled=True, events=("037",)))
    bed.settings, bed.runtime = settings, jobs.configure(settings, engine=bed.runtime.engine)
    title_id, _ = bed.imported_title(at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=5))
    assert bed.titles.act(title_id, Register(), actor="user:tere", deliver=True).state == "registered"
    held = bed.titles.act(title_id, Endorse(Counterparty(FACTOR_NIT, FACTOR_NAME), rate=Decimal("2")),
                          actor="user:tere", deliver=True)  # fmt: skip
    assert held.pending_approval is not None, held
    app = create_app(settings, engine=bed.runtime.engine, titles=bed.runtime.title_service)
    with bed.sessions() as s:
        user = add_user(s, "tomas", Role.TREASURY, first_name="Tomás", family_name="Tesorería")
        s.commit()
        client = app.test_client()
        sign_in(app, client, user)
    assert f'id="aprobar-{held.pending_approval}"' in client.get("/aprobaciones").get_data(as_text=True)
    assert bed.counterpart("limit", bed.title(title_id).invoice_cufe)["registered"]
    bed.titles.sync(title_id, actor="test")
    assert jobs.approvals()["summary"]["lapsed"] == 1
    page = client.get("/aprobaciones").get_data(as_text=True)
    assert f'id="aprobar-{held.pending_approval}"' not in page and "No hay eventos esperando aprobación" in page
    decided = page[page.index('id="decididas"') :]
    item = re.search(rf'<li[^>]*data-approval="{held.pending_approval}".*?</li>', decided, re.S)
    assert item is not None and 'data-state="expired"' in item.group(0), decided[:2000]
    assert "Vencida" in item.group(0) and "Por qué venció: «Ya no procede: " in item.group(0), item.group(0)
    assert "· venció el " in item.group(0), item.group(0)
