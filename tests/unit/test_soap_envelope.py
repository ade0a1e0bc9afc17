"""The client's hand-written SOAP: envelope, the canonical forms it signs, environment read once, GetDocumentInfo."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import socket
import threading
import urllib.request
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree

from dian.soap import DianClient, DianFault, DianTransportError, WsSecurity, check_request
from dian.soap.envelope import envelope, operations
from dian.soap.results import document_info_from
from dian.soap.transport import HttpTransport, environment_proxy
from dian.soap.wsse import DS, EXC_C14N, WSA, WSSE
from dian.trust import SigningIdentity
from tests.pki import pki

ENDPOINT = "https://vpfe-hab.dian.gov.co/WcfDianCustomerServices.svc"


def _identity() -> SigningIdentity:
    supplier = pki().supplier
    return SigningIdentity(key=supplier.key, certificate=supplier.cert)


def _request(to: str = ENDPOINT, **params) -> bytes:
    params = params or {"trackId": "abc & <def>"}
    operation = "GetStatus" if "trackId" in params else "SendEventUpdateStatus"
    return envelope(operations()[operation], params, signer=WsSecurity(_identity()), to=to)


def test_the_written_envelope_verifies_and_carries_the_parameters_escaped() -> None:
    root = etree.fromstring(_request())
    caller = check_request(root, now=dt.datetime.now(dt.UTC))
    assert caller.to == ENDPOINT
    assert caller.action == "http://wcf.dian.colombia/IWcfDianCustomerServices/GetStatus"
    assert root.findtext(".//{http://wcf.dian.colombia}trackId") == "abc & <def>"
    assert root.findtext(f".//{{{WSA}}}MessageID").startswith("urn:uuid:")
    token = root.find(f".//{{{WSSE}}}BinarySecurityToken")
    assert base64.b64decode(token.text) == pki().supplier.cert.public_bytes(Encoding.DER)


def test_base64_parameters_and_an_escaped_endpoint_still_verify() -> None:
    to = "http://127.0.0.1:8080/WcfDianCustomerServices.svc?a=1&b=2"
    root = etree.fromstring(_request(to=to, contentFile=b"PK\x03\x04 zip bytes"))
    assert check_request(root, now=dt.datetime.now(dt.UTC)).to == to
    content = root.findtext(".//{http://wcf.dian.colombia}contentFile")
    assert base64.b64decode(content) == b"PK\x03\x04 zip bytes"


def test_the_signed_forms_are_lxml_exclusive_c14n_of_what_was_sent() -> None:
    """What the signer hashed and signed is exactly the exclusive C14N of the elements in the envelope."""
    sent = _request(to="https://x.test/a?b=1&c=<2>")
    root = etree.fromstring(sent)
    to = root.find(f".//{{{WSA}}}To")
    signed_info = root.find(f".//{{{DS}}}SignedInfo")
    digest = signed_info.findtext(f".//{{{DS}}}DigestValue")
    canonical_to = etree.tostring(to, method="c14n", exclusive=True)
    assert base64.b64encode(hashlib.sha256(canonical_to).digest()).decode() == digest
    canonical_info = etree.tostring(signed_info, method="c14n", exclusive=True)
    assert canonical_info in sent  # written in its canonical form
    value = base64.b64decode(root.findtext(f".//{{{DS}}}SignatureValue"))
    pki().supplier.cert.public_key().verify(value, canonical_info, padding.PKCS1v15(), hashes.SHA256())
    assert signed_info.find(f"{{{DS}}}CanonicalizationMethod").get("Algorithm") == EXC_C14N


def test_each_message_has_fresh_ids_and_its_own_timestamp() -> None:
    moments = iter([dt.datetime(2025, 1, 1, 12, tzinfo=dt.UTC), dt.datetime(2025, 1, 1, 12, 1, tzinfo=dt.UTC)])
    signer = WsSecurity(_identity(), clock=lambda: next(moments), lifetime=dt.timedelta(minutes=5))
    first = signer.header(action="a", to=ENDPOINT)
    second = signer.header(action="a", to=ENDPOINT)
    assert "2025-01-01T12:00:00Z" in first and "2025-01-01T12:05:00Z" in first and "2025-01-01T12:01:00Z" in second

    def ids(text: str) -> set[str]:
        root = etree.fromstring(f'<s:Envelope xmlns:s="x" xmlns:a="y" xmlns:u="z">{text}</s:Envelope>')
        return {value for e in root.iter() for name, value in e.attrib.items() if etree.QName(name).localname == "Id"}

    assert len(ids(first)) == 6 and not ids(first) & ids(second)


def test_unknown_parameters_are_refused() -> None:
    with pytest.raises(TypeError, match="trackid"):
        operations()["GetStatus"].body({"trackid": "x"})


def test_the_wsdl_describes_get_document_info_with_uuid() -> None:
    operation = operations()["GetDocumentInfo"]
    assert operation.action == "http://wcf.dian.colombia/IWcfDianCustomerServices/GetDocumentInfo"
    assert [p.name for p in operation.parameters] == ["uuid"]
    assert 'action="http://wcf.dian.colombia/IWcfDianCustomerServices/GetDocumentInfo"' in operation.content_type


# -- HTTP faked: what goes on the wire, the environment read once ---------------------------------------------------


@dataclass
class _Sent:
    body: bytes
    content_type: str


class _Recorder:
    """A transport that answers every POST with fixed bytes and keeps what was sent."""

    def __init__(self, body: bytes, status: int = 200) -> None:
        self.body, self.status, self.sent = body, status, []

    def post(self, body: bytes, content_type: str) -> tuple[int, bytes]:
        self.sent.append(_Sent(body, content_type))
        return self.status, self.body

    def close(self) -> None:
        pass


def _client(body: bytes, status: int = 200, **kwargs) -> tuple[DianClient, _Recorder]:
    transport = _Recorder(body, status)
    return DianClient(ENDPOINT, _identity(), transport=transport, **kwargs), transport


def _answer(operation: str, result: str) -> bytes:
    return (
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>'
        f'<{operation}Response xmlns="http://wcf.dian.colombia">{result}</{operation}Response></s:Body></s:Envelope>'
    ).encode()


STATUS_66 = _answer(
    "GetStatus",
    '<GetStatusResult xmlns:b="http://schemas.datacontract.org/2004/07/DianResponse" '
    'xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><b:ErrorMessage/><b:IsValid>false</b:IsValid>'
    "<b:StatusCode>66</b:StatusCode><b:StatusDescription>NSU no encontrado</b:StatusDescription>"
    '<b:StatusMessage i:nil="true"/><b:XmlBase64Bytes i:nil="true"/></GetStatusResult>',
)


# GetDocumentInfo in the shape of generated clients of DIAN's later WSDL (data contracts; not a recorded DIAN answer).
_ENTIDAD = "http://schemas.datacontract.org/2004/07/Entidad"
DOCUMENT_INFO = _answer(
    "GetDocumentInfo",
    '<GetDocumentInfoResult xmlns:b="http://schemas.datacontract.org/2004/07/DocumentInfoResponse" '
    'xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><b:CompressedDocumentInfo i:nil="true"/>'
    '<b:DocumentInfo xmlns:c="http://schemas.datacontract.org/2004/07/Documento"><c:Documento>'
    '<c:DocumentCode>SETP990000001</c:DocumentCode><c:DocumentTags i:nil="true"/>'
    "<c:DocumentTypeId>01</c:DocumentTypeId>"
    f'<c:Emisor xmlns:e="{_ENTIDAD}"><e:Nombre>VENDEDORA S.A.S.</e:Nombre><e:NumeroDoc>900123456</e:NumeroDoc>'
    '<e:Procedencia i:nil="true"/><e:TipoDoc>Nit</e:TipoDoc></c:Emisor>'
    '<c:Estado xmlns:a="http://schemas.microsoft.com/2003/10/Serialization/Arrays"><a:KeyValueOfintstring>'
    "<a:Key>1</a:Key><a:Value>Título valor</a:Value></a:KeyValueOfintstring></c:Estado>"
    '<c:Eventos xmlns:v="http://schemas.datacontract.org/2004/07/Evento">'
    "<v:Evento><v:Codigo>036</v:Codigo><v:Descripcion>Inscripción en el RADIAN</v:Descripcion>"
    f'<v:Emisor xmlns:e="{_ENTIDAD}"><e:Nombre>VENDEDORA S.A.S.</e:Nombre><e:NumeroDoc>900123456</e:NumeroDoc>'
    '</v:Emisor><v:NumeroDocumento xmlns:n="http://schemas.datacontract.org/2004/07/NumeroDocumento">'
    '<n:FechaEmision>2025-02-20</n:FechaEmision></v:NumeroDocumento><v:Receptor i:nil="true"/>'
    "<v:UUID>cude-036</v:UUID></v:Evento>"
    "<v:Evento><v:Codigo>037</v:Codigo><v:Descripcion>Endoso en propiedad</v:Descripcion>"
    '<v:NumeroDocumento xmlns:n="http://schemas.datacontract.org/2004/07/NumeroDocumento">'
    "<n:FechaEmision>2025-03-01</n:FechaEmision></v:NumeroDocumento>"
    f'<v:Receptor xmlns:e="{_ENTIDAD}"><e:Nombre>FONDO FACTOR S.A.S.</e:Nombre>'
    "<e:NumeroDoc>901999888</e:NumeroDoc></v:Receptor><v:UUID>cude-037</v:UUID></v:Evento></c:Eventos>"
    '<c:LegitimoTenedor xmlns:l="http://schemas.datacontract.org/2004/07/LegitimoTenedor">'
    "<l:FechaInscripcionComoTituloValor>2025-02-20</l:FechaInscripcionComoTituloValor>"
    "<l:Nombre>FONDO FACTOR S.A.S.</l:Nombre></c:LegitimoTenedor>"
    '<c:Receptor i:nil="true"/><c:UUID>cufe-1</c:UUID></c:Documento></b:DocumentInfo>'
    "<b:StatusCode>00</b:StatusCode><b:StatusDescription>Proceso exitoso</b:StatusDescription>"
    "</GetDocumentInfoResult>",
)


def _clear_proxies(monkeypatch) -> None:
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def test_proxies_come_from_the_environment_once_and_no_proxy_is_honoured(monkeypatch) -> None:
    _clear_proxies(monkeypatch)
    monkeypatch.setenv("HTTPS_PROXY", "http://usuario:cl%40ve@proxy.corp.test:3128")
    client = DianClient(ENDPOINT, _identity())
    proxy = client.transport.proxy
    assert (proxy.host, proxy.port) == ("proxy.corp.test", 3128)
    assert base64.b64decode(proxy.authorization.split()[1]) == b"usuario:cl@ve"
    monkeypatch.setenv("HTTP_PROXY", "http://only-http.test:1")  # the endpoint is https: HTTP_PROXY is not its
    monkeypatch.delenv("HTTPS_PROXY")
    assert DianClient(ENDPOINT, _identity()).transport.proxy is None
    monkeypatch.setenv("ALL_PROXY", "all.test:8080")  # no scheme means http, as requests reads it
    assert DianClient(ENDPOINT, _identity()).transport.proxy.port == 8080

    for no_proxy in (".dian.gov.co", "dian.gov.co", "vpfe-hab.dian.gov.co", "*", "otro.test, dian.gov.co"):
        monkeypatch.setenv("NO_PROXY", no_proxy)
        assert environment_proxy(ENDPOINT) is None, no_proxy
    monkeypatch.setenv("NO_PROXY", "otro.test,gov.com")
    assert environment_proxy(ENDPOINT) is not None
    loopback = "http://127.0.0.1:8080/WcfDianCustomerServices.svc"
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.corp.test:3128")
    for no_proxy, bypassed in (("127.0.0.0/8", True), ("127.0.0.1", True), ("10.0.0.0/8", False), ("", False)):
        monkeypatch.setenv("NO_PROXY", no_proxy)
        assert (environment_proxy(loopback) is None) is bypassed, no_proxy
    monkeypatch.setenv("HTTPS_PROXY", "socks5://proxy.corp.test:1080")
    monkeypatch.delenv("NO_PROXY")
    with pytest.raises(ValueError, match="only http:// proxies"):
        DianClient(ENDPOINT, _identity())


def test_the_ca_bundle_from_the_environment_is_kept_and_an_explicit_one_wins(monkeypatch, tmp_path) -> None:
    _clear_proxies(monkeypatch)
    bundle, other = tmp_path / "ca.pem", tmp_path / "other.pem"
    bundle.write_bytes(pki().root.pem)
    other.write_bytes(pki().dian_root.pem)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    assert DianClient(ENDPOINT, _identity()).transport.verify == str(bundle)
    assert DianClient(ENDPOINT, _identity(), verify=str(other)).transport.verify == str(other)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    assert DianClient(ENDPOINT, _identity()).transport.verify is True  # certifi's bundle, as requests used
    not_a_bundle = tmp_path / "x.pem"
    not_a_bundle.write_text("x")
    with pytest.raises(ValueError, match="CA bundle"):
        DianClient(ENDPOINT, _identity(), verify=str(not_a_bundle))


def test_the_environment_is_not_read_per_call(monkeypatch) -> None:
    _clear_proxies(monkeypatch)
    client, _ = _client(STATUS_66)
    reads = []
    monkeypatch.setattr(urllib.request, "getproxies_environment", lambda: reads.append(1) or {})
    monkeypatch.setattr(os, "environ", _Watched(os.environ, reads))
    for _ in range(3):
        client.get_status("x")
    assert reads == []


class _Watched(dict):
    """os.environ stand-in that notes every read."""

    def __init__(self, data, reads: list) -> None:
        super().__init__(data)
        self.reads = reads

    def get(self, *args):
        self.reads.append(args)
        return super().get(*args)

    def __getitem__(self, key):
        self.reads.append(key)
        return super().__getitem__(key)


def test_a_fault_a_proxy_page_and_a_wrong_body() -> None:
    fault = (
        b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><s:Fault><s:Code><s:Value>s:Sender'
        b'</s:Value><s:Subcode><s:Value xmlns:a="http://www.w3.org/2005/08/addressing">a:ActionNotSupported'
        b'</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="es-CO">No.</s:Text></s:Reason></s:Fault>'
        b"</s:Body></s:Envelope>"
    )
    with pytest.raises(DianFault) as caught:
        _client(fault, status=500)[0].get_status("x")
    assert caught.value.code == "s:Sender" and caught.value.reason == "No."
    assert caught.value.subcodes == ("{http://www.w3.org/2005/08/addressing}ActionNotSupported",)
    for body, status, retryable in ((b"<html><body>Bad gateway</body></html>", 502, True), (b"<html>", 503, True),
                                    (b"not xml", 404, False), (b"", 429, True)):  # fmt: skip
        with pytest.raises(DianTransportError) as caught:
            _client(body, status=status)[0].get_status("x")
        assert (caught.value.status, caught.value.retryable) == (status, retryable)
    with pytest.raises(DianTransportError, match="not a GetStatusResponse") as caught:
        _client(_answer("GetAcquirer", ""))[0].get_status("x")
    assert not caught.value.retryable


def test_one_client_from_four_threads() -> None:
    client, transport = _client(STATUS_66)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(25):
                assert client.get_status("x").status_code == "66"
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(transport.sent) == 100
    digests = {etree.fromstring(r.body).findtext(f".//{{{DS}}}DigestValue") for r in transport.sent}
    assert len(digests) == 100  # every message its own wsa:To Id, hence its own digest
    for request in transport.sent[::10]:
        check_request(etree.fromstring(request.body), now=dt.datetime.now(dt.UTC))


# -- GetDocumentInfo ------------------------------------------------------------------------------------------------


def test_document_info_reads_holder_events_and_states() -> None:
    client, transport = _client(DOCUMENT_INFO)
    info = client.get_document_info("cufe-1")
    assert b"<wcf:uuid>cufe-1</wcf:uuid>" in transport.sent[0].body
    assert (info.found, info.status_code, info.uuid, info.document_code) == (True, "00", "cufe-1", "SETP990000001")
    assert (info.holder_name, info.holder_since, info.holder_number) == ("FONDO FACTOR S.A.S.", "2025-02-20", None)
    assert info.issuer.number == "900123456" and info.receiver is None
    assert info.states == ((1, "Título valor"),)
    assert [(e.code, e.uuid, e.receiver and e.receiver.number, e.issue_date) for e in info.events] == [
        ("036", "cude-036", None, "2025-02-20"),
        ("037", "cude-037", "901999888", "2025-03-01"),
    ]
    assert info.raw.startswith(b"<GetDocumentInfoResult")


def test_document_info_not_found_and_empty() -> None:
    result = etree.fromstring(
        b'<GetDocumentInfoResult xmlns="http://wcf.dian.colombia" '
        b'xmlns:b="http://schemas.datacontract.org/2004/07/DocumentInfoResponse" '
        b'xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><b:CompressedDocumentInfo i:nil="true"/>'
        b'<b:DocumentInfo i:nil="true"/><b:StatusCode>66</b:StatusCode>'
        b"<b:StatusDescription>Documento no encontrado</b:StatusDescription></GetDocumentInfoResult>"
    )
    info = document_info_from(result)
    assert (info.found, info.status_code, info.holder_name, info.events) == (False, "66", None, ())
    assert document_info_from(None).found is False


# -- the HTTP exchange on a loopback socket: answer framings ----------------------------------------------------------


def _serve_once(answers: list[bytes]) -> tuple[int, list[bytes]]:
    """A loopback server that reads one request per answer on one connection and writes the answer as given."""
    listener = socket.create_server(("127.0.0.1", 0))
    seen: list[bytes] = []

    def serve() -> None:
        conn, _ = listener.accept()
        with conn, listener:
            reader = conn.makefile("rb")
            for answer in answers:
                head = b""
                while not head.endswith(b"\r\n\r\n"):
                    head += reader.readline()
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                seen.append(head + reader.read(length))
                conn.sendall(answer)

    threading.Thread(target=serve, daemon=True).start()
    return listener.getsockname()[1], seen


def test_chunked_interim_and_close_delimited_answers_are_read() -> None:
    body = STATUS_66
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:100], body[100:])) + b"0\r\n\r\n"
    port, seen = _serve_once(
        [
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked,
            b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body),
            b"HTTP/1.0 200 OK\r\nContent-Type: application/soap+xml\r\n\r\n" + body,  # ends when the server closes
        ]
    )
    transport = HttpTransport(f"http://127.0.0.1:{port}/svc")
    client = DianClient(f"http://127.0.0.1:{port}/svc", _identity(), transport=transport)
    for _ in range(3):
        assert client.get_status("x").status_code == "66"
    assert len(seen) == 3 and all(s.startswith(b"POST /svc HTTP/1.1\r\nHost: 127.0.0.1:") for s in seen)
    assert transport._idle == []  # the HTTP/1.0 answer closed the one connection the three calls shared
    client.close()


def test_an_answer_cut_short_or_too_large_is_a_transport_error() -> None:
    port, _ = _serve_once([b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n<s:Envelope"])
    with pytest.raises(DianTransportError, match="connection failed or reset") as caught:
        DianClient(f"http://127.0.0.1:{port}/svc", _identity()).get_status("x")
    assert caught.value.kind == "connection" and caught.value.retryable
    port, _ = _serve_once([b"HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n" + b" " * 2000])
    small = HttpTransport(f"http://127.0.0.1:{port}/svc", max_answer_bytes=1000)
    with pytest.raises(DianTransportError, match="at most 1000") as caught:
        DianClient(f"http://127.0.0.1:{port}/svc", _identity(), transport=small).get_status("x")
    assert caught.value.kind == "unreadable" and not caught.value.retryable
