"""Read a RADIAN event 035-051 back into ``dian.radian.model.RadianEvent`` (A.4-A.10).

The header, parties and references are read by ``dian.ubl.parse`` exactly as for 030-034; this module adds what 035-051
carry. Liberal where peers differ (the value block with or without a namespace), strict where a value enters a rule:
an unknown operation, a listID an event does not take, an unreadable amount or date is a ParseError naming its path.
"""

from __future__ import annotations

import base64
import binascii
from datetime import date
from decimal import Decimal
from typing import TypeVar

from lxml import etree

from dian.codes import (
    EventCode,
    MandanteType,
    MandatarioType,
    MandateEvidence,
    MandateScope,
    Operation,
)
from dian.errors import ParseError
from dian.radian import literals
from dian.radian.blocks import read_block
from dian.radian.model import LIST_IDS, Attachment, Mandate, RadianEvent, Share, TitleReference
from dian.ubl import namespaces as ns
from dian.ubl.model import ApplicationResponse, Party, Person

# The 030-034 parser's readers of a party, a person and a date: one reading of the shared structure.
from dian.ubl.parse import parse_document
from dian.ubl.parse.parties import read_party, read_person
from dian.ubl.parse.values import parse_date
from dian.xmlsafe import parse_xml

__all__ = ["parse_radian_event"]

_NS = {"cac": ns.CAC, "cbc": ns.CBC, "ext": ns.EXT}
_WHERE = "ApplicationResponse"
_Code = TypeVar("_Code", MandanteType, MandatarioType, MandateScope)


def _x(element: etree._Element, path: str) -> list[etree._Element]:
    return element.xpath(path, namespaces=_NS)  # type: ignore[return-value]


def _text(element: etree._Element, path: str) -> str | None:
    found = element.find(ns.clark(path))
    text = (found.text or "").strip() if found is not None else ""
    return text or None


def _day(element: etree._Element, path: str, where: str) -> date | None:
    return parse_date(_text(element, path), f"{where}/{path}")


def _amount(text: str | None, where: str) -> Decimal | None:
    if text is None:
        return None
    digits = text.replace(".", "", 1)
    if not (digits.isascii() and digits.isdigit()):
        raise ParseError(f"no es un valor numérico válido: {text!r}", where=where)
    return Decimal(text)


def _shares(party: etree._Element | None, where: str) -> tuple[Share, ...]:
    if party is None:
        return ()
    shares = []
    for index, legal in enumerate(_x(party, "cac:PartyLegalEntity"), start=1):
        here = f"{where}/cac:PartyLegalEntity[{index}]"
        company = legal.find(ns.clark("cbc:CompanyID"))
        nit = (company.text or "").strip() if company is not None else ""
        if not nit:
            raise ParseError("falta el elemento obligatorio cbc:CompanyID", where=here)
        shares.append(
            Share(
                nit=nit,
                registration_name=_text(legal, "cbc:RegistrationName") or "",
                dv=company.get("schemeID"),  # type: ignore[union-attr]
                id_scheme=company.get("schemeName") or "31",  # type: ignore[union-attr]
                amount=_amount(_text(legal, "cbc:CorporateStockAmount"), f"{here}/cbc:CorporateStockAmount"),
                legal_form_code=_text(legal, "cbc:CompanyLegalFormCode"),
            )
        )
    return tuple(shares)


def _operation(ar: ApplicationResponse, code: EventCode) -> Operation:
    try:
        operation = Operation(ar.customization_id or "")
    except ValueError:
        raise ParseError(
            f"la operación {ar.customization_id!r} no existe para el evento {code.value} (A.2)",
            where=f"{_WHERE}/cbc:CustomizationID",
        ) from None
    if operation.event is not code:
        raise ParseError(
            f"la operación {operation.value} corresponde al evento {operation.event.value}, no al {code.value} (A.2)",
            where=f"{_WHERE}/cbc:CustomizationID",
        )
    return operation


