"""ApplicationResponse: DIAN's validation answer and the RADIAN events, their responses, reference and issuer."""

from __future__ import annotations

from lxml import etree

from dian.errors import ParseError
from dian.ubl.model import ApplicationResponse, DocumentReference, LineResponse, Response
from dian.ubl.parse.extensions import DIAN_EXTENSIONS, read_extensions
from dian.ubl.parse.parties import read_person, required_party
from dian.ubl.parse.record import Record, notes
from dian.ubl.parse.values import HEADER_PATHS, issued, parse_environment

_APPLICATION_RESPONSE = Record(
    lists={
        "extensions": DIAN_EXTENSIONS,
        "blocks": "cac:DocumentResponse",
        "sender": "cac:SenderParty",
        "receiver": "cac:ReceiverParty",
        "notes": "cbc:Note",
    },
    **HEADER_PATHS,
)
_DOCUMENT_RESPONSE = Record(
    lists={"person": "cac:IssuerParty/cac:Person", "lines": "cac:LineResponse"},
    code="cac:Response/cbc:ResponseCode",
    list_id="cac:Response/cbc:ResponseCode/@listID",
    name="cac:Response/cbc:ResponseCode/@name",
    description="cac:Response/cbc:Description",
    has_reference="boolean(cac:DocumentReference)",
    reference_id="cac:DocumentReference/cbc:ID",
    reference_uuid="cac:DocumentReference/cbc:UUID",
    reference_uuid_scheme="cac:DocumentReference/cbc:UUID/@schemeName",
    reference_type_code="cac:DocumentReference/cbc:DocumentTypeCode",
    has_person="boolean(cac:IssuerParty/cac:Person)",
    has_lines="boolean(cac:LineResponse)",
)
_LINE_RESPONSE = Record(
    line_id="cac:LineReference/cbc:LineID",
    code="cac:Response/cbc:ResponseCode",
    description="cac:Response/cbc:Description",
)


def read_application_response(root: etree._Element) -> ApplicationResponse:
    where = "ApplicationResponse"
    f = _APPLICATION_RESPONSE(root)
    ext, _ = read_extensions(f["extensions"], where)
    issue_date, issue_time, issued_at, assumed = issued(_APPLICATION_RESPONSE, f, where)
    responses: list[Response] = []
    line_responses: list[LineResponse] = []
    reference = None
    person = None
    for index, block in enumerate(f["blocks"], start=1):
        block_where = f"{where}/cac:DocumentResponse[{index}]"
        b = _DOCUMENT_RESPONSE(block)
        responses.append(
            Response(
                code=_DOCUMENT_RESPONSE.need(b, "code", block_where),
                description=b["description"],
                list_id=b["list_id"],
                name=b["name"],
            )
        )
        if reference is None and b["has_reference"] == "true":
            reference = DocumentReference(
                id=_DOCUMENT_RESPONSE.need(b, "reference_id", block_where),
                uuid=b["reference_uuid"],
                uuid_scheme=b["reference_uuid_scheme"],
                type_code=b["reference_type_code"],
            )
        if person is None and b["has_person"] == "true":
            person = read_person(b["person"][0], f"{block_where}/cac:IssuerParty/cac:Person")
        if b["has_lines"] == "true":
            for line in b["lines"]:
                g = _LINE_RESPONSE(line)
                line_responses.append(
                    LineResponse(
                        line_id=g["line_id"],
                        code=_LINE_RESPONSE.need(g, "code", f"{block_where}/cac:LineResponse"),
                        description=g["description"],
                    )
                )
    if not responses:
        raise ParseError("falta el elemento obligatorio cac:DocumentResponse", where=f"{where}/cac:DocumentResponse")
    return ApplicationResponse(
        id=_APPLICATION_RESPONSE.need(f, "number", where),
        uuid=f["uuid"],
        uuid_scheme=f["uuid_scheme"],
        environment=parse_environment(f["environment"], where),
        customization_id=f["customization_id"],
        profile_id=f["profile_id"],
        issue_date=issue_date,
        issue_time=issue_time,
        issued_at=issued_at,
        offset_assumed=assumed,
        sender=required_party(f["sender"], "cac:SenderParty", where),
        receiver=required_party(f["receiver"], "cac:ReceiverParty", where),
        responses=tuple(responses),
        document_reference=reference,
        line_responses=tuple(line_responses),
        notes=notes(f["notes"]),
        issuer_person=person,
        software_provider_nit=ext["provider_nit"],
        software_id=ext["software_id"],
        software_security_code=ext["security_code"],
        qr_code=ext["qr_code"],
    )
