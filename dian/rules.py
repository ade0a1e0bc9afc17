"""DIAN's event rules as one table: who may send each event 030-051, what must precede it, what excludes it, its window.

Sources: dian-facts.md 2.2 and 2.4 (DIAN's 2022 platform code, Código de Comercio art. 773) and, for 035-051,
radian-issuing-facts.md A.3-A.13. Rule codes are DIAN's where the sources name one; ``None`` where they do not.
Refusal reasons are Spanish sentences for a clerk. Everything is pure: the caller passes the facts and the moment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum, StrEnum
from types import MappingProxyType

from dian.calendar import BOGOTA, WINDOW_BUSINESS_DAYS, BusinessCalendar, bogota_date
from dian.codes import DIAN_NIT, DocumentState, DocumentType, EventCode, Operation, PaymentCondition, PaymentMeans
from dian.nit import same_nit
from dian.radian.history import TitleAct, active_mandates, holders_since, powers_cover
from dian.radian.model import Share

__all__ = [
    "RULES",
    "Decision",
    "DocumentFacts",
    "EventRule",
    "OperationRule",
    "Role",
    "Sending",
    "Window",
    "allowed_events",
    "check",
    "derive_state",
    "sender_refusal",
    "title_role",
]

E = EventCode


class Role(StrEnum):
    """Who is acting on the document (dian-facts.md 2.1, radian-issuing-facts.md A.3)."""

    BUYER = "buyer"  # adquirente / deudor
    SELLER = "seller"  # the invoice issuer; also the title holder until an 037 moves the title
    HOLDER = "holder"  # a legitimate holder who acquired the title by endorsement (037)
    THIRD_PARTY = "third_party"  # avalista
    AUTHORITY = "authority"  # judicial or administrative authority (041/042)
    MANDATARY = "mandatary"  # mandatario of a 043 mandate (442 renuncia)


_ROLE_LABELS = {
    Role.BUYER: "el comprador (adquirente)",
    Role.SELLER: "el vendedor (emisor de la factura)",
    Role.HOLDER: "el tenedor legítimo",
    Role.THIRD_PARTY: "un avalista",
    Role.AUTHORITY: "una autoridad judicial o administrativa",
    Role.MANDATARY: "el mandatario",
}

_HOLDERS = frozenset({Role.SELLER, Role.HOLDER})
_MANDANTES = frozenset({Role.SELLER, Role.HOLDER, Role.BUYER, Role.THIRD_PARTY})  # A.3, TS-annex "Responsable"


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


def _all(codes: Iterable[EventCode], rule: str | None) -> tuple[tuple[EventCode, str | None], ...]:
    return tuple((code, rule) for code in codes)


OP = Operation
# A.5 items 7-8: a first registration once, never after an endorsement; a later one after a 037 that made a new
# holder, not while a 038/039/041/047/048/049 is in force, and not after a 452.
_FIRST_REGISTRATION = OperationRule(
    not_after=_all((E.ENDOSO_PROPIEDAD, E.ENDOSO_GARANTIA, E.ENDOSO_PROCURACION), "LGC20"),
    not_after_operations=((OP.FIRST_REGISTRATION, "LGC23"), (OP.FIRST_REGISTRATION_DIRECT, "LGC23")),
)
_LATER_REGISTRATION = OperationRule(
    requires=((E.ENDOSO_PROPIEDAD, "LGC37"),),
    excluded_by=_all(
        (
            E.ENDOSO_GARANTIA,
            E.ENDOSO_PROCURACION,
            E.LIMITACION_CIRCULACION,
            E.ENDOSO_CESION,
            E.PROTESTO,
            E.TRANSFERENCIA_DERECHOS,
        ),
        "LGC22",
    ),
    not_after_operations=((OP.TOTAL_PAYMENT, "LGC22"),),
)


_TABLE = (
    # 030-034, the commercial cycle (dian-facts.md 2.2; LGC codes from radian-issuing-facts.md A.5 and B.8).
    # 030 and 032 are allowed on cash invoices: DESIGN.md section 4 lets cash sales reach acknowledged/goods_received.
    EventRule(E.ACUSE_RECIBO, frozenset({Role.BUYER}), after=(After(None, "DC24a"),), credit_only=False),
    EventRule(
        E.RECIBO_BIEN,
        frozenset({Role.BUYER}),
        requires=((E.ACUSE_RECIBO, "LGC09"),),
        after=(After(E.ACUSE_RECIBO, "DC24b"),),
        credit_only=False,
    ),
    EventRule(
        E.RECLAMO,
        frozenset({Role.BUYER}),
        # The claim window runs from the 032 (Decreto 1074/2015 art. 2.2.2.53.4), so the 032 must exist.
        requires=((E.ACUSE_RECIBO, None), (E.RECIBO_BIEN, None)),
        excluded_by=((E.ACEPTACION_EXPRESA, None), (E.ACEPTACION_TACITA, None)),
        after=(After(E.RECIBO_BIEN, "DC24z"),),
        window=Window.CLAIM,
        window_rule="DC24z",
    ),
    EventRule(
        E.ACEPTACION_EXPRESA,
        frozenset({Role.BUYER}),
        requires=((E.ACUSE_RECIBO, "LGC13"), (E.RECIBO_BIEN, "LGC12")),
        excluded_by=((E.RECLAMO, "LGC02"), (E.ACEPTACION_TACITA, None)),
        after=(After(E.RECIBO_BIEN, "DC24c"),),
        window=Window.CLAIM,
        window_rule="DC24c",
    ),
    EventRule(
        E.ACEPTACION_TACITA,
        frozenset({Role.SELLER}),
        sender_rule="AAF01e",
        requires=((E.RECIBO_BIEN, "LGC14"),),
        excluded_by=((E.RECLAMO, "LGC04"), (E.ACEPTACION_EXPRESA, "LGC05")),
        after=(After(E.RECIBO_BIEN, "DC24e"),),
        window=Window.TACIT,
        window_rule="DC24e",
    ),
    # 035-051, the title in RADIAN (radian-issuing-facts.md A.3-A.13). The event-level rows below apply to any sender;
    # ``operations`` adds what one variant needs, and the history rules (holder, own 036, 452, 041, mandate) apply when
    # the caller says who sends what (``Sending``) and the facts carry the title's history (A.11).
    EventRule(
        E.AVAL,
        frozenset({Role.THIRD_PARTY}),
        sender_rule="LGC64",
        requires=((E.INSCRIPCION_TITULO, "LGC38"),),
        excluded_by=((E.LIMITACION_CIRCULACION, "LGC39"), (E.PROTESTO, "LGC66"), (E.TRANSFERENCIA_DERECHOS, "LGC67")),
        after=(After(E.INSCRIPCION_TITULO, "DC24g"),),
        once=False,
        outsider_rule="LGC64",
        closed_rule="LGC40",
        mandatario_rule="LGC35",
    ),
    EventRule(
        E.INSCRIPCION_TITULO,
        _HOLDERS,
        sender_rule="AAF01a",
        requires_any=(E.ACEPTACION_EXPRESA, E.ACEPTACION_TACITA),
        requires_any_rule="LGC21",
        excluded_by=((E.TRANSFERENCIA_DERECHOS, "LGC87"),),
        # DC24h: after the 033, or after the 034 when there is no 033; only one of them can exist.
        after=(After(E.ACEPTACION_EXPRESA, "DC24h"), After(E.ACEPTACION_TACITA, "DC24h")),
        once=False,  # 363/364 (inscripción posterior) follow each 037
        holder=True,
        mandatario_rule="LGC35",
        operations=(
            (OP.FIRST_REGISTRATION, _FIRST_REGISTRATION),
            (OP.FIRST_REGISTRATION_DIRECT, _FIRST_REGISTRATION),
            (OP.LATER_REGISTRATION, _LATER_REGISTRATION),
            (OP.LATER_REGISTRATION_DIRECT, _LATER_REGISTRATION),
        ),
    ),
    EventRule(
        E.ENDOSO_PROPIEDAD,
        _HOLDERS,
        sender_rule="AAF01",
        requires=((E.INSCRIPCION_TITULO, "LGC24"),),
        excluded_by=_all(
            (
                E.ENDOSO_GARANTIA,
                E.ENDOSO_PROCURACION,
                E.LIMITACION_CIRCULACION,
                E.ENDOSO_CESION,
                E.PROTESTO,
                E.TRANSFERENCIA_DERECHOS,
            ),
            "LGC25",
        ),
        after=(After(None, "DC24j"), After(E.INSCRIPCION_TITULO, "DC24k")),
        # After maturity an endorsement only has the effects of an ordinary assignment: that is the 047 (A.10, AAH59a).
        window=Window.BEFORE_MATURITY,
        window_rule="AAH59a",
        once=False,
        holder=True,
        own_registration_rule="LGC24",
        closed_rule="LGC26",
        mandatario_rule="LGC35",
    ),
    EventRule(
        E.ENDOSO_GARANTIA,
        _HOLDERS,
        sender_rule="AAF01",
        requires=((E.INSCRIPCION_TITULO, "LGC27"),),
        excluded_by=_all(
            (E.ENDOSO_PROCURACION, E.LIMITACION_CIRCULACION, E.ENDOSO_CESION, E.PROTESTO, E.TRANSFERENCIA_DERECHOS),
            "LGC28",
        ),
        after=(After(None, "DC24l"), After(E.INSCRIPCION_TITULO, "DC24m")),
        once=False,
        holder=True,
        own_registration_rule="LGC27",
        closed_rule="LGC29",
        mandatario_rule="LGC35",
    ),
    EventRule(
        E.ENDOSO_PROCURACION,
        _HOLDERS,
        sender_rule="AAF01",
        requires=((E.INSCRIPCION_TITULO, "LGC30"),),
        excluded_by=_all(
            (E.ENDOSO_GARANTIA, E.LIMITACION_CIRCULACION, E.ENDOSO_CESION, E.PROTESTO, E.TRANSFERENCIA_DERECHOS),
            "LGC31",
        ),
        after=(After(None, "DC24o"), After(E.INSCRIPCION_TITULO, "DC24p")),
        once=False,
        holder=True,
        own_registration_rule="LGC30",
        closed_rule="LGC32",
        mandatario_rule="LGC35",
    ),
    EventRule(
        E.CANCELACION_ENDOSO,
        _HOLDERS,
        requires_any=(E.ENDOSO_GARANTIA, E.ENDOSO_PROCURACION),  # LGC46 for 401, LGC47 for 402
        excluded_by=((E.LIMITACION_CIRCULACION, "LGC48"), (E.PROTESTO, "LGC68")),
        after=(After(E.ENDOSO_GARANTIA, "DC24q"), After(E.ENDOSO_PROCURACION, "DC24q")),
        once=False,
        holder=True,
        mandatario_rule="LGC35",
        operations=(
            (
                OP.CANCEL_GUARANTEE_ENDORSEMENT,
                OperationRule(requires=((E.ENDOSO_GARANTIA, "LGC46"),), ends=(E.ENDOSO_GARANTIA,)),
            ),
            (
                OP.CANCEL_COLLECTION_ENDORSEMENT,
                OperationRule(requires=((E.ENDOSO_PROCURACION, "LGC47"),), ends=(E.ENDOSO_PROCURACION,)),
            ),
            (OP.STRIKE_BY_RETURN_ENDORSEMENT, OperationRule(ends=(E.ENDOSO_PROPIEDAD,))),
        ),
    ),
    EventRule(
        E.LIMITACION_CIRCULACION,
        frozenset({Role.AUTHORITY}),
        sender_rule="LGC64",
        requires=((E.INSCRIPCION_TITULO, "LGC33"),),
        after=(After(E.INSCRIPCION_TITULO, "DC24u"),),
        once=False,
        outsider_rule="LGC64",
        closed_rule="LGC92",
    ),
    EventRule(
        E.TERMINACION_LIMITACION,
        frozenset({Role.AUTHORITY}),
        sender_rule="LGC64",
        requires=((E.LIMITACION_CIRCULACION, "LGC34"),),
        after=(After(E.LIMITACION_CIRCULACION, "DC24v"),),
        once=False,
        outsider_rule="LGC64",
        operations=(
            (OP.LIMITATION_END_BY_JUDGMENT, OperationRule(ends=(E.LIMITACION_CIRCULACION,))),
            (OP.LIMITATION_END_EARLY, OperationRule(ends=(E.LIMITACION_CIRCULACION,))),
        ),
    ),
    EventRule(E.MANDATO, _MANDANTES, after=(After(None, "DC24r"),), once=False, closed_rule="LGC89"),
    EventRule(
        E.TERMINACION_MANDATO,
        _MANDANTES | {Role.MANDATARY},
        sender_rule="AAF01",
        requires=((E.MANDATO, "LGC41"),),
        after=(After(E.MANDATO, "DC24s"),),
        once=False,
        operations=(
            (OP.MANDATE_REVOKED, OperationRule(senders=_MANDANTES, sender_rule="AAF01", ends=(E.MANDATO,))),
            (
                OP.MANDATE_RENOUNCED,
                OperationRule(senders=frozenset({Role.MANDATARY}), sender_rule="AAF01", ends=(E.MANDATO,)),
            ),
        ),
    ),
    EventRule(
        E.PAGO,
        _HOLDERS | {Role.BUYER},
        sender_rule="AAF01",
        requires=((E.INSCRIPCION_TITULO, "LGC43"),),
        after=(After(E.INSCRIPCION_TITULO, "DC24x"),),
        once=False,  # 451 partial payments repeat
        holder=True,
        closed_rule="LGC44",
        limitation_list_rule="LGC45",
        mandatario_rule="LGC35",
    ),
    EventRule(
        E.INFORME_PAGO,
        _HOLDERS,
        sender_rule="AAF03",
        requires=((E.INSCRIPCION_TITULO, "LGC51"),),
        window=Window.BEFORE_DUE,
        once=False,
        holder=True,
        closed_rule="LGC50",
        mandatario_rule="LGC35",
    ),
    EventRule(
        E.ENDOSO_CESION,
        _HOLDERS,
        sender_rule="AAF01",
        requires=((E.INSCRIPCION_TITULO, "LGC69"),),
        excluded_by=_all(
            (
                E.ENDOSO_PROPIEDAD,
                E.ENDOSO_GARANTIA,
                E.ENDOSO_PROCURACION,
                E.LIMITACION_CIRCULACION,
                E.PROTESTO,
                E.TRANSFERENCIA_DERECHOS,
            ),
            "LGC70",
        ),
        after=(After(None, "DC24zc"), After(E.INSCRIPCION_TITULO, "DC24zd")),
        window=Window.PAST_DUE,
        window_rule="LGC72",
        once=False,
        holder=True,
        closed_rule="LGC71",
        mandatario_rule="LGC35",
    ),
    EventRule(
        E.PROTESTO,
        _HOLDERS,
        sender_rule="AAF01",
        requires=((E.INSCRIPCION_TITULO, "LGC73"),),
        excluded_by=_all((E.LIMITACION_CIRCULACION, E.ENDOSO_CESION, E.TRANSFERENCIA_DERECHOS), "LGC74"),
        after=(After(None, "DC24ze"), After(E.INSCRIPCION_TITULO, "DC24zf")),
        once=False,
        holder=True,
        closed_rule="LGC78",
        mandatario_rule="LGC35",
        operations=(
            (OP.PROTEST_NON_ACCEPTANCE, OperationRule(window=Window.NOT_DUE, window_rule="LGC75")),
            (OP.PROTEST_NON_PAYMENT, OperationRule(window=Window.PROTEST_TERM, window_rule="LGC76")),
        ),
    ),
    EventRule(
        E.TRANSFERENCIA_DERECHOS,
        _HOLDERS,
        sender_rule="AAF01",
        # A title (033 or 034) but no 036 needed (A.10).
        requires_any=(E.ACEPTACION_EXPRESA, E.ACEPTACION_TACITA),
        requires_any_rule="LGC79",
        excluded_by=_all(
            (E.ENDOSO_GARANTIA, E.ENDOSO_PROCURACION, E.LIMITACION_CIRCULACION, E.ENDOSO_CESION, E.PROTESTO),
            "LGC80",
        ),
        after=(After(None, "DC24z_049"),),
        duplicate_rule="LGC82",
        holder=True,
        closed_rule="LGC81",
        closed_by=(OP.TOTAL_PAYMENT, OP.TRANSFER_TOTAL_PAYMENT),
        mandatario_rule="LGC35",
    ),
    EventRule(
        E.NOTIFICACION_TRANSFERENCIA,
        _HOLDERS,
        sender_rule="AAF01",
        requires=((E.TRANSFERENCIA_DERECHOS, "LGC83"),),
        after=(After(E.TRANSFERENCIA_DERECHOS, "DC24za"),),
        once=False,
        holder=True,
        closed_rule="LGC90",
        mandatario_rule="LGC35",
    ),
    EventRule(
        E.PAGO_TRANSFERENCIA,
        frozenset({Role.BUYER}),
        sender_rule="AAF01",
        requires=((E.NOTIFICACION_TRANSFERENCIA, "LGC86"),),
        after=(After(E.NOTIFICACION_TRANSFERENCIA, "DC24zb"),),
        once=False,
        closed_rule="LGC91",
        limitation_list_rule="LGC85",
        mandatario_rule="LGC35",
        operations=(
            (OP.TRANSFER_PARTIAL_PAYMENT, OperationRule(not_after_operations=((OP.TRANSFER_TOTAL_PAYMENT, "LGC84"),))),
        ),
    ),
)

RULES: Mapping[EventCode, EventRule] = MappingProxyType(
    {rule.code: rule for rule in sorted(_TABLE, key=lambda r: r.code)}
)

# An event that is cancelled or terminated by a later one no longer excludes others (radian-issuing-facts.md A.7, A.12).
# 040 does not say here which endorsement it cancelled; a later 040 is taken to lift both 038 and 039.
_LIFTED_BY = {
    E.LIMITACION_CIRCULACION: E.TERMINACION_LIMITACION,
    E.ENDOSO_GARANTIA: E.CANCELACION_ENDOSO,
    E.ENDOSO_PROCURACION: E.CANCELACION_ENDOSO,
}


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got the naive datetime {value.isoformat()}")


@dataclass(frozen=True)
class DocumentFacts:
    """What the rules need to know about one received or issued document."""

    document_type: DocumentType
    payment_means: PaymentMeans | None
    signed_at: datetime | None = None  # the document's xades:SigningTime, when known
    # Registered event code -> its signing time, or times when the code repeats (037, 045...); read back as a
    # read-only mapping of sorted tuples.
    events: Mapping[EventCode, datetime | Sequence[datetime]] = field(default_factory=dict)
    due_date: date | None = None  # cbc:PaymentDueDate, for 046 and 047
    # For the history rules of 035-051 (radian-issuing-facts.md A.3, A.11): the invoice's parties and CUFE, and every
    # registered event on it as a TitleAct (plus the "all invoices" mandates of its parties). Their codes and times
    # join ``events``.
    issuer_nit: str | None = None
    buyer_nit: str | None = None
    invoice_cufe: str | None = None
    history: Sequence[TitleAct] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "document_type", DocumentType(self.document_type))
        if self.payment_means is not None:
            object.__setattr__(self, "payment_means", PaymentMeans(self.payment_means))
        if self.signed_at is not None:
            _require_aware(self.signed_at, "signed_at")
        events: dict[EventCode, tuple[datetime, ...]] = {}
        for code, times in self.events.items():
            moments = (times,) if isinstance(times, datetime) else tuple(times)
            if not moments:
                raise ValueError(f"event {code} is registered without a signing time")
            for moment in moments:
                _require_aware(moment, f"the signing time of event {code}")
            events[EventCode(code)] = tuple(sorted(moments))
        history = tuple(sorted(self.history, key=lambda act: act.signed_at))
        for act in history:
            if act.signed_at not in events.get(act.code, ()):
                events[act.code] = tuple(sorted((*events.get(act.code, ()), act.signed_at)))
        object.__setattr__(self, "history", history)
        object.__setattr__(self, "events", MappingProxyType(events))

    @property
    def knows_parties(self) -> bool:
        """True when the issuer's NIT is known, so the holder can be replayed (A.11)."""
        return bool(self.issuer_nit)

    def holders(self) -> tuple[tuple[Share, ...], TitleAct | None]:
        """The current legitimate holder(s) and the 037 that made them so (A.11); the issuer while none."""
        return holders_since(Share(self.issuer_nit or "", ""), self.history)

    def latest(self, code: EventCode) -> datetime | None:
        """Return the latest signing time of a registered event, or None."""
        times = self.events.get(code)
        return times[-1] if times else None  # type: ignore[index]  # a tuple since __post_init__

    def in_force(self, code: EventCode) -> bool:
        """True when ``code`` is registered and not lifted by a later cancelling event (040, 042)."""
        latest = self.latest(code)
        if latest is None:
            return False
        lifted = self.latest(_LIFTED_BY[code]) if code in _LIFTED_BY else None
        return lifted is None or lifted < latest


