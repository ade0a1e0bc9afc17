"""The domain objects of DESIGN.md section 3 as typed SQLAlchemy 2 models.

Enum columns store DIAN's code ("030", "01"), money is Numeric, times are aware and stored in UTC.

One module per noun (base, states, mail, documents, events, issuing, titles, proofs, access, approvals, operations);
importing this package imports them all, so every mapper and relationship("X") resolves through the one registry.
Import the models from here; the modules import each other directly, never this package.
"""

from dian.codes import DocumentState  # re-exported: callers have long imported it from here
from store.models.access import ApiToken, LoginThrottle, User
from store.models.approvals import Approval, ApprovalState
from store.models.base import NAMING, Base, Timestamps, partial_index, utcnow
from store.models.documents import (
    AGED_OUT,
    EVENTS_SYNC_STATES,
    EVENTS_SYNC_WATCHED,
    DocumentComment,
    DocumentTotal,
    ReceivedDocument,
    Supplier,
    SupplierTotal,
)
from store.models.events import LIVE_EMITTED_RECEPTION_EVENT, OPEN_EMITTED_EVENTS, DocumentEvent, EventParty
from store.models.issuing import OUTBOUND_DUE, NumberingRange, OutboundDocument, SupportPurchase
from store.models.mail import MailMessage, OutgoingMail
from store.models.operations import AuditEntry, CompanyStamp, Counter, JobRun, LegalHold, WebhookDelivery
from store.models.proofs import DianCertificate, LooseAnswer
from store.models.states import (
    AlertKind,
    DeliveryState,
    Direction,
    MailKind,
    MailStatus,
    OutboundState,
    PartyRole,
    QuarantineReason,
    Role,
    SubmissionState,
    TitleRole,
    TitleState,
    Verdict,
    WebhookState,
)
from store.models.titles import TitleAlert, ValueTitle

__all__ = [
    "AGED_OUT",
    "EVENTS_SYNC_STATES",
    "EVENTS_SYNC_WATCHED",
    "LIVE_EMITTED_RECEPTION_EVENT",
    "NAMING",
    "OPEN_EMITTED_EVENTS",
    "OUTBOUND_DUE",
    "AlertKind",
    "ApiToken",
    "Approval",
    "ApprovalState",
    "AuditEntry",
    "Base",
    "CompanyStamp",
    "Counter",
    "DeliveryState",
    "DianCertificate",
    "Direction",
    "DocumentComment",
    "DocumentEvent",
    "DocumentState",
    "DocumentTotal",
    "EventParty",
    "JobRun",
    "LegalHold",
    "LoginThrottle",
    "LooseAnswer",
    "MailKind",
    "MailMessage",
    "MailStatus",
    "NumberingRange",
    "OutboundDocument",
    "OutboundState",
    "OutgoingMail",
    "PartyRole",
    "QuarantineReason",
    "ReceivedDocument",
    "Role",
    "SubmissionState",
    "Supplier",
    "SupplierTotal",
    "SupportPurchase",
    "Timestamps",
    "TitleAlert",
    "TitleRole",
    "TitleState",
    "User",
    "ValueTitle",
    "Verdict",
    "WebhookDelivery",
    "WebhookState",
    "partial_index",
    "utcnow",
]
