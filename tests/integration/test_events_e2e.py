"""Events 030-034 end to end: supplier mail read from Dovecot, events signed and registered by the DIAN simulator over
HTTP, notices mailed to the supplier through a real SMTP server, the clock, the sync and the policy jobs — on SQLite
and on PostgreSQL, through the same job functions the scheduler runs."""

from __future__ import annotations

import datetime as dt
import io
import time
import zipfile

import pytest
import sqlalchemy as sa

from buzon import jobs
from dian.calendar import BOGOTA
from dian.codes import ClaimReason, DocumentState, EventCode, PaymentMeans
from dian.soap.packaging import document_file_name
from dian.ubl import AttachedDocument, Person, parse_document
from events.emit import EventRefused
from store.models import (
    AuditEntry,
    DeliveryState,
    Direction,
    JobRun,
    MailKind,
    OutgoingMail,
    Role,
    SubmissionState,
    User,
)
from tests.integration.dian_fixtures import BUYER_NIT, SELLER_NIT
from tests.integration.events_fixtures import SUPPLIER_MAILBOX, EventsBed, days_ago
from tests.integration.inbox_fixtures import append, mail

pytestmark = pytest.mark.integration


def _registered_at_simulator(bed: EventsBed, cufe: str) -> list[tuple[str, str]]:
    rows = bed.world.simulator.store.all("SELECT code, cude FROM event WHERE invoice_key = ? ORDER BY code", cufe)
    return [(r["code"], r["cude"]) for r in rows]


def _audit(bed: EventsBed, action: str) -> list[AuditEntry]:
    with bed.sessions() as s:
        return list(s.execute(sa.select(AuditEntry).where(AuditEntry.action == action)).scalars())


