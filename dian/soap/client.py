"""A typed client for DIAN's WcfDianCustomerServices: zeep for SOAP 1.2 and WS-Addressing, our WS-Security signer.

Every method returns frozen dataclasses (dian.soap.results), never zeep objects. Collaborators are injected: the HTTP
session, the signing identity, the clock. TLS is verified; connect and read timeouts are always set; plain HTTP is
only accepted on the loopback interface (the simulator).

Send operations raise :class:`DianRejected` when DIAN refuses the document; a rejection whose only rule is 90
(documento procesado anteriormente) has ``already_registered`` set and carries DIAN's stored key and original
ApplicationResponse (dian-facts 10). Queries return the answer as it is, whatever its StatusCode.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
import zeep
import zeep.exceptions
from zeep.transports import Transport
from zeep.wsdl import Document

from dian.soap.errors import DianFault, DianRejected, DianTransportError
from dian.soap.packaging import zip_one
from dian.soap.results import (
    Acquirer,
    DianResponse,
    DocumentXml,
    ExchangeEmails,
    NumberingRangeInfo,
    NumberingRanges,
    UploadError,
    UploadResult,
    dian_response_from,
)
from dian.soap.wsse import WsSecurity
from dian.trust import SigningIdentity

__all__ = ["ENDPOINTS", "WSDL_PATH", "DianClient", "endpoint_for", "zip_name_for"]

# dian-facts 6.1.
ENDPOINTS = {
    "habilitacion": "https://vpfe-hab.dian.gov.co/WcfDianCustomerServices.svc",
    "produccion": "https://vpfe.dian.gov.co/WcfDianCustomerServices.svc",
}
WSDL_PATH = Path(__file__).with_name("wsdl") / "WcfDianCustomerServices.wsdl"
BINDING = "{http://wcf.dian.colombia}WSHttpBinding_IWcfDianCustomerServices"

_document: Document | None = None
_document_lock = threading.Lock()


def _settings() -> zeep.Settings:
    # Hostile input is normal input (DESIGN.md 5): no DTD, no entities, no network while parsing answers.
    return zeep.Settings(strict=True, xml_huge_tree=False, forbid_dtd=True, forbid_entities=True, forbid_external=True)


def _wsdl() -> Document:
    """The packaged WSDL, parsed once per process (zeep's Document is read-only once loaded)."""
    global _document
    with _document_lock:
        if _document is None:
            _document = Document(str(WSDL_PATH), Transport(), settings=_settings())
        return _document


def endpoint_for(environment: str, simulator_url: str | None = None) -> str:
    """The service URL of an environment: habilitacion, produccion, or simulator (which needs ``simulator_url``)."""
    if environment == "simulator":
        if not simulator_url:
            raise ValueError("the simulator environment needs the simulator's URL")
        return simulator_url
    try:
        return ENDPOINTS[environment]
    except KeyError:
        raise ValueError(f"unknown DIAN environment {environment!r}: habilitacion, produccion or simulator") from None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def zip_name_for(xml_name: str) -> str:
    """The zip name for a member: ``fv…xml`` → ``z…zip`` (dian-facts 4.3); other names just change extension."""
    stem = xml_name[:-4] if xml_name.lower().endswith(".xml") else xml_name
    if stem[:2].lower() in {"fv", "nc", "nd", "ar", "ad"} and stem[2:].isalnum() and len(stem) == 25:
        stem = "z" + stem[2:]
    return stem + ".zip"


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _opt(value: Any) -> str | None:
    text = _text(value).strip()
    return text or None


class DianClient:
    """One DIAN endpoint, one signing identity. Thread-safe for calls (one zeep service, stateless signer)."""

    def __init__(
        self,
        endpoint: str,
        identity: SigningIdentity,
        *,
        session: requests.Session | None = None,
        verify: bool | str = True,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        clock: Callable[[], dt.datetime] | None = None,
        token_lifetime: dt.timedelta = dt.timedelta(minutes=5),
    ) -> None:
        parts = urlsplit(endpoint)
        if parts.scheme not in {"https", "http"} or not parts.hostname:
            raise ValueError(f"endpoint {endpoint!r}: expected an https:// URL")
        if parts.scheme == "http" and not _is_loopback(parts.hostname):
            raise ValueError(f"endpoint {endpoint!r}: plain HTTP is only allowed on loopback (the simulator)")
        if connect_timeout <= 0 or read_timeout <= 0:
            raise ValueError("connect_timeout and read_timeout must be positive")
        self.endpoint = endpoint
        self.identity = identity
        self.session = session or requests.Session()
        if verify is False:
            raise ValueError("TLS verification cannot be disabled; pass a CA bundle path instead")
        self.session.verify = verify
        self._last = threading.local()
        self.session.hooks.setdefault("response", []).append(self._remember)
        self.timeouts = (connect_timeout, read_timeout)
        kwargs: dict[str, Any] = {}
        if clock is not None:
            kwargs["clock"] = clock
        self.signer = WsSecurity(identity, lifetime=token_lifetime, **kwargs)
        transport = Transport(session=self.session, timeout=connect_timeout, operation_timeout=self.timeouts)
        self._zeep = zeep.Client(_wsdl(), transport=transport, wsse=self.signer, settings=_settings())
        self._service = self._zeep.create_service(BINDING, endpoint)

    def _remember(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._last.status = response.status_code

    def close(self) -> None:
        """Close the HTTP session's connections."""
        self.session.close()

    def __enter__(self) -> DianClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport --------------------------------------------------------------------------------------------

    def _call(self, operation: str, **params: Any) -> Any:
        self._last.status = None
        try:
            return getattr(self._service, operation)(**params)
        except requests.exceptions.SSLError as exc:
            raise DianTransportError(f"{operation}: TLS failed: {exc}", retryable=False) from exc
        except requests.exceptions.Timeout as exc:
            raise DianTransportError(f"{operation}: timed out after {self.timeouts} s: {exc}") from exc
        except requests.exceptions.ConnectionError as exc:
            raise DianTransportError(f"{operation}: connection failed or reset: {exc}") from exc
        except requests.exceptions.RequestException as exc:
            raise DianTransportError(f"{operation}: HTTP request failed: {exc}") from exc
        except zeep.exceptions.Fault as exc:
            status = getattr(self._last, "status", None)
            if exc.code is None and status is not None and status >= 500:
                # An error page that happens to be well-formed XML (a proxy's HTML): no SOAP fault inside.
                raise DianTransportError(
                    f"{operation}: HTTP {status} without a SOAP answer", status=status, retryable=True
                ) from exc
            subcodes = tuple(str(s) for s in (exc.subcodes or ()))
            raise DianFault(str(exc.message), code=str(exc.code) if exc.code else None, subcodes=subcodes) from exc
        except zeep.exceptions.TransportError as exc:
            status = exc.status_code or None
            retryable = status is None or status >= 500 or status in (408, 429)
            raise DianTransportError(
                f"{operation}: HTTP {status} without a SOAP answer", status=status, retryable=retryable
            ) from exc
        except (zeep.exceptions.XMLSyntaxError, zeep.exceptions.XMLParseError, zeep.exceptions.ValidationError) as exc:
            raise DianTransportError(f"{operation}: unreadable answer: {exc}", retryable=False) from exc

    def _send(self, operation: str, **params: Any) -> DianResponse:
        response = dian_response_from(self._call(operation, **params))
        if not response.accepted:
            raise DianRejected(response)
        return response

    # -- sending ----------------------------------------------------------------------------------------------

    def send_bill_sync(self, file_name: str, xml: bytes) -> DianResponse:
        """Send one signed invoice or note (zipped as ``file_name``); DianRejected when DIAN refuses it."""
        return self._send("SendBillSync", fileName=zip_name_for(file_name), contentFile=zip_one(file_name, xml))

    def send_event_update_status(self, file_name: str, xml: bytes) -> DianResponse:
        """Send one signed event ApplicationResponse; DianRejected (maybe ``already_registered``) when refused."""
        return self._send("SendEventUpdateStatus", contentFile=zip_one(file_name, xml))

    def send_bill_async(self, file_name: str, xml: bytes) -> UploadResult:
        """Upload one document for asynchronous validation; poll :meth:`get_status_zip` with the ZipKey."""
        return self._upload(
            self._call("SendBillAsync", fileName=zip_name_for(file_name), contentFile=zip_one(file_name, xml))
        )

    def send_test_set_async(self, file_name: str, xml: bytes, test_set_id: str) -> UploadResult:
        """Upload one document of the habilitación test set ``test_set_id``."""
        return self._upload(
            self._call(
                "SendTestSetAsync",
                fileName=zip_name_for(file_name),
                contentFile=zip_one(file_name, xml),
                testSetId=test_set_id,
            )
        )

    @staticmethod
    def _upload(obj: Any) -> UploadResult:
        errors: list[UploadError] = []
        listing = getattr(obj, "ErrorMessageList", None) if obj is not None else None
        for item in (getattr(listing, "XmlParamsResponseTrackId", None) or []) if listing is not None else []:
            errors.append(
                UploadError(
                    document_key=_opt(item.DocumentKey),
                    message=" ".join(_text(item.ProcessedMessage).split()),
                    sender_code=_opt(item.SenderCode),
                    success=bool(item.Success),
                    file_name=_opt(item.XmlFileName),
                )
            )
        return UploadResult(zip_key=_opt(getattr(obj, "ZipKey", None)), errors=tuple(errors))

    # -- queries ----------------------------------------------------------------------------------------------

    def get_status(self, track_id: str) -> DianResponse:
        """DIAN's status of a document by CUFE/CUDE (StatusCode 66 when DIAN does not know it)."""
        return dian_response_from(self._call("GetStatus", trackId=track_id))

    def get_status_zip(self, zip_key: str) -> tuple[DianResponse, ...]:
        """The answers for the documents of an asynchronous upload."""
        result = self._call("GetStatusZip", trackId=zip_key)
        # zeep unwraps an ArrayOf… result into a plain list.
        items: Sequence[Any] = result if isinstance(result, list) else (getattr(result, "DianResponse", None) or [])
        return tuple(dian_response_from(item) for item in items)

    def get_status_event(self, cufe: str) -> DianResponse:
        """The events registered on an invoice (the answer's ``xml`` lists them; StatusCode 68 for a non-CUFE)."""
        return dian_response_from(self._call("GetStatusEvent", trackId=cufe))

    def get_xml_by_document_key(self, track_id: str) -> DocumentXml:
        """The XML DIAN holds for a CUFE/CUDE (Code 100), if our certificate's NIT may see it (else 401)."""
        import base64
        import binascii

        result = self._call("GetXmlByDocumentKey", trackId=track_id)
        encoded = _text(getattr(result, "XmlBytesBase64", None)).strip()
        try:
            xml = base64.b64decode(encoded, validate=True) if encoded else None
        except (binascii.Error, ValueError):
            raise DianTransportError("GetXmlByDocumentKey: XmlBytesBase64 is not base64", retryable=False) from None
        return DocumentXml(
            code=_text(getattr(result, "Code", None)).strip(),
            message=" ".join(_text(getattr(result, "Message", None)).split()),
            validation_date=_opt(getattr(result, "ValidationDate", None)),
            xml=xml,
        )

    def get_numbering_range(self, account_code: str, account_code_t: str, software_code: str) -> NumberingRanges:
        """The numbering authorizations (with technical keys) of issuer ``account_code`` for a software."""
        result = self._call(
            "GetNumberingRange", accountCode=account_code, accountCodeT=account_code_t, softwareCode=software_code
        )
        listing = getattr(result, "ResponseList", None)
        ranges = tuple(
            NumberingRangeInfo(
                resolution_number=_text(r.ResolutionNumber).strip(),
                resolution_date=_opt(r.ResolutionDate),
                prefix=_text(r.Prefix).strip(),
                from_number=int(r.FromNumber or 0),
                to_number=int(r.ToNumber or 0),
                valid_from=_opt(r.ValidDateFrom),
                valid_to=_opt(r.ValidDateTo),
                technical_key=_opt(r.TechnicalKey),
            )
            for r in ((getattr(listing, "NumberRangeResponse", None) or []) if listing is not None else [])
        )
        return NumberingRanges(
            operation_code=_text(getattr(result, "OperationCode", None)).strip(),
            description=" ".join(_text(getattr(result, "OperationDescription", None)).split()),
            ranges=ranges,
        )

    def get_exchange_emails(self) -> ExchangeEmails:
        """The CSV of reception e-mails registered with DIAN (dian-facts 4.1)."""
        result = self._call("GetExchangeEmails")
        csv = getattr(result, "CsvBase64Bytes", None)
        return ExchangeEmails(
            success=bool(getattr(result, "Success", False)),
            status_code=_text(getattr(result, "StatusCode", None)).strip(),
            message=" ".join(_text(getattr(result, "Message", None)).split()),
            csv=bytes(csv) if csv else None,
        )

    def get_acquirer(self, identification_type: str, identification_number: str) -> Acquirer:
        """A buyer's name and reception e-mail by ID type and number (Resolución 000202/2025)."""
        result = self._call(
            "GetAcquirer", identificationType=identification_type, identificationNumber=identification_number
        )
        return Acquirer(
            status_code=_text(getattr(result, "StatusCode", None)).strip(),
            message=" ".join(_text(getattr(result, "Message", None)).split()),
            name=_opt(getattr(result, "ReceiverName", None)),
            email=_opt(getattr(result, "ReceiverEmail", None)),
        )
