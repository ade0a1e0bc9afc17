"""Fuzzing the intake path (issue 14): the oracle and the Hypothesis strategies, shared by the property tests
(tests/unit/test_fuzz_intake.py, a bounded run in the suite) and the longer harness (benchmarks/fuzz_intake.py).

The pipeline is what intake does with a message before it writes anything: ``parse_mail`` and ``mail_info`` of a
mail, ``unpack`` of whatever arrived, ``dian.reception.verify_received`` of every XML found, and
``dian.ubl.parse_document`` (plus ``dian.xades.verify``, as intake does for events) on every XML that comes out. Each
step may refuse its input only with a declared error (UnpackError, dian.errors.ParseError); verify_received may not
raise at all, nor hide an undeclared exception in its report ("documento no procesable: <type>"). Anything else is a
finding.

The inputs are mutations of real-shaped ones, built here from tests/pki.py (synthetic: no sample data): an
AttachedDocument with a signed invoice and DIAN's signed answer, a bare signed invoice, a signed event; a field of the
signed document replaced by a hostile value, or its element tree edited (an element removed, repeated, emptied,
moved), and signed again (so the edit gets past the signature into the parser); put in a zip (its header fields and
member names edited), mailed (headers injected), then bytes flipped or cut.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import email.utils
import hashlib
import io
import re
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from functools import cache, lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

from hypothesis import strategies as st
from lxml import etree

from dian.errors import ParseError, SignatureError
from dian.reception import verify_received
from dian.trust import SigningIdentity, TrustStore
from dian.ubl import parse_document
from dian.xades import sign, verify
from inbox.unpack import Limits, UnpackError, is_mail, mail_info, parse_mail, unpack
from tests.pki import (
    COMPANY_NIT,
    SUPPLIER_NIT,
    application_response_xml,
    attached_document_xml,
    invoice_xml,
    pki,
)

CORPUS = Path(__file__).resolve().parent / "fuzz_corpus"
SIGNED_AT = dt.datetime(2025, 3, 3, 14, 0, tzinfo=dt.UTC)
DECLARED: tuple[type[BaseException], ...] = (UnpackError, ParseError)
# Small limits keep each example fast; the refusals they cause are declared (UnpackError) like the real ones.
LIMITS = Limits(max_total_bytes=4 * 1024 * 1024, max_member_bytes=2 * 1024 * 1024, max_members=40)
_HIDDEN = re.compile(r"documento no procesable: (\w+)")


class Finding(AssertionError):
    """A step of the pipeline raised what it does not declare (or verify_received reported such an exception)."""

    def __init__(self, step: str, error: BaseException | str) -> None:
        self.step = step
        self.error = error
        kind = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        super().__init__(f"{step}: {kind}")


@cache
def trust() -> TrustStore:
    p = pki()
    return TrustStore(anchors=(p.root.cert, p.intermediate.cert, p.dian_root.cert))


def _step(step: str, call: Callable[[], object], declared: tuple[type[BaseException], ...] = DECLARED) -> object:
    try:
        return call()
    except declared:
        raise
    except RecursionError as exc:  # as undeclared as any other, but say so plainly
        raise Finding(step, exc) from exc
    except Exception as exc:
        raise Finding(step, exc) from exc


def pipeline(data: bytes, name: str = "correo.eml") -> int:
    """Run intake's reading of one message; the number of XML parts it verified. Raises Finding on an undeclared
    exception (its ``__cause__`` is the exception itself), returns normally when a declared error refused it."""
    message = None
    if is_mail(data, name):
        try:
            message = _step("parse_mail", lambda: parse_mail(data))
        except DECLARED:
            return 0
        info = _step("mail_info", lambda: mail_info(message))  # type: ignore[arg-type]
        for header in ("message_id", "sender", "subject", "date"):  # the mail row stores them as text
            value = getattr(info, header)
            if not (isinstance(value, str) or (value is None and header in {"message_id", "date"})):
                raise Finding("mail_info", f"gave {header} as {type(value).__name__}: {value!r:.80}")
    try:
        parts = _step("unpack", lambda: unpack(data, name, LIMITS, message=message))  # type: ignore[arg-type]
    except DECLARED:
        return 0
    verified = 0
    for part in parts:  # type: ignore[attr-defined]
        if part.kind != "xml":
            continue
        verified += 1
        report = _step(  # declares nothing: it must never raise
            "verify_received", lambda p=part: verify_received(p.data, trust=trust(), our_nit=COMPANY_NIT), ()
        )
        for check in report.checks:  # type: ignore[attr-defined]
            hidden = _HIDDEN.search(check.detail or "")
            if hidden and hidden.group(1) not in {"ParseError", "UnpackError"}:
                raise Finding("verify_received", f"reported an undeclared {check.detail}")
        outputs = [part.data, report.document_xml, report.dian_response_xml]  # type: ignore[attr-defined]
        attached = getattr(report, "attached", None)
        if attached is not None:
            outputs += [getattr(attached, "document_xml", None), getattr(attached, "dian_response_xml", None)]
        for xml in dict.fromkeys(x for x in outputs if x):
            with contextlib.suppress(*DECLARED):
                _step("parse_document", lambda x=xml: parse_document(x))
            try:
                signature = _step("xades.verify", lambda x=xml: verify(x, trust=trust()))
            except DECLARED:
                continue
            element = signature.signed_element  # type: ignore[attr-defined]
            if element is not None:
                with contextlib.suppress(*DECLARED):
                    _step("parse_document(signed)", lambda e=element: parse_document(e))
    return verified


# --- seeds: real-shaped documents, signed under the test PKI ------------------------------------------------------


def _identity(issued):  # type: ignore[no-untyped-def]
    return SigningIdentity(issued.key, issued.cert, issued.chain)


def cufe(label: str) -> str:
    return hashlib.sha384(label.encode()).hexdigest()


CUFE = cufe("fuzz")
NUMBER = "SETP990000042"


def signed_by(xml: bytes, issued) -> bytes:  # type: ignore[no-untyped-def]
    """xml signed by issued, the same bytes every time (Hypothesis needs a strategy to draw the same from the same
    choices); an edit that left it unreadable stays unsigned (the signer refuses it, a sender would not)."""
    return _signed(xml, issued.cert.serial_number)


@lru_cache(maxsize=8192)
def _signed(xml: bytes, serial: int) -> bytes:
    p = pki()
    issued = next(i for i in (p.supplier, p.dian, p.company) if i.cert.serial_number == serial)
    try:
        return sign(xml, _identity(issued), signing_time=SIGNED_AT, signature_id="xmldsig-fuzz")
    except SignatureError:
        return xml


@cache
def signed_invoice() -> bytes:
    return signed_by(invoice_xml(number=NUMBER, cufe=CUFE, lines=2), pki().supplier)


@cache
def dian_answer() -> bytes:
    return signed_by(application_response_xml(number=NUMBER, cufe=CUFE), pki().dian)


def event_xml(code: str = "030") -> bytes:
    return application_response_xml(code=code, number=NUMBER, cufe=CUFE, sender_nit=COMPANY_NIT,
                                    receiver_nit=SUPPLIER_NIT, notifications=())  # fmt: skip


@cache
def signed_event(code: str = "030") -> bytes:
    return signed_by(event_xml(code), pki().company)


def attached(invoice: bytes | None = None, answer: bytes | None = None) -> bytes:
    return attached_document_xml(invoice or signed_invoice(), answer or dian_answer(), number=NUMBER, cufe=CUFE)


def zipped(*members: tuple[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, data in members:
            archive.writestr(zipfile.ZipInfo(name, (2025, 3, 3, 9, 0, 0)), data, compress_type=method)
    return out.getvalue()


def mailed(*attachments: tuple[str, bytes], subject: str = "900123456;PROVEEDOR;SETP990000042;01;PROVEEDOR") -> bytes:
    message = EmailMessage()
    message["From"] = "Proveedor <facturas@proveedor.test>"
    message["To"] = "recepcion@empresa.test"
    message["Subject"] = subject
    message["Message-ID"] = "<fuzz-1@proveedor.test>"
    message["Date"] = email.utils.format_datetime(SIGNED_AT)
    message.set_content("Adjuntamos la factura electrónica.\n")
    for name, data in attachments:
        kind = ("application", "zip") if name.endswith(".zip") else ("application", "xml")
        message.add_attachment(data, maintype=kind[0], subtype=kind[1], filename=name)
    message.set_boundary("==fuzz-boundary==")  # not a random one: the same choices must draw the same bytes
    return message.as_bytes()


# --- strategies ---------------------------------------------------------------------------------------------------

# Values a hostile or sloppy sender puts in a field: times and dates out of range or in other scripts' digits,
# numbers too long or not numbers, identifiers of the wrong shape, markup. Each kind of field draws mostly values of
# its own shape (a time gets times with hours, seconds and offsets out of range), then anything at all.
_DIGITS = "0123456789٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹०१२३४५६७८९０１２３４５６７８９"
_FOREIGN = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
_ANY = st.one_of(
    st.sampled_from(["", " ", "-", ".", "a" * 120, "G" * 96, "&amp;", "<![CDATA[x]]>", "\u202e", "\ufeff", "\x7f"]),
    st.text(alphabet=_DIGITS + ":-+.,eE TZ/", max_size=30),
    st.text(max_size=40),
)  # fmt: skip


def _foreign(draw: st.DrawFn, value: str) -> str:
    return value.translate(_FOREIGN) if draw(st.integers(0, 7)) == 0 else value


@st.composite
def _times(draw: st.DrawFn) -> str:
    hour, minute, second = draw(st.integers(0, 30)), draw(st.integers(0, 70)), draw(st.integers(0, 70))
    value = f"{hour:02d}:{minute:02d}:{second:02d}"
    if draw(st.booleans()):
        value += "." + "1" * draw(st.integers(1, 12))
    zone = draw(st.sampled_from(["", "Z", "sign", "sign", "sign"]))
    if zone == "sign":
        zone = f"{draw(st.sampled_from('+-'))}{draw(st.integers(0, 30)):02d}:{draw(st.integers(0, 70)):02d}"
    return _foreign(draw, value + zone)


@st.composite
def _dates(draw: st.DrawFn) -> str:
    year, month, day = draw(st.integers(0, 99999)), draw(st.integers(0, 14)), draw(st.integers(0, 33))
    shape = draw(st.sampled_from(["{y:04d}-{m:02d}-{d:02d}", "{d:02d}/{m:02d}/{y:04d}", "{y}{m:02d}{d:02d}",
                                  "{y:04d}-{m:02d}-{d:02d}T00:00:00", "{y:04d}-{m}-{d}"]))  # fmt: skip
    return _foreign(draw, shape.format(y=year, m=month, d=day))


_NUMBERS = st.one_of(
    st.sampled_from(["1e999999", "-1e-999999", "NaN", "-NaN", "Infinity", "-0", "1" * 400, "0." + "0" * 300 + "1",
                     "١٠٠٫٠٠", "1,000.00", "1.000,00", "1_000", "+5", "0x10", "１００", "9" * 40 + ".99", "1E+2"]),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.integers(-(10**30), 10**30).map(str),
)  # fmt: skip
_KINDS = {
    b"IssueTime": _times(), b"IssueDate": _dates(), b"DueDate": _dates(),
    b"PayableAmount": _NUMBERS, b"TaxAmount": _NUMBERS, b"Percent": _NUMBERS, b"InvoicedQuantity": _NUMBERS,
    b"LineExtensionAmount": _NUMBERS, b"PriceAmount": _NUMBERS, b"TaxInclusiveAmount": _NUMBERS,
    b"LineCountNumeric": _NUMBERS,
}  # fmt: skip
_FIELD = re.compile(
    rb"<cbc:(IssueTime|IssueDate|DueDate|UUID|ID|PayableAmount|TaxAmount|Percent|CompanyID|InvoicedQuantity|"
    rb"LineExtensionAmount|PriceAmount|LineCountNumeric|DocumentCurrencyCode|InvoiceTypeCode|ProfileExecutionID|"
    rb"ResponseCode|PaymentMeansCode|TaxInclusiveAmount|ValidationDate|ValidationTime)([^>]*)>([^<]*)</cbc:\1>"
)
_KINDS[b"ValidationDate"], _KINDS[b"ValidationTime"] = _KINDS[b"IssueDate"], _KINDS[b"IssueTime"]


@st.composite
def edited_field(draw: st.DrawFn, xml: bytes) -> bytes:
    """xml with one or two of its fields' values (or an attribute block) replaced by hostile values."""
    for _ in range(draw(st.integers(1, 2))):
        fields: dict[bytes, list[re.Match[bytes]]] = {}
        for found in _FIELD.finditer(xml):
            fields.setdefault(found.group(1), []).append(found)
        if not fields:
            return xml
        match = draw(st.sampled_from(fields[draw(st.sampled_from(sorted(fields)))]))  # a field name, then which one
        own = _KINDS.get(match.group(1))
        value = draw(own) if own is not None and draw(st.integers(0, 3)) else draw(_ANY)
        raw = draw(st.integers(0, 9)) == 0  # now and then unescaped: markup of its own
        if draw(st.integers(0, 5)) == 0:  # the attributes instead (currencyID, schemeID, unitCode)
            attrs = f' currencyID="{escape(value, {chr(34): "&quot;"})}"'.encode("utf-8", "surrogatepass")
            xml = xml[: match.start(2)] + attrs + xml[match.end(2) :]
        else:
            text = (value if raw else escape(value)).encode("utf-8", "surrogatepass")
            xml = xml[: match.start(3)] + text + xml[match.end(3) :]
    return xml


