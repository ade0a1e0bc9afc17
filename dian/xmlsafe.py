"""The one hardened XML entry point: every byte string that reaches lxml in Buzón goes through ``parse_xml``.

DESIGN.md section 5 ("hostile input is normal input"): no DTD, no entities, no network, bounded size and depth.
A DOCTYPE is refused by a byte scan *before* libxml2 sees the document, so neither external entities (XXE) nor
internal entity expansion (billion laughs) can start. Byte scans as cheap bound what the tree and its C14N would cost
(markup, namespace declarations, attribute values; see the limits below), each refusal a ParseError naming its limit.
The returned tree keeps whitespace, comments and processing instructions exactly as lxml parses them by default,
because signature verification digests the original document (dian-facts.md 5, "never re-indent before verifying").
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

from lxml import etree

from dian.errors import ParseError

__all__ = [
    "DEFAULT_MAX_ATTRIBUTE_CHARS",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_MARKUP",
    "DEFAULT_MAX_NAMESPACE_WORK",
    "LIBXML_MAX_DEPTH",
    "LIBXML_MAX_TEXT_BYTES",
    "declared_encoding",
    "parse_xml",
]

# Limits on what DIAN's shape never needs (issue 14, "bounded work for hostile input"). Each is checked on the bytes
# before libxml2 builds a tree, except depth, which libxml2 bounds while parsing. Every default is far above a real
# document: a 5,000-line, 2 MB invoice has 90,000 "<", 8 namespace declarations, depth 13 and no attribute longer
# than 150 characters; the 17 real samples stay below 1,400 "<", 39 declarations and depth 13.
#
# A DIAN e-mail is at most 2 MB zipped (dian-facts.md 4.1); an uncompressed invoice with thousands of lines stays far
# below this.
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
# Real UBL documents nest about 12 levels deep (a signature adds a few).
DEFAULT_MAX_DEPTH = 64
# libxml2 itself stops at this depth without huge_tree, before building anything deeper.
LIBXML_MAX_DEPTH = 256
# Markup ("<" bytes: start and end tags, comments, PIs, CDATA, and "<" inside CDATA) bounds the number of nodes, hence
# the tree's memory (about 120 bytes per element: 5.2 million empty elements took 740 MB). Real UBL spends 22-50 bytes
# per "<", so a real document reaches the byte limit first; a million "<" is at most a 120 MB tree.
DEFAULT_MAX_MARKUP = 1_000_000
# Inclusive C14N in libxml2 costs about 4 ns per element times the square of the namespaces in scope (measured: 300
# declarations on the root and 10,000 elements take 3.8 s). The bytes give an upper bound of that product:
# declarations² × markup. This budget is about one second; a real 2 MB invoice uses 6 million of it.
DEFAULT_MAX_NAMESPACE_WORK = 250_000_000
# No attribute of a DIAN document is longer than a few hundred characters (URIs, schemeName, Id values).
DEFAULT_MAX_ATTRIBUTE_CHARS = 65_536
# libxml2's own cap on one text node without huge_tree; an AttachedDocument's CDATA payload must fit in it.
LIBXML_MAX_TEXT_BYTES = 10_000_000

# Matched at the document's start (after a UTF-8 byte order mark): match() anchors it there.
_ENCODING_DECL = re.compile(rb"""<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
# Only ASCII-compatible encodings: the DOCTYPE byte scan above must see the markup as ASCII bytes. DIAN documents are
# UTF-8; anything exotic (UTF-7, UTF-16, EBCDIC) is an evasion risk, not a real supplier.
_ALLOWED_ENCODINGS = frozenset(
    {"utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1", "iso8859-1", "windows-1252", "cp1252"}
)
_LIBXML_WHERE = re.compile(r", line [0-9]+, column [0-9]+$")
_FIRST_MARKUP = re.compile(rb"[ \t\r\n]*<")
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


# Comments, PIs and CDATA sections: what "<" and "xmlns" inside them count is text, not markup or declarations. They
# are taken leftmost first, each up to its own terminator, so a CDATA opener inside a comment is part of the comment
# (nothing can hide declarations). Only the first few are looked at: a real container has two CDATA payloads, and
# stopping early only leaves the counts high.
_TEXT_OPENER = re.compile(rb"<(?:!--|\?|!\[CDATA\[)")
_TEXT_CLOSER = {b"<!--": b"-->", b"<?": b"?>", b"<![CDATA[": b"]]>"}
_MAX_TEXT_SECTIONS = 1000


