"""Verification: the core XMLDSig signature checked strictly, the XAdES layer and the certificate graded."""

from __future__ import annotations

import base64
import binascii
import copy
import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from lxml import etree

from dian.trust import (
    TrustStore,
    certificate_nits,
    nit_matches,
)
from dian.xades.certificates import _Certificate, _certificate, _valid_at
from dian.xades.references import (
    _INCLUSIVE_NAMESPACES,
    _Canon,
    _digest_reference,
    _find,
    _find_all,
    _find_signature,
    _index_ids,
    _is_ancestor,
    _points_at,
    _Reference,
    _RelativeNamespace,
    _resolve_reference,
    _rewrite_relative_namespaces,
    _text,
)
from dian.xades.report import Check, Outcome, SignatureReport
from dian.xades.signing_time import _moments, parse_signing_time
from dian.xades.vocabulary import (
    _C14N,
    _DIGESTS,
    _SIGNATURES,
    _WEAK,
    DS,
    ENVELOPED,
    MAX_CERTIFICATES,
    MAX_REFERENCES,
    MAX_TRANSFORMS,
    POLICY_HASH,
    POLICY_MIRROR,
    POLICY_URL,
    XADES,
    _q,
)
from dian.xmlsafe import parse_xml


def _verify_signature_value(cert: x509.Certificate, method: str, signed_info_c14n: bytes, value: bytes) -> bool:
    kind, hash_cls = _SIGNATURES[method]
    key = cert.public_key()
    try:
        if kind == "rsa" and isinstance(key, rsa.RSAPublicKey):
            key.verify(value, signed_info_c14n, padding.PKCS1v15(), hash_cls())
            return True
        if kind == "ecdsa" and isinstance(key, ec.EllipticCurvePublicKey):
            half = len(value) // 2
            der = encode_dss_signature(int.from_bytes(value[:half], "big"), int.from_bytes(value[half:], "big"))
            key.verify(der, signed_info_c14n, ec.ECDSA(hash_cls()))
            return True
    except (InvalidSignature, UnsupportedAlgorithm, ValueError):
        return False
    return False


class _Builder:
    """Accumulates checks and the report's descriptive fields."""

    def __init__(self) -> None:
        self.checks: list[Check] = []
        self.fields: dict[str, Any] = {}

    def add(self, name: str, outcome: Outcome, detail: str) -> None:
        self.checks.append(Check(name, outcome, detail))

    def report(
        self, signed_c14n: bytes | None = None, digested_tree: tuple[etree._Element, etree._Element] | None = None
    ) -> SignatureReport:
        return SignatureReport(
            checks=tuple(self.checks), signed_c14n=signed_c14n, digested_tree=digested_tree, **self.fields
        )


def verify(
    xml: bytes | etree._Element,
    *,
    trust: TrustStore,
    expected_nits: Iterable[str] = (),
    now: dt.datetime | None = None,
    owned: bool = False,
    max_references: int = MAX_REFERENCES,
    max_certificates: int = MAX_CERTIFICATES,
    set_aside: tuple[tuple[bytes, bytes], ...] = (),
) -> SignatureReport:
    """Verify the XAdES signature of a DIAN document and grade every aspect; never raises on a parsed document.

    Bytes are parsed with the hardened parser first (a ParseError there means "unreadable"); an element is used as
    given and left untouched unless ``owned`` is True (the caller parsed it for this call alone: the signature is
    then detached in place for the enveloped digest, which saves a copy). ``now`` only flags future signing times.
    A signature with more than ``max_references`` references or ``max_certificates`` certificates in KeyInfo fails
    at once, before any digest. ``set_aside``: text left out of the tree when it was parsed (``dian.cdata``), each
    placeholder with the canonical form of the text it stands for, put back into every canonical output.
    """
    if isinstance(xml, bytes | bytearray | memoryview):
        root, owned = parse_xml(bytes(xml)), True
    elif xml.getparent() is not None:
        # An element inside a larger tree: verify it as its own document (URI="" means that document).
        root, owned = copy.deepcopy(xml), True
    else:
        root = xml
    expected = tuple(n for n in expected_nits if n)
    limits = _Limits(references=max_references, certificates=max_certificates)
    try:
        try:
            return _verify(_Canon(root, set_aside, owned=owned), trust, expected, now, limits)
        except _RelativeNamespace:
            canon = _rewrite_relative_namespaces(root)
            if canon is None:
                raise
            canon.restore += set_aside
            return _verify(canon, trust, expected, now, limits, relative=True)
    except _RelativeNamespace as exc:
        b = _Builder()
        b.add("signature", Outcome.FAIL, f"no se pudo canonicalizar el documento (C14N): {exc}")
        return b.report()
    except Exception as exc:  # a hostile document must yield a verdict, never an exception
        b = _Builder()
        b.add("signature", Outcome.FAIL, f"firma ilegible o mal formada: {type(exc).__name__}: {exc}")
        return b.report()


