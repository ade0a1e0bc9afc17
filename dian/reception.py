"""Verify a received document end to end (dian-facts 3.3): an AttachedDocument, a bare Invoice/CreditNote/DebitNote,
an event (ApplicationResponse 030-051, bare or in a container) or DIAN's validation answer mailed on its own.

Every field the report returns is parsed from the element the signature covers, never from the raw bytes, so a
wrapped or forged element cannot reach the filed record; a document whose signature fails still reports what it
*says* (``unverified_document``, marked unproven) so a clerk can chase the supplier. DIAN's ApplicationResponse is
weighed by the one trust policy of ``dian.proof``: only a DIAN signature anchored or pinned proves the validation;
anything else makes the verdict ``unconfirmed`` ("validación DIAN sin confirmar"), never valid.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from dian.cdata import SetAside, parse_aside
from dian.codes import DIAN_NIT, EventCode
from dian.errors import ParseError, UnsupportedTypeError
from dian.nit import same_nit
from dian.proof import UNCONFIRMED, DianKeys, Level, level_of
from dian.trust import TrustStore, certificate_nits, nit_matches
from dian.ubl import ApplicationResponse, AttachedDocument, CommercialDocument, LineResponse, parse_document
from dian.ubl.parse import attached_payloads
from dian.xades import Check, CheckResults, Outcome, SignatureReport, Verdict, has_signature, verdict_of, verify
from dian.xmlsafe import parse_xml

__all__ = ["ONLINE_SETTLED", "ReceptionReport", "settle_confirmed", "verify_received"]
ONLINE_SETTLED = "validación DIAN confirmada en línea"  # what settle_confirmed writes in place of "sin confirmar"

_COMMERCIAL_ROOTS = {"Invoice", "CreditNote", "DebitNote"}
_HEX = frozenset("0123456789abcdef")
_EVENT_CODES = frozenset(code.value for code in EventCode)


def is_key(value: str | None) -> bool:
    """True for a CUFE/CUDE/CUDS of DIAN's shape: SHA-384 as 96 hexadecimal characters (dian-facts 1.1)."""
    text = (value or "").strip().lower()
    return len(text) == 96 and set(text) <= _HEX


def _key_problem(what: str, value: str | None) -> str | None:
    text = (value or "").strip()
    if not text:
        return f"el {what} está vacío"
    if is_key(text):
        return None
    shown = text if len(text) <= 40 else f"{text[:40]}… ({len(text)} caracteres)"
    return f"el {what} «{shown}» no tiene la forma de DIAN (96 caracteres hexadecimales, SHA-384)"


