"""A typed client for DIAN's WcfDianCustomerServices: SOAP 1.2 with WS-Addressing and our WS-Security signer.

Every method returns frozen dataclasses (dian.soap.results). Collaborators are injected: the HTTP session, the signing
identity, the clock. TLS is verified; connect and read timeouts are always set; plain HTTP is only accepted on the
loopback interface (the simulator).

The hot path (issue 21) is text, one POST and one parse: the request is written from a table zeep read once from the
WSDL (dian.soap.envelope), signed by :class:`WsSecurity` without building a tree, posted by
:class:`dian.soap.transport.HttpTransport` (``http.client`` on kept-alive connections; requests + urllib3 cost more
CPU per call than the message's RSA signature), and the answer is parsed once with lxml (dian.soap.reply,
dian.soap.results). Every message keeps fresh Ids, its own Timestamp and its own RSA signature (DIAN detects
replays).

Environment, read once when the client is built, never per call: the proxy (``HTTPS_PROXY``/``HTTP_PROXY``/
``ALL_PROXY`` as it applies to the endpoint, none when ``NO_PROXY`` covers its host; see dian.soap.transport) and,
when ``verify`` is left True, ``REQUESTS_CA_BUNDLE`` or ``CURL_CA_BUNDLE`` as the CA bundle (else certifi's, as
requests used). A change to the environment needs a new client. ``.netrc`` is never read (DIAN authenticates by the
signed header, not HTTP auth).

Threads: one client may be used from several threads. The signer, the operation table and the transport's settings
are only read; the transport's pool of kept connections is guarded by a lock, and each call has a connection to
itself.

Send operations raise :class:`DianRejected` when DIAN refuses the document; a rejection whose only rule is 90
(documento procesado anteriormente) has ``already_registered`` set and carries DIAN's stored key and original
ApplicationResponse (dian-facts 10). Queries return the answer as it is, whatever its StatusCode.
"""

from __future__ import annotations

import datetime as dt
import http.client
import ipaddress
import os
import ssl
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from lxml import etree

from dian.soap.envelope import WSDL_PATH, envelope, operations
from dian.soap.errors import DianRejected, DianTransportError
from dian.soap.packaging import zip_one
from dian.soap.reply import read_reply
from dian.soap.results import (
    Acquirer,
    DianResponse,
    DocumentInfo,
    DocumentXml,
    ExchangeEmails,
    NumberingRanges,
    UnreadableAnswer,
    UploadResult,
    acquirer_from,
    dian_response_from,
    dian_responses_from,
    document_info_from,
    document_xml_from,
    exchange_emails_from,
    numbering_ranges_from,
    upload_result_from,
)
from dian.soap.transport import AnswerTooLarge, HttpTransport, Transport, environment_proxy
from dian.soap.wsse import WsSecurity
from dian.trust import SigningIdentity

__all__ = ["ENDPOINTS", "WSDL_PATH", "DianClient", "endpoint_for", "zip_name_for"]

# dian-facts 6.1.
ENDPOINTS = {
    "habilitacion": "https://vpfe-hab.dian.gov.co/WcfDianCustomerServices.svc",
    "produccion": "https://vpfe.dian.gov.co/WcfDianCustomerServices.svc",
}
T = TypeVar("T")


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