def test_a_credit_invoice_goes_030_032_033_and_the_supplier_gets_each_event(events_bed: EventsBed) -> None:
    bed = events_bed
    doc_id = bed.receive(at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=2))
    assert bed.document(doc_id).state is DocumentState.VALIDATED

    receiver = Person(id="79111222", first_name="Carlos", family_name="Rojas", job_title="Jefe de bodega",
                      department="Logística")  # fmt: skip
    for code, request in (
        (EventCode.ACUSE_RECIBO, {}),  # the configured person signs
        (EventCode.RECIBO_BIEN, {"person": receiver}),
        (EventCode.ACEPTACION_EXPRESA, {}),
    ):
        queued = bed.send(doc_id, code, **request)
        assert queued.submission_state is SubmissionState.SIGNED
        summary = bed.deliver()
        assert summary["events"]["registered"] == 1, summary
        assert summary["mail"]["sent"] == 1, summary
        running = bed.document(doc_id)  # the inbox's "nearest deadline first" sorts on the window while it runs
        if code is EventCode.RECIBO_BIEN:
            assert running.open_window_ends_at == running.window_ends_at is not None
        else:
            assert running.open_window_ends_at is None

    doc = bed.document(doc_id)
    events = bed.events(doc_id)
    assert [(e.code, e.submission_state) for e in events] == [
        (EventCode.ACUSE_RECIBO, SubmissionState.REGISTERED),
        (EventCode.RECIBO_BIEN, SubmissionState.REGISTERED),
        (EventCode.ACEPTACION_EXPRESA, SubmissionState.REGISTERED),
    ]
    assert doc.state is DocumentState.ACCEPTED
    # The window: end of the third business day after the 032's signing date, Bogota.
    assert doc.window_ends_at == bed.runtime.ctx.calendar.window_end(events[1].signing_time)
    # DIAN holds exactly our three events, under our CUDEs.
    assert _registered_at_simulator(bed, doc.cufe) == [(e.code.value, e.cude) for e in events]
    assert events[0].person["id"] == "1020304050" and events[1].person["first_name"] == "Carlos"

    # The supplier's mailbox got one mail per event, as dian-facts.md 4.2 describes.
    messages = bed.smtp.handler.wait_for(3)
    assert len(messages) == 3
    for (sender, recipients, message), event in zip(messages, events, strict=True):
        assert recipients == [SUPPLIER_MAILBOX]  # from DIAN's list (GetExchangeEmails): the invoice has no e-mail
        assert sender == "recepcion@compradora.test"
        assert message["Subject"] == (
            f"Evento;{doc.number};{BUYER_NIT};EMPRESA COMPRADORA S.A.S.;{event.number};{event.code.value}"
        )
        (attachment,) = [p for p in message.walk() if p.get_filename()]
        with zipfile.ZipFile(io.BytesIO(attachment.get_payload(decode=True))) as archive:
            (name,) = archive.namelist()
            container = archive.read(name)
            stamp = archive.getinfo(name).date_time
        assert name == document_file_name("ad", BUYER_NIT, year=event.signing_time.year, consecutive=event.id)
        parsed = parse_document(container)
        assert isinstance(parsed, AttachedDocument)
        # The member is dated as the container says it was issued (Bogotá; a zip keeps even seconds).
        issued = parsed.issued_at.astimezone(BOGOTA).replace(tzinfo=None)
        assert stamp == (*issued.timetuple()[:5], issued.second // 2 * 2), (stamp, issued)
        ours = bed.runtime.ctx.blobs.get(event.signed_xml_blob)
        answer = bed.runtime.ctx.blobs.get(event.dian_response_blob)
        assert ours in container and answer in container  # verbatim, in CDATA
        dian_answer = parse_document(answer)
        assert dian_answer.response_code == "02" and dian_answer.document_reference.uuid == event.cude
    with bed.sessions() as s:
        rows = list(s.execute(sa.select(OutgoingMail).order_by(OutgoingMail.id)).scalars())
    assert [(r.kind, r.state) for r in rows] == [(MailKind.EVENT_NOTICE, DeliveryState.SENT)] * 3
    # Every step is in the audit log.
    for code in ("030", "032", "033"):
        assert len(_audit(bed, f"event.{code}.signed")) == 1
        assert len(_audit(bed, f"event.{code}.registered")) == 1
        assert len(_audit(bed, f"event.{code}.notice_queued")) == 1
    assert len(_audit(bed, "mail.event_notice.sent")) == 3


def _received_goods_long_ago(bed: EventsBed, days: float = 10) -> tuple[int, dt.datetime]:
    issued = days_ago(days)
    doc_id = bed.receive(at=issued)
    bed.send(doc_id, EventCode.ACUSE_RECIBO, at=issued + dt.timedelta(hours=1))
    bed.send(doc_id, EventCode.RECIBO_BIEN, at=issued + dt.timedelta(hours=2))
    summary = bed.deliver()
    assert summary["events"]["registered"] == 2, summary
    return doc_id, issued


def test_a_claim_after_the_window_is_refused_here_and_forced_through_dian_refuses_it(events_bed: EventsBed) -> None:
    bed = events_bed
    doc_id, _ = _received_goods_long_ago(bed)
    with pytest.raises(EventRefused) as refused:
        bed.send(doc_id, EventCode.RECLAMO, claim_reason=ClaimReason.NOT_DELIVERED_TOTALLY, note="No llegó")
    assert "venció" in refused.value.reason and "días hábiles" in refused.value.reason
    assert refused.value.rule == "DC24z"
    assert [e.code for e in bed.events(doc_id)] == [EventCode.ACUSE_RECIBO, EventCode.RECIBO_BIEN]  # nothing queued

    forced = bed.send(doc_id, EventCode.RECLAMO, claim_reason=ClaimReason.NOT_DELIVERED_TOTALLY, note="No llegó",
                      force=True)  # fmt: skip
    assert forced.submission_state is SubmissionState.SIGNED
    summary = bed.deliver()
    assert summary["events"]["rejected"] == 1, summary
    claim = bed.events(doc_id)[-1]
    assert claim.submission_state is SubmissionState.REJECTED
    assert any("DC24z" in message for message in claim.dian_messages), claim.dian_messages
    assert bed.document(doc_id).state is DocumentState.GOODS_RECEIVED
    assert len(_audit(bed, "event.031.rejected")) == 1
    assert bed.smtp.messages[2:] == []  # a rejected event is not mailed (the two registered ones were)


def test_dian_unreachable_for_a_while_then_every_queued_event_registers_once(events_bed: EventsBed) -> None:
    bed = events_bed
    now = dt.datetime.now(dt.UTC)
    docs = [bed.receive(at=now - dt.timedelta(hours=3, minutes=i)) for i in range(3)]
    for doc_id in docs:
        bed.send(doc_id, EventCode.ACUSE_RECIBO)
    bed.world.simulator.faults.add("SendEventUpdateStatus", "http503", count=None)
    first = bed.deliver()
    assert first["events"] == {"registered": 0, "rejected": 0, "retrying": 3, "waiting": 0}
    for doc_id in docs:
        (event,) = bed.events(doc_id)
        assert event.submission_state is SubmissionState.SEND_FAILED
        # The clerk's words, written by the outbox from the error's status; the client's English in the audit.
        assert event.last_error == "el servicio de la DIAN respondió HTTP 503 (servicio no disponible)"
        assert event.attempts == 1
    causes = [entry.data["cause"] for entry in _audit(bed, "event.030.send_failed")]
    assert len(causes) == 3 and all("HTTP 503" in cause for cause in causes), causes
    bed.due_at(now + dt.timedelta(hours=1))
    nothing = {"registered": 0, "rejected": 0, "retrying": 0, "waiting": 0}
    assert bed.deliver()["events"] == nothing  # nothing is due before its backoff ends
    bed.world.simulator.faults.clear()
    bed.due_at(dt.datetime.now(dt.UTC))
    second = bed.deliver()
    assert second["events"]["registered"] == 3, second
    for doc_id in docs:
        doc = bed.document(doc_id)
        (event,) = bed.events(doc_id)
        assert event.submission_state is SubmissionState.REGISTERED and event.attempts == 2
        assert _registered_at_simulator(bed, doc.cufe) == [("030", event.cude)]
        assert doc.state is DocumentState.ACKNOWLEDGED
    assert bed.deliver()["events"] == nothing


def test_commit_then_drop_the_response_ends_registered_without_a_duplicate(events_bed: EventsBed) -> None:
    bed = events_bed
    doc_id = bed.receive(at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    bed.send(doc_id, EventCode.ACUSE_RECIBO)
    bed.world.simulator.faults.add("SendEventUpdateStatus", "drop")  # DIAN registers it, the answer is lost
    assert bed.deliver()["events"]["retrying"] == 1
    (event,) = bed.events(doc_id)
    assert event.submission_state is SubmissionState.SEND_FAILED
    doc = bed.document(doc_id)
    assert _registered_at_simulator(bed, doc.cufe) == [("030", event.cude)]  # DIAN has it already
    bed.due_at(dt.datetime.now(dt.UTC))
    assert bed.deliver()["events"]["registered"] == 1
    (event,) = bed.events(doc_id)
    assert event.submission_state is SubmissionState.REGISTERED
    assert event.dian_response_blob is not None  # DIAN's original answer, carried by the Regla 90 reply
    assert _registered_at_simulator(bed, doc.cufe) == [("030", event.cude)]
    (registered,) = _audit(bed, "event.030.registered")
    assert "Regla 90" in registered.data["via"]
    assert bed.document(doc_id).state is DocumentState.ACKNOWLEDGED
    assert len(bed.smtp.handler.wait_for(1)) == 1  # the supplier hears of it once


def test_the_sellers_034_is_picked_up_by_the_sync_and_the_invoice_becomes_tacitly_accepted(
    events_bed: EventsBed,
) -> None:
    bed = events_bed
    doc_id, _ = _received_goods_long_ago(bed)
    doc = bed.document(doc_id)
    tacit = bed.world.event(EventCode.ACEPTACION_TACITA, bed.invoices[doc.cufe], sender="seller")
    seller = bed.world.client(bed.world.seller)
    assert seller.send_event_update_status(f"ar{SELLER_NIT}.xml", tacit).accepted

    result = jobs.sync_events()
    assert result["outcome"] == "ok", result
    assert result["summary"]["observed"] == 1, result
    doc = bed.document(doc_id)
    assert doc.state is DocumentState.TACITLY_ACCEPTED
    observed = bed.events(doc_id)[-1]
    assert (observed.code, observed.direction, observed.submission_state) == (
        EventCode.ACEPTACION_TACITA, Direction.OBSERVED, SubmissionState.REGISTERED)  # fmt: skip
    assert observed.sender_nit == SELLER_NIT and observed.number  # read from the event's own XML at DIAN
    assert observed.signed_xml_blob is not None
    assert doc.events_synced_at is not None
    # A second sync within the interval asks nothing; nothing is recorded twice.
    again = jobs.sync_events()
    assert again["summary"]["observed"] == 0 and len(bed.events(doc_id)) == 3


def test_the_auto_acknowledge_job_acknowledges_valid_documents_only_and_once(events_bed: EventsBed) -> None:
    bed = events_bed
    now = dt.datetime.now(dt.UTC)
    valid = bed.receive(at=now - dt.timedelta(hours=2))
    # A bare invoice, mailed without DIAN's answer (and no online check): filed "sin confirmar" (DESIGN.md 5a).
    bare = bed.world.invoice(at=now - dt.timedelta(hours=2))
    bed.world.simulator.validate(bare)
    append(bed.dovecot, bed.folder, mail(("factura.xml", bare), subject=f"{SELLER_NIT};P;X;01;P"))
    assert jobs.poll_mailbox()["summary"]["filed"] == 1
    warned = bed.document_id(parse_document(bare).uuid)
    assert bed.document(valid).verdict.value == "valid"
    assert bed.document(warned).verdict.value == "unconfirmed"

    off = jobs.auto_acknowledge()
    assert off["summary"] == {"mode": "off"}
    bed.with_scheduler(auto_acknowledge="valid")
    first = jobs.auto_acknowledge()
    assert first["summary"]["emitted"] == 1, first
    assert jobs.auto_acknowledge()["summary"]["emitted"] == 0  # the 030 is queued: not again
    bed.deliver()
    assert jobs.auto_acknowledge()["summary"]["emitted"] == 0  # registered: not again
    (event,) = bed.events(valid)
    assert (event.code, event.submission_state, event.actor) == (
        EventCode.ACUSE_RECIBO, SubmissionState.REGISTERED, "job:auto_acknowledge")  # fmt: skip
    assert bed.events(warned) == []
    with bed.sessions() as s:
        runs = s.execute(sa.select(JobRun.outcome).where(JobRun.job_id == "auto_acknowledge")).scalars().all()
    assert runs == ["ok"] * 4


def test_listed_suppliers_only_and_services_get_their_032(events_bed: EventsBed) -> None:
    bed = events_bed
    doc_id = bed.receive(at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=2))
    bed.with_scheduler(auto_acknowledge="valid_listed", auto_acknowledge_suppliers=("811222333",))
    assert jobs.auto_acknowledge()["summary"]["emitted"] == 0  # the seller is not listed
    bed.with_scheduler(auto_acknowledge_suppliers=(SELLER_NIT,), auto_receipt_suppliers=(SELLER_NIT,))
    assert jobs.auto_acknowledge()["summary"]["emitted"] == 1
    assert jobs.auto_receipt()["summary"]["emitted"] == 1  # 032 queued behind the 030
    first = bed.deliver()
    assert first["events"]["registered"] == 2, first  # in order: 030 then 032
    assert bed.document(doc_id).state is DocumentState.GOODS_RECEIVED
    assert jobs.auto_receipt()["summary"]["emitted"] == 0


def test_deadlines_close_ended_windows_and_remind_the_assigned_clerk(events_bed: EventsBed) -> None:
    bed = events_bed
    ended, _ = _received_goods_long_ago(bed)
    open_id = bed.receive(at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=3))
    bed.send(open_id, EventCode.ACUSE_RECIBO)
    bed.send(open_id, EventCode.RECIBO_BIEN)
    bed.deliver()
    with bed.sessions() as s:
        s.add(User(username="lucia", email="lucia@compradora.test", role=Role.CLERK))
        s.get(type(bed.document(open_id)), open_id).assigned_to = "lucia"
        s.commit()
    bed.smtp.handler.messages.clear()
    # Every open window is within 100 business hours of its end.
    bed.with_scheduler(reminder_business_hours=100)
    result = jobs.deadlines()
    assert result["summary"] == {"closed": 1, "reminded": 1, "without_address": 0}, result
    assert bed.document(ended).window_closed_at is not None
    assert bed.document(open_id).window_closed_at is None
    assert bed.document(ended).open_window_ends_at is None  # a lapsed window leaves the top of the inbox's sort
    assert bed.document(open_id).open_window_ends_at == bed.document(open_id).window_ends_at is not None
    assert len(_audit(bed, "document.window.closed")) == 1
    assert jobs.deadlines()["summary"] == {"closed": 0, "reminded": 0, "without_address": 0}  # once
    bed.deliver()
    (reminder,) = bed.smtp.handler.wait_for(1)
    assert reminder[1] == ["lucia@compradora.test"]
    assert "Plazo por vencer" in reminder[2]["Subject"]
    (body,) = [p for p in reminder[2].walk() if p.get_content_type() == "text/plain"]
    assert "aceptada tácitamente" in body.get_payload(decode=True).decode(body.get_content_charset())


