"""The scheduled sync of our receivables (job ``title_sync``) against the DIAN simulator over HTTP, on SQLite and
PostgreSQL: it picks the holder titles that are due (an issued invoice without a title row is enrolled), asks DIAN
within the configured rate, records what the buyer did on each (030/032/033, and a 031 claim that alerts treasury and
billing, by mail too), re-schedules the rest without writing events, leaves a paid title alone, and backs off when
DIAN cannot be reached."""

from __future__ import annotations

import datetime as dt

import pytest
import requests
import sqlalchemy as sa

from buzon import jobs
from dian.codes import DocumentType, Environment, EventCode, PaymentMeans
from dian.ubl import parse_document
from radian.actions import RecordPayment, Register
from radian.sync import Notice, sync_receivables
from radian.watch import WatchPlan
from store.models import (
    AlertKind,
    DocumentEvent,
    JobRun,
    MailKind,
    OutboundDocument,
    OutboundState,
    OutgoingMail,
    Role,
    TitleAlert,
    TitleRole,
    TitleState,
    User,
    ValueTitle,
)
from tests.integration.dian_fixtures import BUYER
from tests.integration.titles_fixtures import TitlesBed

pytestmark = pytest.mark.integration


def _ago(**delta: float) -> dt.datetime:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(**delta)).replace(microsecond=0)


def _issued(bed: TitlesBed, at: dt.datetime) -> tuple[int, bytes]:
    """An invoice Buzón issued itself (DIAN accepted it): an outbound row with no title yet."""
    invoice, _ = bed.our_invoice(at=at)
    doc = parse_document(invoice)
    with bed.sessions() as s:
        row = OutboundDocument(document_type=DocumentType.INVOICE, environment=Environment.TESTING, number=doc.number,
                               cufe=doc.uuid.lower(), buyer_nit=BUYER.nit, buyer_name=BUYER.registration_name or "",
                               issued_at=at, payable_amount=doc.monetary_total.payable, state=OutboundState.ACCEPTED,
                               xml_blob=bed.runtime.blobs.put(invoice), payment_means=PaymentMeans.CREDIT,
                               due_date=doc.due_date, issue_date=doc.issue_date, signed_at=at)  # fmt: skip
        s.add(row)
        s.commit()
        return row.id, invoice


def _events(bed: TitlesBed, title_id: int) -> list[str]:
    return [e.code.value for e in bed.titles.chain(title_id)]


def _due_all(bed: TitlesBed) -> None:
    with bed.sessions() as s:
        s.execute(sa.update(ValueTitle).values(next_watch_at=_ago(seconds=1)))
        s.commit()


def test_the_sync_job_learns_what_buyers_did_on_our_invoices(titles_bed: TitlesBed) -> None:
    bed = titles_bed
    at = _ago(hours=3)
    quiet, _ = bed.imported_title(at=at, accepted=False)
    accepted, accepted_xml = bed.imported_title(at=at, accepted=False)
    claimed, claimed_xml = bed.imported_title(at=at, accepted=False)
    paid, _ = bed.imported_title(at=at)  # accepted, learned by the service's sync; then paid in total below
    outbound_id, issued_xml = _issued(bed, at)
    assert bed.titles.act(paid, Register(), actor="t", deliver=True, now=_ago(hours=1)).state == "registered"
    assert bed.titles.act(paid, RecordPayment(), actor="t", deliver=True, now=_ago(minutes=30)).state == "registered"
    assert bed.title(paid).state is TitleState.PAID

    later = at + dt.timedelta(hours=1)
    bed.buyer_sends(accepted_xml, EventCode.ACUSE_RECIBO, EventCode.RECIBO_BIEN, EventCode.ACEPTACION_EXPRESA, at=later)
    bed.buyer_sends(issued_xml, EventCode.ACUSE_RECIBO, at=later)
    bed.buyer_sends(claimed_xml, EventCode.ACUSE_RECIBO, EventCode.RECIBO_BIEN, at=later)
    claim = bed.counterpart("claim", parse_document(claimed_xml).uuid.lower(), at=later + dt.timedelta(minutes=5))
    assert claim["registered"], claim
    with bed.sessions() as s:
        s.add(User(username="tesoreria", email="tesoreria@proveedor.test", role=Role.TREASURY))
        s.commit()

    done = jobs.JOBS["title_sync"]()
    assert done["outcome"] == "ok", done
    summary = done["summary"]
    # Four titles due (the paid one is not), one of them enrolled from the issued invoice; 3 + 1 + 3 events learned.
    assert (summary["enrolled"], summary["asked"], summary["synced"]) == (1, 4, 3), summary
    assert (summary["observed"], summary["claims"], summary["unchanged"], summary["failed"]) == (7, 1, 1, 0), summary
    with bed.sessions() as s:
        issued = s.execute(sa.select(ValueTitle).where(ValueTitle.outbound_document_id == outbound_id)).scalar_one()
        assert (issued.role, issued.state, issued.next_watch_at is not None) == (
            TitleRole.HOLDER, TitleState.UNREGISTERED, True)  # fmt: skip
        issued_id = issued.id
        assert s.execute(sa.select(sa.func.count()).select_from(JobRun).where(JobRun.job_id == "title_sync")).scalar()
    assert _events(bed, accepted) == ["030", "032", "033"]
    assert _events(bed, issued_id) == ["030"]
    assert _events(bed, claimed) == ["030", "032", "031"]
    assert _events(bed, quiet) == []
    # Now the accepted one may be registered: the rules saw the buyer's 033 the job recorded.
    assert bed.titles.check(accepted, Register()).allowed

    with bed.sessions() as s:
        alerts = list(s.execute(sa.select(TitleAlert).where(TitleAlert.kind == AlertKind.CLAIMED)).scalars())
        assert [(a.title_id, a.from_nit) for a in alerts] == [(claimed, BUYER.nit)]
        assert "reclamo (031)" in alerts[0].message and "no podrá circular como título valor" in alerts[0].message
        assert "por $ 119.000,00:" in alerts[0].message, alerts[0].message  # Colombian format, as the pages write it
        mails = list(s.execute(sa.select(OutgoingMail).where(OutgoingMail.kind == MailKind.TITLE_ALERT)).scalars())
        assert [m.to_address for m in mails] == ["tesoreria@proveedor.test"]  # treasury; no billing address set

    # Right away nothing is due; made due again, DIAN lists nothing new: only re-scheduled, nothing written.
    assert jobs.JOBS["title_sync"]()["summary"]["asked"] == 0
    events_before = bed.count(DocumentEvent)
    _due_all(bed)
    again = jobs.JOBS["title_sync"]()["summary"]
    assert (again["asked"], again["unchanged"], again["synced"], again["observed"]) == (4, 4, 0, 0), again
    assert bed.count(DocumentEvent) == events_before


