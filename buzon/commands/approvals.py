"""`buzon approvals list|approve|refuse`: four-eyes from the server's command line (events/approvals.py), with the
same rules as the Aprobaciones pendientes page. The person deciding names their Buzón user with ``--as``: it must be
an active user with the role that acts on the request (AP clerks for received documents, treasury for titles) and
not the requester; the decision is audited as that user (``user:<name>``, source ``cli``).

The events machinery is imported inside the commands (start-up time).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from buzon.commands.errors import fail
from buzon.commands.options import current_runtime, with_settings
from buzon.config import Settings


@click.group("approvals")
def approvals_group() -> None:
    """Four-eyes: events that wait for a second user's approval before they are signed."""


def _user(rt: Any, name: str) -> str:
    """The audit actor of ``--as NAME``: an existing, active Buzón user (the service checks the role)."""
    import sqlalchemy as sa

    from store.models import User

    with rt.sessions() as s:
        user = s.execute(sa.select(User).where(User.username == name.strip())).scalar()
    if user is None:
        fail(f"--as {name}: no Buzón user has that name")
    if not user.active:
        fail(f"--as {name}: that user is disabled")
    return f"user:{user.username}"


@approvals_group.command("list")
@with_settings
def list_(settings: Settings) -> None:
    """The pending requests, the urgent ones (a 031/033 whose legal window ends within a business day) first."""
    import sqlalchemy as sa

    from dian.calendar import BusinessCalendar
    from events.approvals import at_risk, pesos, window_end
    from store.models import Approval, ApprovalState

    calendar = BusinessCalendar(saturday_is_business_day=settings.scheduler.saturday_is_business_day)
    now = datetime.now(UTC)
    with current_runtime(settings) as rt, rt.sessions() as s:
        pending = s.execute(sa.select(Approval).where(Approval.state == ApprovalState.PENDING)
                            .order_by(Approval.requested_at, Approval.id)).scalars().all()  # fmt: skip
        lines = []
        for row in pending:
            end = window_end(s, row)
            urgent = at_risk(now, end, calendar)
            what = f"invoice {row.invoice_number}" if row.invoice_number else row.subject
            amount = f" {pesos(row.amount)}" if row.amount is not None else ""
            ends = f", window ends {end.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if end else ""
            lines.append((not urgent, row.requested_at, f"{row.id}\t{row.code.value}\t{what} "
                          f"({row.counterparty_name or ''} NIT {row.counterparty_nit or '-'}){amount}\t"
                          f"asked by {row.requested_by} at {row.requested_at:%Y-%m-%d %H:%M}{ends}"
                          f"{'  URGENT' if urgent else ''}\t{row.reason}"))  # fmt: skip
    if not lines:
        click.echo("no approval requests pending")
        return
    for _, _, line in sorted(lines, key=lambda t: (t[0], t[1])):
        click.echo(line)


@approvals_group.command("approve")
@with_settings
@click.argument("approval_id", type=int)
@click.option("--as", "as_user", required=True, help="Your Buzón user (a role that acts on it, not the requester).")
def approve(settings: Settings, approval_id: int, as_user: str) -> None:
    """Approve request APPROVAL_ID: its stored event is signed and sent to DIAN now."""
    from events.approvals import ApprovalError, check_approver
    from events.emit import EventRefused
    from store.models import Approval, DocumentEvent

    with current_runtime(settings) as rt:
        actor = _user(rt, as_user)
        with rt.sessions() as s:
            row = s.get(Approval, approval_id)
            title_id = row.title_id if row is not None else None
        if row is None:
            fail(f"no approval request {approval_id}", code=1)
        try:
            if title_id is not None:
                with rt.sessions() as s:  # the title service answers a refused approver with an Outcome: ask first
                    check_approver(s, approval_id, actor)
                outcome = rt.titles.approve(approval_id, approver=actor, source="cli")
                if not outcome.allowed or outcome.event_id is None:
                    fail(f"request {approval_id} not approved: {outcome.reason}"
                         + (f" [{outcome.rule}]" if outcome.rule else ""), code=1)  # fmt: skip
                event_id = outcome.event_id
            else:
                event_id = rt.event_service().approve(approval_id, approver=actor, source="cli").id
        except ApprovalError as exc:
            fail(f"request {approval_id} not approved: {exc}")
        except EventRefused as exc:
            fail(f"request {approval_id} not approved, it stays pending (the rules now refuse it): {exc.reason}"
                 + (f" [{exc.rule}]" if exc.rule else ""), code=1)  # fmt: skip
        with rt.sessions() as s:
            event = s.get(DocumentEvent, event_id)
            assert event is not None
            state = event.submission_state.value
            click.echo(f"approved request {approval_id} as {actor}: event {event.code.value} number {event.number} "
                       f"CUDE {event.cude}")  # fmt: skip
            click.echo(f"DIAN: {state}" + (f" — {'; '.join(event.dian_messages)}" if event.dian_messages else ""))
    if state == "rejected":
        raise SystemExit(1)


@approvals_group.command("refuse")
@with_settings
@click.argument("approval_id", type=int)
@click.option("--as", "as_user", required=True, help="Your Buzón user (a role that acts on it, not the requester).")
@click.option("--reason", required=True, help="Why (the requester reads it).")
def refuse(settings: Settings, approval_id: int, as_user: str, reason: str) -> None:
    """Refuse request APPROVAL_ID with a reason."""
    from events.approvals import ApprovalError
    from store.models import Approval

    if not reason.strip():
        fail("--reason is empty: write why (the requester reads it)")
    with current_runtime(settings) as rt:
        actor = _user(rt, as_user)
        with rt.sessions() as s:
            found = s.get(Approval, approval_id) is not None
        if not found:
            fail(f"no approval request {approval_id}", code=1)
        try:
            rt.event_service().refuse(approval_id, approver=actor, note=reason, source="cli")
        except ApprovalError as exc:
            fail(f"request {approval_id} not refused: {exc}")
    click.echo(f"refused request {approval_id} as {actor}")