@dataclass(frozen=True)
class ReceptionReport(CheckResults):
    """Everything Buzón learnt about one received document; ``document`` is parsed from the signed element."""

    checks: tuple[Check, ...]
    # "attached_document", "invoice", "credit_note", "debit_note", "event", "dian_answer" or "unreadable"
    kind: str
    document: CommercialDocument | None = None
    dian_response: ApplicationResponse | None = None
    # The AttachedDocument's bytes as received; its own fields (unsigned, for display) are ``attached``.
    container_xml: bytes | None = field(default=None, repr=False)
    document_signature: SignatureReport | None = None
    dian_signature: SignatureReport | None = None
    container_signature: SignatureReport | None = None
    document_xml: bytes | None = field(default=None, repr=False)  # the exact signed bytes, to store as they are
    dian_response_xml: bytes | None = field(default=None, repr=False)
    notifications: tuple[LineResponse, ...] = ()
    # Fields read from bytes whose signature did NOT verify: for the quarantine screen only, never to file.
    unverified_document: CommercialDocument | None = None
    # How well DIAN's validation is established (dian.proof); only PROVEN or CONFIRMED make the document valid.
    dian_proof: Level = Level.UNCONFIRMED
    dian_basis: str | None = None  # anchor / shipped / configured / learned, when proven
    # An event (kind "event"): the ApplicationResponse parsed from its signed bytes, and those bytes.
    event: ApplicationResponse | None = None
    event_xml: bytes | None = field(default=None, repr=False)
    unverified_event: ApplicationResponse | None = None

    @property
    def attached(self) -> AttachedDocument | None:
        """The container's own fields (its parties, dates, ids: unsigned, shown, never trusted), read from
        ``container_xml`` on first use: verification needs only the payloads it carries (``attached_payloads``).
        None when the container's own fields cannot be read as an AttachedDocument (verification reads the payloads
        liberally; this strict reading refuses, say, a root outside the UBL namespace): never raises."""
        if self.container_xml is None:
            return None
        if "_attached" not in self.__dict__:
            try:
                parsed = parse_document(self.container_xml)
            except ParseError:
                parsed = None
            object.__setattr__(self, "_attached", parsed if isinstance(parsed, AttachedDocument) else None)
        return self.__dict__["_attached"]

    @property
    def unreadable(self) -> bool:
        """True when the input could not be parsed at all."""
        return self.kind == "unreadable"

    @property
    def dian_validated(self) -> bool:
        """True when DIAN's validation (or registration, for an event) is proven offline or confirmed online, and the
        document itself holds (DIAN's genuine answer proves nothing about bytes altered after signing)."""
        return self.dian_proof.proven and verdict_of(self.checks) is not Verdict.INVALID

    @property
    def verdict(self) -> Verdict:
        """invalid on any failed check; unconfirmed while DIAN's word is not proven; else valid(_with_warnings)."""
        folded = verdict_of(self.checks)
        if folded is Verdict.INVALID or self.dian_proof is Level.INVALID:
            return Verdict.INVALID
        if not self.dian_proof.proven:
            return Verdict.UNCONFIRMED
        return folded

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable summary: verdict, key fields, signatures and every check."""
        answer = self.dian_response
        claimed = self.unverified_document if self.document is None else None
        return {
            "verdict": self.verdict.value,
            "kind": self.kind,
            "dian_validated": self.dian_validated,
            "dian_proof": self.dian_proof.value,
            "dian_basis": self.dian_basis,
            "document": _document_summary(self.document, proven=True),
            # What a document whose signature failed says of itself: unproven, for chasing the supplier only.
            "claimed_document": _document_summary(claimed, proven=False),
            "event": _event_summary(self.event or self.unverified_event, proven=self.event is not None),
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


def settle_confirmed(checks: list[dict[str, Any]], how: str) -> list[dict[str, Any]]:
    """The checks of a stored report once DIAN confirmed the document online: the "sin confirmar" warnings pass, saying
    ``how`` it was settled (the report no longer says "sin confirmar" of a confirmed document)."""
    settled = []
    for check in checks:
        detail = str(check.get("detail", ""))
        if check.get("outcome") == Outcome.WARN.value and detail.startswith(UNCONFIRMED):
            check = {**check, "outcome": Outcome.PASS.value, "detail": f"{how}{detail[len(UNCONFIRMED):]}"}
        settled.append(check)
    return settled


def _document_summary(doc: CommercialDocument | None, *, proven: bool) -> dict[str, Any] | None:
    if doc is None:
        return None
    return {
        "type": doc.document_type.value,
        "number": doc.number,
        "uuid": doc.uuid,
        "issue_date": doc.issue_date.isoformat(),
        "issued_at": doc.issued_at.isoformat(),
        "supplier_nit": doc.supplier.nit,
        "supplier_name": doc.supplier.registration_name,
        "customer_nit": doc.customer.nit,
        "payable": str(doc.monetary_total.payable),
        "currency": doc.currency,
        "software_provider_nit": doc.software_provider_nit,
        "proven": proven,
    }


def _event_summary(event: ApplicationResponse | None, *, proven: bool) -> dict[str, Any] | None:
    if event is None:
        return None
    ref = event.document_reference
    return {
        "code": event.response_code,
        "number": event.id,
        "cude": event.uuid,
        "sender_nit": event.sender.nit,
        "receiver_nit": event.receiver.nit,
        "document_id": ref.id if ref else None,
        "document_uuid": ref.uuid if ref else None,
        "proven": proven,
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


def _unreadable(name: str, detail: str, kind: str = "unreadable") -> ReceptionReport:
    return ReceptionReport(checks=(Check(name, Outcome.FAIL, detail),), kind=kind, dian_proof=Level.INVALID)


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
        return _unreadable("input.parse", f"el archivo no es un XML legible: {exc}")
    local = _local(outer)
    if local != "AttachedDocument":
        aside.restore(outer)
    container_xml: bytes | None = None
    container = _Container()
    answer_xml: bytes | None = None
    if local == "AttachedDocument":
        kind = "attached_document"
        container_xml = bytes(data)
        try:
            document_xml, answer_xml, _ = attached_payloads(outer, container_xml, aside)
        except ParseError as exc:
            return _unreadable("container.parse", f"AttachedDocument ilegible: {exc}", kind)
        aside.restore(outer)  # any section but the two payloads (a certificate written as CDATA, say)
        container = _Container(outer if has_signature(outer) else None, trust, now, aside)
        outer = None  # type: ignore[assignment]
        try:
            doc_root = parse_xml(document_xml)
        except ParseError as exc:
            checks.append(Check("document.parse", Outcome.FAIL, f"el documento adjunto no es un XML legible: {exc}"))
            return ReceptionReport(
                checks=container.settled(checks, Level.INVALID), kind=kind, container_xml=container_xml,
                document_xml=document_xml, dian_proof=Level.INVALID,
            )  # fmt: skip
        inner = _local(doc_root)
        if inner == "ApplicationResponse":  # an event mailed in its container, with DIAN's answer beside it
            return _verify_event(document_xml, doc_root, answer_xml, trust, keys, now, checks, container_xml, container)
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
        return _verify_application_response(bytes(data), outer, trust, keys, now)
    else:
        return _unreadable(
            "input.parse",
            f"se esperaba un AttachedDocument, Invoice, CreditNote, DebitNote o ApplicationResponse y llegó "
            f"«{local or '?'}»",
            local or "unknown",
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
        problem = _key_problem("CUFE/CUDE del documento", document.uuid)
        if problem:
            checks.append(Check("document.uuid", Outcome.FAIL, problem))
        checks.extend(_identity_problems(document))
        for reference in document.billing_references:
            if reference.uuid and (problem := _key_problem("CUFE de la factura referenciada", reference.uuid)):
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
    answer, answer_report, notifications, level, basis = _dian_answer(answer_xml, document, keys, now, checks)
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


def _verify_application_response(
    data: bytes, root: etree._Element, trust: TrustStore, keys: DianKeys, now: dt.datetime | None
) -> ReceptionReport:
    """A bare ApplicationResponse: DIAN's validation of a document (mailed on its own) or a counterpart's event."""
    try:
        claimed = parse_document(root)
    except ParseError:
        claimed = None
    is_answer = isinstance(claimed, ApplicationResponse) and (
        claimed.is_validation or same_nit(claimed.sender.nit, DIAN_NIT)
    )
    if not is_answer:
        event = claimed if isinstance(claimed, ApplicationResponse) else None
        return _verify_event(data, root, None, trust, keys, now, [], None, claimed=event)
    checks: list[Check] = []
    answer, report, notifications, level, basis = _dian_answer(data, None, keys, now, checks, owned_root=root)
    ref = answer.document_reference if answer is not None else None
    if ref is not None:
        if problem := _key_problem("CUFE del documento validado", ref.uuid):
            checks.append(Check("dian.document_reference", Outcome.FAIL, problem))
            level = Level.INVALID
        else:
            checks.append(
                Check(
                    "dian.document_reference",
                    Outcome.PASS,
                    f"validación de DIAN del documento {ref.id} (CUFE {(ref.uuid or '')[:16]}…); se cruza con el "
                    "documento por su CUFE cuando esté archivado",
                )
            )
    elif answer is not None:
        checks.append(Check("dian.document_reference", Outcome.FAIL, "la respuesta de DIAN no nombra el documento"))
        level = Level.INVALID
    return ReceptionReport(
        checks=tuple(checks),
        kind="dian_answer",
        dian_response=answer,
        dian_signature=report,
        dian_response_xml=data,
        notifications=notifications,
        dian_proof=level,
        dian_basis=basis,
    )


def _verify_event(
    event_xml: bytes,
    root: etree._Element,
    answer_xml: bytes | None,
    trust: TrustStore,
    keys: DianKeys,
    now: dt.datetime | None,
    checks: list[Check],
    container_xml: bytes | None,
    container: _Container | None = None,
    *,
    claimed: ApplicationResponse | None = None,
) -> ReceptionReport:
    """A counterpart's event: its signature, that its signer is its SenderParty (or the sender's software provider),
    the shape of its CUDE and CUFE, and DIAN's answer registering it (dian-facts 2.5). ``claimed`` is the event as
    read from the unverified tree, when the caller has read it already."""
    if claimed is None:  # read before verify() detaches the signature of the tree it owns
        claimed = _claimed_event(root)

    def refused(**fields: Any) -> ReceptionReport:
        return _event_report(checks, container_xml, container, event_xml, unverified_event=claimed,
                             dian_proof=Level.INVALID, **fields)  # fmt: skip

    if not has_signature(root):
        checks.append(Check("event.signature", Outcome.FAIL, f"{_event_words(claimed)} no está firmado"))
        return refused()
    signature = verify(root, trust=trust, now=now, owned=True)
    checks.extend(_prefixed("event", signature))
    event: ApplicationResponse | None = None
    if signature.signed_c14n is not None:
        try:
            parsed = parse_document(signature.signed_element)
        except ParseError as exc:
            checks.append(Check("event.parse", Outcome.FAIL, f"el evento firmado no se puede leer: {exc}"))
        else:
            if isinstance(parsed, ApplicationResponse):
                event = parsed
    if event is None:
        what = _event_words(claimed)
        checks.append(Check("event.parse", Outcome.FAIL, f"{what}: la firma no verifica, nada de él es confiable"))
        return refused(document_signature=signature)
    if not event.is_event:
        checks.append(
            Check(
                "event.parse",
                Outcome.FAIL,
                f"el ApplicationResponse trae el código «{event.response_code}», no un evento",
            )
        )
    else:
        checks.append(Check("event.parse", Outcome.PASS, _event_words(event)))
    ref = event.document_reference
    for label, value in (("CUDE del evento", event.uuid), ("CUFE de la factura del evento", ref.uuid if ref else None)):
        if problem := _key_problem(label, value):
            checks.append(Check("event.uuid", Outcome.FAIL, problem))
    cert = signature.certificate
    if cert is not None:
        sender = event.sender.nit
        provider = event.software_provider_nit
        if nit_matches(cert, sender):
            checks.append(Check("event.signer.nit", Outcome.PASS, f"firmado por quien lo envía (NIT {sender})"))
        elif provider and nit_matches(cert, provider):
            checks.append(
                Check(
                    "event.signer.nit", Outcome.PASS, f"firmado por el proveedor tecnológico del remitente ({provider})"
                )
            )
        else:
            checks.append(
                Check(
                    "event.signer.nit",
                    Outcome.FAIL,
                    f"el certificado firmante es del NIT {', '.join(certificate_nits(cert)) or 'desconocido'}, pero "
                    f"el evento dice enviarlo el NIT {sender}",
                )
            )
    cude = (event.uuid or "").strip().lower() or None
    answer, answer_report, notes, level, basis = _dian_answer(answer_xml, None, keys, now, checks, about=cude)
    return _event_report(checks, container_xml, container, event_xml, event=event, document_signature=signature,
                         dian_response=answer, dian_signature=answer_report, dian_response_xml=answer_xml,
                         notifications=notes, dian_proof=level, dian_basis=basis)  # fmt: skip


def _event_words(event: ApplicationResponse | None) -> str:
    if event is None:
        return "el evento"
    code = event.response_code
    label = EventCode(code).label if code in _EVENT_CODES else f"código {code or '?'}"
    ref = event.document_reference
    about = f" sobre la factura {ref.id} (CUFE {(ref.uuid or '?')[:16]}…)" if ref else ""
    return f"el evento {code} ({label}) del NIT {event.sender.nit}{about}"


def _claimed_event(root: etree._Element) -> ApplicationResponse | None:
    """What an event says of itself before (or without) its signature being proven; for messages only."""
    try:
        claimed = parse_document(root)
    except ParseError:
        return None
    return claimed if isinstance(claimed, ApplicationResponse) else None


def _event_report(
    checks: list[Check],
    container_xml: bytes | None,
    container: _Container | None,
    event_xml: bytes,
    **fields: Any,
) -> ReceptionReport:
    """The report of an event (kind "event"); ``document_signature`` is the event's own signature."""
    if container is None:
        return ReceptionReport(checks=tuple(checks), kind="event", container_xml=container_xml, event_xml=event_xml,
                               **fields)  # fmt: skip
    settled = container.settled(checks, fields["dian_proof"])
    return ReceptionReport(checks=settled, kind="event", container_xml=container_xml, event_xml=event_xml,
                           container_signature=container.report, **fields)  # fmt: skip


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


