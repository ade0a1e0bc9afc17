"""The endorsement watch end to end (issue 17, payable side), on SQLite and PostgreSQL: a supplier invoice mailed to
us, accepted by us (030, 032, 033 through the simulator over HTTP), then registered (036) and endorsed (037) by its
supplier to a factor through the simulator's admin API over HTTP; one watch sweep (the job title_watch) shows the new
holder, raises the alert (in-app, mail to treasury, webhook title.holder_changed) and moves the payee in the payment
export and the API; a judge's 041 freezes it: the export refuses the line with the reason.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import urllib.request
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from buzon import jobs
from dian.codes import EventCode, Operation
from radian.payables import PayableFilters, export_csv, payables
from store.models import (
    AlertKind,
    DocumentEvent,
    EventParty,
    MailKind,
    OutgoingMail,
    PartyRole,
    Role,
    TitleAlert,
    TitleRole,
    TitleState,
    User,
    ValueTitle,
    WebhookDelivery,
)
from tests.integration.dian_fixtures import SELLER_NIT
from tests.integration.events_fixtures import EventsBed, events_bed  # noqa: F401 - the fixture

pytestmark = pytest.mark.integration

FACTOR = {"nit": "901777888", "name": "FACTOR DE PRUEBA S.A.S."}
TREASURY_MAIL = "tesoreria@compradora.test"


def _sim(bed: EventsBed, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """The simulator's admin API over HTTP (loopback)."""
    base = bed.world.server.base_url.rstrip("/")
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 - the loopback test server
        f"{base}{path}", data=data, method="POST" if body is not None else "GET",
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the loopback test server
        return json.loads(response.read())


def _act(bed: EventsBed, action: str, cufe: str, **fields: Any) -> dict[str, Any]:
    answer = _sim(bed, "/_sim/counterparts", {"action": action, "cufe": cufe, **fields})
    assert answer["registered"], answer
    return answer


def _accepted_invoice(bed: EventsBed) -> tuple[int, str]:
    doc_id = bed.receive(at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=3))
    for code in (EventCode.ACUSE_RECIBO, EventCode.RECIBO_BIEN, EventCode.ACEPTACION_EXPRESA):
        bed.send(doc_id, code)
        assert bed.deliver()["events"]["registered"] == 1
    return doc_id, bed.document(doc_id).cufe


def _title(bed: EventsBed, doc_id: int) -> ValueTitle:
    with bed.sessions() as s:
        row = s.scalars(sa.select(ValueTitle).where(ValueTitle.document_id == doc_id)).one()
        s.expunge(row)
        return row


def _watch(bed: EventsBed) -> dict[str, Any]:
    result = jobs.title_watch()
    assert result["outcome"] == "ok", result
    return result["summary"]


def _api_payables(bed: EventsBed, query: str = "") -> tuple[int, dict[str, Any]]:
    """GET /api/v1/payables with a treasury user's bearer token, through the web app on the bed's database."""
    from web.app import create_app
    from web.auth import issue_token

    app = create_app(bed.settings, engine=bed.runtime.engine)
    with bed.sessions() as s, app.app_context():
        user = s.scalars(sa.select(User).where(User.username == "tesorera")).one()
        _, raw = issue_token(s, user, name="ERP", actor="test", now=dt.datetime.now(dt.UTC))
        s.commit()
    response = app.test_client().get(f"/api/v1/payables{query}", headers={"Authorization": f"Bearer {raw}"})
    return response.status_code, response.get_json()


def _same_moment(stored: dt.datetime, iso: str) -> bool:
    """A stored time (SQLite gives it back naive, in UTC) is the simulator's signing time as signed: xades:SigningTime
    keeps milliseconds, the simulator's answer microseconds."""
    when = stored if stored.tzinfo else stored.replace(tzinfo=dt.UTC)
    return abs(when - dt.datetime.fromisoformat(iso)) < dt.timedelta(milliseconds=1)