@dataclass(frozen=True)
class _Limits:
    references: int
    certificates: int


def _verify(
    canon: _Canon,
    trust: TrustStore,
    expected_nits: tuple[str, ...],
    now: dt.datetime | None,
    limits: _Limits,
    relative: bool = False,
) -> SignatureReport:
    b = _Builder()
    root = canon.root
    signature, problem = _find_signature(root)
    if signature is None:
        b.add("signature", Outcome.FAIL, problem)
        return b.report()
    ds = lambda local: _q(DS, local)  # noqa: E731
    signed_info = _find(signature, ds("SignedInfo"))
    c14n_el = _find(signed_info, ds("CanonicalizationMethod"))
    method_el = _find(signed_info, ds("SignatureMethod"))
    value_el = _find(signature, ds("SignatureValue"))
    if signed_info is None or c14n_el is None or method_el is None or value_el is None:
        b.add(
            "signature", Outcome.FAIL, "la firma está incompleta (falta SignedInfo, SignatureMethod o SignatureValue)"
        )
        return b.report()
    c14n_method = c14n_el.get("Algorithm", "")
    sig_method = method_el.get("Algorithm", "")
    weak: list[str] = []

    # Bounds first: nothing below runs for a signature of a shape DIAN never uses (issue 14).
    ref_elements = _find_all(signed_info, ds("Reference"))
    key_info = _find(signature, ds("KeyInfo"))
    cert_elements = list(key_info.iter(ds("X509Certificate"))) if key_info is not None else []
    transform_lists = [_find_all(ref_el, ds("Transforms"), ds("Transform")) for ref_el in ref_elements]
    most = max((len(t) for t in transform_lists), default=0)
    too_much = (
        (len(ref_elements), limits.references, "referencias (ds:Reference)", "las firmas DIAN tienen 3"),
        (len(cert_elements), limits.certificates, "certificados en KeyInfo (ds:X509Certificate)", "DIAN trae 1"),
        (most, MAX_TRANSFORMS, "transformaciones en una referencia", "las firmas DIAN usan 1 o 2"),
    )
    for count, limit, what, usual in too_much:
        if count > limit:
            detail = f"la firma trae {count} {what} y se admiten como máximo {limit} ({usual}): no se verifica"
            b.add("signature", Outcome.FAIL, detail)
            return b.report()

    # Certificates of KeyInfo: the signer is the one whose key verifies SignatureValue (dian-facts 9 (a)).
    certs: list[_Certificate] = []
    cert_problem = ""
    if key_info is not None:
        for cert_el in cert_elements:
            try:
                certs.append(_certificate(cert_el.text or ""))
            except (ValueError, binascii.Error) as exc:
                cert_problem = f"un ds:X509Certificate es ilegible ({exc})"

    # References.
    ids = _index_ids(root, (uri[1:] for el in ref_elements if (uri := el.get("URI", "")).startswith("#")))
    references: list[_Reference] = []
    for ref_el, transform_elements in zip(ref_elements, transform_lists, strict=True):
        transforms = []
        for t in transform_elements:
            prefix_el = _find(t, _INCLUSIVE_NAMESPACES)
            prefixes = prefix_el.get("PrefixList", "").split() if prefix_el is not None else None
            transforms.append((t.get("Algorithm", ""), prefixes))
        dm = _find(ref_el, ds("DigestMethod"))
        references.append(
            _Reference(
                uri=ref_el.get("URI", "\x00missing"),
                digest_method=dm.get("Algorithm", "") if dm is not None else "",
                digest_value=_text(_find(ref_el, ds("DigestValue"))),
                transforms=transforms,
                type=ref_el.get("Type"),
                node=ref_el,
            )
        )
    # SignedInfo and every reference digested in place come first, the enveloped reference (which takes the signature
    # out of the tree and puts it back) last: lxml, re-inserting it, drops declarations inside it that it finds
    # redundant by URI (a second prefix for a URI declared above, as xades141 and xadesv141) and renames what used
    # them, which changes the inclusive C14N of everything in the signature (issue 14).
    signed_info_c14n = b""
    if c14n_method in _C14N:
        prefix_el = _find(c14n_el, _INCLUSIVE_NAMESPACES)
        prefixes = prefix_el.get("PrefixList", "").split() if prefix_el is not None else None
        signed_info_c14n = canon.c14n(signed_info, c14n_method, prefixes)
    for ref in references:
        _resolve_reference(ref, root, ids)
    done: dict = {}
    for ref in sorted(references, key=lambda r: r.target is not None and _is_ancestor(r.target, signature)):
        _digest_reference(ref, canon, signature, done)
    for ref in references:
        if _DIGESTS.get(ref.digest_method) in _WEAK:
            weak.append(f"resumen SHA-1 en la referencia {ref.uri or '«»'}")

    # Core: SignatureValue over the canonical SignedInfo with the document's own certificate.
    signer: _Certificate | None = None
    if c14n_method not in _C14N:
        b.add("signature", Outcome.FAIL, f"método de canonicalización no soportado {c14n_method!r}")
    elif sig_method not in _SIGNATURES:
        b.add("signature", Outcome.FAIL, f"algoritmo de firma no soportado {sig_method!r}")
    elif not certs:
        b.add(
            "signature", Outcome.FAIL, cert_problem or "la firma no trae el certificado del firmante (X509Certificate)"
        )
    else:
        try:
            value = base64.b64decode("".join((value_el.text or "").split()), validate=True)
        except (binascii.Error, ValueError):
            value = b""
        signer = next((c for c in certs if _verify_signature_value(c.cert, sig_method, signed_info_c14n, value)), None)
        if signer is None:
            b.add(
                "signature",
                Outcome.FAIL,
                "el valor de la firma (SignatureValue) no corresponde al certificado del documento: firma inválida",
            )
        else:
            detail = f"firma criptográfica válida ({sig_method.rsplit('#', 1)[-1]}) con el certificado del documento"
            if relative:
                detail += "; se canonicalizó tolerando un espacio de nombres relativo (xmlns con URI relativa)"
            b.add("signature", Outcome.PASS, detail)
        if _SIGNATURES[sig_method][1] is hashes.SHA1:
            weak.append("algoritmo de firma rsa-sha1")

    if signer is not None:
        b.fields.update(
            certificate=signer.cert,
            signer_subject=signer.subject,
            signer_issuer=signer.issuer,
            signer_serial=signer.serial,
            signer_nit=signer.nit,
        )

    # Classify references: the document, KeyInfo, SignedProperties, and anything else.
    qp = _find(signature, ds("Object"), _q(XADES, "QualifyingProperties"))
    signed_props = _find(qp, _q(XADES, "SignedProperties"))
    doc_refs = [r for r in references if r.target is root]
    key_refs = [r for r in references if _points_at(r, key_info)]
    sp_refs = [r for r in references if _points_at(r, signed_props)]
    others = [r for r in references if r not in doc_refs and r not in key_refs and r not in sp_refs]

    signed_c14n = None
    digested_tree = None
    if not doc_refs:
        b.add("reference.document", Outcome.FAIL, "ninguna referencia de la firma cubre el documento completo")
    elif len(doc_refs) > 1 or not any(t == ENVELOPED for t, _ in doc_refs[0].transforms):
        b.add(
            "reference.document", Outcome.FAIL, "la referencia al documento no es una firma envuelta (enveloped) única"
        )
    elif not doc_refs[0].ok:
        b.add("reference.document", Outcome.FAIL, doc_refs[0].problem or "el resumen del documento no coincide")
    else:
        b.add("reference.document", Outcome.PASS, "el resumen del documento firmado coincide")
        if signer is not None:
            # What the verifier digested: fields parsed from it are exactly the signed ones.
            signed_c14n = doc_refs[0].c14n
            if canon.owned and not canon.restore:
                digested_tree = (root, signature)

    for name, refs, what in (
        ("reference.key_info", key_refs, "KeyInfo"),
        ("reference.signed_properties", sp_refs, "SignedProperties"),
    ):
        if not refs:
            b.add(
                name,
                Outcome.WARN,
                f"{what} no está cubierto por ninguna referencia de la firma (perfil tipo CADENA, que DIAN acepta); "
                f"sus datos no están protegidos por la firma",
            )
        elif all(r.ok for r in refs):
            b.add(name, Outcome.PASS, f"el resumen de {what} coincide")
        else:
            b.add(name, Outcome.FAIL, next(r.problem for r in refs if not r.ok) or f"el resumen de {what} no coincide")
    if others:
        bad = [r for r in others if not r.ok]
        if bad:
            b.add("reference.other", Outcome.FAIL, bad[0].problem or "una referencia adicional no coincide")
        else:
            b.add("reference.other", Outcome.PASS, f"{len(others)} referencia(s) adicional(es) verificada(s)")

    # XAdES layer.
    ssp = _find(signed_props, _q(XADES, "SignedSignatureProperties"))
    signing_time, ambiguous = _check_signing_time(b, ssp, now)
    b.fields["signing_time"] = signing_time
    role = (
        _text(_find(ssp, _q(XADES, "SignerRole"), _q(XADES, "ClaimedRoles"), _q(XADES, "ClaimedRole")))
        if (ssp is not None)
        else ""
    )
    b.fields["claimed_role"] = role or None
    _check_policy(b, ssp)
    if signer is not None:
        _check_signing_certificate(b, ssp, signer, weak)
        _check_validity(b, signer, signing_time, ambiguous, now)
        others = [c.cert for c in certs if c is not signer]
        _check_chain(b, trust, signer, others, signing_time, ambiguous, now)
        if expected_nits:
            if any(nit_matches(signer.cert, nit) for nit in expected_nits):
                b.add("signer.nit", Outcome.PASS, f"el certificado es del NIT {signer.nit}")
            else:
                b.add(
                    "signer.nit",
                    Outcome.FAIL,
                    f"el certificado es del NIT {', '.join(certificate_nits(signer.cert)) or 'desconocido'}, "
                    f"que no es ninguno de los esperados ({', '.join(expected_nits)})",
                )

    if weak:
        b.add("algorithms", Outcome.WARN, "algoritmos débiles: " + "; ".join(dict.fromkeys(weak)))
    elif b.checks and b.checks[0].outcome == Outcome.PASS:
        b.add("algorithms", Outcome.PASS, "algoritmos SHA-2")
    return b.report(signed_c14n, digested_tree)