_STRUCTURE_OPS = ("remove", "remove", "duplicate", "duplicate", "empty", "swap", "text", "wrap", "comment", "foreign")


@st.composite
def edited_structure(draw: st.DrawFn, xml: bytes) -> bytes:
    """xml with its element tree edited: an element removed, repeated, emptied, swapped with its neighbour, given
    hostile text, wrapped in an unknown element, split by a comment, or moved into another namespace (the signature's
    placeholder and what holds it are left alone, so the result can be signed)."""
    root = etree.fromstring(xml)
    for _ in range(draw(st.integers(1, 3))):
        # Held in a list while in use: lxml's element proxies are made afresh once nothing holds them (no id()s).
        keep = [e for e in root.iter() if e.get("Id") == "placeholder"]
        keep += [a for e in keep for a in e.iterancestors()]
        elements = [e for e in root.iter() if isinstance(e.tag, str) and not any(e is k for k in keep)]
        if not elements:
            break
        element = draw(st.sampled_from(elements))
        parent = element.getparent()
        op = draw(st.sampled_from(_STRUCTURE_OPS))
        if op == "remove":
            parent.remove(element)
        elif op == "duplicate":
            for _ in range(draw(st.integers(1, 3))):
                element.addnext(copy.deepcopy(element))
        elif op == "empty":
            element.text = None
            for child in list(element):
                element.remove(child)
        elif op == "swap" and element.getnext() is not None and not any(element.getnext() is k for k in keep):
            element.getnext().addnext(element)
        elif op == "text":  # what XML can hold of a hostile value (lxml refuses control characters)
            value = draw(_ANY)
            element.text = "".join(c for c in value if c in "\t\n\r" or " " <= c < "\ud800" or "\ue000" <= c < "\ufffe")
        elif op == "wrap":
            wrapper = etree.Element("{urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2}X")
            element.addprevious(wrapper)
            wrapper.append(element)
        elif op == "comment" and element.text:
            cut = draw(st.integers(0, len(element.text)))
            head, tail = element.text[:cut], element.text[cut:]
            element.text = head
            comment = etree.Comment("x")
            comment.tail = tail
            element.insert(0, comment)
        elif op == "foreign":
            element.tag = "{urn:x-otro}" + etree.QName(element).localname
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@st.composite
def documents(draw: st.DrawFn) -> tuple[str, bytes]:
    """(a name, the XML bytes) of a document a supplier mails, possibly with a signed field edited."""
    kind = draw(st.sampled_from(["attached", "attached", "bare", "event", "answer", "attached_no_answer"]))
    # 0: as built; 1: a field edited before signing (the value gets past the signature); 2: after (breaks it)
    edit = draw(st.sampled_from([0, 1, 1, 1, 2]))
    if kind == "event":
        code = draw(st.sampled_from(["030", "031", "032", "033", "034"]))
        if edit == 1:
            edit_one = edited_structure if draw(st.booleans()) else edited_field
            return "ar.xml", signed_by(draw(edit_one(event_xml(code))), pki().company)
        xml = signed_event(code)
        return "ar.xml", draw(edited_field(xml)) if edit else xml
    if kind == "answer":
        return "ar.xml", dian_answer() if not edit else draw(edited_field(dian_answer()))
    invoice = signed_invoice()
    answer = dian_answer()
    if edit == 1:
        edit_one = edited_structure if draw(st.integers(0, 2)) == 0 else edited_field
        unsigned = invoice_xml(number=NUMBER, cufe=CUFE, lines=2)
        if draw(st.booleans()):
            invoice = signed_by(draw(edit_one(unsigned)), pki().supplier)
        else:
            target = application_response_xml(number=NUMBER, cufe=CUFE)
            answer = signed_by(draw(edit_one(target)), pki().dian)
    elif edit == 2:
        invoice = draw(edited_field(invoice))
    if kind == "bare":
        return "fv.xml", invoice
    xml = attached_document_xml(invoice, None if kind == "attached_no_answer" else answer, number=NUMBER, cufe=CUFE)
    if draw(st.integers(0, 3)) == 0:
        xml = draw(edited_field(xml))  # the unsigned container's own fields
    return "ad.xml", xml


