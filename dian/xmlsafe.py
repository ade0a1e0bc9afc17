"""The one hardened XML entry point: every byte string that reaches lxml in Buzón goes through ``parse_xml``.

DESIGN.md section 5 ("hostile input is normal input"): no DTD, no entities, no network, bounded size and depth.
A DOCTYPE is refused by a byte scan *before* libxml2 sees the document, so neither external entities (XXE) nor
internal entity expansion (billion laughs) can start. The returned tree keeps whitespace, comments and processing
instructions exactly as lxml parses them by default, because signature verification digests the original document
(dian-facts.md 5, "never re-indent before verifying").
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

from lxml import etree

from dian.errors import ParseError

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_DEPTH", "parse_xml"]

# A DIAN e-mail is at most 2 MB zipped (dian-facts.md 4.1); an uncompressed invoice with thousands of lines stays far
# below this. libxml2 caps a single text node at 10 MB when huge_tree is off.
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
# Real UBL documents nest about 12 levels deep (a signature adds a few); libxml2 itself stops at 256 without huge_tree.
DEFAULT_MAX_DEPTH = 64

_ENCODING_DECL = re.compile(rb"""^<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
# Only ASCII-compatible encodings: the DOCTYPE byte scan above must see the markup as ASCII bytes. DIAN documents are
# UTF-8; anything exotic (UTF-7, UTF-16, EBCDIC) is an evasion risk, not a real supplier.
_ALLOWED_ENCODINGS = frozenset(
    {"utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1", "iso8859-1", "windows-1252", "cp1252"}
)
_LIBXML_WHERE = re.compile(r", line \d+, column \d+$")
_UTF8_BOM = b"\xef\xbb\xbf"
_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")

_local = threading.local()


def _parser() -> etree.XMLParser:
    # One parser per thread: lxml parsers must not be used by two threads at once.
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            attribute_defaults=False,
            huge_tree=False,
            remove_blank_text=False,
            remove_comments=False,
            remove_pis=False,
        )
        _local.parser = parser
    return parser


@lru_cache(maxsize=8)
def _too_deep(max_depth: int) -> etree.XPath:
    # An element exists at depth max_depth + 1 (the root is depth 1). Evaluated in C, about as cheap as one iteration.
    return etree.XPath("boolean(/" + "/".join(["*"] * (max_depth + 1)) + ")")


def _declaration_in_prolog(data: bytes) -> int | None:
    """Offset of a "<!" declaration (DOCTYPE) before the root element, skipping comments and PIs; else None."""
    position = 0
    while (start := data.find(b"<", position)) >= 0:
        if data.startswith(b"<?", start):
            end = data.find(b"?>", start + 2)
            position = end + 2
        elif data.startswith(b"<!--", start):
            end = data.find(b"-->", start + 4)
            position = end + 3
        elif data.startswith(b"<!", start):
            return start
        else:
            return None  # the root element: anything after it is content, where "<!" cannot declare
        if end < 0:
            return None  # unterminated: libxml2 reports the syntax error
    return None


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def parse_xml(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, max_depth: int = DEFAULT_MAX_DEPTH) -> etree._Element:
    """Parse untrusted XML bytes into an lxml root element, refusing DTDs, entities, oversize and deep nesting."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ParseError(f"XML must be given as bytes, got {type(data).__name__}")
    data = bytes(data)
    if not data.strip():
        raise ParseError("empty input: no XML document")
    if len(data) > max_bytes:
        raise ParseError(f"document too large: {len(data)} bytes, the limit is {max_bytes}")
    if data.startswith(_WIDE_BOMS) or data[:2] in (b"\x00<", b"<\x00"):
        raise ParseError("UTF-16/UTF-32 documents are refused: DIAN documents are UTF-8", where="line 1")
    head = data[3:] if data.startswith(_UTF8_BOM) else data
    if not head.lstrip(b" \t\r\n").startswith(b"<"):
        raise ParseError(f"not XML: the input starts with {head[:20]!r}", where="line 1")
    declared = _ENCODING_DECL.match(head)
    if declared and declared.group(1).decode("ascii").lower() not in _ALLOWED_ENCODINGS:
        raise ParseError(
            f"encoding {declared.group(1).decode('ascii')!r} is refused: DIAN documents are UTF-8", where="line 1"
        )
    # XXE and billion laughs both need a DOCTYPE, which can only sit in the prolog; refuse it before libxml2 reads a
    # single declaration. Scanning just the prolog keeps this O(prolog), not O(document).
    doctype = _declaration_in_prolog(data)
    if doctype is not None:
        raise ParseError(
            "DOCTYPE declarations are refused (external entities, entity expansion)",
            where=f"line {_line_of(data, doctype)}",
        )
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (exc.lineno, 0)
        message = _LIBXML_WHERE.sub("", exc.msg or "syntax error")
        raise ParseError(f"malformed XML: {message}", where=f"line {line}, column {column}") from None
    if root is None:  # lxml returns None for some recover-mode inputs; keep the contract anyway
        raise ParseError("no root element")
    if _too_deep(max_depth)(root):
        raise ParseError(f"document nests deeper than {max_depth} levels")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:  # defence in depth: the byte scan should have caught it
        raise ParseError("DOCTYPE declarations are refused (external entities, entity expansion)")
    return root
