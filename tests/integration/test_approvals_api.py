"""Four-eyes through the API and the command line (issue 20), on SQLite and PostgreSQL with the DIAN simulator over
HTTP: ``GET /api/v1/approvals`` lists the pending requests with the flag and who may decide, ``POST …/approve`` and
``…/refuse`` keep the page's rules (never the requester, only the acting role, a reason to refuse), and
``buzon approvals list|approve|refuse --as USER`` decides as a named Buzón user, audited as that user via the CLI.
The nav link of Aprobaciones carries the count of pending requests."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from buzon import jobs
from buzon.cli import main
from buzon.config import ApprovalSettings
from buzon.runtime import event_service
from dian.codes import EventCode
from events.emit import ApprovalPending, EventRequest
from radian.actions import Counterparty, Endorse, Register
from store.models import Approval, ApprovalState, AuditEntry, Role, TitleState, User
from tests.integration.events_fixtures import EventsBed
from tests.integration.events_fixtures import events_bed as events_bed  # the fixture, re-exported
from tests.integration.test_approvals import _toml, four_eyes, received, service, users
from tests.integration.titles_fixtures import FACTOR_NAME, FACTOR_NIT
from tests.web.conftest import PASSWORD, password_hash, sign_in
from web.app import create_app
from web.auth import create_user, issue_token

pytestmark = pytest.mark.integration


def tokens(bed: EventsBed) -> dict[str, dict[str, str]]:
    """A bearer header per user of the bed."""
    out = {}
    with bed.sessions() as s:
        for user in s.execute(sa.select(User)).scalars():
            _, raw = issue_token(s, user, name="erp", actor="test", now=datetime.now(UTC))
            out[user.username] = {"Authorization": f"Bearer {raw}"}
        s.commit()
    return out


def state_of(bed: EventsBed, approval_id: int) -> ApprovalState:
    with bed.sessions() as s:
        row = s.get(Approval, approval_id)
        assert row is not None
        return row.state


def audited(bed: EventsBed, action: str) -> list[AuditEntry]:
    with bed.sessions() as s:
        return list(s.execute(sa.select(AuditEntry).where(AuditEntry.action == action)
                              .order_by(AuditEntry.id)).scalars())  # fmt: skip


def test_approvals_through_the_api_the_command_line_and_the_nav_count(events_bed: EventsBed, tmp_path) -> None:
    bed = events_bed
    users(bed)
    documents = [received(bed) for _ in range(3)]
    four_eyes(bed, events=("031", "033"))
    held = []
    for doc_id in documents:
        with pytest.raises(ApprovalPending) as exc:
            service(bed).emit(doc_id, EventRequest(EventCode.ACEPTACION_EXPRESA), actor="user:ana")
        held.append(exc.value.approval_id)
    first, second, third = held
    settings = bed.settings
    app = create_app(settings, engine=bed.runtime.engine, events=lambda sessions: event_service(settings, sessions))
    client = app.test_client()
    auth = tokens(bed)

    # The list: every pending request, with the flag and whether this token's user may decide it.
    listed = client.get("/api/v1/approvals", headers=auth["ana"])
    assert listed.status_code == 200, listed.text
    body = listed.get_json()
    assert body["counts"] == {"pending": 3, "flagged": 0}
    assert [a["id"] for a in body["approvals"]] == held
    assert all(a["mine"] and not a["may_decide"] and a["code"] == "033" and a["flagged"] is False
               for a in body["approvals"])  # fmt: skip
    theirs = client.get("/api/v1/approvals", headers=auth["beto"]).get_json()["approvals"]
    assert all(a["may_decide"] and not a["mine"] and a["requested_by"] == "user:ana" for a in theirs)
    assert not any(a["may_decide"] for a in client.get("/api/v1/approvals", headers=auth["tere"]).get_json()
                   ["approvals"])  # treasury does not act on received documents  # fmt: skip
    assert client.get("/api/v1/approvals").status_code == 401

    # Approve: not the requester, not another role; the second clerk gets it signed and registered at DIAN.
    for who in ("ana", "tere"):
        refused = client.post(f"/api/v1/approvals/{first}/approve", headers=auth[who])
        assert refused.status_code == 403 and refused.get_json()["error"] == "forbidden", refused.text
    assert state_of(bed, first) is ApprovalState.PENDING
    done = client.post(f"/api/v1/approvals/{first}/approve", headers=auth["beto"])
    assert done.status_code == 200, done.text
    answer = done.get_json()
    assert answer["approval"]["state"] == "sent" and answer["event"]["code"] == "033"
    assert answer["event"]["submission_state"] == "registered"  # delivered to the simulator at once
    again = client.post(f"/api/v1/approvals/{first}/approve", headers=auth["beto"])
    assert again.status_code == 409 and again.get_json()["state"] == "sent"
    assert client.post("/api/v1/approvals/999999/approve", headers=auth["beto"]).status_code == 404

    # Refuse: a reason is required (missing: 400 naming it; blank: 422), then the requester's role may not, the
    # second clerk may.
    missing = client.post(f"/api/v1/approvals/{second}/refuse", headers=auth["beto"], json={})
    assert missing.status_code == 400 and missing.get_json()["field"] == "reason"
    blank = client.post(f"/api/v1/approvals/{second}/refuse", headers=auth["beto"], json={"reason": "   "})
    assert blank.status_code == 422 and blank.get_json()["field"] == "reason"
    own = client.post(f"/api/v1/approvals/{second}/refuse", headers=auth["ana"], json={"reason": "Me arrepentí"})
    assert own.status_code == 403
    assert state_of(bed, second) is ApprovalState.PENDING
    no = client.post(f"/api/v1/approvals/{second}/refuse", headers=auth["beto"], json={"reason": "Falta la remisión"})
    assert no.status_code == 200 and no.get_json()["approval"]["state"] == "refused", no.text
    assert [e.actor for e in audited(bed, "approval.refused")] == ["user:beto"]

    # The nav link counts what still waits (one), on every page.
    with bed.sessions() as s:
        beto = s.execute(sa.select(User).where(User.username == "beto")).scalar_one()
        s.expunge(beto)
    page = app.test_client()
    sign_in(app, page, beto)
    html = page.get("/aprobaciones").get_data(as_text=True)
    assert 'id="nav-aprobaciones">Aprobaciones <span class="nav-count" aria-label="1 pendientes">1</span>' in html

    # The command line: a named Buzón user with the acting role decides; the audit says that user, via cli.
    config = tmp_path / "buzon-aprobaciones.toml"
    config.write_text(_toml(bed), encoding="utf-8")
    cli = CliRunner()
    shown = cli.invoke(main, ["approvals", "list", "--config", str(config)])
    assert shown.exit_code == 0 and shown.output.startswith(f"{third}\t033\t"), shown.output
    assert len(shown.output.strip().splitlines()) == 1 and "asked by user:ana" in shown.output
    for who, words in (("ana", "Quien pidió el evento no puede"), ("tere", "Solo un usuario activo"),
                       ("nadie", "no Buzón user has that name")):  # fmt: skip
        result = cli.invoke(main, ["approvals", "approve", str(third), "--as", who, "--config", str(config)])
        assert result.exit_code == 2 and words in result.output and "Traceback" not in result.output, result.output
    result = cli.invoke(main, ["approvals", "refuse", str(third), "--as", "beto", "--reason", " ", "--config",
                               str(config)])  # fmt: skip
    assert result.exit_code == 2 and "--reason is empty" in result.output
    assert state_of(bed, third) is ApprovalState.PENDING
    result = cli.invoke(main, ["approvals", "approve", str(third), "--as", "beto", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert f"approved request {third} as user:beto: event 033" in result.output and "DIAN: registered" in result.output
    approved = audited(bed, "approval.approved")
    assert [(e.actor, e.source) for e in approved][-1] == ("user:beto", "cli")
    assert state_of(bed, third) is ApprovalState.SENT
    result = cli.invoke(main, ["approvals", "approve", str(third), "--as", "beto", "--config", str(config)])
    assert result.exit_code == 2 and "ya está aprobada y enviada" in result.output
    assert cli.invoke(main, ["approvals", "list", "--config", str(config)]).output == "no approval requests pending\n"


def test_a_title_action_is_decided_by_a_second_treasurer_through_the_api_and_the_cli(titles_bed, tmp_path) -> None:
    """Our 036 and 037 wait for a second treasury user: the requester and an AP clerk get 403 from the API and exit 2
    from the CLI; another treasurer gets each registered at DIAN, through the API and as a named user on the CLI."""
    bed = titles_bed
    settings = dataclasses.replace(bed.settings, approvals=ApprovalSettings(enabled=True, events=("036", "037")))
    bed.settings, bed.runtime = settings, jobs.configure(settings, engine=bed.runtime.engine)
    with bed.sessions() as s:
        for name, role in (("tere", Role.TREASURY), ("tomas", Role.TREASURY), ("ana", Role.CLERK)):
            create_user(s, name, role=role, password=PASSWORD, password_hash=password_hash(PASSWORD), actor="test")
        s.commit()
    title_id, _ = bed.imported_title(at=datetime.now(UTC) - timedelta(hours=5))
    held = bed.titles.act(title_id, Register(), actor="user:tere", deliver=True)
    assert held.pending_approval is not None
    runtime = bed.runtime
    app = create_app(settings, engine=runtime.engine, titles=lambda sessions: runtime.title_service(sessions))
    client, auth = app.test_client(), tokens(bed)

    listed = {a["id"]: a for a in client.get("/api/v1/approvals", headers=auth["tomas"]).get_json()["approvals"]}
    assert listed[held.pending_approval]["kind"] == "title" and listed[held.pending_approval]["may_decide"]
    assert not client.get("/api/v1/approvals", headers=auth["ana"]).get_json()["approvals"][0]["may_decide"]
    for who in ("tere", "ana"):
        refused = client.post(f"/api/v1/approvals/{held.pending_approval}/approve", headers=auth[who])
        assert refused.status_code == 403, refused.text
    done = client.post(f"/api/v1/approvals/{held.pending_approval}/approve", headers=auth["tomas"])
    assert done.status_code == 200, done.text
    assert done.get_json()["event"]["code"] == "036" and done.get_json()["event"]["submission_state"] == "registered"
    assert bed.title(title_id).state is TitleState.REGISTERED

    endorse = Endorse(Counterparty(FACTOR_NIT, FACTOR_NAME), rate=Decimal("2.5"))
    waiting = bed.titles.act(title_id, endorse, actor="user:tere", deliver=True)
    assert waiting.pending_approval is not None
    config = tmp_path / "buzon-titulos.toml"
    config.write_text(_toml(bed).replace('events = ["031", "033"]', 'events = ["036", "037"]'), encoding="utf-8")
    cli = CliRunner()
    mine = cli.invoke(main, ["approvals", "approve", str(waiting.pending_approval), "--as", "tere", "--config",
                             str(config)])  # fmt: skip
    assert mine.exit_code == 2 and "Quien pidió el evento no puede" in mine.output, mine.output
    result = cli.invoke(main, ["approvals", "approve", str(waiting.pending_approval), "--as", "tomas", "--config",
                               str(config)])  # fmt: skip
    assert result.exit_code == 0 and "event 037" in result.output and "DIAN: registered" in result.output, (
        result.output)
    assert [(e.actor, e.source) for e in audited(bed, "approval.approved")][-1] == ("user:tomas", "cli")
    assert state_of(bed, waiting.pending_approval) is ApprovalState.SENT
