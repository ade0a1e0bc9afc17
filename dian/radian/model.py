"""Typed, frozen views of the RADIAN events 035-051: what Buzón builds and what it reads back are the same types.

Sections cited are those of radian-issuing-facts.md (A.x). The common header, parties and signature are those of the
030-034 events (dian-facts.md 2.5); what 035-051 add is here: the operation (variant), the parties' shares, the value
block, the due date, the debtor, the mandate blocks and the attachments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from dian.codes import (
    EVENT_DOCUMENT_TYPE,
    EndorsementKind,
    Environment,
    EventCode,
    MandanteType,
    MandatarioType,
    MandateEvidence,
    MandateScope,
    Operation,
    PaymentCondition,
)
from dian.radian.blocks import ValueBlock
from dian.ubl.model import Party, Person

__all__ = ["LIST_IDS", "Attachment", "Mandate", "RadianEvent", "Share", "TitleReference"]

# The events whose ResponseCode carries a listID, and the code list it is drawn from (A.4): the kind of endorsement,
# the mandate's scope, the payment's condition. Every other event carries none.
LIST_IDS: dict[EventCode, type] = {
    EventCode.ENDOSO_PROPIEDAD: EndorsementKind,
    EventCode.ENDOSO_GARANTIA: EndorsementKind,
    EventCode.ENDOSO_PROCURACION: EndorsementKind,
    EventCode.ENDOSO_CESION: EndorsementKind,
    EventCode.MANDATO: MandateScope,
    EventCode.PAGO: PaymentCondition,
    EventCode.PAGO_TRANSFERENCIA: PaymentCondition,
}


@dataclass(frozen=True)
class Share:
    """One cac:PartyLegalEntity of SenderParty or ReceiverParty: a co-endorser or co-endorsee and its share (A.4).

    ``amount`` is cbc:CorporateStockAmount: the endorsed share (037), the amount paid (045),
    the avalista's backing (035).
    """

    nit: str
    registration_name: str
    dv: str | None = None
    id_scheme: str = "31"
    amount: Decimal | None = None
    legal_form_code: str | None = None  # cbc:CompanyLegalFormCode (HGInet writes 1 on the endorsee)


@dataclass(frozen=True)
class TitleReference:
    """cac:DocumentReference: the invoice (type 01, its CUFE), or for 040/042/044 the event it ends (type 96, A.4)."""

    id: str
    uuid: str | None
    type_code: str = "01"

    @property
    def is_event(self) -> bool:
        """True when the reference is an event (DocumentTypeCode 96), as on 040, 042 and 044 (A.4)."""
        return self.type_code == EVENT_DOCUMENT_TYPE

    @property
    def uuid_scheme(self) -> str:
        return "CUDE-SHA384" if self.is_event else "CUFE-SHA384"


@dataclass(frozen=True)
class Mandate:
    """The blocks of a 043 mandate (A.8): who grants it, to whom, over which invoices, for how long, with which powers.

    ``powers`` are the ``<power>-<actor>`` codes of table 14.2.4; general mandates (431/432) use ``ALL17-<actor>``.
    """

    mandante_type: MandanteType
    mandatario_nit: str
    mandatario_type: MandatarioType
    scope: MandateScope
    powers: tuple[str, ...]
    invoices: tuple[TitleReference, ...] = ()  # none for MandateScope.ALL_INVOICES
    start_date: date | None = None  # ValidityPeriod, mandatory for 431/433
    end_date: date | None = None
    mandatario_dv: str | None = None
    representative: Person | None = None  # the mandatario's legal representative (AgentParty/Person)
    evidence: MandateEvidence = MandateEvidence.NOT_EMBEDDED

    def covers_invoice(self, cufe: str) -> bool:
        """True when the mandate names this invoice, or is over all the mandante's invoices (A.3)."""
        return self.scope is MandateScope.ALL_INVOICES or any(ref.uuid == cufe for ref in self.invoices)

    def in_force_on(self, day: date) -> bool:
        """True on the days the mandate's validity period covers; an unlimited mandate has no end (A.8)."""
        if self.start_date is not None and day < self.start_date:
            return False
        return self.end_date is None or day <= self.end_date