def _check_signing_time(
    b: _Builder, ssp: etree._Element | None, now: dt.datetime | None
) -> tuple[dt.datetime | None, bool]:
    text = _text(_find(ssp, _q(XADES, "SigningTime")))
    if not text:
        b.add("signing_time", Outcome.FAIL, "la firma no declara la fecha de firma (xades:SigningTime)")
        return None, False
    parsed, ambiguous = parse_signing_time(text)
    if parsed is None:
        b.add("signing_time", Outcome.FAIL, f"fecha de firma ilegible: {text!r}")
        return None, False
    if now is not None and parsed - dt.timedelta(minutes=5) > now:
        b.add("signing_time", Outcome.WARN, f"la fecha de firma {text} es posterior a la fecha actual")
    elif ambiguous:
        b.add(
            "signing_time",
            Outcome.PASS,
            f"fecha de firma {text} (marcada UTC; puede ser hora local de Colombia, como escribe DIAN)",
        )
    else:
        b.add("signing_time", Outcome.PASS, f"fecha de firma {text}")
    return parsed, ambiguous


def _check_policy(b: _Builder, ssp: etree._Element | None) -> None:
    xa = lambda local: _q(XADES, local)  # noqa: E731
    policy = _find(ssp, xa("SignaturePolicyIdentifier"), xa("SignaturePolicyId"))
    if policy is None:
        b.add("policy.identifier", Outcome.FAIL, "la firma no declara la política de firma de DIAN")
        b.add("policy.hash", Outcome.FAIL, "la firma no declara el resumen de la política de firma")
        return
    identifier = _text(_find(policy, xa("SigPolicyId"), xa("Identifier")))
    if identifier == POLICY_URL:
        b.add("policy.identifier", Outcome.PASS, "política de firma v2 de DIAN")
    elif identifier == POLICY_MIRROR:
        b.add("policy.identifier", Outcome.PASS, "política de firma v2 de DIAN (réplica S3 que usa CADENA, aceptada)")
    elif identifier:
        b.add("policy.identifier", Outcome.WARN, f"política de firma no reconocida: {identifier}")
    else:
        b.add("policy.identifier", Outcome.FAIL, "la política de firma no tiene identificador")
    hash_el = _find(policy, xa("SigPolicyHash"))
    method = _find(hash_el, _q(DS, "DigestMethod"))
    value = _text(_find(hash_el, _q(DS, "DigestValue")))
    if not value:
        b.add("policy.hash", Outcome.FAIL, "la firma no declara el resumen de la política de firma")
    elif value == POLICY_HASH:
        b.add("policy.hash", Outcome.PASS, "resumen de la política de firma correcto")
    elif method is not None and _DIGESTS.get(method.get("Algorithm", "")) != "sha256":
        b.add("policy.hash", Outcome.WARN, "resumen de la política con un algoritmo distinto de SHA-256; no comparable")
    else:
        b.add("policy.hash", Outcome.FAIL, f"resumen de la política de firma incorrecto: {value}")


