"""Verify a received document end to end: AttachedDocument or bare Invoice/CreditNote/DebitNote (dian-facts 3.3).

Every field the report returns is parsed from the element the signature covers, never from the raw bytes, so a
wrapped or forged element cannot reach the filed record. DIAN's ApplicationResponse must be signed by DIAN
(NIT 800197268, chaining to the trust store or pinned), say 02 and name the same CUFE and number.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from dian.codes import DIAN_NIT
from dian.errors import ParseError
from dian.trust import TrustStore, certificate_nits, nit_matches
from dian.ubl import ApplicationResponse, AttachedDocument, CommercialDocument, LineResponse, parse_document
from dian.xades import Check, CheckResults, Outcome, SignatureReport, has_signature, verify
from dian.xmlsafe import parse_xml

__all__ = ["ReceptionReport", "verify_received"]

_COMMERCIAL_ROOTS = {"Invoice", "CreditNote", "DebitNote"}


@dataclass(frozen=True)
class ReceptionReport(CheckResults):
    """Everything Buzón learnt about one received document; ``document`` is parsed from the signed element."""

    checks: tuple[Check, ...]
    kind: str  # "attached_document", "invoice", "credit_note", "debit_note" or "unreadable"
    document: CommercialDocument | None = None
    dian_response: ApplicationResponse | None = None
    attached: AttachedDocument | None = None
    document_signature: SignatureReport | None = None
    dian_signature: SignatureReport | None = None
    container_signature: SignatureReport | None = None
    document_xml: bytes | None = field(default=None, repr=False)  # the exact signed bytes, to store as they are
    dian_response_xml: bytes | None = field(default=None, repr=False)
    notifications: tuple[LineResponse, ...] = ()
    # Fields read from bytes whose signature did NOT verify: for the quarantine screen only, never to file.
    unverified_document: CommercialDocument | None = None

    @property
    def unreadable(self) -> bool:
        """True when the input could not be parsed at all."""
        return self.kind == "unreadable"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable summary: verdict, key fields, signatures and every check."""
        doc = self.document
        answer = self.dian_response
        return {
            "verdict": self.verdict.value,
            "kind": self.kind,
            "document": None
            if doc is None
            else {
                "type": doc.document_type.value,
                "number": doc.number,
                "uuid": doc.uuid,
                "issue_date": doc.issue_date.isoformat(),
                "issued_at": doc.issued_at.isoformat(),
                "supplier_nit": doc.supplier.nit,
                "supplier_name": doc.supplier.registration_name,
                "customer_nit": doc.customer.nit,
                "payable": str(doc.monetary_total.payable),
                "software_provider_nit": doc.software_provider_nit,
            },
            "dian_response": None
            if answer is None
            else {
                "id": answer.id,
                "response_code": answer.response_code,
                "document_id": answer.document_reference.id if answer.document_reference else None,
                "document_uuid": answer.document_reference.uuid if answer.document_reference else None,
                "issued_at": answer.issued_at.isoformat(),
            },
            "notifications": [{"code": n.code, "description": n.description} for n in self.notifications],
            "document_signature": self.document_signature.to_dict() if self.document_signature else None,
            "dian_signature": self.dian_signature.to_dict() if self.dian_signature else None,
            "container_signature": self.container_signature.to_dict() if self.container_signature else None,
            "checks": [c.to_dict() for c in self.checks],
        }


def _local(root: etree._Element) -> str:
    tag = root.tag if isinstance(root.tag, str) else ""
    return tag.rpartition("}")[2]


def _prefixed(prefix: str, report: SignatureReport, *, skip: Iterable[str] = ()) -> list[Check]:
    skipped = set(skip)
    return [Check(f"{prefix}.{c.name}", c.outcome, c.detail) for c in report.checks if c.name not in skipped]


def _kind(local: str) -> str:
    return {"Invoice": "invoice", "CreditNote": "credit_note", "DebitNote": "debit_note"}.get(local, local)


