"""Signing refuses a company certificate outside its validity before anything is queued — through the real path:
the configured PKCS#12, the events runtime the jobs use, the clerk's document page and the policy jobs' batch call.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from buzon import jobs
from buzon.runtime import event_service
from dian.codes import EventCode
from dian.nit import check_digit
from events.emit import EventRefused, EventRequest, emit_many
from store.models import AuditEntry, Counter, DocumentEvent, Role
from tests.integration.dian_fixtures import BUYER_NIT
from tests.integration.events_fixtures import EventsBed, days_ago
from tests.integration.events_fixtures import events_bed as events_bed  # the fixture, re-exported for these tests
from tests.pki import _name, issue, pki, write_pkcs12
from tests.web.conftest import add_user, csrf_token, sign_in
from web.app import create_app

pytestmark = pytest.mark.integration

BOGOTA = dt.timezone(dt.timedelta(hours=-5))


def _company_p12(tmp_path: Path, *, not_before: dt.datetime, not_after: dt.datetime, label: str) -> Path:
    identity = issue(
        _name("EMPRESA COMPRADORA S.A.S.", serial=f"{BUYER_NIT}-{check_digit(BUYER_NIT)}"),
        key_label=label,
        issuer=pki().intermediate,
        not_before=not_before,
        not_after=not_after,
    )
    return write_pkcs12(identity, tmp_path / f"{label}.p12")


def _configure(bed: EventsBed, p12: Path) -> None:
    """Point certificate.pkcs12_path at ``p12`` and rebuild the runtime as `buzon scheduler` would on start."""
    certificate = dataclasses.replace(bed.settings.certificate, pkcs12_path=str(p12), password="prueba")
    bed.settings = dataclasses.replace(bed.settings, certificate=certificate)
    bed.runtime = jobs.configure(bed.settings, engine=bed.runtime.engine)


def _nothing_written(bed: EventsBed, doc_id: int) -> None:
    assert bed.events(doc_id) == []
    with bed.sessions() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(DocumentEvent)) == 0
        # No consecutive number was spent, no "signed" audit entry written.
        assert s.scalar(sa.select(Counter.value).where(Counter.name.like("event:%"))) is None
        assert s.scalar(sa.select(sa.func.count()).where(AuditEntry.action.like("event.%.signed"))) == 0
    assert bed.world.simulator.store.all("SELECT code FROM event") == []


def _day(moment: dt.datetime) -> str:
    return moment.astimezone(BOGOTA).date().isoformat()


def test_an_expired_company_certificate_signs_nothing(events_bed: EventsBed, tmp_path: Path) -> None:
    bed = events_bed
    doc_id = bed.receive(at=days_ago(1))
    start = dt.datetime(2023, 6, 1, 15, 0, tzinfo=dt.UTC)
    end = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    _configure(bed, _company_p12(tmp_path, not_before=start, not_after=end, label="vencido"))

    with pytest.raises(EventRefused) as refused:
        bed.send(doc_id, EventCode.ACUSE_RECIBO)
    reason = refused.value.reason
    assert f"venció el {_day(end)} (vigente del {_day(start)} al {_day(end)})" in reason, reason
    assert "certificate.pkcs12_path" in reason
    # Forcing skips our rule check, never the certificate.
    with pytest.raises(EventRefused, match="venció el"):
        bed.send(doc_id, EventCode.ACUSE_RECIBO, force=True)
    # The policy jobs' batch call: refused by document, nothing written.
    emitted, reasons = emit_many(
        bed.sessions, bed.runtime.ctx, [(doc_id, EventRequest(EventCode.ACUSE_RECIBO))], actor="job:auto"
    )
    assert emitted == [] and "venció el" in reasons[doc_id]
    assert bed.deliver()["events"].get("registered", 0) == 0
    _nothing_written(bed, doc_id)

    # The clerk pressing "Acuse de recibo" on the document page reads the reason, with the dates.
    app = create_app(bed.settings, engine=bed.runtime.engine, events=lambda ss: event_service(bed.settings, ss))
    with bed.sessions() as s:
        clerk = add_user(s, "clara", Role.CLERK, first_name="Clara", family_name="Díaz")
        s.commit()
        client = app.test_client()
        sign_in(app, client, clerk)
    page = client.post(
        f"/documentos/{doc_id}/eventos", data={"code": "030", "csrf_token": csrf_token(client)}, follow_redirects=True
    ).get_data(as_text=True)
    assert "No se envió el evento 030" in page
    assert f"venció el {_day(end)}" in page
    _nothing_written(bed, doc_id)


@pytest.mark.parametrize("events_bed", ["sqlite"], indirect=True)
def test_a_certificate_not_yet_valid_signs_nothing_and_a_valid_one_signs(events_bed: EventsBed, tmp_path) -> None:
    bed = events_bed
    doc_id = bed.receive(at=days_ago(1))
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    _configure(bed, _company_p12(tmp_path, not_before=start, not_after=start + dt.timedelta(days=365), label="futuro"))
    with pytest.raises(EventRefused, match=rf"aún no está vigente: rige desde el {_day(start)}"):
        bed.send(doc_id, EventCode.ACUSE_RECIBO)
    _nothing_written(bed, doc_id)

    # The same document, the renewed certificate in force: the event is signed and queued.
    now = dt.datetime.now(dt.UTC)
    renewed = _company_p12(tmp_path, not_before=now - dt.timedelta(days=1), not_after=now + dt.timedelta(days=365),
                           label="vigente")  # fmt: skip
    _configure(bed, renewed)
    queued = bed.send(doc_id, EventCode.ACUSE_RECIBO)
    assert queued.number == "ACU1"
    assert [e.code for e in bed.events(doc_id)] == [EventCode.ACUSE_RECIBO]
