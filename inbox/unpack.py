"""Find the electronic documents in what a supplier sent: a mail, a zip, a nested zip, a loose XML or PDF.

Liberal in what it reads (dian-facts.md 4.1: PDF outside the zip, several zips, a nested zip, a forwarded .eml), strict
in what it allows: every limit (total size, compression ratio, member count, name length, nesting depth) is checked
against the bytes actually read, never against what a zip header claims.
"""

from __future__ import annotations

import binascii
import bz2
import email
import functools
import io
import lzma
import re
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from typing import Literal

from mailparser.dates import parse_mail_date
from mailparser.utils import decode_headers, get_addresses

from inbox import skeleton

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
    """The container is refused; ``reason`` is a quarantine reason code (too_large, unreadable), the message says why
    in Spanish (the clerk reads it on the quarantine screen) and names the container."""

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
                "too_large", f"{name}: descomprimido ocupa más de {self.limits.max_total_bytes // (1024 * 1024)} MB"
            )
        if self.members > self.limits.max_members:
            raise UnpackError("too_large", f"{name}: contiene más de {self.limits.max_members} archivos")


_CONTROL = re.compile("[\x00-\x1f]")


def _safe_member_name(container: str, name: str, limits: Limits) -> str:
    if len(name) > limits.max_name_length:
        longest = limits.max_name_length
        raise UnpackError("unreadable", f"{container}: el nombre de un archivo interno pasa de {longest} caracteres")
    if not name:
        raise UnpackError("unreadable", f"{container}: un archivo interno no tiene nombre")
    normalized = name.replace("\\", "/")
    if normalized.startswith("/") or (len(normalized) > 1 and normalized[1] == ":"):
        raise UnpackError("unreadable", f"{container}: el archivo interno {name!r} tiene una ruta absoluta")
    if ".." in normalized.split("/"):
        raise UnpackError("unreadable", f"{container}: el archivo interno {name!r} sale del comprimido con '..'")
    if _CONTROL.search(name):
        raise UnpackError("unreadable", f"{container}: el archivo interno {name!r} tiene caracteres de control")
    return normalized


# What zipfile raises on bytes that are no zip it can read: a header field out of range (a negative seek, a
# version it does not know, a truncated structure), a corrupt compressed stream. Each means the zip is unreadable.
_ZIP_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    NotImplementedError,
    ValueError,
    OSError,
    EOFError,
    IndexError,
    KeyError,
    OverflowError,
    RuntimeError,
    struct.error,
    zlib.error,
    lzma.LZMAError,
)


def _why(exc: BaseException) -> str:
    """What went wrong reading a zip, in Spanish, with the library's own words (for whoever debugs the sender's zip)."""
    kind = type(exc)
    if isinstance(exc, zlib.error | lzma.LZMAError | EOFError):
        gloss = "datos comprimidos dañados o cortados"
    elif isinstance(exc, NotImplementedError | zipfile.LargeZipFile):
        gloss = "usa una versión o un método de compresión que no se admite"
    elif isinstance(exc, RuntimeError):
        gloss = "está protegido o usa un cifrado que no se admite"
    else:
        gloss = "estructura dañada"
    name = kind.__qualname__ if kind.__module__ in {"builtins", "zipfile"} else f"{kind.__module__}.{kind.__qualname__}"
    text = " ".join(str(exc).split())[:160]
    return f"{gloss}: {name}: {text}" if text else f"{gloss}: {name}"


def _unzip(data: bytes, name: str, budget: _Budget, depth: int, out: list[Part]) -> None:
    limits = budget.limits
    if depth > limits.max_depth:
        raise UnpackError("too_large", f"{name}: comprimidos anidados a más de {limits.max_depth} niveles")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except _ZIP_ERRORS as exc:
        raise UnpackError("unreadable", f"{name}: no es un zip legible ({_why(exc)})") from exc
    if len(infos) > limits.max_members:
        raise UnpackError("too_large", f"{name}: contiene {len(infos)} archivos, más de {limits.max_members}")
    with archive:
        for info in infos:
            member = _safe_member_name(name, info.filename, limits)
            if member.endswith("/"):  # a folder (zipfile's is_dir, which fails on an empty name)
                continue
            if info.flag_bits & 0x1:
                raise UnpackError("unreadable", f"{name}: el archivo interno {member} está cifrado")
            content = _read_member(archive, info, data, name, member, budget)
            budget.take(f"{name}!{member}", len(content))
            _add(content, f"{name}!{member}", budget, depth + 1, out)


