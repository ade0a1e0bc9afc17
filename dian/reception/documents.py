"""A received document verified end to end (dian-facts 3.3): the container, the supplier's signature, the model read
from the signed element, the identity checks, DIAN's answer and the container's own signature."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from lxml import etree

from dian.cdata import parse_aside
from dian.errors import ParseError, UnsupportedTypeError
from dian.nit import same_nit
from dian.proof import DianKeys, Level
from dian.reception.answer import local_name, prefixed, weigh_answer
from dian.reception.container import ContainerSignature
from dian.reception.events import verify_application_response, verify_event
from dian.reception.keys import key_problem
from dian.reception.report import ReceptionReport, unreadable
from dian.trust import TrustStore, certificate_nits, nit_matches
from dian.ubl import CommercialDocument, parse_document
from dian.ubl.parse import attached_payloads
from dian.xades import Check, Outcome, SignatureReport, has_signature, verify
from dian.xmlsafe import parse_xml

_COMMERCIAL_ROOTS = {"Invoice", "CreditNote", "DebitNote"}


def _kind(local: str) -> str:
    return {"Invoice": "invoice", "CreditNote": "credit_note", "DebitNote": "debit_note"}.get(local, local)


def verify_received(
    data: bytes,
    *,
    trust: TrustStore,
    our_nit: str | None = None,
    dian_pins: Iterable[str] = (),
    keys: DianKeys | None = None,
    now: dt.datetime | None = None,
    dian_answer: bytes | None = None,
) -> ReceptionReport:
    """Verify what a supplier mailed (dian-facts 3.3): a document, an event, or DIAN's answer on its own.

    ``keys`` are what DIAN's signature may be anchored in (by default the trust store, the shipped pins and
    ``dian_pins``); ``dian_answer`` is DIAN's validation that arrived apart from a bare document. Never raises on
    hostile input: anything unexpected becomes a failed check with its reason.
    """
    keys = keys or DianKeys.of(trust, dian_pins)
    try:
        return _verify_received(data, trust, our_nit, keys, now, dian_answer)
    except Exception as exc:  # a hostile document must yield a report, never crash intake
        return ReceptionReport(
            checks=(Check("input.parse", Outcome.FAIL, f"documento no procesable: {type(exc).__name__}: {exc}"),),
            kind="unreadable",
            dian_proof=Level.INVALID,
        )


def _verify_received(
    data: bytes,
    trust: TrustStore,
    our_nit: str | None,
    keys: DianKeys,
    now: dt.datetime | None,
    loose_answer: bytes | None,
) -> ReceptionReport:
    checks: list[Check] = []
    try:
        # A container's payloads (large CDATA sections) are set aside while it is parsed: they are taken as the
        # file's bytes, and put back into the tree only for what reads them there (dian.cdata).
        outer, aside = parse_aside(data)
    except ParseError as exc:
        return unreadable("input.parse", f"el archivo no es un XML legible: {exc}")
    local = local_name(outer)
    if local != "AttachedDocument":
        aside.restore(outer)
    container_xml: bytes | None = None
    container = ContainerSignature()
    answer_xml: bytes | None = None
    if local == "AttachedDocument":
        kind = "attached_document"
        container_xml = bytes(data)
        try:
            document_xml, answer_xml, _ = attached_payloads(outer, container_xml, aside)
        except ParseError as exc:
            return unreadable("container.parse", f"AttachedDocument ilegible: {exc}", kind)
        aside.restore(outer)  # any section but the two payloads (a certificate written as CDATA, say)
        container = ContainerSignature(outer if has_signature(outer) else None, trust, now, aside)
        outer = None  # type: ignore[assignment]
        try:
            doc_root = parse_xml(document_xml)
        except ParseError as exc:
            checks.append(Check("document.parse", Outcome.FAIL, f"el documento adjunto no es un XML legible: {exc}"))
            return ReceptionReport(
                checks=container.settled(checks, Level.INVALID), kind=kind, container_xml=container_xml,
                document_xml=document_xml, dian_proof=Level.INVALID,
            )  # fmt: skip
        inner = local_name(doc_root)
        if inner == "ApplicationResponse":  # an event mailed in its container, with DIAN's answer beside it
            return verify_event(document_xml, doc_root, answer_xml, trust, keys, now, checks, container_xml, container)
        if inner not in _COMMERCIAL_ROOTS:
            checks.append(
                Check(
                    "document.parse",
                    Outcome.FAIL,
                    f"el contenedor trae un {inner or 'documento desconocido'}, "
                    "no una factura, nota crédito, nota débito ni un evento",
                )
            )
            return ReceptionReport(
                checks=container.settled(checks, Level.INVALID), kind=kind, container_xml=container_xml,
                document_xml=document_xml, dian_proof=Level.INVALID,
            )  # fmt: skip
    elif local in _COMMERCIAL_ROOTS:
        kind = _kind(local)
        document_xml = bytes(data)
        doc_root = outer
        answer_xml = loose_answer
    elif local == "ApplicationResponse":
        return verify_application_response(bytes(data), outer, trust, keys, now)
    else:
        return unreadable(
            "input.parse",
            f"se esperaba un AttachedDocument, Invoice, CreditNote, DebitNote o ApplicationResponse y llegó "
            f"«{local or '?'}»",
            local or "unknown",
        )

    # The supplier's signature, on the exact embedded bytes (dian-facts 3.3 step 2).
    doc_report = verify(doc_root, trust=trust, now=now, owned=True)
    checks.extend(prefixed("document", doc_report))
    document: CommercialDocument | None = None
    unverified: CommercialDocument | None = None
    if doc_report.signed_c14n is not None:  # it verified: signed_element is what was digested
        # Let the container's tree go, and ours (signed_element keeps it, or re-reads the signed bytes when a comment
        # is in it): for a 2 MB invoice each tree is tens of MB, and two alive at once set intake's peak memory.
        doc_root = outer = None  # type: ignore[assignment]
        try:
            parsed_doc = parse_document(doc_report.signed_element)
        except UnsupportedTypeError as exc:  # signed and readable, of a type Buzón does not take
            checks.append(Check("document.type", Outcome.FAIL, str(exc)))
        except ParseError as exc:
            checks.append(Check("document.parse", Outcome.FAIL, f"el documento firmado no se puede leer: {exc}"))
        else:
            if isinstance(parsed_doc, CommercialDocument):
                document = parsed_doc
            else:  # pragma: no cover - the root name was checked above
                checks.append(Check("document.parse", Outcome.FAIL, "el documento firmado no es comercial"))
    else:
        unverified = _claimed_document(doc_root, document_xml)

    if document is not None:
        checks.append(Check("document.parse", Outcome.PASS, f"{document.document_type.label} {document.number}"))
        problem = key_problem("CUFE/CUDE del documento", document.uuid)
        if problem:
            checks.append(Check("document.uuid", Outcome.FAIL, problem))
        checks.extend(_identity_problems(document))
        for reference in document.billing_references:
            if reference.uuid and (problem := key_problem("CUFE de la factura referenciada", reference.uuid)):
                checks.append(Check("document.reference.uuid", Outcome.FAIL, problem))
        if doc_report.certificate is not None:
            checks.append(_signer_nit_check(doc_report, document))
        if our_nit:
            if same_nit(document.customer.nit, our_nit):
                checks.append(Check("buyer.nit", Outcome.PASS, f"el adquirente es nuestro NIT {document.customer.nit}"))
            else:
                checks.append(
                    Check(
                        "buyer.nit",
                        Outcome.FAIL,
                        f"el adquirente es el NIT {document.customer.nit}, no el nuestro ({our_nit})",
                    )
                )

    # DIAN's validation answer (dian-facts 3.2, 3.3 steps 3-4), weighed by the one trust policy (dian.proof).
    answer, answer_report, notifications, level, basis = weigh_answer(answer_xml, document, keys, now, checks)
    settled = container.settled(checks, level) if container_xml is not None else tuple(checks)
    return ReceptionReport(
        checks=settled,
        kind=kind,
        document=document,
        dian_response=answer,
        container_xml=container_xml,
        document_signature=doc_report,
        dian_signature=answer_report,
        container_signature=container.report,
        document_xml=document_xml,
        dian_response_xml=answer_xml,
        notifications=notifications,
        unverified_document=unverified,
        dian_proof=level,
        dian_basis=basis,
    )


# Signed identifiers outside these shapes are refused with their reason, never cut to fit a column (dian-facts 3.1):
# a number is letters and digits (a prefix of up to 4 and a consecutive; 40 is the column's room); a Colombian NIT
# or cédula has up to 15 digits (the buyer may be a foreigner identified by a passport or a foreign tax id: up to 20).
_MAX_NUMBER = 40
_MAX_NIT_DIGITS = 15
_MAX_FOREIGN_ID = 20


def _identity_problems(document: CommercialDocument) -> list[Check]:
    """Checks on the shape of the signed number and parties' identifiers (only failures are returned)."""
    problems = []
    number = document.number.strip()
    if not number or len(number) > _MAX_NUMBER or not number.isascii() or not number.isalnum():
        shown = number if len(number) <= 50 else f"{number[:50]}… ({len(number)} caracteres)"
        why = f"el número «{shown}» no tiene la forma de DIAN (prefijo y consecutivo)"
        problems.append(Check("document.number", Outcome.FAIL, why))
    # A documento soporte (05/95) is issued by its buyer about a seller who may be foreign (radian-issuing-facts C.1).
    support = document.document_type.is_support
    issuer, other = (document.customer, document.supplier) if support else (document.supplier, document.customer)
    nit = issuer.nit.strip()
    if not (nit.isascii() and nit.isdigit() and len(nit) <= _MAX_NIT_DIGITS):
        why = f"el NIT del emisor «{nit[:40]}» no es un número de hasta 15 dígitos"
        problems.append(Check("document.customer.nit" if support else "document.supplier.nit", Outcome.FAIL, why))
    buyer = other.nit.strip()
    if not buyer or len(buyer) > _MAX_FOREIGN_ID or not buyer.isprintable():
        whom = "del vendedor" if support else "del adquirente"
        why = f"la identificación {whom} «{buyer[:40]}» no es válida (hasta {_MAX_FOREIGN_ID} caracteres)"
        problems.append(Check("document.supplier.nit" if support else "document.customer.nit", Outcome.FAIL, why))
    return problems


