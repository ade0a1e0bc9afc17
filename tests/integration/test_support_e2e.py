"""The documento soporte through the service against the simulator over HTTP, on SQLite and PostgreSQL: a resident DS
validated with the DS range, a 95 annulment validated, a second 95 above the DS refused by Buzón before it spends a
number, and the simulator's own refusal of a 05 outside its range."""

from __future__ import annotations

import email
import email.policy

import pytest
import requests
import sqlalchemy as sa

from dian.codes import DocumentType
from issuing.problems import PayloadError
from store.models import OutboundDocument, OutboundState, OutgoingMail
from tests.integration.support_fixtures import (
    DS_RANGE,
    adjustment_data,
    issue_support,
    support_data,
)
from tests.integration.support_fixtures import issuing_bed as issuing_bed  # the fixtures, re-exported
from tests.integration.support_fixtures import support_bed as support_bed

pytestmark = pytest.mark.integration


def test_ds_and_its_annulment_are_validated(support_bed):
    ds = issue_support(support_bed, support_data(), deliver=True)
    assert ds.state is OutboundState.ACCEPTED, ds.dian_messages
    assert ds.document_type is DocumentType.SUPPORT_DOCUMENT and ds.number == "DS1"
    row = support_bed.row(ds.id)
    assert row.buyer_nit == "79123456" and row.withholding_amount == 12750
    note = issue_support(support_bed, adjustment_data(ds), deliver=True)
    assert note.state is OutboundState.ACCEPTED, note.dian_messages
    assert note.number == "NDS1" and support_bed.row(note.id).reference_id == ds.id
    with pytest.raises(PayloadError) as refused:
        issue_support(support_bed, adjustment_data(ds, concept="3"), deliver=True)
    assert "más que el documento soporte" in str(refused.value.problems[0])


def test_simulator_refuses_a_ds_number_outside_its_range(support_bed):
    # DIAN's authorization was cut to DS1-DS5 after Buzón read it: Buzón numbers DS999, the simulator refuses it.
    support_bed.seed({"numbering": [{**DS_RANGE, "to": 5}]})
    ds = issue_support(support_bed, {**support_data(), "number": 999}, deliver=True)
    assert ds.state is OutboundState.REJECTED
    assert any("DSAB11b" in m or "fuera del rango" in m for m in ds.dian_messages), ds.dian_messages


def test_simulator_refuses_a_number_from_the_other_kinds_range(support_bed):
    # The admin marked the ranges the wrong way round (GetNumberingRange does not say which is the DS's, C.5): Buzón
    # numbers the DS from the invoices' SETP range and the invoice from the DS range; DIAN keys its ranges by type.
    from dian.simulator.numbering import ranges_for
    from issuing.ranges import RangeKind
    from tests.integration.dian_fixtures import NUMBERING, SELLER_NIT
    from tests.integration.issuing_fixtures import invoice_data

    rows = {row["prefix"]: row["kind"] for row in ranges_for(support_bed.world.simulator.store, SELLER_NIT)}
    assert rows == {"DS": "support_document", "SETP": "invoice"}
    bad = requests.post(f"{support_bed.world.server.base_url}/_sim/seed", timeout=10,
                        json={"numbering": [{**DS_RANGE, "prefix": "X", "kind": "soporte"}]})  # fmt: skip
    assert bad.status_code == 400 and "not one of invoice, support_document" in bad.json()["error"]
    support_bed.issuing.set_kind("DS", RangeKind.INVOICE, actor="test:admin")
    support_bed.issuing.set_kind(NUMBERING.prefix, RangeKind.SUPPORT_DOCUMENT, actor="test:admin")
    ds = issue_support(support_bed, support_data(), deliver=True)
    assert ds.state is OutboundState.REJECTED and ds.number.startswith(NUMBERING.prefix)
    assert [m for m in ds.dian_messages if "Regla: DSAB05b" in m and "autorizado para facturas" in m], ds.dian_messages
    invoice = support_bed.issue(invoice_data(), deliver=True)
    assert invoice.state is OutboundState.REJECTED and invoice.number == "DS1"
    assert [m for m in invoice.dian_messages if "Regla: FAB05b" in m and "documentos soporte" in m], (
        invoice.dian_messages
    )
    from web.issued_labels import explain_rules  # what the invoice's page says of it, in Spanish

    (said,) = [r for r in explain_rules(invoice.dian_messages) if r.rule == "FAB05b"]
    assert "no es una autorización de facturación" in said.meaning and "ranges sync" in said.next_step