def _can_change_verdict(checks: Iterable[Check], level: Level) -> bool:
    """Whether a warning could still change the verdict: nothing has failed or warned so far, except "sin confirmar"
    warnings (which an online confirmation may settle later, ``settle_confirmed``), and DIAN's word is not invalid."""
    if level is Level.INVALID:
        return False
    return all(
        c.outcome is Outcome.PASS or (c.outcome is Outcome.WARN and c.detail.startswith(UNCONFIRMED)) for c in checks
    )


@dataclass
class _Container:
    """The AttachedDocument's own signature, weighed last (dian-facts 3.3.6): it is optional and often copied rather
    than computed, so it can only pass or warn, never fail; a warning changes the verdict only of a document that has
    nothing else against it (valid → valid with warnings). So it is verified only then: when the document already
    warns or fails on its own, the check says the signature was not verified and why, and ``report`` stays None."""

    root: etree._Element | None = None  # the container's tree, held while a signature on it is pending
    trust: TrustStore | None = None
    now: dt.datetime | None = None
    aside: SetAside | None = None  # the payloads set aside when the tree was parsed: C14N puts their text back
    report: SignatureReport | None = None
    signed: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self.signed = self.root is not None

    def settled(self, checks: list[Check], level: Level) -> tuple[Check, ...]:
        """``checks`` with the container's check added (verifying its signature when it can change the verdict)."""
        root, self.root = self.root, None
        if not self.signed:
            check = Check("container.signature", Outcome.PASS, "el contenedor no está firmado (la firma es opcional)")
        elif not _can_change_verdict(checks, level):
            check = Check(
                "container.signature",
                Outcome.PASS,
                "la firma del contenedor no se verificó: es opcional y no cambiaría el veredicto, porque el documento "
                "ya tiene advertencias o fallas propias",
            )
        else:
            assert root is not None and self.trust is not None
            aside = self.aside.canonical() if self.aside is not None else ()
            self.report = report = verify(root, trust=self.trust, now=self.now, owned=True, set_aside=aside)
            if report.core_valid:
                check = Check(
                    "container.signature", Outcome.PASS, f"la firma del contenedor verifica ({report.signer_subject})"
                )
            else:
                reasons = "; ".join(report.reasons()[:2])
                check = Check(
                    "container.signature",
                    Outcome.WARN,
                    "la firma del contenedor no verifica (es opcional y suele copiarse de la factura; no afecta la "
                    f"validez del documento): {reasons}",
                )
        return (*checks, check)


