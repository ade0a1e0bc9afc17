"""The rules table itself: one EventRule row per event 030-051, with the variants' OperationRules, read as RULES.

Sources: dian-facts.md 2.2 and 2.4 and, for 035-051, radian-issuing-facts.md A.3-A.13.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from dian.codes import EventCode, Operation
from dian.rules.roles import HOLDERS, MANDANTES, Role
from dian.rules.rule import After, EventRule, OperationRule, Window

E = EventCode


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
        HOLDERS,
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
        HOLDERS,
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
        HOLDERS,
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
        HOLDERS,
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
        HOLDERS,
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
    EventRule(E.MANDATO, MANDANTES, after=(After(None, "DC24r"),), once=False, closed_rule="LGC89"),
    EventRule(
        E.TERMINACION_MANDATO,
        MANDANTES | {Role.MANDATARY},
        sender_rule="AAF01",
        requires=((E.MANDATO, "LGC41"),),
        after=(After(E.MANDATO, "DC24s"),),
        once=False,
        operations=(
            (OP.MANDATE_REVOKED, OperationRule(senders=MANDANTES, sender_rule="AAF01", ends=(E.MANDATO,))),
            (
                OP.MANDATE_RENOUNCED,
                OperationRule(senders=frozenset({Role.MANDATARY}), sender_rule="AAF01", ends=(E.MANDATO,)),
            ),
        ),
    ),
    EventRule(
        E.PAGO,
        HOLDERS | {Role.BUYER},
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
        HOLDERS,
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
        HOLDERS,
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
        HOLDERS,
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
        HOLDERS,
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
        HOLDERS,
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
