"""Four-eyes (issue 20) end to end on SQLite and PostgreSQL: supplier mail from Dovecot, events to the DIAN simulator
over HTTP. A 031/033 above the threshold is held as a pending approval by every path that signs events (one request,
the bulk/policy batch, the CLI), the requester cannot approve it, another clerk approves it and it is registered;
a refusal needs a reason; everything is audited; a request whose window is about to end is flagged, and expired
once it ended.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from email.header import decode_header, make_header

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from buzon import jobs
from buzon.config import ApprovalSettings
from dian.calendar import BOGOTA, BusinessCalendar
from dian.codes import ClaimReason, EventCode
from events import approvals
from events.approvals import ApprovalError
from events.emit import ApprovalPending, EventRefused, EventRequest, emit_and_commit
from events.service import EventService
from store.models import Approval, ApprovalState, AuditEntry, DocumentEvent, ReceivedDocument, Role, SubmissionState
from tests.integration.events_fixtures import EventsBed, days_ago
from tests.integration.events_fixtures import events_bed as events_bed  # the fixture, re-exported
from tests.web.conftest import PASSWORD, password_hash
from web.auth import create_user

pytestmark = pytest.mark.integration


def four_eyes(bed: EventsBed, **changes) -> None:
    """Turn four-eyes on for the bed's runtime (the jobs and the CLI read the same settings)."""
    settings = dataclasses.replace(bed.settings, approvals=ApprovalSettings(enabled=True, **changes))
    bed.settings = settings
    bed.runtime = jobs.configure(settings, engine=bed.runtime.engine)


def users(bed: EventsBed) -> None:
    with bed.sessions() as s:
        for name, role in (("ana", Role.CLERK), ("beto", Role.CLERK), ("tere", Role.TREASURY)):
            create_user(s, name, role=role, password=PASSWORD, password_hash=password_hash(PASSWORD), actor="test",
                        id_type="13", id_number="52111222", first_name=name.title(), family_name="Prueba",
                        email=f"{name}@compradora.test")  # fmt: skip
        s.commit()


def received(bed: EventsBed, days: float = 1) -> int:
    """An invoice with its 030 and 032 registered (the claim window open)."""
    issued = days_ago(days)
    doc_id = bed.receive(at=issued)
    bed.send(doc_id, EventCode.ACUSE_RECIBO)
    bed.send(doc_id, EventCode.RECIBO_BIEN)
    assert bed.deliver()["events"]["registered"] == 2
    return doc_id


def service(bed: EventsBed) -> EventService:
    return bed.runtime.event_service(bed.sessions)


def audit(bed: EventsBed, action: str) -> list[AuditEntry]:
    with bed.sessions() as s:
        return list(s.execute(sa.select(AuditEntry).where(AuditEntry.action == action)).scalars())


def approval(bed: EventsBed, approval_id: int) -> Approval:
    with bed.sessions() as s:
        row = s.get(Approval, approval_id)
        assert row is not None
        s.expunge(row)
        return row


def test_a_claim_above_the_threshold_waits_and_the_second_clerk_gets_it_registered(events_bed: EventsBed) -> None:
    bed = events_bed
    users(bed)
    doc_id = received(bed)
    amount = bed.document(doc_id).payable_amount
    four_eyes(bed, amount_threshold=int(amount), events=("031", "033"))
    claim = EventRequest(EventCode.RECLAMO, claim_reason=ClaimReason.NOT_DELIVERED_TOTALLY, note="Faltan 3 cajas")
    events = service(bed)

    with pytest.raises(ApprovalPending) as held:
        events.emit(doc_id, claim, actor="user:ana")
    assert "Pendiente de aprobación" in held.value.reason and "o más" in held.value.reason
    first = held.value.approval_id
    assert [e.code for e in bed.events(doc_id)] == [EventCode.ACUSE_RECIBO, EventCode.RECIBO_BIEN]  # nothing signed
    row = approval(bed, first)
    assert (row.state, row.requested_by, row.code, row.amount) == (ApprovalState.PENDING, "user:ana",
                                                                   EventCode.RECLAMO, amount)  # fmt: skip
    assert row.action["claim_reason"] == "02" and row.action["note"] == "Faltan 3 cajas"

    # Asking again (here through the batch path bulk and the policy jobs use) points at the same request.
    sent, refused = events.emit_many([(doc_id, claim)], actor="user:ana")
    assert sent == [] and f"n.º {first}" in refused[doc_id] and "Pendiente de aprobación" in refused[doc_id]
    assert len(audit(bed, "approval.requested")) == 1

    # The requester cannot approve it; neither can treasury (not a role that sends 031); nor a stranger.
    for who in ("user:ana", "user:tere", "user:nadie", "cli:root"):
        with pytest.raises(ApprovalError):
            events.approve(first, approver=who)
    assert approval(bed, first).state is ApprovalState.PENDING
    assert len(bed.events(doc_id)) == 2

    emitted = events.approve(first, approver="user:beto")
    row = approval(bed, first)
    assert (row.state, row.decided_by, row.event_id) == (ApprovalState.SENT, "user:beto", emitted.id)
    event = next(e for e in bed.events(doc_id) if e.id == emitted.id)
    assert event.code is EventCode.RECLAMO and event.actor == "user:beto" and event.note == "Faltan 3 cajas"
    assert event.submission_state is SubmissionState.REGISTERED  # delivered to the simulator at once
    registered = bed.world.simulator.store.all("SELECT code FROM event WHERE invoice_key = ?", event.referenced_cufe)
    assert "031" in {r["code"] for r in registered}
    for action in ("approval.requested", "approval.approved", "approval.sent"):
        assert len(audit(bed, action)) == 1, action
    # Decided once: approving again is refused.
    with pytest.raises(ApprovalError, match="ya está aprobada y enviada"):
        events.approve(first, approver="user:beto")


