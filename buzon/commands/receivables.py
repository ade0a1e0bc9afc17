"""`buzon title import|list|show|sync|register|endorse|report|pay|mandate|protest|transfer …`: our own invoices as
títulos valor (receivables); and `buzon title pay-supplier …`: our payment of a received invoice that is a title (045,
or 051 after a notified transfer), to the payee DIAN's replay names, shown before signing.

Each action asks radian.service.TitleService, which checks DIAN's rules first: a refusal is one line and exit 2,
naming the rule; an allowed action is signed, queued and (by default) sent to DIAN at once through the events outbox.
The endorsement's price (value × (100 − rate) / 100) is printed before signing and needs --yes (or a confirmation).
``add_receivable_commands(group)`` puts them on the `title` group (buzon/commands/title.py).

The RADIAN modules are imported inside each command (start-up time: `buzon --help` does not load them).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from buzon.commands.errors import fail
from buzon.commands.options import cli_actor, current_runtime, with_settings
from buzon.config import Settings

__all__ = ["add_receivable_commands"]

_title_key = click.argument("key", metavar="TITLE")
_deliver = click.option("--deliver/--queue-only", default=True, help="Send the event to DIAN right away (default).")


def _money(value: Decimal | None) -> str:
    """Colombian format ("$ 116.025,00"), as the title pages and the alerts write amounts."""
    from radian.messages import pesos

    return pesos(value)


def _amount(text: str | None, field: str) -> Decimal | None:
    from radian.actions import ActionError, parse_amount

    try:
        return parse_amount(text, field, allow_zero=field == "--rate")
    except ActionError as exc:
        fail(str(exc))


def _find(rt: Any, key: str) -> Any:
    title = rt.titles.find(key)
    if title is None:
        fail(f"no hay un título con id, CUFE o número {key!r} (`buzon title list` los muestra)")
    return title


def _act(settings: Settings, key: str, make: Callable[[Any], Any], deliver: bool, *, confirm: Callable[[Any, Any],
         None] | None = None) -> None:  # fmt: skip
    from radian.actions import ActionError

    with current_runtime(settings) as rt:
        title = _find(rt, key)
        try:
            action = make(title)
        except ActionError as exc:
            fail(str(exc))
        if confirm is not None:
            preview = rt.titles.check(title.id, action)
            if not preview.allowed:
                fail(f"Buzón no lo envía: {preview.line}")
            confirm(title, preview)
        outcome = rt.titles.act(title.id, action, actor=cli_actor(), source="cli", deliver=deliver)
        if outcome.pending_approval is not None:  # four-eyes: nothing signed; approved at /aprobaciones
            click.echo(f"{outcome.reason} Apruébela otra persona en /aprobaciones.", err=True)
            raise SystemExit(3)
        if not outcome.allowed:
            fail(f"Buzón no lo envía: {outcome.line}")
        click.echo(outcome.line)
        if outcome.dian_messages:
            click.echo("DIAN: " + "; ".join(outcome.dian_messages))
        if outcome.state == "rejected":
            raise SystemExit(1)


def add_receivable_commands(group: click.Group) -> None:
    """Add the receivable commands to the `title` group."""

    @group.command("import")
    @with_settings
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--answer", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                  help="DIAN's ApplicationResponse when FILE is the bare invoice.")  # fmt: skip
    def import_title(settings: Settings, file: Path, answer: Path | None) -> None:
        """Import an invoice we issued elsewhere (AttachedDocument, or the invoice with --answer) as a receivable."""
        from radian.importing import ImportRefused

        with current_runtime(settings) as rt:
            try:
                imported = rt.titles.import_invoice(file.read_bytes(), actor=cli_actor(), source="cli",
                                                    dian_answer=answer.read_bytes() if answer else None)  # fmt: skip
            except ImportRefused as exc:
                fail(str(exc))
        click.echo(f"{imported.summary} Título {imported.title_id}, CUFE {imported.cufe}.")
        for warning in imported.warnings:
            click.echo(f"aviso: {warning}")

    @group.command("list")
    @with_settings
    def list_titles(settings: Settings) -> None:
        """Every title: id, invoice, state, holder, due date, value and outstanding balance."""
        with current_runtime(settings) as rt:
            rows = rt.titles.titles()
        if not rows:
            click.echo("No hay títulos.")
        for t in rows:
            due = t.due_date.isoformat() if t.due_date else "—"
            frozen = " LIMITADA" if t.limited else ""
            holder = f"tenedor {t.holder_nit} {t.holder_name}"
            click.echo(f"{t.id}\t{t.role.value}\t{t.invoice_number}\t{t.state.value}{frozen}\t{holder}\tvence {due}"
                       f"\tvalor {_money(t.value)}\tsaldo {_money(t.outstanding)}")  # fmt: skip

    @group.command("show")
    @with_settings
    @_title_key
    def show(settings: Settings, key: str) -> None:
        """One title and its chain of events (030-051)."""
        with current_runtime(settings) as rt:
            t = _find(rt, key)
            chain = rt.titles.chain(t.id)
            derived = rt.titles.derived(t.id)
        click.echo(f"Título {t.id} — factura {t.invoice_number} (CUFE {t.invoice_cufe})")
        click.echo(f"Estado: {t.state.value}{' (limitada: pago congelado)' if t.limited else ''}")
        click.echo(f"Tenedor legítimo: {t.holder_name} (NIT {t.holder_nit}); pagar a: {t.payee_name} "
                   f"(NIT {t.payee_nit})")  # fmt: skip
        click.echo(f"Deudor: {t.debtor_name} (NIT {t.debtor_nit}); vence {t.due_date or '—'}")
        click.echo(f"Valor {_money(t.value)}; pagado {_money(t.paid)}; saldo {_money(t.outstanding)}")
        for link in derived.mandates if derived else ():
            mandate = link.event.mandate
            until = f" hasta {mandate.end_date}" if mandate and mandate.end_date else " sin término"
            click.echo(f"Mandato vigente a NIT {mandate.mandatario_nit if mandate else '—'}{until} "
                       f"(CUDE {link.event.cude})")  # fmt: skip
        for e in chain:
            variant = f"/{e.operation.value}" if e.operation else ""
            when = e.signing_time.isoformat() if e.signing_time else "—"
            click.echo(f"  {e.code.value}{variant}\t{e.number or '—'}\t{e.direction.value}\t{e.submission_state.value}"
                       f"\t{when}\t{e.sender_nit or ''} → {e.receiver_nit or ''}")  # fmt: skip

    @group.command("sync")
    @with_settings
    @click.argument("key", metavar="[TITLE]", required=False)
    @click.option("--all", "every", is_flag=True, help="Every receivable due a look (the job title_sync, once).")
    def sync(settings: Settings, key: str | None, every: bool) -> None:
        """Ask DIAN what is registered on the title's invoice (e.g. the buyer's acceptance), or on all with --all."""
        if every == (key is not None):
            fail("name one TITLE or use --all")
        with current_runtime(settings) as rt:
            if every:
                from buzon import jobs

                jobs.use(rt)
                done = jobs.title_sync()
                if done["outcome"] != "ok":
                    fail(f"la sincronización falló: {done['error']}", code=1)
                summary = done["summary"]
                click.echo(f"consultados {summary.get('asked', 0)}; con novedades {summary.get('synced', 0)}; "
                           f"eventos nuevos {summary.get('observed', 0)}; reclamos {summary.get('claims', 0)}; "
                           f"fallidos {summary.get('failed', 0)}")  # fmt: skip
                return
            assert key is not None
            title = _find(rt, key)
            result = rt.titles.sync(title.id, actor=cli_actor())
        if result.error:
            fail(result.error, code=1)
        click.echo(f"nuevos: {', '.join(result.observed) or 'ninguno'}; confirmados: "
                   f"{', '.join(result.confirmed) or 'ninguno'}")  # fmt: skip

    @group.command("register")
    @with_settings
    @_title_key
    @click.option("--direct-buyer", help="362/364: NIT of the pre-agreed buyer of the title (negociación directa).")
    @click.option("--direct-buyer-name", help="Its name.")
    @_deliver
    def register(settings: Settings, key: str, direct_buyer: str | None, direct_buyer_name: str | None,
                 deliver: bool) -> None:  # fmt: skip
        """036: register the invoice in RADIAN as a título valor."""
        from radian.actions import Counterparty, Register

        def make(_title: Any) -> Any:
            if direct_buyer and not direct_buyer_name:
                fail("--direct-buyer needs --direct-buyer-name")
            return Register(Counterparty(direct_buyer, direct_buyer_name or "") if direct_buyer else None)

        _act(settings, key, make, deliver)

    @group.command("endorse")
    @with_settings
    @_title_key
    @click.option("--to", "to_nit", required=True, help="The endorsee's NIT (the factor), without DV.")
    @click.option("--name", "to_name", required=True, help="The endorsee's name.")
    @click.option("--rate", default="0", show_default=True, help="Discount rate in percent (TasaDescuento).")
    @click.option("--amount", help="The endorsed value (default: the outstanding balance).")
    @click.option("--kind", type=click.Choice(["property", "guarantee", "collection"]), default="property",
                  show_default=True, help="037 in property, 038 in guarantee, 039 for collection.")  # fmt: skip
    @click.option("--without-responsibility", is_flag=True, help="372: sin responsabilidad del endosante.")
    @click.option("--blank", is_flag=True, help="Blank endorsement (listID 2).")
    @click.option("--yes", is_flag=True, help="Sign without asking after showing the price.")
    @_deliver
    def endorse(settings: Settings, key: str, to_nit: str, to_name: str, rate: str, amount: str | None, kind: str,
                without_responsibility: bool, blank: bool, yes: bool, deliver: bool) -> None:  # fmt: skip
        """037/038/039: endorse the title (the price value × (100 − rate) / 100 is shown before signing)."""
        from radian.actions import Counterparty, Endorse

        rate_value = _amount(rate, "--rate") or Decimal(0)
        amount_value = _amount(amount, "--amount")

        def make(_title: Any) -> Any:
            return Endorse(Counterparty(to_nit, to_name), rate=rate_value, kind=kind, blank=blank,
                           with_responsibility=not without_responsibility, amount=amount_value)  # fmt: skip

        def confirm(title: Any, preview: Any) -> None:
            if preview.quote is not None:
                q = preview.quote
                click.echo(f"Endoso de {_money(q.value)} a {to_name} (NIT {to_nit}) con tasa {q.rate} %: precio a "
                           f"pagar {_money(q.price)} (descuento {_money(q.discount)}).")  # fmt: skip
            if not yes and not click.confirm("¿Firmar el endoso?", default=False):
                fail("no se firmó: cancelado")

        _act(settings, key, make, deliver, confirm=confirm)

    @group.command("report")
    @with_settings
    @_title_key
    @_deliver
    def report(settings: Settings, key: str, deliver: bool) -> None:
        """046: report the title to the debtor for payment (at least 3 business days before due)."""
        from radian.actions import ReportForPayment

        _act(settings, key, lambda _t: ReportForPayment(), deliver)

    @group.command("pay")
    @with_settings
    @_title_key
    @click.option("--amount", help="The amount received (default: the whole outstanding balance, 452).")
    @click.option("--date", "paid_on", type=click.DateTime(formats=["%Y-%m-%d"]), help="Payment date (default today).")
    @_deliver
    def pay(settings: Settings, key: str, amount: str | None, paid_on: datetime | None, deliver: bool) -> None:
        """045: record a payment received (451 partial, 452 total)."""
        from radian.actions import RecordPayment

        value = _amount(amount, "--amount")
        day: date | None = paid_on.date() if paid_on else None
        _act(settings, key, lambda _t: RecordPayment(value, day), deliver)

    @group.command("pay-supplier")
    @with_settings
    @_title_key
    @click.option("--amount", help="The amount we paid (default: the whole outstanding balance, 452/512).")
    @click.option("--date", "paid_on", type=click.DateTime(formats=["%Y-%m-%d"]), help="Payment date (default today).")
    @click.option("--transfer", is_flag=True, help="051: we paid the assignee of notified economic rights (A.10).")
    @click.option("--yes", is_flag=True, help="Sign without asking after showing the payee and the amount.")
    @_deliver
    def pay_supplier(settings: Settings, key: str, amount: str | None, paid_on: datetime | None, transfer: bool,
                     yes: bool, deliver: bool) -> None:  # fmt: skip
        """045 (or 051) as the debtor: we paid a supplier invoice that is a title — to its legitimate holder."""
        from radian.actions import PayTransfer, RecordPayment

        value = _amount(amount, "--amount")
        day: date | None = paid_on.date() if paid_on else None

        def make(title: Any) -> Any:
            if title.role.value != "obligor":
                fail(f"el título {title.invoice_number} es por cobrar (factura nuestra): use `buzon title pay`")
            return PayTransfer(value, day) if transfer else RecordPayment(value, day)

        def confirm(title: Any, preview: Any) -> None:
            payee = preview.payee
            paid = value if value is not None else title.outstanding
            limited = " (bajo limitación 041)" if preview.list_id == "2" else ""
            click.echo(f"Pago {preview.operation.value} ({preview.operation.label}) de {_money(paid)} de "
                       f"{_money(title.outstanding)} pendientes, a {payee.registration_name} (NIT {payee.nit}), "
                       f"listID {preview.list_id}{limited}")  # fmt: skip
            if not yes and not click.confirm("¿Firmar el pago?", default=False):
                fail("no se firmó: cancelado")

        _act(settings, key, make, deliver, confirm=confirm)

    @group.command("pay-supplier-file")
    @with_settings
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--date", "paid_on", type=click.DateTime(formats=["%Y-%m-%d"]), help="Payment date (default today).")
    @_deliver
    def pay_supplier_file(settings: Settings, file: Path, paid_on: datetime | None, deliver: bool) -> None:
        """045 for each line of a payment file Buzón exported (`/pagos.csv`) once the bank paid it: each line's payee
        must still be the title's legitimate payee, else that line is refused (exit 2) and nothing is signed for it."""
        from dian.nit import same_nit
        from radian.actions import RecordPayment
        from radian.payables import read_paid_file

        try:
            lines = read_paid_file(file.read_text("utf-8-sig"))
        except (UnicodeDecodeError, ValueError) as exc:
            fail(f"{file.name}: {exc}")
        day: date | None = paid_on.date() if paid_on else None
        refused = 0
        with current_runtime(settings) as rt:
            for line in lines:
                title = rt.titles.find(line.cufe)
                if title is None or title.role.value != "obligor":
                    click.echo(f"{line.cufe[:12]}…: no es una factura recibida con título en Buzón; no se registra.")
                    refused += 1
                    continue
                if not same_nit(line.payee_nit, title.payee_nit):
                    click.echo(f"{title.invoice_number}: el archivo pagó a NIT {line.payee_nit}, pero quien debe "
                               f"recibir el pago es {title.payee_name} (NIT {title.payee_nit}); ese pago no extingue "
                               "la deuda y no se registra en RADIAN.")  # fmt: skip
                    refused += 1
                    continue
                outcome = rt.titles.act(title.id, RecordPayment(line.amount, day), actor=cli_actor(), source="cli",
                                        deliver=deliver)  # fmt: skip
                click.echo(f"{title.invoice_number}: {outcome.line}")
                refused += 0 if outcome.allowed and outcome.state != "rejected" else 1
        if refused:
            fail(f"{refused} de {len(lines)} líneas no se registraron")

    @group.command("cancel-endorsement")
    @with_settings
    @_title_key
    @click.option("--endorsement", required=True, help="CUDE of our 038/039 to cancel.")
    @click.option("--reason", help="402: why the collection endorsement is revoked.")
    @_deliver
    def cancel(settings: Settings, key: str, endorsement: str, reason: str | None, deliver: bool) -> None:
        """040: cancel our endorsement in guarantee (401) or for collection (402)."""
        from radian.actions import CancelEndorsement

        _act(settings, key, lambda _t: CancelEndorsement(endorsement, reason), deliver)

    @group.command("mandate")
    @with_settings
    @_title_key
    @click.option("--to", "to_nit", required=True, help="The mandatario's NIT, without DV.")
    @click.option("--name", "to_name", required=True, help="The mandatario's name.")
    @click.option("--type", "kind", type=click.Choice(["factor", "negotiation-system", "technology-provider"]),
                  default="factor", show_default=True, help="M-Factor, M-SN-e or M-PT.")  # fmt: skip
    @click.option("--until", type=click.DateTime(formats=["%Y-%m-%d"]), help="End of the mandate (default: none).")
    @_deliver
    def mandate(settings: Settings, key: str, to_nit: str, to_name: str, kind: str, until: datetime | None,
                deliver: bool) -> None:  # fmt: skip
        """043: give a mandatario powers over this invoice (431 for a time with --until, 432 unlimited)."""
        from dian.codes import MandatarioType
        from radian.actions import Counterparty, GrantMandate

        types = {"factor": MandatarioType.FACTOR, "negotiation-system": MandatarioType.NEGOTIATION_SYSTEM,
                 "technology-provider": MandatarioType.TECHNOLOGY_PROVIDER}  # fmt: skip
        end = until.date() if until else None

        def make(_title: Any) -> Any:
            return GrantMandate(Counterparty(to_nit, to_name), types[kind], end_date=end)

        _act(settings, key, make, deliver)

    @group.command("end-mandate")
    @with_settings
    @_title_key
    @click.option("--mandate", "mandate_cude", required=True, help="CUDE of our 043 (`buzon title show` lists it).")
    @click.option("--reason", help="Why it is revoked (default: the usual clause).")
    @_deliver
    def end_mandate(settings: Settings, key: str, mandate_cude: str, reason: str | None, deliver: bool) -> None:
        """044: revoke a mandate we gave (441)."""
        from radian.actions import EndMandate

        _act(settings, key, lambda _t: EndMandate(mandate_cude, reason) if reason else EndMandate(mandate_cude),
             deliver)  # fmt: skip

    @group.command("protest")
    @with_settings
    @_title_key
    @click.option("--certificate", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
                  help="The protest certificate (PDF) attached to the event.")  # fmt: skip
    @click.option("--non-acceptance", is_flag=True, help="481: for non-acceptance, before due (default 482: "
                  "non-payment, after due).")  # fmt: skip
    @_deliver
    def protest(settings: Settings, key: str, certificate: Path, non_acceptance: bool, deliver: bool) -> None:
        """048: protest the title for non-payment (482) or non-acceptance (481), with the certificate."""
        from radian.actions import Protest_

        pdf = certificate.read_bytes()
        _act(settings, key, lambda _t: Protest_(pdf, non_payment=not non_acceptance, filename=certificate.name),
             deliver)  # fmt: skip

    @group.command("transfer")
    @with_settings
    @_title_key
    @click.option("--to", "to_nit", required=True, help="The assignee's NIT, without DV.")
    @click.option("--name", "to_name", required=True, help="The assignee's name.")
    @click.option("--rate", default="0", show_default=True, help="Discount rate in percent.")
    @click.option("--amount", help="The value transferred (default: the outstanding balance, a total transfer).")
    @click.option("--without-responsibility", is_flag=True, help="Sin responsabilidad del cedente.")
    @click.option("--yes", is_flag=True, help="Sign without asking after showing the price.")
    @_deliver
    def transfer(settings: Settings, key: str, to_nit: str, to_name: str, rate: str, amount: str | None,
                 without_responsibility: bool, yes: bool, deliver: bool) -> None:  # fmt: skip
        """049: transfer the title's economic rights to an assignee (then `notify-transfer` tells the debtor)."""
        from radian.actions import Counterparty, TransferRights, endorsement_price

        rate_value = _amount(rate, "--rate") or Decimal(0)
        amount_value = _amount(amount, "--amount")

        def make(_title: Any) -> Any:
            return TransferRights(Counterparty(to_nit, to_name), rate=rate_value, amount=amount_value,
                                  with_responsibility=not without_responsibility)  # fmt: skip

        def confirm(title: Any, _preview: Any) -> None:
            value = amount_value if amount_value is not None else (title.outstanding or Decimal(0))
            click.echo(f"Cesión de derechos por {_money(value)} a {to_name} (NIT {to_nit}) con tasa {rate_value} %: "
                       f"precio {_money(endorsement_price(value, rate_value))}.")  # fmt: skip
            if not yes and not click.confirm("¿Firmar la transferencia?", default=False):
                fail("no se firmó: cancelado")

        _act(settings, key, make, deliver, confirm=confirm)

    @group.command("notify-transfer")
    @with_settings
    @_title_key
    @_deliver
    def notify_transfer(settings: Settings, key: str, deliver: bool) -> None:
        """050: notify the debtor that the economic rights were transferred (it then pays the assignee)."""
        from radian.actions import NotifyTransfer

        _act(settings, key, lambda _t: NotifyTransfer(), deliver)
