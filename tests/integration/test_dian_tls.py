"""The DIAN client over real TLS and through a real CONNECT proxy, to the simulator over HTTP behind them.

A TLS terminator (our test CA's certificate for 127.0.0.1) forwards to the simulator; a CONNECT proxy forwards to
the terminator. What is checked: verification against the CA bundle handed in, an untrusted or misnamed certificate
refused as a TLS error, connections kept alive (and replaced when the server closes one), HTTPS_PROXY tunnelled with
Proxy-Authorization, NO_PROXY honoured.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import ipaddress
import select
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from dian.soap import DianClient, DianTransportError
from tests.integration.dian_fixtures import DianWorld, dian_world
from tests.pki import pki

pytestmark = pytest.mark.integration
__all__ = ["dian_world"]
PATH = "/WcfDianCustomerServices.svc"


def _relay(first: socket.socket, second: socket.socket) -> None:
    """Forward both ways in one thread: an SSL socket must not be read and written from two threads at once (OpenSSL's
    object is not thread-safe; under load that corrupted the stream into an 'unexpected message' alert)."""
    sockets = [first, second]
    try:
        while True:
            ready = [s for s in sockets if isinstance(s, ssl.SSLSocket) and s.pending()]
            if not ready:
                ready, _, _ = select.select(sockets, [], [], 30)
                if not ready:
                    return
            for source in ready:
                data = source.recv(65536)
                if not data:
                    return
                (second if source is first else first).sendall(data)
    except (OSError, ValueError):
        pass
    finally:
        for s in sockets:
            with contextlib.suppress(OSError, ValueError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()


class _Forwarder:
    """Accepts on a free loopback port and forwards each connection to ``upstream`` (TLS first, or CONNECT)."""

    def __init__(self, upstream: tuple[str, int] | None, *, context: ssl.SSLContext | None = None) -> None:
        self.upstream, self.context = upstream, context
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.accepted = 0
        self.heads: list[bytes] = []  # what a CONNECT proxy was asked
        self.live: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        try:
            if self.context is not None:
                conn = self.context.wrap_socket(conn, server_side=True)
            upstream = self.upstream
            if upstream is None:  # a CONNECT proxy: read the request head, open the tunnel
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = conn.recv(4096)
                    if not chunk:
                        raise OSError("closed before the request head")
                    head += chunk
                self.heads.append(head)
                host, _, port = head.split()[1].decode().rpartition(":")
                upstream = (host, int(port))
                conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            other = socket.create_connection(upstream, timeout=10)
        except (OSError, ssl.SSLError):
            conn.close()  # a refused handshake (the client did not trust us) ends here
            return
        self.live += [conn, other]
        _relay(conn, other)

    def drop_all(self) -> None:
        """Close every forwarded connection, as a server closes idle kept-alive connections."""
        for s in self.live:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
        self.live.clear()

    def close(self) -> None:
        self.listener.close()
        self.drop_all()


def _server_context(folder: Path) -> ssl.SSLContext:
    """A certificate for 127.0.0.1 (IP only: "localhost" does not match it) under the test root CA."""
    root = pki().root
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "simulador DIAN")]))
        .issuer_name(root.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root.key.public_key()), False)
        .sign(root.key, hashes.SHA256())
    )
    (folder / "server.pem").write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(folder / "server.pem")
    return context


@pytest.fixture
def tls(dian_world: DianWorld, tmp_path: Path, monkeypatch) -> Iterator[tuple[_Forwarder, Path]]:
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    upstream = dian_world.server.url.split("/")[2].rsplit(":", 1)
    terminator = _Forwarder((upstream[0], int(upstream[1])), context=_server_context(tmp_path))
    ca = tmp_path / "ca.pem"
    ca.write_bytes(pki().root.pem)
    yield terminator, ca
    terminator.close()


def test_tls_verified_against_the_bundle_handed_in_on_one_kept_connection(dian_world, tls) -> None:
    terminator, ca = tls
    with DianClient(f"https://127.0.0.1:{terminator.port}{PATH}", dian_world.seller, verify=str(ca)) as client:
        for _ in range(3):
            assert client.get_status("no-existe").status_code == "66"
        answer = client.send_bill_sync("fv.xml", dian_world.invoice())
        assert answer.accepted
        assert terminator.accepted == 1
        terminator.drop_all()  # the server closes the kept connection: the next call opens a new one
        assert client.get_status("no-existe").status_code == "66"
        assert terminator.accepted == 2


def test_an_untrusted_or_misnamed_certificate_is_a_tls_error(dian_world, tls, tmp_path) -> None:
    terminator, ca = tls
    rogue = tmp_path / "rogue.pem"
    rogue.write_bytes(pki().rogue_root.pem)
    cases = [
        (f"https://127.0.0.1:{terminator.port}{PATH}", True),  # certifi's bundle does not hold the test root
        (f"https://127.0.0.1:{terminator.port}{PATH}", str(rogue)),
        (f"https://localhost:{terminator.port}{PATH}", str(ca)),  # the certificate names 127.0.0.1 only
    ]
    for url, verify in cases:
        with pytest.raises(DianTransportError) as caught:
            DianClient(url, dian_world.seller, verify=verify, connect_timeout=5).get_status("x")
        assert (caught.value.kind, caught.value.retryable) == ("tls", False), (url, verify)
        assert "TLS failed" in str(caught.value)


def test_https_goes_through_the_environment_proxy_unless_no_proxy(dian_world, tls, monkeypatch) -> None:
    terminator, ca = tls
    proxy = _Forwarder(None)
    try:
        monkeypatch.setenv("HTTPS_PROXY", f"http://buzon:s%40cret@127.0.0.1:{proxy.port}")
        url = f"https://127.0.0.1:{terminator.port}{PATH}"
        with DianClient(url, dian_world.seller, verify=str(ca)) as client:
            assert client.get_status("x").status_code == "66"
            assert client.get_status("x").status_code == "66"
        (head,) = proxy.heads  # one tunnel, kept for both calls
        assert head.startswith(f"CONNECT 127.0.0.1:{terminator.port} HTTP/1.".encode())
        assert b"Proxy-Authorization: Basic " + base64.b64encode(b"buzon:s@cret") in head
        monkeypatch.setenv("NO_PROXY", "127.0.0.0/8")
        with DianClient(url, dian_world.seller, verify=str(ca)) as client:
            assert client.get_status("x").status_code == "66"
        assert len(proxy.heads) == 1
    finally:
        proxy.close()