def test_below_the_threshold_nothing_waits_and_a_listed_supplier_waits(events_bed: EventsBed) -> None:
    bed = events_bed
    users(bed)
    doc_id = received(bed)
    doc = bed.document(doc_id)
    above = int(doc.payable_amount) + 1
    four_eyes(bed, amount_threshold=above, events=("033",), suppliers=(f"{doc.issuer_nit}-{doc.issuer_dv or 0}",))
    with pytest.raises(ApprovalPending, match=f"NIT {doc.issuer_nit}"):
        service(bed).emit(doc_id, EventRequest(EventCode.ACEPTACION_EXPRESA), actor="user:ana")
    # The request that waits is refused by another clerk; with the supplier off the list and the amount below the
    # threshold the 033 is signed at once.
    service(bed).refuse(_pending_id(bed, EventCode.ACEPTACION_EXPRESA), approver="user:beto", note="Mal pedido")
    four_eyes(bed, amount_threshold=above, events=("033",))
    emitted = service(bed).emit(doc_id, EventRequest(EventCode.ACEPTACION_EXPRESA), actor="user:ana")
    assert emitted.code is EventCode.ACEPTACION_EXPRESA


def test_a_refusal_needs_a_reason_and_is_audited(events_bed: EventsBed) -> None:
    bed = events_bed
    users(bed)
    doc_id = received(bed)
    four_eyes(bed, events=("033",))  # no threshold, no list: every 033 waits
    events = service(bed)
    with pytest.raises(ApprovalPending) as held:
        events.emit(doc_id, EventRequest(EventCode.ACEPTACION_EXPRESA), actor="user:ana")
    approval_id = held.value.approval_id
    with pytest.raises(ApprovalError, match="motivo"):
        events.refuse(approval_id, approver="user:beto", note="   ")
    with pytest.raises(ApprovalError, match="otra persona"):
        events.refuse(approval_id, approver="user:ana", note="me arrepentí")
    events.refuse(approval_id, approver="user:beto", note="La mercancía llegó incompleta: reclamar, no aceptar.")
    row = approval(bed, approval_id)
    assert (row.state, row.decided_by) == (ApprovalState.REFUSED, "user:beto")
    assert row.decision_note == "La mercancía llegó incompleta: reclamar, no aceptar."
    assert [e.data["note"] for e in audit(bed, "approval.refused")] == [row.decision_note]
    with pytest.raises(ApprovalError):
        events.approve(approval_id, approver="user:beto")
    assert [e.code for e in bed.events(doc_id)] == [EventCode.ACUSE_RECIBO, EventCode.RECIBO_BIEN]