@pytest.mark.parametrize("titles_bed", ["sqlite"], indirect=True)
def test_a_claim_is_mailed_to_treasury_and_billing_within_the_rate(titles_bed: TitlesBed) -> None:
    bed = titles_bed
    at = _ago(hours=3)
    for _ in range(2):
        bed.imported_title(at=at, accepted=False)
    claimed, claimed_xml = bed.imported_title(at=at, accepted=False)
    bed.buyer_sends(claimed_xml, EventCode.ACUSE_RECIBO, EventCode.RECIBO_BIEN, at=at + dt.timedelta(hours=1))
    claim = bed.counterpart("claim", parse_document(claimed_xml).uuid.lower(), at=at + dt.timedelta(hours=2))
    assert claim["registered"], claim
    with bed.sessions() as s:
        s.add_all([User(username="tesoreria", email="tesoreria@proveedor.test", role=Role.TREASURY),
                   User(username="ana", email="ana@proveedor.test", role=Role.CLERK)])  # fmt: skip
        s.commit()
    plan = WatchPlan(rate_per_second=4.0, concurrency=2)
    notice = Notice("buzon@proveedor.test", ("facturacion@proveedor.test",))
    report = sync_receivables(bed.sessions, bed.runtime.ctx, bed.runtime.dian_client, plan, notice=notice)
    assert (report.asked, report.synced, report.claims, report.failed) == (3, 1, 1, 0), report
    assert report.seconds >= 2 / 4.0  # three GetStatusEvent calls at most 4 a second: two slots apart at least
    with bed.sessions() as s:
        mails = list(s.execute(sa.select(OutgoingMail).order_by(OutgoingMail.to_address)).scalars())
    assert [m.to_address for m in mails] == ["facturacion@proveedor.test", "tesoreria@proveedor.test"]
    assert all(m.subject.startswith("Reclamo del comprador: factura ") for m in mails)
    # Raised once: a later sync of the same title (by hand) adds no alert and no mail.
    assert bed.titles.sync(claimed, actor="t").error is None
    assert (bed.count(TitleAlert), bed.count(OutgoingMail)) == (1, 2)


@pytest.mark.parametrize("titles_bed", ["sqlite"], indirect=True)
def test_dian_unreachable_backs_off(titles_bed: TitlesBed) -> None:
    bed = titles_bed
    title_id, _ = bed.imported_title(at=_ago(hours=3), accepted=False)
    fault = requests.post(
        f"{bed.world.server.base_url}/_sim/faults",
        json={"operation": "GetStatusEvent", "kind": "http500", "count": None},
        timeout=5,
    )
    assert fault.status_code in (200, 201), fault.text
    report = sync_receivables(bed.sessions, bed.runtime.ctx, bed.runtime.dian_client, WatchPlan(rate_per_second=50))
    assert (report.asked, report.failed, report.synced) == (1, 1, 0) and report.errors, report
    row = bed.title(title_id)
    assert row.watch_failures == 1 and row.watch_error and row.next_watch_at > dt.datetime.now(dt.UTC)
    assert row.next_watch_at <= dt.datetime.now(dt.UTC) + dt.timedelta(minutes=11)  # the first retry, not an hour
