"""HTTP for DIAN's web service: one POST per call on kept-alive stdlib connections (issue 21).

Why not ``requests``: a SOAP call is one POST to one endpoint, and requests + urllib3 spent about 1 ms of CPU per call
on it (adapter, pool, response objects, header parsing by the email package) — more than the RSA signature of the
message. :class:`HttpTransport` keeps connections alive in a small thread-safe pool; ``http.client`` opens them
(TCP, the proxy's CONNECT tunnel, TLS with hostname checking), and the exchange is written here: a request is one
``sendall`` of a head prepared once per content type plus the body; an answer is read as HTTP/1.1 says (status line,
``Content-Length`` or chunked or until close, ``Connection``, interim 1xx skipped), the rest of its headers skipped.

What it keeps from requests' behaviour:

* TLS verified with hostname checking (TLS 1.2 or later), against certifi's CA bundle (what requests used), a
  bundle file or a directory of certificates given as ``verify``.
* A connect timeout for opening the connection (and the TLS handshake), a read timeout for every read after it.
* Proxies from the environment, read once when the transport is built (:func:`environment_proxy`): the endpoint's
  scheme's ``*_PROXY`` or ``ALL_PROXY``, none when ``NO_PROXY`` covers the host (names, ``.suffix`` domains,
  ``host:port``, ``*``, and CIDR blocks for IP addresses, as requests reads it). HTTPS goes through a CONNECT tunnel
  (TLS end to end with DIAN); user and password in the proxy URL become ``Proxy-Authorization: Basic``. Only
  ``http://`` proxies are supported; another scheme is refused when the transport is built.
* Redirects are not followed (a redirect is an HTTP status without a SOAP answer).

A kept connection the server has closed meanwhile (an idle timeout) is noticed before it is used — its socket reads
as closed — and replaced by a new one. A request whose sending fails on a reused connection is sent once more on a
new connection: the server closed that connection before reading the request, so it cannot have acted on it. Once a
request has been sent whole it is never sent again: a connection dropped before the answer is an error for the
caller (the server may have registered the document; the outbox's resend gets DIAN's Regla 90 answer).

Errors are the standard library's: ``ssl.SSLError`` (TLS), ``TimeoutError``, ``OSError`` and
``http.client.HTTPException`` (connection refused, reset, closed without an answer, a malformed answer);
:class:`dian.soap.client.DianClient` turns them into ``DianTransportError``. An answer longer than
``max_answer_bytes`` is refused as :class:`AnswerTooLarge` (an ``HTTPException``) without being read whole.
"""

from __future__ import annotations

import base64
import functools
import http.client
import ipaddress
import os
import select
import ssl
import threading
import urllib.request
import weakref
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import unquote, urlsplit

from dian.xmlsafe import DEFAULT_MAX_BYTES

__all__ = ["AnswerTooLarge", "HttpTransport", "Proxy", "Transport", "environment_proxy", "tls_context"]

_MAX_LINE = 65536
_MAX_HEADERS = 100
POOL_SIZE = 16  # idle connections kept to the endpoint; more threads than this open and close their own
USER_AGENT = "Buzon (DIAN WcfDianCustomerServices client)"


class Transport(Protocol):
    """What :class:`dian.soap.client.DianClient` needs from HTTP (unit tests hand in a fake)."""

    def post(self, body: bytes, content_type: str) -> tuple[int, bytes]:
        """POST ``body`` to the endpoint; the answer's status and body."""
        ...

    def close(self) -> None:
        """Close the kept connections."""
        ...


class AnswerTooLarge(http.client.HTTPException):
    """The answer is longer than the transport accepts."""


@dataclass(frozen=True)
class Proxy:
    """An HTTP proxy: where it listens and the ``Proxy-Authorization`` value its URL carries (if any)."""

    url: str
    host: str
    port: int
    authorization: str | None = None

    @classmethod
    def parse(cls, url: str) -> Proxy:
        """A proxy from its URL (``http://[user:password@]host[:port]``; no scheme means http, as in requests)."""
        parts = urlsplit(url if "://" in url else f"http://{url}")
        if parts.scheme != "http":
            raise ValueError(f"proxy {url!r}: only http:// proxies are supported (HTTPS is tunnelled through them)")
        try:
            port = parts.port or 80
        except ValueError:
            raise ValueError(f"proxy {url!r}: the port is not a number") from None
        if not parts.hostname:
            raise ValueError(f"proxy {url!r}: no host")
        authorization = None
        if parts.username is not None:
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode("latin-1")
            authorization = "Basic " + base64.b64encode(pair).decode("ascii")
        return cls(url=url, host=parts.hostname, port=port, authorization=authorization)


def _bypassed(host: str, port: int | None, no_proxy: str) -> bool:
    """Whether ``NO_PROXY`` covers ``host``, by requests' rules: an IP address against addresses and CIDR blocks,
    a name by suffix (with or without its port); then urllib's rules (``*``, ``.domain``)."""
    entries = [e for e in no_proxy.replace(" ", "").split(",") if e]
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for entry in entries:
        if address is None:
            if host.endswith(entry) or (port and f"{host}:{port}".endswith(entry)):
                return True
            continue
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return bool(urllib.request.proxy_bypass_environment(host, {"no": no_proxy}))