@dataclass(frozen=True)
class Attachment:
    """A PDF carried base64 in cac:Attachment/cbc:EmbeddedDocumentBinaryObject: the 048 protest certificate (AAI84)
    or the 043 mandate contract when CustomizationID/@schemeID is 2 (AAH84)."""

    filename: str
    content: bytes


@dataclass(frozen=True)
class RadianEvent:
    """One event 035-051 as an ApplicationResponse says it (A.4-A.10); ``cude`` and the software fields are set when
    parsed (the builder computes the CUDE itself)."""

    operation: Operation
    number: str
    issue_date: date
    issue_time: str  # "HH:MM:SS-05:00": the literal enters the CUDE
    environment: Environment
    sender: Party  # SenderParty/PartyTaxScheme
    receiver: Party  # ReceiverParty/PartyTaxScheme
    reference: TitleReference
    sender_shares: tuple[Share, ...] = ()  # SenderParty/PartyLegalEntity (endorsers, payer)
    receiver_shares: tuple[Share, ...] = ()  # ReceiverParty/PartyLegalEntity (endorsees, assignees)
    list_id: str | None = None  # ResponseCode/@listID: EndorsementKind, MandateScope or PaymentCondition (A.4)
    due_date: date | None = None  # DocumentReference/ValidityPeriod/EndDate = invoice PaymentDueDate (AAH59)
    debtor: Party | None = None  # DocumentReference/IssuerParty/PartyTaxScheme: the invoice buyer (AAH25b/26b)
    counterpart: Share | None = None  # DocumentResponse/IssuerParty/PartyLegalEntity: 362/364 buyer, 035 avalado
    block: ValueBlock | None = None
    effective_date: date | None = None  # Response/EffectiveDate: payment date (045/051), mandate start (043)
    mandate: Mandate | None = None  # 043 only
    attachments: tuple[Attachment, ...] = ()
    notes: tuple[str, ...] = ()
    cude: str | None = None
    issued_at: datetime | None = None
    software_provider_nit: str | None = None
    software_id: str | None = None
    software_security_code: str | None = None
    qr_code: str | None = None
    profile_id: str | None = None

    @property
    def code(self) -> EventCode:
        """The event code (cbc:ResponseCode) of the operation."""
        return self.operation.event

    @property
    def endorsement_kind(self) -> EndorsementKind | None:
        """Complete or blank, for 037/038/039/047 (A.4)."""
        if self.code not in _ENDORSEMENTS or self.list_id is None:
            return None
        return EndorsementKind(self.list_id)

    @property
    def blank(self) -> bool:
        """True for a blank endorsement 037/038/039, whose CUDE omits the sender (A.4)."""
        return self.code in _BLANK_CUDE and self.list_id == EndorsementKind.BLANK

    @property
    def payment_condition(self) -> PaymentCondition | None:
        """Free or under an active limitation, for 045/051 (A.4)."""
        if self.code not in (EventCode.PAGO, EventCode.PAGO_TRANSFERENCIA) or self.list_id is None:
            return None
        return PaymentCondition(self.list_id)

    @property
    def paid(self) -> Decimal | None:
        """The amount a 045/051 pays: the sum of SenderParty CorporateStockAmount (A.9)."""
        amounts = [share.amount for share in self.sender_shares if share.amount is not None]
        return sum(amounts, Decimal(0)) if amounts else None


_ENDORSEMENTS = frozenset(
    {EventCode.ENDOSO_PROPIEDAD, EventCode.ENDOSO_GARANTIA, EventCode.ENDOSO_PROCURACION, EventCode.ENDOSO_CESION}
)
# A.4: the CUDE exception is confirmed for 037/038/039 only; 047's listID comes from TS-annex alone.
_BLANK_CUDE = frozenset({EventCode.ENDOSO_PROPIEDAD, EventCode.ENDOSO_GARANTIA, EventCode.ENDOSO_PROCURACION})