MEMBER_NAMES = st.one_of(
    st.sampled_from(["", "/", "a/", "../ad.xml", "/etc/ad.xml", "C:\\ad.xml", "a\\..\\ad.xml", "ad\x00.xml",
                     "x" * 300 + ".xml", "anexos/", "ad.xml/", "ñandú.xml", "ad.XML", "z.zip", "ad.eml"]),
    st.text(max_size=20),
)  # fmt: skip


def _patch(data: bytearray, offset: int, fmt: str, value: int) -> None:
    size = struct.calcsize(fmt)
    if 0 <= offset <= len(data) - size:
        data[offset : offset + size] = struct.pack(fmt, value % (1 << (8 * size)))


# Zip header fields (offset inside its record, struct format) that zipfile reads and trusts.
_LOCAL = {"version": (4, "<H"), "flags": (6, "<H"), "method": (8, "<H"), "crc": (14, "<I"), "csize": (18, "<I"),
          "usize": (22, "<I"), "name_len": (26, "<H"), "extra_len": (28, "<H")}  # fmt: skip
_CENTRAL = {"made_by": (4, "<H"), "version": (6, "<H"), "flags": (8, "<H"), "method": (10, "<H"), "crc": (16, "<I"),
            "csize": (20, "<I"), "usize": (24, "<I"), "name_len": (28, "<H"), "extra_len": (30, "<H"),
            "comment_len": (32, "<H"), "disk": (34, "<H"), "attrs": (38, "<I"), "offset": (42, "<I")}  # fmt: skip