def _assert_observed_details(bed: EventsBed, doc_id: int, endorsed: dict[str, Any]) -> None:
    """The watch recorded the supplier's 036 and 037 with their RADIAN columns and parties, read from the proven XML."""
    with bed.sessions() as s:
        rows = {e.code: e for e in s.scalars(sa.select(DocumentEvent).where(DocumentEvent.document_id == doc_id))}
        inscription, endorsement = rows[EventCode.INSCRIPCION_TITULO], rows[EventCode.ENDOSO_PROPIEDAD]
        assert inscription.operation is Operation.FIRST_REGISTRATION and inscription.amount == Decimal("119000.00")
        assert inscription.due_date is not None
        assert (endorsement.cude or "").lower() == endorsed["cude"].lower()
        assert (endorsement.operation, endorsement.list_id) == (Operation(endorsed["operation"]), "1")
        assert endorsement.amount == Decimal("119000.00") and endorsement.discount_rate == Decimal("2.5")
        # The price shown to the factor: value x (100 - rate) / 100.
        assert endorsement.price == Decimal("119000.00") * (100 - Decimal("2.5")) / 100
        assert endorsement.value_block is not None and endorsement.value_block["group"] == "InformacionNegociacion"
        assert (endorsement.sender_nit, endorsement.receiver_nit) == (SELLER_NIT, FACTOR["nit"])
        assert endorsement.receiver_name == FACTOR["name"] and endorsement.sender_name
        parties = {(p.role, p.position): p for p in endorsement.parties}
        assert parties[(PartyRole.SENDER, 0)].nit == SELLER_NIT
        receiver = parties[(PartyRole.RECEIVER, 0)]
        assert (receiver.nit, receiver.name) == (FACTOR["nit"], FACTOR["name"])
        assert receiver.amount == Decimal("119000.00")
        # "Which titles were endorsed to the factor": the (nit, role) index answers it.
        endorsed_to = s.scalars(sa.select(EventParty.event_id).where(
            EventParty.nit == FACTOR["nit"], EventParty.role == PartyRole.RECEIVER)).all()  # fmt: skip
        assert endorsed_to == [endorsement.id]


