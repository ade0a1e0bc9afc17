"""WS-Security for DIAN's web service: sign the request's ``wsa:To`` and check a request's header.

What DIAN's policy asks (dian-facts 6.3, 11): a ``wsse:Security`` header holding a ``wsu:Timestamp`` (UTC, ``Z``),
the caller's X.509 certificate as a ``wsse:BinarySecurityToken``, and a ``ds:Signature`` with exclusive C14N and
RSA-SHA256 whose one reference is the ``wsa:To`` header (by its ``wsu:Id``); KeyInfo is a SecurityTokenReference to
the token.

:class:`WsSecurity` writes the whole SOAP header as text (issue 21): the header is ours, so the exclusive C14N of the
two signed pieces (``wsa:To`` and ``ds:SignedInfo``) is known without building a tree — the ``wsa:To`` element is
written in the envelope with the namespaces its canonical form declares, and SignedInfo is written in its canonical
form. The certificate token is base64-encoded once per signer. What stays per message: fresh Ids, the Timestamp,
one SHA-256 over the canonical ``wsa:To`` and one RSA signature. ``tests/unit/test_soap_envelope.py`` checks the
written forms against lxml's exclusive C14N, and :func:`check_request` (lxml + cryptography) verifies every request.

:func:`check_request` is the receiving side (the simulator): it verifies the signature by hand with lxml and
cryptography, so it also accepts what other clients send (an ``InclusiveNamespaces`` prefix list, other Ids).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree

from dian.errors import DianError, SignatureError
from dian.trust import SigningIdentity, load_der

__all__ = ["SecurityHeaderError", "VerifiedCaller", "WsSecurity", "check_request", "xml_text"]

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://www.w3.org/2005/08/addressing"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DS = "http://www.w3.org/2000/09/xmldsig#"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
X509V3 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
BASE64 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"

_DIGESTS = {
    "http://www.w3.org/2000/09/xmldsig#sha1": "sha1",
    SHA256: "sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha384": "sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512": "sha512",
}
_SIGNATURES: dict[str, type[hashes.HashAlgorithm]] = {
    "http://www.w3.org/2000/09/xmldsig#rsa-sha1": hashes.SHA1,
    RSA_SHA256: hashes.SHA256,
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384": hashes.SHA384,
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": hashes.SHA512,
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256": hashes.SHA256,
}

# The header's prefixes; the envelope (dian.soap.envelope) declares s, a and u on its root.
ENVELOPE_NAMESPACES = f'xmlns:s="{SOAP12}" xmlns:a="{WSA}" xmlns:u="{WSU}"'
# Exclusive C14N of wsa:To: only the namespaces it visibly uses (a for the element, u for wsu:Id), sorted by prefix;
# the text escaped as C14N escapes it.
_TO_C14N = f'<a:To xmlns:a="{WSA}" xmlns:u="{WSU}" u:Id="{{id}}">{{to}}</a:To>'
# SignedInfo written in its canonical form (exclusive C14N: the apex declares ds; empty elements as start-end pairs).
_SIGNED_INFO = (
    f'<ds:SignedInfo xmlns:ds="{DS}">'
    f'<ds:CanonicalizationMethod Algorithm="{EXC_C14N}"></ds:CanonicalizationMethod>'
    f'<ds:SignatureMethod Algorithm="{RSA_SHA256}"></ds:SignatureMethod>'
    '<ds:Reference URI="#{id}">'
    f'<ds:Transforms><ds:Transform Algorithm="{EXC_C14N}"></ds:Transform></ds:Transforms>'
    f'<ds:DigestMethod Algorithm="{SHA256}"></ds:DigestMethod>'
    "<ds:DigestValue>{digest}</ds:DigestValue>"
    "</ds:Reference></ds:SignedInfo>"
)
_HEADER = (
    "<s:Header>"
    f'<o:Security xmlns:o="{WSSE}">'
    '<u:Timestamp u:Id="TS-{suffix}"><u:Created>{created}</u:Created><u:Expires>{expires}</u:Expires></u:Timestamp>'
    f'<o:BinarySecurityToken EncodingType="{BASE64}" ValueType="{X509V3}" u:Id="X509-{{suffix}}">{{token}}'
    "</o:BinarySecurityToken>"
    f'<ds:Signature xmlns:ds="{DS}" Id="SIG-{{suffix}}">{{signed_info}}'
    "<ds:SignatureValue>{value}</ds:SignatureValue>"
    '<ds:KeyInfo Id="KI-{suffix}"><o:SecurityTokenReference u:Id="STR-{suffix}">'
    f'<o:Reference URI="#X509-{{suffix}}" ValueType="{X509V3}"/></o:SecurityTokenReference></ds:KeyInfo>'
    "</ds:Signature></o:Security>"
    "<a:Action>{action}</a:Action><a:MessageID>urn:uuid:{message_id}</a:MessageID>"
    '<a:To u:Id="id-{suffix}">{to}</a:To>'
    "</s:Header>"
)


def xml_text(value: str) -> str:
    """``value`` escaped as XML character data; also its exclusive-C14N form (``&``, ``<``, ``>``, CR)."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#xD;")


