"""The demo's "Correo enviado": the mail Buzón sent (supplier notices, reminders), as the local SMTP sink of
`buzon serve` kept it in a Maildir. Only registered when the shell hands in that folder (create_app(sent_mail=…)),
which it does in demo mode only: a real installation's mail goes to its real SMTP server and is not kept here."""

from __future__ import annotations

import mailbox
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, render_template

from dian.calendar import BOGOTA
from store.models import Role
from web import tenant
from web.access import roles

bp = Blueprint("sent_mail", __name__)
SHOWN = 200  # the newest messages shown; the demo sends a handful


@dataclass(frozen=True)
class SentMessage:
    """One message as the page shows it."""

    key: str
    sent_at: datetime | None
    sender: str
    recipients: str
    subject: str
    body: str
    attachments: tuple[str, ...]

    @property
    def when(self) -> str:
        return self.sent_at.astimezone(BOGOTA).strftime("%d/%m/%Y %H:%M") if self.sent_at else "—"


def _read(key: str, data: bytes) -> SentMessage:
    message: Any = BytesParser(policy=policy.default).parsebytes(data)
    assert isinstance(message, EmailMessage)
    try:
        sent_at = parsedate_to_datetime(message["Date"]) if message["Date"] else None
    except (TypeError, ValueError):
        sent_at = None
    body_part = message.get_body(preferencelist=("plain", "html"))
    try:
        body = body_part.get_content() if body_part is not None else ""
    except (LookupError, ValueError):  # an unknown charset: show what can be shown
        body = body_part.get_payload(decode=True).decode("utf-8", "replace") if body_part is not None else ""
    names = tuple(part.get_filename() or "(sin nombre)" for part in message.iter_attachments())
    return SentMessage(
        key=key,
        sent_at=sent_at,
        sender=str(message["From"] or ""),
        recipients=str(message["To"] or message["X-RcptTo"] or ""),
        subject=str(message["Subject"] or "(sin asunto)"),
        body=body.strip(),
        attachments=names,
    )


def sent_messages(folder: Path) -> list[SentMessage]:
    """The messages of the Maildir, newest first (an absent folder: none yet)."""
    if not folder.is_dir():
        return []
    box = mailbox.Maildir(folder, create=False)
    found = [_read(key, box.get_bytes(key)) for key in box.iterkeys()]
    oldest = datetime.min.replace(tzinfo=BOGOTA)
    return sorted(found, key=lambda m: (m.sent_at or oldest, m.key), reverse=True)[:SHOWN]


@bp.get("/correo-enviado")
@roles(*Role)
def index() -> Any:
    """Every message the demo's SMTP sink received, newest first, each readable in place."""
    folder: Path | None = tenant.service("sent_mail")  # the request's company's own sink
    messages = sent_messages(folder) if folder is not None else []
    return render_template("sent_mail.html", messages=messages, shown=SHOWN)