def verify_received(
    data: bytes,
    *,
    trust: TrustStore,
    our_nit: str | None = None,
    dian_pins: Iterable[str] = (),
    now: dt.datetime | None = None,
) -> ReceptionReport:
    """Verify an AttachedDocument or a bare Invoice/CreditNote/DebitNote as received by mail (dian-facts 3.3).

    Never raises on hostile input: anything unexpected becomes a failed check with its reason.
    """
    try:
        return _verify_received(data, trust, our_nit, dian_pins, now)
    except Exception as exc:  # a hostile document must yield a report, never crash intake
        return ReceptionReport(
            checks=(Check("input.parse", Outcome.FAIL, f"documento no procesable: {type(exc).__name__}: {exc}"),),
            kind="unreadable",
        )


def _verify_received(
    data: bytes,
    trust: TrustStore,
    our_nit: str | None,
    dian_pins: Iterable[str],
    now: dt.datetime | None,
) -> ReceptionReport:
    checks: list[Check] = []
    try:
        outer = parse_xml(data)
    except ParseError as exc:
        return ReceptionReport(
            checks=(Check("input.parse", Outcome.FAIL, f"el archivo no es un XML legible: {exc}"),), kind="unreadable"
        )
    local = _local(outer)
    attached: AttachedDocument | None = None
    container_report: SignatureReport | None = None
    answer_xml: bytes | None = None
    if local == "AttachedDocument":
        kind = "attached_document"
        try:
            parsed = parse_document(outer, source=bytes(data))
        except ParseError as exc:
            return ReceptionReport(
                checks=(Check("container.parse", Outcome.FAIL, f"AttachedDocument ilegible: {exc}"),), kind=kind
            )
        assert isinstance(parsed, AttachedDocument)
        attached = parsed
        document_xml = attached.document_xml
        answer_xml = attached.dian_response_xml
        container_report = _container_signature(outer, trust, now, checks)
        try:
            doc_root = parse_xml(document_xml)
        except ParseError as exc:
            checks.append(Check("document.parse", Outcome.FAIL, f"el documento adjunto no es un XML legible: {exc}"))
            return ReceptionReport(checks=tuple(checks), kind=kind, attached=attached, document_xml=document_xml)
        if _local(doc_root) not in _COMMERCIAL_ROOTS:
            checks.append(
                Check(
                    "document.parse",
                    Outcome.FAIL,
                    f"el contenedor trae un {_local(doc_root) or 'documento desconocido'}, "
                    "no una factura, nota crédito o nota débito",
                )
            )
            return ReceptionReport(checks=tuple(checks), kind=kind, attached=attached, document_xml=document_xml)
    elif local in _COMMERCIAL_ROOTS:
        kind = _kind(local)
        document_xml = bytes(data)
        doc_root = outer
    else:
        return ReceptionReport(
            checks=(
                Check(
                    "input.parse",
                    Outcome.FAIL,
                    f"se esperaba un AttachedDocument, Invoice, CreditNote o DebitNote y llegó «{local or '?'}»",
                ),
            ),
            kind=local or "unknown",
        )

    # The supplier's signature, on the exact embedded bytes (dian-facts 3.3 step 2).
    doc_report = verify(doc_root, trust=trust, now=now, owned=True)
    checks.extend(_prefixed("document", doc_report))
    document: CommercialDocument | None = None
    unverified: CommercialDocument | None = None
    if doc_report.signed_c14n is not None:  # it verified: signed_element is what was digested
        # Let the container's tree go, and ours (signed_element keeps it, or re-reads the signed bytes when a comment
        # is in it): for a 2 MB invoice each tree is tens of MB, and two alive at once set intake's peak memory.
        doc_root = outer = None  # type: ignore[assignment]
        try:
            parsed_doc = parse_document(doc_report.signed_element)
        except ParseError as exc:
            checks.append(Check("document.parse", Outcome.FAIL, f"el documento firmado no se puede leer: {exc}"))
        else:
            if isinstance(parsed_doc, CommercialDocument):
                document = parsed_doc
            else:  # pragma: no cover - the root name was checked above
                checks.append(Check("document.parse", Outcome.FAIL, "el documento firmado no es comercial"))
    else:
        try:
            claimed = parse_document(doc_root)
            unverified = claimed if isinstance(claimed, CommercialDocument) else None
        except ParseError:
            unverified = None

    if document is not None:
        checks.append(Check("document.parse", Outcome.PASS, f"{document.document_type.label} {document.number}"))
        if doc_report.certificate is not None:
            checks.append(_signer_nit_check(doc_report, document))
        if our_nit:
            if _same_nit(document.customer.nit, our_nit):
                checks.append(Check("buyer.nit", Outcome.PASS, f"el adquirente es nuestro NIT {document.customer.nit}"))
            else:
                checks.append(
                    Check(
                        "buyer.nit",
                        Outcome.FAIL,
                        f"el adquirente es el NIT {document.customer.nit}, no el nuestro ({our_nit})",
                    )
                )

    # DIAN's validation answer (dian-facts 3.2, 3.3 steps 3-4).
    answer, answer_report, notifications = _dian_answer(answer_xml, document, trust, dian_pins, now, checks)
    return ReceptionReport(
        checks=tuple(checks),
        kind=kind,
        document=document,
        dian_response=answer,
        attached=attached,
        document_signature=doc_report,
        dian_signature=answer_report,
        container_signature=container_report,
        document_xml=document_xml,
        dian_response_xml=answer_xml,
        notifications=notifications,
        unverified_document=unverified,
    )


