"""The AttachedDocument: a signed document and DIAN's answer held verbatim in CDATA (dian-facts.md 3.1)."""

from __future__ import annotations

from lxml import etree

from dian.errors import BuildError
from dian.ubl.build.drafts import AttachedDraft
from dian.ubl.build.elements import check_time, new_root, serialize, sub
from dian.ubl.build.envelope import header, signature_placeholder
from dian.ubl.build.parties import application_party, check_party


def _cdata(payload: bytes, field: str) -> etree.CDATA:
    if not payload.strip():
        raise BuildError(f"{field}: empty")
    if payload != payload.strip(b" \t\r\n"):
        raise BuildError(f"{field}: surrounding whitespace would not survive the round trip; strip it first")
    if b"]]>" in payload:  # one CDATA section cannot hold its own terminator
        raise BuildError(f"{field}: contains ']]>' and cannot be wrapped in CDATA")
    try:
        return etree.CDATA(payload.decode("utf-8"))
    except UnicodeDecodeError:
        raise BuildError(f"{field}: not UTF-8") from None
    except ValueError as exc:  # lxml refuses text that is not XML (control characters)
        raise BuildError(f"{field}: {exc}") from None


def _attachment(parent: etree._Element, payload: etree.CDATA) -> None:
    reference = sub(parent, "cac:Attachment/cac:ExternalReference")
    sub(reference, "cbc:MimeCode", "text/xml")
    sub(reference, "cbc:EncodingCode", "UTF-8")
    sub(reference, "cbc:Description").text = payload


def build_attached_document(draft: AttachedDraft) -> bytes:
    """Build an AttachedDocument holding the signed document and DIAN's answer verbatim in CDATA (dian-facts.md 3.1)."""
    check_time(draft.issue_time, "issue_time")
    check_party(draft.sender, "sender")
    check_party(draft.receiver, "receiver")
    document = _cdata(draft.document_xml, "document_xml")
    answer = _cdata(draft.dian_response_xml, "dian_response_xml")
    root = new_root("AttachedDocument")
    if draft.signed:
        signature_placeholder(sub(root, "ext:UBLExtensions"))
    header(root, "Documentos adjuntos", draft.profile_id, draft.environment, draft.id)
    sub(root, "cbc:IssueDate", draft.issue_date.isoformat())
    sub(root, "cbc:IssueTime", draft.issue_time)
    sub(root, "cbc:DocumentType", draft.document_type_text)
    sub(root, "cbc:ParentDocumentID", draft.parent_document_id)
    application_party(root, "cac:SenderParty", draft.sender)
    application_party(root, "cac:ReceiverParty", draft.receiver)
    _attachment(root, document)
    line = sub(root, "cac:ParentDocumentLineReference")
    sub(line, "cbc:LineID", "1")
    reference = sub(line, "cac:DocumentReference")
    sub(reference, "cbc:ID", draft.reference_id or draft.parent_document_id)
    sub(reference, "cbc:UUID", draft.reference_uuid, schemeName=draft.reference_uuid_scheme)
    sub(reference, "cbc:IssueDate", draft.reference_issue_date.isoformat())
    sub(reference, "cbc:DocumentType", "ApplicationResponse")
    _attachment(reference, answer)
    result = sub(reference, "cac:ResultOfVerification")
    sub(result, "cbc:ValidatorID", draft.validator_id)
    sub(result, "cbc:ValidationResultCode", draft.validation_result_code)
    sub(result, "cbc:ValidationDate", draft.validation_date.isoformat())
    sub(result, "cbc:ValidationTime", draft.validation_time)
    output = serialize(root)
    # The payloads are the exact signed bytes: make sure serialization kept them verbatim.
    if draft.document_xml not in output or draft.dian_response_xml not in output:
        raise BuildError("document_xml/dian_response_xml: the payload did not survive serialization byte for byte")
    return output
