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
from dian.codes import DocumentState, DocumentType, EventCode, PaymentMeans
from dian.nit import same_nit

__all__ = [
    "RULES",
    "Decision",
    "DocumentFacts",
    "EventRule",
    "Role",
    "Window",
    "allowed_events",
    "check",
    "derive_state",
    "sender_refusal",
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


@dataclass(frozen=True)
class After:
    """The new event must be signed no earlier than a reference: an event, or the invoice when ``event`` is None."""

    event: EventCode | None
    rule: str


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


def _all(codes: Iterable[EventCode], rule: str | None) -> tuple[tuple[EventCode, str | None], ...]:
    return tuple((code, rule) for code in codes)


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
    # 035-051, the title in RADIAN (radian-issuing-facts.md A.3-A.13). Amount- and variant-level rules (452 total
    # payment, 361 vs 363, 401 vs 402, 481 vs 482) need the CustomizationID and are not checked here.
    EventRule(
        E.AVAL,
        frozenset({Role.THIRD_PARTY}),
        sender_rule="LGC64",
        requires=((E.INSCRIPCION_TITULO, "LGC38"),),
        excluded_by=((E.LIMITACION_CIRCULACION, "LGC39"), (E.PROTESTO, "LGC66"), (E.TRANSFERENCIA_DERECHOS, "LGC67")),
        after=(After(E.INSCRIPCION_TITULO, "DC24g"),),
        once=False,
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
        once=False,
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
    ),
    EventRule(
        E.CANCELACION_ENDOSO,
        _HOLDERS,
        requires_any=(E.ENDOSO_GARANTIA, E.ENDOSO_PROCURACION),  # LGC46 for 401, LGC47 for 402
        excluded_by=((E.LIMITACION_CIRCULACION, "LGC48"), (E.PROTESTO, "LGC68")),
        after=(After(E.ENDOSO_GARANTIA, "DC24q"), After(E.ENDOSO_PROCURACION, "DC24q")),
        once=False,
    ),
    EventRule(
        E.LIMITACION_CIRCULACION,
        frozenset({Role.AUTHORITY}),
        sender_rule="LGC64",
        requires=((E.INSCRIPCION_TITULO, "LGC33"),),
        after=(After(E.INSCRIPCION_TITULO, "DC24u"),),
        once=False,
    ),
    EventRule(
        E.TERMINACION_LIMITACION,
        frozenset({Role.AUTHORITY}),
        sender_rule="LGC64",
        requires=((E.LIMITACION_CIRCULACION, "LGC34"),),
        after=(After(E.LIMITACION_CIRCULACION, "DC24v"),),
        once=False,
    ),
    EventRule(E.MANDATO, _MANDANTES, after=(After(None, "DC24r"),), once=False),
    EventRule(
        E.TERMINACION_MANDATO,
        _MANDANTES | {Role.MANDATARY},
        sender_rule="AAF01",
        requires=((E.MANDATO, "LGC41"),),
        after=(After(E.MANDATO, "DC24s"),),
        once=False,
    ),
    EventRule(
        E.PAGO,
        _HOLDERS | {Role.BUYER},
        sender_rule="AAF01",
        requires=((E.INSCRIPCION_TITULO, "LGC43"),),
        after=(After(E.INSCRIPCION_TITULO, "DC24x"),),
        once=False,  # 451 partial payments repeat
    ),
    EventRule(
        E.INFORME_PAGO,
        _HOLDERS,
        sender_rule="AAF03",
        requires=((E.INSCRIPCION_TITULO, "LGC51"),),
        window=Window.BEFORE_DUE,
        once=False,
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
    ),
    EventRule(
        E.PROTESTO,
        _HOLDERS,
        sender_rule="AAF01",
        requires=((E.INSCRIPCION_TITULO, "LGC73"),),
        excluded_by=_all((E.LIMITACION_CIRCULACION, E.ENDOSO_CESION, E.TRANSFERENCIA_DERECHOS), "LGC74"),
        after=(After(None, "DC24ze"), After(E.INSCRIPCION_TITULO, "DC24zf")),
        once=False,
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
    ),
    EventRule(
        E.NOTIFICACION_TRANSFERENCIA,
        _HOLDERS,
        sender_rule="AAF01",
        requires=((E.TRANSFERENCIA_DERECHOS, "LGC83"),),
        after=(After(E.TRANSFERENCIA_DERECHOS, "DC24za"),),
        once=False,
    ),
    EventRule(
        E.PAGO_TRANSFERENCIA,
        frozenset({Role.BUYER}),
        sender_rule="AAF01",
        requires=((E.NOTIFICACION_TRANSFERENCIA, "LGC86"),),
        after=(After(E.NOTIFICACION_TRANSFERENCIA, "DC24zb"),),
        once=False,
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
        object.__setattr__(self, "events", MappingProxyType(events))

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
    if rule.window is None or facts.due_date is None:
        return None  # an unknown due date is not ours to refuse on; DIAN checks it
    today = bogota_date(at)
    if rule.window is Window.PAST_DUE and today <= facts.due_date:
        return _refuse(
            f"{_cap(_event(rule.code))} solo puede enviarse cuando la factura esté vencida "
            f"(vence el {_fecha(facts.due_date)}).",
            rule.window_rule,
        )
    if rule.window is Window.BEFORE_DUE:
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


def check(code: EventCode, *, role: Role, facts: DocumentFacts, at: datetime, calendar: BusinessCalendar) -> Decision:
    """Decide whether ``role`` may sign event ``code`` at ``at``; ``calendar`` sets the buyer's 031/033 deadline."""
    _require_aware(at, "at")
    code = EventCode(code)
    rule = RULES[code]
    what = _event(code)

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
