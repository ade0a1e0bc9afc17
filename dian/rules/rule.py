"""The shape of one row of the rules table: the event's preconditions (EventRule), what one of its operations adds
(OperationRule), the "signed after" references (After) and the time windows (Window).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from dian.codes import EventCode, Operation
from dian.rules.roles import Role


class Window(Enum):
    """Time windows beyond "signed after its reference"."""

    CLAIM = "claim"  # 031/033: until the end of the 3rd business day after the 032 (art. 773 C.Co., 2.2)
    TACIT = "tacit"  # 034: more than 3 business days after the 032 (DC24e)
    BEFORE_DUE = "before_due"  # 046: not after the due date, at least 3 business days before it (LGC55/LGC54)
    PAST_DUE = "past_due"  # 047: only after the due date (LGC72)
    BEFORE_MATURITY = "before_maturity"  # 037: not after the due date; then it is a 047 (AAH59a, A.10)
    NOT_DUE = "not_due"  # 481 protest for non-acceptance: before the due date (LGC75)
    PROTEST_TERM = "protest_term"  # 482 protest for non-payment: after due (LGC76), within 15 business days (LGC77)


@dataclass(frozen=True)
class After:
    """The new event must be signed no earlier than a reference: an event, or the invoice when ``event`` is None."""

    event: EventCode | None
    rule: str


@dataclass(frozen=True)
class OperationRule:
    """What one operation (CustomizationID variant) adds to its event's row (radian-issuing-facts.md A.5-A.10)."""

    senders: frozenset[Role] | None = None  # narrower than the event's (441 mandante, 442 mandatario)
    sender_rule: str | None = None
    requires: tuple[tuple[EventCode, str | None], ...] = ()  # registered at least once
    excluded_by: tuple[tuple[EventCode, str | None], ...] = ()  # registered and in force
    not_after: tuple[tuple[EventCode, str | None], ...] = ()  # ever registered
    not_after_operations: tuple[tuple[Operation, str | None], ...] = ()  # an operation ever registered
    window: Window | None = None
    window_rule: str | None = None
    ends: tuple[EventCode, ...] = ()  # 040/042/044: the kind of registered event the reference must name


@dataclass(frozen=True)
class EventRule:
    """One row of the table: the preconditions DIAN checks before registering ``code``."""

    code: EventCode
    senders: frozenset[Role]
    sender_rule: str | None = None
    requires: tuple[tuple[EventCode, str | None], ...] = ()  # all of these must be registered
    requires_any: tuple[EventCode, ...] = ()  # at least one of these must be registered ...
    requires_any_rule: str | None = None  # ... or DIAN refuses with this rule
    excluded_by: tuple[tuple[EventCode, str | None], ...] = ()  # any of these registered (and in force) refuses
    after: tuple[After, ...] = ()
    window: Window | None = None
    window_rule: str | None = None
    once: bool = True  # a second registration of the code is refused
    duplicate_rule: str = "LGC01"
    credit_only: bool = True  # LGC62: only invoices sold on credit (PaymentMeans 2)
    # History rules, checked when the caller says who sends what (Sending) and the facts carry the history (A.11):
    holder: bool = False  # a holder-side sender must be the current legitimate holder (A.3, A.11; sender_rule)
    own_registration_rule: str | None = None  # the holder has registered the title itself (036 after its 037, A.6)
    outsider_rule: str | None = None  # the sender is not the holder, the issuer nor the buyer (035, 041, 042: LGC64)
    closed_rule: str | None = None  # refused once any of ``closed_by`` is registered (A.9: nothing after a 452)
    closed_by: tuple[Operation, ...] = (Operation.TOTAL_PAYMENT,)
    limitation_list_rule: str | None = None  # 045/051 under an active 041 carry listID 2 (LGC45/LGC85)
    mandatario_rule: str | None = None  # software of another NIT sends: an active 043 must cover it (A.3)
    operations: tuple[tuple[Operation, OperationRule], ...] = ()  # variant-level rules (A.5-A.10)

    def operation_rule(self, operation: Operation) -> OperationRule:
        """The variant's own rules; an operation without a row adds none."""
        return dict(self.operations).get(operation, _NO_OPERATION_RULE)


_NO_OPERATION_RULE = OperationRule()