def _q(ns: str, local: str) -> str:
    return f"{{{ns}}}{local}"


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class WsSecurity:
    """Writes the signed SOAP header of one request; stateless per call, so one signer serves many threads."""

    def __init__(
        self,
        identity: SigningIdentity,
        *,
        clock: Callable[[], dt.datetime] = _utcnow,
        lifetime: dt.timedelta = dt.timedelta(minutes=5),
    ) -> None:
        if not isinstance(identity.key, rsa.RSAPrivateKey):
            raise SignatureError(f"DIAN's policy signs with RSA-SHA256; the key is {type(identity.key).__name__}")
        self.identity = identity
        self.clock = clock
        self.lifetime = lifetime
        self._token = base64.b64encode(identity.certificate.public_bytes(Encoding.DER)).decode("ascii")
        self._padding = padding.PKCS1v15()

    def header(self, *, action: str, to: str) -> str:
        """The ``s:Header`` element (text) addressed to ``to`` for ``action``, signed over ``wsa:To``."""
        message_id = uuid.uuid4()  # fresh per message; its digits also make the message's Ids
        suffix = message_id.hex.upper()
        to_text = xml_text(to)
        canonical_to = _TO_C14N.format(id=f"id-{suffix}", to=to_text)
        digest = base64.b64encode(hashlib.sha256(canonical_to.encode("utf-8")).digest()).decode("ascii")
        signed_info = _SIGNED_INFO.format(id=f"id-{suffix}", digest=digest)
        try:
            value = self.identity.key.sign(signed_info.encode("utf-8"), self._padding, hashes.SHA256())
        except (ValueError, TypeError) as exc:  # pragma: no cover - a usable RSA key always signs
            raise SignatureError(f"the SOAP header could not be signed: {exc}") from exc
        created = self.clock()
        return _HEADER.format(
            suffix=suffix,
            created=_stamp(created),
            expires=_stamp(created + self.lifetime),
            token=self._token,
            signed_info=signed_info,
            value=base64.b64encode(value).decode("ascii"),
            action=xml_text(action),
            message_id=message_id,
            to=to_text,
        )


# --------------------------------------------------------------------------------------------------------------
# The receiving side


class SecurityHeaderError(DianError):
    """A request's WS-Security header is missing, malformed, expired or does not verify; the message says which.
    ``expired``: the header's timestamp is outside its window (SOAP's MessageExpired), not a malformed or forged one."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


@dataclass(frozen=True)
class VerifiedCaller:
    """What a valid WS-Security header establishes: the caller's certificate and the signed ``wsa:To``."""

    certificate: x509.Certificate = field(repr=False)
    to: str
    action: str | None
    created: dt.datetime
    expires: dt.datetime


def _parse_time(text: str | None, what: str) -> dt.datetime:
    if not text:
        raise SecurityHeaderError(f"wsu:Timestamp has no {what}")
    value = text.strip()
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise SecurityHeaderError(f"wsu:Timestamp {what} {value!r} is not an xs:dateTime") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment


def _ids(root: etree._Element) -> dict[str, list[etree._Element]]:
    found: dict[str, list[etree._Element]] = {}
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for name, value in element.attrib.items():
            if etree.QName(name).localname in {"Id", "ID", "id"}:
                found.setdefault(value, []).append(element)
    return found


def _prefixes(transform_or_method: etree._Element) -> list[str] | None:
    inclusive = transform_or_method.find(_q(EXC_C14N, "InclusiveNamespaces"))
    if inclusive is None:
        return None
    return [p for p in (inclusive.get("PrefixList") or "").split() if p != "#default"] or None


def _exc_c14n(element: etree._Element, prefixes: list[str] | None) -> bytes:
    return etree.tostring(element, method="c14n", exclusive=True, with_comments=False, inclusive_ns_prefixes=prefixes)


