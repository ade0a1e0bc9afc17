"""dian.radian.chain: GetStatusEvent's answer in DIAN's layout (radian-issuing-facts.md A.12), built and read back."""

from __future__ import annotations

import datetime as dt

import pytest

from dian.calendar import BOGOTA
from dian.codes import Environment, EventCode
from dian.cufe import sha384_hex
from dian.errors import ParseError
from dian.radian.chain import ChainEntry, build_status_events, read_status_events, status_answer_uuid
from dian.ubl import Party, parse_document

ISSUER = Party(nit="900123456", dv="8", registration_name="PROVEEDOR S.A.S.")
BUYER = Party(nit="900654321", dv="1", registration_name="COMPRADOR S.A.S.")
FACTOR = Party(nit="901777888", dv="3", registration_name="FACTOR S.A.S.")
DIAN = Party(nit="800197268", dv="4", registration_name="DIAN")


def _entry(line: int, code: EventCode, sender: Party, receiver: Party, minute: int) -> ChainEntry:
    at = dt.datetime(2026, 3, 2, 9, minute, 7, tzinfo=BOGOTA)
    return ChainEntry(line, code, code.label, f"EV{line}", f"{line:x}" * 96, at, sender, receiver)


ENTRIES = (
    _entry(1, EventCode.ACUSE_RECIBO, BUYER, ISSUER, 1),
    _entry(2, EventCode.INSCRIPCION_TITULO, ISSUER, DIAN, 2),
    _entry(3, EventCode.ENDOSO_PROPIEDAD, ISSUER, FACTOR, 3),
)


def _answer(entries=ENTRIES) -> bytes:
    return build_status_events(number="4711", uuid="ab" * 48, issue_date=dt.date(2026, 3, 3),
                               issue_time="10:00:00-05:00", environment=Environment.TESTING, issuer=ISSUER,
                               entries=entries)  # fmt: skip


def test_the_answer_reads_back_entry_by_entry() -> None:
    assert read_status_events(_answer()) == ENTRIES


def test_the_layout_is_dians() -> None:
    xml = _answer()
    # DIAN writes EffectiveTime with dashes (A.12) and names each event by number and CUDE, never the invoice.
    assert b"<cbc:EffectiveTime>09-03-07-05:00</cbc:EffectiveTime>" in xml
    assert b"CUFE-SHA384" not in xml and xml.count(b"<cac:DocumentResponse>") == 3
    answer = parse_document(xml)
    assert (answer.customization_id, answer.profile_id, answer.id) == ("1", "DIAN 2.1", "4711")
    assert (answer.sender.nit, answer.receiver.nit) == ("800197268", ISSUER.nit)
    assert [response.code for response in answer.responses] == ["030", "036", "037"]


def test_colons_in_the_time_and_unknown_codes_are_read_leniently() -> None:
    xml = _answer().replace(b"09-03-07-05:00", b"09:03:07-05:00").replace(b">030<", b">0000<", 1)
    entries = read_status_events(xml)
    assert [entry.code for entry in entries] == [EventCode.INSCRIPCION_TITULO, EventCode.ENDOSO_PROPIEDAD]
    assert entries[1].signed_at == ENTRIES[2].signed_at
    unreadable = _answer().replace(b"09-01-07-05:00", b"nueve y uno")
    assert read_status_events(unreadable)[0].signed_at is None


def test_an_event_without_its_cude_is_a_parse_error() -> None:
    xml = _answer((ENTRIES[0],)).replace(ENTRIES[0].cude.encode(), b"")
    with pytest.raises(ParseError) as error:
        read_status_events(xml)
    assert "DocumentResponse[1]/cac:DocumentReference/cbc:UUID" in str(error.value)
    assert "falta el elemento obligatorio cbc:UUID" in str(error.value)
    assert error.value.where == "ApplicationResponse/cac:DocumentResponse[1]/cac:DocumentReference/cbc:UUID"


def test_the_answer_uuid_hashes_the_invoice_meta() -> None:
    # Written out: "UBL 2.1" + "01" + issuer NIT + buyer NIT + serie and number (DIAN's CreateCufeId, A.12).
    expected = sha384_hex("UBL 2.1" + "01" + "900123456" + "900654321" + "SETP990000002")
    assert status_answer_uuid(issuer_nit="900123456", buyer_nit="900654321", invoice_number="SETP990000002") == expected
    assert len(expected) == 96
