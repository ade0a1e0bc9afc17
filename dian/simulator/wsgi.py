"""The simulator's HTTP face: a werkzeug WSGI application speaking DIAN's SOAP 1.2 (dian-facts 6).

``GET …/WcfDianCustomerServices.svc?wsdl`` serves the WSDL with this server's address; ``POST`` checks the
WS-Security header (fault otherwise), dispatches on the body element, and answers in DIAN's shapes (the data-contract
namespaces, ``i:nil``, an unsigned Timestamp in the reply header). ``/_sim/…`` is the admin API (loopback only):
``GET /_sim/health``, ``GET|POST|DELETE /_sim/faults``, ``POST /_sim/seed``, and RADIAN's counterparts:
``POST /_sim/invoices``, ``GET /_sim/invoices/<cufe>``, ``POST /_sim/counterparts`` (counterparts.py); what we issue:
``/_sim/test-sets``, ``/_sim/contingencies``, ``/_sim/buyer-policy`` (issued_admin.py).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import socket
import struct
from collections.abc import Callable, Iterable
from typing import Any

from lxml import etree
from werkzeug.wrappers import Request, Response

from dian.errors import ParseError
from dian.simulator.core import Simulator
from dian.simulator.document_info import DocumentInfoReply, write_document_info
from dian.simulator.issued_admin import issued_admin
from dian.simulator.replies import AcquirerReply, EmailsReply, RangesReply, Reply, UploadReply, XmlReply
from dian.soap.client import WSDL_PATH
from dian.soap.packaging import PackagingError, read_zip
from dian.soap.wsse import SOAP12, WSA, WSSE, WSU, SecurityHeaderError, check_request
from dian.trust import certificate_nit
from dian.xmlsafe import parse_xml

__all__ = ["SERVICE_PATH", "SimulatorApp"]

SERVICE_PATH = "/WcfDianCustomerServices.svc"
WCF = "http://wcf.dian.colombia"
ACTION = "http://wcf.dian.colombia/IWcfDianCustomerServices/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
ARRAYS = "http://schemas.microsoft.com/2003/10/Serialization/Arrays"
DC = "http://schemas.datacontract.org/2004/07/"
FAULT_ACTION = "http://www.w3.org/2005/08/addressing/soap/fault"
MAX_BODY = 30 * 1024 * 1024
OPERATIONS = frozenset(
    {
        "SendBillSync",
        "SendBillAsync",
        "SendTestSetAsync",
        "SendEventUpdateStatus",
        "GetStatus",
        "GetStatusZip",
        "GetStatusEvent",
        "GetXmlByDocumentKey",
        "GetNumberingRange",
        "GetExchangeEmails",
        "GetAcquirer",
        "GetDocumentInfo",
    }
)


class _Drop(ConnectionAbortedError):
    """Raised to make werkzeug drop the connection without writing an answer (it treats it as a client drop)."""


def _reset(environ: dict) -> None:
    sock = environ.get("werkzeug.socket")
    if isinstance(sock, socket.socket):
        # SO_LINGER 0: closing sends RST instead of FIN, as a crashed peer or a middlebox does.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)
    raise _Drop("fault injection: connection dropped")


class _SoapFault(Exception):
    def __init__(self, code: str, subcode: tuple[str, str] | None, reason: str) -> None:
        self.code, self.subcode, self.reason = code, subcode, reason
        super().__init__(reason)


class SimulatorApp:
    """The WSGI application; ``max_clock_skew`` bounds how far a Timestamp may sit from the simulator's clock."""

    def __init__(self, simulator: Simulator, *, clock_skew: dt.timedelta = dt.timedelta(minutes=5)) -> None:
        self.simulator = simulator
        self.clock_skew = clock_skew
        self._wsdl = WSDL_PATH.read_bytes()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request = Request(environ)
        response = self.dispatch(request, environ)
        return response(environ, start_response)

    # -- routing ------------------------------------------------------------------------------------------------

    def dispatch(self, request: Request, environ: dict) -> Response:
        """Route one request."""
        if request.path.startswith("/_sim/"):
            return self._admin(request)
        if request.path.rstrip("/") != SERVICE_PATH:
            return Response("not found\n", status=404, mimetype="text/plain")
        if request.method == "GET":
            if "wsdl" in {k.lower() for k in request.args}:
                address = request.host_url.rstrip("/") + SERVICE_PATH
                body = self._wsdl.replace(
                    b"https://vpfe-hab.dian.gov.co/WcfDianCustomerServices.svc", address.encode("utf-8")
                )
                return Response(body, mimetype="text/xml")
            return Response("WcfDianCustomerServices (simulador de la DIAN)\n", mimetype="text/plain")
        if request.method != "POST":
            return Response("method not allowed\n", status=405, mimetype="text/plain")
        return self._soap(request, environ)

    def _admin(self, request: Request) -> Response:
        remote = request.remote_addr or ""
        if remote not in {"127.0.0.1", "::1"} and not remote.startswith("127."):
            return Response("forbidden\n", status=403, mimetype="text/plain")
        faults = self.simulator.faults
        if request.path == "/_sim/health":
            return _json({"ok": True, "ca": str(self.simulator.ca_certificate_path)})
        if request.path == "/_sim/faults":
            if request.method == "GET":
                return _json({"faults": faults.pending()})
            if request.method == "DELETE":
                faults.clear()
                return _json({"faults": []})
            if request.method == "POST":
                try:
                    spec = json.loads(request.get_data(as_text=True) or "{}")
                    fault = faults.add(
                        str(spec.get("operation", "*")),
                        str(spec["kind"]),
                        seconds=float(spec.get("seconds", 0.0)),
                        count=None if spec.get("count", 1) is None else int(spec.get("count", 1)),
                    )
                except (KeyError, ValueError, TypeError) as exc:
                    return _json({"error": str(exc)}, status=400)
                return _json({"added": fault.__dict__}, status=201)
        if request.path.startswith(("/_sim/invoices", "/_sim/counterparts")):
            return self._radian_admin(request)
        if request.path.startswith(("/_sim/test-sets", "/_sim/contingencies", "/_sim/buyer-policy")):
            return issued_admin(self.simulator, request)
        if request.path == "/_sim/seed" and request.method == "POST":
            try:
                self.simulator.seed(json.loads(request.get_data(as_text=True)))
            except (KeyError, ValueError, TypeError) as exc:
                return _json({"error": str(exc)}, status=400)
            return _json({"seeded": True})
        return Response("not found\n", status=404, mimetype="text/plain")

    def _radian_admin(self, request: Request) -> Response:
        """The counterparts and the invoices they act on (counterparts.py; shapes in its module docstring)."""
        from dian.simulator.counterparts import CounterpartError

        parties = self.simulator.counterparts
        try:
            if request.path.startswith("/_sim/invoices/") and request.method == "GET":
                return _json(parties.describe(request.path.removeprefix("/_sim/invoices/").strip("/")))
            if request.method != "POST" or request.path.rstrip("/") not in ("/_sim/invoices", "/_sim/counterparts"):
                return Response("not found\n", status=404, mimetype="text/plain")
            spec = json.loads(request.get_data(as_text=True) or "{}")
            if not isinstance(spec, dict):
                raise CounterpartError("expected a JSON object")
            if request.path.rstrip("/") == "/_sim/invoices":
                if "xml_text" in spec:
                    xml = str(spec["xml_text"]).encode("utf-8")
                else:
                    xml = base64.b64decode("".join(str(spec.get("xml", "")).split()), validate=True)
                summary, new = parties.register_invoice(xml)
                return _json(summary, status=201 if new else 200)
            outcome = parties.act(spec)
        except CounterpartError as exc:
            status = 404 if request.method == "GET" else 400
            return _json({"error": str(exc)}, status=status)
        except (ValueError, TypeError, binascii.Error) as exc:
            return _json({"error": f"JSON o base64 ilegible: {exc}"}, status=400)
        return _json(outcome.to_json(), status=200 if outcome.reply.is_valid else 422)

    # -- SOAP ---------------------------------------------------------------------------------------------------

    def _soap(self, request: Request, environ: dict) -> Response:
        if (request.content_length or 0) > MAX_BODY:
            return _fault("Sender", None, "El mensaje excede el tamaño permitido.")
        try:
            envelope = parse_xml(request.get_data(cache=False))
        except ParseError as exc:
            return _fault("Sender", None, f"El mensaje no es XML legible: {exc}")
        if envelope.tag != f"{{{SOAP12}}}Envelope":
            return _fault("VersionMismatch", None, "Se esperaba un sobre SOAP 1.2.")
        body = envelope.find(f"{{{SOAP12}}}Body")
        operation_el = next((c for c in body if isinstance(c.tag, str)), None) if body is not None else None
        if operation_el is None or etree.QName(operation_el).namespace != WCF:
            return _fault("Sender", ("a", "ActionNotSupported"), "El cuerpo no contiene una operación del servicio.")
        operation = etree.QName(operation_el).localname
        if operation not in OPERATIONS:
            return _fault("Sender", ("a", "ActionNotSupported"), f"Operación {operation} no soportada.")

        fault = self.simulator.faults.take(operation)
        if fault is not None:
            if fault.kind == "latency":
                self.simulator.faults.wait(fault.seconds)
            elif fault.kind in {"http500", "http503"}:
                self.simulator.issued.service_down(self.simulator.clock())  # DIAN declares a contingency (B.3)
                status = 500 if fault.kind == "http500" else 503
                return Response(f"<html><body>HTTP {status}</body></html>", status=status, mimetype="text/html")
            elif fault.kind == "reset":
                self.simulator.issued.service_down(self.simulator.clock())
                _reset(environ)
            elif fault.kind == "timeout":
                self.simulator.issued.service_down(self.simulator.clock())
                self.simulator.faults.wait(fault.seconds or 30.0)
                _reset(environ)

        now = self.simulator.clock()
        try:
            caller = check_request(envelope, now=now, clock_skew=self.clock_skew)
        except SecurityHeaderError as exc:
            subcode = "MessageExpired" if exc.expired else "InvalidSecurity"
            return _fault("Sender", ("o", subcode), f"Seguridad WS-Security inválida: {exc}")
        chain = self.simulator.trust.evaluate(caller.certificate, at=now)
        if not chain.trusted:
            return _fault("Sender", ("o", "FailedAuthentication"), f"Certificado no aceptado: {chain.detail}")
        if caller.action not in (None, ACTION + operation):
            return _fault(
                "Sender", ("a", "ActionMismatch"), f"wsa:Action {caller.action} no corresponde a {operation}."
            )
        caller_nit = certificate_nit(caller.certificate)
        params = {etree.QName(c).localname: (c.text or "") for c in operation_el if isinstance(c.tag, str)}
        not_final = fault.answer(operation) if fault is not None else None  # a not-final answer (98, 66)
        answer = Reply(False, *not_final, status_message=not_final[1]) if not_final else None
        try:
            result = self._operation(operation, params, caller_nit) if answer is None or fault.processes else answer
        except _SoapFault as exc:
            return _fault(exc.code, exc.subcode, exc.reason)
        result = answer or result
        if fault is None:
            self.simulator.issued.service_up(now)
        response = Response(_envelope(operation, result), content_type="application/soap+xml; charset=utf-8")
        if fault is not None and fault.kind == "drop":
            _reset(environ)  # committed above; the client never hears about it
        return response

    def _content(self, params: dict[str, str]) -> list:
        try:
            data = base64.b64decode("".join(params.get("contentFile", "").split()), validate=True)
        except (binascii.Error, ValueError):
            raise _SoapFault("Sender", None, "contentFile no es base64.") from None
        return read_zip(data)

    def _operation(self, operation: str, params: dict[str, str], caller_nit: str | None) -> Any:
        sim = self.simulator
        if operation in {"SendBillSync", "SendEventUpdateStatus", "SendBillAsync", "SendTestSetAsync"}:
            try:
                members = self._content(params)
            except PackagingError as exc:
                if operation in {"SendBillAsync", "SendTestSetAsync"}:
                    return UploadReply(None, ((None, f"Error al leer el archivo zip: {exc}", params.get("fileName")),))
                return Reply(False, "89", f"Error al leer el archivo zip: {exc}", errors=(str(exc),))
            if operation == "SendBillSync":
                return sim.send_bill_sync(members, caller_nit=caller_nit)
            if operation == "SendEventUpdateStatus":
                return sim.send_event(members, caller_nit=caller_nit)
            return sim.send_bill_async(members, caller_nit=caller_nit, test_set_id=params.get("testSetId"))
        if operation == "GetStatus":
            return sim.get_status(params.get("trackId", ""))
        if operation == "GetStatusZip":
            return sim.get_status_zip(params.get("trackId", ""))
        if operation == "GetStatusEvent":
            return sim.get_status_event(params.get("trackId", ""))
        if operation == "GetXmlByDocumentKey":
            return sim.get_xml_by_document_key(params.get("trackId", ""), caller_nit=caller_nit)
        if operation == "GetNumberingRange":
            return sim.get_numbering_range(
                params.get("accountCode", ""),
                params.get("accountCodeT", ""),
                params.get("softwareCode", ""),
                caller_nit=caller_nit,
            )
        if operation == "GetExchangeEmails":
            return sim.get_exchange_emails()
        if operation == "GetDocumentInfo":
            return sim.radian.document_info(params.get("uuid", ""))
        if operation == "GetAcquirer":
            return sim.get_acquirer(params.get("identificationType", ""), params.get("identificationNumber", ""))
        raise _SoapFault("Sender", ("a", "ActionNotSupported"), operation)  # pragma: no cover