def _outside_text_sections(data: bytes, markup: int, declarations: int) -> tuple[int, int]:
    """``markup`` and ``declarations`` less what comments, PIs and CDATA sections hold."""
    position = 0
    for _ in range(_MAX_TEXT_SECTIONS):
        opener = _TEXT_OPENER.search(data, position)
        if opener is None:
            break
        start = opener.start()
        end = data.find(_TEXT_CLOSER[opener.group()], opener.end())
        if end < 0:
            break  # unterminated: malformed, libxml2 will say so if the counts let it parse
        markup -= data.count(b"<", start + 1, end)
        declarations -= data.count(b"xmlns", start, end)
        position = end
    return markup, declarations


@lru_cache(maxsize=8)
def _long_attribute(max_chars: int) -> re.Pattern[bytes]:
    # An attribute value holds neither "<" nor its own quote: a run of max_chars + 1 such bytes after =" is one.
    run = max_chars + 1
    return re.compile(rb"=[ \t\r\n]*(?:\"[^\"<]{%d}|'[^'<]{%d})" % (run, run))


def _check_markup(data: bytes, max_markup: int, max_namespace_work: int, max_attribute_chars: int) -> None:
    """Refuse, from the bytes alone, what would make the tree or its C14N costly (see the limits above)."""
    size = len(data)
    # A document shorter than the markup limit cannot exceed it; counting costs about 30 µs per 50 KB.
    markup = data.count(b"<") if size > max_markup else size
    declarations = data.count(b"xmlns")
    if markup > max_markup or declarations * declarations * markup > max_namespace_work:
        if markup == size:
            markup = data.count(b"<")
        # Rare (a very large container): leave out what comments and CDATA payloads (and PIs) hold. Without a "!"
        # (a one-byte search; "<!" is slow where every fourth byte is "<") there is neither a comment nor a CDATA,
        # and PIs alone are left counted.
        if (markup > max_markup or declarations * declarations * markup > max_namespace_work) and b"!" in data:
            markup, declarations = _outside_text_sections(data, markup, declarations)
        if markup > max_markup:
            raise ParseError(
                f"demasiados nodos: {markup} etiquetas, comentarios o instrucciones (contados por '<'); "
                f"el límite es {max_markup}"
            )
        if declarations * declarations * markup > max_namespace_work:
            raise ParseError(
                f"demasiadas declaraciones de espacio de nombres para el tamaño del documento: {declarations} "
                f"declaraciones y {markup} etiquetas (declaraciones² × etiquetas = "
                f"{declarations * declarations * markup}, el límite es {max_namespace_work})"
            )
    if size > max_attribute_chars and (found := _long_attribute(max_attribute_chars).search(data)) is not None:
        raise ParseError(
            f"el valor de un atributo tiene más de {max_attribute_chars} caracteres",
            where=f"línea {_line_of(data, found.start())}",
        )


# libxml2's syntax errors a supplier's broken file commonly raises, in the words a clerk can forward to the supplier;
# any other is quoted as libxml2 wrote it.
_SYNTAX_WORDS = tuple(
    (re.compile(pattern), words)
    for pattern, words in (
        (
            r"Opening and ending tag mismatch: (\S+) line ([0-9]+) and (\S+)",
            "la etiqueta <{0}> (abierta en la línea {1}) se cierra como </{2}>",
        ),
        (
            r"Premature end of data in tag (\S+) line ([0-9]+)",
            "el documento termina antes de cerrar <{0}> (abierta en la línea {1}): parece cortado",
        ),
        (r"Couldn't find end of Start Tag (\S+) line ([0-9]+)", "la etiqueta <{0}> (línea {1}) no se cierra"),
        (r"Extra content at the end of the document", "hay contenido después del final del documento"),
        (r"Start tag expected, '<' not found", "no hay ningún elemento: se esperaba «<»"),
        (r"Document is empty", "el documento está vacío"),
        (
            r"(?:EntityRef: expecting ';'|xmlParseEntityRef: no name)",
            "hay un «&» sin escapar (en XML se escribe &amp;)",
        ),
        (r"Entity '(.+)' not defined", "la entidad &{0}; no está definida"),
        (r"AttValue: \" or ' expected", "el valor de un atributo no está entre comillas"),
        (r"Attribute (\S+) redefined", "el atributo {0} está repetido"),
        (r"Unescaped '<' not allowed in attributes values", "hay un «<» sin escapar en el valor de un atributo"),
        (
            r"Namespace prefix (\S+) on (\S+) is not defined",
            "el prefijo «{0}» de <{0}:{1}> no está declarado (falta xmlns:{0})",
        ),
        (r"xmlns:(\S+): Empty XML namespace is not allowed", "el espacio de nombres xmlns:{0} está vacío"),
        (r"(?:Invalid bytes in character encoding|Input is not proper UTF-8.*)", "hay bytes que no son UTF-8 válido"),
        (r"Invalid character: Char (0x[0-9A-Fa-f]+) out of allowed range", "hay un carácter que XML no permite ({0})"),
        (r"PCDATA invalid Char value ([0-9]+)", "hay un carácter de control que XML no permite (código {0})"),
        (r"Comment not terminated", "un comentario <!-- no se cierra"),
        (r"CData section not finished.*", "una sección CDATA no se cierra"),
        (r"Sequence ']]>' not allowed in content", "la secuencia «]]>» no está permitida en el texto"),
        (r"StartTag: invalid element name", "un nombre de elemento no es válido"),
    )
)