_END = {"disk": (4, "<H"), "cd_disk": (6, "<H"), "entries_here": (8, "<H"), "entries": (10, "<H"),
        "cd_size": (12, "<I"), "cd_offset": (16, "<I"), "comment_len": (20, "<H")}  # fmt: skip
_INTERESTING = st.one_of(st.sampled_from([0, 1, 8, 12, 14, 20, 45, 63, 99, 235, 0x7FFF, 0xFFFF, 0xFFFFFFFF]),
                         st.integers(0, 0xFFFFFFFF))  # fmt: skip


@st.composite
def zip_edits(draw: st.DrawFn, data: bytes) -> bytes:
    """The zip with header fields of its records set to other values (what a broken or hostile zipper writes)."""
    edited = bytearray(data)
    for _ in range(draw(st.integers(1, 3))):
        record = draw(st.sampled_from([(b"PK\x03\x04", _LOCAL), (b"PK\x01\x02", _CENTRAL), (b"PK\x05\x06", _END)]))
        signature, fields = record
        starts = [m.start() for m in re.finditer(re.escape(signature), bytes(edited))]
        if not starts:
            continue
        start = draw(st.sampled_from(starts))
        offset, fmt = fields[draw(st.sampled_from(sorted(fields)))]
        value = draw(_INTERESTING)
        if draw(st.booleans()):  # near the real value: off by a little
            size = struct.calcsize(fmt)
            if start + offset + size <= len(edited):
                real = struct.unpack(fmt, edited[start + offset : start + offset + size])[0]
                value = real + draw(st.integers(-64, 64))
        _patch(edited, start + offset, fmt, value)
    return bytes(edited)