# --------------------------------------------------------------------------------------------------------------
# Serialization in DIAN's shapes (dian-responses/)


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), status=status, mimetype="application/json")


def _head(action: str) -> tuple[etree._Element, etree._Element]:
    envelope = etree.Element(f"{{{SOAP12}}}Envelope", nsmap={"s": SOAP12, "a": WSA, "u": WSU})
    header = etree.SubElement(envelope, f"{{{SOAP12}}}Header")
    action_el = etree.SubElement(header, f"{{{WSA}}}Action", {f"{{{SOAP12}}}mustUnderstand": "1"})
    action_el.text = action
    now = dt.datetime.now(dt.UTC)
    security = etree.SubElement(header, f"{{{WSSE}}}Security", {f"{{{SOAP12}}}mustUnderstand": "1"}, nsmap={"o": WSSE})
    stamp = etree.SubElement(security, f"{{{WSU}}}Timestamp", {f"{{{WSU}}}Id": "_0"})
    etree.SubElement(stamp, f"{{{WSU}}}Created").text = now.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    later = now + dt.timedelta(minutes=5)
    etree.SubElement(stamp, f"{{{WSU}}}Expires").text = later.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    body = etree.SubElement(envelope, f"{{{SOAP12}}}Body")
    return envelope, body


def _field(parent: etree._Element, ns: str, name: str, value: Any) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ns}}}{name}")
    if value is None:
        element.set(f"{{{XSI}}}nil", "true")
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif isinstance(value, bytes):
        element.text = base64.b64encode(value).decode("ascii")
    else:
        element.text = str(value)
    return element


