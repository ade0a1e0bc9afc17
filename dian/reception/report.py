"""What reception learnt about one received file (``ReceptionReport``); the checks an online confirmation settles."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dian.errors import ParseError
from dian.proof import UNCONFIRMED, Level
from dian.ubl import ApplicationResponse, AttachedDocument, CommercialDocument, LineResponse, parse_document
from dian.xades import Check, CheckResults, Outcome, SignatureReport, Verdict, verdict_of

ONLINE_SETTLED = "validación DIAN confirmada en línea"  # what settle_confirmed writes in place of "sin confirmar"


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
            check = {**check, "outcome": Outcome.PASS.value, "detail": f"{how}{detail[len(UNCONFIRMED) :]}"}
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


def unreadable(name: str, detail: str, kind: str = "unreadable") -> ReceptionReport:
    return ReceptionReport(checks=(Check(name, Outcome.FAIL, detail),), kind=kind, dian_proof=Level.INVALID)