_CHUNK = 64 * 1024  # bytes inflated per step
_FEED = 16 * 1024  # compressed bytes handed to zlib per step (what it keeps unconsumed is copied on every step)
# Compressed bytes handed to bzip2 and LZMA when they ask for more: they keep what they are fed, so "consumed" is what
# was fed, and a small feed keeps the ratio judged close to what they really used.
_FEED_BUFFERED = 2 * 1024
_RATIO_FLOOR = 1024 * 1024  # small members may compress very well (XML does); judge the ratio past 1 MB
# A local file header (APPNOTE 4.3.7): its signature, flags, and the lengths of the name and the extra field.
_LOCAL_HEADER = struct.Struct("<4s2xH18xHH")
_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA})


class _Sink:
    """Where one member is inflated: each step's bytes are judged against the size cap and against the compressed
    bytes consumed so far, then written into one growing buffer (no list of chunks joined at the end).

    An LZMA member is written to a temporary file instead (``spool``) and read back once its decompressor is gone:
    liblzma keeps a dictionary of up to the whole member (8 MiB at zipfile's default preset) beside what it wrote,
    so in memory the member would peak at up to twice its size; spooled, at its size."""

    def __init__(self, cap: int, ratio: float, refuse: Callable[[str], UnpackError], *, spool: bool = False) -> None:
        self.cap = cap
        self.ratio = ratio
        self.refuse = refuse
        self.size = 0
        # Closed by _read_member (finally), which owns the sink for the member's whole read.
        self.buffer: io.BytesIO | io.FileIO = tempfile.TemporaryFile(buffering=0) if spool else io.BytesIO()  # noqa: SIM115

    def write(self, chunk: bytes, consumed: int) -> None:
        self.size += len(chunk)
        if self.size > self.cap:
            raise self.refuse(f"descomprimido pasa de {self.cap} bytes")
        if self.size > _RATIO_FLOOR and self.size / max(consumed, 1) > self.ratio:
            raise self.refuse(f"se expande más de {self.ratio:.0f} veces (¿una bomba zip?)")
        self.buffer.write(chunk)

    def value(self) -> bytes:
        """The member's bytes; called after the decompressor is released."""
        if isinstance(self.buffer, io.BytesIO):
            return self.buffer.getvalue()  # BytesIO hands its own buffer over, trimmed: no copy
        self.buffer.seek(0)
        return self.buffer.readall()  # one allocation of the file's size

    def close(self) -> None:
        self.buffer.close()


def _read_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, data: bytes, name: str, member: str, budget: _Budget
) -> bytes:
    """Read one member in steps, refusing it at the first step that exceeds the size cap or inflates more than the
    ratio limit over the compressed bytes consumed so far (a bomb stops after about a megabyte), whatever its method:
    stored, deflate, bzip2 or LZMA (any other is refused as unreadable by zipfile)."""
    limits = budget.limits

    def refuse(why: str) -> UnpackError:
        return UnpackError("too_large", f"{name}: el archivo interno {member} {why}")

    cap = min(limits.max_member_bytes, limits.max_total_bytes - budget.total)
    sink = _Sink(cap, limits.max_ratio, refuse, spool=info.compress_type == zipfile.ZIP_LZMA)
    try:
        _inflate(data, info, sink)  # its decompressor is freed on return, before the member is read back
        return sink.value()
    except _ZIP_ERRORS as exc:
        raise UnpackError("unreadable", f"{name}: el archivo interno {member} no se puede leer ({_why(exc)})") from exc
    finally:
        sink.close()


class _Stored:
    """A stored member's bytes, a chunk at a time."""

    def __init__(self, raw: memoryview) -> None:
        self.raw = raw
        self.position = 0

    def step(self) -> tuple[bytes, int, bool]:
        chunk = bytes(self.raw[self.position : self.position + _CHUNK])
        self.position += len(chunk)
        return chunk, self.position, self.position >= len(self.raw)


