"""Run the simulator's WSGI application on a loopback port in a background thread (tests, demo, ``buzon dian-sim``).

HTTP/1.1 keep-alive, as DIAN's IIS keeps connections: werkzeug's development server closes every connection, because
http.server cannot drain a request body the application left unread. Here the handler reads the whole body (up to
the service's limit) before the application runs, so the connection can carry the next request; a chunked or larger
body, or a client asking to close, still closes. ``stop()`` shuts the kept connections, so a client's next call opens
a new one to whatever serves the port then.

``latency`` (seconds, default 0) delays every SOAP answer: DIAN's network and processing time, for benchmarks.
"""

from __future__ import annotations

import contextlib
import io
import socket
import threading
import time

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from dian.simulator.core import Simulator
from dian.simulator.wsgi import SERVICE_PATH, SimulatorApp

__all__ = ["SimulatorServer"]


KEEP_ALIVE_MAX_BODY = 30 * 1024 * 1024  # the service's own limit (dian.simulator.wsgi.MAX_BODY)
IDLE_SECONDS = 30.0  # a kept connection with nothing to say is closed after this


class _Handler(WSGIRequestHandler):
    """Keep-alive when the request body could be read whole; optionally quiet (no access log line per request)."""

    quiet = True
    timeout = IDLE_SECONDS

    def setup(self) -> None:
        super().setup()
        # Headers and body leave in separate writes: without this, Nagle plus the client's delayed ACK hold every
        # answer of a kept connection back by about 40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.connections.add(self.connection)  # type: ignore[attr-defined]

    def finish(self) -> None:
        self.server.connections.discard(self.connection)  # type: ignore[attr-defined]
        super().finish()

    def make_environ(self) -> dict:
        environ = super().make_environ()
        self._keep = False
        length = self.headers.get("Content-Length")
        chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        closing = self.headers.get("Connection", "").lower() == "close" or self.request_version != "HTTP/1.1"
        if not chunked and not closing and (length or "0").isdigit() and int(length or 0) <= KEEP_ALIVE_MAX_BODY:
            environ["wsgi.input"] = io.BytesIO(self.rfile.read(int(length or 0)))
            self._keep = True
            # werkzeug drains "what is left" of the socket after answering, which would swallow the next request
            # of a kept connection: it drains this empty stream instead (run_wsgi puts the socket's back).
            self.rfile = io.BytesIO()
        latency = getattr(self.server, "latency", 0.0)
        if latency and environ.get("REQUEST_METHOD") == "POST":
            time.sleep(latency)
        return environ

    def run_wsgi(self) -> None:
        stream = self.rfile
        self._keep = False
        try:
            super().run_wsgi()
        finally:
            self.rfile = stream

    def send_header(self, keyword: str, value: str) -> None:
        keep = getattr(self, "_keep", False) and not getattr(self.server, "stopping", False)
        if keep and keyword.lower() == "connection" and value.lower() == "close":
            return  # the body was drained: HTTP/1.1 keeps the connection
        super().send_header(keyword, value)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if not self.quiet:
            super().log_request(code, size)


class _QuietHandler(_Handler):
    quiet = True


class _LoggingHandler(_Handler):
    quiet = False


class SimulatorServer:
    """A threaded werkzeug server for one :class:`Simulator`; use as a context manager or start()/stop()."""

    def __init__(
        self, simulator: Simulator, *, host: str = "127.0.0.1", port: int = 0, quiet: bool = True, latency: float = 0.0
    ) -> None:
        """Bind now: a port that is taken raises OSError (EADDRINUSE) here, for the caller to choose another.

        The socket is bound before werkzeug sees it (``fd=``): werkzeug's own bind prints a message and calls
        sys.exit() when the port is taken, which no caller could recover from.
        """
        self.simulator = simulator
        self.app = SimulatorApp(simulator)
        self._socket = socket.create_server((host, port))
        try:
            self._server: BaseWSGIServer = make_server(
                host, port, self.app, threaded=True, request_handler=_QuietHandler if quiet else _LoggingHandler,
                fd=self._socket.fileno(),
            )  # fmt: skip
        except BaseException:
            self._socket.close()
            raise
        if latency < 0:
            raise ValueError("latency must be zero or more seconds")
        self._server.latency = latency  # type: ignore[attr-defined]
        self._server.stopping = False  # type: ignore[attr-defined]
        self._server.connections = set()  # type: ignore[attr-defined]
        self._server.timeout = 0.2  # handle_request() returns this often to look at _stopping
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    @property
    def port(self) -> int:
        """The bound port."""
        return int(self._socket.getsockname()[1])

    @property
    def url(self) -> str:
        """The service endpoint URL."""
        return f"http://{self._server.host}:{self.port}{SERVICE_PATH}"

    @property
    def base_url(self) -> str:
        """The server root (the admin API lives under ``/_sim/``)."""
        return f"http://{self._server.host}:{self.port}"

    def start(self) -> SimulatorServer:
        """Serve in a daemon thread."""
        self.simulator.faults.stopping.clear()
        self._stopping.clear()
        self._server.stopping = False  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._serve, name="dian-simulator", daemon=True)
        self._thread.start()
        return self

    def _serve(self) -> None:
        # Our own loop rather than serve_forever()/shutdown(): shutdown() waits without a timeout, and a test run was
        # seen to hang there for good while the serving thread sat in select().
        while not self._stopping.is_set():
            self._server.handle_request()

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted."""
        self._server.serve_forever()

    def stop(self) -> None:
        """Stop serving, let held requests go, and close the socket."""
        self.simulator.faults.stopping.set()
        self._stopping.set()
        self._server.stopping = True  # type: ignore[attr-defined]
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        for connection in list(self._server.connections):  # type: ignore[attr-defined]
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)  # kept-alive connections end; clients reconnect
        self._server.server_close()
        self._socket.close()

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