def test_payment_in_cash_gets_030_and_032_but_no_acceptance(events_bed: EventsBed) -> None:
    bed = events_bed
    doc_id = bed.receive(at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=2), payment=PaymentMeans.CASH)
    bed.send(doc_id, EventCode.ACUSE_RECIBO)
    bed.send(doc_id, EventCode.RECIBO_BIEN)
    with pytest.raises(EventRefused) as refused:
        bed.send(doc_id, EventCode.ACEPTACION_EXPRESA)
    assert refused.value.rule == "LGC62" and "contado" in refused.value.reason
    assert bed.deliver()["events"]["registered"] == 2


class _TamperedAnswers:
    """DIAN's client whose SendEventUpdateStatus answers arrive altered after DIAN signed them."""

    def __init__(self, client) -> None:
        self.client = client

    def __getattr__(self, name: str):
        return getattr(self.client, name)

    def send_event_update_status(self, *args, **kwargs):
        import dataclasses

        response = self.client.send_event_update_status(*args, **kwargs)
        assert response.xml and b"<cbc:Description>" in response.xml
        altered = response.xml.replace(b"<cbc:Description>", b"<cbc:Description>X", 1)
        return dataclasses.replace(response, xml=altered)


def test_an_answer_that_is_not_dianss_registers_nothing_until_a_trusted_one_confirms(events_bed: EventsBed) -> None:
    """A forged DIAN answer (altered after signing) is refused; the event stays queued and Regla 90 confirms it."""
    from events.outbox import deliver_events

    bed = events_bed
    doc_id = bed.receive(at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    bed.send(doc_id, EventCode.ACUSE_RECIBO)
    report = deliver_events(bed.sessions, bed.runtime.ctx, _TamperedAnswers(bed.runtime.client))
    assert report.registered == [] and len(report.retrying) == 1
    (event,) = bed.events(doc_id)
    assert event.submission_state is SubmissionState.SEND_FAILED
    assert event.last_error.startswith("respuesta de la DIAN rechazada: ") and "no verifica" in event.last_error
    assert bed.document(doc_id).state is DocumentState.VALIDATED
    bed.due_at(dt.datetime.now(dt.UTC))
    assert bed.deliver()["events"]["registered"] == 1  # the trusted answer, through Regla 90
    (event,) = bed.events(doc_id)
    assert event.submission_state is SubmissionState.REGISTERED


def test_the_sellers_034_mailed_to_us_makes_the_invoice_tacitly_accepted_at_intake(events_bed: EventsBed) -> None:
    from dian.codes import Environment
    from dian.ubl.build import AttachedDraft, build_attached_document
    from tests.integration.dian_fixtures import BUYER, SELLER
    from tests.integration.inbox_fixtures import zip_bytes

    bed = events_bed
    doc_id, _ = _received_goods_long_ago(bed)
    doc = bed.document(doc_id)
    tacit = bed.world.event(EventCode.ACEPTACION_TACITA, bed.invoices[doc.cufe], sender="seller")
    answer = bed.world.client(bed.world.seller).send_event_update_status(f"ar{SELLER_NIT}.xml", tacit)
    parsed = parse_document(tacit)
    local = dt.datetime.now(BOGOTA)
    container = build_attached_document(
        AttachedDraft(
            id=f"AD{parsed.id}", issue_date=local.date(), issue_time=local.strftime("%H:%M:%S-05:00"),
            environment=Environment.TESTING, sender=SELLER, receiver=BUYER, parent_document_id=parsed.id,
            document_xml=tacit, dian_response_xml=answer.xml, reference_uuid=parsed.uuid,
            reference_uuid_scheme="CUDE-SHA384", reference_issue_date=parsed.issue_date,
            validation_date=local.date(), validation_time=local.strftime("%H:%M:%S-05:00"), signed=False,
        )
    )  # fmt: skip
    subject = f"Evento;{doc.number};{SELLER_NIT};PROVEEDOR DE PRUEBA S.A.S.;{parsed.id};034"
    append(bed.dovecot, bed.folder, mail(("evento.zip", zip_bytes(("ad034.xml", container))), subject=subject))
    polled = jobs.poll_mailbox()
    assert polled["outcome"] == "ok" and polled["summary"]["filed"] == 0, polled
    observed = bed.events(doc_id)[-1]
    assert (observed.code, observed.direction, observed.submission_state) == (
        EventCode.ACEPTACION_TACITA, Direction.OBSERVED, SubmissionState.REGISTERED)  # fmt: skip
    assert bed.document(doc_id).state is DocumentState.TACITLY_ACCEPTED


def _event_issued_on(bed: EventsBed, code: EventCode, invoice: bytes, *, signed_at: dt.datetime,
                     issued_on: dt.datetime) -> bytes:  # fmt: skip
    """The buyer's event whose IssueDate/IssueTime say ``issued_on`` while its xades:SigningTime says ``signed_at``."""
    from dian.codes import Environment
    from dian.ubl.build import EventDraft, build_event
    from dian.xades import sign
    from tests.integration.dian_fixtures import BUYER, BUYER_SW, SELLER

    local = issued_on.astimezone(BOGOTA)
    doc = parse_document(invoice)
    draft = EventDraft(
        code=code, number=f"EV{code.value}{bed.world.number()}", issue_date=local.date(),
        issue_time=local.strftime("%H:%M:%S") + "-05:00", environment=Environment.TESTING, sender=BUYER,
        receiver=SELLER, invoice_number=doc.number, invoice_cufe=doc.uuid,
        person=Person(id="1020304050", first_name="Ana", family_name="Pérez"),
    )  # fmt: skip
    return sign(build_event(draft, software=BUYER_SW), bed.world.buyer, signing_time=signed_at)


def test_an_observed_032_is_timed_by_its_signing_time_and_the_window_runs_from_it(events_bed: EventsBed) -> None:
    """The 032 DIAN lists was signed at T1 but says IssueDate five days later: the claim window ends 3 business days
    after T1 (dian-facts 2.2), neither after its IssueDate nor after the sync."""

    bed = events_bed
    issued = days_ago(12)
    doc_id = bed.receive(at=issued)
    invoice = bed.invoices[bed.document(doc_id).cufe]
    buyer = bed.world.client(bed.world.buyer)  # registered at DIAN by other software: Buzón never sent these
    acknowledged = bed.world.event(EventCode.ACUSE_RECIBO, invoice, at=issued + dt.timedelta(hours=1))
    assert buyer.send_event_update_status(f"ar{BUYER_NIT}.xml", acknowledged).accepted
    t1 = issued + dt.timedelta(hours=2)
    claimed_day = t1 + dt.timedelta(days=5)
    receipt = _event_issued_on(bed, EventCode.RECIBO_BIEN, invoice, signed_at=t1, issued_on=claimed_day)
    assert buyer.send_event_update_status(f"ar{BUYER_NIT}.xml", receipt).accepted

    result = jobs.sync_events()
    assert result["outcome"] == "ok" and result["summary"]["observed"] == 2, result
    observed = {e.code: e for e in bed.events(doc_id)}
    assert observed[EventCode.RECIBO_BIEN].direction is Direction.OBSERVED
    assert observed[EventCode.RECIBO_BIEN].signing_time == t1
    assert observed[EventCode.ACUSE_RECIBO].signing_time == issued + dt.timedelta(hours=1)
    doc = bed.document(doc_id)
    calendar = bed.runtime.ctx.calendar
    assert doc.state is DocumentState.GOODS_RECEIVED
    assert doc.window_ends_at == calendar.window_end(t1)
    assert doc.window_ends_at.astimezone(BOGOTA).date() == calendar.add_business_days(t1.astimezone(BOGOTA).date(), 3)
    assert doc.window_ends_at != calendar.window_end(claimed_day)
    assert doc.window_ends_at != calendar.window_end(observed[EventCode.RECIBO_BIEN].registered_at)


def test_a_mailed_034_pending_confirmation_is_registered_when_get_status_event_lists_it(events_bed: EventsBed) -> None:
    """The seller's 034 mailed without DIAN's answer waits as observed and pending; GetStatusEvent listing its CUDE
    registers it, and only then is the invoice tacitly accepted."""
    bed = events_bed
    doc_id, _ = _received_goods_long_ago(bed)
    doc = bed.document(doc_id)
    tacit = bed.world.event(EventCode.ACEPTACION_TACITA, bed.invoices[doc.cufe], sender="seller")
    parsed = parse_document(tacit)
    subject = f"Evento;{doc.number};{SELLER_NIT};PROVEEDOR DE PRUEBA S.A.S.;{parsed.id};034"
    append(bed.dovecot, bed.folder, mail(("evento034.xml", tacit), subject=subject))
    polled = jobs.poll_mailbox()
    assert polled["outcome"] == "ok", polled
    pending = bed.events(doc_id)[-1]
    assert (pending.code, pending.direction, pending.submission_state) == (
        EventCode.ACEPTACION_TACITA, Direction.OBSERVED, SubmissionState.SENT)  # fmt: skip
    assert bed.document(doc_id).state is DocumentState.GOODS_RECEIVED  # mail is not DIAN's word

    assert jobs.sync_events()["summary"]["confirmed"] == 0  # DIAN does not list it yet
    assert bed.events(doc_id)[-1].submission_state is SubmissionState.SENT
    assert bed.world.client(bed.world.seller).send_event_update_status(f"ar{SELLER_NIT}.xml", tacit).accepted
    bed.with_scheduler(sync_interval=1)
    time.sleep(1.1)
    result = jobs.sync_events()
    assert result["summary"]["confirmed"] == 1 and result["summary"]["observed"] == 0, result
    registered = bed.events(doc_id)[-1]
    assert registered.id == pending.id and registered.submission_state is SubmissionState.REGISTERED
    assert bed.document(doc_id).state is DocumentState.TACITLY_ACCEPTED
    assert len(_audit(bed, "event.034.registered")) == 1


def test_the_sync_covers_an_unconfirmed_invoice(events_bed: EventsBed) -> None:
    """A bare invoice filed "sin confirmar" is still asked about: the 030 DIAN lists on it is recorded."""
    bed = events_bed
    at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)
    bare = bed.world.invoice(at=at)
    bed.world.simulator.validate(bare)
    append(bed.dovecot, bed.folder, mail(("factura.xml", bare), subject=f"{SELLER_NIT};P;X;01;P"))
    assert jobs.poll_mailbox()["summary"]["filed"] == 1
    doc_id = bed.document_id(parse_document(bare).uuid)
    assert bed.document(doc_id).state is DocumentState.UNCONFIRMED
    acknowledged = bed.world.event(EventCode.ACUSE_RECIBO, bare, at=at + dt.timedelta(hours=1))
    assert bed.world.client(bed.world.buyer).send_event_update_status(f"ar{BUYER_NIT}.xml", acknowledged).accepted
    result = jobs.sync_events()
    assert result["summary"]["observed"] == 1, result
    assert bed.document(doc_id).state is DocumentState.ACKNOWLEDGED
