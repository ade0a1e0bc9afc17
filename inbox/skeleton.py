"""The skeleton of a mail: the bytes Python's e-mail parser reads in the mail's place, and the parsed message made
whole again afterwards. The parser's reading is unchanged; two of its costs are not paid:

- It reads a mail a line at a time (a 1.35 MB attachment is 18,000 base64 lines, about 50 ms and several copies of
  it), so long runs of body lines that cannot matter to its reading are set aside, each behind a placeholder line,
  and put back, as text, where the parser left the placeholder.
- It compiles a regular expression for every MIME boundary it meets (``email.feedparser``), about 0.2 ms, and a real
  mail's boundary is new every time, so the ``re`` module's cache never serves it. Each boundary is renamed to one of
  a few fixed names (which the cache keeps) where the parser reads it, and given back in the parsed message.

``parse_mail`` (inbox.unpack) is the one user: ``make(data)``, parse ``.data``, then ``.restore(message)``; when
``restore`` answers False the renaming did not hold, and ``without_renaming()`` is parsed and restored instead.
"""

from __future__ import annotations

import itertools
import re
import secrets
from collections import Counter
from dataclasses import dataclass, field
from email.message import Message

_SET_ASIDE_FROM = 2048  # mails smaller than this keep their body lines
_RUN_MIN = 512  # shorter body runs are left in place
_HEADER_END = re.compile(rb"\r?\n\r?\n")
# A boundary parameter whose value is made only of RFC 2046's boundary characters, less the space and the colon (a
# line "--a:" is a header named "--a" where the parser reads headers; "--_BuzonMIME00" would not be); the value ends
# at the first other character, and a value the parser reads otherwise is caught by restore()'s check.
_BOUNDARY = re.compile(rb"""boundary=("?)([0-9A-Za-z'()+_,./=?-]{1,70})\1""", re.IGNORECASE)
_NAME = "_BuzonMIME"  # the fixed names: _BuzonMIME00, _BuzonMIME01, ... (one width, so none begins another)
_MAX_RENAMED = 100


@dataclass
class Skeleton:
    """``data``: what the parser reads; ``plain``: the same without renamed boundaries; ``runs``: each placeholder
    line and the body run it stands for; ``renamed``: each fixed boundary name and the mail's own boundary."""

    data: bytes
    plain: bytes
    runs: dict[str, str] = field(default_factory=dict)
    renamed: dict[str, str] = field(default_factory=dict)

    def restore(self, message: Message) -> bool:
        """Give the parsed message its own boundaries and set-aside runs back; False (the message left untouched)
        when a boundary, as the parser read it, holds a fixed name and more: then the renaming did not hold (a
        parameter the pattern reads otherwise, ``boundary=a b``) and ``without_renaming()`` must be parsed instead.
        A boundary without a fixed name in it was not touched."""
        parts = list(message.walk())
        if self.renamed and any(self._misread(part) for part in parts):
            return False
        for part in parts:
            # The payload as the parser stored it: get_payload() would hand 8-bit text back with its bytes replaced.
            if isinstance(part._payload, str):
                part._payload = self._back(part._payload)
            for side in ("preamble", "epilogue"):
                text = getattr(part, side)
                if isinstance(text, str):
                    setattr(part, side, self._back(text))
            if self.renamed and any(_NAME in k or (isinstance(v, str) and _NAME in v) for k, v in part._headers):
                part._headers = [(self._back(k), self._back(v) if isinstance(v, str) else v) for k, v in part._headers]
            if isinstance(part._unixfrom, str):
                part._unixfrom = self._back(part._unixfrom)
        return True

    def without_renaming(self) -> Skeleton:
        """The plain skeleton, its runs set aside and its boundaries as the mail wrote them."""
        return Skeleton(data=self.plain, plain=self.plain, runs=self.runs)

    def _misread(self, part: Message) -> bool:
        if _NAME not in str(part.get("content-type", "")):
            return False
        boundary = part.get_boundary()
        return bool(boundary) and _NAME in boundary and boundary not in self.renamed

    def _back(self, text: str) -> str:
        """The text with each fixed name (always followed by its two digits) given back its boundary, in one pass,
        then each placeholder its run."""
        if self.renamed and _NAME in text:
            head, *rest = text.split(_NAME)
            text = head + "".join(self.renamed.get(_NAME + p[:2], _NAME + p[:2]) + p[2:] for p in rest)
        if self.runs and next(iter(self.runs))[: len("BUZON") + 16] in text:
            for placeholder, run in self.runs.items():
                text = text.replace(placeholder, run, 1)
        return text


