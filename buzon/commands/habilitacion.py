"""`buzon habilitacion run --test-set-id ID`: DIAN's habilitación test set (radian-issuing-facts B.7) — the quota's
invoices from built-in sample sales, then the credit and debit notes on the accepted ones, each sent with
SendTestSetAsync and followed with GetStatusZip; one line per document with DIAN's answer and a final line
(accepted/required per kind). Exit 0 when the quota is met, 1 otherwise."""

from __future__ import annotations

import click

from buzon.commands.errors import Group, fail
from buzon.commands.options import cli_actor, current_runtime, with_settings
from buzon.config import Settings

__all__ = ["habilitacion"]


@click.group("habilitacion", cls=Group)
def habilitacion() -> None:
    """DIAN's habilitación: the test set of our invoices and notes."""


@habilitacion.command("run")
@with_settings
@click.option("--test-set-id", default=None, help="The TestSetId from DIAN's portal (default: dian.test_set_id).")
def run(settings: Settings, test_set_id: str | None) -> None:
    """Issue and send the whole test set; say what DIAN answered per document."""
    from issuing.habilitacion import Quota, run_test_set

    if settings.dian.environment == "produccion":
        fail("el set de pruebas no se envía en producción (dian.environment = produccion)")
    test_set_id = (test_set_id or settings.dian.test_set_id).strip()
    if not test_set_id:
        fail("falta el TestSetId: use --test-set-id o dian.test_set_id")
    cfg = settings.issuing
    quota = Quota(cfg.test_set_invoices, cfg.test_set_credit_notes, cfg.test_set_debit_notes)
    with current_runtime(settings) as rt:
        if not rt.issuing.ranges():
            rt.issuing.sync_ranges(actor=cli_actor())
        client = rt.dian_client()
        try:
            report = run_test_set(rt.issuing, client, test_set_id, quota, actor=cli_actor(),
                                  poll_seconds=cfg.test_set_poll_seconds,
                                  max_wait_seconds=cfg.test_set_max_wait_seconds, say=click.echo)  # fmt: skip
        except ValueError as exc:
            fail(str(exc))
        finally:
            client.close()
    click.echo(report.summary())
    if not report.complete:
        raise SystemExit(1)