def _check_signing_certificate(b: _Builder, ssp: etree._Element | None, signer: _Certificate, weak: list) -> None:
    xa = lambda local: _q(XADES, local)  # noqa: E731
    listed = _find_all(ssp, xa("SigningCertificate"), xa("Cert"))
    if not listed:
        b.add("signing_certificate", Outcome.FAIL, "la firma no identifica su certificado (xades:SigningCertificate)")
        return
    if len(listed) > MAX_CERTIFICATES:
        b.add(
            "signing_certificate",
            Outcome.FAIL,
            f"xades:SigningCertificate lista {len(listed)} certificados y se admiten como máximo {MAX_CERTIFICATES}",
        )
        return
    for cert_el in listed:
        method = _find(cert_el, xa("CertDigest"), _q(DS, "DigestMethod"))
        algorithm = _DIGESTS.get(method.get("Algorithm", "") if method is not None else "")
        value = _text(_find(cert_el, xa("CertDigest"), _q(DS, "DigestValue")))
        if algorithm is None or not value:
            continue
        if signer.digest(algorithm) == "".join(value.split()):
            if algorithm in _WEAK:
                weak.append("resumen SHA-1 del certificado firmante")
            serial = _text(_find(cert_el, xa("IssuerSerial"), _q(DS, "X509SerialNumber")))
            if serial and serial != signer.serial:
                b.add(
                    "signing_certificate",
                    Outcome.WARN,
                    f"el resumen del certificado coincide pero el número de serie declarado ({serial}) no",
                )
            else:
                extra = f" (la firma lista {len(listed)} certificados: la cadena completa)" if len(listed) > 1 else ""
                b.add("signing_certificate", Outcome.PASS, "el certificado firmante coincide con el declarado" + extra)
            return
    b.add(
        "signing_certificate",
        Outcome.FAIL,
        "ningún certificado declarado en xades:SigningCertificate coincide con el certificado firmante",
    )


