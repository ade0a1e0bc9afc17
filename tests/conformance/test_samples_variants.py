"""Real containers written the other ways a provider's software writes the same document: what no signature covers
changes, and Buzón's reading of the real samples does not.

The AttachedDocument's bytes are not signed (its optional signature covers its canonical form, which is the same
for every variant below except the last two). So each variant must give the same verdict, the same proof of DIAN's
validation, the same document and the same checks as the sample as it came. The last two change the container's
text (a byte-order mark or blank lines inside the payload's CDATA): the invoice and DIAN's answer still read and
verify as before, and the container's own signature may only warn, never fail the document.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import pytest

from dian.reception import ReceptionReport, verify_received
from dian.xades import Outcome
from tests.conformance.test_samples_verify import ATTACHED, signers_pinned
from tests.conftest import sample_bytes

_CDATA = re.compile(rb"<!\[CDATA\[(.*?)\]\]>", re.S)
_DECLARATION = re.compile(rb"^<\?xml[^>]*\?>\s*")
_ENCODING = re.compile(rb"""^(<\?xml[^>]*encoding=)(["'])[^"']*\2""")


def _escaped(data: bytes) -> bytes:
    """Each payload as escaped text instead of CDATA (&lt;Invoice …)."""
    return _CDATA.sub(lambda m: html.escape(m.group(1).decode("utf-8"), quote=False).encode("utf-8"), data)


def _split_cdata(data: bytes) -> bytes:
    """Each payload in two CDATA sections, as serializers write text that holds "]]>"."""
    return _CDATA.sub(lambda m: b"<![CDATA[" + m.group(1)[:100] + b"]]><![CDATA[" + m.group(1)[100:] + b"]]>", data)


def _crlf(data: bytes) -> bytes:
    """Windows line ends throughout, payloads included."""
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _bom(data: bytes) -> bytes:
    """A UTF-8 byte-order mark before the declaration."""
    return b"\xef\xbb\xbf" + data


def _no_declaration(data: bytes) -> bytes:
    """No XML declaration (UTF-8 is the default)."""
    return _DECLARATION.sub(b"", data, count=1)


def _latin1(data: bytes) -> bytes:
    """The container in ISO-8859-1, declared so; skipped where a character has no Latin-1 byte (CDATA cannot hold a
    character reference, so such a container cannot be written in Latin-1 at all)."""
    declared = _ENCODING.sub(rb"\1\2ISO-8859-1\2", data, count=1)
    if declared == data:  # no declaration, or one without an encoding: write one
        declared = b'<?xml version="1.0" encoding="ISO-8859-1"?>' + _DECLARATION.sub(b"", data, count=1)
    text = declared.decode("utf-8")
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        pytest.skip("the container holds characters Latin-1 cannot write")


def _bom_in_payload(data: bytes) -> bytes:
    """A byte-order mark at the start of each payload, inside its CDATA."""
    return _CDATA.sub(lambda m: b"<![CDATA[\xef\xbb\xbf" + m.group(1).lstrip() + b"]]>", data)


def _blank_lines_in_payload(data: bytes) -> bytes:
    """Blank lines around each payload, inside its CDATA."""
    return _CDATA.sub(lambda m: b"<![CDATA[\r\n\r\n" + m.group(1) + b"\r\n]]>", data)


SAME_CANONICAL_FORM = [_escaped, _split_cdata, _crlf, _bom, _no_declaration, _latin1]
OTHER_TEXT = [_bom_in_payload, _blank_lines_in_payload]


def _reading(report: ReceptionReport, *, container: bool = True) -> tuple:
    document = report.document
    checks = sorted(
        (c.name, c.outcome.value, c.detail) for c in report.checks if container or not c.name.startswith("container.")
    )
    return (
        report.kind,
        report.dian_proof.value,
        document and (document.number, document.uuid, document.issued_at, document.monetary_total.payable),
        report.event,
        checks,
        *((report.verdict.value,) if container else ()),
    )


@pytest.mark.parametrize("variant", SAME_CANONICAL_FORM, ids=lambda f: f.__name__.strip("_"))
@pytest.mark.parametrize("name", ATTACHED)
def test_a_container_written_another_way_reads_the_same(name: str, variant: Callable[[bytes], bytes]) -> None:
    data = sample_bytes(name)
    trust = signers_pinned(name)  # every signer trusted, so the container's own signature is weighed too
    changed = variant(data)
    if changed == data:
        pytest.skip("the sample is already written this way")
    assert _reading(verify_received(changed, trust=trust)) == _reading(verify_received(data, trust=trust))


@pytest.mark.parametrize("variant", OTHER_TEXT, ids=lambda f: f.__name__.strip("_"))
@pytest.mark.parametrize("name", ATTACHED)
def test_payload_text_the_signatures_do_not_cover_changes_at_most_the_containers_signature(
    name: str, variant: Callable[[bytes], bytes]
) -> None:
    data = sample_bytes(name)
    trust = signers_pinned(name)
    before, after = verify_received(data, trust=trust), verify_received(variant(data), trust=trust)
    assert after.document is not None and after.document_xml is not None
    assert _reading(after, container=False) == _reading(before, container=False)
    assert after.outcome("container.signature") in (Outcome.PASS, Outcome.WARN)
    assert after.verdict in (before.verdict, "valid_with_warnings")
