"""`buzon soporte`: the documento soporte (05) of purchases from sellers not obliged to invoice, and the week's
purchases gathered into one (generation mode 2). `buzon issue FILE.json` hands a body with ``kind``
("support_document" | "support_adjustment") to :func:`issue_support`.

Refusals are one line and exit 2 (every problem with its field); a document DIAN rejects exits 1. The CLI speaks
Spanish like its neighbour `buzon issue`.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from buzon.commands.errors import fail
from buzon.commands.options import cli_actor, current_runtime, with_settings
from buzon.commands.outcome import echo_issued, issue_one
from buzon.config import Settings

__all__ = ["issue_support", "soporte"]

MAX_FILE_BYTES = 1024 * 1024


def _read_json(path: str) -> object:
    # `buzon issue`'s reader is not imported: that module hands DS bodies to this one (no import circle).
    file = Path(path)
    try:
        if file.stat().st_size > MAX_FILE_BYTES:
            fail(f"{path}: más de 1 MB; una compra no es tan grande")
        return json.loads(file.read_text(encoding="utf-8"), parse_float=Decimal)
    except FileNotFoundError:
        fail(f"{path}: no existe")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{path}: no se puede leer ({exc.__class__.__name__}: {exc})")
    except json.JSONDecodeError as exc:
        fail(f"{path}: no es JSON válido (línea {exc.lineno}, columna {exc.colno}: {exc.msg})")


def _print(done: Any) -> None:
    echo_issued(done, key_label="CUDS", total_label="Total")


def issue_support(settings: Settings, data: dict[str, Any], *, idempotency_key: str | None, deliver: bool) -> None:
    """Issue a 05 or 95 from its native JSON (``kind`` says which)."""
    from issuing.support_request import read_support_request

    request, problems = read_support_request(data)
    done = issue_one(settings, request, problems, lambda rt: rt.support, idempotency_key=idempotency_key,
                     deliver=deliver)  # fmt: skip
    _print(done)


@click.group("soporte")
def soporte() -> None:
    """Documento soporte (05): purchases from sellers not obliged to invoice; `buzon issue` issues one from JSON."""


@soporte.command("purchase")
@with_settings
@click.argument("file", metavar="FILE.json", type=click.Path(dir_okay=False))
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="The purchase's day (default: today).")
def purchase(settings: Settings, file: str, day: dt.datetime | None) -> None:
    """Register one purchase for the seller's weekly DS: FILE.json is {"seller": {...}, "line": {...}}."""
    from dian.calendar import BOGOTA
    from issuing.problems import PayloadError
    from issuing.support_week import register

    data = _read_json(file)
    if not isinstance(data, dict) or set(data) - {"seller", "line"} or not {"seller", "line"} <= set(data):
        fail(f'{file}: se espera {{"seller": {{...}}, "line": {{...}}}}')
    purchased_on = day.date() if day is not None else dt.datetime.now(BOGOTA).date()
    with current_runtime(settings) as rt:
        try:
            done = register(rt.support, data["seller"], data["line"], purchased_on, actor=cli_actor())
        except PayloadError as exc:
            fail("la compra no se registra: " + "; ".join(str(p) for p in exc.problems))
    click.echo(f"Compra {done.id} del vendedor {done.seller_id} registrada para la semana {done.week}")


@soporte.command("accumulate")
@with_settings
@click.option("--seller", required=True, help="The seller's identification number (as registered).")
@click.option("--week", required=True, help="ISO week, e.g. 2026-W48.")
@click.option("--deliver/--queue-only", default=True, help="Send it to DIAN right away (default) or leave it queued.")
def accumulate_week(settings: Settings, seller: str, week: str, deliver: bool) -> None:
    """Issue one DS (mode 2, acumulado semanal) of the seller's open purchases of WEEK."""
    from issuing.problems import PayloadError
    from issuing.support_week import WeekError, accumulate

    with current_runtime(settings) as rt:
        try:
            done = accumulate(rt.support, seller, week, actor=cli_actor(), deliver=deliver)
        except WeekError as exc:
            fail(str(exc))
        except PayloadError as exc:
            fail("el documento no se expide: " + "; ".join(str(p) for p in exc.problems))
    _print(done)