def _same_nit(a: str, b: str) -> bool:
    digits = lambda v: "".join(c for c in v.split("-")[0] if c.isdigit())  # noqa: E731
    return bool(digits(a)) and digits(a) == digits(b)


def _signer_nit_check(report: SignatureReport, document: CommercialDocument) -> Check:
    """The signer must be the issuer or its software provider (dian-facts 5: ClaimedRole supplier / third party)."""
    cert = report.certificate
    assert cert is not None
    expected = [n for n in (document.supplier.nit, document.software_provider_nit) if n]
    if any(nit_matches(cert, nit) for nit in expected):
        who = "el emisor" if nit_matches(cert, document.supplier.nit) else "su proveedor tecnológico"
        return Check("document.signer.nit", Outcome.PASS, f"firmado por {who} (NIT {report.signer_nit})")
    return Check(
        "document.signer.nit",
        Outcome.FAIL,
        f"el certificado firmante es del NIT {', '.join(certificate_nits(cert)) or 'desconocido'}, que no es el emisor "
        f"({document.supplier.nit}) ni su proveedor tecnológico ({document.software_provider_nit or 'no declarado'})",
    )


def _container_signature(
    outer: etree._Element, trust: TrustStore, now: dt.datetime | None, checks: list[Check]
) -> SignatureReport | None:
    """The AD's own signature is optional and often copied, not computed (dian-facts 3.3.6): never a failure."""
    if not has_signature(outer):
        checks.append(
            Check("container.signature", Outcome.PASS, "el contenedor no está firmado (la firma es opcional)")
        )
        return None
    report = verify(outer, trust=trust, now=now, owned=True)
    if report.core_valid:
        checks.append(
            Check("container.signature", Outcome.PASS, f"la firma del contenedor verifica ({report.signer_subject})")
        )
    else:
        reasons = "; ".join(report.reasons()[:2])
        checks.append(
            Check(
                "container.signature",
                Outcome.WARN,
                "la firma del contenedor no verifica (es opcional y suele copiarse de la factura; no afecta la validez "
                f"del documento): {reasons}",
            )
        )
    return report