@st.composite
def containers(draw: st.DrawFn) -> tuple[str, bytes]:
    """(name, bytes) of what arrives: a loose XML, a zip (nested, edited, oddly named members), or a mail of those."""
    name, xml = draw(documents())
    shape = draw(st.sampled_from(["mail_zip", "mail_zip", "mail_xml", "zip", "xml", "nested", "forwarded"]))
    if shape == "xml":
        return name, xml
    members = [(draw(MEMBER_NAMES) if draw(st.integers(0, 3)) == 0 else name, xml)]
    if draw(st.booleans()):
        members.append(("fv.pdf", b"%PDF-1.4\n%%EOF\n"))
    method = draw(st.sampled_from([zipfile.ZIP_DEFLATED, zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED,
                                   zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]))  # fmt: skip
    try:
        archive = zipped(*members, method=method)
    except (ValueError, OSError):  # a name zipfile refuses to write: mail the document loose instead
        archive = zipped((name, xml))
    if shape == "nested":
        archive = zipped(("interno.zip", archive))
    if draw(st.integers(0, 2)) == 0:
        archive = draw(zip_edits(archive))
    if shape == "zip":
        return "z.zip", archive
    if shape == "mail_xml":
        return "correo.eml", mailed((name, xml))
    if shape == "forwarded":
        inner = email.message_from_bytes(mailed(("z.zip", archive)))
        outer = EmailMessage()
        outer["From"] = "reenvio@empresa.test"
        outer["Subject"] = "RV: factura"
        outer.set_content("Reenvío")
        outer.add_attachment(inner)
        outer.set_boundary("==fuzz-outer==")
        return "correo.eml", outer.as_bytes()
    return "correo.eml", mailed(("z.zip", archive))


