"""Find the electronic documents in what a supplier sent: a mail, a zip, a nested zip, a loose XML or PDF.

Liberal in what it reads (dian-facts.md 4.1: PDF outside the zip, several zips, a nested zip, a forwarded .eml), strict
in what it allows: every limit (total size, compression ratio, member count, name length, nesting depth) is checked
against the bytes actually read, never against what a zip header claims.
"""

from __future__ import annotations

import email
import hashlib
import io
import zipfile
from dataclasses import dataclass, field
from email.message import Message
from typing import Literal

import mailparser

PartKind = Literal["xml", "pdf", "other"]


@dataclass(frozen=True)
class Limits:
    """What one message may unpack to."""

    max_total_bytes: int = 64 * 1024 * 1024
    max_member_bytes: int = 32 * 1024 * 1024
    max_ratio: float = 200.0
    max_members: int = 200
    max_name_length: int = 255
    max_depth: int = 4


class UnpackError(Exception):
    """The container is refused; ``reason`` is a quarantine reason code (too_large, unreadable)."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


@dataclass(frozen=True)
class Part:
    """One file found inside what was sent; ``name`` is its path through the containers (a.eml!f.zip!ad.xml)."""

    name: str
    kind: PartKind
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class MailInfo:
    """The headers Buzón keeps of a mail."""

    message_id: str | None
    sender: str
    subject: str
    date: str | None


def _kind(data: bytes) -> PartKind | Literal["zip"]:
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return "zip"
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith(b"<"):
        return "xml"
    return "other"


class _Budget:
    """Bytes and members left for one message, across every nesting level."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.total = 0
        self.members = 0

    def take(self, name: str, size: int) -> None:
        self.total += size
        self.members += 1
        if self.total > self.limits.max_total_bytes:
            raise UnpackError(
                "too_large", f"{name}: unpacks to more than {self.limits.max_total_bytes // (1024 * 1024)} MB"
            )
        if self.members > self.limits.max_members:
            raise UnpackError("too_large", f"{name}: more than {self.limits.max_members} files inside")


def _safe_member_name(container: str, name: str, limits: Limits) -> str:
    if len(name) > limits.max_name_length:
        longest = limits.max_name_length
        raise UnpackError("unreadable", f"{container}: a member name is longer than {longest} characters")
    normalized = name.replace("\\", "/")
    if normalized.startswith("/") or (len(normalized) > 1 and normalized[1] == ":"):
        raise UnpackError("unreadable", f"{container}: member {name!r} has an absolute path")
    if ".." in normalized.split("/"):
        raise UnpackError("unreadable", f"{container}: member {name!r} climbs out of the archive with '..'")
    if any(ord(c) < 32 for c in name):
        raise UnpackError("unreadable", f"{container}: member name {name!r} holds control characters")
    return normalized


def _unzip(data: bytes, name: str, budget: _Budget, depth: int, out: list[Part]) -> None:
    limits = budget.limits
    if depth > limits.max_depth:
        raise UnpackError("too_large", f"{name}: archives nested more than {limits.max_depth} deep")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise UnpackError("unreadable", f"{name}: not a readable zip ({exc})") from exc
    if len(infos) > limits.max_members:
        raise UnpackError("too_large", f"{name}: {len(infos)} files inside, more than {limits.max_members}")
    with archive:
        for info in infos:
            member = _safe_member_name(name, info.filename, limits)
            if info.is_dir():
                continue
            if info.flag_bits & 0x1:
                raise UnpackError("unreadable", f"{name}: member {member} is encrypted")
            content = _read_member(archive, info, name, member, budget)
            budget.take(f"{name}!{member}", len(content))
            _add(content, f"{name}!{member}", budget, depth + 1, out)


_CHUNK = 64 * 1024
_RATIO_FLOOR = 1024 * 1024  # small members may compress very well (XML does); judge the ratio past 1 MB


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, member: str, budget: _Budget) -> bytes:
    """Read one member in chunks, refusing it as soon as it exceeds a size or ratio limit (bombs stop early)."""
    limits = budget.limits
    cap = min(limits.max_member_bytes, limits.max_total_bytes - budget.total)
    compressed = max(info.compress_size, 1)
    chunks: list[bytes] = []
    size = 0
    try:
        with archive.open(info) as fh:
            while chunk := fh.read(_CHUNK):
                size += len(chunk)
                if size > cap:
                    raise UnpackError("too_large", f"{name}: member {member} unpacks to more than {cap} bytes")
                if size > _RATIO_FLOOR and size / compressed > limits.max_ratio:
                    raise UnpackError(
                        "too_large",
                        f"{name}: member {member} expands more than {limits.max_ratio:.0f}x (a zip bomb?)",
                    )
                chunks.append(chunk)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError) as exc:
        raise UnpackError("unreadable", f"{name}: member {member} cannot be read ({exc})") from exc
    return b"".join(chunks)


