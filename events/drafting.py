"""One planned event made real: its UBL built from the document and the request, signed with the company's
certificate, its CUDE computed, and the row events.emit inserts for it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dian.cufe import event_cude
from dian.nit import check_digit
from dian.rules import Decision
from dian.ubl import Party, Person
from dian.ubl.build import EventDraft, build_event
from dian.xades import sign
from events.context import EventContext
from events.request import EventRequest, person_dict
from store.models import Direction, SubmissionState


def _supplier(document: Any) -> Party:
    nit = document.issuer_nit
    return Party(nit=nit, dv=document.issuer_dv or check_digit(nit), registration_name=document.issuer_name or nit)


@dataclass
class Plan:
    """A request allowed on a document, numbered before it is signed."""

    document: Any
    request: EventRequest
    person: Person | None
    decision: Decision
    number: str = ""
    grant: Any = None  # the store.models.Approval it is signed under (four-eyes), if any


def signed_event(ctx: EventContext, plan: Plan, *, local: datetime, issue_time: str, now: datetime,
                 actor: str) -> tuple[bytes, dict[str, Any]]:  # fmt: skip
    """The plan's signed XML and its document_events row (without the blob key, stored by the caller)."""
    document, request = plan.document, plan.request
    draft = EventDraft(
        code=request.code,
        number=plan.number,
        issue_date=local.date(),
        issue_time=issue_time,
        environment=ctx.environment,
        sender=ctx.company,
        receiver=_supplier(document),
        invoice_number=document.number,
        invoice_cufe=document.cufe,
        invoice_type_code=document.document_type.value,
        person=plan.person,
        claim_reason=request.claim_reason,
        notes=(request.note,) if request.note else (),
    )
    xml = sign(build_event(draft, software=ctx.software), ctx.identity, signing_time=now)
    cude = event_cude(
        number=plan.number,
        issue_date=draft.issue_date,
        issue_time=issue_time,
        sender_nit=ctx.company.nit,
        receiver_nit=draft.receiver.nit,
        response_code=request.code.value,
        document_number=document.number,
        document_type_code=draft.invoice_type_code,
        software_pin=ctx.software.pin,
    )
    row = {
        "document_id": document.id,
        "code": request.code,
        "direction": Direction.EMITTED,
        "number": plan.number,
        "cude": cude,
        "referenced_cufe": document.cufe,
        "claim_reason": request.claim_reason,
        "note": request.note,
        "person": person_dict(plan.person),
        "sender_nit": ctx.company.nit,
        "receiver_nit": document.issuer_nit,
        "signing_time": now,
        "submission_state": SubmissionState.SIGNED,
        "next_attempt_at": now,
        "actor": actor,
    }
    return xml, row
