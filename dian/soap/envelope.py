"""The SOAP 1.2 requests of DIAN's web service, written as text from a table read once from the WSDL (issue 21).

zeep reads the packaged WSDL once per process (:func:`operations`): for every operation of the binding, its
``wsaw:Action``, the wrapper element and its parameters in schema order with their XSD types. zeep is the right tool
for that — it resolves the WSDL's messages, bindings and imported schemas the way the WSDL means them, so a new
operation (GetDocumentInfo) is one WSDL edit. It is not used per call: building zeep's object tree, serializing it
and re-parsing it for the WS-Security plugin cost more than everything else a call does. A request is one string
format: the signed header from :class:`dian.soap.wsse.WsSecurity` and the body written from the table.
"""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dian.soap.wsse import ENVELOPE_NAMESPACES, WsSecurity, xml_text

__all__ = ["BINDING", "WCF", "WSDL_PATH", "Operation", "Parameter", "envelope", "operations"]

WSDL_PATH = Path(__file__).with_name("wsdl") / "WcfDianCustomerServices.wsdl"
WCF = "http://wcf.dian.colombia"
BINDING = f"{{{WCF}}}WSHttpBinding_IWcfDianCustomerServices"
_BASE64 = "{http://www.w3.org/2001/XMLSchema}base64Binary"


@dataclass(frozen=True)
class Parameter:
    """One parameter of an operation's wrapper element: its name and whether it travels as base64."""

    name: str
    base64: bool


@dataclass(frozen=True)
class Operation:
    """One WSDL operation as a request needs it: action, wrapper element name, parameters in schema order."""

    name: str
    action: str
    parameters: tuple[Parameter, ...]
    content_type: str

    def body(self, params: dict[str, Any]) -> str:
        """The ``s:Body`` element (text) of a call with ``params`` (unknown names are refused, None is left out)."""
        unknown = set(params) - {p.name for p in self.parameters}
        if unknown:
            raise TypeError(f"{self.name} has no parameter {', '.join(sorted(unknown))}")
        parts = [f'<s:Body><wcf:{self.name} xmlns:wcf="{WCF}">']
        for parameter in self.parameters:
            value = params.get(parameter.name)
            if value is None:
                continue
            text = base64.b64encode(value).decode("ascii") if parameter.base64 else xml_text(str(value))
            parts.append(f"<wcf:{parameter.name}>{text}</wcf:{parameter.name}>")
        parts.append(f"</wcf:{self.name}></s:Body>")
        return "".join(parts)


_operations: dict[str, Operation] | None = None
_lock = threading.Lock()


def operations() -> dict[str, Operation]:
    """The binding's operations by name, read from the packaged WSDL once per process."""
    global _operations
    with _lock:
        if _operations is None:
            _operations = _read_wsdl()
        return _operations


def _read_wsdl() -> dict[str, Operation]:
    import zeep
    from zeep.transports import Transport
    from zeep.wsdl import Document

    # Hostile input is normal input (DESIGN.md 5), even for our own file: no DTD, no entities, no network.
    settings = zeep.Settings(strict=True, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    document = Document(str(WSDL_PATH), Transport(), settings=settings)
    binding = document.bindings[BINDING]
    found: dict[str, Operation] = {}
    for name, operation in binding._operations.items():
        wrapper = operation.input.body.type
        parameters = tuple(
            Parameter(name=element.attr_name, base64=getattr(element.type, "qname", None) == _BASE64)
            for _, element in wrapper.elements
        )
        action = operation.abstract.wsa_action or operation.soapaction
        found[name] = Operation(
            name=name,
            action=action,
            parameters=parameters,
            content_type=f'application/soap+xml; charset=utf-8; action="{action}"',
        )
    return found


def envelope(operation: Operation, params: dict[str, Any], *, signer: WsSecurity, to: str) -> bytes:
    """The whole request: SOAP 1.2 envelope, signed WS-Addressing/WS-Security header, body."""
    body = operation.body(params)
    header = signer.header(action=operation.action, to=to)
    return f"<s:Envelope {ENVELOPE_NAMESPACES}>{header}{body}</s:Envelope>".encode()