class _Deflated:
    """A deflated member through zlib, fed ``_FEED`` bytes at a time, each step's output capped at ``_CHUNK``."""

    def __init__(self, raw: memoryview) -> None:
        self.raw = raw
        self.position = 0
        self.inflater = zlib.decompressobj(-15)

    def step(self) -> tuple[bytes, int, bool]:
        inflater = self.inflater
        feed = inflater.unconsumed_tail or self.raw[self.position : self.position + _FEED]
        if feed is not inflater.unconsumed_tail:
            self.position += len(feed)
        chunk = inflater.decompress(feed, _CHUNK)
        consumed = self.position - len(inflater.unconsumed_tail)
        ended = inflater.eof or (self.position >= len(self.raw) and not inflater.unconsumed_tail)
        if ended and not inflater.eof:
            chunk += inflater.flush()
        return chunk, consumed, ended

    @property
    def stream_ended(self) -> bool:
        return self.inflater.eof


class _Buffered:
    """A bzip2 or LZMA member through a decompressor that keeps what it was fed (``needs_input``): fed
    bytes when it asks for more, each step's output capped at ``_CHUNK``; "consumed" counts what was fed, at most one
    feed (``_FEED_BUFFERED``) more than what it has used."""

    def __init__(self, raw: memoryview, decompressor: bz2.BZ2Decompressor | lzma.LZMADecompressor, start: int = 0):
        self.raw = raw
        self.position = start
        self.decompressor = decompressor

    def step(self) -> tuple[bytes, int, bool]:
        decompressor = self.decompressor
        feed = b""
        if decompressor.needs_input:
            feed = bytes(self.raw[self.position : self.position + _FEED_BUFFERED])
            self.position += len(feed)
        chunk = decompressor.decompress(feed, _CHUNK)
        stalled = not chunk and not feed  # nothing left to feed and nothing out: the data ended
        ended = decompressor.eof or stalled
        return chunk, self.position, ended

    @property
    def stream_ended(self) -> bool:
        return self.decompressor.eof


def _lzma(raw: memoryview, most: int) -> _Buffered:
    """A zip LZMA member (APPNOTE 5.8.8): a 2-byte version, the 2-byte length of the properties, the LZMA1
    properties (lc/lp/pb in one byte, then the dictionary size), then the raw stream. The dictionary is held to
    ``most`` bytes (what the member may inflate to: nothing further back can be referenced), so a header claiming
    gigabytes cannot make liblzma reserve them."""
    if len(raw) < 4:
        raise EOFError("the LZMA header is cut short")
    (length,) = struct.unpack_from("<H", raw, 2)
    properties = bytes(raw[4 : 4 + length])
    if length != 5 or len(properties) != 5:
        raise lzma.LZMAError(f"LZMA properties of {length} bytes (LZMA1 has 5)")
    packed, dictionary = properties[0], int.from_bytes(properties[1:5], "little")
    if packed >= 9 * 5 * 5:
        raise lzma.LZMAError("invalid LZMA properties")
    lc, rest = packed % 9, packed // 9
    lp, pb = rest % 5, rest // 5
    dictionary = max(4096, min(dictionary, most))
    spec = {"id": lzma.FILTER_LZMA1, "lc": lc, "lp": lp, "pb": pb, "dict_size": dictionary}
    return _Buffered(raw, lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[spec]), start=4 + length)


def _payload_start(data: bytes, info: zipfile.ZipInfo) -> int:
    """Where a member's compressed bytes begin, once its local header is checked as zipfile.open checks it (with the
    same errors): the signature, the name matching the directory's, no patched data or strong encryption, a method
    this reads. Read from the bytes at hand instead of through zipfile's file object and ZipExtFile."""
    offset = info.header_offset
    if offset < 0:  # a directory placed past the start of the data: what seeking there says
        raise ValueError(f"negative seek value {offset}")
    if offset + _LOCAL_HEADER.size > len(data):
        raise zipfile.BadZipFile("Truncated file header")
    signature, flags, names, extra = _LOCAL_HEADER.unpack_from(data, offset)
    if signature != b"PK\x03\x04":
        raise zipfile.BadZipFile("Bad magic number for file header")
    if info.flag_bits & 0x20:
        raise NotImplementedError("compressed patched data (flag bit 5)")
    if info.flag_bits & 0x40:
        raise NotImplementedError("strong encryption (flag bit 6)")
    start = offset + _LOCAL_HEADER.size
    name = data[start : start + names]
    if (name.decode("utf-8") if flags & 0x800 else name.decode("cp437")) != info.orig_filename:
        raise zipfile.BadZipFile(f"File name in directory {info.orig_filename!r} and header {name!r} differ.")
    if info.compress_type not in _METHODS:
        raise NotImplementedError("That compression method is not supported")
    return start + names + extra