def test_the_cli_and_a_forced_send_cannot_bypass_it(events_bed: EventsBed, tmp_path) -> None:
    bed = events_bed
    users(bed)
    doc_id = received(bed)
    four_eyes(bed, events=("031", "033"))
    cufe = bed.document(doc_id).cufe
    # emit_and_commit is what `buzon event send` calls, force or not.
    with pytest.raises(ApprovalPending):
        emit_and_commit(bed.sessions, bed.runtime.ctx, doc_id, EventRequest(EventCode.ACEPTACION_EXPRESA),
                        actor="cli:root", force=True)  # fmt: skip
    # The command itself, with a configuration file that turns four-eyes on.
    from buzon.cli import main

    config = tmp_path / "buzon-aprobaciones.toml"
    config.write_text(_toml(bed), encoding="utf-8")
    result = CliRunner().invoke(main, ["event", "send", cufe, "031", "--reason", "01", "--config", str(config)])
    assert result.exit_code == 3, result.output
    assert "pending approval" in result.output and "/aprobaciones" in result.output
    with bed.sessions() as s:
        codes = set(s.execute(sa.select(DocumentEvent.code).where(DocumentEvent.document_id == doc_id)).scalars())
        waiting = s.execute(sa.select(Approval.code).where(Approval.state == ApprovalState.PENDING)).scalars().all()
    assert EventCode.RECLAMO not in codes and EventCode.ACEPTACION_EXPRESA not in codes
    assert sorted(c.value for c in waiting) == ["031", "033"]
    # A grant for another subject or event is no grant: a 031 request cannot ride the 033's approval.
    with pytest.raises((ApprovalError, EventRefused)):
        emit_and_commit(bed.sessions, bed.runtime.ctx, doc_id, EventRequest(EventCode.RECLAMO, claim_reason="01"),
                        actor="user:beto", approval=_pending_id(bed, EventCode.ACEPTACION_EXPRESA))  # fmt: skip
    assert _pending_id(bed, EventCode.ACEPTACION_EXPRESA) is not None


def _pending_id(bed: EventsBed, code: EventCode) -> int | None:
    with bed.sessions() as s:
        return s.execute(sa.select(Approval.id).where(Approval.code == code,
                                                      Approval.state == ApprovalState.PENDING)).scalar()  # fmt: skip


def _toml(bed: EventsBed) -> str:
    """The bed's settings as a configuration file, with [approvals] on (the CLI reads a file)."""
    s = bed.settings

    def q(v: object) -> str:
        return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'

    return "\n".join([
        f"data_dir = {q(s.data_dir)}",
        "[database]", f"url = {q(s.database_url)}",
        "[company]", f"nit = {q(s.company.nit)}", f"name = {q(s.company.name)}",
        "[certificate]", f"pkcs12_path = {q(s.certificate.pkcs12_path)}", f"password = {q(s.certificate.password)}",
        "[dian]", 'environment = "simulator"', f"endpoint = {q(s.dian.endpoint)}",
        f"trust_store = {q(s.dian.trust_store)}", f"software_id = {q(s.dian.software_id)}",
        f"software_pin = {q(s.dian.software_pin)}",
        "[events]", f"person_id = {q(s.events.person_id)}", f"person_first_name = {q(s.events.person_first_name)}",
        f"person_family_name = {q(s.events.person_family_name)}",
        "[approvals]", "enabled = true", 'events = ["031", "033"]',
    ]) + "\n"  # fmt: skip


def test_a_request_near_the_end_of_the_window_is_flagged_and_expires_after_it(events_bed: EventsBed) -> None:
    bed = events_bed
    users(bed)
    doc_id = received(bed)
    four_eyes(bed, events=("033",))
    with pytest.raises(ApprovalPending) as held:
        service(bed).emit(doc_id, EventRequest(EventCode.ACEPTACION_EXPRESA), actor="user:ana")
    calendar = BusinessCalendar()
    with bed.sessions() as s:
        row = s.get(Approval, held.value.approval_id)
        end = approvals.window_end(s, row)
    assert end is not None
    last = end.astimezone(dt.UTC)
    day_before = calendar.add_business_days(end.astimezone(BOGOTA).date(), -1)
    flag_from = dt.datetime.combine(day_before, dt.time.min, tzinfo=BOGOTA)
    assert not approvals.at_risk(flag_from - dt.timedelta(minutes=1), end, calendar)
    assert approvals.at_risk(flag_from, end, calendar)
    # Once the window ended, the sweep expires it (audited), and it can no longer be approved.
    with bed.sessions() as s:
        assert approvals.expire(s, last - dt.timedelta(minutes=1)) == []
        assert approvals.expire(s, last + dt.timedelta(seconds=1)) == [held.value.approval_id]
        s.commit()
    assert approval(bed, held.value.approval_id).state is ApprovalState.EXPIRED
    assert len(audit(bed, "approval.expired")) == 1
    with pytest.raises(ApprovalError, match="vencida"):
        service(bed).approve(held.value.approval_id, approver="user:beto")
    with bed.sessions() as s:
        doc = s.get(ReceivedDocument, doc_id)
        assert doc is not None and doc.window_ends_at == end
    assert Decimal(0) <= approval(bed, held.value.approval_id).amount


