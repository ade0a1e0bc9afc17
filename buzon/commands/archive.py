"""`buzon archive export|verify|hold|purge`: the auditor's pack of a period, checked offline; legal holds; what a
purge would remove (only listed: nothing is ever deleted by default, and no deleting purge exists).

The domain work is store/archive/; the PDF of a document we issued is drawn by issuing.pdf, handed in from here.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import click

from buzon.commands.errors import fail
from buzon.commands.options import cli_actor, current_runtime, with_settings
from buzon.config import Settings

_DAY = click.DateTime(formats=["%Y-%m-%d"])


def _date(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


def pdf_renderer():  # a store.archive.pack.PdfRenderer
    """The PDF of a signed document we issued, as the issued documents' page draws it (issuing/pdf.py)."""
    from issuing.pdf import render_pdf

    return lambda xml, validated_at: render_pdf(xml, validated_at=validated_at)


@click.group("archive")
def archive() -> None:
    """The auditor's pack, its offline check, legal holds and retention."""


@archive.command("export")
@click.option("--from", "first", type=_DAY, required=True, help="First issue date (AAAA-MM-DD, Bogotá).")
@click.option("--to", "last", type=_DAY, required=True, help="Last issue date, included.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The zip to write (default: paquete-auditoria-FROM-TO.zip here).")  # fmt: skip
@with_settings
def export(settings: Settings, first: datetime, last: datetime, out: Path | None) -> None:
    """Write the signed pack of every document issued in the period."""
    from store.archive.pack import PackError, PackRequest, write_pack

    try:
        request = PackRequest(first.date(), last.date(), settings.company.nit, settings.company.name, cli_actor())
    except PackError as exc:
        fail(str(exc))
    out = out or Path(f"paquete-auditoria-{request.period_from}-{request.period_to}.zip")
    if out.parent and not out.parent.is_dir():
        fail(f"--out: the folder {out.parent} does not exist")
    with current_runtime(settings) as rt, rt.sessions() as session:
        identity = rt.company_identity()
        summary = write_pack(out, session, rt.blobs, identity, request, render_pdf=pdf_renderer())
    click.echo(f"{out}: {summary.documents} documents, {summary.events} events, {summary.files} files; "
               f"SHA256SUMS {summary.sums_sha256}")  # fmt: skip
    if summary.missing:
        for missing in summary.missing[:20]:
            click.echo(f"missing blob: {missing}", err=True)
        fail(f"{len(summary.missing)} stored files are missing from the blob store (listed as FALTA in the index)", 1)


@archive.command("verify")
@click.argument("pack", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--expect-nit", default=None, help="The NIT whose certificate must have signed the seal.")
def verify(pack: Path, expect_nit: str | None) -> None:
    """Check a pack offline: the seal's signature and every file's SHA-256 (exit 0 when all hold, 1 otherwise)."""
    from store.archive.verify import verify_pack

    check = verify_pack(pack, expect_nit=expect_nit)
    if check.seal is not None:
        seal = check.seal.seal
        click.echo(f"seal: signed by {check.seal.signer_subject} (NIT {check.seal.signer_nit}); certificate chain: "
                   f"{check.seal.chain_status}; period {seal.period_from}..{seal.period_to}; {seal.files} files; "
                   f"audit chain {seal.chain_position} {seal.chain_hash}".rstrip())  # fmt: skip
    for problem in check.problems:
        click.echo(f"BAD {problem}", err=True)
    if not check.ok:
        click.echo(f"{pack}: NOT intact ({len(check.problems)} problems)", err=True)
        raise SystemExit(1)
    click.echo(f"{pack}: intact, {check.files} files match SHA256SUMS and the seal's signature verifies")


@archive.group("hold")
def hold() -> None:
    """Legal holds: what is kept past retention until released."""


@hold.command("add")
@click.option("--scope", type=click.Choice(["document", "supplier", "period"]), required=True)
@click.option("--cufe", default=None, help="The held document's CUFE/CUDE (scope document).")
@click.option("--nit", default=None, help="The held supplier's NIT (scope supplier).")
@click.option("--from", "first", type=_DAY, default=None, help="First issue date held (scope period).")
@click.option("--to", "last", type=_DAY, default=None, help="Last issue date held (scope period).")
@click.option("--reason", required=True, help="Why (the case, the authority's request).")
@with_settings
def hold_add(settings: Settings, scope: str, cufe: str | None, nit: str | None, first: datetime | None,
             last: datetime | None, reason: str) -> None:  # fmt: skip
    """Place a legal hold (audited)."""
    from store.archive.retention import HoldError, add_hold

    with current_runtime(settings) as rt, rt.sessions() as session:
        try:
            held = add_hold(session, scope=scope, reason=reason, actor=cli_actor(), cufe=cufe, nit=nit,
                            period_from=_date(first), period_to=_date(last))  # fmt: skip
        except HoldError as exc:
            fail(str(exc))
        session.commit()
        click.echo(f"hold {held.id} placed")


@hold.command("list")
@click.option("--all", "everything", is_flag=True, help="Released holds too.")
@with_settings
def hold_list(settings: Settings, everything: bool) -> None:
    """The active holds (with --all, the released ones too)."""
    from store.archive.retention import describe, list_holds

    with current_runtime(settings) as rt, rt.sessions() as session:
        holds = list_holds(session, include_released=everything)
        if not holds:
            click.echo("no legal holds")
        for h in holds:
            d = describe(h)
            released = ""
            if h.released_at:
                released = f" released {h.released_at:%Y-%m-%d} by {h.released_by}: {h.release_reason}"
            click.echo(f"{h.id}\t{d['scope']}\t{d['what']}\t{h.held_at:%Y-%m-%d} {h.held_by}\t{h.reason}{released}")


@hold.command("release")
@click.argument("hold_id", type=int)
@click.option("--reason", required=True, help="Why the hold ends.")
@with_settings
def hold_release(settings: Settings, hold_id: int, reason: str) -> None:
    """Release a legal hold (audited; the hold stays listed with --all)."""
    from store.archive.retention import HoldError, release_hold

    with current_runtime(settings) as rt, rt.sessions() as session:
        try:
            release_hold(session, hold_id, reason=reason, actor=cli_actor())
        except HoldError as exc:
            fail(str(exc))
        session.commit()
        click.echo(f"hold {hold_id} released")


@archive.command("purge")
@click.option("--dry-run", is_flag=True, help="List what is past retention and not held (the only mode there is).")
@click.option("--today", type=_DAY, default=None, help="Judge retention as on this day (default: today).")
@with_settings
def purge(settings: Settings, dry_run: bool, today: datetime | None) -> None:
    """List the documents past retention under no legal hold, and the blobs only they reference."""
    from store.archive.retention import purge_candidates

    if not dry_run:
        fail("nothing is ever deleted by default: only `buzon archive purge --dry-run` exists (it lists)")
    day = today.date() if today else date.today()
    counts = {"received": 0, "issued": 0, "blob": 0}
    with current_runtime(settings) as rt, rt.sessions() as session:
        for c in purge_candidates(session, today=day):
            counts[c.kind] += 1
            kept = f"\tretention ended {c.retention_until}" if c.retention_until else ""
            click.echo(f"{c.kind}\t{c.ident}\t{c.label}{kept}".rstrip())
    click.echo(f"dry run on {day}: {counts['received']} received and {counts['issued']} issued documents past "
               f"retention and not held; {counts['blob']} blobs no kept row references; nothing deleted")  # fmt: skip