def _check_validity(
    b: _Builder, signer: _Certificate, signing_time: dt.datetime | None, ambiguous: bool, now: dt.datetime | None
) -> None:
    period = signer.period
    if signing_time is None:
        # The clock is injected, never read here: without a signing time only ``now`` can be used, if given.
        if now is None:
            b.add("certificate.validity", Outcome.WARN, f"sin fecha de firma no se puede juzgar la vigencia ({period})")
            return
        ok = _valid_at(signer, now)
        b.add(
            "certificate.validity",
            Outcome.WARN if ok else Outcome.FAIL,
            f"sin fecha de firma: evaluado a la fecha actual; {'vigente' if ok else 'no vigente'} ({period})",
        )
        return
    results = [_valid_at(signer, m) for m in _moments(signing_time, ambiguous)]
    if all(results):
        b.add("certificate.validity", Outcome.PASS, f"certificado vigente al firmar ({period})")
    elif any(results):
        b.add(
            "certificate.validity",
            Outcome.WARN,
            f"vigencia dudosa: la hora de firma marcada UTC cae en el límite de la vigencia ({period})",
        )
    else:
        b.add("certificate.validity", Outcome.FAIL, f"el certificado no estaba vigente al firmar ({period})")


def _check_chain(
    b: _Builder,
    trust: TrustStore,
    signer: _Certificate,
    others: list[x509.Certificate],
    signing_time: dt.datetime | None,
    ambiguous: bool,
    now: dt.datetime | None,
) -> None:
    if trust.empty:
        b.fields["chain_status"] = "no_store"
        b.add(
            "certificate.chain",
            Outcome.WARN,
            f"el almacén de confianza está vacío: no se puede decidir si «{signer.issuer_name}» es confiable",
        )
        return
    # Without a signing time (already a failed check) the structure is judged at ``now`` or, lacking it, at the
    # start of the signer's validity, so the clock is never read here.
    moments = _moments(signing_time, ambiguous) if signing_time else [now or signer.validity[0]]
    result = None
    for at in moments:
        result = trust.evaluate(signer.cert, others, at=at)
        if result.trusted or result.status == "unknown_issuer":
            break
    assert result is not None
    b.fields["chain_status"] = result.status
    if result.trusted:
        b.add("certificate.chain", Outcome.PASS, result.detail)
    elif result.status == "unknown_issuer":
        b.add("certificate.chain", Outcome.WARN, result.detail)
    else:
        b.add("certificate.chain", Outcome.FAIL, result.detail)


def iter_signatures(root: etree._Element) -> Iterator[etree._Element]:
    """Every ds:Signature element under ``root`` (for diagnostics)."""
    yield from root.iter(_q(DS, "Signature"))
