"""The title's chain as DIAN's GetStatusEvent tells it (radian-issuing-facts.md A.12): build it (the simulator) and
read it (the watch, the sync).

DIAN's answer is an ApplicationResponse signed by DIAN: header CustomizationID 1, ProfileID "DIAN 2.1", a random
number, a UUID that hashes the invoice's meta, SenderParty DIAN, ReceiverParty the invoice issuer, then one
cac:DocumentResponse per registered event ascending by signing time — Response (ReferenceID = line, ResponseCode,
Description, EffectiveDate, EffectiveTime written ``HH-mm-ss-05:00`` with dashes), DocumentReference (the event's
number and CUDE), IssuerParty (the event's sender) and RecipientParty (its receiver). It carries no CustomizationID,
listID nor amounts: whoever replays the holder fetches each event by its CUDE (A.11).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from lxml import etree

from dian.calendar import BOGOTA
from dian.codes import DIAN_DV, DIAN_NIT, Environment, EventCode
from dian.cufe import sha384_hex
from dian.errors import ParseError
from dian.ubl import namespaces as ns
from dian.ubl.build.elements import serialize, sub
from dian.ubl.build.envelope import dian_extensions, header
from dian.ubl.model import Party
from dian.xmlsafe import parse_xml

__all__ = ["ChainEntry", "build_status_events", "read_status_events", "status_answer_uuid"]

_NS = {"cac": ns.CAC, "cbc": ns.CBC}
_DIAN = Party(nit=DIAN_NIT, dv=DIAN_DV, registration_name="Unidad Especial Dirección de Impuestos y Aduanas Nacionales")
# DIAN writes "HH-mm-ss-05:00"; a corrected platform would write "HH:mm:ss-05:00". Both are read.
_TIME = re.compile(r"^(\d{2})[-:](\d{2})[-:](\d{2})(?:\.\d+)?(?:[-+]\d{2}:\d{2}|Z)?$")


@dataclass(frozen=True)
class ChainEntry:
    """One registered event as GetStatusEvent lists it."""

    line: int
    code: EventCode
    description: str
    number: str
    cude: str
    signed_at: datetime | None  # EffectiveDate + EffectiveTime, Bogotá; None when DIAN's time is unreadable
    sender: Party
    receiver: Party


def status_answer_uuid(*, issuer_nit: str, buyer_nit: str, invoice_number: str, ubl_version: str = "UBL 2.1") -> str:
    """The UUID DIAN gives its GetStatusEvent answer: SHA-384 of UblVersion + type 01 + issuer + buyer + serie and
    number (DIAN's CreateCufeId over the invoice meta, A.12). [?] Which UblVersion string DIAN stores is unverified."""
    return sha384_hex(ubl_version + "01" + issuer_nit + buyer_nit + invoice_number)


def _tax_party(parent: etree._Element, path: str, party: Party) -> None:
    scheme = sub(parent, f"{path}/cac:PartyTaxScheme")
    sub(scheme, "cbc:RegistrationName", party.registration_name or "")
    sub(scheme, "cbc:CompanyID", party.nit, schemeID=party.dv, schemeName=party.id_scheme or "31")
    tax = sub(scheme, "cac:TaxScheme")
    sub(tax, "cbc:ID", "01")
    sub(tax, "cbc:Name", "IVA")


def build_status_events(
    *,
    number: str,
    uuid: str,
    issue_date: date,
    issue_time: str,
    environment: Environment,
    issuer: Party,
    entries: Sequence[ChainEntry],
) -> bytes:
    """DIAN's unsigned GetStatusEvent answer for an invoice of ``issuer`` listing ``entries`` (in their order)."""
    root = etree.Element(
        f"{{{ns.APPLICATION_RESPONSE}}}ApplicationResponse", nsmap={None: ns.APPLICATION_RESPONSE, **ns.NSMAP}
    )
    dian_extensions(
        root, provider_nit=DIAN_NIT, provider_dv=DIAN_DV, software_id="...", security_code="...", qr_code=None
    )
    header(root, "1", "DIAN 2.1", environment, number)
    sub(root, "cbc:UUID", uuid, schemeID=environment.value, schemeName="CUDE-SHA384")
    sub(root, "cbc:IssueDate", issue_date.isoformat())
    sub(root, "cbc:IssueTime", issue_time)
    _tax_party(root, "cac:SenderParty", _DIAN)
    _tax_party(root, "cac:ReceiverParty", issuer)
    for entry in entries:
        block = sub(root, "cac:DocumentResponse")
        response = sub(block, "cac:Response")
        sub(response, "cbc:ReferenceID", str(entry.line))
        sub(response, "cbc:ResponseCode", entry.code.value)
        sub(response, "cbc:Description", entry.description)
        if entry.signed_at is not None:
            local = entry.signed_at.astimezone(BOGOTA)
            sub(response, "cbc:EffectiveDate", local.date().isoformat())
            sub(response, "cbc:EffectiveTime", local.strftime("%H-%M-%S") + "-05:00")  # DIAN's dashes (A.12)
        reference = sub(block, "cac:DocumentReference")
        sub(reference, "cbc:ID", entry.number)
        sub(reference, "cbc:UUID", entry.cude, schemeName="CUDE-SHA384")
        _tax_party(block, "cac:IssuerParty", entry.sender)
        _tax_party(block, "cac:RecipientParty", entry.receiver)
    return serialize(root)


def _text(element: etree._Element, path: str) -> str:
    found = element.xpath(path, namespaces=_NS)
    return (found[0].text or "").strip() if found else ""


def _party(block: etree._Element, path: str) -> Party:
    company = block.xpath(f"{path}/cac:PartyTaxScheme/cbc:CompanyID", namespaces=_NS)
    nit = (company[0].text or "").strip() if company else ""
    return Party(
        nit=nit,
        dv=company[0].get("schemeID") if company else None,
        registration_name=_text(block, f"{path}/cac:PartyTaxScheme/cbc:RegistrationName") or None,
        id_scheme=(company[0].get("schemeName") if company else None) or "31",
    )


def _moment(day: str, time: str) -> datetime | None:
    try:
        when = date.fromisoformat(day)
    except ValueError:
        return None
    match = _TIME.match(time)
    if match is None:
        return None
    hour, minute, second = (int(part) for part in match.groups())
    if hour > 23 or minute > 59 or second > 59:
        return None
    return datetime(when.year, when.month, when.day, hour, minute, second, tzinfo=BOGOTA)


def read_status_events(xml: bytes | etree._Element) -> tuple[ChainEntry, ...]:
    """The events a GetStatusEvent answer lists, in its order; ParseError names what is unreadable and where.

    Blocks whose ResponseCode is not an event 030-051 are skipped (DIAN's answer carries nothing else, but an answer
    in the shape of a validation 02/04 lists no events). Call it on XML whose DIAN signature was already weighed."""
    root = parse_xml(bytes(xml)) if isinstance(xml, bytes | bytearray | memoryview) else xml
    if etree.QName(root).localname != "ApplicationResponse":
        raise ParseError("no es una respuesta ApplicationResponse", where=etree.QName(root).localname)
    known = {code.value for code in EventCode}
    entries = []
    for index, block in enumerate(root.xpath("cac:DocumentResponse", namespaces=_NS), start=1):
        where = f"ApplicationResponse/cac:DocumentResponse[{index}]"
        code = _text(block, "cac:Response/cbc:ResponseCode")
        if code not in known:
            continue
        cude = _text(block, "cac:DocumentReference/cbc:UUID").lower()
        if not cude:
            raise ParseError("falta el elemento obligatorio cbc:UUID", where=f"{where}/cac:DocumentReference/cbc:UUID")
        line = _text(block, "cac:Response/cbc:ReferenceID")
        entries.append(
            ChainEntry(
                line=int(line) if line.isdigit() else index,
                code=EventCode(code),
                description=_text(block, "cac:Response/cbc:Description"),
                number=_text(block, "cac:DocumentReference/cbc:ID"),
                cude=cude,
                signed_at=_moment(
                    _text(block, "cac:Response/cbc:EffectiveDate"), _text(block, "cac:Response/cbc:EffectiveTime")
                ),
                sender=_party(block, "cac:IssuerParty"),
                receiver=_party(block, "cac:RecipientParty"),
            )
        )
    return tuple(entries)
