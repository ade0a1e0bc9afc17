"""We pay a supplier invoice that is a title and say so to RADIAN (issue 17, payable side: "We send 045 (as buyer) and
051 when we pay"), on SQLite and PostgreSQL against the simulator over HTTP.

A received credit invoice, accepted by us, is registered (036) and endorsed (037) by its supplier to a factor through
the simulator's admin API; one watch sweep moves the payee to the factor. We then pay partially (451) and totally
(452): each payment is checked by dian.rules, signed by us as the debtor, sent, registered by the simulator, and the
title is derived again (partially paid, then paid with nothing outstanding) and leaves the payment run. The payee of
each payment is the factor DIAN's replay names — never typed, so the supplier cannot be paid by construction — and the
045 goes to DIAN as its ReceiverParty (radian-issuing-facts A.3, AAG01), naming the factor in its note. Refusals, one
by one: above the balance, a second payment after 452 (LGC44), a 051 without a notified transfer (LGC86), a
receivable action on a payable; under a judge's 041 the payment is signed with listID 2 (A.9, LGC45).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from dian.codes import DIAN_NIT, EventCode, Operation
from radian.actions import Counterparty, Endorse, PayTransfer, RecordPayment
from radian.payables import payables
from store.models import AlertKind, Direction, DocumentEvent, SubmissionState, TitleAlert, TitleState, ValueTitle
from tests.integration.dian_fixtures import SELLER_NIT
from tests.integration.events_fixtures import EventsBed, events_bed  # noqa: F401 - the fixture
from tests.integration.test_title_watch_e2e import FACTOR, _accepted_invoice, _act, _due_now, _sim, _title, _watch
from tests.integration.titles_fixtures import verify_signatures

pytestmark = pytest.mark.integration


def _endorsed_to_factor(bed: EventsBed) -> tuple[int, str, int]:
    """A received invoice the supplier registered and endorsed to the factor, seen by one watch sweep."""
    doc_id, cufe = _accepted_invoice(bed)
    assert _watch(bed)["enrolled"] == 1
    _act(bed, "register", cufe)
    _act(bed, "endorse", cufe, to=FACTOR, rate="2.5")
    _due_now(bed)
    assert _watch(bed)["holder_changed"] == 1
    row = _title(bed, doc_id)
    assert (row.payee_nit, row.outstanding) == (FACTOR["nit"], Decimal("119000.00"))
    return doc_id, cufe, row.id


def _event(bed: EventsBed, event_id: int | None) -> DocumentEvent:
    with bed.sessions() as s:
        row = s.get(DocumentEvent, event_id)
        assert row is not None
        _ = row.parties
        s.expunge_all()
        return row


def _signed_xml(bed: EventsBed, row: DocumentEvent) -> str:
    assert row.signed_xml_blob
    return bed.runtime.blobs.get(row.signed_xml_blob).decode("utf-8")


def test_we_pay_the_factor_partially_then_totally_and_the_title_is_paid(events_bed: EventsBed) -> None:  # noqa: F811
    bed = events_bed
    us = bed.settings.company.nit_number
    doc_id, cufe, title_id = _endorsed_to_factor(bed)
    titles = bed.runtime.titles

    # A 051 needs the assignee's 049 and its notice 050 first (A.10): refused with DIAN's rule.
    transfer = titles.check(title_id, PayTransfer())
    assert not transfer.allowed and transfer.rule == "LGC86", transfer
    # What only a holder does is not offered on a payable.
    endorse = titles.check(title_id, Endorse(Counterparty("900111222", "OTRO FACTOR S.A.S.")))
    assert not endorse.allowed and "por pagar" in endorse.reason
    # Above the balance: refused with a sentence naming the balance; nothing signed.
    above = titles.act(title_id, RecordPayment(Decimal("119000.01")), actor="test:tesoreria")
    assert not above.allowed and "saldo" in above.reason and "$ 119.000,00" in above.reason, above
    with bed.sessions() as s:
        assert s.scalar(sa.select(sa.func.count()).where(DocumentEvent.code == EventCode.PAGO)) == 0

    # Before signing: the variant, the listID and the payee the replay names (the factor, not the supplier).
    preview = titles.check(title_id, RecordPayment(Decimal("19000.00")))
    assert preview.allowed, preview
    assert (preview.operation, preview.list_id) == (Operation.PARTIAL_PAYMENT, "1")
    assert preview.payee is not None and (preview.payee.nit, preview.payee.registration_name) == (
        FACTOR["nit"], FACTOR["name"])  # fmt: skip

    partial = titles.act(title_id, RecordPayment(Decimal("19000.00")), actor="test:tesoreria", deliver=True)
    assert partial.allowed and partial.state == SubmissionState.REGISTERED.value, partial
    assert partial.payee is not None and partial.payee.nit == FACTOR["nit"]
    event = _event(bed, partial.event_id)
    assert (event.document_id, event.outbound_document_id, event.direction) == (doc_id, None, Direction.EMITTED)
    assert (event.code, event.operation, event.list_id) == (EventCode.PAGO, Operation.PARTIAL_PAYMENT, "1")
    # Sent by us, the debtor, to DIAN (A.3: 045's receiver is DIAN); the payee is named in the signed note.
    assert (event.sender_nit, event.receiver_nit) == (us, DIAN_NIT)
    assert event.amount == Decimal("19000.00") and FACTOR["nit"] in (event.note or "")
    assert SELLER_NIT not in (event.note or "")
    xml = _signed_xml(bed, event)
    assert "InformacionPagos" in xml and "119000.00" in xml and "100000.00" in xml and FACTOR["name"] in xml

    row = _title(bed, doc_id)
    assert (row.state, row.paid, row.outstanding) == (
        TitleState.PARTIALLY_PAID, Decimal("19000.00"), Decimal("100000.00"))  # fmt: skip
    assert row.payee_nit == FACTOR["nit"]
    known = _sim(bed, f"/_sim/invoices/{cufe}")
    assert Decimal(known["current_value"]) == Decimal("100000.00")
    with bed.sessions() as s:
        (line,) = payables(s)
        assert (line.payee_nit, line.outstanding) == (FACTOR["nit"], Decimal("100000.00"))
        alerts = list(s.scalars(sa.select(TitleAlert).where(TitleAlert.title_id == title_id,
                                                            TitleAlert.kind == AlertKind.PARTIALLY_PAID)))  # fmt: skip
        assert len(alerts) == 1 and FACTOR["name"] in alerts[0].message and "100.000,00" in alerts[0].message

    # The rest: a total payment (452) of exactly the balance.
    assert titles.check(title_id, RecordPayment()).operation is Operation.TOTAL_PAYMENT
    total = titles.act(title_id, RecordPayment(), actor="test:tesoreria", deliver=True)
    assert total.allowed and total.state == SubmissionState.REGISTERED.value, total
    event = _event(bed, total.event_id)
    assert (event.operation, event.amount) == (Operation.TOTAL_PAYMENT, Decimal("100000.00"))
    row = _title(bed, doc_id)
    assert (row.state, row.paid, row.outstanding) == (TitleState.PAID, Decimal("119000.00"), Decimal("0.00"))
    with bed.sessions() as s:
        assert payables(s) == []  # no longer in the payment run
        kinds = set(s.scalars(sa.select(TitleAlert.kind).where(TitleAlert.title_id == title_id)))
        assert AlertKind.PAID in kinds
    # Nothing after a total payment (A.9).
    again = titles.check(title_id, RecordPayment(Decimal("1.00")))
    assert not again.allowed and again.rule == "LGC44", again

    # A paid title is no longer watched: the next sweep does not ask DIAN about it.
    _due_now(bed)
    swept = _watch(bed)
    assert swept["asked"] == 0 and swept["settled"] == 0, swept


def test_a_payment_under_a_judges_limitation_is_signed_with_list_id_2(events_bed: EventsBed) -> None:  # noqa: F811
    bed = events_bed
    doc_id, cufe, title_id = _endorsed_to_factor(bed)
    titles = bed.runtime.titles
    first = titles.act(title_id, RecordPayment(Decimal("1000.00")), actor="test:tesoreria", deliver=True)
    assert first.state == SubmissionState.REGISTERED.value, first
    _act(bed, "limit", cufe)
    _due_now(bed)
    swept = _watch(bed)
    # The watch proves every registered event on the title again, our own 451 among them: none is unproven.
    assert swept["limited"] == 1 and swept["unproven"] == 0, swept
    preview = titles.check(title_id, RecordPayment(Decimal("9000.00")))
    assert preview.allowed and preview.list_id == "2", preview
    paid = titles.act(title_id, RecordPayment(Decimal("9000.00")), actor="test:tesoreria", deliver=True)
    assert paid.allowed and paid.state == SubmissionState.REGISTERED.value, paid
    event = _event(bed, paid.event_id)
    assert (event.operation, event.list_id) == (Operation.PARTIAL_PAYMENT, "2")
    row = _title(bed, doc_id)
    assert row.limited and row.paid == Decimal("10000.00") and row.outstanding == Decimal("109000.00")


def test_the_rules_refuse_a_045_under_a_limitation_without_list_id_2(events_bed: EventsBed) -> None:  # noqa: F811
    """What our listID 2 is for: the rules table (the simulator's too) refuses a payment under an active 041 that
    says listID 1 (LGC45)."""
    from dian.rules import Role, Sending, check
    from radian.store import facts_of, load

    bed = events_bed
    _, cufe, title_id = _endorsed_to_factor(bed)
    _act(bed, "limit", cufe)
    _due_now(bed)
    _watch(bed)
    us = bed.settings.company.nit_number
    with bed.sessions() as s:
        title = s.get(ValueTitle, title_id)
        assert title is not None
        facts = facts_of(load(s, bed.runtime.blobs, title), issuer_nit=SELLER_NIT, buyer_nit=us,
                         include_in_flight=False)  # fmt: skip
    decision = check(EventCode.PAGO, role=Role.BUYER, facts=facts, at=dt.datetime.now(dt.UTC),
                     calendar=bed.runtime.ctx.calendar,
                     sending=Sending(Operation.PARTIAL_PAYMENT, us, us, list_id="1"))  # fmt: skip
    assert not decision.allowed and decision.rule == "LGC45", decision


@pytest.mark.parametrize("events_bed", ["sqlite", "postgresql"], indirect=True)
def test_pay_supplier_from_the_command_line_shows_the_payee_before_signing(events_bed: EventsBed, tmp_path) -> None:  # noqa: F811
    import subprocess
    import sys

    from tests.integration.test_events_cli import write_config

    bed = events_bed
    doc_id, _, _ = _endorsed_to_factor(bed)
    number = bed.document(doc_id).number
    config = write_config(bed.settings, tmp_path / "buzon.toml")

    def run(*args: str, code: int = 0, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([sys.executable, "-m", "buzon.cli", "title", *args, "--config", str(config)],
                              capture_output=True, text=True, input=stdin)  # fmt: skip
        assert done.returncode == code, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
        return done

    declined = run("pay-supplier", number, "--amount", "20000", code=2, stdin="n\n")
    assert f"a {FACTOR['name']} (NIT {FACTOR['nit']}), listID 1" in declined.stdout, declined.stdout
    assert "451" in declined.stdout and "$ 119.000,00 pendientes" in declined.stdout
    above = run("pay-supplier", number, "--amount", "120000", "--yes", code=2)
    assert "Valor pagado" in above.stderr and "saldo" in above.stderr
    transfer = run("pay-supplier", number, "--transfer", "--yes", code=2)
    assert "LGC86" in transfer.stderr
    paid = run("pay-supplier", number, "--amount", "20000", "--yes")
    assert "Firmado: 451" in paid.stdout and f"pago a {FACTOR['name']}" in paid.stdout and "registered" in paid.stdout
    row = _title(bed, doc_id)
    assert (row.state, row.outstanding) == (TitleState.PARTIALLY_PAID, Decimal("99000.00"))


ASSIGNEE = {"nit": "901555444", "name": "CESIONARIA DE PRUEBA S.A.S."}


def _as_party(bed: EventsBed, cufe: str, what: str, **fields: object) -> None:
    """The factor's own 049/050, signed by the simulator as the factor and registered through DIAN's checks. The
    admin API has no action for them (dian/simulator/counterparts.py), so the simulator's counterparts are driven in
    process."""
    from dian.nit import check_digit
    from dian.ubl.model import Party

    sim = bed.world.simulator
    title = sim.radian.title_of(cufe)
    assert title is not None
    factor = Party(nit=FACTOR["nit"], dv=check_digit(FACTOR["nit"]), registration_name=FACTOR["name"])
    outcome = sim.counterparts._event(title, {}, sim.clock(), factor, **fields)
    assert outcome.reply.is_valid, (what, outcome.reply.errors)


def test_after_a_notified_transfer_we_pay_the_assignee_with_a_051(events_bed: EventsBed, tmp_path) -> None:  # noqa: F811
    from dian.nit import check_digit
    from dian.radian.blocks import RightsTransfer, TransferNotice
    from dian.radian.model import Share
    from dian.ubl.model import Party

    bed = events_bed
    us = bed.settings.company.nit_number
    doc_id, cufe, title_id = _endorsed_to_factor(bed)
    value = Decimal("119000.00")
    assignee = Party(nit=ASSIGNEE["nit"], dv=check_digit(ASSIGNEE["nit"]), registration_name=ASSIGNEE["name"])
    document = bed.document(doc_id)
    debtor = Party(nit=us, dv=check_digit(us), registration_name=document.buyer_name)
    _as_party(bed, cufe, "049", operation=Operation.TRANSFER_TOTAL_WITH_RESPONSIBILITY, receiver=assignee,
              debtor=debtor, due_date=document.due_date,
              sender_shares=(Share(FACTOR["nit"], FACTOR["name"], check_digit(FACTOR["nit"]), amount=value),),
              receiver_shares=(Share(assignee.nit, ASSIGNEE["name"], assignee.dv, amount=value),),
              block=RightsTransfer(value, value, Decimal(0), "47"))  # fmt: skip
    # Transferred but not yet notified: we still pay the holder, and a 051 is refused (LGC86).
    refused = bed.runtime.titles.check(title_id, PayTransfer())
    assert not refused.allowed and refused.rule == "LGC86", refused
    _as_party(bed, cufe, "050", operation=Operation.TRANSFER_NOTICE, receiver=debtor, due_date=document.due_date,
              block=TransferNotice(value))  # fmt: skip
    _due_now(bed)
    assert _watch(bed)["holder_changed"] == 1  # the payee moved to the assignee (alert 'transferred')
    row = _title(bed, doc_id)
    assert (row.state, row.payee_nit) == (TitleState.TRANSFERRED, ASSIGNEE["nit"])

    titles = bed.runtime.titles
    preview = titles.check(title_id, PayTransfer())
    assert preview.allowed and preview.operation is Operation.TRANSFER_TOTAL_PAYMENT, preview
    assert preview.payee is not None and preview.payee.nit == ASSIGNEE["nit"]  # the assignee, not the factor
    part = titles.act(title_id, PayTransfer(Decimal("19000.00")), actor="test:tesoreria", deliver=True)
    assert part.allowed and part.operation is Operation.TRANSFER_PARTIAL_PAYMENT, part
    assert _title(bed, doc_id).outstanding == Decimal("100000.00")
    paid = titles.act(title_id, PayTransfer(), actor="test:tesoreria", deliver=True)
    assert paid.allowed and paid.state == SubmissionState.REGISTERED.value, paid
    event = _event(bed, paid.event_id)
    assert (event.code, event.operation, event.list_id) == (EventCode.PAGO_TRANSFERENCIA,
                                                            Operation.TRANSFER_TOTAL_PAYMENT, "1")  # fmt: skip
    assert (event.sender_nit, event.amount) == (us, Decimal("100000.00")) and ASSIGNEE["nit"] in (event.note or "")
    assert "InformacionPagoTransferencia" in _signed_xml(bed, event)
    row = _title(bed, doc_id)
    assert (row.state, row.outstanding) == (TitleState.PAID, Decimal("0.00"))
    with bed.sessions() as s:
        assert payables(s) == []
    verify_signatures(bed.runtime, bed.settings, tmp_path / "firmados")


@pytest.mark.parametrize("events_bed", ["sqlite"], indirect=True)
def test_the_bank_file_paid_is_recorded_in_radian_only_where_its_payee_still_holds(events_bed: EventsBed,  # noqa: F811
                                                                                  tmp_path) -> None:  # fmt: skip
    import subprocess
    import sys

    from radian.payables import export_csv
    from tests.integration.test_events_cli import write_config

    bed = events_bed
    doc_id, cufe = _accepted_invoice(bed)
    assert _watch(bed)["enrolled"] == 1
    with bed.sessions() as s:
        before = export_csv(payables(s)).payable  # exported while the supplier was still the payee
    (tmp_path / "antes.csv").write_text(before, "utf-8")
    _act(bed, "register", cufe)
    _act(bed, "endorse", cufe, to=FACTOR)
    _due_now(bed)
    assert _watch(bed)["holder_changed"] == 1
    with bed.sessions() as s:
        after = export_csv(payables(s), excel=True).payable
    (tmp_path / "despues.csv").write_text(after, "utf-8")
    (tmp_path / "otro.csv").write_text("a,b\n1,2\n", "utf-8")
    config = write_config(bed.settings, tmp_path / "buzon.toml")

    def run(*args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([sys.executable, "-m", "buzon.cli", "title", "pay-supplier-file", *args, "--config",
                               str(config)], capture_output=True, text=True)  # fmt: skip
        assert done.returncode == code, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
        return done

    wrong = run(str(tmp_path / "otro.csv"), code=2)
    assert "no es un archivo de pagos de Buzón" in wrong.stderr
    stale = run(str(tmp_path / "antes.csv"), code=2)
    assert f"el archivo pagó a NIT {SELLER_NIT}" in stale.stdout and FACTOR["nit"] in stale.stdout, stale.stdout
    assert "1 de 1 líneas no se registraron" in stale.stderr
    with bed.sessions() as s:
        assert s.scalar(sa.select(sa.func.count()).where(DocumentEvent.code == EventCode.PAGO)) == 0
    paid = run(str(tmp_path / "despues.csv"))
    assert "Firmado: 452" in paid.stdout and f"pago a {FACTOR['name']}" in paid.stdout, paid.stdout
    row = _title(bed, doc_id)
    assert (row.state, row.outstanding) == (TitleState.PAID, Decimal("0.00"))


@pytest.mark.parametrize("events_bed", ["sqlite"], indirect=True)
def test_our_payments_as_debtor_verify_with_xmlsec1_and_buzon_verify(events_bed: EventsBed, tmp_path) -> None:  # noqa: F811
    bed = events_bed
    _, _, title_id = _endorsed_to_factor(bed)
    for action in (RecordPayment(Decimal("500.00")), RecordPayment()):
        done = bed.runtime.titles.act(title_id, action, actor="test:tesoreria", deliver=True)
        assert done.state == SubmissionState.REGISTERED.value, done
    verify_signatures(bed.runtime, bed.settings, tmp_path / "firmados")
