"""Large CDATA sections set aside while parsing (dian.cdata): whatever the file, ``parse_aside`` gives the tree
``parse_xml`` gives once the sections are put back (or the same ParseError), and a section that is an element's whole
text is handed over as the file's exact bytes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from dian import cdata
from dian.errors import ParseError
from dian.ubl.parse import attached_payloads
from dian.xmlsafe import parse_xml

SAMPLES = Path(os.environ.get("BUZON_SHARED", Path(__file__).resolve().parents[3] / "shared")) / "samples"
PAYLOAD = '<Invoice xmlns="urn:x"><ID>FE1</ID><Note>café &amp; "té" > 1</Note></Invoice>' + " " * 1500
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"


def _shape(root: etree._Element) -> list:
    """Everything a reader of the tree sees: each node's kind, name, attributes, text and tail, in document order."""
    tree = root.getroottree()
    nodes = [*(n for n in root.itersiblings(preceding=True)), root, *root.itersiblings()]
    out = []
    for top in nodes:
        for node in top.iter():
            out.append((type(node).__name__, node.tag if isinstance(node.tag, str) else None,
                        dict(node.attrib) if isinstance(node.tag, str) else None, node.text, node.tail))  # fmt: skip
    return [tree.docinfo.encoding, tree.docinfo.xml_version, *out]


def _outcome(data: bytes, *, aside: bool) -> object:
    """parse_xml's tree or error, or parse_aside's with its sections put back."""
    try:
        if not aside:
            return _shape(parse_xml(data))
        root, held = cdata.parse_aside(data)
        held.restore(root)
        return _shape(root)
    except ParseError as exc:
        return ("error", str(exc))


def _container(description: str, *, prolog: str = '<?xml version="1.0" encoding="UTF-8"?>') -> bytes:
    return (
        f'{prolog}<AttachedDocument xmlns="urn:ad" xmlns:cbc="{CBC}"><cbc:ID>1</cbc:ID>'
        f"<Attachment><ExternalReference>{description}</ExternalReference></Attachment></AttachedDocument>"
    ).encode()


