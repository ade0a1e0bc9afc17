"""A counterpart's events found in mail (ApplicationResponse 030–034 and the rest of DIAN's table), through the steps
of their message: ``consider`` (verified: what reception's report says of one), ``resolve`` (against the files: the
sender's entitlement on the invoice on file, a CUDE already recorded) and ``record`` (committed: the observed
DocumentEvent row, ``sent`` pending DIAN's confirmation unless DIAN's answer is proven).

The buyer's events on an invoice WE issued (outbound_documents) arrive at the same mailbox: verified the same way,
refused when their sender is not that invoice's buyer (dian.rules, with us as the seller), and recorded on the
outbound document as the receivables sync records them (radian/sync.py); ``IntakePolicy.on_receivables`` then
derives the title again and raises a claim's alert."""

from __future__ import annotations

from dian.codes import DIAN_NIT, ClaimReason, Environment, EventCode
from dian.nit import nit_digits
from dian.reception import ReceptionReport
from dian.rules import sender_refusal
from dian.ubl import ApplicationResponse
from dian.xades import Outcome
from inbox.intake.known import Known, OnFile, cude
from inbox.intake.plan import Item, Mail, Plan
from inbox.intake.reasons import REASON_TEXT, first_failure
from inbox.intake.terms import Result
from inbox.intake.tx import Tx
from inbox.intake.writes import Writes, clip
from store.models import Direction, DocumentEvent, QuarantineReason, SubmissionState

_INSERT_EVENT = DocumentEvent.__table__.insert()


def consider(name: str, report: ReceptionReport, plan: Plan, *, ours: Environment | None = None) -> None:
    """A counterpart's event as reception verified it: recorded as observed, pending DIAN's confirmation, unless
    its DIAN answer is proven; forged when its signer or its DIAN answer do not match. An install in production
    (``ours``) quarantines an event of DIAN's test environment: it has no effect on a real invoice, and production
    DIAN would never confirm it."""
    item = Item(kind="event", part=name, event_xml=report.event_xml, event_answer_xml=report.dian_response_xml)
    plan.items.append(item)
    event = report.event
    claimed = event or report.unverified_event
    ref = claimed.document_reference if claimed is not None else None
    item.cufe = (ref.uuid or "").strip().lower() or None if ref is not None else None
    failed = {c.name for c in report.checks if c.outcome == Outcome.FAIL}
    if event is None:
        item.reason = QuarantineReason.SIGNATURE_INVALID
        item.detail = f"{REASON_TEXT[item.reason]} (evento): {first_failure(report.checks)}"
        return
    if not event.is_event:
        plan.items.remove(item)  # an ApplicationResponse that is no event and not DIAN's: not ours to judge
        return
    item.event = event
    if failed:
        if "event.signer.nit" in failed or any(n.startswith("dian.") for n in failed):
            item.reason = QuarantineReason.FORGED
        elif "event.uuid" in failed:
            item.reason = QuarantineReason.UNREADABLE
        else:
            item.reason = QuarantineReason.SIGNATURE_INVALID
        item.detail = f"{REASON_TEXT[item.reason]}: evento {event.response_code}: {first_failure(report.checks)}"
        return
    if ours is Environment.PRODUCTION and event.environment is Environment.TESTING:
        item.reason = QuarantineReason.NOT_VALIDATED
        item.detail = (
            f"{REASON_TEXT[item.reason]}: el evento {event.response_code} es del ambiente de pruebas (habilitación) de "
            "la DIAN (ProfileExecutionID 2): no tiene efecto sobre una factura real"
        )
        return
    if not item.cufe:
        item.reason = QuarantineReason.UNREADABLE
        item.detail = f"{REASON_TEXT[item.reason]}: el evento {event.response_code} no nombra el CUFE del documento"
        return
    signature = report.document_signature
    item.event_signing_time = signature.signing_time if signature is not None else None
    item.event_registered = report.dian_validated
    if item.event_registered:
        item.event_note = "evento registrado por la DIAN (su respuesta firmada está probada)"
    else:
        why = report.check("dian.certificate.chain") or report.check("dian.response")
        item.event_note = "evento observado, pendiente de confirmación de la DIAN" + (
            f": {why.detail}" if why is not None else ""
        )