def environment_proxy(endpoint: str) -> Proxy | None:
    """The proxy the environment gives ``endpoint`` (its scheme's ``*_PROXY``, else ``ALL_PROXY``), None when
    there is none or ``NO_PROXY`` covers its host."""
    parts = urlsplit(endpoint)
    proxies = urllib.request.getproxies_environment()
    url = proxies.get(parts.scheme) or proxies.get("all")
    if not url or not parts.hostname:
        return None
    no_proxy = proxies.get("no", "")
    if no_proxy and _bypassed(parts.hostname, parts.port, no_proxy):
        return None
    return Proxy.parse(url)


def _default_ca() -> str | None:
    try:
        import certifi
    except ImportError:  # pragma: no cover - certifi comes with zeep (through requests)
        return None
    return certifi.where()


@functools.lru_cache(maxsize=8)
def tls_context(verify: bool | str = True) -> ssl.SSLContext:
    """A verifying client context: certifi's bundle for True (else the system's), or a bundle file or directory."""
    if verify is False:
        raise ValueError("TLS verification cannot be disabled; pass a CA bundle path instead")
    where = _default_ca() if verify is True else verify
    try:
        if where is None:
            context = ssl.create_default_context()
        elif os.path.isdir(where):
            context = ssl.create_default_context(capath=where)
        else:
            context = ssl.create_default_context(cafile=where)
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(f"CA bundle {where!r} cannot be used: {exc}") from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class _Connection:
    """One kept-alive connection: its socket (opened, tunnelled and wrapped in TLS by ``http.client``) and a
    buffered reader over it. The exchange itself is written here: a request is one ``sendall`` of a head prepared
    once plus the body, and an answer is its status line, three headers that matter and the body."""

    __slots__ = ("reader", "sock")

    def __init__(self, opener: http.client.HTTPConnection, read_timeout: float) -> None:
        opener.connect()
        sock = opener.sock
        sock.settimeout(read_timeout)
        self.sock = sock
        self.reader = sock.makefile("rb")

    def dropped(self) -> bool:
        """Whether the socket is readable while no answer is due: closed by the server (or broken)."""
        poller = select.poll()
        poller.register(self.sock, select.POLLIN)
        return bool(poller.poll(0))

    def close(self) -> None:
        self.reader.close()
        self.sock.close()

    def answer(self, limit: int) -> tuple[int, bytes, bool]:
        """The answer to the request just sent: status, body, and whether the connection may be kept."""
        reader = self.reader
        while True:
            line = reader.readline(_MAX_LINE + 1)
            if not line:
                raise http.client.RemoteDisconnected("Remote end closed connection without response")
            version, _, rest = line.partition(b" ")
            status_text = rest[:3]
            if not version.startswith(b"HTTP/1.") or len(line) > _MAX_LINE or not status_text.isdigit():
                raise http.client.BadStatusLine(line.decode("latin-1", "replace").rstrip())
            status = int(status_text)
            length, chunked, keep = None, False, version == b"HTTP/1.1"
            for _ in range(_MAX_HEADERS + 1):
                line = reader.readline(_MAX_LINE + 1)
                if line in (b"\r\n", b"\n", b""):
                    break
                if len(line) > _MAX_LINE:
                    raise http.client.LineTooLong("header line")
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    try:
                        length = int(value)
                    except ValueError:
                        raise http.client.HTTPException(f"bad Content-Length {value.strip()!r}") from None
                elif name == b"transfer-encoding":
                    chunked = value.strip().lower().endswith(b"chunked")
                elif name == b"connection":
                    tokens = {token.strip() for token in value.lower().split(b",")}
                    keep = False if b"close" in tokens else keep or b"keep-alive" in tokens
            else:
                raise http.client.HTTPException(f"more than {_MAX_HEADERS} headers")
            if line == b"":
                raise http.client.IncompleteRead(b"")
            if not 100 <= status < 200:
                break  # an interim 1xx answer is skipped
        if status in (204, 304):
            return status, b"", keep
        if chunked:
            return status, self._chunked(limit), keep
        if length is not None:
            if length > limit:
                raise AnswerTooLarge(f"the answer is {length} bytes; at most {limit} are read")
            body = reader.read(length)
            if len(body) < length:
                raise http.client.IncompleteRead(body, length - len(body))
            return status, body, keep
        body = reader.read(limit + 1)  # no length: the answer ends with the connection
        if len(body) > limit:
            raise AnswerTooLarge(f"the answer is longer than {limit} bytes")
        return status, body, False

    def _chunked(self, limit: int) -> bytes:
        reader, parts, size = self.reader, [], 0
        while True:
            line = reader.readline(_MAX_LINE + 1)
            try:
                chunk = int(line.split(b";", 1)[0], 16)
            except ValueError:
                raise http.client.IncompleteRead(b"".join(parts)) from None
            if chunk == 0:
                break
            size += chunk
            if size > limit:
                raise AnswerTooLarge(f"the answer is longer than {limit} bytes")
            data = reader.read(chunk + 2)
            if len(data) < chunk + 2:
                raise http.client.IncompleteRead(b"".join(parts))
            parts.append(data[:-2])
        while reader.readline(_MAX_LINE + 1) not in (b"\r\n", b"\n", b""):
            pass  # trailers
        return b"".join(parts)