def test_a_policy_job_cannot_bypass_it(events_bed: EventsBed) -> None:
    from events.policy import auto_receipt
    from tests.integration.dian_fixtures import SELLER_NIT

    bed = events_bed
    doc_id = bed.receive(at=days_ago(1))
    bed.send(doc_id, EventCode.ACUSE_RECIBO)
    bed.deliver()
    four_eyes(bed, events=("032",))
    report = auto_receipt(bed.sessions, bed.runtime.ctx, suppliers=(SELLER_NIT,))
    assert report.emitted == [] and report.refused[doc_id].startswith("Pendiente de aprobación")
    assert [e.code for e in bed.events(doc_id)] == [EventCode.ACUSE_RECIBO]
    assert approval(bed, _pending_id(bed, EventCode.RECIBO_BIEN)).requested_by == "job:auto_receipt"


def received_days_ago(bed: EventsBed, business_days: int) -> int:
    """An invoice whose 032 was signed ``business_days`` business days ago (Bogotá, 10:00)."""
    calendar = BusinessCalendar()
    day = calendar.add_business_days(dt.datetime.now(BOGOTA).date(), -business_days)
    issued = dt.datetime.combine(day, dt.time(8), tzinfo=BOGOTA).astimezone(dt.UTC)
    doc_id = bed.receive(at=issued)
    bed.send(doc_id, EventCode.ACUSE_RECIBO, at=issued + dt.timedelta(hours=1))
    bed.send(doc_id, EventCode.RECIBO_BIEN, at=issued + dt.timedelta(hours=2))
    assert bed.deliver()["events"]["registered"] == 2
    return doc_id


def test_approvers_are_mailed_once_when_the_window_is_about_to_end(events_bed: EventsBed) -> None:
    bed = events_bed
    users(bed)
    urgent = received_days_ago(bed, 3)  # the window ends today (or on the next business day)
    calm = received(bed)
    four_eyes(bed, events=("031", "033"))
    for doc_id in (urgent, calm):
        with pytest.raises(ApprovalPending):
            service(bed).emit(doc_id, EventRequest(EventCode.ACEPTACION_EXPRESA), actor="user:ana")
    bed.smtp.handler.messages.clear()
    result = jobs.approvals()
    expected = {"expired": 0, "alerted": 1, "nobody": 0, "lapsed": 0}
    assert result["outcome"] == "ok" and result["summary"] == expected, result
    assert jobs.approvals()["summary"]["alerted"] == 0  # once
    bed.deliver()
    (mail,) = bed.smtp.handler.wait_for(1)
    assert mail[1] == ["beto@compradora.test"]  # the other clerk; not the requester, not treasury
    subject = " ".join(str(make_header(decode_header(mail[2]["Subject"]))).split())
    assert "Aprobación pendiente" in subject and bed.document(urgent).number in subject
    (body,) = [p for p in mail[2].walk() if p.get_content_type() == "text/plain"]
    assert "/aprobaciones" in body.get_payload(decode=True).decode(body.get_content_charset())
    [alerted] = audit(bed, "approval.alerted")
    assert alerted.data["to"] == ["beto@compradora.test"]


def test_an_approval_signs_only_the_request_it_was_given_for(events_bed: EventsBed) -> None:
    bed = events_bed
    users(bed)
    doc_id = received(bed)
    four_eyes(bed, events=("033",))  # 031 needs no approval here
    with pytest.raises(ApprovalPending) as held:
        service(bed).emit(doc_id, EventRequest(EventCode.ACEPTACION_EXPRESA), actor="user:ana")
    # Beto may approve the 033, but cannot spend that approval on a 031 (which would need none anyway).
    with pytest.raises(EventRefused, match="no es este evento"):
        emit_and_commit(bed.sessions, bed.runtime.ctx, doc_id, EventRequest(EventCode.RECLAMO, claim_reason="01"),
                        actor="user:beto", approval=held.value.approval_id)  # fmt: skip
    assert approval(bed, held.value.approval_id).state is ApprovalState.PENDING
    assert [e.code for e in bed.events(doc_id)] == [EventCode.ACUSE_RECIBO, EventCode.RECIBO_BIEN]
    assert audit(bed, "approval.approved") == []
