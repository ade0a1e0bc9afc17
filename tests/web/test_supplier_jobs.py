"""The Proveedores switches and address are honoured by the real jobs (buzon.jobs over events/policy.py and the
outbox), on SQLite and PostgreSQL, with the DIAN simulator over HTTP, Dovecot and aiosmtpd: a clerk turns a
supplier's automatic 030 and 032 on in the web, the jobs send them with no configuration list, the notices go to
the address set by hand (over DIAN's list), and once switched off the next invoice is left alone. "Consultar en la
DIAN" reads the simulator's GetExchangeEmails through the events service's client."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from buzon import jobs
from buzon.runtime import event_service
from dian.codes import DocumentState, EventCode
from store.models import Role, SubmissionState
from tests.integration.events_fixtures import SELLER_NIT, SUPPLIER_MAILBOX, EventsBed
from tests.integration.events_fixtures import events_bed as events_bed  # the fixture, re-exported
from tests.web.conftest import PASSWORD, password_hash, sign_in
from web.app import create_app
from web.auth import create_user

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BY_HAND = "avisos-fe@proveedor.test"


def clerk_client(bed: EventsBed) -> Any:
    app = create_app(
        bed.settings, engine=bed.runtime.engine, events=lambda sessions: event_service(bed.settings, sessions)
    )
    with bed.sessions() as s:
        user = create_user(s, "ana", role=Role.CLERK, password=PASSWORD, password_hash=password_hash(PASSWORD),
                           actor="test")  # fmt: skip
        s.commit()
        client = app.test_client()
        sign_in(app, client, user)
    return client


def post(client: Any, path: str, **form: str) -> Any:
    page = client.get(f"/proveedores/{SELLER_NIT}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(path, data={"csrf_token": token, **form})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return response


def test_switches_set_in_the_web_drive_the_real_jobs(events_bed: EventsBed) -> None:
    bed = events_bed
    now = dt.datetime.now(dt.UTC)
    first = bed.receive(at=now - dt.timedelta(hours=2))
    bed.with_scheduler(auto_acknowledge="valid_listed")  # no supplier listed in the configuration
    assert jobs.auto_acknowledge()["summary"]["emitted"] == 0
    assert jobs.auto_receipt()["summary"]["emitted"] == 0

    client = clerk_client(bed)
    post(client, f"/proveedores/{SELLER_NIT}/automaticos", auto_acknowledge="1", auto_receipt="1")
    post(client, f"/proveedores/{SELLER_NIT}/correo", reception_email=BY_HAND)
    assert jobs.auto_acknowledge()["summary"]["emitted"] == 1
    assert jobs.auto_receipt()["summary"]["emitted"] == 1  # the 032 queued behind the 030
    summary = bed.deliver()
    assert summary["events"]["registered"] == 2, summary
    events = bed.events(first)
    assert [(e.code, e.submission_state, e.actor) for e in events] == [
        (EventCode.ACUSE_RECIBO, SubmissionState.REGISTERED, "job:auto_acknowledge"),
        (EventCode.RECIBO_BIEN, SubmissionState.REGISTERED, "job:auto_receipt"),
    ]
    assert bed.document(first).state is DocumentState.GOODS_RECEIVED
    # The notices went to the address set by hand, not to the one on DIAN's list.
    messages = bed.smtp.handler.wait_for(2)
    assert [recipients for _, recipients, _ in messages] == [[BY_HAND], [BY_HAND]]

    post(client, f"/proveedores/{SELLER_NIT}/automaticos")  # both boxes unticked
    second = bed.receive(at=now - dt.timedelta(hours=1))
    assert jobs.auto_acknowledge()["summary"]["emitted"] == 0
    assert bed.events(second) == []
    # The configuration's list stays a fallback: listed there, the supplier is acknowledged with its switch off.
    bed.with_scheduler(auto_acknowledge_suppliers=(SELLER_NIT,))
    assert jobs.auto_acknowledge()["summary"]["emitted"] == 1
    assert [e.code for e in bed.events(second)] == [EventCode.ACUSE_RECIBO]


def test_asking_dian_shows_its_reception_address(events_bed: EventsBed) -> None:
    bed = events_bed
    bed.receive(at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=2))
    client = clerk_client(bed)
    post(client, f"/proveedores/{SELLER_NIT}/consultar-dian")
    page = client.get(f"/proveedores/{SELLER_NIT}").get_data(as_text=True)
    assert f"Correo de recepción registrado en la DIAN para el NIT {SELLER_NIT}: {SUPPLIER_MAILBOX}" in page
    assert f'<dd id="correo-dian">{SUPPLIER_MAILBOX}</dd>' in page
    assert f'value="{SUPPLIER_MAILBOX}"' in page  # offered in the form, stored only when the clerk saves it