def _due_now(bed: EventsBed) -> None:
    with bed.sessions() as s:
        s.execute(sa.update(ValueTitle).values(next_watch_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
        s.commit()


def test_an_endorsed_supplier_invoice_moves_the_payee_within_one_sweep_and_a_041_freezes_it(
    events_bed: EventsBed,  # noqa: F811
) -> None:
    bed = events_bed
    with bed.sessions() as s:
        s.add(User(username="tesorera", email=TREASURY_MAIL, role=Role.TREASURY))
        s.commit()
    doc_id, cufe = _accepted_invoice(bed)

    # First sweep: the invoice is enrolled, DIAN lists only our own events; the payee is the supplier.
    first = _watch(bed)
    assert first["enrolled"] == 1 and first["asked"] == 1 and first["unchanged"] == 1, first
    row = _title(bed, doc_id)
    assert (row.role, row.state, row.payee_nit) == (TitleRole.OBLIGOR, TitleState.UNREGISTERED, SELLER_NIT)
    with bed.sessions() as s:
        (line,) = payables(s)
    assert line.payee_nit == SELLER_NIT and line.payable

    # The supplier registers the title and endorses it to a factor (the simulator signs as the supplier).
    registered = _act(bed, "register", cufe)
    endorsed = _act(bed, "endorse", cufe, to=FACTOR, rate="2.5")
    assert endorsed["holders"] == [FACTOR]

    # Not due yet: the sweep asks nothing.
    assert _watch(bed)["asked"] == 0
    _due_now(bed)
    second = _watch(bed)
    assert second["settled"] == 1 and second["holder_changed"] == 1 and second["unproven"] == 0, second
    assert second["disputed"] == 0, second  # GetDocumentInfo's holder agrees with the proven replay
    row = _title(bed, doc_id)
    assert (row.state, row.holder_nit, row.payee_nit) == (TitleState.ENDORSED, FACTOR["nit"], FACTOR["nit"])
    assert row.payee_name == FACTOR["name"] and row.chain_length == 2
    # The title's dates are the events' signed moments: inscribed at the 036, the factor holds it since the 037.
    assert row.registered_at is not None and _same_moment(row.registered_at, registered["signed_at"])
    assert row.holder_since is not None and _same_moment(row.holder_since, endorsed["signed_at"])
    _assert_observed_details(bed, doc_id, endorsed)

    with bed.sessions() as s:
        alerts = list(s.scalars(sa.select(TitleAlert).where(TitleAlert.title_id == row.id)))
        holder_alerts = [a for a in alerts if a.kind is AlertKind.HOLDER_CHANGED]
        assert len(holder_alerts) == 1
        alert = holder_alerts[0]
        assert (alert.from_nit, alert.to_nit) == (SELLER_NIT, FACTOR["nit"])
        assert alert.dedupe_key == f"holder_changed:{endorsed['cude'].lower()}"
        mails = list(s.scalars(sa.select(OutgoingMail).where(OutgoingMail.kind == MailKind.TITLE_ALERT)))
        assert TREASURY_MAIL in {m.to_address for m in mails}
        hooks = list(s.scalars(sa.select(WebhookDelivery).where(WebhookDelivery.event == "title.holder_changed")))
        assert len(hooks) == 1
        payload = hooks[0].payload
        assert payload["title"]["payee"]["nit"] == FACTOR["nit"]
        assert payload["title"]["previous_payee"]["nit"] == SELLER_NIT
        (line,) = payables(s)
        assert (line.payee_nit, line.payee_name, line.payee_is_supplier) == (FACTOR["nit"], FACTOR["name"], False)
        assert line.payable
        # Paying the supplier (a bank payee an ERP still keeps) is refused with the reason.
        (override,) = payables(s, pay_to={cufe: SELLER_NIT})
        assert not override.payable and FACTOR["nit"] in (override.refused or "")

    # The API says the same to the ERP.
    status, body = _api_payables(bed, "?payable_only=true")
    assert status == 200, body
    (entry,) = body["payables"]
    assert entry["payee"] == {"nit": FACTOR["nit"], "name": FACTOR["name"]} and entry["payee_is_supplier"] is False
    assert entry["outstanding"] == "119000.00" and entry["title_state"] == "endorsed"
    status, body = _api_payables(bed, "?state=nonsense")
    assert status == 400 and body["field"] == "state"
    status, body = _api_payables(bed, "?due_befor=2000-01-01")  # a mistyped filter must not widen the run
    assert status == 400 and body["field"] == "due_befor"

    # The mail reaches treasury through the real SMTP server.
    assert jobs.deliver_outbox()["outcome"] == "ok"
    received = [m for m in bed.smtp.handler.messages if TREASURY_MAIL in m[1]]
    assert received and "Cambio de tenedor" in received[0][2]["Subject"]

    # A third sweep with nothing new changes nothing and raises nothing again.
    _due_now(bed)
    third = _watch(bed)
    assert third["unchanged"] == 1 and third["settled"] == 0, third

    # A judge limits the title (041): the payment is frozen and the export refuses the line with its reason.
    _act(bed, "limit", cufe)
    _due_now(bed)
    fourth = _watch(bed)
    assert fourth["limited"] == 1, fourth
    row = _title(bed, doc_id)
    assert row.limited and row.state is TitleState.LIMITED
    with bed.sessions() as s:
        export = export_csv(payables(s, PayableFilters()), excel=True)
        assert s.scalar(sa.select(sa.func.count()).select_from(WebhookDelivery)
                        .where(WebhookDelivery.event == "title.limited")) == 1  # fmt: skip
    assert export.counts == {"payable": 0, "refused": 1}
    assert export.refused.startswith("\ufeff") and "041" in export.refused and FACTOR["nit"] in export.refused
    assert cufe not in export.payable
    status, body = _api_payables(bed)
    assert status == 200 and body["counts"] == {"payable": 0, "refused": 1}
    assert body["payables"][0]["frozen"] is True and "041" in body["payables"][0]["refused"]


class _Doctored:
    """The real client, except that GetDocumentInfo names another holder (DIAN's answer to it is not signed)."""

    def __init__(self, client: Any, holder: str) -> None:
        self._client, self._holder = client, holder

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def get_document_info(self, cufe: str) -> Any:
        return dataclasses.replace(self._client.get_document_info(cufe), holder_name=self._holder)


def test_documentinfo_naming_another_holder_raises_an_alert_but_the_payee_stays_the_proven_one(
    events_bed: EventsBed,  # noqa: F811
) -> None:
    from radian.watch import sweep

    bed = events_bed
    doc_id, cufe = _accepted_invoice(bed)
    assert _watch(bed)["enrolled"] == 1
    _act(bed, "register", cufe)
    _act(bed, "endorse", cufe, to=FACTOR)
    _due_now(bed)
    rt = bed.runtime
    report = sweep(rt.sessions, rt.ctx, lambda: _Doctored(rt.dian_client(), "OTRO TENEDOR S.A.S."),
                   jobs.watch_plan(rt.settings))  # fmt: skip
    assert (report.settled, report.holder_changed, report.disputed) == (1, 1, 1), report
    row = _title(bed, doc_id)
    assert (row.holder_nit, row.payee_nit) == (FACTOR["nit"], FACTOR["nit"])  # the proven replay, not the answer
    with bed.sessions() as s:
        (alert,) = s.scalars(sa.select(TitleAlert).where(TitleAlert.kind == AlertKind.HOLDER_DISPUTED)).all()
        assert alert.title_id == row.id and "OTRO TENEDOR" in alert.message and FACTOR["nit"] in alert.message
        assert (alert.from_nit, alert.to_name) == (FACTOR["nit"], "OTRO TENEDOR S.A.S.")
        (line,) = payables(s)
        assert line.payee_nit == FACTOR["nit"]
