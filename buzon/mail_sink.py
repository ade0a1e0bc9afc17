"""The demo's outgoing mail server: a local SMTP sink (aiosmtpd) that keeps every message it receives in a Maildir,
so that the supplier notices and reminders Buzón sends in the demo can be read in the web ("Correo enviado")."""

from __future__ import annotations

import socket
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox

FOLDER = "sent-mail"  # under the data directory
ATTEMPTS = 5  # a free port chosen by the kernel may be taken by someone else before the sink binds it


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class MailSink:
    """An SMTP server on a free loopback port, writing what it receives into ``folder`` (a Maildir)."""

    def __init__(self, folder: Path, *, host: str = "127.0.0.1") -> None:
        self.folder = folder
        self.host = host
        self._controller: Controller | None = None

    @property
    def port(self) -> int:
        if self._controller is None:
            raise RuntimeError("the mail sink is not running")
        return int(self._controller.port)

    def start(self) -> MailSink:
        """Listen (plain SMTP, loopback only, no authentication: Buzón's smtp.tls = "none" is allowed there)."""
        self.folder.parent.mkdir(parents=True, exist_ok=True)  # Maildir makes the folder and its tmp, new, cur
        for attempt in range(ATTEMPTS):
            controller = Controller(Mailbox(self.folder), hostname=self.host, port=_free_port(self.host))
            try:
                controller.start()
            except (OSError, RuntimeError):
                if attempt == ATTEMPTS - 1:
                    raise
                continue
            self._controller = controller
            break
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
