"""Large CDATA sections set aside while a document is parsed, and given back where they are read.

An AttachedDocument carries the signed invoice and DIAN's answer as CDATA text: most of its bytes. libxml2 reads a
CDATA section a character at a time and keeps a copy of it in the tree (a tenth of a verification's instructions),
yet verification wants those payloads as the exact bytes of the file, which it cuts out of the file anyway. So
``parse_aside`` parses the file with each large section's content replaced by a short placeholder, and the contents
are given back from the file's own bytes:

- ``SetAside.payload(element)``: the exact bytes of the one section that is an element's whole text;
- ``SetAside.restore(root)``: every other section put back into the tree as the text it holds, which is then the
  tree ``parse_xml`` gives (a CDATA section read as the text it holds) wherever anything but a payload's own text is
  read: a section in a certificate or a note, a document that is not a container;
- ``SetAside.canonical()``: each payload's text in canonical form, for C14N of the container (its own signature),
  which puts it where its placeholder is: the container's tree never holds the payloads.

A section is set aside only where the placeholder cannot be read differently from the section it stands for: it is
markup (found by walking comments, processing instructions and sections in order, never by a search that could land
inside one), it is the whole content of an element (a start tag, XML white space, the section, white space, an end
tag), its bytes are UTF-8 made of XML characters, the document declares no other encoding, and no placeholder's text
is anywhere in the file. The skeleton differs from the file only inside those sections, so libxml2 reads the same
structure; where the skeleton does not parse, the file itself is parsed, so an error is the file's own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from dian.errors import ParseError
from dian.xmlsafe import DEFAULT_MAX_BYTES, LIBXML_MAX_TEXT_BYTES, declared_encoding, parse_xml

__all__ = ["MIN_SECTION", "SetAside", "parse_aside"]

# Sections shorter than this stay in place: a placeholder saves libxml2 little there.
MIN_SECTION = 1024
# A container has two or three sections and few comments: the walk stops after this many comments, PIs and sections
# (a file of a million of them is walked no further; what lies past stays in place), and a candidate search after
# this many misses, so no file makes the walk cost more than a few searches in C.
_MAX_STEPS = 64
_CANDIDATES = 8
# libxml2 refuses a text over LIBXML_MAX_TEXT_BYTES without huge_tree: a file with a section near that is parsed as
# it is, so the refusal (or not) is libxml2's own.
_MAX_SECTION = LIBXML_MAX_TEXT_BYTES * 9 // 10
_OPEN = b"<![CDATA["
_CLOSE = b"]]>"
_MARK = b"BuzonCDATA"  # placeholders are _MARK and six digits; a file that holds _MARK is parsed as it is
_XML_WS = b" \t\r\n"
_XML_WS_TEXT = " \t\r\n"
# Bytes that are no XML character (XML 1.0 section 2.2): the C0 controls but tab, LF and CR. UTF-8 (surrogates
# included) is checked by decoding, and U+FFFE and U+FFFF in the text decoded.
_CONTROLS = bytes(byte for byte in range(32) if byte not in (9, 10, 13))
_UTF8 = frozenset({"utf-8", "utf8"})
_WHITE = re.compile(rb"[ \t\r\n]*")
_NAME = rb"[^ \t\r\n/>!?<\"'=]+"
_ATTRIBUTE = rb"""[ \t\r\n]+%s[ \t\r\n]*=[ \t\r\n]*(?:"[^"<]*"|'[^'<]*')""" % _NAME
_START_TAG = re.compile(rb"<%s(?:%s)*[ \t\r\n]*>" % (_NAME, _ATTRIBUTE))
_HELD = etree.XPath("//text()[contains(., $mark)]")