def _claimed_document(root: etree._Element | None, xml: bytes) -> CommercialDocument | None:
    """What an unproven document says of itself (number, issuer, total), for the clerk; never filed."""
    try:
        claimed = parse_document(root if root is not None else parse_xml(xml))
    except (ParseError, ValueError):
        return None
    return claimed if isinstance(claimed, CommercialDocument) else None


def _signer_nit_check(report: SignatureReport, document: CommercialDocument) -> Check:
    """The signer must be the issuer or its software provider (dian-facts 5: ClaimedRole supplier / third party)."""
    cert = report.certificate
    assert cert is not None
    # The documento soporte is issued and signed by its buyer (AccountingCustomerParty, radian-issuing-facts C.1).
    issuer = document.customer.nit if document.document_type.is_support else document.supplier.nit
    expected = [n for n in (issuer, document.software_provider_nit) if n]
    if any(nit_matches(cert, nit) for nit in expected):
        who = "el emisor" if nit_matches(cert, issuer) else "su proveedor tecnológico"
        return Check("document.signer.nit", Outcome.PASS, f"firmado por {who} (NIT {report.signer_nit})")
    return Check(
        "document.signer.nit",
        Outcome.FAIL,
        f"el certificado firmante es del NIT {', '.join(certificate_nits(cert)) or 'desconocido'}, que no es el emisor "
        f"({issuer}) ni su proveedor tecnológico ({document.software_provider_nit or 'no declarado'})",
    )
