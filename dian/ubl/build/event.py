"""The ApplicationResponse events 030-034 about an invoice (dian-facts.md 2.5)."""

from __future__ import annotations

from dian.codes import DIAN_DV, DIAN_NIT, EventCode
from dian.cufe import event_cude, software_security_code
from dian.errors import BuildError
from dian.ubl.build.drafts import EventDraft, Software
from dian.ubl.build.elements import check_time, new_root, serialize, sub
from dian.ubl.build.envelope import dian_extensions, header, qr_url
from dian.ubl.build.parties import application_party, check_party

_EVENTS = frozenset(
    {
        EventCode.ACUSE_RECIBO,
        EventCode.RECLAMO,
        EventCode.RECIBO_BIEN,
        EventCode.ACEPTACION_EXPRESA,
        EventCode.ACEPTACION_TACITA,
    }
)
_WITH_PERSON = frozenset({EventCode.ACUSE_RECIBO, EventCode.RECIBO_BIEN})


def _check_event(draft: EventDraft) -> None:
    if draft.code not in _EVENTS:
        raise BuildError(f"code: only events 030-034 are built here, got {draft.code!r}")
    check_time(draft.issue_time, "issue_time")
    check_party(draft.sender, "sender")
    check_party(draft.receiver, "receiver")
    for field, party in (("sender", draft.sender), ("receiver", draft.receiver)):
        if not party.dv:
            raise BuildError(f"{field}.dv: CompanyID/@schemeID carries the check digit (dian-facts.md 2.5)")
    if not draft.number:
        raise BuildError("number: the event's own consecutive is required (rule AAD05)")
    if not draft.invoice_number or not draft.invoice_cufe:
        raise BuildError("invoice_number/invoice_cufe: the event references an invoice (dian-facts.md 2.5)")
    if draft.code is EventCode.RECLAMO and draft.claim_reason is None:
        raise BuildError("claim_reason: event 031 needs a claim reason 01-04 (dian-facts.md 2.3)")
    if draft.code is not EventCode.RECLAMO and draft.claim_reason is not None:
        raise BuildError(f"claim_reason: only event 031 carries a claim reason, not {draft.code.value}")
    if draft.code in _WITH_PERSON and draft.person is None:
        raise BuildError(f"person: event {draft.code.value} names the person who received (IssuerParty/Person)")
    if draft.code not in _WITH_PERSON and draft.person is not None:
        raise BuildError(f"person: only events 030 and 032 carry IssuerParty/Person, not {draft.code.value}")
    if draft.code is EventCode.ACEPTACION_TACITA:
        if draft.receiver.nit != DIAN_NIT or draft.receiver.dv != DIAN_DV:
            raise BuildError(
                f"receiver: event 034 goes to DIAN (NIT {DIAN_NIT}, DV {DIAN_DV}), got {draft.receiver.nit}"
            )
        if not draft.notes:
            raise BuildError("notes: event 034 carries the sworn statement of tacit acceptance (dian-facts.md 2.4)")


def build_event(draft: EventDraft, *, software: Software) -> bytes:
    """Build an unsigned ApplicationResponse event 030-034 in the element order of dian-facts.md 2.5."""
    _check_event(draft)
    cude = event_cude(
        number=draft.number,
        issue_date=draft.issue_date,
        issue_time=draft.issue_time,
        sender_nit=draft.sender.nit,
        receiver_nit=draft.receiver.nit,
        response_code=draft.code.value,
        document_number=draft.invoice_number,
        document_type_code=draft.invoice_type_code,
        software_pin=software.pin,
    )
    root = new_root("ApplicationResponse")
    dian_extensions(
        root,
        provider_nit=software.provider_nit,
        provider_dv=software.provider_dv,
        software_id=software.software_id,
        security_code=software_security_code(software.software_id, software.pin, draft.number),
        # Events point the QR at the referenced invoice's CUFE (dian-facts.md 7.2).
        qr_code=qr_url(draft.invoice_cufe, draft.environment),
    )
    header(
        root,
        draft.customization_id,
        "DIAN 2.1: ApplicationResponse de la Factura Electrónica de Venta",
        draft.environment,
        draft.number,
    )
    sub(root, "cbc:UUID", cude, schemeID=draft.environment.value, schemeName="CUDE-SHA384")
    sub(root, "cbc:IssueDate", draft.issue_date.isoformat())
    sub(root, "cbc:IssueTime", draft.issue_time)
    for note in draft.notes:
        sub(root, "cbc:Note", note)
    application_party(root, "cac:SenderParty", draft.sender)
    application_party(root, "cac:ReceiverParty", draft.receiver)
    block = sub(root, "cac:DocumentResponse")
    response = sub(block, "cac:Response")
    reason = draft.claim_reason
    sub(
        response,
        "cbc:ResponseCode",
        draft.code.value,
        listID=reason.value if reason else None,
        name=reason.label if reason else None,
    )
    sub(response, "cbc:Description", draft.code.label)
    reference = sub(block, "cac:DocumentReference")
    sub(reference, "cbc:ID", draft.invoice_number)
    sub(reference, "cbc:UUID", draft.invoice_cufe, schemeName="CUFE-SHA384")
    sub(reference, "cbc:DocumentTypeCode", draft.invoice_type_code)
    if draft.person is not None:
        person = sub(block, "cac:IssuerParty/cac:Person")
        sub(person, "cbc:ID", draft.person.id, schemeID=draft.person.dv, schemeName=draft.person.id_type)
        sub(person, "cbc:FirstName", draft.person.first_name)
        sub(person, "cbc:FamilyName", draft.person.family_name)
        if draft.person.job_title is not None:
            sub(person, "cbc:JobTitle", draft.person.job_title)
        if draft.person.department is not None:
            sub(person, "cbc:OrganizationDepartment", draft.person.department)
    return serialize(root)