def _list_id(ar: ApplicationResponse, code: EventCode) -> str | None:
    list_id = ar.responses[0].list_id
    kind = LIST_IDS.get(code)
    if list_id is None:
        return None
    if kind is None or list_id not in {member.value for member in kind}:  # type: ignore[attr-defined]
        raise ParseError(
            f"el evento {code.value} no admite el listID {list_id!r} (A.4)",
            where=f"{_WHERE}/cac:DocumentResponse/cac:Response/cbc:ResponseCode/@listID",
        )
    return list_id


def _reference(element: etree._Element, where: str) -> TitleReference:
    number = _text(element, "cbc:ID")
    if number is None:
        raise ParseError("falta el elemento obligatorio cbc:ID", where=f"{where}/cbc:ID")
    return TitleReference(number, _text(element, "cbc:UUID"), _text(element, "cbc:DocumentTypeCode") or "01")


def _power(block: etree._Element, path: str, where: str) -> etree._Element:
    found = _x(block, path)
    if not found:
        raise ParseError(f"falta el elemento obligatorio {path}", where=f"{where}/{path}")
    return found[0]


def _coded(kind: type[_Code], value: str | None, what: str, table: str, where: str) -> _Code:
    """The 043 code ``value`` as a member of ``kind``; a missing or unknown code is a ParseError naming its table."""
    try:
        return kind(value or "")
    except ValueError:
        problem = f"{what} {value!r} no es un código válido" if value else f"falta {what}"
        raise ParseError(f"mandato 043: {problem} ({table})", where=where) from None


def _mandate(root: etree._Element, first: etree._Element, list_id: str | None) -> Mandate:
    where = f"{_WHERE}/cac:DocumentResponse[1]"
    sender_power = _power(root, "cac:SenderParty/cac:PowerOfAttorney", _WHERE)
    mandatario_power = _power(first, "cac:IssuerParty/cac:PowerOfAttorney", where)
    mandante_code = _text(sender_power, "cac:AgentParty/cac:PartyIdentification/cbc:ID")
    mandatario_code = _text(mandatario_power, "cac:AgentParty/cac:PartyIdentification/cbc:ID")
    mandante_type = _coded(MandanteType, mandante_code, "el tipo de mandante", "tabla 13.2.5", where)
    mandatario_type = _coded(MandatarioType, mandatario_code, "el tipo de mandatario", "tabla 13.2.8", where)
    scope = _coded(MandateScope, list_id, "el alcance del mandato", "listID, A.4", where)
    nit_element = mandatario_power.find(ns.clark("cbc:ID"))
    nit = (nit_element.text or "").strip() if nit_element is not None else ""
    if not nit:
        raise ParseError("mandato 043: falta el NIT del mandatario", where=f"{where}/cac:IssuerParty")
    references = [_reference(element, where) for element in _x(first, "cac:DocumentReference")]
    period = _x(first, "cac:DocumentReference[1]/cac:ValidityPeriod")
    start = _day(period[0], "cbc:StartDate", where) if period else None
    end = _day(period[0], "cbc:EndDate", where) if period else None
    powers_text = _text(root, "cac:DocumentResponse[2]/cac:Response/cbc:ResponseCode") or ""
    person_element = mandatario_power.find(ns.clark("cac:AgentParty/cac:Person"))
    representative: Person | None = read_person(person_element, f"{where}/cac:IssuerParty/cac:PowerOfAttorney")
    scheme = root.find(ns.clark("cbc:CustomizationID")).get("schemeID") or "1"  # type: ignore[union-attr]
    try:
        evidence = MandateEvidence(scheme)
    except ValueError:
        raise ParseError(
            f"mandato 043: CustomizationID/@schemeID {scheme!r} no es un valor conocido",
            where=f"{_WHERE}/cbc:CustomizationID",
        ) from None
    return Mandate(
        mandante_type=mandante_type,
        mandatario_nit=nit,
        mandatario_type=mandatario_type,
        scope=scope,
        powers=tuple(code.strip() for code in powers_text.split(";") if code.strip()),
        invoices=() if scope is MandateScope.ALL_INVOICES else tuple(references),
        start_date=start,
        end_date=end,
        mandatario_dv=nit_element.get("schemeID"),  # type: ignore[union-attr]
        representative=representative,
        evidence=evidence,
    )


