"""The buyer's events on an invoice WE issued, arriving by mail at our reception mailbox (inbox/intake/events.py), on
SQLite and PostgreSQL with the DIAN simulator over HTTP: the buyer (the simulator's counterparts) signs a real 030 and
031 that DIAN registers; each mailed as an AttachedDocument with DIAN's answer is verified by intake, recorded on our
outbound document as registered, and the 031 raises the receivables' ``claimed`` alert (once). A 033 signed and sent
by a third party, not the invoice's buyer, is quarantined as forged and changes nothing."""

from __future__ import annotations

import base64
import datetime as dt
from email.message import EmailMessage
from typing import Any

import requests
import sqlalchemy as sa

from dian.calendar import BOGOTA
from dian.codes import Environment, EventCode
from dian.nit import check_digit
from dian.ubl import Party
from dian.ubl.build import AttachedDraft, build_attached_document
from inbox.intake import Envelope
from store.models import (
    AlertKind,
    DocumentEvent,
    MailStatus,
    OutgoingMail,
    QuarantineReason,
    Role,
    SubmissionState,
    TitleAlert,
    User,
)
from tests.integration.dian_fixtures import BUYER_NIT, SELLER_NIT
from tests.integration.issuing_fixtures import IssuingBed, invoice_data

STRANGER_NIT = "901234567"


def _party(nit: str, name: str) -> Party:
    return Party(nit=nit, dv=check_digit(nit), registration_name=name)


def _counterpart(bed: IssuingBed, **spec: Any) -> dict[str, Any]:
    answer = requests.post(f"{bed.world.server.base_url}/_sim/counterparts", json=spec, timeout=30)
    assert answer.status_code in (200, 201, 422), answer.text
    return answer.json()


def _mail(event: dict[str, Any], cufe: str, sender: Party) -> bytes:
    """The buyer's mail: an AttachedDocument with the signed event and DIAN's answer, or the bare signed event when
    DIAN did not register it."""
    event_xml, answer = base64.b64decode(event["xml"]), base64.b64decode(event.get("answer") or "")
    today = dt.datetime.now(BOGOTA).date()
    container = event_xml if not answer else build_attached_document(AttachedDraft(
        id=f"ad{event.get('number') or 'X'}", issue_date=today, issue_time="10:05:00-05:00",
        environment=Environment.TESTING, sender=sender, receiver=_party(SELLER_NIT, "PROVEEDOR DE PRUEBA S.A.S."),
        parent_document_id=event.get("number") or "X", document_xml=event_xml, dian_response_xml=answer,
        reference_uuid=event.get("cude") or cufe, reference_uuid_scheme="CUDE-SHA384", reference_issue_date=today,
        validation_date=today, validation_time="10:05:00-05:00", signed=False))  # fmt: skip
    message = EmailMessage()
    message["From"], message["To"] = "fe@compradora.test", "recepcion@proveedor.test"
    message["Subject"] = f"Evento;{event.get('number')};{BUYER_NIT};EMPRESA COMPRADORA S.A.S.;{event.get('code')}"
    message.set_content("Evento sobre su factura.")
    message.add_attachment(container, maintype="application", subtype="xml", filename="evento.xml")
    return bytes(message)


def _take(bed: IssuingBed, data: bytes, uid: int):
    return bed.runtime.intake().take(Envelope(mailbox="INBOX", data=data, uidvalidity=1, uid=uid))


def _events(bed: IssuingBed, invoice_id: int) -> list[DocumentEvent]:
    with bed.sessions() as s:
        rows = list(s.execute(sa.select(DocumentEvent).where(DocumentEvent.outbound_document_id == invoice_id)
                              .order_by(DocumentEvent.id)).scalars())  # fmt: skip
        s.expunge_all()
        return rows


def test_the_buyers_mailed_events_on_our_invoice_are_verified_recorded_and_a_claim_alerts(issuing_bed) -> None:
    bed = issuing_bed
    with bed.sessions() as s:
        s.add(User(username="tes", role=Role.TREASURY, email="tesoreria@proveedor.test", password_hash="x"))
        s.commit()
    done = bed.issue(invoice_data(), deliver=True)  # a credit invoice DIAN validates; the buyer policy is off
    assert done.state.value == "accepted"
    buyer = _party(BUYER_NIT, "EMPRESA COMPRADORA S.A.S.")

    acknowledged = _counterpart(bed, action="acknowledge", cufe=done.uuid)
    assert acknowledged["registered"] is True, acknowledged
    result = _take(bed, _mail(acknowledged, done.uuid, buyer), uid=1)
    assert result.status is MailStatus.FILED and result.reason is None, result
    (ack,) = _events(bed, done.id)
    assert (ack.code, ack.cude, ack.document_id) == (EventCode.ACUSE_RECIBO, acknowledged["cude"], None)
    assert ack.submission_state is SubmissionState.REGISTERED and ack.sender_nit == BUYER_NIT  # DIAN's answer proven

    assert _counterpart(bed, action="receipt", cufe=done.uuid)["registered"] is True  # 032 (not mailed)
    claimed = _counterpart(bed, action="claim", cufe=done.uuid, concept="03")
    assert claimed["registered"] is True, claimed
    assert _take(bed, _mail(claimed, done.uuid, buyer), uid=2).status is MailStatus.FILED
    claim = _events(bed, done.id)[-1]
    assert claim.code is EventCode.RECLAMO and claim.submission_state is SubmissionState.REGISTERED
    with bed.sessions() as s:
        (alert,) = s.execute(sa.select(TitleAlert)).scalars().all()
        assert (alert.kind, alert.dedupe_key, alert.event_id) == (AlertKind.CLAIMED, f"claimed:{claim.cude}", claim.id)
        assert done.number in alert.message and "reclamo (031)" in alert.message
        mails = s.execute(sa.select(OutgoingMail.to_address, OutgoingMail.subject)).all()
        assert ("tesoreria@proveedor.test", f"Reclamo del comprador: factura {done.number}") in mails
    again = _take(bed, _mail(claimed, done.uuid, buyer), uid=3)  # the same claim mailed twice: recorded once
    assert (again.status, again.reason) == (MailStatus.IGNORED, QuarantineReason.DUPLICATE)
    assert len(_events(bed, done.id)) == 2
    assert bed.count(TitleAlert) == 1

    # A third party signs a 033 on our invoice as if it were the buyer's acceptance: DIAN refuses it, so does intake.
    stranger = _party(STRANGER_NIT, "TERCERO S.A.S.")
    forged = _counterpart(bed, action="accept", cufe=done.uuid, **{"from": {"nit": STRANGER_NIT, "name": "TERCERO"}})
    assert forged["registered"] is False
    refused = _take(bed, _mail(forged, done.uuid, stranger), uid=4)
    assert refused.status is MailStatus.QUARANTINED and refused.reason is QuarantineReason.FORGED, refused
    assert f"solo puede enviarlo el comprador (NIT {BUYER_NIT})" in refused.detail  # dian.rules, we the seller
    assert len(_events(bed, done.id)) == 2