_HEADERS = st.sampled_from([
    b"Message-ID: <otro@proveedor.test>", b"Message-ID:", b"Date: Lun, 2 Mar 2026 10:00:00 -05\xe100",
    b"Date: not a date", b"Date: Mon, 2 Mar 2026 25:61:61 +9999", b"From: =?utf-8?q?Jos=C3=A9?= <jose@p.test>",
    b"From: <>", b"From: \xff\xfe@\xff", b"Subject: =?utf-8?b?\xff?=", b"Subject: =?iso-8859-1?q?Factura_n=BA_5?=",
    b"Subject: " + b"x" * 2000, b"Subject: =?utf-8?q?a=00b?=", b"Content-Type: multipart/mixed; boundary=\"\"",
    b"Content-Type: multipart/mixed", b"Content-Transfer-Encoding: x-uuencode", b"Content-Transfer-Encoding: base64",
    b"Content-Type: message/rfc822", b"MIME-Version: 1.0", b"Content-Disposition: attachment; filename*=utf-8''%ff%fe",
    b"Content-Type: application/zip; name*0*=us-ascii''a; name*1=.zip",
])  # fmt: skip


@st.composite
def header_injection(draw: st.DrawFn, data: bytes) -> bytes:
    """The mail with headers added at the top or among its parts' headers."""
    lines = [draw(_HEADERS) for _ in range(draw(st.integers(1, 4)))]
    block = b"\r\n".join(lines) + b"\r\n"
    if draw(st.booleans()):
        return block + data
    marks = [m.end() for m in re.finditer(rb"\n(?=Content-Type:)", data)]
    if not marks:
        return block + data
    at = draw(st.sampled_from(marks))
    return data[:at] + block + data[at:]


