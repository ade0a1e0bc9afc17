"""`buzon title …`: value titles (RADIAN). `watch --once` runs one endorsement watch sweep over the supplier invoices
we owe; `payables` writes the payment run (the file an AP team hands its bank) with the payee of each line.

The RADIAN modules are imported inside each command (start-up time: `buzon --help` does not load them).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click

from buzon.commands.errors import fail
from buzon.commands.options import current_runtime, with_settings
from buzon.commands.receivables import add_receivable_commands
from buzon.config import Settings


@click.group()
def title() -> None:
    """Value titles (RADIAN): our receivables, the endorsement watch and the payment run."""


add_receivable_commands(title)  # import, list, show, sync, register, endorse, report, pay…: commands/receivables.py


@title.command("watch")
@with_settings
@click.option("--once", is_flag=True, required=True, help="Run one sweep now and exit (the job title_watch).")
def watch(settings: Settings, once: bool) -> None:
    """Ask DIAN whether the supplier invoices we owe changed holder, and move the payee (one sweep)."""
    from buzon import jobs

    with current_runtime(settings) as rt:
        jobs.use(rt)
        result = jobs.title_watch()
    summary = result["summary"]
    click.echo(json.dumps(summary, ensure_ascii=False, sort_keys=True))
    if result["outcome"] != "ok":
        fail(f"la vigilancia falló: {result['error']}", code=1)


@title.command("payables")
@with_settings
@click.option("--due-before", type=click.DateTime(formats=["%Y-%m-%d"]), help="Only what is due on or before.")
@click.option("--supplier", help="Only this supplier's NIT (without DV).")
@click.option("--excel", is_flag=True, help="';' separator, decimal comma, dd/mm/aaaa and a UTF-8 BOM.")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), required=True, help="The payment file.")
@click.option("--refused-out", type=click.Path(dir_okay=False, writable=True),
              help="Where the refused lines go with their reasons (default: next to --out, -rechazadas).")  # fmt: skip
def payables_command(settings: Settings, due_before: date | None, supplier: str | None, excel: bool, out: str,
                     refused_out: str | None) -> None:  # fmt: skip
    """Write the payment run: each unpaid supplier invoice with whom to pay; refused lines apart, with the reason."""
    from radian.payables import PayableFilters, export_csv, payables

    if supplier is not None and not supplier.isdigit():
        fail(f"--supplier: expected a NIT of digits without DV, got {supplier!r}")
    filters = PayableFilters(due_before=due_before.date() if due_before else None, supplier_nit=supplier)
    with current_runtime(settings) as rt, rt.sessions() as s:
        export = export_csv(payables(s, filters), excel=excel)
    target = Path(out)
    refused = Path(refused_out) if refused_out else target.with_name(f"{target.stem}-rechazadas{target.suffix}")
    encoding = "utf-8"
    target.write_text(export.payable, encoding=encoding, newline="")
    refused.write_text(export.refused, encoding=encoding, newline="")
    click.echo(f"{export.counts['payable']} línea(s) a pagar en {target}; {export.counts['refused']} rechazada(s) "
               f"en {refused}")  # fmt: skip
