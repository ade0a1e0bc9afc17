"""Reading DIAN's SOAP 1.2 answers: the operation's result element, a SOAP fault, or a transport error.

The same outcomes zeep gave (issue 21 took zeep off the hot path): a ``s:Fault`` is :class:`DianFault` with its code,
subcodes (``{namespace}local``) and reason; an answer without a SOAP envelope, or a non-200 status without a fault
(a proxy's error page, well-formed or not), is :class:`DianTransportError`, retryable for 5xx, 408, 429; an
envelope whose body is not the operation's answer is an unreadable answer, not retryable. Answers are parsed by
``dian.xmlsafe.parse_xml`` (no DTD, no entities, bounded size and depth: hostile input is normal input).
"""

from __future__ import annotations

from lxml import etree

from dian.errors import ParseError
from dian.soap.envelope import WCF
from dian.soap.errors import DianFault, DianTransportError
from dian.soap.wsse import SOAP12
from dian.xmlsafe import parse_xml

__all__ = ["read_reply"]

_ENVELOPE = f"{{{SOAP12}}}Envelope"
_BODY = f"{{{SOAP12}}}Body"
_FAULT = f"{{{SOAP12}}}Fault"


def _retryable(status: int | None) -> bool:
    return status is None or status >= 500 or status in (408, 429)


def _no_answer(operation: str, status: int) -> DianTransportError:
    return DianTransportError(
        f"{operation}: HTTP {status} without a SOAP answer", status=status, retryable=_retryable(status)
    )


def read_reply(operation: str, status: int, content: bytes) -> etree._Element | None:
    """The ``{operation}Result`` element of the answer (None when absent or nil); raise on faults and failures."""
    if not content:
        raise _no_answer(operation, status)
    try:
        root = parse_xml(content)
    except ParseError as exc:
        if status != 200:
            raise _no_answer(operation, status) from exc
        raise DianTransportError(f"{operation}: unreadable answer: {exc}", status=status, retryable=False) from exc
    body = root.find(_BODY) if root.tag == _ENVELOPE else None
    if body is None:
        if status != 200:
            raise _no_answer(operation, status)
        raise DianTransportError(
            f"{operation}: unreadable answer: no SOAP 1.2 envelope", status=status, retryable=False
        )
    fault = body.find(_FAULT)
    if fault is not None:
        raise _fault(fault)
    if status != 200:
        raise _no_answer(operation, status)
    wrapper = body.find(f"{{{WCF}}}{operation}Response")
    if wrapper is None:
        raise DianTransportError(
            f"{operation}: unreadable answer: the body is not a {operation}Response", status=status, retryable=False
        )
    result = wrapper.find(f"{{{WCF}}}{operation}Result")
    if result is None or result.get("{http://www.w3.org/2001/XMLSchema-instance}nil") in ("true", "1"):
        return None
    return result


def _fault(fault: etree._Element) -> DianFault:
    ns = {"s": SOAP12}
    code = (fault.findtext("s:Code/s:Value", namespaces=ns) or "").strip() or None
    reason = " ".join((fault.findtext("s:Reason/s:Text", namespaces=ns) or "").split())
    subcodes = []
    subcode = fault.find("s:Code/s:Subcode", namespaces=ns)
    while subcode is not None:
        value = subcode.find("s:Value", namespaces=ns)
        text = (value.text or "").strip() if value is not None else ""
        if text:
            prefix, _, local = text.rpartition(":")
            namespace = value.nsmap.get(prefix or None) if value is not None else None
            subcodes.append(f"{{{namespace}}}{local}" if namespace else text)
        subcode = subcode.find("s:Subcode", namespaces=ns)
    return DianFault(reason, code=code, subcodes=tuple(subcodes))
