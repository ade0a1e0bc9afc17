"""What `buzon issue` and `buzon support issue` print once a document is issued: its number, key, total and DIAN's
word; a rejection ends the command with status 1."""

from __future__ import annotations

from typing import Any

import click

__all__ = ["echo_issued"]


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
