"""The checks themselves: ``check`` (may this role send this event now, with the variant and history rules of
035-051 when a Sending says who sends what), ``allowed_events``, and ``sender_refusal`` (may this party send it
at all).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from dian.calendar import BusinessCalendar
from dian.codes import DIAN_NIT, EventCode, Operation, PaymentCondition, PaymentMeans
from dian.nit import same_nit
from dian.radian.history import TitleAct, active_mandates, powers_cover
from dian.rules.decision import Decision, refuse
from dian.rules.facts import DocumentFacts, Sending, require_aware
from dian.rules.roles import HOLDERS, ROLE_LABELS, Role
from dian.rules.rule import EventRule, OperationRule, Window
from dian.rules.table import RULES
from dian.rules.windows import check_window, due_window
from dian.rules.words import cap, either, event, fecha, fecha_hora, nit_list

E = EventCode


def _ended_by(act: TitleAct, history: Sequence[TitleAct], ender: EventCode) -> bool:
    return any(other.code is ender and other.reference_cude == act.cude for other in history)


def _check_reference(
    code: EventCode, op_rule: OperationRule, sending: Sending, facts: DocumentFacts, role: Role
) -> Decision | None:
    """040/042/044 name the event they end (A.4): it must be registered here, of the right kind, and still in force;
    441 comes from the mandate's mandante and 442 from its mandatario (A.8)."""
    if not op_rule.ends or sending.reference_cude is None or not facts.history:
        return None
    what = event(code)
    target = next((act for act in facts.history if act.cude == sending.reference_cude), None)
    if target is None:
        return refuse(
            f"{cap(what)} debe referirse a un evento registrado en esta factura; el CUDE indicado no lo es.", None
        )
    if target.code not in op_rule.ends:
        kinds = either([event(kind) for kind in op_rule.ends])
        return refuse(f"{cap(sending.operation.label)} se refiere a {kinds}, no a {event(target.code)}.", None)
    if _ended_by(target, facts.history, code):
        return refuse(f"{cap(event(target.code))} indicado ya fue terminado o cancelado.", None)
    mandate = target.mandate
    if sending.operation is Operation.MANDATE_REVOKED and not same_nit(sending.sender_nit, target.sender_nit):
        return refuse(f"Solo el mandante (NIT {target.sender_nit}) puede revocar el mandato.", "AAF01")
    if (
        sending.operation is Operation.MANDATE_RENOUNCED
        and mandate is not None
        and not same_nit(sending.sender_nit, mandate.mandatario_nit)
    ):
        return refuse(f"Solo el mandatario (NIT {mandate.mandatario_nit}) puede renunciar al mandato.", "AAF01")
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
    what = event(rule.code)
    if not mandates:
        return refuse(
            f"El NIT {provider} envía {what} en nombre del NIT {sending.sender_nit}, pero no hay un mandato "
            f"(evento 043) vigente del NIT {sending.sender_nit} al NIT {provider} que cubra esta factura.",
            rule.mandatario_rule,
        )
    if not any(powers_cover(act.mandate) for act in mandates if act.mandate is not None):
        powers = ", ".join(sorted({p for act in mandates if act.mandate for p in act.mandate.powers}))
        return refuse(
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
    what = event(code)
    op_rule = rule.operation_rule(operation)
    label = f"{operation.label.lower()} ({operation.value})"
    if op_rule.senders is not None and role not in op_rule.senders:
        who = either([ROLE_LABELS[r] for r in Role if r in op_rule.senders])
        return refuse(f"Solo {who} puede enviar la {label}.", op_rule.sender_rule)
    current, endorsement = facts.holders()
    sender = sending.sender_nit
    if facts.knows_parties:
        if role is Role.BUYER and facts.buyer_nit and not same_nit(sender, facts.buyer_nit):
            return refuse(
                f"El NIT {sender} no es el comprador de esta factura (NIT {facts.buyer_nit}).", rule.sender_rule
            )
        if rule.holder and role in HOLDERS and not any(same_nit(sender, holder.nit) for holder in current):
            since = f" desde el endoso del {fecha_hora(endorsement.signed_at)}" if endorsement else ""
            return refuse(
                f"El NIT {sender} no es el tenedor legítimo de esta factura: lo es {nit_list(current)}{since}.",
                rule.sender_rule,
            )
        if rule.outsider_rule is not None and (
            any(same_nit(sender, holder.nit) for holder in current)
            or same_nit(sender, facts.issuer_nit)
            or same_nit(sender, facts.buyer_nit)
        ):
            return refuse(
                f"{cap(what)} no puede enviarlo el tenedor legítimo, el emisor ni el comprador de la factura.",
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
            after = f" después del endoso que recibió el {fecha_hora(endorsement.signed_at)}" if endorsement else ""
            return refuse(
                f"Antes de enviar {what}, {nit_list(current)} debe inscribir la factura en RADIAN a su nombre "
                f"(evento 036, inscripción posterior){after}.",
                rule.own_registration_rule,
            )
    for needed, needed_rule in op_rule.requires:
        if needed not in facts.events:
            return refuse(f"Para la {label} primero debe estar registrado {event(needed)}.", needed_rule)
    for other, other_rule in op_rule.excluded_by:
        if facts.in_force(other):
            return refuse(f"No se puede hacer la {label}: la factura tiene vigente {event(other)}.", other_rule)
    for other, other_rule in op_rule.not_after:
        if other in facts.events:
            return refuse(f"No se puede hacer la {label}: la factura ya tiene registrado {event(other)}.", other_rule)
    for done, done_rule in op_rule.not_after_operations:
        if any(act.operation is done for act in facts.history):
            return refuse(
                f"No se puede hacer la {label}: la factura ya tiene registrada la {done.label.lower()} ({done.value}).",
                done_rule,
            )
    window = due_window(op_rule.window, op_rule.window_rule, f"la {label}", facts, at)
    if window is not None:
        return window
    if (
        rule.limitation_list_rule is not None
        and facts.in_force(E.LIMITACION_CIRCULACION)
        and sending.list_id != PaymentCondition.UNDER_LIMITATION
    ):
        return refuse(
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
    require_aware(at, "at")
    code = EventCode(code)
    rule = RULES[code]
    what = event(code)
    if sending is not None and sending.operation.event is not code:
        raise ValueError(
            f"operation {sending.operation.value} belongs to event {sending.operation.event.value}, not {code.value}"
        )

    if not facts.document_type.is_invoice:
        return refuse(
            f"Las notas crédito y débito no admiten eventos; {what} se registra sobre la factura.",
            None,
        )
    if role not in rule.senders:
        who = either([ROLE_LABELS[r] for r in Role if r in rule.senders])
        return refuse(f"Solo {who} puede enviar {what}.", rule.sender_rule)
    if rule.credit_only and facts.payment_means is not PaymentMeans.CREDIT:
        # LGC62 (dian-facts.md 2.4, radian-issuing-facts.md A.5): events that make or move a título valor need a sale
        # on credit.
        situation = "es de contado" if facts.payment_means is PaymentMeans.CASH else "no indica la forma de pago"
        return refuse(f"Solo las facturas a crédito admiten {what}; esta factura {situation}.", "LGC62")
    if rule.once and code in facts.events:
        return refuse(f"{cap(what)} ya está registrado en esta factura.", rule.duplicate_rule)
    # Nothing after a 452 total payment (A.9): the strongest reason, said before what else would be missing.
    closing = next((act for act in facts.history if act.operation in rule.closed_by), None)
    if rule.closed_rule is not None and closing is not None:
        return refuse(
            f"La factura ya tiene registrado el pago total ({closing.operation.label.lower()}, "  # type: ignore[union-attr]
            f"{fecha_hora(closing.signed_at)}): no admite {what}.",
            rule.closed_rule,
        )
    for other, other_rule in rule.excluded_by:
        if facts.in_force(other):
            return refuse(
                f"No se puede enviar {what}: la factura ya tiene registrado {event(other)}.",
                other_rule,
            )
    for needed, needed_rule in rule.requires:
        if needed not in facts.events:
            return refuse(f"Para enviar {what} primero debe estar registrado {event(needed)}.", needed_rule)
    if rule.requires_any and not any(other in facts.events for other in rule.requires_any):
        options = either([event(other) for other in rule.requires_any])
        return refuse(f"Para enviar {what} primero debe estar registrado {options}.", rule.requires_any_rule)
    for after in rule.after:
        if after.event is None:
            reference, subject = facts.signed_at, "la factura"
        else:
            # Against the latest registration: DIAN says "the latest 036" for DC24k/m/p and "the first" for DC24g/u/x,
            # which differ only when a registration is later than ``at``, and that is refused below anyway (DC24).
            reference = facts.latest(after.event)
            subject = event(after.event)
        if reference is not None and at < reference:
            return refuse(
                f"{cap(what)} no puede firmarse antes que {subject}, firmado el {fecha_hora(reference)}.",
                after.rule,
            )
    window = check_window(rule, facts, at, calendar)
    if window is not None:
        return window
    # DC24: nothing may be dated after the moment of signing; a later time means a clock is wrong somewhere.
    future = [facts.signed_at] if facts.signed_at is not None and facts.signed_at > at else []
    future += [latest for code in facts.events if (latest := facts.latest(code)) is not None and latest > at]
    if future:
        return refuse(
            f"Hay registros con fecha posterior al momento de firma ({fecha_hora(max(future))}); "
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
        reason += f" El plazo vence el {fecha(calendar.window_end(received).date())}."
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
    who = who or " o ".join(ROLE_LABELS[r] for r in sorted(rule.senders, key=lambda r: r.value))
    return (
        f"el evento {code.value} ({code.label}) lo envía el NIT {sender_nit}, pero sobre esta factura solo puede "
        f"enviarlo {who}"
    )