class HttpTransport:
    """POSTs to one endpoint on kept-alive connections; one transport serves many threads."""

    def __init__(
        self,
        endpoint: str,
        *,
        verify: bool | str = True,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        proxy: Proxy | None = None,
        max_answer_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        parts = urlsplit(endpoint)
        if parts.scheme not in {"https", "http"} or not parts.hostname:
            raise ValueError(f"endpoint {endpoint!r}: expected an http(s):// URL")
        self.endpoint = endpoint
        self.host = parts.hostname
        self.port = parts.port
        self.https = parts.scheme == "https"
        self.verify = verify
        self.context = tls_context(verify) if self.https else None
        self.proxy = proxy
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_answer_bytes = max_answer_bytes
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        # Plain HTTP through a proxy names the whole URL; a tunnel (or no proxy) names the path.
        target = endpoint.split("#", 1)[0] if proxy is not None and not self.https else path
        default_port = 443 if self.https else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        authority = host if self.port in (None, default_port) else f"{host}:{self.port}"
        head = (
            f"POST {target} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: {USER_AGENT}\r\nAccept-Encoding: identity\r\n"
        )
        if proxy is not None and proxy.authorization and not self.https:
            head += f"Proxy-Authorization: {proxy.authorization}\r\n"
        self._head = head
        self._heads: dict[str, bytes] = {}
        self._idle: list[_Connection] = []
        self._lock = threading.Lock()
        # A transport dropped without close() (a client nobody closed) still closes its kept connections.
        weakref.finalize(self, _close_idle, self._idle, self._lock)

    def _connect(self) -> _Connection:
        host, port = (self.proxy.host, self.proxy.port) if self.proxy is not None else (self.host, self.port)
        opener: http.client.HTTPConnection
        if self.https:
            opener = http.client.HTTPSConnection(host, port, timeout=self.connect_timeout, context=self.context)
            if self.proxy is not None:
                tunnel = {"Proxy-Authorization": self.proxy.authorization} if self.proxy.authorization else None
                opener.set_tunnel(self.host, self.port, headers=tunnel)
        else:
            opener = http.client.HTTPConnection(host, port, timeout=self.connect_timeout)
        try:
            return _Connection(opener, self.read_timeout)
        except BaseException:
            opener.close()
            raise

    def _take(self) -> tuple[_Connection | None, bool]:
        """An idle connection that is still open (True), or None: the caller opens one."""
        while True:
            with self._lock:
                if not self._idle:
                    return None, False
                connection = self._idle.pop()
            if not connection.dropped():
                return connection, True
            connection.close()

    def _give_back(self, connection: _Connection) -> None:
        with self._lock:
            if len(self._idle) < POOL_SIZE:
                self._idle.append(connection)
                return
        connection.close()

    def _request(self, body: bytes, content_type: str) -> bytes:
        head = self._heads.get(content_type)
        if head is None:
            if "\r" in content_type or "\n" in content_type:
                raise ValueError(f"content type {content_type!r}: a header cannot hold line breaks")
            head = self._heads[content_type] = f"{self._head}Content-Type: {content_type}\r\n".encode("latin-1")
        return b"%sContent-Length: %d\r\n\r\n%s" % (head, len(body), body)

    def post(self, body: bytes, content_type: str) -> tuple[int, bytes]:
        """POST ``body``; the status and the whole answer. Raises the standard library's errors (module docs)."""
        request = self._request(body, content_type)
        connection, reused = self._take()
        if connection is None:
            connection = self._connect()
        try:
            try:
                connection.sock.sendall(request)
            except (BrokenPipeError, ConnectionResetError, ssl.SSLEOFError):
                if not reused:
                    raise
                connection.close()  # closed by the server before it read the request: once more, on a new one
                connection = self._connect()
                connection.sock.sendall(request)
            status, content, keep = connection.answer(self.max_answer_bytes)
        except BaseException:
            connection.close()
            raise
        if keep:
            self._give_back(connection)
        else:
            connection.close()
        return status, content

    def close(self) -> None:
        """Close the idle connections (the transport stays usable: a later call opens a new one)."""
        _close_idle(self._idle, self._lock)


def _close_idle(idle: list[_Connection], lock: threading.Lock) -> None:
    """Close and forget the idle connections of ``idle`` (emptied in place: the transport keeps the same list)."""
    with lock:
        connections = idle[:]
        idle.clear()
    for connection in connections:
        connection.close()
