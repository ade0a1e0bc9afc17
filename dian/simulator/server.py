"""Run the simulator's WSGI application on a loopback port in a background thread (tests, demo, ``buzon dian-sim``)."""

from __future__ import annotations

import socket
import threading

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from dian.simulator.core import Simulator
from dian.simulator.wsgi import SERVICE_PATH, SimulatorApp

__all__ = ["SimulatorServer"]


class _QuietHandler(WSGIRequestHandler):
    """No access log line per request (it costs more than the request at benchmark rates)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


class SimulatorServer:
    """A threaded werkzeug server for one :class:`Simulator`; use as a context manager or start()/stop()."""

    def __init__(self, simulator: Simulator, *, host: str = "127.0.0.1", port: int = 0, quiet: bool = True) -> None:
        """Bind now: a port that is taken raises OSError (EADDRINUSE) here, for the caller to choose another.

        The socket is bound before werkzeug sees it (``fd=``): werkzeug's own bind prints a message and calls
        sys.exit() when the port is taken, which no caller could recover from.
        """
        self.simulator = simulator
        self.app = SimulatorApp(simulator)
        self._socket = socket.create_server((host, port))
        try:
            self._server: BaseWSGIServer = make_server(
                host, port, self.app, threaded=True, request_handler=_QuietHandler if quiet else None,
                fd=self._socket.fileno(),
            )  # fmt: skip
        except BaseException:
            self._socket.close()
            raise
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
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._server.server_close()
        self._socket.close()

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