def _dian_response(parent: etree._Element, reply: Reply, ns: str) -> None:
    errors = etree.SubElement(parent, f"{{{ns}}}ErrorMessage", nsmap={"c": ARRAYS})
    for text in reply.errors:
        etree.SubElement(errors, f"{{{ARRAYS}}}string").text = text
    _field(parent, ns, "IsValid", reply.is_valid)
    _field(parent, ns, "StatusCode", reply.status_code)
    _field(parent, ns, "StatusDescription", reply.status_description)
    _field(parent, ns, "StatusMessage", reply.status_message or None)
    _field(parent, ns, "XmlBase64Bytes", reply.xml)
    _field(parent, ns, "XmlBytes", None)
    _field(parent, ns, "XmlDocumentKey", reply.key)
    _field(parent, ns, "XmlFileName", reply.file_name)


def _envelope(operation: str, result: Any) -> bytes:
    envelope, body = _head(ACTION + operation + "Response")
    wrapper = etree.SubElement(body, f"{{{WCF}}}{operation}Response", nsmap={None: WCF})
    if isinstance(result, Reply) or (isinstance(result, list) and operation == "GetStatusZip"):
        ns = DC + "DianResponse"
        out = etree.SubElement(wrapper, f"{{{WCF}}}{operation}Result", nsmap={"b": ns, "i": XSI})
        if isinstance(result, list):
            for reply in result:
                _dian_response(etree.SubElement(out, f"{{{ns}}}DianResponse"), reply, ns)
        else:
            _dian_response(out, result, ns)
    elif isinstance(result, DocumentInfoReply):
        out = etree.SubElement(
            wrapper, f"{{{WCF}}}{operation}Result", nsmap={"b": DC + "DocumentInfoResponse", "i": XSI}
        )
        write_document_info(out, result)
    elif isinstance(result, UploadReply):
        ns, item_ns = DC + "UploadDocumentResponse", DC + "XmlParamsResponseTrackId"
        out = etree.SubElement(wrapper, f"{{{WCF}}}{operation}Result", nsmap={"b": ns, "i": XSI})
        listing = etree.SubElement(out, f"{{{ns}}}ErrorMessageList", nsmap={"c": item_ns})
        if not result.errors:
            listing.set(f"{{{XSI}}}nil", "true")
        for key, message, file_name in result.errors:
            item = etree.SubElement(listing, f"{{{item_ns}}}XmlParamsResponseTrackId")
            _field(item, item_ns, "DocumentKey", key)
            _field(item, item_ns, "ProcessedMessage", message)
            _field(item, item_ns, "SenderCode", None)
            _field(item, item_ns, "Success", False)
            _field(item, item_ns, "XmlFileName", file_name)
        _field(out, ns, "ZipKey", result.zip_key)
    elif isinstance(result, XmlReply):
        ns = DC + "EventResponse"
        out = etree.SubElement(wrapper, f"{{{WCF}}}{operation}Result", nsmap={"b": ns, "i": XSI})
        _field(out, ns, "Code", result.code)
        _field(out, ns, "Message", result.message)
        _field(out, ns, "ValidationDate", result.validation_date)
        _field(out, ns, "XmlBytesBase64", base64.b64encode(result.xml).decode() if result.xml else None)
    elif isinstance(result, RangesReply):
        ns, item_ns = DC + "NumberRangeResponseList", DC + "NumberRangeResponse"
        out = etree.SubElement(wrapper, f"{{{WCF}}}{operation}Result", nsmap={"b": ns, "i": XSI})
        _field(out, ns, "OperationCode", result.operation_code)
        _field(out, ns, "OperationDescription", result.description)
        listing = etree.SubElement(out, f"{{{ns}}}ResponseList", nsmap={"c": item_ns})
        if not result.ranges:
            listing.set(f"{{{XSI}}}nil", "true")
        for item in result.ranges:
            entry = etree.SubElement(listing, f"{{{item_ns}}}NumberRangeResponse")
            for name in ("ResolutionNumber", "ResolutionDate", "Prefix", "FromNumber", "ToNumber"):
                _field(entry, item_ns, name, item[name])
            for name in ("ValidDateFrom", "ValidDateTo", "TechnicalKey"):
                _field(entry, item_ns, name, item[name])
    elif isinstance(result, EmailsReply):
        ns = DC + "ExchangeEmailResponse"
        out = etree.SubElement(wrapper, f"{{{WCF}}}{operation}Result", nsmap={"b": ns, "i": XSI})
        _field(out, ns, "CsvBase64Bytes", result.csv)
        _field(out, ns, "Message", result.message)
        _field(out, ns, "StatusCode", result.status_code)
        _field(out, ns, "Success", result.success)
    elif isinstance(result, AcquirerReply):
        ns = DC + "Gosocket.Dian.Services.Utils.Common"
        out = etree.SubElement(wrapper, f"{{{WCF}}}{operation}Result", nsmap={"b": ns, "i": XSI})
        _field(out, ns, "Message", result.message)
        _field(out, ns, "ReceiverEmail", result.email)
        _field(out, ns, "ReceiverName", result.name)
        _field(out, ns, "StatusCode", result.status_code)
    else:  # pragma: no cover
        raise TypeError(f"no serializer for {type(result).__name__}")
    return etree.tostring(envelope, encoding="utf-8", xml_declaration=False)


