"""Four-eyes on value titles (issue 20), against the DIAN simulator over HTTP on SQLite and PostgreSQL: our 036 and
037 wait for a second treasury user; the requester and an AP clerk cannot approve; the approved action is the exact
one asked (the factor and the rate), signed and registered at DIAN; the door (TitleService.act) says "pendiente de
aprobación" and signs nothing, and so does `buzon title`; on the payable side our 045 to a listed payee waits too and
is paid, once approved, to the payee DIAN's replay names.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from buzon import jobs
from buzon.config import ApprovalSettings
from dian.codes import EventCode
from radian.actions import Counterparty, Endorse, RecordPayment, Register
from radian.approving import lapse_refused
from store.models import (
    Approval,
    ApprovalState,
    AuditEntry,
    DocumentEvent,
    OutgoingMail,
    Role,
    TitleState,
    ValueTitle,
)
from tests.integration.events_fixtures import events_bed as events_bed  # the fixture, re-exported
from tests.integration.titles_fixtures import FACTOR_NAME, FACTOR_NIT, TitlesBed
from tests.web.conftest import PASSWORD, password_hash
from web.auth import create_user

pytestmark = pytest.mark.integration


def _ago(hours: float) -> dt.datetime:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)).replace(microsecond=0)


def _ours(bed: TitlesBed, title_id: int) -> list[DocumentEvent]:
    title = bed.title(title_id)
    with bed.sessions() as s:
        rows = list(s.scalars(sa.select(DocumentEvent).where(
            DocumentEvent.outbound_document_id == title.outbound_document_id,
            DocumentEvent.sender_nit == title.issuer_nit)))  # fmt: skip
        s.expunge_all()
        return rows


def test_registration_and_endorsement_wait_for_a_second_treasurer(titles_bed: TitlesBed) -> None:
    bed = titles_bed
    settings = dataclasses.replace(bed.settings, approvals=ApprovalSettings(
        enabled=True, amount_threshold=100_000, events=("036", "037")))  # fmt: skip
    bed.settings, bed.runtime = settings, jobs.configure(settings, engine=bed.runtime.engine)
    with bed.sessions() as s:
        for name, role in (("tere", Role.TREASURY), ("tomas", Role.TREASURY), ("ana", Role.CLERK)):
            create_user(s, name, role=role, password=PASSWORD, password_hash=password_hash(PASSWORD), actor="test")
        s.commit()
    title_id, _ = bed.imported_title(at=_ago(5))

    held = bed.titles.act(title_id, Register(), actor="user:tere", deliver=True)
    assert not held.allowed and held.pending_approval is not None and held.event_id is None
    assert held.reason.startswith("Pendiente de aprobación") and "$ 100.000 o más" in held.reason
    assert _ours(bed, title_id) == []
    # Asking again points at the same request; the requester and a clerk cannot approve it.
    assert bed.titles.act(title_id, Register(), actor="user:tere").pending_approval == held.pending_approval
    for who in ("user:tere", "user:ana"):
        refused = bed.titles.approve(held.pending_approval, approver=who)
        assert not refused.allowed and refused.event_id is None, refused
    assert _ours(bed, title_id) == []

    approved = bed.titles.approve(held.pending_approval, approver="user:tomas")
    assert approved.allowed and approved.state == "registered", approved
    assert bed.title(title_id).state is TitleState.REGISTERED

    endorse = Endorse(Counterparty(FACTOR_NIT, FACTOR_NAME), rate=Decimal("2.5"))
    waiting = bed.titles.act(title_id, endorse, actor="user:tere", deliver=True)
    assert waiting.pending_approval is not None and f"NIT {FACTOR_NIT}" not in waiting.reason
    with bed.sessions() as s:
        row = s.get(Approval, waiting.pending_approval)
        assert row is not None
        assert (row.counterparty_nit, row.action["rate"], row.action["to"]["nit"]) == (FACTOR_NIT, "2.5", FACTOR_NIT)
        assert row.amount == bed.title(title_id).outstanding
    done = bed.titles.approve(waiting.pending_approval, approver="user:tomas")
    assert done.state == "registered", done
    title = bed.title(title_id)
    assert (title.state, title.holder_nit) == (TitleState.ENDORSED, FACTOR_NIT)
    [endorsement] = [e for e in _ours(bed, title_id) if e.code.value == "037"]
    assert endorsement.actor == "user:tomas"
    with bed.sessions() as s:
        states = dict(s.execute(sa.select(Approval.id, Approval.state)).all())
        sent = [e.data["approval_id"] for e in s.scalars(sa.select(AuditEntry).where(
            AuditEntry.action == "approval.sent"))]  # fmt: skip
    assert states == {held.pending_approval: ApprovalState.SENT, waiting.pending_approval: ApprovalState.SENT}
    assert sorted(sent) == sorted(states)


def test_the_title_commands_cannot_bypass_it(titles_bed: TitlesBed, tmp_path) -> None:
    import subprocess
    import sys

    from tests.integration.test_events_cli import write_config

    bed = titles_bed
    title_id, _ = bed.imported_title(at=_ago(5))
    config = write_config(bed.settings, tmp_path / "buzon.toml")
    config.write_text(config.read_text(encoding="utf-8") + '[approvals]\nenabled = true\nevents = ["036"]\n',
                      encoding="utf-8")  # fmt: skip
    number = bed.title(title_id).invoice_number
    done = subprocess.run([sys.executable, "-m", "buzon.cli", "title", "register", number, "--config", str(config)],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 3, (done.stdout, done.stderr)
    assert "Pendiente de aprobación" in done.stderr and "/aprobaciones" in done.stderr
    assert "Traceback" not in done.stderr
    assert _ours(bed, title_id) == []
    with bed.sessions() as s:
        [row] = s.scalars(sa.select(Approval))
        assert (row.state, row.title_id, row.action) == (ApprovalState.PENDING, title_id,
                                                         {"kind": "register", "direct_buyer": None})  # fmt: skip


def test_our_payment_to_a_listed_payee_waits_and_is_paid_to_the_replays_payee(events_bed) -> None:
    from tests.integration.test_title_pay_supplier import _endorsed_to_factor
    from tests.integration.test_title_watch_e2e import FACTOR

    bed = events_bed
    _, _, title_id = _endorsed_to_factor(bed)
    settings = dataclasses.replace(bed.settings, approvals=ApprovalSettings(
        enabled=True, amount_threshold=10_000_000, suppliers=(FACTOR["nit"],), events=("045", "051")))  # fmt: skip
    bed.settings, bed.runtime = settings, jobs.configure(settings, engine=bed.runtime.engine)
    with bed.sessions() as s:
        for name in ("tere", "tomas"):
            create_user(s, name, role=Role.TREASURY, password=PASSWORD, password_hash=password_hash(PASSWORD),
                        actor="test")  # fmt: skip
        s.commit()
    titles = bed.runtime.titles
    held = titles.act(title_id, RecordPayment(Decimal("19000.00")), actor="user:tere", deliver=True)
    assert held.pending_approval is not None and f"NIT {FACTOR['nit']}" in held.reason, held
    with bed.sessions() as s:
        assert s.scalar(sa.select(sa.func.count()).where(DocumentEvent.code == EventCode.PAGO)) == 0
        row = s.get(Approval, held.pending_approval)
        assert row is not None and (row.counterparty_nit, row.amount) == (FACTOR["nit"], Decimal("19000.00"))
    assert not titles.approve(held.pending_approval, approver="user:tere").allowed
    paid = titles.approve(held.pending_approval, approver="user:tomas")
    assert paid.allowed and paid.state == "registered" and paid.payee is not None, paid
    assert paid.payee.nit == FACTOR["nit"]
    with bed.sessions() as s:
        title = s.get(ValueTitle, title_id)
        assert title is not None and title.outstanding == Decimal("100000.00")


def test_a_request_on_a_title_that_moved_on_lapses_and_its_requester_is_told(titles_bed: TitlesBed) -> None:
    bed = titles_bed
    settings = dataclasses.replace(bed.settings, approvals=ApprovalSettings(
        enabled=True, amount_threshold=100_000, events=("037",)))  # fmt: skip
    bed.settings, bed.runtime = settings, jobs.configure(settings, engine=bed.runtime.engine)
    with bed.sessions() as s:
        for name in ("tere", "tomas"):
            create_user(s, name, role=Role.TREASURY, password=PASSWORD, password_hash=password_hash(PASSWORD),
                        actor="test", email=f"{name}@vendedora.test")  # fmt: skip
        s.commit()
    endorse = Endorse(Counterparty(FACTOR_NIT, FACTOR_NAME), rate=Decimal("2.5"))
    waiting = {}
    for label in ("limited", "unchanged"):
        title_id, _ = bed.imported_title(at=_ago(5))
        assert bed.titles.act(title_id, Register(), actor="user:tere", deliver=True).state == "registered"
        held = bed.titles.act(title_id, endorse, actor="user:tere", deliver=True)
        assert held.pending_approval is not None, held
        waiting[label] = (title_id, held.pending_approval)
    # A request whose kept action cannot be read back (a damaged row) lapses saying so.
    with bed.sessions() as s:
        broken = Approval(subject=f"title:{waiting['unchanged'][0]}", title_id=waiting["unchanged"][0],
                          code=EventCode.ENDOSO_GARANTIA, action={"kind": "endorse"}, reason="prueba",
                          requested_by="user:tere")  # fmt: skip
        s.add(broken)
        s.commit()
        broken_id = broken.id
    # Nothing else moved: the sweep leaves both waiting.
    first = jobs.approvals()
    assert first["outcome"] == "ok" and first["summary"]["lapsed"] == 1, first
    with bed.sessions() as s:
        damaged = s.get(Approval, broken_id)
        assert damaged is not None and damaged.state is ApprovalState.EXPIRED
        assert damaged.decision_note == "Ya no procede: La acción guardada no se puede leer: le falta el dato 'to'"
    # Rules that cannot judge a title (an unexpected error) leave its request pending and go on to the next.
    judged: list[int] = []

    def failing(title_id: int, action: object, at: dt.datetime) -> object:
        judged.append(title_id)
        raise RuntimeError("prueba")

    context = lambda: bed.runtime.event_context(bed.sessions)  # noqa: E731
    assert lapse_refused(bed.sessions, context, failing, now=_ago(0), from_address="buzon@vendedora.test") == []
    assert sorted(judged) == sorted(title_id for title_id, _ in waiting.values())
    with bed.sessions() as s:
        assert [s.get(Approval, a).state for _, a in waiting.values()] == [ApprovalState.PENDING] * 2
    # A judge limits the first title's circulation (041); Buzón learns it from DIAN.
    limited_id, lapsing = waiting["limited"]
    judged = bed.counterpart("limit", bed.title(limited_id).invoice_cufe)
    assert judged["registered"], judged
    assert "041" in " ".join(bed.titles.sync(limited_id, actor="test").observed)
    assert bed.title(limited_id).limited

    swept = jobs.approvals()
    assert swept["outcome"] == "ok" and swept["summary"]["lapsed"] == 1, swept
    with bed.sessions() as s:
        row = s.get(Approval, lapsing)
        assert row is not None and row.state is ApprovalState.EXPIRED and row.decided_at is not None
        assert (row.decision_note or "").startswith("Ya no procede: "), row.decision_note
        kept = s.get(Approval, waiting["unchanged"][1])
        assert kept is not None and kept.state is ApprovalState.PENDING
        (entry,) = s.scalars(sa.select(AuditEntry).where(AuditEntry.action == "approval.lapsed",
                                                         AuditEntry.data["approval_id"].as_integer() == lapsing)).all()
        assert entry.subject == bed.title(limited_id).invoice_cufe and entry.data["approval_id"] == lapsing
        assert entry.data["reason"] and entry.data["reason"] in (row.decision_note or "")
        (mail,) = s.scalars(sa.select(OutgoingMail).where(OutgoingMail.dedupe_key == f"approval:{lapsing}:lapsed"))
        assert mail.to_address == "tere@vendedora.test" and f"n.º {lapsing} venció" in mail.subject, mail.subject
    # It can no longer be approved, and the next sweep finds nothing more.
    late = bed.titles.approve(lapsing, approver="user:tomas")
    assert not late.allowed and late.event_id is None and "vencida" in late.reason, late
    assert jobs.approvals()["summary"]["lapsed"] == 0
    # The other one is still approved as it was asked.
    done = bed.titles.approve(waiting["unchanged"][1], approver="user:tomas")
    assert done.allowed and done.state == "registered", done