@dataclass(frozen=True)
class Sending:
    """Who sends which variant of an event, and how: what the variant and history rules need (A.3-A.13).

    ``provider_nit`` is the sts:SoftwareProvider: another NIT than the sender's means a mandatario transmits (A.3).
    ``reference_cude`` is the event a 040/042/044 ends. ``list_id`` is ResponseCode/@listID (045/051 under 041).
    """

    operation: Operation
    sender_nit: str
    provider_nit: str | None = None
    list_id: str | None = None
    reference_cude: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "operation", Operation(self.operation))


def title_role(nit: str, facts: DocumentFacts) -> Role | None:
    """The role ``nit`` plays on this title now: HOLDER (SELLER while the issuer holds it), SELLER for an issuer
    that endorsed it away, BUYER, or None for anyone else (an avalista, an authority, a mandatario), A.3 and A.11."""
    current, _ = facts.holders()
    if facts.knows_parties and any(same_nit(nit, holder.nit) for holder in current):
        return Role.SELLER if same_nit(nit, facts.issuer_nit) else Role.HOLDER
    if same_nit(nit, facts.buyer_nit):
        return Role.BUYER
    if same_nit(nit, facts.issuer_nit):
        return Role.SELLER
    return None


@dataclass(frozen=True)
class Decision:
    """May the event be sent now; if not, why (a Spanish sentence) and which DIAN rule says so."""

    allowed: bool
    reason: str
    rule: str | None = None


