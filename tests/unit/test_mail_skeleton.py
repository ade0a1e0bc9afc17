"""The mail's skeleton (inbox.skeleton): parse_mail reads a mail exactly as Python's parser reads the mail itself,
with long body runs set aside and MIME boundaries renamed to fixed names; whatever the mail, the parsed message is
the same (each part's type, headers, payloads, preamble, epilogue and defects)."""

from __future__ import annotations

import email
import email.feedparser
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inbox import skeleton as skeleton_module
from inbox.unpack import parse_mail
from tests.unit.test_unpack import PDF, make_mail


def _facts(message) -> list:
    """What anyone reads of a parsed mail: each part's type, headers, raw and decoded payload, preamble, epilogue,
    defects."""
    out = []
    for part in message.walk():
        leaf = not part.is_multipart()
        out.append((part.get_content_type(), [(k, str(v)) for k, v in part.items()],
                    part._payload if leaf else len(part.get_payload()),
                    part.get_payload(decode=True) if leaf else None,
                    part.preamble, part.epilogue, [type(d).__name__ for d in part.defects]))  # fmt: skip
    return out


def _big_mail(line_end: bytes = b"\n") -> bytes:
    rng = random.Random(12)
    forwarded = make_mail(("reenviado.zip", rng.randbytes(120_000), "application", "zip"))
    msg = make_mail(
        ("fe1.zip", rng.randbytes(300_000), "application", "zip"),
        ("fv.pdf", PDF + rng.randbytes(90_000), "application", "pdf"),
        ("nota.txt", "línea: con dos puntos\n".encode() * 3000, "text", "plain"),
    )
    msg.add_attachment(forwarded)
    data = msg.as_bytes()
    return data.replace(b"\n", line_end) if line_end != b"\n" else data


@pytest.mark.parametrize("line_end", [b"\n", b"\r\n"], ids=["LF", "CRLF"])
def test_a_large_mail_parses_as_pythons_parser_reads_it(line_end: bytes) -> None:
    data = _big_mail(line_end)
    assert len(data) > 500_000
    skeleton, runs = skeleton_module._set_aside(data)
    assert len(runs) >= 3 and len(skeleton) < 20_000  # the base64 bodies were set aside, the text one stays
    assert _facts(parse_mail(data)) == _facts(email.message_from_bytes(data))


def test_8bit_bodies_and_lone_carriage_returns_read_as_pythons_parser_reads_them() -> None:
    data = _big_mail() + b"\n--trailing\n" + "cola en 8 bits: electrónica\n".encode() * 10
    data = data.replace(b"Adjuntamos la factura.", "Adjuntamos la factura electrónica.".encode("latin-1"))
    assert _facts(parse_mail(data)) == _facts(email.message_from_bytes(data))
    lone_cr = _big_mail().replace(b"\n", b"\r", 40)  # the parser splits lines on a lone CR: parsed as it is
    assert skeleton_module._set_aside(lone_cr)[1] == {}
    assert _facts(parse_mail(lone_cr)) == _facts(email.message_from_bytes(lone_cr))


# --- boundaries renamed: the parser compiles a pattern per boundary; fixed names are compiled once ---------------


def _same(data: bytes) -> None:
    assert _facts(parse_mail(data)) == _facts(email.message_from_bytes(data))


def _boundaries(message) -> set[str]:
    return {part.get_boundary() for part in message.walk() if part.is_multipart()}


def _nested_mail(attachment: bytes = b"PK\x03\x04 not really a zip") -> bytes:
    message = make_mail(("fe1.zip", attachment, "application", "zip"), ("fv.pdf", PDF, "application", "pdf"))
    message.get_payload()[0].add_alternative("<p>Adjuntamos la factura.</p>", subtype="html")  # a nested multipart
    return message.as_bytes()