def _syntax_words(message: str) -> str:
    """libxml2's syntax error in Spanish where it is a common one; else its own words, on one line."""
    text = " ".join(message.split())
    for pattern, words in _SYNTAX_WORDS:
        found = pattern.fullmatch(text)
        if found is not None:
            return words.format(*found.groups())
    return f"según libxml2: {text}"


def _resource_message(message: str, max_depth: int) -> str | None:
    """A clear reason for libxml2's own resource limits (huge_tree off), naming the limit; None for other errors."""
    if "Excessive depth" in message:
        return f"el documento anida más de {LIBXML_MAX_DEPTH} niveles (el límite es {max_depth})"
    if "Text node too long" in message or "Buffer size limit" in message or "huge" in message.lower():
        return f"un texto o el valor de un atributo supera el límite de libxml2 de {LIBXML_MAX_TEXT_BYTES} bytes"
    return None


def declared_encoding(data: bytes) -> str | None:
    """The encoding the XML declaration names, as written (after a UTF-8 byte order mark); None without one."""
    declared = _ENCODING_DECL.match(data, len(_UTF8_BOM) if data.startswith(_UTF8_BOM) else 0)
    return declared.group(1).decode("ascii") if declared else None


def parse_xml(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_markup: int = DEFAULT_MAX_MARKUP,
    max_namespace_work: int = DEFAULT_MAX_NAMESPACE_WORK,
    max_attribute_chars: int = DEFAULT_MAX_ATTRIBUTE_CHARS,
) -> etree._Element:
    """Parse untrusted XML bytes into an lxml root element, refusing DTDs, entities, oversize and hostile shapes."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ParseError(f"el XML debe llegar como bytes, no como {type(data).__name__}")
    data = bytes(data)
    if not data or data.isspace():  # what strip() would leave empty, without copying the document
        raise ParseError("entrada vacía: no hay un documento XML")
    if len(data) > max_bytes:
        raise ParseError(f"documento demasiado grande: {len(data)} bytes; el límite es {max_bytes}")
    if data.startswith(_WIDE_BOMS) or data[:2] in (b"\x00<", b"<\x00"):
        raise ParseError(
            "se rechazan los documentos en UTF-16 o UTF-32: los documentos de la DIAN van en UTF-8", where="línea 1"
        )
    head = data[3:] if data.startswith(_UTF8_BOM) else data
    if _FIRST_MARKUP.match(head) is None:  # lstrip(" \t\r\n").startswith("<"), without copying the document
        raise ParseError(f"no es XML: la entrada empieza por {head[:20]!r}", where="línea 1")
    declared = declared_encoding(data)
    if declared and declared.lower() not in _ALLOWED_ENCODINGS:
        raise ParseError(
            f"se rechaza la codificación {declared!r}: los documentos de la DIAN van en UTF-8", where="línea 1"
        )
    # XXE and billion laughs both need a DOCTYPE, which can only sit in the prolog; refuse it before libxml2 reads a
    # single declaration. Scanning just the prolog keeps this O(prolog), not O(document).
    doctype = _declaration_in_prolog(data)
    if doctype is not None:
        raise ParseError(
            "se rechazan las declaraciones DOCTYPE (entidades externas, expansión de entidades)",
            where=f"línea {_line_of(data, doctype)}",
        )
    _check_markup(data, max_markup, max_namespace_work, max_attribute_chars)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (exc.lineno, 0)
        message = _LIBXML_WHERE.sub("", exc.msg or "syntax error")
        resource = _resource_message(message, max_depth)
        raise ParseError(
            resource or f"XML mal formado: {_syntax_words(message)}", where=f"línea {line}, columna {column}"
        ) from None
    if root is None:  # lxml returns None for some recover-mode inputs; keep the contract anyway
        raise ParseError("no hay elemento raíz")
    if _too_deep(max_depth)(root):
        raise ParseError(f"el documento anida más de {max_depth} niveles")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:  # defence in depth: the byte scan should have caught it
        raise ParseError("se rechazan las declaraciones DOCTYPE (entidades externas, expansión de entidades)")
    return root