def _add(data: bytes, name: str, budget: _Budget, depth: int, out: list[Part], message: Message | None = None) -> None:
    kind = _kind(data)
    if kind == "zip":
        _unzip(data, name, budget, depth, out)
    elif name.lower().endswith(".eml") or _looks_like_mail(data):
        _mail_parts(data, name, budget, depth, out, message)
    else:
        out.append(Part(name, kind, data))


def _looks_like_mail(data: bytes) -> bool:
    head = data[:2048].lower()
    return _kind(data) == "other" and b"\nmime-version:" in head and (b"\nfrom:" in head or head.startswith(b"from:"))


def _mail_parts(
    data: bytes, name: str, budget: _Budget, depth: int, out: list[Part], message: Message | None = None
) -> None:
    if depth > budget.limits.max_depth:
        raise UnpackError("too_large", f"{name}: mails nested more than {budget.limits.max_depth} deep")
    if message is None:
        message = parse_mail(data)
    for index, part in enumerate(_leaf_parts(message)):
        filename = part.get_filename() or ""
        content_type = part.get_content_type()
        if part.is_multipart() or (not filename and content_type.startswith("text/") and not _is_xml_type(part)):
            continue  # the mail's body, not an attachment
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes) or not payload:
            continue
        member = filename or f"part{index}"
        budget.take(f"{name}!{member}", len(payload))
        _add(payload, f"{name}!{member}", budget, depth + 1, out)


def _is_xml_type(part: Message) -> bool:
    return part.get_content_type() in {"text/xml", "application/xml"}


def _leaf_parts(message: Message) -> list[Message]:
    """Every non-container part, descending into forwarded messages (message/rfc822) as well."""
    leaves: list[Message] = []
    for part in message.walk():
        if part.is_multipart() or part.get_content_type() == "message/rfc822":
            continue
        leaves.append(part)
    return leaves


def unpack(data: bytes, name: str, limits: Limits | None = None, *, message: Message | None = None) -> list[Part]:
    """Every XML, PDF and other file inside data (a mail, a zip or a loose file), duplicates removed.

    ``message`` is ``parse_mail(data)`` when the caller already has it (the mail is then not parsed again).
    """
    budget = _Budget(limits or Limits())
    out: list[Part] = []
    _add(data, name, budget, 0, out, message)
    seen: set[str] = set()
    unique: list[Part] = []
    for part in out:
        digest = hashlib.sha256(part.data).hexdigest()
        if digest not in seen:
            seen.add(digest)
            unique.append(part)
    return unique


def is_mail(data: bytes, name: str = "") -> bool:
    """Whether data is an e-mail message (an .eml name, or MIME headers at the top) rather than a zip or XML."""
    return name.lower().endswith(".eml") or _looks_like_mail(data)


def parse_mail(data: bytes) -> Message:
    """The mail as Python's e-mail parser reads it (what mail-parser reads too); parse it once, hand it around."""
    try:
        return email.message_from_bytes(data)
    except RecursionError as exc:  # multiparts nested thousands deep: refuse the mail, do not crash intake
        raise UnpackError("unreadable", "the mail's parts are nested too deep to read") from exc


class _Headers(mailparser.MailParser):
    """mail-parser's reading of the headers only: its parse() also walks and decodes every part, which Buzón's own
    unpacking does again, so here it stops after reading the headers (what ``_reset`` indexes and decodes)."""

    def parse(self) -> _Headers:
        self._reset()
        return self


_INFO_HEADERS = ("Message-ID", "From", "Subject", "Date")


def mail_info(data: bytes | Message) -> MailInfo:
    """The Message-ID, sender, subject and date of a mail (its bytes or ``parse_mail`` of them), as mail-parser
    reads them."""
    message = data if isinstance(data, Message) else parse_mail(data)
    # mail-parser reads every header it knows on the way (each address header, every Received line of the relays):
    # it is handed the four read here, as they are.
    headers = Message()
    for name in _INFO_HEADERS:
        for value in message.get_all(name, ()):
            headers[name] = value
    parsed = _Headers(headers)
    sender = ", ".join(addr for _, addr in parsed.from_ if addr) if parsed.from_ else ""
    message_id = (parsed.message_id or "").strip() or None
    date = parsed.date.isoformat() if parsed.date else None
    return MailInfo(message_id=message_id, sender=sender, subject=parsed.subject or "", date=date)
