"""The client against the simulator over real HTTP: every operation, duplicates, WS-Security faults, restarts."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import subprocess
import sys
import urllib.request
import zipfile

import pytest
from lxml import etree

from dian.codes import EventCode
from dian.radian.chain import read_status_events
from dian.simulator import Simulator, SimulatorServer
from dian.soap import DianClient, DianFault, DianRejected, WsSecurity
from dian.soap.results import dian_response_from
from dian.ubl import parse_document
from dian.ubl.build import AttachedDraft, build_attached_document
from tests.integration.dian_fixtures import BUYER, BUYER_NIT, SELLER, SELLER_NIT, SELLER_SW, DianWorld, dian_world
from tests.pki import pki

pytestmark = pytest.mark.integration
__all__ = ["dian_world"]

FV = "fv09001234560002500000001.xml"


def test_wsdl_is_served_with_the_simulator_address(dian_world: DianWorld) -> None:
    with urllib.request.urlopen(dian_world.url + "?wsdl", timeout=5) as response:  # noqa: S310 - loopback
        body = response.read()
    assert dian_world.url.encode() in body
    assert b"http://wcf.dian.colombia/IWcfDianCustomerServices/SendEventUpdateStatus" in body


def test_invoice_is_validated_and_a_resend_is_regla_90_with_the_original_answer(dian_world: DianWorld) -> None:
    client = dian_world.client(dian_world.seller)
    invoice = dian_world.invoice()
    cufe = parse_document(invoice).uuid
    answer = client.send_bill_sync(FV, invoice)
    assert (answer.status_code, answer.is_valid, answer.document_key) == ("00", True, cufe)
    assert answer.status_message.endswith("ha sido autorizada.")
    assert [m.rule for m in answer.notifications] == ["RUT01"]
    ar = parse_document(answer.xml)
    assert (ar.response_code, ar.document_reference.uuid, ar.sender.nit) == ("02", cufe, "800197268")

    with pytest.raises(DianRejected) as caught:
        client.send_bill_sync(FV, invoice)
    assert caught.value.already_registered
    assert caught.value.status_code == "99"
    assert caught.value.response.document_key == cufe
    assert caught.value.response.xml == answer.xml  # the ORIGINAL answer (dian-facts 10)

    # Same number, new CUDE: still Regla 90, carrying the STORED key.
    other = dian_world.invoice(number=ar.document_reference.id, amount="5.00")
    with pytest.raises(DianRejected) as caught:
        client.send_bill_sync(FV, other)
    assert caught.value.already_registered
    assert caught.value.response.document_key == cufe

    status = client.get_status(cufe)
    assert (status.status_code, status.xml) == ("00", answer.xml)
    assert client.get_status("f" * 96).status_code == "66"


def test_wrong_technical_key_is_rejected_with_fad06(dian_world: DianWorld) -> None:
    client = dian_world.client(dian_world.seller)
    with pytest.raises(DianRejected) as caught:
        client.send_bill_sync(FV, dian_world.invoice(technical_key="0" * 40))
    assert not caught.value.already_registered
    assert "FAD06" in {m.rule for m in caught.value.messages}
    assert parse_document(caught.value.response.xml).response_code == "04"
    # GetStatus reports the rejection.
    key = caught.value.response.document_key
    assert dian_world.client(dian_world.seller).get_status(key).status_code == "99"


def test_a_zip_with_two_documents_is_status_89(dian_world: DianWorld) -> None:
    client = dian_world.client(dian_world.seller)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.xml", dian_world.invoice())
        archive.writestr("b.xml", dian_world.invoice())
    result = dian_response_from(client._call("SendBillSync", fileName="z.zip", contentFile=buffer.getvalue()))
    assert result.status_code == "89"
    assert "solo puede recibir un documento" in result.status_description


def test_a_caller_who_is_not_the_issuer_gets_89(dian_world: DianWorld) -> None:
    with pytest.raises(DianRejected) as caught:
        dian_world.client(dian_world.stranger).send_bill_sync(FV, dian_world.invoice())
    assert caught.value.status_code == "89"


def test_async_upload_test_set_and_get_status_zip(dian_world: DianWorld) -> None:
    client = dian_world.client(dian_world.seller)
    upload = client.send_bill_async(FV, dian_world.invoice())
    assert upload.zip_key and not upload.errors
    (answer,) = client.get_status_zip(upload.zip_key)
    assert answer.accepted
    test_set = client.send_test_set_async(FV, dian_world.invoice(technical_key="1" * 40), "ts-123")
    (rejected,) = client.get_status_zip(test_set.zip_key)
    assert rejected.status_code == "99" and "FAD06" in {m.rule for m in rejected.rejections}
    (unknown,) = client.get_status_zip("no-such-key")
    assert unknown.status_code == "66"


def test_queries_numbering_emails_acquirer(dian_world: DianWorld) -> None:
    seller = dian_world.client(dian_world.seller)
    ranges = seller.get_numbering_range(SELLER_NIT, SELLER_NIT, SELLER_SW.software_id)
    assert ranges.ok and ranges.ranges[0].technical_key == "fc8eac422eba16e22ffd8c6f94b3f40a6e38162c"
    assert (ranges.ranges[0].prefix, ranges.ranges[0].from_number) == ("SETP", 990000000)
    refused = dian_world.client(dian_world.stranger).get_numbering_range(SELLER_NIT, "811222333", SELLER_SW.software_id)
    assert refused.operation_code == "401" and "no autorizado" in refused.description

    emails = seller.get_exchange_emails()
    assert emails.success
    assert emails.rows()[0]["CorreoElectronico"] == "recepcion@compradora.test"

    acquirer = seller.get_acquirer("31", BUYER_NIT)
    assert (acquirer.name, acquirer.email, acquirer.found) == ("EMPRESA COMPRADORA S.A.S.", "fe@c.test", True)
    assert not seller.get_acquirer("13", "1").found


def test_get_xml_by_document_key_to_issuer_receiver_and_provider_only(dian_world: DianWorld) -> None:
    invoice = dian_world.invoice()
    cufe = dian_world.client(dian_world.seller).send_bill_sync(FV, invoice).document_key
    for who in (dian_world.seller, dian_world.buyer, dian_world.provider):  # the provider is authorized for the buyer
        found = dian_world.client(who).get_xml_by_document_key(cufe)
        assert (found.code, found.xml) == ("100", invoice)
    refused = dian_world.client(dian_world.stranger).get_xml_by_document_key(cufe)
    assert (refused.code, refused.xml) == ("401", None)
    assert dian_world.client(dian_world.buyer).get_xml_by_document_key("0" * 96).code == "404"


def test_events_are_registered_and_listed(dian_world: DianWorld) -> None:
    invoice = dian_world.invoice(at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=2))
    cufe = dian_world.client(dian_world.seller).send_bill_sync(FV, invoice).document_key
    buyer = dian_world.client(dian_world.buyer)
    ack = dian_world.event(EventCode.ACUSE_RECIBO, invoice, at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    registered = buyer.send_event_update_status("ar0900654321000250000001.xml", ack)
    assert registered.accepted and registered.document_key == parse_document(ack).uuid
    assert parse_document(registered.xml).document_reference.uuid == registered.document_key
    goods = buyer.send_event_update_status("ar2.xml", dian_world.event(EventCode.RECIBO_BIEN, invoice))
    listing = buyer.get_status_event(cufe)
    assert listing.accepted
    lines = read_status_events(listing.xml)  # DIAN's layout: one DocumentResponse per event (A.12)
    assert [(line.code.value, line.cude) for line in lines] == [
        ("030", registered.document_key),
        ("032", goods.document_key),
    ]
    assert buyer.get_status_event(registered.document_key).status_code == "68"
    assert buyer.get_status_event("0" * 96).status_code == "66"
    # The event's XML goes to its sender and to the invoice's parties.
    assert dian_world.client(dian_world.seller).get_xml_by_document_key(registered.document_key).xml == ack
    assert buyer.get_status(registered.document_key).accepted


class _TamperedTo(WsSecurity):
    def header(self, *, action: str, to: str) -> str:
        return super().header(action=action, to=to).replace(f">{to}</a:To>", f">{to}?otro</a:To>")


def test_bad_ws_security_signature_is_a_soap_fault(dian_world: DianWorld) -> None:
    client = dian_world.client(dian_world.seller)
    client.signer = _TamperedTo(dian_world.seller)
    with pytest.raises(DianFault) as caught:
        client.get_status("x")
    assert "InvalidSecurity" in " ".join(caught.value.subcodes)
    assert "digest" in caught.value.reason


def test_expired_timestamp_is_a_soap_fault(dian_world: DianWorld) -> None:
    client = dian_world.client(dian_world.seller, clock=lambda: dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    with pytest.raises(DianFault) as caught:
        client.get_status("x")
    assert "MessageExpired" in " ".join(caught.value.subcodes)


def test_untrusted_certificate_is_a_soap_fault(dian_world: DianWorld) -> None:
    from dian.trust import SigningIdentity

    rogue = pki().rogue
    client = dian_world.client(SigningIdentity(key=rogue.key, certificate=rogue.cert))
    with pytest.raises(DianFault) as caught:
        client.get_status("x")
    assert "FailedAuthentication" in " ".join(caught.value.subcodes)


def test_a_missing_security_header_is_a_soap_fault(dian_world: DianWorld) -> None:
    envelope = (
        b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>'
        b'<GetStatus xmlns="http://wcf.dian.colombia"><trackId>x</trackId></GetStatus></s:Body></s:Envelope>'
    )
    request = urllib.request.Request(  # noqa: S310 - loopback
        dian_world.url, data=envelope, headers={"Content-Type": "application/soap+xml"}, method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)  # noqa: S310 - loopback
    body = caught.value.read()
    caught.value.close()
    assert caught.value.code == 500
    fault = etree.fromstring(body)
    assert fault.find(".//{http://www.w3.org/2003/05/soap-envelope}Fault") is not None
    assert b"WS-Security is required" in body


def test_state_survives_a_restart(tmp_path) -> None:
    from tests.integration.dian_fixtures import make_world

    world = make_world(tmp_path / "sim")
    invoice = world.invoice()
    cufe = world.client(world.seller).send_bill_sync(FV, invoice).document_key
    ca = world.simulator.ca_certificate_path.read_bytes()
    seller = world.seller
    world.stop()

    simulator = Simulator(tmp_path / "sim")
    try:
        assert simulator.ca_certificate_path.read_bytes() == ca
        with SimulatorServer(simulator) as server, DianClient(server.url, seller) as client:
            assert client.get_status(cufe).accepted
            with pytest.raises(DianRejected) as caught:
                client.send_bill_sync(FV, invoice)
            assert caught.value.already_registered
    finally:
        simulator.close()


def test_buzon_verify_accepts_the_simulator_answer_when_its_ca_is_trusted(dian_world: DianWorld, tmp_path) -> None:
    invoice = dian_world.invoice()
    answer = dian_world.client(dian_world.seller).send_bill_sync(FV, invoice)
    doc = parse_document(invoice)
    ar = parse_document(answer.xml)
    attached = build_attached_document(
        AttachedDraft(
            id="ad" + doc.number,
            issue_date=doc.issue_date,
            issue_time=doc.issue_time,
            environment=doc.environment,
            sender=SELLER,
            receiver=BUYER,
            parent_document_id=doc.number,
            document_xml=invoice.strip(),
            dian_response_xml=answer.xml.strip(),
            reference_uuid=doc.uuid,
            reference_issue_date=doc.issue_date,
            validation_date=ar.issue_date,
            validation_time=ar.issue_time,
            signed=False,
        )
    )
    path = tmp_path / "ad.xml"
    path.write_bytes(attached)
    trust = tmp_path / "trust"
    trust.mkdir()
    (trust / "simulador.pem").write_bytes(dian_world.simulator.ca_certificate_path.read_bytes())
    config = tmp_path / "buzon.toml"
    config.write_text(f'[dian]\ntrust_store = "{trust}"\n')

    def run(cfg) -> tuple[int, dict]:
        result = subprocess.run(
            [sys.executable, "-m", "buzon.cli", "verify", "--config", str(cfg), "--json", str(path)],
            capture_output=True, text=True, timeout=120, cwd=tmp_path,
        )  # fmt: skip
        return result.returncode, json.loads(result.stdout.splitlines()[0])

    code, report = run(config)
    assert code == 0, report
    assert report["verdict"] == "valid", report
    outcomes = {c["name"]: c["outcome"] for c in report["checks"]}
    assert outcomes["dian.response"] == "pass"
    assert outcomes["dian.certificate.chain"] == "pass"

    # Without the simulator CA the very same file cannot be called DIAN-validated.
    empty = tmp_path / "empty"
    empty.mkdir()
    other = tmp_path / "other.toml"
    other.write_text(f'[dian]\ntrust_store = "{empty}"\n')
    _, untrusted = run(other)
    assert untrusted["verdict"] != "valid"
    assert base64  # keep the import honest for readers grepping for encodings