def _said(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def zip_name_for(xml_name: str) -> str:
    """The zip name for a member: ``fv…xml`` → ``z…zip`` (dian-facts 4.3); other names just change extension."""
    stem = xml_name[:-4] if xml_name.lower().endswith(".xml") else xml_name
    if stem[:2].lower() in {"fv", "nc", "nd", "ar", "ad"} and stem[2:].isalnum() and len(stem) == 25:
        stem = "z" + stem[2:]
    return stem + ".zip"


class DianClient:
    """One DIAN endpoint, one signing identity; safe to share between threads (see the module's docstring)."""

    def __init__(
        self,
        endpoint: str,
        identity: SigningIdentity,
        *,
        transport: Transport | None = None,
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
        if verify is False:
            raise ValueError("TLS verification cannot be disabled; pass a CA bundle path instead")
        self.endpoint = endpoint
        self.identity = identity
        self.timeouts = (connect_timeout, read_timeout)
        if transport is None:
            # The environment, once (see the module's docstring), then never again per call.
            if verify is True:
                verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
            transport = HttpTransport(
                endpoint,
                verify=verify,
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                proxy=environment_proxy(endpoint),
            )
        self.transport = transport
        kwargs: dict[str, Any] = {}
        if clock is not None:
            kwargs["clock"] = clock
        self.signer = WsSecurity(identity, lifetime=token_lifetime, **kwargs)
        self._operations = operations()

    def close(self) -> None:
        """Close the kept connections (a later call opens a new one)."""
        self.transport.close()

    def __enter__(self) -> DianClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport --------------------------------------------------------------------------------------------

    def _call(self, operation: str, **params: Any) -> etree._Element | None:
        """Post one signed request; the answer's ``{operation}Result`` element (None when absent or nil).

        A redirect is not followed: it comes back as an HTTP status without a SOAP answer.
        """
        op = self._operations[operation]
        data = envelope(op, params, signer=self.signer, to=self.endpoint)
        try:
            status, content = self.transport.post(data, op.content_type)
        except ssl.SSLError as exc:  # before OSError, its base; a certificate DIAN's CA did not sign is one
            raise DianTransportError(f"{operation}: TLS failed: {exc}", retryable=False, kind="tls") from exc
        except TimeoutError as exc:
            raise DianTransportError(
                f"{operation}: timed out after {self.timeouts} s: {_said(exc)}", kind="timeout"
            ) from exc
        except AnswerTooLarge as exc:
            raise DianTransportError(f"{operation}: {exc}", retryable=False, kind="unreadable") from exc
        except (OSError, http.client.HTTPException) as exc:
            raise DianTransportError(
                f"{operation}: connection failed or reset: {_said(exc)}", kind="connection"
            ) from exc
        return read_reply(operation, status, content)

    def _query(self, converter: Callable[[etree._Element | None], T], operation: str, **params: Any) -> T:
        """Call ``operation`` and convert its result element into the typed result."""
        element = self._call(operation, **params)
        try:
            return converter(element)
        except UnreadableAnswer as exc:
            raise DianTransportError(f"{operation}: unreadable answer: {exc}", retryable=False) from None

    def _send(self, operation: str, **params: Any) -> DianResponse:
        response = self._query(dian_response_from, operation, **params)
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
        content = zip_one(file_name, xml)
        return self._query(upload_result_from, "SendBillAsync", fileName=zip_name_for(file_name), contentFile=content)

    def send_test_set_async(self, file_name: str, xml: bytes, test_set_id: str) -> UploadResult:
        """Upload one document of the habilitación test set ``test_set_id``."""
        content = zip_one(file_name, xml)
        return self._query(
            upload_result_from,
            "SendTestSetAsync",
            fileName=zip_name_for(file_name),
            contentFile=content,
            testSetId=test_set_id,
        )

    # -- queries ----------------------------------------------------------------------------------------------

    def get_status(self, track_id: str) -> DianResponse:
        """DIAN's status of a document by CUFE/CUDE (StatusCode 66 when DIAN does not know it)."""
        return self._query(dian_response_from, "GetStatus", trackId=track_id)

    def get_status_zip(self, zip_key: str) -> tuple[DianResponse, ...]:
        """The answers for the documents of an asynchronous upload."""
        return self._query(dian_responses_from, "GetStatusZip", trackId=zip_key)

    def get_status_event(self, cufe: str) -> DianResponse:
        """The events registered on an invoice (the answer's ``xml`` lists them; StatusCode 68 for a non-CUFE)."""
        return self._query(dian_response_from, "GetStatusEvent", trackId=cufe)

    def get_xml_by_document_key(self, track_id: str) -> DocumentXml:
        """The XML DIAN holds for a CUFE/CUDE (Code 100), if our certificate's NIT may see it (else 401)."""
        return self._query(document_xml_from, "GetXmlByDocumentKey", trackId=track_id)

    def get_numbering_range(self, account_code: str, account_code_t: str, software_code: str) -> NumberingRanges:
        """The numbering authorizations (with technical keys) of issuer ``account_code`` for a software."""
        return self._query(
            numbering_ranges_from,
            "GetNumberingRange",
            accountCode=account_code,
            accountCodeT=account_code_t,
            softwareCode=software_code,
        )

    def get_exchange_emails(self) -> ExchangeEmails:
        """The CSV of reception e-mails registered with DIAN (dian-facts 4.1)."""
        return self._query(exchange_emails_from, "GetExchangeEmails")

    def get_acquirer(self, identification_type: str, identification_number: str) -> Acquirer:
        """A buyer's name and reception e-mail by ID type and number (Resolución 000202/2025)."""
        return self._query(
            acquirer_from,
            "GetAcquirer",
            identificationType=identification_type,
            identificationNumber=identification_number,
        )

    def get_document_info(self, cufe: str) -> DocumentInfo:
        """RADIAN's view of an invoice by CUFE: its events and current legitimate holder (``found`` False if none).

        Not in DIAN's 2024 WSDL copy; the shape is documented in the packaged WSDL. Whether DIAN answers it for a
        third party's invoice (Buzón as the debtor) is unverified (peers-wave2.md §7).
        """
        return self._query(document_info_from, "GetDocumentInfo", uuid=cufe)