@dataclass
class SetAside:
    """The sections set aside from one file: each placeholder and the span of the file's bytes it stands for; those
    a reader took as payloads stay aside (``canonical`` gives their text to C14N), the others ``restore`` puts back."""

    source: bytes = b""
    spans: dict[str, tuple[int, int]] = field(default_factory=dict)  # placeholder -> (start, end) of the content
    taken: set[str] = field(default_factory=set)  # placeholders handed over by ``payload``

    def payload(self, element: etree._Element) -> tuple[bytes, int] | None:
        """The exact bytes of the section that is ``element``'s whole text (XML white space stripped, as the text
        would be) and the offset just past the section; None when its text is not a placeholder."""
        if not self.spans or len(element):
            return None
        placeholder = (element.text or "").strip(_XML_WS_TEXT)
        span = self.spans.get(placeholder)
        if span is None:
            return None
        self.taken.add(placeholder)
        start, end = span
        return self.source[start:end].strip(_XML_WS), end + len(_CLOSE)

    def _text(self, placeholder: str) -> bytes:
        """The UTF-8 of the text libxml2 reads from a section: its bytes with line ends normalised (XML 1.0 2.11)."""
        start, end = self.spans[placeholder]
        return self.source[start:end].replace(b"\r\n", b"\n").replace(b"\r", b"\n")

    def restore(self, root: etree._Element) -> None:
        """Put back into ``root``'s tree, as the text it holds, every section not taken as a payload: the tree is then
        ``parse_xml``'s wherever anything but the payloads' own text is read."""
        left = self.spans.keys() - self.taken
        if not left:
            return
        for found in _HELD(root, mark=_MARK.decode("ascii")):
            element = found.getparent()
            placeholder = (element.text or "").strip(_XML_WS_TEXT)
            if placeholder in left:  # the whole text, as set aside: white space around it kept
                element.text = element.text.replace(placeholder, self._text(placeholder).decode("utf-8"))
        for placeholder in left:
            del self.spans[placeholder]

    def canonical(self) -> tuple[tuple[bytes, bytes], ...]:
        """For C14N of the tree: each placeholder left in it and the canonical form of its section's text (C14N 1.0
        section 2.3 and libxml2: "&", "<" and ">" escaped; no CR is left after line-end normalisation)."""
        return tuple(
            (placeholder.encode("ascii"), _escaped(self._text(placeholder)))
            for placeholder in self.spans
            if placeholder in self.taken
        )


def _escaped(text: bytes) -> bytes:
    return text.replace(b"&", b"&amp;").replace(b"<", b"&lt;").replace(b">", b"&gt;")


def parse_aside(data: bytes) -> tuple[etree._Element, SetAside]:
    """``parse_xml(data)`` with the large CDATA sections set aside (see the module): the same tree but for their
    text, or the same ParseError."""
    aside = _set_aside(data) if len(data) <= DEFAULT_MAX_BYTES else None
    if aside is None:
        return parse_xml(data), SetAside()
    skeleton = _skeleton(data, aside)
    if skeleton.count(_MARK) != len(aside.spans):  # the file holds a placeholder's text: it is parsed as it is
        return parse_xml(data), SetAside()
    try:
        root = parse_xml(skeleton)
    except ParseError:
        return parse_xml(data), SetAside()  # the file's own error (or its tree, were the skeleton ever stricter)
    return root, aside


def _skeleton(data: bytes, aside: SetAside) -> bytes:
    pieces = []
    position = 0
    for placeholder, (start, end) in aside.spans.items():
        pieces += (data[position:start], placeholder.encode("ascii"))
        position = end
    pieces.append(data[position:])
    return b"".join(pieces)


