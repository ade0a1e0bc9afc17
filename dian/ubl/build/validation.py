"""DIAN's own validation ApplicationResponse: 02 or 04 with its notifications (dian-facts.md 3.2)."""

from __future__ import annotations

from dian.codes import DIAN_DV, DIAN_NAME, DIAN_NIT, ValidationCode
from dian.cufe import sha384_hex
from dian.ubl.build.drafts import ValidationDraft
from dian.ubl.build.elements import check_time, new_root, serialize, sub
from dian.ubl.build.envelope import dian_extensions, header
from dian.ubl.build.parties import application_party, check_party
from dian.ubl.model import Party

_VALIDATION_TEXT = {
    ValidationCode.VALIDATED: "Documento validado por la DIAN",
    ValidationCode.REJECTED: "Documento rechazado por la DIAN",
}

DIAN_PARTY = Party(nit=DIAN_NIT, dv=DIAN_DV, registration_name=DIAN_NAME, id_scheme="31")


def build_validation_response(draft: ValidationDraft) -> bytes:
    """Build DIAN's own validation ApplicationResponse (02/04 with LineResponse notifications, dian-facts.md 3.2)."""
    check_time(draft.issue_time, "issue_time")
    check_party(draft.receiver, "receiver")
    uuid = draft.uuid or sha384_hex(
        draft.number
        + draft.issue_date.isoformat()
        + draft.issue_time
        + DIAN_NIT
        + draft.receiver.nit
        + draft.code.value
        + draft.document_uuid
    )
    root = new_root("ApplicationResponse")
    # DIAN's answer writes "..." as its own SoftwareID and SoftwareSecurityCode, and has no QR (dian-facts.md 3.2).
    dian_extensions(
        root,
        provider_nit=DIAN_NIT,
        provider_dv=DIAN_DV,
        software_id="...",
        security_code="...",
        qr_code=None,
    )
    header(root, "1", "DIAN 2.1", draft.environment, draft.number)
    sub(root, "cbc:UUID", uuid, schemeName="CUDE-SHA384")
    sub(root, "cbc:IssueDate", draft.issue_date.isoformat())
    sub(root, "cbc:IssueTime", draft.issue_time)
    application_party(root, "cac:SenderParty", DIAN_PARTY)
    application_party(root, "cac:ReceiverParty", draft.receiver)
    block = sub(root, "cac:DocumentResponse")
    response = sub(block, "cac:Response")
    sub(response, "cbc:ResponseCode", draft.code.value)
    sub(response, "cbc:Description", _VALIDATION_TEXT[draft.code])
    reference = sub(block, "cac:DocumentReference")
    sub(reference, "cbc:ID", draft.document_number)
    sub(reference, "cbc:UUID", draft.document_uuid, schemeName=draft.document_uuid_scheme)
    for line in draft.line_responses:
        element = sub(block, "cac:LineResponse")
        if line.line_id is not None:
            sub(element, "cac:LineReference/cbc:LineID", line.line_id)
        answer = sub(element, "cac:Response")
        sub(answer, "cbc:ResponseCode", line.code)
        if line.description is not None:
            sub(answer, "cbc:Description", line.description)
    return serialize(root)