def check_request(
    envelope: etree._Element,
    *,
    now: dt.datetime,
    clock_skew: dt.timedelta = dt.timedelta(minutes=5),
) -> VerifiedCaller:
    """Verify the WS-Security header of a SOAP 1.2 request; raise SecurityHeaderError naming the problem."""
    header = envelope.find(_q(SOAP12, "Header"))
    if header is None:
        raise SecurityHeaderError("the request has no soap:Header (WS-Security is required)")
    security = header.find(_q(WSSE, "Security"))
    if security is None:
        raise SecurityHeaderError("the request has no wsse:Security header")
    timestamp = security.find(_q(WSU, "Timestamp"))
    if timestamp is None:
        raise SecurityHeaderError("wsse:Security has no wsu:Timestamp")
    created = _parse_time(timestamp.findtext(_q(WSU, "Created")), "Created")
    expires = _parse_time(timestamp.findtext(_q(WSU, "Expires")), "Expires")
    if expires <= created:
        raise SecurityHeaderError(f"wsu:Timestamp expires ({expires.isoformat()}) before it is created")
    if created - clock_skew > now:
        raise SecurityHeaderError(f"wsu:Timestamp Created {created.isoformat()} is in the future", expired=True)
    if expires + clock_skew < now:
        raise SecurityHeaderError(f"wsu:Timestamp expired at {expires.isoformat()}", expired=True)

    signature = security.find(_q(DS, "Signature"))
    if signature is None:
        raise SecurityHeaderError("wsse:Security has no ds:Signature")
    token = _token(security, signature)
    try:
        certificate = load_der(base64.b64decode("".join((token.text or "").split()), validate=True))
    except (binascii.Error, ValueError) as exc:
        raise SecurityHeaderError(f"wsse:BinarySecurityToken is not an X.509 certificate: {exc}") from None

    to = header.find(_q(WSA, "To"))
    if to is None or not (to.text or "").strip():
        raise SecurityHeaderError("the request has no wsa:To header")
    signed_info = signature.find(_q(DS, "SignedInfo"))
    value_el = signature.find(_q(DS, "SignatureValue"))
    if signed_info is None or value_el is None:
        raise SecurityHeaderError("ds:Signature lacks SignedInfo or SignatureValue")
    c14n = signed_info.find(_q(DS, "CanonicalizationMethod"))
    if c14n is None or c14n.get("Algorithm") != EXC_C14N:
        raise SecurityHeaderError("SignedInfo must use exclusive C14N (http://www.w3.org/2001/10/xml-exc-c14n#)")
    method = signed_info.find(_q(DS, "SignatureMethod"))
    hash_class = _SIGNATURES.get(method.get("Algorithm", "") if method is not None else "")
    if hash_class is None:
        raise SecurityHeaderError("unsupported or missing ds:SignatureMethod")

    ids = _ids(envelope)
    signed_to = False
    references = signed_info.findall(_q(DS, "Reference"))
    if not references:
        raise SecurityHeaderError("SignedInfo has no ds:Reference")
    for reference in references:
        uri = reference.get("URI", "")
        if not uri.startswith("#"):
            raise SecurityHeaderError(f"ds:Reference URI {uri!r} must point at an element of the header by Id")
        targets = ids.get(uri[1:], [])
        if len(targets) != 1:
            raise SecurityHeaderError(f"ds:Reference {uri} resolves to {len(targets)} elements")
        target = targets[0]
        prefixes = None
        for transform in reference.iterfind(f"{_q(DS, 'Transforms')}/{_q(DS, 'Transform')}"):
            if transform.get("Algorithm") != EXC_C14N:
                raise SecurityHeaderError(f"unsupported transform {transform.get('Algorithm')!r} on {uri}")
            prefixes = _prefixes(transform)
        digest_method = reference.find(_q(DS, "DigestMethod"))
        algorithm = _DIGESTS.get(digest_method.get("Algorithm", "") if digest_method is not None else "")
        if algorithm is None:
            raise SecurityHeaderError(f"unsupported DigestMethod on {uri}")
        expected = "".join((reference.findtext(_q(DS, "DigestValue")) or "").split())
        actual = base64.b64encode(hashlib.new(algorithm, _exc_c14n(target, prefixes)).digest()).decode()
        if actual != expected:
            raise SecurityHeaderError(f"the digest of {uri} does not match: the signed header was changed")
        if target is to:
            signed_to = True
    if not signed_to:
        raise SecurityHeaderError("the signature does not cover the wsa:To header (DIAN's policy signs Header/To)")

    signed_bytes = _exc_c14n(signed_info, _prefixes(c14n))
    try:
        value = base64.b64decode("".join((value_el.text or "").split()), validate=True)
    except (binascii.Error, ValueError):
        raise SecurityHeaderError("ds:SignatureValue is not base64") from None
    public_key = certificate.public_key()
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(value, signed_bytes, padding.PKCS1v15(), hash_class())
        elif isinstance(public_key, ec.EllipticCurvePublicKey):  # pragma: no cover - DIAN certificates are RSA
            public_key.verify(value, signed_bytes, ec.ECDSA(hash_class()))
        else:  # pragma: no cover
            raise SecurityHeaderError(f"unsupported key type {type(public_key).__name__}")
    except InvalidSignature:
        raise SecurityHeaderError("ds:SignatureValue does not verify with the BinarySecurityToken's key") from None
    action = header.findtext(_q(WSA, "Action"))
    return VerifiedCaller(
        certificate=certificate,
        to=(to.text or "").strip(),
        action=action.strip() if action else None,
        created=created,
        expires=expires,
    )


def _token(security: etree._Element, signature: etree._Element) -> etree._Element:
    tokens = security.findall(_q(WSSE, "BinarySecurityToken"))
    reference = signature.find(f"{_q(DS, 'KeyInfo')}/{_q(WSSE, 'SecurityTokenReference')}/{_q(WSSE, 'Reference')}")
    if reference is not None and (reference.get("URI") or "").startswith("#"):
        wanted = reference.get("URI", "")[1:]
        for token in tokens:
            if token.get(_q(WSU, "Id")) == wanted:
                return token
        raise SecurityHeaderError(f"KeyInfo points at #{wanted}, which is not a BinarySecurityToken of the header")
    if len(tokens) == 1:
        return tokens[0]
    raise SecurityHeaderError("wsse:Security carries no X.509 BinarySecurityToken (the certificate is required)")