def _inflate(data: bytes, info: zipfile.ZipInfo, sink: _Sink) -> None:
    """A member's bytes into ``sink``, read as zipfile reads them (output cut at the size the header declares, then
    the CRC checked; compressed data cut short is an EOFError) but knowing at each step how many compressed bytes were
    consumed."""
    raw = memoryview(data)[_payload_start(data, info) :][: info.compress_size]
    method = info.compress_type
    if method == zipfile.ZIP_STORED:
        stream: _Stored | _Deflated | _Buffered = _Stored(raw)
    elif method == zipfile.ZIP_DEFLATED:
        stream = _Deflated(raw)
    elif method == zipfile.ZIP_BZIP2:
        stream = _Buffered(raw, bz2.BZ2Decompressor())
    elif method == zipfile.ZIP_LZMA:
        # Nothing it may inflate to (the declared size, the cap, what the ratio allows its compressed bytes) lies
        # further back than this: the dictionary needs no more.
        allowed = int(max(_RATIO_FLOOR, sink.ratio * info.compress_size)) + _CHUNK
        stream = _lzma(raw, min(info.file_size, sink.cap, allowed))
    else:  # _payload_start refused any other method
        raise NotImplementedError("That compression method is not supported")
    left = info.file_size
    crc = 0
    while left > 0:
        chunk, consumed, ended = stream.step()
        chunk = chunk[:left]
        left -= len(chunk)
        crc = zlib.crc32(chunk, crc)
        sink.write(chunk, consumed)
        if ended:
            break
    stream_ended = getattr(stream, "stream_ended", False)
    if left > 0 and len(raw) < info.compress_size and not stream_ended:
        raise EOFError("compressed data ended before the size the zip header declares")
    if crc != info.CRC:
        raise zipfile.BadZipFile(f"Bad CRC-32 for file {info.filename!r}")


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
        raise UnpackError("too_large", f"{name}: correos anidados a más de {budget.limits.max_depth} niveles")
    if message is None:
        message = parse_mail(data)
    for index, part in enumerate(_leaf_parts(message)):
        filename = _filename(part)
        content_type = part.get_content_type()
        if part.is_multipart() or (not filename and content_type.startswith("text/") and not _is_xml_type(part)):
            continue  # the mail's body, not an attachment
        payload = _payload_bytes(part)
        if not isinstance(payload, bytes) or not payload:
            continue
        member = filename or f"part{index}"
        budget.take(f"{name}!{member}", len(payload))
        _add(payload, f"{name}!{member}", budget, depth + 1, out)


def _payload_bytes(part: Message) -> object:
    """``part.get_payload(decode=True)``, with a shorter way for what is most of a mail: a base64 body that is
    valid base64 once its line ends are dropped is decoded in one step (what the parser's own decoding then does,
    after splitting it into thousands of lines and joining them again: several copies of a large attachment)."""
    payload = part._payload
    if isinstance(payload, str) and str(part.get("content-transfer-encoding", "")).lower() == "base64":
        compact = payload.replace("\r\n", "").replace("\n", "")  # a lone CR stays, and fails the strict decode
        if compact.isascii() and len(compact) % 4 == 0:
            try:
                return binascii.a2b_base64(compact, strict_mode=True)
            except binascii.Error:
                pass  # padding or characters base64 does not have: the parser's decoding says which
    return part.get_payload(decode=True)


