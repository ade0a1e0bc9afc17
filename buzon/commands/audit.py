"""`buzon audit`: the audit log's hash chain — seal what is not sealed yet, verify the whole chain."""

from __future__ import annotations

import re

import click

from buzon.commands.errors import fail
from buzon.commands.options import current_runtime, with_settings
from buzon.config import Settings

_HEAD = re.compile(r"^(\d+):([0-9a-f]{64})$")


@click.group("audit")
def audit_group() -> None:
    """The tamper-evident audit log: each entry chained to the previous one by SHA-256."""


@audit_group.command("seal")
@with_settings
def seal_command(settings: Settings) -> None:
    """Seal every audit entry not sealed yet (the job seal_audit does it on schedule)."""
    from store.audit import chain_head, seal

    with current_runtime(settings) as rt:
        sealed = seal(rt.engine)
        with rt.engine.connect() as conn:
            position, digest = chain_head(conn)
    click.echo(f"sealed {sealed} entries; chain head {position}:{digest}")


@audit_group.command("verify")
@click.option(
    "--expect",
    "expect",
    default=None,
    metavar="POSITION:HASH",
    help="A chain head recorded earlier (an export pack, a previous verify): it must still be in the chain.",
)
@click.option("--no-seal", is_flag=True, help="Verify only what is sealed; do not seal the new entries first.")
@with_settings
def verify_command(settings: Settings, expect: str | None, no_seal: bool) -> None:
    """Seal the new entries, then recompute every link of the chain: exit 0 with the count and the head, exit 1
    naming the first broken link."""
    from store.audit import seal, verify

    recorded = None
    if expect is not None:
        found = _HEAD.match(expect.strip().lower())
        if found is None:
            fail(f"--expect: {expect!r} is not POSITION:HASH (a number, a colon, 64 hexadecimal digits)")
        recorded = (int(found[1]), found[2])
    with current_runtime(settings) as rt:
        if not no_seal:
            seal(rt.engine)
        with rt.engine.connect() as conn:
            verdict = verify(conn, expect=recorded)
    position, digest = verdict.head
    unsealed = f" ({verdict.unsealed} not sealed yet)" if verdict.unsealed else ""
    if verdict.broken is not None:
        b = verdict.broken
        which = f"entry {b.entry_id}" if b.entry_id is not None else "no entry"
        click.echo(f"audit chain BROKEN at position {b.position} ({which}): {b.problem}", err=True)
        click.echo(f"the {verdict.count} entries before it verify, up to {position}:{digest}{unsealed}", err=True)
        raise SystemExit(1)
    click.echo(f"audit chain verified: {verdict.count} entries, head {position}:{digest}{unsealed}")