def resolve(item: Item, known: Known, *, our_nit: str) -> None:
    """The event against the files: about a document we do not hold and between others, sent by a party the invoice
    on file does not entitle, or recorded already (a duplicate)."""
    event = item.event
    assert event is not None and item.cufe is not None
    ours = {nit_digits(event.sender.nit), nit_digits(event.receiver.nit)}
    on_file = known.documents.get(item.cufe)
    receivable = known.outbound.get(item.cufe) if on_file is None else None
    if receivable is not None:  # an invoice of ours: we are its seller
        on_file = OnFile(receivable.id, None, nit_digits(our_nit), receivable.buyer_nit)
        item.outbound_id = receivable.id
    # 034 goes from the seller to DIAN and names no buyer: without its invoice on file it waits to be linked.
    if on_file is None and not ours & {nit_digits(our_nit), DIAN_NIT}:
        item.reason = QuarantineReason.NOT_FOR_US
        item.detail = (
            f"{REASON_TEXT[item.reason]}: el evento {event.response_code} es entre los NIT "
            f"{event.sender.nit} y {event.receiver.nit} y su documento no está archivado"
        )
        return
    if on_file is not None and (refusal := _not_entitled(event, on_file)):
        item.reason = QuarantineReason.FORGED
        item.detail = f"{REASON_TEXT[item.reason]}: {refusal}"
        return
    event_cude = cude(event)
    if event_cude and event_cude in known.cudes:
        item.duplicate = True


def record(
    conn: Tx,
    mail: Mail,
    item: Item,
    keys: dict[str, str | None],
    writes: Writes,
    known: Known,
    result: Result,
) -> None:
    """The observed event's row (linked to its document when on file, else waiting for it) and its audit entry."""
    event = item.event
    assert event is not None and item.cufe is not None
    document_id = known.id_of(item.cufe) if item.outbound_id is None else None
    if document_id is None and item.outbound_id is None:
        writes.relink.add(item.cufe)
        known.waiting_events.add(item.cufe)
    response = event.responses[0] if event.responses else None
    claim = None
    if event.response_code == EventCode.RECLAMO.value and response and response.list_id:
        claim = ClaimReason(response.list_id) if response.list_id in {c.value for c in ClaimReason} else None
    person = event.issuer_person
    event_cude = cude(event)
    row = dict(
        document_id=document_id,
        outbound_document_id=item.outbound_id,
        code=EventCode(event.response_code),
        direction=Direction.OBSERVED,
        number=clip(event.id, 40),
        cude=event_cude,
        referenced_cufe=item.cufe,
        claim_reason=claim,
        note=item.event_note,
        person=None
        if person is None
        else {"id": person.id, "first_name": person.first_name, "family_name": person.family_name,
              "job_title": person.job_title},
        sender_nit=clip(event.sender.nit, 20),
        receiver_nit=clip(event.receiver.nit, 20),
        signed_xml_blob=keys["signed"],
        signing_time=item.event_signing_time,  # the signed xades:SigningTime, never IssueDate (dian-facts 2.2)
        submission_state=SubmissionState.REGISTERED if item.event_registered else SubmissionState.SENT,
        dian_response_blob=keys.get("answer"),
        registered_at=writes.now if item.event_registered else None,
        actor=writes.actor,
    )  # fmt: skip
    conn.execute(_INSERT_EVENT, row)  # the CUDE's unique constraint speaks here
    if event_cude:
        known.cudes.add(event_cude)
    if document_id is not None:
        result.touched.append(document_id)
    if item.outbound_id is not None:
        result.receivables.append(item.outbound_id)
    writes.audit("document.event.observed",
        item.cufe,
        {"mail_message_id": mail.id, "code": event.response_code, "cude": event_cude, "document_id": document_id,
         "outbound_document_id": item.outbound_id, "registered": item.event_registered},
    )  # fmt: skip
    result.events.append(event_cude or item.cufe)


def _not_entitled(event: ApplicationResponse, on_file: OnFile) -> str | None:
    """Why the event's SenderParty may not send it on the invoice on file (dian.rules.sender_refusal), or None."""
    try:
        code = EventCode(event.response_code)
    except ValueError:
        return f"código de evento desconocido «{event.response_code}»"
    if not on_file.issuer_nit:
        return None  # the document's parties are not known here: DIAN's confirmation settles it
    return sender_refusal(code, event.sender.nit, seller_nit=on_file.issuer_nit, buyer_nit=on_file.buyer_nit)