_MONTHS = (
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
)


def _fecha(d: date) -> str:
    return f"{d.day} de {_MONTHS[d.month - 1]} de {d.year}"


def _fecha_hora(moment: datetime) -> str:
    local = moment.astimezone(BOGOTA)
    return f"{_fecha(local.date())} a las {local:%H:%M}"


def _event(code: EventCode) -> str:
    return f"el evento {code.value} ({code.label})"


def _either(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " o " + items[-1]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _refuse(reason: str, rule: str | None) -> Decision:
    return Decision(allowed=False, reason=reason, rule=rule)


_WINDOW_VERBS = {E.RECLAMO: "reclamar", E.ACEPTACION_EXPRESA: "aceptar expresamente"}

# DIAN's validator counts Monday to Friday minus holidays (dian-facts.md 2.2): checks that predict DIAN (034, 046) use
# it whatever the caller's Saturday policy, which only sets the buyer's own deadline for 031/033 (7.1).
_DIAN_CALENDAR = BusinessCalendar(saturday_is_business_day=False)


def _check_window(rule: EventRule, facts: DocumentFacts, at: datetime, calendar: BusinessCalendar) -> Decision | None:
    if rule.window in (Window.CLAIM, Window.TACIT):
        received = facts.latest(E.RECIBO_BIEN)
        if received is None:  # the requirement of an 032 has refused already
            return None
        start = bogota_date(received)
        if rule.window is Window.CLAIM:
            # Art. 773 C.Co.: until the end of the 3rd business day after the 032 date. DIAN counts like
            # business_days_between (DC24c/DC24z) and would still take the event on the non-business days that follow;
            # we stop at the legal deadline, the same instant the countdown shows.
            end = calendar.window_end(received)
            if at > end:
                return _refuse(
                    f"El plazo para {_WINDOW_VERBS[rule.code]} venció el {_fecha(end.date())} "
                    f"({WINDOW_BUSINESS_DAYS} días hábiles después del recibo del bien).",
                    rule.window_rule,
                )
        elif _DIAN_CALENDAR.business_days_between(start, bogota_date(at)) <= WINDOW_BUSINESS_DAYS:
            # DC24e: 034 only when more than 3 business days separate the 032 date from the 034 date.
            first_day = _DIAN_CALENDAR.add_business_days(start, WINDOW_BUSINESS_DAYS + 1)
            return _refuse(
                f"La aceptación tácita solo puede enviarse desde el {_fecha(first_day)} "
                f"(más de {WINDOW_BUSINESS_DAYS} días hábiles después del recibo del bien).",
                rule.window_rule,
            )
        return None
    return _due_window(rule.window, rule.window_rule, _event(rule.code), facts, at)


# 048 for non-payment: within 15 business days after the due date (BusinessDaysLimitObjection, LGC77). DIAN's message
# says calendar days while its code counts business days (A.14 item 6); we follow the code.
PROTEST_BUSINESS_DAYS = 15


def _due_window(
    window: Window | None, window_rule: str | None, what: str, facts: DocumentFacts, at: datetime
) -> Decision | None:
    if window is None or facts.due_date is None:
        return None  # an unknown due date is not ours to refuse on; DIAN checks it
    today = bogota_date(at)
    due = _fecha(facts.due_date)
    if window is Window.PAST_DUE and today <= facts.due_date:
        return _refuse(f"{_cap(what)} solo puede enviarse cuando la factura esté vencida (vence el {due}).",
                       window_rule)
    if window is Window.BEFORE_MATURITY and today > facts.due_date:
        return _refuse(
            f"La factura venció el {due}: después del vencimiento un endoso en propiedad solo tiene efectos de cesión "
            f"ordinaria y se registra como el evento 047 ({E.ENDOSO_CESION.label}).",
            window_rule,
        )
    if window is Window.NOT_DUE and today > facts.due_date:
        return _refuse(
            f"El protesto por falta de aceptación solo procede antes del vencimiento; la factura venció el {due}.",
            window_rule,
        )
    if window is Window.PROTEST_TERM:
        if today <= facts.due_date:
            return _refuse(
                f"El protesto por falta de pago solo procede cuando la factura esté vencida (vence el {due}).",
                window_rule,
            )
        if _DIAN_CALENDAR.business_days_between(facts.due_date, today) > PROTEST_BUSINESS_DAYS:
            last_day = _DIAN_CALENDAR.add_business_days(facts.due_date, PROTEST_BUSINESS_DAYS)
            return _refuse(
                f"El protesto por falta de pago debe registrarse dentro de los {PROTEST_BUSINESS_DAYS} días hábiles "
                f"siguientes al vencimiento ({due}); el último día fue el {_fecha(last_day)}.",
                "LGC77",
            )
    if window is Window.BEFORE_DUE:
        if today > facts.due_date:
            return _refuse(
                f"El informe para el pago debe enviarse antes del vencimiento; la factura venció el "
                f"{_fecha(facts.due_date)}.",
                "LGC55",
            )
        if _DIAN_CALENDAR.business_days_between(today, facts.due_date) < WINDOW_BUSINESS_DAYS:
            last_day = _DIAN_CALENDAR.add_business_days(facts.due_date, -WINDOW_BUSINESS_DAYS)
            return _refuse(
                f"El informe para el pago debe enviarse al menos {WINDOW_BUSINESS_DAYS} días hábiles antes del "
                f"vencimiento ({_fecha(facts.due_date)}); el último día fue el {_fecha(last_day)}.",
                "LGC54",
            )
    return None


def _nit_list(shares: Sequence[Share]) -> str:
    return _either([f"{share.registration_name} (NIT {share.nit})" if share.registration_name else f"NIT {share.nit}"
                    for share in shares])


def _ended_by(act: TitleAct, history: Sequence[TitleAct], ender: EventCode) -> bool:
    return any(other.code is ender and other.reference_cude == act.cude for other in history)


_ENDER = {E.CANCELACION_ENDOSO: E.CANCELACION_ENDOSO, E.TERMINACION_LIMITACION: E.TERMINACION_LIMITACION}


def _check_reference(
    code: EventCode, op_rule: OperationRule, sending: Sending, facts: DocumentFacts, role: Role
) -> Decision | None:
    """040/042/044 name the event they end (A.4): it must be registered here, of the right kind, and still in force;
    441 comes from the mandate's mandante and 442 from its mandatario (A.8)."""
    if not op_rule.ends or sending.reference_cude is None or not facts.history:
        return None
    what = _event(code)
    target = next((act for act in facts.history if act.cude == sending.reference_cude), None)
    if target is None:
        return _refuse(
            f"{_cap(what)} debe referirse a un evento registrado en esta factura; el CUDE indicado no lo es.", None
        )
    if target.code not in op_rule.ends:
        kinds = _either([_event(kind) for kind in op_rule.ends])
        return _refuse(f"{_cap(sending.operation.label)} se refiere a {kinds}, no a {_event(target.code)}.", None)
    if _ended_by(target, facts.history, code):
        return _refuse(f"{_cap(_event(target.code))} indicado ya fue terminado o cancelado.", None)
    mandate = target.mandate
    if sending.operation is Operation.MANDATE_REVOKED and not same_nit(sending.sender_nit, target.sender_nit):
        return _refuse(f"Solo el mandante (NIT {target.sender_nit}) puede revocar el mandato.", "AAF01")
    if (
        sending.operation is Operation.MANDATE_RENOUNCED
        and mandate is not None
        and not same_nit(sending.sender_nit, mandate.mandatario_nit)
    ):
        return _refuse(f"Solo el mandatario (NIT {mandate.mandatario_nit}) puede renunciar al mandato.", "AAF01")
    return None


def _check_mandatario(rule: EventRule, sending: Sending, facts: DocumentFacts, at: datetime) -> Decision | None:
    """Software of another NIT sends for the sender: an active 043 from the sender to that NIT, covering this invoice
    and this event, must be registered (A.3, LGC35). With our own software the check does not apply."""
    provider = sending.provider_nit
    if rule.mandatario_rule is None or not provider or same_nit(provider, sending.sender_nit):
        return None
    if same_nit(provider, DIAN_NIT):
        return None
    mandates = active_mandates(
        facts.history, mandante_nit=sending.sender_nit, mandatario_nit=provider, invoice_cufe=facts.invoice_cufe, at=at
    )
    what = _event(rule.code)
    if not mandates:
        return _refuse(
            f"El NIT {provider} envía {what} en nombre del NIT {sending.sender_nit}, pero no hay un mandato "
            f"(evento 043) vigente del NIT {sending.sender_nit} al NIT {provider} que cubra esta factura.",
            rule.mandatario_rule,
        )
    if not any(powers_cover(act.mandate) for act in mandates if act.mandate is not None):
        powers = ", ".join(sorted({p for act in mandates if act.mandate for p in act.mandate.powers}))
        return _refuse(
            f"El mandato del NIT {sending.sender_nit} al NIT {provider} tiene facultades limitadas ({powers}) "
            f"que no se puede confirmar que incluyan {what}; solo un mandato con facultades generales (431 o 432) "
            "lo asegura.",
            rule.mandatario_rule,
        )
    return None


def _check_sending(
    rule: EventRule, sending: Sending, role: Role, facts: DocumentFacts, at: datetime
) -> Decision | None:
    """The variant and history rules of 035-051 (A.3, A.5-A.13) once the event-level rules allow the event."""
    code, operation = rule.code, sending.operation
    what = _event(code)
    op_rule = rule.operation_rule(operation)
    label = f"{operation.label.lower()} ({operation.value})"
    if op_rule.senders is not None and role not in op_rule.senders:
        who = _either([_ROLE_LABELS[r] for r in Role if r in op_rule.senders])
        return _refuse(f"Solo {who} puede enviar la {label}.", op_rule.sender_rule)
    current, endorsement = facts.holders()
    sender = sending.sender_nit
    if facts.knows_parties:
        if role is Role.BUYER and facts.buyer_nit and not same_nit(sender, facts.buyer_nit):
            return _refuse(
                f"El NIT {sender} no es el comprador de esta factura (NIT {facts.buyer_nit}).", rule.sender_rule
            )
        if rule.holder and role in _HOLDERS and not any(same_nit(sender, holder.nit) for holder in current):
            since = f" desde el endoso del {_fecha_hora(endorsement.signed_at)}" if endorsement else ""
            return _refuse(
                f"El NIT {sender} no es el tenedor legítimo de esta factura: lo es {_nit_list(current)}{since}.",
                rule.sender_rule,
            )
        if rule.outsider_rule is not None and (
            any(same_nit(sender, holder.nit) for holder in current)
            or same_nit(sender, facts.issuer_nit)
            or same_nit(sender, facts.buyer_nit)
        ):
            return _refuse(
                f"{_cap(what)} no puede enviarlo el tenedor legítimo, el emisor ni el comprador de la factura.",
                rule.outsider_rule,
            )
    if rule.own_registration_rule is not None and facts.knows_parties and facts.history:
        own = [
            act
            for act in facts.history
            if act.code is E.INSCRIPCION_TITULO
            and any(same_nit(act.sender_nit, holder.nit) for holder in current)
            and (endorsement is None or act.signed_at > endorsement.signed_at)
        ]
        if not own:
            after = f" después del endoso que recibió el {_fecha_hora(endorsement.signed_at)}" if endorsement else ""
            return _refuse(
                f"Antes de enviar {what}, {_nit_list(current)} debe inscribir la factura en RADIAN a su nombre "
                f"(evento 036, inscripción posterior){after}.",
                rule.own_registration_rule,
            )
    for needed, needed_rule in op_rule.requires:
        if needed not in facts.events:
            return _refuse(f"Para la {label} primero debe estar registrado {_event(needed)}.", needed_rule)
    for other, other_rule in op_rule.excluded_by:
        if facts.in_force(other):
            return _refuse(f"No se puede hacer la {label}: la factura tiene vigente {_event(other)}.", other_rule)
    for other, other_rule in op_rule.not_after:
        if other in facts.events:
            return _refuse(f"No se puede hacer la {label}: la factura ya tiene registrado {_event(other)}.", other_rule)
    for done, done_rule in op_rule.not_after_operations:
        if any(act.operation is done for act in facts.history):
            return _refuse(
                f"No se puede hacer la {label}: la factura ya tiene registrada la {done.label.lower()} ({done.value}).",
                done_rule,
            )
    window = _due_window(op_rule.window, op_rule.window_rule, f"la {label}", facts, at)
    if window is not None:
        return window
    if (
        rule.limitation_list_rule is not None
        and facts.in_force(E.LIMITACION_CIRCULACION)
        and sending.list_id != PaymentCondition.UNDER_LIMITATION
    ):
        return _refuse(
            f"La factura tiene vigente una limitación a la circulación (evento 041): {what} debe indicar la condición "
            f"{PaymentCondition.UNDER_LIMITATION.value} (pago con limitación).",
            rule.limitation_list_rule,
        )
    reference = _check_reference(code, op_rule, sending, facts, role)
    if reference is not None:
        return reference
    return _check_mandatario(rule, sending, facts, at)


def check(
    code: EventCode,
    *,
    role: Role,
    facts: DocumentFacts,
    at: datetime,
    calendar: BusinessCalendar,
    sending: Sending | None = None,
) -> Decision:
    """Decide whether ``role`` may sign event ``code`` at ``at``; ``calendar`` sets the buyer's 031/033 deadline.

    With ``sending`` (who sends which variant, 035-051) the variant and history rules apply too: the sender is the
    current legitimate holder, registered the title itself before endorsing it, nothing follows a 452, a payment under
    an active 041 says so, a mandatario holds an active 043 (radian-issuing-facts.md A.3, A.5-A.13).
    """
    _require_aware(at, "at")
    code = EventCode(code)
    rule = RULES[code]
    what = _event(code)
    if sending is not None and sending.operation.event is not code:
        raise ValueError(
            f"operation {sending.operation.value} belongs to event {sending.operation.event.value}, not {code.value}"
        )

    if not facts.document_type.is_invoice:
        return _refuse(
            f"Las notas crédito y débito no admiten eventos; {what} se registra sobre la factura.",
            None,
        )
    if role not in rule.senders:
        who = _either([_ROLE_LABELS[r] for r in Role if r in rule.senders])
        return _refuse(f"Solo {who} puede enviar {what}.", rule.sender_rule)
    if rule.credit_only and facts.payment_means is not PaymentMeans.CREDIT:
        # LGC62 (dian-facts.md 2.4, radian-issuing-facts.md A.5): events that make or move a título valor need a sale
        # on credit.
        situation = "es de contado" if facts.payment_means is PaymentMeans.CASH else "no indica la forma de pago"
        return _refuse(f"Solo las facturas a crédito admiten {what}; esta factura {situation}.", "LGC62")
    if rule.once and code in facts.events:
        return _refuse(f"{_cap(what)} ya está registrado en esta factura.", rule.duplicate_rule)
    # Nothing after a 452 total payment (A.9): the strongest reason, said before what else would be missing.
    closing = next((act for act in facts.history if act.operation in rule.closed_by), None)
    if rule.closed_rule is not None and closing is not None:
        return _refuse(
            f"La factura ya tiene registrado el pago total ({closing.operation.label.lower()}, "  # type: ignore[union-attr]
            f"{_fecha_hora(closing.signed_at)}): no admite {what}.",
            rule.closed_rule,
        )
    for other, other_rule in rule.excluded_by:
        if facts.in_force(other):
            return _refuse(
                f"No se puede enviar {what}: la factura ya tiene registrado {_event(other)}.",
                other_rule,
            )
    for needed, needed_rule in rule.requires:
        if needed not in facts.events:
            return _refuse(f"Para enviar {what} primero debe estar registrado {_event(needed)}.", needed_rule)
    if rule.requires_any and not any(other in facts.events for other in rule.requires_any):
        options = _either([_event(other) for other in rule.requires_any])
        return _refuse(f"Para enviar {what} primero debe estar registrado {options}.", rule.requires_any_rule)
    for after in rule.after:
        if after.event is None:
            reference, subject = facts.signed_at, "la factura"
        else:
            # Against the latest registration: DIAN says "the latest 036" for DC24k/m/p and "the first" for DC24g/u/x,
            # which differ only when a registration is later than ``at``, and that is refused below anyway (DC24).
            reference = facts.latest(after.event)
            subject = _event(after.event)
        if reference is not None and at < reference:
            return _refuse(
                f"{_cap(what)} no puede firmarse antes que {subject}, firmado el {_fecha_hora(reference)}.",
                after.rule,
            )
    window = _check_window(rule, facts, at, calendar)
    if window is not None:
        return window
    # DC24: nothing may be dated after the moment of signing; a later time means a clock is wrong somewhere.
    future = [facts.signed_at] if facts.signed_at is not None and facts.signed_at > at else []
    future += [latest for code in facts.events if (latest := facts.latest(code)) is not None and latest > at]
    if future:
        return _refuse(
            f"Hay registros con fecha posterior al momento de firma ({_fecha_hora(max(future))}); "
            "revise la hora del equipo antes de enviar el evento.",
            "DC24",
        )
    if sending is not None:
        refusal = _check_sending(rule, sending, role, facts, at)
        if refusal is not None:
            return refusal
    reason = f"Se puede enviar {what}."
    received = facts.latest(E.RECIBO_BIEN)
    if rule.window is Window.CLAIM and received is not None:
        reason += f" El plazo vence el {_fecha(calendar.window_end(received).date())}."
    return Decision(allowed=True, reason=reason)


def allowed_events(
    role: Role, facts: DocumentFacts, at: datetime, calendar: BusinessCalendar
) -> list[tuple[EventCode, Decision]]:
    """Return, in code order, each event ``role`` may send at all, with the decision for this document now."""
    return [
        (code, check(code, role=role, facts=facts, at=at, calendar=calendar))
        for code, rule in RULES.items()
        if role in rule.senders
    ]


# The events that set a received invoice's state, strongest first (DESIGN.md section 4).
_STATE_BY_EVENT = (
    (E.INSCRIPCION_TITULO, DocumentState.TITLE),
    (E.ACEPTACION_TACITA, DocumentState.TACITLY_ACCEPTED),
    (E.ACEPTACION_EXPRESA, DocumentState.ACCEPTED),
    (E.RECLAMO, DocumentState.CLAIMED),
    (E.RECIBO_BIEN, DocumentState.GOODS_RECEIVED),
    (E.ACUSE_RECIBO, DocumentState.ACKNOWLEDGED),
)


def derive_state(
    *, validated: bool | None, registered: Iterable[EventCode], confirmed: bool = True
) -> DocumentState:
    """Derive a document's state from its DIAN-registered events, else from its verification outcome; a valid
    document whose DIAN validation is not proven yet (``confirmed`` False) is "unconfirmed" (DESIGN.md 5a)."""
    # The events are the truth (DESIGN.md section 4): a registered event outranks our own verification.
    codes = {EventCode(code) for code in registered}
    for code, state in _STATE_BY_EVENT:
        if code in codes:
            return state
    if validated is None:
        return DocumentState.RECEIVED
    if not validated:
        return DocumentState.INVALID
    return DocumentState.VALIDATED if confirmed else DocumentState.UNCONFIRMED


def sender_refusal(code: EventCode, sender_nit: str, *, seller_nit: str, buyer_nit: str | None) -> str | None:
    """Why the party ``sender_nit`` may not send ``code`` on the invoice of ``seller_nit`` to ``buyer_nit`` (the
    table's senders), or None when it may or only DIAN can tell (a holder or an avalista the invoice does not name)."""
    rule = RULES.get(code)
    if rule is None:
        return None
    role = Role.SELLER if same_nit(sender_nit, seller_nit) else Role.BUYER if same_nit(sender_nit, buyer_nit) else None
    named = frozenset({Role.SELLER, Role.BUYER})
    if role in rule.senders or (role is None and not rule.senders <= named):
        return None
    parties = {Role.SELLER: f"el vendedor (NIT {seller_nit})", Role.BUYER: f"el comprador (NIT {buyer_nit})"}
    who = " o ".join(parties[r] for r in (Role.SELLER, Role.BUYER) if r in rule.senders)
    who = who or " o ".join(_ROLE_LABELS[r] for r in sorted(rule.senders, key=lambda r: r.value))
    return (
        f"el evento {code.value} ({code.label}) lo envía el NIT {sender_nit}, pero sobre esta factura solo puede "
        f"enviarlo {who}"
    )