def test_a_mails_boundaries_are_renamed_for_the_parser_and_given_back(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _nested_mail()
    own = _boundaries(email.message_from_bytes(data))
    shape = skeleton_module.make(data)
    assert len(own) == 2 and set(shape.renamed.values()) == own
    assert not any(boundary.encode() in shape.data for boundary in own)  # the parser reads the fixed names only
    assert _boundaries(parse_mail(data)) == own
    _same(data)
    # Twenty mails, each with boundaries of its own: the parser asks for the same two patterns every time.
    mails = [_nested_mail() for _ in range(20)]
    assert len({frozenset(_boundaries(email.message_from_bytes(mail))) for mail in mails}) == 20
    asked: list[str] = []
    compile_ = email.feedparser.re.compile
    monkeypatch.setattr(
        email.feedparser.re, "compile", lambda pattern, *a: asked.append(pattern) or compile_(pattern, *a)
    )
    for mail in mails:
        parse_mail(mail)
    assert len(asked) == 40 and len(set(asked)) == 2


@pytest.mark.parametrize(
    "edit",
    [
        lambda d, b: d.replace(b"Adjuntamos la factura.", b"Adjuntamos " + b + b" la factura."),  # in a body
        lambda d, b: d.replace(b"Subject: ", b"Subject: " + b + b" "),  # in a header
        lambda d, b: d + b"--" + b + b"\nen el ep\xc3\xadlogo\n--" + b + b"--\n",  # after the close, in the epilogue
        lambda d, b: d.replace(b"Subject: ", b"--" + b + b": cabecera\nSubject: "),  # a header named like it
        lambda d, b: d.replace(b"Subject: ", b"Subject: _BuzonMIME00 "),  # a fixed name already in the mail
        lambda d, b: d.replace(b'boundary="' + b + b'"', b"boundary=" + b + b" x"),  # unquoted, the parser reads more
        lambda d, b: d.replace(b'boundary="' + b + b'"', b'boundary="' + b + b'"; boundary="otro"'),  # twice
        lambda d, b: d.replace(b'boundary="' + b + b'"', b'boundary*0="' + b[:5] + b'"; boundary*1="' + b[5:] + b'"'),
        lambda d, b: d.replace(b'boundary="' + b + b'"', b'BOUNDARY="' + b + b'"'),
        lambda d, b: d.replace(b, b[:-2]),  # now the start of the nested part's boundary
    ],
    ids=["body", "header", "epilogue", "header-name", "fixed-name", "unquoted", "twice", "rfc2231", "upper", "prefix"],
)
def test_a_boundary_written_anywhere_else_still_parses_as_python_reads_it(edit) -> None:  # type: ignore[no-untyped-def]
    data = _nested_mail()
    outer = email.message_from_bytes(data).get_boundary().encode()
    edited = edit(data, outer)
    assert edited != data
    _same(edited)


_BCHARS = "0123456789abXY'()+_,./:=?-"


@st.composite
def _odd_mails(draw) -> bytes:  # type: ignore[no-untyped-def]
    """Small multipart mails whose boundaries (short, so they collide) turn up anywhere: as lines, inside others, in
    headers, bodies and parameters, quoted or not."""
    bounds = draw(st.lists(st.text(_BCHARS, min_size=1, max_size=6), min_size=1, max_size=3))
    quote = draw(st.sampled_from(['"', ""]))
    pieces = ["", "texto", "Content-Transfer-Encoding: base64", "QUJD", "_BuzonMIME00", "X: boundary=y", " sigue",
              "Content-Type: message/rfc822", "From a@b.test"]  # fmt: skip
    for b in bounds:
        pieces += [f"--{b}", f"--{b}--", f"--{b} ", b, f"x{b}x", f"--{b}: v", f"Subject: {b}", f" {b}", f"--{b}:",
                   f"Content-Type: multipart/mixed; boundary={quote}{b}{quote}",
                   f"Content-Type: multipart/alternative; boundary={b} z"]  # fmt: skip
    lines = draw(st.lists(st.sampled_from(pieces), max_size=30))
    end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    head = f"Content-Type: multipart/mixed; boundary={quote}{bounds[0]}{quote}"
    return end.join(["From: a@b.test", head, "", *lines]).encode()


@settings(max_examples=400, deadline=None, database=None)
@given(_odd_mails())
def test_any_mail_parses_as_pythons_parser_reads_it(data: bytes) -> None:
    _same(data)
