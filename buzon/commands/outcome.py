"""How `buzon issue` and `buzon soporte` issue one document read from a file (every problem in one line, exit 2) and
what they print once it is issued: its number, key, total and DIAN's word; a rejection ends with status 1."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from buzon.commands.errors import fail
from buzon.commands.options import cli_actor, current_runtime
from buzon.config import Settings

__all__ = ["echo_issued", "issue_one"]


def issue_one(settings: Settings, request: Any, problems: Any, service_of: Callable[[Any], Any], *,
              idempotency_key: str | None, deliver: bool) -> Any:  # fmt: skip
    """Issue ``request`` (None when its reader found ``problems``) through ``service_of(runtime)`` as the command
    line; the ``Issued``. A document that cannot be issued fails the command naming every problem."""
    from issuing.problems import PayloadError

    if request is None:
        fail("el documento no se expide: " + "; ".join(str(p) for p in problems))
    with current_runtime(settings) as rt:
        try:
            return service_of(rt).issue(request, actor=cli_actor(), idempotency_key=idempotency_key,
                                        client_key="cli", deliver=deliver)  # fmt: skip
        except PayloadError as exc:
            fail("el documento no se expide: " + "; ".join(str(p) for p in exc.problems))


def echo_issued(done: Any, *, key_label: str, total_label: str) -> None:
    """Print an issued document (``Issued``); ``key_label`` names its key (CUFE, CUDE, CUDS)."""
    click.echo(f"{done.document_type.label} {done.number}" + (" (ya expedido con esta clave)" if done.replayed else ""))
    click.echo(f"{key_label}: {done.uuid}")
    click.echo(f"{total_label}: {done.payable:,.2f}")
    click.echo(f"DIAN: {done.verdict}")
    for message in done.dian_messages:
        click.echo(f"  {message}")
    if done.state.value == "send_failed" and done.last_error:
        click.echo(f"  {done.last_error}")
    if done.state.value == "rejected":
        raise SystemExit(1)