def make(data: bytes) -> Skeleton:
    """The skeleton of a mail (its runs set aside, its boundaries renamed where that is certain to read the same)."""
    plain, runs = _set_aside(data)
    renamed, renamed_data = _rename_boundaries(plain)
    return Skeleton(data=renamed_data, plain=plain, runs=runs, renamed=renamed)


def _rename_boundaries(data: bytes) -> tuple[dict[str, str], bytes]:
    """Each boundary parameter's value renamed to a fixed name, throughout, when every place it occurs is one the
    parser reads as a boundary (a boundary parameter, or a line that starts with "--" and it), so that nothing else of
    the mail changes; else that boundary keeps its name. A fixed name already in the mail renames none. One pass over
    the places (a boundary may be part of a fixed name: "0"), none overlapping another, and each fixed name found in
    the result exactly where it was put."""
    found = _BOUNDARY.findall(data)
    if not found or len(found) > _MAX_RENAMED or _NAME.encode() in data:
        return {}, data
    as_parameter = Counter(value for _, value in found)
    chosen = []
    for boundary, count in as_parameter.items():
        as_line = data.count(b"\n--" + boundary) + data.startswith(b"--" + boundary)
        inside_another = any(boundary in other for other in as_parameter if other != boundary)
        if not inside_another and data.count(boundary) == count + as_line:
            chosen.append(boundary)  # else its text is also elsewhere, or inside another boundary: left as it is
    names = {boundary: f"{_NAME}{index:02}".encode() for index, boundary in enumerate(chosen)}
    places = []
    for boundary in chosen:
        start = data.find(boundary)
        while start >= 0:
            places.append((start, boundary))
            start = data.find(boundary, start + len(boundary))
    places.sort()
    pieces: list[bytes] = []
    kept = 0
    for start, boundary in places:
        if start < kept:
            return {}, data
        pieces += (data[kept:start], names[boundary])
        kept = start + len(boundary)
    pieces.append(data[kept:])
    renamed = b"".join(pieces)
    if renamed.count(_NAME.encode()) != len(places):
        return {}, data
    return {name.decode("ascii"): boundary.decode("ascii") for boundary, name in names.items()}, renamed


def _set_aside(data: bytes) -> tuple[bytes, dict[str, str]]:
    """The mail with long runs of body lines each replaced by one placeholder line, and the runs by placeholder.

    A run is taken only where the parser's reading cannot depend on it: inside a part's body (after the first blank
    line that follows a line starting with "--", or the mail's own headers), between two lines starting with "--"
    (every MIME boundary is such a line, so none is inside a run), leaving out the body's last line (whose line end
    the parser gives to the boundary after it), and only when the run holds no ":" (no headers of a forwarded mail,
    which the parser reads: base64 never holds one). Line ends must be CRLF or LF (the parser also splits on a lone
    CR, which the search for "--" would not see), else the mail is parsed as it is.
    """
    if len(data) < _SET_ASIDE_FROM or data.count(b"\r") != data.count(b"\r\n"):
        return data, {}
    token = secrets.token_hex(8).upper()
    if token.encode() in data:
        return data, {}
    starts = [0]  # where each stretch begins: the top, and every line starting with "--"
    position = data.find(b"\n--")
    while position >= 0:
        starts.append(position + 1)
        position = data.find(b"\n--", position + 1)
    starts.append(len(data))
    pieces: list[bytes] = []
    runs: dict[str, str] = {}
    kept = 0
    for start, end in itertools.pairwise(starts):
        if end - start < _RUN_MIN:
            continue
        blank = _HEADER_END.search(data, start, end)
        if blank is None:
            continue
        body = blank.end()
        last = data.rfind(b"\n", body, end - 1)  # the body's last line stays, with its line end
        if last <= body or last + 1 - body < _RUN_MIN or data.find(b":", body, last + 1) >= 0:
            continue
        ending = b"\r\n" if data[last - 1 : last] == b"\r" else b"\n"
        placeholder = f"BUZON{token}X{len(runs)}".encode() + ending
        runs[placeholder.decode("ascii")] = data[body : last + 1].decode("ascii", "surrogateescape")
        pieces += (data[kept:body], placeholder)
        kept = last + 1
    if not runs:
        return data, {}
    pieces.append(data[kept:])
    return b"".join(pieces), runs
