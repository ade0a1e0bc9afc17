"""The states and kinds the tables store as codes (StrEnums): of mail, documents, events, titles, outbound
documents, deliveries, webhooks and users."""

from __future__ import annotations

from enum import StrEnum


class MailStatus(StrEnum):
    PENDING = "pending"  # raw bytes stored, not yet processed
    FILED = "filed"
    QUARANTINED = "quarantined"
    IGNORED = "ignored"  # nothing for us (e.g. an out-of-office reply) and nothing to keep


class QuarantineReason(StrEnum):
    NOT_FOR_US = "not_for_us"  # not addressed to our NIT
    SIGNATURE_INVALID = "signature_invalid"
    NOT_VALIDATED = "not_validated"  # no valid DIAN validation
    NO_DOCUMENT = "no_document"  # no electronic document inside
    DUPLICATE = "duplicate"
    TOO_LARGE = "too_large"
    UNREADABLE = "unreadable"
    FORGED = "forged"  # an event or DIAN answer whose signer, parties or DIAN registration do not match
    INTERNAL_ERROR = "error_interno"  # an unexpected failure tied to this one message (its one-line summary kept)
    UNSUPPORTED = "unsupported"  # signed and readable, of a type Buzón does not take (a documento equivalente)


class Verdict(StrEnum):
    VALID = "valid"
    VALID_WITH_WARNINGS = "valid_with_warnings"
    UNCONFIRMED = "unconfirmed"  # signatures verify, but DIAN's validation is not proven (DESIGN.md 5a)
    INVALID = "invalid"


class Direction(StrEnum):
    EMITTED = "emitted"  # ours
    OBSERVED = "observed"  # the counterpart's, or a third party's (RADIAN)


class SubmissionState(StrEnum):
    DRAFT = "draft"
    SIGNED = "signed"
    SENT = "sent"
    REGISTERED = "registered"
    REJECTED = "rejected"
    SEND_FAILED = "send_failed"  # retryable


class TitleRole(StrEnum):
    HOLDER = "holder"  # our own invoice, or one endorsed to us
    OBLIGOR = "obligor"  # a received invoice we must pay


class TitleState(StrEnum):
    """Where a title stands; the values of radian.title.TitleState (DIAN's portal labels, A.12) plus UNREGISTERED."""

    UNREGISTERED = "unregistered"  # a credit invoice of ours on file, no 036 registered yet
    REGISTERED = "registered"  # 036: "Disponibilizada"
    ENDORSED = "endorsed"  # 037/038/039/047
    LIMITED = "limited"  # an active 041
    PROTESTED = "protested"  # 048
    TRANSFERRED = "transferred"  # 049
    PARTIALLY_PAID = "partially_paid"  # 451/511
    PAID = "paid"  # 452/512: closed


class PartyRole(StrEnum):
    """The place a party takes in a RADIAN event (radian-issuing-facts.md A.4, A.8)."""

    SENDER = "sender"  # SenderParty/PartyLegalEntity: endorser, payer, cedente
    RECEIVER = "receiver"  # ReceiverParty/PartyLegalEntity: endorsee (factor), assignee, cesionario
    COUNTERPART = "counterpart"  # DocumentResponse/IssuerParty/PartyLegalEntity: 362/364 buyer, 035 avalado
    DEBTOR = "debtor"  # DocumentReference/IssuerParty: the invoice buyer (037/038/039/047/049)
    MANDATARIO = "mandatario"  # 043: the agent the mandate empowers


class AlertKind(StrEnum):
    """Why treasury or AP is told about a title."""

    HOLDER_CHANGED = "holder_changed"  # a 037 moved the title: pay the new holder
    LIMITED = "limited"  # a 041: payment frozen
    LIMITATION_LIFTED = "limitation_lifted"  # a 042
    TRANSFERRED = "transferred"  # 049/050: the economic rights moved
    PROTESTED = "protested"  # 048
    PARTIALLY_PAID = "partially_paid"  # 451/511
    PAID = "paid"  # 452/512
    REGISTERED = "registered"  # 036 of a title
    REFUSED = "refused"  # DIAN refused one of our RADIAN events
    HOLDER_DISPUTED = "holder_disputed"  # GetDocumentInfo (unsigned) names another holder than the proven replay
    CLAIMED = "claimed"  # 031: the buyer claimed one of our invoices (it will not become a title)


class OutboundState(StrEnum):
    DRAFT = "draft"
    SIGNED = "signed"
    SENT = "sent"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    SEND_FAILED = "send_failed"


class DeliveryState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class WebhookState(StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # gave up after the configured attempts
    SKIPPED = "skipped"  # no webhook URL was configured when it came up for delivery


class MailKind(StrEnum):
    EVENT_NOTICE = "event_notice"  # our registered event, mailed to the supplier
    REMINDER = "reminder"  # a claim window about to close, mailed to the assigned clerk
    TITLE_ALERT = "title_alert"  # a supplier invoice changed holder or was limited, mailed to treasury and AP
    ISSUED = "issued"  # our invoice or note DIAN validated, mailed to the buyer (issuing/delivery.py)


class Role(StrEnum):
    CLERK = "clerk"  # inbox, events 030-033
    TREASURY = "treasury"  # RADIAN; inbox read-only
    ADMIN = "admin"  # users, settings
    AUDITOR = "auditor"  # read-only everything, audit log
    BILLING = "billing"  # facturación: issues our invoices and notes (web/issued*.py); no supplier inbox