def _set_aside(data: bytes) -> SetAside | None:
    """The sections worth setting aside, or None (none, or the file not fit for it)."""
    if data.find(_OPEN) < 0:
        return None
    if (declared := declared_encoding(data)) is not None and declared.lower() not in _UTF8:
        return None
    spans: dict[str, tuple[int, int]] = {}
    for start, end, after_tag in _sections(data):
        if end - start > _MAX_SECTION:
            return None  # near libxml2's own limit on a text: whether it refuses the file is its own to say
        if end - start < MIN_SECTION or not after_tag or not _before_end_tag(data, end):
            continue
        content = data[start:end]
        if len(content.translate(None, _CONTROLS)) != len(content):
            return None  # not XML: the file's own parse says so
        if not content.isascii():
            try:
                text = content.decode("utf-8")
            except UnicodeDecodeError:
                return None
            if "\ufffe" in text or "\uffff" in text:
                return None
        spans[f"{_MARK.decode('ascii')}{len(spans):06d}"] = (start, end)
    return SetAside(data, spans) if spans else None


def _find(data: bytes, pair: bytes, start: int, end: int = -1) -> int:
    """``data.find(pair, start, end)`` for two bytes whose second is rare in markup ("<!", "<?", "]]" of "]]>"):
    each candidate found by a one-byte search (memchr), many times faster than CPython's search for the pair; after
    a few candidates that are not the pair (a run of "!" in a text), the pair's own search."""
    end = len(data) if end < 0 else end
    position = start + 1
    for _ in range(_CANDIDATES):
        found = data.find(pair[1:], position, end)
        if found < 0:
            return -1
        if data[found - 1] == pair[0]:
            return found - 1
        position = found + 1
    return data.find(pair, position - 1, end)


def _sections(data: bytes) -> list[tuple[int, int, bool]]:
    """Each CDATA section in the markup: where its content starts and ends, and whether only XML white space stands
    between it and a start tag. Comments, processing instructions and sections are stepped over whole, so their
    text is never taken for markup; a "<" elsewhere opens a tag (it cannot stand in text or in an attribute value)."""
    found = []
    position = 0  # where the bytes not yet walked begin; every comment, PI and section before it stepped over
    for _ in range(_MAX_STEPS):  # past them, the rest stays in place (libxml2 reads it as it is)
        opening = _find(data, b"<!", position)
        if opening < 0:
            break
        instruction = _find(data, b"<?", position, opening)
        if instruction >= 0:
            end = data.find(b"?>", instruction + 2)
            if end < 0:
                break
            position = end + 2
            continue
        if data.startswith(b"<!--", opening):
            end = data.find(b"-->", opening + 4)
            if end < 0:
                break
            position = end + 3
        elif data.startswith(_OPEN, opening):
            start = opening + len(_OPEN)
            end = _close(data, start)
            if end < 0:
                break
            found.append((start, end, _after_start_tag(data, position, opening)))
            position = end + len(_CLOSE)
        else:  # a declaration: parse_xml refuses a DOCTYPE; anything else is not well-formed either way
            position = opening + 2
    return found


def _close(data: bytes, start: int) -> int:
    """Where the section whose content starts at ``start`` ends: the first "]]>" (XML 1.0 section 2.7)."""
    position = start
    for _ in range(_CANDIDATES):
        found = _find(data, b"]]", position)
        if found < 0 or data.startswith(_CLOSE, found):
            return found
        position = found + 1
    return data.find(_CLOSE, position)


def _after_start_tag(data: bytes, walked: int, opening: int) -> bool:
    """Whether only XML white space stands between the section opening at ``opening`` and a start tag that lies
    after ``walked`` (the end of the last comment, PI or section stepped over). The tag is the bytes from the last
    "<" to the last ">" before the section, and must read as one start tag whole: a ">" may stand in text or in an
    attribute value, so a ">" alone proves nothing."""
    close = data.rfind(b">", walked, opening)
    if close < 0 or _WHITE.fullmatch(data, close + 1, opening) is None:
        return False
    tag = data.rfind(b"<", walked, close)
    return tag >= 0 and _START_TAG.fullmatch(data, tag, close + 1) is not None


def _before_end_tag(data: bytes, end: int) -> bool:
    """Whether only XML white space stands between a section ending at ``end`` and an end tag."""
    return data.startswith(b"</", _WHITE.match(data, end + len(_CLOSE)).end())  # type: ignore[union-attr]