def _filename(part: Message) -> str:
    """The part's file name, or "" when it has none or it cannot be read: Python's RFC 2231 decoding raises on
    parameters such as ``name*0=a; name*=b`` (TypeError sorting the continuations), and the part still counts."""
    try:
        name = part.get_filename()
    except (TypeError, ValueError, LookupError):
        return ""
    return name if isinstance(name, str) else ""


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
    # The same bytes twice (a PDF inside the zip and beside it): the first kept. A set of the bytes themselves: their
    # hash is computed once per part, linear in its size like a digest but cheaper, and equal hashes are compared.
    seen: set[bytes] = set()
    unique: list[Part] = []
    for part in out:
        if part.data not in seen:
            seen.add(part.data)
            unique.append(part)
    return unique


def is_mail(data: bytes, name: str = "") -> bool:
    """Whether data is an e-mail message (an .eml name, or MIME headers at the top) rather than a zip or XML."""
    return name.lower().endswith(".eml") or _looks_like_mail(data)


def parse_mail(data: bytes) -> Message:
    """The mail as Python's e-mail parser reads it (what mail-parser reads too); parse it once, hand it around.

    The parser reads the mail's skeleton (inbox.skeleton: long body runs set aside, boundaries renamed to names the
    ``re`` module's cache keeps), and the message is then made whole: the same message as parsing the mail itself.
    """
    try:
        shape = skeleton.make(data)
        message = email.message_from_bytes(shape.data)
        if not shape.restore(message):  # a boundary the parser read otherwise than the renaming did
            shape = shape.without_renaming()
            message = email.message_from_bytes(shape.data)
            shape.restore(message)
        return message
    except RecursionError as exc:  # multiparts nested thousands deep: refuse the mail, do not crash intake
        raise UnpackError("unreadable", "las partes del correo están anidadas a demasiada profundidad") from exc


_INFO_HEADERS = frozenset({"message-id", "from", "subject", "date"})


def _lenient(value: str) -> str:
    """A header value as text: 8-bit bytes sent raw (what Python's parser keeps as surrogates) read as UTF-8 when
    they are, else as Windows-1252, the two encodings Colombian mail software sends unannounced."""
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        raw = value.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", "replace")


def mail_info(data: bytes | Message) -> MailInfo:
    """The Message-ID, sender, subject and date of a mail (its bytes or ``parse_mail`` of them), read as mail-parser
    reads them; a header mail-parser cannot read is left empty, never the others with it.

    The values come from the parsed message (the first of each header, as text: 8-bit bytes decoded) and go through
    mail-parser's own readers of those four headers only (its addresses, its encoded-word decoding, its date), not
    through a MailParser, which also indexes and diagnoses every other header (each address header, every Received
    line of the relays) and cost a mail more than the four fields do.
    """
    message = data if isinstance(data, Message) else parse_mail(data)
    first: dict[str, str] = {}
    for name, value in message.raw_items():
        key = name.lower()
        if key in _INFO_HEADERS and key not in first:
            first[key] = _lenient(value) if isinstance(value, str) else str(value)
    sender = _read(lambda: _sender(first.get("from")))
    message_id = _read(lambda: _decoded(first.get("message-id"))).strip() or None
    subject = _read(lambda: _decoded(first.get("subject")))
    date = _read(lambda: _date(first.get("date"))) or None
    return MailInfo(message_id=message_id, sender=sender, subject=subject, date=date)


@functools.lru_cache(maxsize=1024)
def _sender(value: str | None) -> str:
    """The addresses of the From header, as mail-parser reads them (about 80 µs a mail; a supplier, or the provider
    that mails for many, writes the same From every time, so the readings are kept)."""
    if value is None:
        return ""
    return ", ".join(address for _, address in get_addresses(value, defects=[], decode_names=True) if address)


def _decoded(value: str | None) -> str:
    """A header's text with its encoded words decoded, as mail-parser reads it."""
    return decode_headers([value]) if value is not None else ""


def _date(value: str | None) -> str:
    """The Date header as mail-parser reads it (in UTC), ISO 8601; empty when absent or unreadable."""
    if value is None:
        return ""
    moment = parse_mail_date(value).value
    return moment.isoformat() if moment else ""


def _read(header: Callable[[], str]) -> str:
    """One header as mail-parser reads it, or empty when its reading fails (a malformed date loses only the date)."""
    try:
        value = header()
    except Exception:
        return ""
    return value if isinstance(value, str) else ""