_SUBCODE_NS = {"o": WSSE, "a": WSA}


def _fault(code: str, subcode: tuple[str, str] | None, reason: str) -> Response:
    """A SOAP 1.2 fault over HTTP 500, as WCF answers (dian-facts 6.3)."""
    envelope, body = _head(FAULT_ACTION)
    fault = etree.SubElement(body, f"{{{SOAP12}}}Fault")
    code_el = etree.SubElement(fault, f"{{{SOAP12}}}Code")
    etree.SubElement(code_el, f"{{{SOAP12}}}Value").text = f"s:{code}"
    if subcode is not None:
        prefix, local = subcode
        sub = etree.SubElement(code_el, f"{{{SOAP12}}}Subcode")
        value = etree.SubElement(sub, f"{{{SOAP12}}}Value", nsmap={prefix: _SUBCODE_NS[prefix]})
        value.text = f"{prefix}:{local}"
    reason_el = etree.SubElement(fault, f"{{{SOAP12}}}Reason")
    text = etree.SubElement(reason_el, f"{{{SOAP12}}}Text")
    text.set("{http://www.w3.org/XML/1998/namespace}lang", "es-CO")
    text.text = reason
    return Response(
        etree.tostring(envelope, encoding="utf-8"), status=500, content_type="application/soap+xml; charset=utf-8"
    )