def _dian_answer(
    answer_xml: bytes | None,
    document: CommercialDocument | None,
    trust: TrustStore,
    dian_pins: Iterable[str],
    now: dt.datetime | None,
    checks: list[Check],
) -> tuple[ApplicationResponse | None, SignatureReport | None, tuple[LineResponse, ...]]:
    if answer_xml is None:
        # Warn, not fail: the optional online GetStatus query (dian-facts 3.3 step 5) settles it, and the quarantine
        # policy for documents without DIAN's answer belongs to intake, not to this check.
        checks.append(
            Check(
                "dian.response",
                Outcome.WARN,
                "sin validación DIAN adjunta: el documento no trae la respuesta de DIAN; consultar su estado en DIAN",
            )
        )
        return None, None, ()
    try:
        answer_root = parse_xml(answer_xml)
    except ParseError as exc:
        checks.append(Check("dian.response", Outcome.FAIL, f"la respuesta de DIAN adjunta es ilegible: {exc}"))
        return None, None, ()
    if _local(answer_root) != "ApplicationResponse":
        checks.append(
            Check("dian.response", Outcome.FAIL, f"la respuesta de DIAN adjunta es un «{_local(answer_root)}»")
        )
        return None, None, ()
    store = trust.with_pins(dian_pins)
    report = verify(answer_root, trust=store, expected_nits=(DIAN_NIT,), now=now, owned=True)
    for check in _prefixed("dian", report, skip=("certificate.chain",)):
        checks.append(check)
    chain = report.check("certificate.chain")
    if chain is not None:
        if chain.outcome == Outcome.WARN:
            checks.append(
                Check(
                    "dian.certificate.chain",
                    Outcome.WARN,
                    "no se puede decidir si la respuesta la firmó DIAN: "
                    f"{chain.detail}, y el certificado de DIAN no está fijado (huella SHA-256)",
                )
            )
        else:
            checks.append(Check("dian.certificate.chain", chain.outcome, chain.detail))
    if report.signed_element is None:
        return None, report, ()
    try:
        parsed = parse_document(report.signed_element)
    except ParseError as exc:
        checks.append(Check("dian.response", Outcome.FAIL, f"la respuesta de DIAN firmada no se puede leer: {exc}"))
        return None, report, ()
    if not isinstance(parsed, ApplicationResponse):  # pragma: no cover - the root name was checked above
        checks.append(Check("dian.response", Outcome.FAIL, "la respuesta de DIAN no es un ApplicationResponse"))
        return None, report, ()
    answer = parsed
    code = answer.response_code
    if code == "02":
        checks.append(Check("dian.response", Outcome.PASS, "Documento validado por la DIAN (código 02)"))
    elif code == "04":
        checks.append(Check("dian.response", Outcome.FAIL, "Documento rechazado por la DIAN (código 04)"))
    else:
        checks.append(
            Check("dian.response", Outcome.FAIL, f"la respuesta adjunta no es una validación de DIAN (código {code!r})")
        )
    if not _same_nit(answer.sender.nit, DIAN_NIT):
        checks.append(
            Check(
                "dian.sender", Outcome.FAIL, f"la respuesta la emite el NIT {answer.sender.nit}, no DIAN ({DIAN_NIT})"
            )
        )
    if document is not None:
        ref = answer.document_reference
        if ref is None:
            checks.append(Check("dian.document_reference", Outcome.FAIL, "la respuesta de DIAN no nombra el documento"))
        else:
            same_uuid = (ref.uuid or "").strip().lower() == document.uuid.strip().lower()
            same_number = ref.id.strip() == document.number.strip()
            if same_uuid and same_number:
                checks.append(
                    Check("dian.document_reference", Outcome.PASS, f"la respuesta es del documento {document.number}")
                )
            else:
                checks.append(
                    Check(
                        "dian.document_reference",
                        Outcome.FAIL,
                        f"la respuesta de DIAN es de otro documento ({ref.id}, CUFE {(ref.uuid or '?')[:16]}…), "
                        f"no de {document.number} (CUFE {document.uuid[:16]}…)",
                    )
                )
    notifications = tuple(n for n in answer.line_responses if n.code not in {"0000", "0"})
    if notifications:
        listed = ", ".join(n.code for n in notifications)
        checks.append(Check("dian.notifications", Outcome.PASS, f"notificaciones de DIAN (no bloquean): {listed}"))
    return answer, report, notifications