SECTION = f"<![CDATA[{PAYLOAD}]]>"
CASES = {
    "plain": (_container(f"<cbc:Description>\n  {SECTION}\n</cbc:Description>"), 1),
    "a '>' in an attribute of the start tag": (_container(f'<cbc:Description a="1>2">{SECTION}</cbc:Description>'), 1),
    "text with '>' before it": (_container(f"<cbc:Description>x > {SECTION}</cbc:Description>"), 0),
    "text after it": (_container(f"<cbc:Description>{SECTION}x</cbc:Description>"), 0),
    "in a tail": (_container(f"<cbc:Description><b/>{SECTION}</cbc:Description>"), 0),
    "after an empty element": (_container(f"<b/>{SECTION}<cbc:Description/>"), 0),
    "after a comment": (_container(f"<cbc:Description><!-- c -->{SECTION}</cbc:Description>"), 0),
    "after a processing instruction": (_container(f"<cbc:Description><?pi x?>{SECTION}</cbc:Description>"), 0),
    "two sections in one text": (_container(f"<cbc:Description>{SECTION}{SECTION}</cbc:Description>"), 0),
    "its opening inside a comment": (
        _container(f"<!-- <![CDATA[ --><cbc:Description>{SECTION}</cbc:Description><!-- ]]> -->"),
        1,
    ),
    "its opening inside a processing instruction": (
        _container(f"<?pi <![CDATA[ <x> ?><cbc:Description>{SECTION}</cbc:Description>"),
        1,
    ),
    "an opening inside the section": (
        _container(f"<cbc:Description><![CDATA[<![CDATA[{PAYLOAD}]]></cbc:Description>"),
        1,
    ),
    "']]]>' at its end": (_container(f"<cbc:Description><![CDATA[{PAYLOAD}]]]></cbc:Description>"), 1),
    "CRLF and a lone CR in it": (
        _container(f"<cbc:Description><![CDATA[{PAYLOAD}\r\nline\rend]]></cbc:Description>"),
        1,
    ),
    "a placeholder's text in the file": (
        _container(f"<cbc:Description>{SECTION}</cbc:Description><cbc:Note>BuzonCDATA000000</cbc:Note>"),
        0,
    ),
    "a placeholder's text inside the section": (
        _container(f"<cbc:Description><![CDATA[BuzonCDATA000000{PAYLOAD}]]></cbc:Description>"),
        1,
    ),
    "ISO-8859-1 declared": (
        _container(
            f"<cbc:Description>{SECTION}</cbc:Description>", prolog='<?xml version="1.0" encoding="ISO-8859-1"?>'
        ),
        0,
    ),
    "a UTF-8 byte order mark": (b"\xef\xbb\xbf" + _container(f"<cbc:Description>{SECTION}</cbc:Description>"), 1),
    "a short section": (_container("<cbc:Description><![CDATA[<a/>]]></cbc:Description>"), 0),
    "unterminated": (_container(f"<cbc:Description><![CDATA[{PAYLOAD}</cbc:Description>"), 0),
    "mismatched end tag": (_container(f"<cbc:Description>{SECTION}</cbc:Other>"), 0),
    "inside an attribute value": (_container(f'<cbc:Description a="{SECTION}"></cbc:Description>'), 0),
    "a control character in it": (_container(f"<cbc:Description><![CDATA[{PAYLOAD}\x01]]></cbc:Description>"), 0),
    "U+FFFE in it": (_container(f"<cbc:Description><![CDATA[{PAYLOAD}\ufffe]]></cbc:Description>"), 0),
    "a DOCTYPE": (
        b"<!DOCTYPE x [<!ENTITY a 'b'>]>" + _container(f"<cbc:Description>{SECTION}</cbc:Description>", prolog=""),
        0,
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_the_tree_or_the_error_is_parse_xmls(name: str) -> None:
    data, held = CASES[name]
    assert _outcome(data, aside=True) == _outcome(data, aside=False)
    try:
        _, aside = cdata.parse_aside(data)
    except ParseError:
        aside = cdata.SetAside()
    assert len(aside.spans) == held


def test_invalid_utf8_in_a_section_is_the_files_own_error() -> None:
    data = _container(f"<cbc:Description>{SECTION}</cbc:Description>").replace(b"caf\xc3\xa9", b"caf\xe9")
    assert _outcome(data, aside=True) == _outcome(data, aside=False)
    assert _outcome(data, aside=False)[0] == "error"


@pytest.mark.parametrize("name", ["plain", "CRLF and a lone CR in it", "an opening inside the section"])
def test_a_payload_is_the_files_exact_bytes(name: str) -> None:
    data, _ = CASES[name]
    root, aside = cdata.parse_aside(data)
    description = root.find(f".//{{{CBC}}}Description")
    assert len(description.text) < 40  # a placeholder, not the payload
    held, after = aside.payload(description)
    start = data.index(b"<![CDATA[") + len(b"<![CDATA[")
    assert held == data[start : data.index(b"]]>", start)].strip(b" \t\r\n")
    assert data[after - 3 : after] == b"]]>"
    full = parse_xml(data).find(f".//{{{CBC}}}Description")
    assert held.replace(b"\r\n", b"\n").replace(b"\r", b"\n") == full.text.strip().encode()


HOSTILE = {
    "a million sections and comments": b"<a>" + b"<![CDATA[]]><!---->" * 200_000 + b"</a>",
    "a section of a million ']'": b"<a><![CDATA[" + b"]" * 1_000_000 + b"]]></a>",
    "a million '!' and '?' in a text": b"<a><b>" + b"!?" * 500_000 + b"</b><c><![CDATA[" + b"x" * 2000 + b"]]></c></a>",
    "a section over libxml2's limit on a text": b"<a><![CDATA[" + b"x" * 10_000_001 + b"]]></a>",
}


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_file_is_walked_a_bounded_number_of_steps_and_parses_as_parse_xml_reads_it(name: str) -> None:
    data = HOSTILE[name]
    assert len(cdata._sections(data)) <= cdata._MAX_STEPS
    assert _outcome(data, aside=True) == _outcome(data, aside=False)


def _take_payloads(root: etree._Element, aside: cdata.SetAside) -> int:
    """Take every element whose whole text is a placeholder as a payload, as attached_payloads does; how many."""
    return sum(aside.payload(element) is not None for element in root.iter() if isinstance(element.tag, str))


def _canonical(root: etree._Element, aside: cdata.SetAside) -> bytes:
    out = etree.tostring(root, method="c14n")
    for placeholder, text in aside.canonical():
        out = out.replace(placeholder, text)
    return out


@pytest.mark.parametrize("name", [name for name, (_, held) in CASES.items() if held])
def test_c14n_of_the_tree_with_its_payloads_aside_is_the_files(name: str) -> None:
    data, held = CASES[name]
    root, aside = cdata.parse_aside(data)
    assert _take_payloads(root, aside) == held
    aside.restore(root)  # nothing left to put back: the payloads stay aside
    assert cdata._MARK.decode() in etree.tostring(root).decode()
    assert _canonical(root, aside) == etree.tostring(parse_xml(data), method="c14n")


def test_a_section_that_is_no_payload_is_put_back_and_the_payloads_stay_aside() -> None:
    certificate = "MIIC" + "QUJD" * 400  # a certificate's base64, written as CDATA: read directly, not through C14N
    data = _container(f"<cbc:Description>{SECTION}</cbc:Description><cbc:Note><![CDATA[{certificate}]]></cbc:Note>")
    root, aside = cdata.parse_aside(data)
    assert len(aside.spans) == 2
    description = root.find(f".//{{{CBC}}}Description")
    assert aside.payload(description) is not None
    aside.restore(root)
    assert root.find(f".//{{{CBC}}}Note").text == certificate
    assert description.text.startswith(cdata._MARK.decode())
    assert _canonical(root, aside) == etree.tostring(parse_xml(data), method="c14n")


@pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"the real samples are not at {SAMPLES}")
def test_real_containers_give_the_same_payloads_and_tree() -> None:
    containers = sorted(SAMPLES.glob("attached_*.xml"))
    assert containers
    for path in containers:
        data = path.read_bytes()
        root, aside = cdata.parse_aside(data)
        assert len(aside.spans) == 2, path.name  # the invoice and DIAN's answer
        assert len(etree.tostring(root)) < len(data) // 2
        assert attached_payloads(root, data, aside) == attached_payloads(parse_xml(data), data), path.name
        assert _outcome(data, aside=True) == _outcome(data, aside=False), path.name
        root, aside = cdata.parse_aside(data)
        assert _take_payloads(root, aside) == 2
        try:
            expected = etree.tostring(parse_xml(data), method="c14n")
        except etree.C14NError:  # a relative namespace URI (dian.xades.references rewrites it to verify)
            continue
        assert _canonical(root, aside) == expected, path.name


# Odd documents made of the pieces that can fool a byte scan: sections (with "]]", "<![CDATA[", CR, non-ASCII and,
# rarely, a control character), comments and PIs that hold section markup, '>' in text and attributes, tails.
_TEXT = st.sampled_from(["", " ", "\n", "x", "a > b", "é", "BuzonCDATA000000", "&amp;", "]]", "\r\n"])
_RAW = st.sampled_from(["<a/>", "]]", "]", "<![CDATA[", "\r\n", "\r", "ñ", " ", "x" * 30, "\x01", "-->", "?>"])


@st.composite
def _section(draw) -> str:
    return "<![CDATA[" + "".join(draw(st.lists(_RAW, max_size=6))) + "]]>"


@st.composite
def _node(draw, depth: int = 0) -> str:
    kind = draw(st.sampled_from(["element", "element", "section", "text", "comment", "pi"] if depth else ["element"]))
    if kind == "section":
        return draw(_section())
    if kind == "text":
        return draw(_TEXT)
    if kind == "comment":
        return "<!--" + draw(st.sampled_from(["", " <![CDATA[ ", "<x>", "]]>"])) + "-->"
    if kind == "pi":
        return "<?pi " + draw(st.sampled_from(["", "<![CDATA[", "<x>", "]]>"])) + "?>"
    attribute = draw(st.sampled_from(["", ' a="1>2"', " b='<![CDATA['", ' c="x"']))
    children = draw(st.lists(_node(depth + 1), max_size=4)) if depth < 3 else []
    name = draw(st.sampled_from(["d", "e:f", "g"]))
    declared = ' xmlns:e="urn:e"' if name == "e:f" else ""
    if not children and draw(st.booleans()):
        return f"<{name}{declared}{attribute}/>"
    if draw(st.integers(0, 3)) == 0:  # an element whose whole text is one section: what is set aside
        return f"<{name}{declared}{attribute}>" + draw(_TEXT.filter(str.isspace)) + draw(_section()) + f"</{name}>"
    return f"<{name}{declared}{attribute}>" + draw(st.sampled_from(["", " ", "\n"])) + "".join(children) + f"</{name}>"


@given(document=_node(), prolog=st.sampled_from(["", '<?xml version="1.0"?>\n', "<!-- <![CDATA[ -->"]))
@settings(max_examples=400, deadline=None)
def test_any_document_parses_as_parse_xml_reads_it(document: str, prolog: str, monkeypatch_module) -> None:
    data = (prolog + document).encode()
    assert _outcome(data, aside=True) == _outcome(data, aside=False)


@pytest.fixture(scope="module")
def monkeypatch_module():
    """Every section is large enough to be set aside, so the property reaches every branch."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cdata, "MIN_SECTION", 0)
        yield patch