@st.composite
def byte_edits(draw: st.DrawFn, data: bytes) -> bytes:
    """The bytes with a few flipped, cut, repeated or removed (what a broken relay or disk does)."""
    edited = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        if not edited:
            break
        op = draw(st.sampled_from(["flip", "flip", "set", "truncate", "delete", "insert", "repeat"]))
        at = draw(st.integers(0, len(edited) - 1))
        if op == "flip":
            edited[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "set":
            edited[at] = draw(st.sampled_from([0, 0x0A, 0x22, 0x3C, 0x3E, 0x26, 0x80, 0xFF]))
        elif op == "truncate":
            del edited[at:]
        elif op == "delete":
            del edited[at : at + draw(st.integers(1, 64))]
        elif op == "insert":
            edited[at:at] = draw(st.binary(min_size=1, max_size=16))
        else:
            span = bytes(edited[at : at + draw(st.integers(1, 256))])
            edited[at:at] = span * draw(st.integers(1, 8))
    return bytes(edited)


@dataclass(frozen=True)
class Input:
    """One fuzz input: the name it arrives under (it decides mail or file) and its bytes."""

    name: str
    data: bytes

    def __repr__(self) -> str:  # what Hypothesis prints for a falsifying example
        return f"Input({self.name!r}, {len(self.data)} bytes, sha256 {hashlib.sha256(self.data).hexdigest()[:16]})"


@st.composite
def inputs(draw: st.DrawFn) -> Input:
    """A mutated, real-shaped message for the pipeline."""
    name, data = draw(containers())
    if name.endswith(".eml") and draw(st.integers(0, 2)) == 0:
        data = draw(header_injection(data))
    if draw(st.integers(0, 2)) == 0:
        data = draw(byte_edits(data))
    return Input(name, data)


# --- the corpus: every input a fuzzer found, kept as a regression test -------------------------------------------


def corpus_files() -> list[Path]:
    """The corpus inputs, by name (README.md and known.toml describe them and are not inputs)."""
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.iterdir() if p.is_file() and p.suffix in {".eml", ".zip", ".xml", ".bin"})


def corpus_name(path: Path) -> str:
    """The name the input arrives under: its file name without the leading finding label (``label--name.ext``)."""
    return path.name.split("--", 1)[-1] if "--" in path.name else path.name


def signature(error: BaseException) -> str:
    """What tells one finding from another: the step, the exception's type and its message with numbers blanked
    (``negative seek value -14`` and ``-55`` are one finding)."""
    step = error.step if isinstance(error, Finding) else "pipeline"
    cause = error.__cause__ if isinstance(error, Finding) and error.__cause__ else error
    kind = "hidden" if isinstance(error, Finding) and isinstance(error.error, str) else type(cause).__name__
    message = str(error.error) if isinstance(error, Finding) and isinstance(error.error, str) else str(cause)
    return f"{step}|{kind}|{re.sub(r'[0-9]+', 'N', message)[:100]}"


def save(found: Input, error: BaseException, folder: Path = CORPUS) -> Path | None:
    """Keep a failing input in the corpus as ``<step>-<exception>-<finding>-<input>--<name>`` (the finding and the
    input as short hashes); None when the corpus holds that input, or another input of the same finding, already."""
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(found.data).hexdigest()[:12]
    finding = hashlib.sha256(signature(error).encode()).hexdigest()[:8]
    if any(digest in p.name or f"-{finding}-" in p.name for p in folder.iterdir()):
        return None
    step, kind, _ = signature(error).split("|", 2)
    label = re.sub(r"[^A-Za-z0-9]+", "-", f"{step}-{kind}").strip("-").lower()
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", found.name) or "input.bin"
    if not safe.endswith((".eml", ".zip", ".xml")):
        safe += ".bin"
    path = folder / f"{label}-{finding}-{digest}--{safe}"
    path.write_bytes(found.data)
    return path
