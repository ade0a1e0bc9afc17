"""The client on DIAN's real recorded answers (read in place from ../shared/dian-responses), with HTTP faked."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from dataclasses import dataclass

import pytest
from lxml import etree

from dian.soap import (
    DianClient,
    DianRejected,
    SecurityHeaderError,
    check_request,
    document_file_name,
    parse_message,
    read_zip,
    zip_file_name,
    zip_name_for,
    zip_one,
)
from dian.trust import SigningIdentity
from dian.ubl import parse_document
from tests.conftest import SHARED, missing
from tests.pki import pki

RESPONSES = SHARED / "dian-responses"


def _recorded(name: str) -> bytes:
    path = RESPONSES / name
    if not path.is_file():
        missing(f"the recorded DIAN answer {name} is not at {RESPONSES}")
    return path.read_bytes()


@dataclass
class _Sent:
    body: bytes
    content_type: str


class _Canned:
    """A transport that answers every POST with fixed bytes and keeps what was sent (unit tests may fake HTTP)."""

    def __init__(self, body: bytes, status: int = 200) -> None:
        self.body, self.status, self.sent = body, status, []

    def post(self, body: bytes, content_type: str) -> tuple[int, bytes]:
        self.sent.append(_Sent(body, content_type))
        return self.status, self.body

    def close(self) -> None:
        pass


def _client(body: bytes) -> tuple[DianClient, _Canned]:
    transport = _Canned(body)
    supplier = pki().supplier
    identity = SigningIdentity(key=supplier.key, certificate=supplier.cert)
    endpoint = "https://vpfe-hab.dian.gov.co/WcfDianCustomerServices.svc"
    return DianClient(endpoint, identity, transport=transport), transport


def test_real_accepted_invoice_answer_with_notifications() -> None:
    client, transport = _client(_recorded("SendBillSync_00_invoice_3notifications_2025-07-22.response.xml"))
    answer = client.send_bill_sync("fv09018462800002500000165.xml", b"<Invoice/>")
    assert (answer.status_code, answer.is_valid, answer.accepted) == ("00", True, True)
    assert [(m.rule, m.kind) for m in answer.messages] == [
        ("FAK55", "Notificación"),
        ("FAJ44b", "Notificación"),
        ("FAJ43b", "Notificación"),
    ]
    assert answer.file_name == "fv09018462800002500000165"
    assert parse_document(answer.xml).response_code == "02"
    # What went out: SOAP 1.2 with the action, and a signed wsa:To that the receiving side accepts.
    sent = transport.sent[0]
    assert 'action="http://wcf.dian.colombia/IWcfDianCustomerServices/SendBillSync"' in sent.content_type
    envelope = etree.fromstring(sent.body)
    caller = check_request(envelope, now=dt.datetime.now(dt.UTC))
    assert caller.to == "https://vpfe-hab.dian.gov.co/WcfDianCustomerServices.svc"
    assert caller.action.endswith("/SendBillSync")


def test_real_regla_90_answer_is_already_registered_with_the_stored_document() -> None:
    client, _ = _client(_recorded("SendBillSync_99_Regla90_creditnote_same_number_new_cude_2025-01-14.response.xml"))
    with pytest.raises(DianRejected) as caught:
        client.send_bill_sync("nc00890080030002500000001.xml", b"<CreditNote/>")
    rejected = caught.value
    assert rejected.already_registered and rejected.status_code == "99"
    assert rejected.response.document_key.startswith("22e9de7e")  # the STORED CUDE, not the resent one
    assert rejected.response.file_name == "nc00890080030002400000025"
    original = parse_document(rejected.response.xml)
    assert original.response_code == "02" and original.issue_date == dt.date(2024, 8, 28)


def test_real_multi_rule_rejection_is_not_already_registered() -> None:
    client, _ = _client(_recorded("SendNominaSync_99_rules_NIE017_92_NIE033_NIE020_2025-02-24.response.xml"))
    # The payroll answer has the same DianResponse contract; read it through GetStatus's shape.
    body = _recorded("SendNominaSync_99_rules_NIE017_92_NIE033_NIE020_2025-02-24.response.xml")
    body = body.replace(b"SendNominaSync", b"GetStatus")
    client, _ = _client(body)
    answer = client.get_status("x")
    assert answer.status_code == "99" and not answer.already_registered
    assert "92" in {m.rule for m in answer.rejections}
    assert answer.xml is None


def test_real_pretty_printed_status_zip_and_upload_answers() -> None:
    client, _ = _client(_recorded("GetStatusZip_99_rules_2019_pretty_truncated_b64.xml"))
    (answer,) = client.get_status_zip("k")
    assert answer.status_code == "99" and not answer.already_registered
    assert "FAD06" in {m.rule for m in answer.rejections}
    # Line breaks the author put inside the strings are folded away.
    assert all("\n" not in m.text for m in answer.messages)
    client, _ = _client(_recorded("SendTestSetAsync_ok_zipkey_2019_pretty.xml"))
    assert client.send_test_set_async("fv.xml", b"<Invoice/>", "t").zip_key == "ef9998bd-8081-4882-9762-3d7cc53ac497"
    client, _ = _client(_recorded("SendTestSetAsync_parse_error_2019_pretty.xml"))
    upload = client.send_test_set_async("fv.xml", b"<Invoice/>", "t")
    assert upload.zip_key is None
    assert upload.errors[0].message == "Error al parsear xml. Namespace prefix 'ds' is not defined."


def test_real_numbering_range_401() -> None:
    client, _ = _client(_recorded("GetNumberingRange_401_not_authorized_2019_pretty.xml"))
    ranges = client.get_numbering_range("1111111111111", "154845", "sw")
    assert (ranges.operation_code, ranges.ok, ranges.ranges) == ("401", False, ())
    assert ranges.description.startswith("NIT: 154845 no autorizado para consultar rangos de numeración")


def test_the_real_request_signature_verifies_and_tampering_is_caught() -> None:
    raw = _recorded("SendBillSync_00_invoice_3notifications_2025-07-22.request.xml")
    at = dt.datetime(2025, 7, 22, 17, 19, tzinfo=dt.UTC)
    caller = check_request(etree.fromstring(raw), now=at)
    assert "DIGITAL BUHO" in caller.certificate.subject.rfc4514_string()
    with pytest.raises(SecurityHeaderError, match="digest") as forged:
        check_request(etree.fromstring(raw.replace(b"vpfe-hab.dian.gov.co/W", b"vpfe-hab.dian.gov.co/X")), now=at)
    assert not forged.value.expired  # a forged header is no MessageExpired
    with pytest.raises(SecurityHeaderError, match="expired") as late:
        check_request(etree.fromstring(raw), now=at + dt.timedelta(days=2))
    assert late.value.expired
    with pytest.raises(SecurityHeaderError, match="in the future") as early:
        check_request(etree.fromstring(raw), now=at - dt.timedelta(days=2))
    assert early.value.expired


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "Regla: 90, Rechazo: Documento procesado anteriormente.",
            ("90", "Rechazo", "Documento procesado anteriormente."),
        ),
        ("Regla: FAJ43b, Notificación: Nombre\n   informado", ("FAJ43b", "Notificación", "Nombre informado")),
        ("Regla: FAK55, Notificacion: sin tilde", ("FAK55", "Notificación", "sin tilde")),
        ("Error al parsear xml", (None, None, "Error al parsear xml")),
    ],
)
def test_messages(raw: str, expected: tuple) -> None:
    message = parse_message(raw)
    assert (message.rule, message.kind, message.text) == expected


def test_file_names_and_zip() -> None:
    assert document_file_name("fv", "900123456", year=2025, consecutive=0x1A) == "fv0900123456000250000001A.xml"
    assert zip_file_name("900123456", year=2025, consecutive=26, provider_code="008") == "z0900123456008250000001A.zip"
    assert zip_name_for("fv0900123456000250000001A.xml") == "z0900123456000250000001A.zip"
    assert zip_name_for("SETP1.xml") == "SETP1.zip"
    (member,) = read_zip(zip_one("fv1.xml", b"<x/>"))
    assert (member.name, member.data) == ("fv1.xml", b"<x/>")


@pytest.mark.parametrize(
    ("name", "xml"),
    [("ar.xml", b"<x/>"), ("fv1.xml", bytes(range(256)) * 40), ("año.xml", b"<a>%d</a>" * 500 % tuple(range(500)))],
)
def test_the_written_zip_is_the_zip_zipfile_writes(name: str, xml: bytes) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
        archive.writestr(info, xml, compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)
    assert zip_one(name, xml) == buffer.getvalue()
    with zipfile.ZipFile(io.BytesIO(zip_one(name, xml))) as archive:
        assert archive.testzip() is None and archive.read(name) == xml


def test_plain_http_only_on_loopback_and_tls_cannot_be_disabled() -> None:
    supplier = pki().supplier
    identity = SigningIdentity(key=supplier.key, certificate=supplier.cert)
    with pytest.raises(ValueError, match="loopback"):
        DianClient("http://dian.example/WcfDianCustomerServices.svc", identity)
    with pytest.raises(ValueError, match="TLS"):
        DianClient("https://vpfe.dian.gov.co/WcfDianCustomerServices.svc", identity, verify=False)
