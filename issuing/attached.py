"""The AttachedDocument the buyer receives once DIAN validated one of our documents (dian-facts 3.1): the signed
invoice or note and DIAN's ApplicationResponse, both verbatim in CDATA.

It carries no outer signature: dian-facts 3.1/3.3 find it optional and unreliable in real files (receivers must not
rely on it), and the proof it carries are the two signatures inside, kept byte for byte (re-serializing the container
to sign it would turn the CDATA into escaped text)."""

from __future__ import annotations

import datetime as dt

from dian.codes import DocumentType, Environment
from dian.ubl import ApplicationResponse, CommercialDocument, parse_document
from dian.ubl.build import AttachedDraft, build_attached_document
from dian.xmlsafe import parse_xml

__all__ = ["attached_document"]

BOGOTA = dt.timezone(dt.timedelta(hours=-5))
_PROFILE = {
    DocumentType.CREDIT_NOTE: "DIAN 2.1: Nota Crédito de Factura Electrónica de Venta",
    DocumentType.DEBIT_NOTE: "DIAN 2.1: Nota Débito de Factura Electrónica de Venta",
}


def attached_document(
    document_xml: bytes,
    answer_xml: bytes,
    answer: ApplicationResponse,
    *,
    environment: Environment,
    now: dt.datetime,
) -> bytes:
    """The AttachedDocument of ``document_xml`` (our signed document) and ``answer_xml`` (DIAN's validation,
    already checked by the caller)."""
    document = parse_document(parse_xml(document_xml))
    if not isinstance(document, CommercialDocument):
        raise ValueError("an AttachedDocument wraps an invoice or a note")
    local = now.astimezone(BOGOTA)
    validated = answer.issued_at.astimezone(BOGOTA) if answer.issued_at else local
    draft = AttachedDraft(
        id=f"AD{document.number}",
        issue_date=local.date(),
        issue_time=local.strftime("%H:%M:%S-05:00"),
        environment=environment,
        sender=document.supplier,
        receiver=document.customer,
        parent_document_id=document.number,
        document_xml=document_xml,
        dian_response_xml=answer_xml,
        reference_uuid=document.uuid,
        reference_uuid_scheme=document.uuid_scheme or "CUFE-SHA384",
        reference_issue_date=document.issue_date,
        validation_date=validated.date(),
        validation_time=validated.strftime("%H:%M:%S-05:00"),
        profile_id=_PROFILE.get(document.document_type, "DIAN 2.1: Factura Electrónica de Venta"),
        signed=False,
    )
    return build_attached_document(draft)