def _attachments(block: etree._Element, where: str) -> tuple[Attachment, ...]:
    out = []
    path = "cac:LineResponse/cac:LineReference/cac:DocumentReference[cac:Attachment/cbc:EmbeddedDocumentBinaryObject]"
    for index, reference in enumerate(_x(block, path), start=1):
        binary = reference.find(ns.clark("cac:Attachment/cbc:EmbeddedDocumentBinaryObject"))
        try:
            content = base64.b64decode("".join((binary.text or "").split()), validate=True)  # type: ignore[union-attr]
        except (binascii.Error, ValueError):
            raise ParseError("el adjunto no está en base64", where=f"{where}/cac:LineResponse[{index}]") from None
        name = binary.get("filename") or _text(reference, "cbc:ID") or f"anexo-{index}.pdf"  # type: ignore[union-attr]
        out.append(Attachment(name, content))
    return tuple(out)


def parse_radian_event(xml: bytes | etree._Element) -> RadianEvent:
    """Parse a signed or unsigned ApplicationResponse of an event 035-051; ParseError names what is wrong and where."""
    root = parse_xml(bytes(xml)) if isinstance(xml, bytes | bytearray | memoryview) else xml
    ar = parse_document(root)
    if not isinstance(ar, ApplicationResponse) or ar.event_code is None:
        raise ParseError("no es un evento (ApplicationResponse)", where=_WHERE)
    code = ar.event_code
    if code < EventCode.AVAL:
        raise ParseError(f"el evento {code.value} no es un evento RADIAN (035 a 051)", where=_WHERE)
    operation = _operation(ar, code)
    list_id = _list_id(ar, code)
    first = _x(root, "cac:DocumentResponse[1]")[0]
    where = f"{_WHERE}/cac:DocumentResponse[1]"
    references = _x(first, "cac:DocumentReference")
    if not references:
        raise ParseError("falta el elemento obligatorio cac:DocumentReference", where=f"{where}/cac:DocumentReference")
    reference_element = references[0]
    debtor_element = reference_element.find(ns.clark("cac:IssuerParty"))
    debtor: Party | None = None
    if debtor_element is not None:
        debtor = read_party(debtor_element, f"{where}/cac:DocumentReference/cac:IssuerParty")
    counterpart = _shares(first.find(ns.clark("cac:IssuerParty")), f"{where}/cac:IssuerParty")
    block = None
    for index, content in enumerate(_x(root, "ext:UBLExtensions/ext:UBLExtension/ext:ExtensionContent"), start=1):
        found = read_block(content, code, f"{_WHERE}/ext:UBLExtensions/ext:UBLExtension[{index}]/ext:ExtensionContent")
        if found is not None:
            if block is not None:
                raise ParseError(f"hay dos bloques {literals.VALUE_BLOCK_ROOT}", where=f"{_WHERE}/ext:UBLExtensions")
            block = found
    mandate = _mandate(root, first, list_id) if code is EventCode.MANDATO else None
    return RadianEvent(
        operation=operation,
        number=ar.id,
        issue_date=ar.issue_date,
        issue_time=ar.issue_time,
        environment=ar.environment,  # type: ignore[arg-type]
        sender=ar.sender,
        receiver=ar.receiver,
        reference=_reference(reference_element, where),
        sender_shares=_shares(root.find(ns.clark("cac:SenderParty")), f"{_WHERE}/cac:SenderParty"),
        receiver_shares=_shares(root.find(ns.clark("cac:ReceiverParty")), f"{_WHERE}/cac:ReceiverParty"),
        list_id=None if mandate is not None else list_id,
        due_date=None if mandate is not None else _day(reference_element, "cac:ValidityPeriod/cbc:EndDate", where),
        debtor=debtor,
        counterpart=counterpart[0] if counterpart and mandate is None else None,
        block=block,
        effective_date=_day(first, "cac:Response/cbc:EffectiveDate", where),
        mandate=mandate,
        attachments=_attachments(first, where),
        notes=ar.notes,
        cude=ar.uuid,
        issued_at=ar.issued_at,
        software_provider_nit=ar.software_provider_nit,
        software_id=ar.software_id,
        software_security_code=ar.software_security_code,
        qr_code=ar.qr_code,
        profile_id=ar.profile_id,
    )
