"""A typed client for DIAN's WcfDianCustomerServices: SOAP 1.2 with WS-Addressing and our WS-Security signer.

Every method returns frozen dataclasses (dian.soap.results). Collaborators are injected: the HTTP session, the signing
identity, the clock. TLS is verified; connect and read timeouts are always set; plain HTTP is only accepted on the
loopback interface (the simulator).

The hot path (issue 21) is text and one parse: the request is written from a table zeep read once from the WSDL
(dian.soap.envelope), signed by :class:`WsSecurity` without building a tree, posted on one keep-alive session, and the
answer is parsed once with lxml (dian.soap.reply, dian.soap.results).

Environment: ``requests`` normally re-reads the environment on every call (proxies, NO_PROXY, CA bundle, .netrc).
The client reads it once, when it is built: ``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY`` as they apply to the
endpoint (none when ``NO_PROXY`` covers its host) become the session's proxies, and ``REQUESTS_CA_BUNDLE`` or
``CURL_CA_BUNDLE`` the CA bundle when ``verify`` is left True; then ``trust_env`` is switched off, so a change to the
environment needs a new client. Proxies already set on a session handed in win over the environment. ``.netrc`` is
never read (DIAN authenticates by the signed header, not HTTP auth).

Threads: one client (one ``requests.Session``) may be used from several threads. The signer, the operation table and
the session's settings are only read; a call goes to the session's transport adapter, whose urllib3 connection pool is
thread-safe (the client's own session keeps up to 16 connections to the endpoint). No cookie jar is involved: DIAN
sets no cookies, and calls do not go through ``Session.request``.

Send operations raise :class:`DianRejected` when DIAN refuses the document; a rejection whose only rule is 90
(documento procesado anteriormente) has ``already_registered`` set and carries DIAN's stored key and original
ApplicationResponse (dian-facts 10). Queries return the answer as it is, whatever its StatusCode.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from lxml import etree
from requests.adapters import HTTPAdapter
from requests.models import PreparedRequest
from requests.structures import CaseInsensitiveDict
from requests.utils import get_environ_proxies

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
from dian.soap.wsse import WsSecurity
from dian.trust import SigningIdentity

__all__ = ["ENDPOINTS", "WSDL_PATH", "DianClient", "endpoint_for", "environment_proxies", "zip_name_for"]

# dian-facts 6.1.
ENDPOINTS = {
    "habilitacion": "https://vpfe-hab.dian.gov.co/WcfDianCustomerServices.svc",
    "produccion": "https://vpfe.dian.gov.co/WcfDianCustomerServices.svc",
}
T = TypeVar("T")
_NO_HOOKS: dict[str, list] = {"response": []}
POOL_SIZE = 16  # connections kept to the endpoint by the client's own session (threads beyond this wait for none)


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


def environment_proxies(endpoint: str) -> dict[str, str]:
    """The proxies the environment gives ``endpoint``: {} when NO_PROXY covers its host (requests' own rules)."""
    return {k: v for k, v in get_environ_proxies(endpoint).items() if k in {"http", "https", "all"} and v}


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


class DianClient:
    """One DIAN endpoint, one signing identity; safe to share between threads (see the module's docstring)."""

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
        if verify is False:
            raise ValueError("TLS verification cannot be disabled; pass a CA bundle path instead")
        self.endpoint = endpoint
        self.identity = identity
        if session is None:
            session = requests.Session()
            session.mount(f"{parts.scheme}://{parts.netloc}/", HTTPAdapter(pool_connections=1, pool_maxsize=POOL_SIZE))
        self.session = session
        # The environment, once (see the module's docstring), then never again per call.
        if session.trust_env:
            for scheme, proxy in environment_proxies(endpoint).items():
                session.proxies.setdefault(scheme, proxy)
            if verify is True:
                verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
            session.trust_env = False
        session.verify = verify
        self.timeouts = (connect_timeout, read_timeout)
        kwargs: dict[str, Any] = {}
        if clock is not None:
            kwargs["clock"] = clock
        self.signer = WsSecurity(identity, lifetime=token_lifetime, **kwargs)
        self._operations = operations()
        # Per operation: the session's default headers (User-Agent, Accept-Encoding, ...) and the SOAP 1.2 type.
        self._headers = {
            name: {**session.headers, "Content-Type": op.content_type} for name, op in self._operations.items()
        }

    def close(self) -> None:
        """Close the HTTP session's connections."""
        self.session.close()

    def __enter__(self) -> DianClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport --------------------------------------------------------------------------------------------

    def _call(self, operation: str, **params: Any) -> etree._Element | None:
        """Post one signed request; the answer's ``{operation}Result`` element (None when absent or nil).

        The request goes straight to the session's transport adapter for the endpoint (its TLS settings, proxies
        and pool): a SOAP call needs none of what ``Session.request`` adds per call (environment, cookies,
        redirects, hooks), and skipping it saves about a fifth of the call's CPU. A redirect is not followed: it
        comes back as an HTTP status without a SOAP answer.
        """
        op = self._operations[operation]
        data = envelope(op, params, signer=self.signer, to=self.endpoint)
        request = PreparedRequest()
        request.method, request.url, request.body, request.hooks = "POST", self.endpoint, data, _NO_HOOKS
        request.headers = CaseInsensitiveDict(self._headers[operation])
        request.headers["Content-Length"] = str(len(data))
        session = self.session
        try:
            response = session.get_adapter(self.endpoint).send(
                request, stream=False, timeout=self.timeouts, verify=session.verify, cert=session.cert,
                proxies=session.proxies,
            )  # fmt: skip
            content = response.content
        except requests.exceptions.SSLError as exc:
            raise DianTransportError(f"{operation}: TLS failed: {exc}", retryable=False) from exc
        except requests.exceptions.Timeout as exc:
            raise DianTransportError(f"{operation}: timed out after {self.timeouts} s: {exc}") from exc
        except requests.exceptions.ConnectionError as exc:
            raise DianTransportError(f"{operation}: connection failed or reset: {exc}") from exc
        except requests.exceptions.RequestException as exc:
            raise DianTransportError(f"{operation}: HTTP request failed: {exc}") from exc
        return read_reply(operation, response.status_code, content)

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