def test_the_seller_gets_its_copy_only_when_asked(support_bed):
    from issuing.delivery import MailSettings, queue_buyer_mail
    from issuing.support_mail import queue_seller_mail

    asked = issue_support(support_bed, {**support_data(), "mail_seller": True}, deliver=True)
    quiet = issue_support(support_bed, support_data(), deliver=True)
    assert asked.state is OutboundState.ACCEPTED and quiet.state is OutboundState.ACCEPTED
    ctx = support_bed.issuing.ctx
    buyers = queue_buyer_mail(support_bed.sessions, ctx, MailSettings(from_address="fe@proveedor.test"))
    assert buyers.as_dict().get("queued", 0) == 0  # the invoices' buyer mail leaves the DS alone
    report = queue_seller_mail(support_bed.sessions, ctx, from_address="fe@proveedor.test")
    assert report.queued == [asked.number]
    with support_bed.sessions() as s:
        mail = s.execute(sa.select(OutgoingMail)).scalar_one()
        message = email.message_from_bytes(
            support_bed.runtime.blobs.get(mail.message_blob), policy=email.policy.default
        )
    assert mail.to_address == "pedro@vereda.test" and asked.number in mail.subject
    names = sorted(part.get_filename() for part in message.iter_attachments())
    assert names == [f"{asked.number}.pdf", f"{asked.number}.xml"]
    assert support_bed.row(quiet.id).delivery_state is None
    assert queue_seller_mail(support_bed.sessions, ctx, from_address="fe@proveedor.test").queued == []


def test_what_the_web_form_calls(support_bed):
    from issuing.support_request import require_support_request

    support = support_bed.support
    request = require_support_request(support_data())
    assert support.totals(request).payable == 850000 and support.totals(request).withholdings[0].amount == 12750
    preview = support.preview(request)
    assert preview.number == "DS1" and support_bed.count(OutboundDocument) == 0  # nothing taken nor stored
    ds = issue_support(support_bed, support_data(), deliver=True)
    assert ds.number == "DS1"
    body = support.adjustment_of(ds.id)
    note = support.issue(require_support_request(body), actor="test:ap", deliver=True)
    assert note.state is OutboundState.ACCEPTED and support_bed.row(note.id).reference_id == ds.id
    assert [row.number for row in support.list()] == [note.number, ds.number]
    with pytest.raises(LookupError):
        support.adjustment_of(note.id)


def test_simulator_refuses_a_wrong_cuds_and_an_unknown_ds(support_bed):
    import dataclasses

    # Vendix's defect (peers-wave2 §3): a DS keyed with the range's technical key instead of the software PIN.
    service = support_bed.issuing
    ctx = service.ctx
    wrong = dataclasses.replace(ctx.issuer.software, pin=DS_RANGE["technical_key"])
    service._ctx = dataclasses.replace(ctx, issuer=dataclasses.replace(ctx.issuer, software=wrong))
    try:
        keyed = issue_support(support_bed, support_data(), deliver=True)
    finally:
        service._ctx = ctx
    assert keyed.state is OutboundState.REJECTED
    assert any("DSAD06" in m for m in keyed.dian_messages), keyed.dian_messages

    class Elsewhere:  # a DS DIAN never received (issued by another software, say)
        number, uuid = "DS900", "ab" * 48

    note = issue_support(support_bed, adjustment_data(Elsewhere), deliver=True)
    assert note.state is OutboundState.REJECTED
    assert any("NSBG04" in m for m in note.dian_messages), note.dian_messages