def _dian_answer(
    answer_xml: bytes | None,
    document: CommercialDocument | None,
    keys: DianKeys,
    now: dt.datetime | None,
    checks: list[Check],
    *,
    about: str | None = None,
    owned_root: etree._Element | None = None,
) -> tuple[ApplicationResponse | None, SignatureReport | None, tuple[LineResponse, ...], Level, str | None]:
    """Weigh DIAN's answer: its signature by the one trust policy, its code, its sender and what it is about."""
    empty: tuple[LineResponse, ...] = ()
    if answer_xml is None:
        what = "el evento" if about is not None else "el documento"
        checks.append(
            Check(
                "dian.response",
                Outcome.WARN,
                f"{UNCONFIRMED}: {what} no trae la respuesta de DIAN; se consulta su estado en DIAN",
            )
        )
        return None, None, empty, Level.UNCONFIRMED, None
    if owned_root is not None:
        answer_root = owned_root
    else:
        try:
            answer_root = parse_xml(answer_xml)
        except ParseError as exc:
            checks.append(Check("dian.response", Outcome.FAIL, f"la respuesta de DIAN adjunta es ilegible: {exc}"))
            return None, None, empty, Level.INVALID, None
    if _local(answer_root) != "ApplicationResponse":
        checks.append(
            Check("dian.response", Outcome.FAIL, f"la respuesta de DIAN adjunta es un «{_local(answer_root)}»")
        )
        return None, None, empty, Level.INVALID, None
    report = verify(answer_root, trust=keys.store(), expected_nits=(DIAN_NIT,), now=now, owned=True)
    before = len(checks)
    checks.extend(_prefixed("dian", report, skip=("certificate.chain",)))
    level, why = level_of(report)
    chain = report.check("certificate.chain")
    if level is Level.PROVEN:
        checks.append(Check("dian.certificate.chain", Outcome.PASS, f"{why} ({chain.detail if chain else ''})"))
    elif level is Level.UNCONFIRMED:
        checks.append(Check("dian.certificate.chain", Outcome.WARN, why))
    elif chain is not None:
        checks.append(Check("dian.certificate.chain", chain.outcome, chain.detail))
    if report.signed_element is None:
        return None, report, empty, Level.INVALID, None
    try:
        parsed = parse_document(report.signed_element)
    except ParseError as exc:
        checks.append(Check("dian.response", Outcome.FAIL, f"la respuesta de DIAN firmada no se puede leer: {exc}"))
        return None, report, empty, Level.INVALID, None
    if not isinstance(parsed, ApplicationResponse):  # pragma: no cover - the root name was checked above
        checks.append(Check("dian.response", Outcome.FAIL, "la respuesta de DIAN no es un ApplicationResponse"))
        return None, report, empty, Level.INVALID, None
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
    if not same_nit(answer.sender.nit, DIAN_NIT):
        checks.append(
            Check(
                "dian.sender", Outcome.FAIL, f"la respuesta la emite el NIT {answer.sender.nit}, no DIAN ({DIAN_NIT})"
            )
        )
    ref = answer.document_reference
    if about is not None:
        named = (ref.uuid or "").strip().lower() if ref else ""
        if named == about:
            checks.append(Check("dian.document_reference", Outcome.PASS, "la respuesta de DIAN es de este evento"))
        else:
            checks.append(
                Check(
                    "dian.document_reference",
                    Outcome.FAIL,
                    f"la respuesta de DIAN es de otro documento (CUDE {named[:16] or '?'}…), no de este evento",
                )
            )
    elif document is not None:
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
    if any(c.outcome == Outcome.FAIL for c in checks[before:]):
        level = Level.INVALID
    basis = keys.basis(report) if level.proven else None
    return answer, report, notifications, level, basis
