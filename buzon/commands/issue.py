"""`buzon issue FILE.json|FILE.csv`: issue one of our invoices or notes from the native JSON payload, or every document
of a CSV file (issuing/csv_input.py: one row per line item, grouped by the ``document`` column) — number, CUFE/CUDE
and DIAN's verdict printed; `buzon ranges sync|list`: our numbering ranges as DIAN authorized them (GetNumberingRange).

Refusals are one line and exit 2 (every problem of the payload, with its field); a document DIAN rejects exits 1.
The issuing modules are imported inside each command (start-up time: `buzon --help` does not load them).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import click

from buzon.commands.errors import fail
from buzon.commands.options import cli_actor, current_runtime, with_settings
from buzon.commands.outcome import echo_issued, issue_one
from buzon.config import Settings

__all__ = ["issue", "ranges"]

MAX_FILE_BYTES = 5 * 1024 * 1024


# The CSV columns (issuing/csv_input.py's COLUMNS; a test keeps the two lists equal), written out here so that
# `buzon --help` does not import the issuing modules.
CSV_HELP = """\b
CSV: one row per line item; comma or semicolon separated; UTF-8; a header row naming these columns (always needed:
document, and each line's description, quantity and unit_price; an empty cell is an absent field):
  document            the document key: the rows with the same key are one document
  type                01 venta (default), 02 exportación, 03, 04, 91 nota crédito, 92 nota débito
  number prefix resolution_number   the numbering the ERP chose (optional)
  currency exchange_rate exchange_date order_reference note
  customer_id_type customer_id customer_dv customer_name customer_organization customer_tax_levels
  customer_tax_scheme customer_trade_name customer_email customer_phone customer_address customer_city_code
  customer_city customer_department customer_department_code customer_country customer_postal_code
  payment_form payment_method due_date
  reference_number reference_uuid reference_issue_date concept concept_description period_start period_end
  paper_number paper_date          (type 03: the paper invoice)
  reteiva reterenta reteica        withholding rates, percent
  total_payable                    the ERP's own total, checked within 2.00
  per line: description quantity unit_price unit code reference_price discount discount_percent
  discount_reason iva inc ica (rates, percent) inc_bolsas (pesos per bag)
A document's fields go on its first row (or on each of its rows, the same). Problems name the row (the header is
row 1) and the column: "fila 3, columna iva: ...". Nothing is issued while any row has a problem."""


def _read_text(path: str) -> str:
    file = Path(path)
    try:
        if file.stat().st_size > MAX_FILE_BYTES:
            fail(f"{path}: más de {MAX_FILE_BYTES // (1024 * 1024)} MB; un documento no es tan grande")
        return file.read_text(encoding="utf-8")
    except FileNotFoundError:
        fail(f"{path}: no existe")
    except UnicodeDecodeError:
        fail(f"{path}: no está en UTF-8; guárdelo como «CSV UTF-8» (o el JSON en UTF-8)")
    except OSError as exc:
        fail(f"{path}: no se puede leer ({exc.__class__.__name__}: {exc})")


def _read_json(path: str) -> object:
    text = _read_text(path)
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        fail(f"{path}: no es JSON válido (línea {exc.lineno}, columna {exc.colno}: {exc.msg})")


@click.command("issue", epilog=CSV_HELP)
@with_settings
@click.argument("file", metavar="FILE.json|FILE.csv", type=click.Path(dir_okay=False))
@click.option("--key", "idempotency_key", help="Idempotency key: the same key with the same file returns the first "
              "document instead of issuing another; with another file it is refused. In a CSV file each document's "
              "key is KEY/DOCUMENT.")  # fmt: skip
@click.option("--deliver/--queue-only", default=True, help="Send it to DIAN right away (default) or leave it queued "
              "for the job deliver_issued.")  # fmt: skip
def issue(settings: Settings, file: str, idempotency_key: str | None, deliver: bool) -> None:
    """Issue one invoice or note from FILE.json (the native payload), or every document of FILE.csv (one row per line
    item, the columns below): validate, number, sign, send to DIAN."""
    from issuing.request import read_request

    if file.lower().endswith(".csv"):
        return _issue_csv(settings, file, idempotency_key, deliver)
    if not file.lower().endswith(".json"):
        fail(f"{file}: se espera un archivo .json con el documento o .csv con sus líneas")
    data = _read_json(file)
    if isinstance(data, dict) and "kind" in data:  # a documento soporte or its note 95 (buzon/commands/support.py)
        from buzon.commands.support import issue_support

        return issue_support(settings, data, idempotency_key=idempotency_key, deliver=deliver)
    request, problems = read_request(data)
    done = issue_one(settings, request, problems, lambda rt: rt.issuing, idempotency_key=idempotency_key,
                     deliver=deliver)  # fmt: skip
    label = "CUFE" if done.document_type.is_invoice and done.document_type.value != "03" else "CUDE"
    echo_issued(done, key_label=label, total_label="Total a pagar")


def _issue_csv(settings: Settings, file: str, idempotency_key: str | None, deliver: bool) -> None:
    """Every document of a CSV file, all read before any is issued; exit 1 when DIAN rejected one."""
    from issuing.csv_input import read_csv
    from issuing.problems import PayloadError

    documents, problems = read_csv(_read_text(file))
    if problems:
        fail(f"{file}: no se expide ningún documento: " + "; ".join(str(p) for p in problems))
    rejected = []
    with current_runtime(settings) as rt:
        for document in documents:
            key = f"{idempotency_key}/{document.key}" if idempotency_key is not None else None
            try:
                done = rt.issuing.issue(document.request, actor=cli_actor(), idempotency_key=key, client_key="cli",
                                        deliver=deliver)  # fmt: skip
            except PayloadError as exc:
                fail(f"el documento {document.key} no se expide: " + "; ".join(str(p) for p in exc.problems))
            click.echo(f"[{document.key}] {done.document_type.label} {done.number}"
                       + (" (ya expedido con esta clave)" if done.replayed else ""))  # fmt: skip
            click.echo(f"  CUFE/CUDE: {done.uuid}")
            click.echo(f"  Total a pagar: {done.payable:,.2f}")
            click.echo(f"  DIAN: {done.verdict}")
            failed = [done.last_error] if done.state.value == "send_failed" and done.last_error else []
            for message in (*done.dian_messages, *failed):
                click.echo(f"    {message}")
            if done.state.value == "rejected":
                rejected.append(document.key)
    if rejected:
        raise SystemExit(1)


@click.group("ranges")
def ranges() -> None:
    """Numbering ranges: read them from DIAN (never typed by hand) and list them."""


def _print_warnings(rt: object) -> None:
    for warning in rt.issuing.warnings():  # type: ignore[attr-defined]
        click.echo(f"Aviso: {warning.message}")


@ranges.command("sync")
@with_settings
def sync(settings: Settings) -> None:
    """Read our ranges from DIAN (GetNumberingRange) and keep them."""
    from dian.soap import DianServiceError
    from issuing.ranges import RangeError

    with current_runtime(settings) as rt:
        try:
            report = rt.issuing.sync_ranges(actor=cli_actor())
        except RangeError as exc:
            fail(str(exc))
        except DianServiceError as exc:
            fail(f"la DIAN no respondió: {exc}", code=1)
        for label, items in (("nuevo", report.added), ("actualizado", report.updated), ("retirado", report.retired)):
            for item in items:
                click.echo(f"{label}: {item}")
        if report.added:  # GetNumberingRange does not say what a range numbers; DIAN refuses the other kind's number
            click.echo("los rangos nuevos numeran facturas; si uno es del documento soporte o de contingencia, "
                       "dígalo antes de expedir: buzon ranges kind PREFIJO support_document|contingency")  # fmt: skip
        if not (report.added or report.updated or report.retired):
            click.echo(f"sin cambios ({len(report.unchanged)} rango(s) como estaban)")
        _print_warnings(rt)


@ranges.command("list")
@with_settings
def list_ranges(settings: Settings) -> None:
    """The ranges of this environment: prefix, span, next number, validity (the technical key is not shown)."""
    with current_runtime(settings) as rt:
        rows = rt.issuing.ranges()
        if not rows:
            click.echo("no hay rangos: léalos de la DIAN con `buzon ranges sync`")
        for row in rows:
            size = row.to_number - row.from_number + 1
            used = row.next_number - row.from_number
            validity = f"{row.valid_from} a {row.valid_to}" if row.valid_to else "sin vencimiento"
            origin = f"resolución {row.resolution_number}" if row.source == "dian" else "serie propia"
            state = "" if row.active else " [retirado]"
            click.echo(f"{row.kind:<12} {row.prefix or '-':<5} {row.from_number}-{row.to_number}  siguiente "
                       f"{row.next_number}  usado {used / size:.1%}  {origin}  {validity}{state}")  # fmt: skip
        _print_warnings(rt)


@ranges.command("next")
@with_settings
@click.argument("prefix")
@click.argument("number", type=int)
def next_number(settings: Settings, prefix: str, number: int) -> None:
    """Start numbering the DIAN range PREFIX at NUMBER (its first numbers were used by another software)."""
    from issuing.ranges import RangeError

    with current_runtime(settings) as rt:
        try:
            row = rt.issuing.set_next_number(prefix, number, actor=cli_actor())
        except RangeError as exc:
            fail(str(exc))
        click.echo(f"{row.prefix}: el siguiente número es {row.next_number}")


@ranges.command("kind")
@with_settings
@click.argument("prefix")
@click.argument("kind", type=click.Choice(["invoice", "contingency", "support_document"]))
def range_kind(settings: Settings, prefix: str, kind: str) -> None:
    """Say whether the DIAN range PREFIX numbers invoices (01, 02, 04), contingency invoices (03) or documentos
    soporte (05, their own authorization)."""
    from issuing.ranges import RangeError, RangeKind

    with current_runtime(settings) as rt:
        try:
            row = rt.issuing.set_kind(prefix, RangeKind(kind), actor=cli_actor())
        except RangeError as exc:
            fail(str(exc))
        click.echo(f"{row.prefix}: numera {RangeKind(row.kind).label}")
