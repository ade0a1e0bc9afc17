"""The time windows: the buyer's claim/acceptance term and the tacit acceptance after the 032 (031/033/034), and the
windows around the due date (037, 046, 047, 048), counted in business days as DIAN counts them.
"""

from __future__ import annotations

from datetime import datetime

from dian.calendar import WINDOW_BUSINESS_DAYS, BusinessCalendar, bogota_date
from dian.codes import EventCode
from dian.rules.decision import Decision, refuse
from dian.rules.facts import DocumentFacts
from dian.rules.rule import EventRule, Window
from dian.rules.words import cap, event, fecha

E = EventCode


_WINDOW_VERBS = {E.RECLAMO: "reclamar", E.ACEPTACION_EXPRESA: "aceptar expresamente"}

# DIAN's validator counts Monday to Friday minus holidays (dian-facts.md 2.2): checks that predict DIAN (034, 046) use
# it whatever the caller's Saturday policy, which only sets the buyer's own deadline for 031/033 (7.1).
_DIAN_CALENDAR = BusinessCalendar(saturday_is_business_day=False)


def check_window(rule: EventRule, facts: DocumentFacts, at: datetime, calendar: BusinessCalendar) -> Decision | None:
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
                return refuse(
                    f"El plazo para {_WINDOW_VERBS[rule.code]} venció el {fecha(end.date())} "
                    f"({WINDOW_BUSINESS_DAYS} días hábiles después del recibo del bien).",
                    rule.window_rule,
                )
        elif _DIAN_CALENDAR.business_days_between(start, bogota_date(at)) <= WINDOW_BUSINESS_DAYS:
            # DC24e: 034 only when more than 3 business days separate the 032 date from the 034 date.
            first_day = _DIAN_CALENDAR.add_business_days(start, WINDOW_BUSINESS_DAYS + 1)
            return refuse(
                f"La aceptación tácita solo puede enviarse desde el {fecha(first_day)} "
                f"(más de {WINDOW_BUSINESS_DAYS} días hábiles después del recibo del bien).",
                rule.window_rule,
            )
        return None
    return due_window(rule.window, rule.window_rule, event(rule.code), facts, at)


# 048 for non-payment: within 15 business days after the due date (BusinessDaysLimitObjection, LGC77). DIAN's message
# says calendar days while its code counts business days (A.14 item 6); we follow the code.
PROTEST_BUSINESS_DAYS = 15


def due_window(
    window: Window | None, window_rule: str | None, what: str, facts: DocumentFacts, at: datetime
) -> Decision | None:
    if window is None or facts.due_date is None:
        return None  # an unknown due date is not ours to refuse on; DIAN checks it
    today = bogota_date(at)
    due = fecha(facts.due_date)
    if window is Window.PAST_DUE and today <= facts.due_date:
        return refuse(f"{cap(what)} solo puede enviarse cuando la factura esté vencida (vence el {due}).", window_rule)
    if window is Window.BEFORE_MATURITY and today > facts.due_date:
        return refuse(
            f"La factura venció el {due}: después del vencimiento un endoso en propiedad solo tiene efectos de cesión "
            f"ordinaria y se registra como el evento 047 ({E.ENDOSO_CESION.label}).",
            window_rule,
        )
    if window is Window.NOT_DUE and today > facts.due_date:
        return refuse(
            f"El protesto por falta de aceptación solo procede antes del vencimiento; la factura venció el {due}.",
            window_rule,
        )
    if window is Window.PROTEST_TERM:
        if today <= facts.due_date:
            return refuse(
                f"El protesto por falta de pago solo procede cuando la factura esté vencida (vence el {due}).",
                window_rule,
            )
        if _DIAN_CALENDAR.business_days_between(facts.due_date, today) > PROTEST_BUSINESS_DAYS:
            last_day = _DIAN_CALENDAR.add_business_days(facts.due_date, PROTEST_BUSINESS_DAYS)
            return refuse(
                f"El protesto por falta de pago debe registrarse dentro de los {PROTEST_BUSINESS_DAYS} días hábiles "
                f"siguientes al vencimiento ({due}); el último día fue el {fecha(last_day)}.",
                "LGC77",
            )
    if window is Window.BEFORE_DUE:
        if today > facts.due_date:
            return refuse(
                f"El informe para el pago debe enviarse antes del vencimiento; la factura venció el "
                f"{fecha(facts.due_date)}.",
                "LGC55",
            )
        if _DIAN_CALENDAR.business_days_between(today, facts.due_date) < WINDOW_BUSINESS_DAYS:
            last_day = _DIAN_CALENDAR.add_business_days(facts.due_date, -WINDOW_BUSINESS_DAYS)
            return refuse(
                f"El informe para el pago debe enviarse al menos {WINDOW_BUSINESS_DAYS} días hábiles antes del "
                f"vencimiento ({fecha(facts.due_date)}); el último día fue el {fecha(last_day)}.",
                "LGC54",
            )
    return None
