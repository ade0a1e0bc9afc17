"""The variant and history rules of 035-051 in dian.rules' one table: one test per refusal, each with its Spanish
sentence and DIAN rule code, and the allowed path of a title's life (radian-issuing-facts.md A.3, A.5-A.13)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

import pytest

from dian.calendar import BOGOTA, BusinessCalendar
from dian.codes import DocumentType, EventCode, MandateScope, Operation, PaymentMeans
from dian.radian.history import TitleAct, holders
from dian.radian.model import Share
from dian.rules import RULES, DocumentFacts, Role, Sending, check, title_role
from tests.unit.radian_samples import CUFE, sample

E, OP = EventCode, Operation
CAL = BusinessCalendar()
SELLER, BUYER, FACTOR, FACTOR2 = "900123456", "900654321", "800111222", "811222333"
JUDGE, AVALISTA = "899999061", "860000001"
DUE = date(2025, 5, 30)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BOGOTA)


LATER = at("2025-04-10T10:00")


def act(operation: Operation | EventCode, when: str, sender: str, *receivers: str, **fields: object) -> TitleAct:
    code = operation.event if isinstance(operation, Operation) else operation
    return TitleAct(
        code=code,
        signed_at=at(when),
        sender_nit=sender,
        receivers=tuple(Share(nit, f"Parte {nit}") for nit in receivers),
        operation=operation if isinstance(operation, Operation) else None,
        **fields,  # type: ignore[arg-type]
    )


ACCEPTED = (
    act(E.ACUSE_RECIBO, "2025-03-11T09:00", BUYER, SELLER),
    act(E.RECIBO_BIEN, "2025-03-14T09:00", BUYER, SELLER),
    act(E.ACEPTACION_EXPRESA, "2025-03-17T09:00", BUYER, SELLER),
)
REGISTERED = (*ACCEPTED, act(OP.FIRST_REGISTRATION, "2025-03-21T10:00", SELLER, "800197268", cude="036a"))
ENDORSED = (*REGISTERED, act(OP.ENDORSEMENT_WITH_RESPONSIBILITY, "2025-03-25T10:00", SELLER, FACTOR, cude="037a"))
REREGISTERED = (*ENDORSED, act(OP.LATER_REGISTRATION, "2025-03-27T10:00", FACTOR, "800197268", cude="036b"))
PAID = (*REGISTERED, act(OP.TOTAL_PAYMENT, "2025-04-01T10:00", BUYER, "800197268", paid=Decimal("1000.00")))
LIMITED = (*REGISTERED, act(OP.LIMITATION_SEIZURE, "2025-04-01T10:00", JUDGE, "800197268", cude="041a"))


def title(*history: TitleAct, due: date | None = DUE) -> DocumentFacts:
    return DocumentFacts(
        DocumentType.INVOICE,
        PaymentMeans.CREDIT,
        at("2025-03-10T09:00"),
        due_date=due,
        issuer_nit=SELLER,
        buyer_nit=BUYER,
        invoice_cufe=CUFE,
        history=history,
    )


def mandate(operation: Operation = OP.MANDATE_GENERAL_UNLIMITED_TIME, **changes: object):
    base = sample(operation).mandate
    assert base is not None
    return replace(base, mandatario_nit=FACTOR, **changes)


GRANTED = act(OP.MANDATE_GENERAL_UNLIMITED_TIME, "2025-03-20T10:00", BUYER, "800197268", cude="043a", mandate=mandate())

# (operation, sender NIT, role, facts, moment, extra Sending fields, DIAN rule, words the sentence must contain)
REFUSALS = {
    "the sender is no longer the holder (A.11)": (
        OP.ENDORSEMENT_WITH_RESPONSIBILITY,
        SELLER,
        Role.SELLER,
        title(*REREGISTERED),
        LATER,
        {},
        "AAF01",
        ["NIT 900123456 no es el tenedor legítimo", "Parte 800111222 (NIT 800111222)", "25 de marzo de 2025"],
    ),
    "a stranger claiming to hold the title": (
        OP.PAYMENT_REPORT,
        FACTOR2,
        Role.HOLDER,
        title(*REGISTERED),
        LATER,
        {},
        "AAF03",
        ["no es el tenedor legítimo"],
    ),
    "036 before 037: the new holder has not registered it": (
        OP.ENDORSEMENT_WITH_RESPONSIBILITY,
        FACTOR,
        Role.HOLDER,
        title(*ENDORSED),
        LATER,
        {},
        "LGC24",
        ["debe inscribir la factura en RADIAN a su nombre", "inscripción posterior", "25 de marzo de 2025"],
    ),
    "038 before the new holder's 036": (
        OP.GUARANTEE_ENDORSEMENT,
        FACTOR,
        Role.HOLDER,
        title(*ENDORSED),
        LATER,
        {},
        "LGC27",
        ["debe inscribir"],
    ),
    "039 before the new holder's 036": (
        OP.COLLECTION_ENDORSEMENT,
        FACTOR,
        Role.HOLDER,
        title(*ENDORSED),
        LATER,
        {},
        "LGC30",
        ["debe inscribir"],
    ),
    "037 after maturity must be 047": (
        OP.ENDORSEMENT_WITH_RESPONSIBILITY,
        SELLER,
        Role.SELLER,
        title(*REGISTERED),
        at("2025-06-02T10:00"),
        {},
        "AAH59a",
        ["venció el 30 de mayo de 2025", "evento 047"],
    ),
    "no circulation under an active 041": (
        OP.ENDORSEMENT_WITH_RESPONSIBILITY,
        SELLER,
        Role.SELLER,
        title(*LIMITED),
        LATER,
        {},
        "LGC25",
        ["evento 041"],
    ),
    "no later registration under an active 041": (
        OP.LATER_REGISTRATION,
        FACTOR,
        Role.HOLDER,
        title(*ENDORSED, act(OP.LIMITATION_SEIZURE, "2025-03-26T10:00", JUDGE, "800197268")),
        LATER,
        {},
        "LGC22",
        ["vigente el evento 041"],
    ),
    "a payment under an active 041 says so (listID 2)": (
        OP.PARTIAL_PAYMENT,
        BUYER,
        Role.BUYER,
        title(*LIMITED),
        LATER,
        {"list_id": "1"},
        "LGC45",
        ["limitación a la circulación", "condición 2"],
    ),
    "a transfer payment under an active 041 says so": (
        OP.TRANSFER_PARTIAL_PAYMENT,
        BUYER,
        Role.BUYER,
        title(
            *REGISTERED,
            act(OP.TRANSFER_TOTAL_WITH_RESPONSIBILITY, "2025-03-24T10:00", SELLER, FACTOR),
            act(OP.TRANSFER_NOTICE, "2025-03-25T10:00", SELLER, BUYER),
            act(OP.LIMITATION_SEIZURE, "2025-03-26T10:00", JUDGE, "800197268"),
        ),
        LATER,
        {},
        "LGC85",
        ["condición 2"],
    ),
    "a first registration twice": (
        OP.FIRST_REGISTRATION,
        SELLER,
        Role.SELLER,
        title(*REGISTERED),
        LATER,
        {},
        "LGC23",
        ["ya tiene registrada la primera inscripción"],
    ),
    "a first registration after an endorsement": (
        OP.FIRST_REGISTRATION_DIRECT,
        SELLER,
        Role.SELLER,
        title(*REGISTERED, act(OP.GUARANTEE_ENDORSEMENT, "2025-03-24T10:00", SELLER, FACTOR)),
        LATER,
        {},
        "LGC20",
        ["evento 038"],
    ),
    "a later registration after the total payment": (
        OP.LATER_REGISTRATION,
        FACTOR,
        Role.HOLDER,
        title(*ENDORSED, act(OP.TOTAL_PAYMENT, "2025-03-26T10:00", BUYER, "800197268")),
        LATER,
        {},
        "LGC22",
        ["pago total (452)"],
    ),
    "a later registration without an endorsement": (
        OP.LATER_REGISTRATION,
        SELLER,
        Role.SELLER,
        title(*REGISTERED),
        LATER,
        {},
        "LGC37",
        ["evento 037"],
    ),
    "401 without a 038": (
        OP.CANCEL_GUARANTEE_ENDORSEMENT,
        SELLER,
        Role.SELLER,
        title(*REGISTERED, act(OP.COLLECTION_ENDORSEMENT, "2025-03-24T10:00", SELLER, FACTOR)),
        LATER,
        {},
        "LGC46",
        ["evento 038"],
    ),
    "402 without a 039": (
        OP.CANCEL_COLLECTION_ENDORSEMENT,
        SELLER,
        Role.SELLER,
        title(*REGISTERED, act(OP.GUARANTEE_ENDORSEMENT, "2025-03-24T10:00", SELLER, FACTOR)),
        LATER,
        {},
        "LGC47",
        ["evento 039"],
    ),
    "481 once due": (
        OP.PROTEST_NON_ACCEPTANCE,
        SELLER,
        Role.SELLER,
        title(*REGISTERED),
        at("2025-06-02T10:00"),
        {},
        "LGC75",
        ["antes del vencimiento"],
    ),
    "482 before due": (
        OP.PROTEST_NON_PAYMENT,
        SELLER,
        Role.SELLER,
        title(*REGISTERED),
        LATER,
        {},
        "LGC76",
        ["esté vencida"],
    ),
    "482 more than 15 business days after due": (
        # Due Friday 30 May 2025; 15 business days by hand (Mon 2 Jun = Ascensión, 23 Jun Corpus, 30 Jun Sagrado
        # Corazón are holidays): Jun 3,4,5,6,9,10,11,12,13,16,17,18,19,20,24 -> the 15th is Tuesday 24 June.
        OP.PROTEST_NON_PAYMENT,
        SELLER,
        Role.SELLER,
        title(*REGISTERED),
        at("2025-06-25T10:00"),
        {},
        "LGC77",
        ["15 días hábiles", "el último día fue el 24 de junio de 2025"],
    ),
    "a partial transfer payment after the total one": (
        OP.TRANSFER_PARTIAL_PAYMENT,
        BUYER,
        Role.BUYER,
        title(
            *REGISTERED,
            act(OP.TRANSFER_TOTAL_WITH_RESPONSIBILITY, "2025-03-24T10:00", SELLER, FACTOR),
            act(OP.TRANSFER_NOTICE, "2025-03-25T10:00", SELLER, BUYER),
            act(OP.TRANSFER_TOTAL_PAYMENT, "2025-03-26T10:00", BUYER, "800197268"),
        ),
        LATER,
        {},
        "LGC84",
        ["pago total de la transferencia (512)"],
    ),
    "the aval by the buyer": (
        OP.AVAL,
        BUYER,
        Role.THIRD_PARTY,
        title(*REGISTERED),
        LATER,
        {},
        "LGC64",
        ["no puede enviarlo el tenedor legítimo, el emisor ni el comprador"],
    ),
    "a limitation by the holder": (
        OP.LIMITATION_SEIZURE,
        SELLER,
        Role.AUTHORITY,
        title(*REGISTERED),
        LATER,
        {},
        "LGC64",
        ["tenedor legítimo"],
    ),
    "a payment by someone who is not the buyer": (
        OP.PARTIAL_PAYMENT,
        FACTOR2,
        Role.BUYER,
        title(*REGISTERED),
        LATER,
        {},
        "AAF01",
        ["NIT 811222333 no es el comprador de esta factura (NIT 900654321)"],
    ),
    "a mandatario without a mandate": (
        OP.PARTIAL_PAYMENT,
        BUYER,
        Role.BUYER,
        title(*REGISTERED),
        LATER,
        {"provider_nit": FACTOR},
        "LGC35",
        ["NIT 800111222 envía", "en nombre del NIT 900654321", "no hay un mandato (evento 043) vigente"],
    ),
    "a mandatario whose mandate was revoked": (
        OP.PARTIAL_PAYMENT,
        BUYER,
        Role.BUYER,
        title(
            *REGISTERED, GRANTED, act(OP.MANDATE_REVOKED, "2025-04-01T10:00", BUYER, "800197268", reference_cude="043a")
        ),
        LATER,
        {"provider_nit": FACTOR},
        "LGC35",
        ["no hay un mandato"],
    ),
    "a mandatario whose mandate expired": (
        OP.PARTIAL_PAYMENT,
        BUYER,
        Role.BUYER,
        title(
            *REGISTERED,
            replace(
                GRANTED,
                operation=OP.MANDATE_GENERAL_LIMITED_TIME,
                mandate=mandate(OP.MANDATE_GENERAL_LIMITED_TIME, end_date=date(2025, 4, 5)),
            ),
        ),
        LATER,
        {"provider_nit": FACTOR},
        "LGC35",
        ["no hay un mandato"],
    ),
    "a mandatario for another invoice": (
        OP.PARTIAL_PAYMENT,
        BUYER,
        Role.BUYER,
        title(
            *REGISTERED,
            replace(
                GRANTED,
                mandate=mandate(scope=MandateScope.ONE_INVOICE, invoices=(sample(OP.MANDATE_REVOKED).reference,)),
            ),
        ),
        LATER,
        {"provider_nit": FACTOR},
        "LGC35",
        ["que cubra esta factura"],
    ),
    "a mandatario with limited powers": (
        OP.PARTIAL_PAYMENT,
        BUYER,
        Role.BUYER,
        title(
            *REGISTERED,
            replace(
                GRANTED, operation=OP.MANDATE_LIMITED_UNLIMITED_TIME, mandate=mandate(OP.MANDATE_LIMITED_UNLIMITED_TIME)
            ),
        ),
        LATER,
        {"provider_nit": FACTOR},
        "LGC35",
        ["facultades limitadas (MR91-FE)"],
    ),
    "441 by someone who is not the mandante": (
        OP.MANDATE_REVOKED,
        SELLER,
        Role.SELLER,
        title(*REGISTERED, GRANTED),
        LATER,
        {"reference_cude": "043a"},
        "AAF01",
        ["Solo el mandante (NIT 900654321)"],
    ),
    "442 by someone who is not the mandatario": (
        OP.MANDATE_RENOUNCED,
        FACTOR2,
        Role.MANDATARY,
        title(*REGISTERED, GRANTED),
        LATER,
        {"reference_cude": "043a"},
        "AAF01",
        ["Solo el mandatario (NIT 800111222)"],
    ),
    "442 by the mandante": (
        OP.MANDATE_RENOUNCED,
        BUYER,
        Role.BUYER,
        title(*REGISTERED, GRANTED),
        LATER,
        {"reference_cude": "043a"},
        "AAF01",
        ["Solo el mandatario puede enviar la renuncia del mandatario (442)"],
    ),
    "040 naming an event that is not here": (
        OP.CANCEL_GUARANTEE_ENDORSEMENT,
        SELLER,
        Role.SELLER,
        title(*REGISTERED, act(OP.GUARANTEE_ENDORSEMENT, "2025-03-24T10:00", SELLER, FACTOR, cude="038a")),
        LATER,
        {"reference_cude": "nope"},
        None,
        ["el CUDE indicado no lo es"],
    ),
    "401 naming a 039": (
        OP.CANCEL_GUARANTEE_ENDORSEMENT,
        SELLER,
        Role.SELLER,
        title(
            *REGISTERED,
            act(OP.GUARANTEE_ENDORSEMENT, "2025-03-24T10:00", SELLER, FACTOR, cude="038a"),
            act(OP.COLLECTION_ENDORSEMENT, "2025-03-24T11:00", SELLER, FACTOR2, cude="039a"),
        ),
        LATER,
        {"reference_cude": "039a"},
        None,
        ["se refiere a el evento 038", "no a el evento 039"],
    ),
}
# Nothing after a 452 total payment (A.9): every event whose row names the rule, each with DIAN's own code.
for _code, _rule in RULES.items():
    if _rule.closed_rule is not None and _code is not E.MANDATO:
        _operation = Operation.of(_code)[0]
        _role = next(iter(sorted(_rule.senders, key=lambda r: r.value)))
        _sender = {Role.BUYER: BUYER, Role.THIRD_PARTY: AVALISTA, Role.AUTHORITY: JUDGE}.get(_role, SELLER)
        REFUSALS[f"{_code.value} after a 452"] = (
            _operation,
            _sender,
            _role,
            title(*PAID),
            LATER,
            {"list_id": None},
            _rule.closed_rule,
            ["ya tiene registrado el pago total", "1 de abril de 2025"],
        )


def _decide(operation, sender, role, facts, moment, extra):
    sending = Sending(operation, sender, **extra)
    return check(operation.event, role=role, facts=facts, at=moment, calendar=CAL, sending=sending)


@pytest.mark.parametrize(
    ("operation", "sender", "role", "facts", "moment", "extra", "rule", "words"),
    REFUSALS.values(),
    ids=REFUSALS.keys(),
)
def test_refusals(operation, sender, role, facts, moment, extra, rule, words) -> None:
    decision = _decide(operation, sender, role, facts, moment, extra)
    assert not decision.allowed, decision
    assert decision.rule == rule, decision.reason
    for word in words:
        assert word in decision.reason
    assert decision.reason.endswith(".") and decision.reason[0].isupper()


def test_every_closing_rule_is_tested() -> None:
    closing = {rule.closed_rule for code, rule in RULES.items() if rule.closed_rule and code is not E.MANDATO}
    assert closing == {
        "LGC40",
        "LGC26",
        "LGC29",
        "LGC32",
        "LGC92",
        "LGC44",
        "LGC50",
        "LGC71",
        "LGC78",
        "LGC81",
        "LGC90",
        "LGC91",
    }  # A.9's list less 036 (LGC22, tested above) and 043 (LGC89, below)


def test_a_mandate_after_the_total_payment() -> None:
    decision = _decide(OP.MANDATE_GENERAL_UNLIMITED_TIME, SELLER, Role.SELLER, title(*PAID), LATER, {})
    assert (decision.allowed, decision.rule) == (False, "LGC89")


ALLOWED = {
    "the issuer registers": (OP.FIRST_REGISTRATION, SELLER, Role.SELLER, title(*ACCEPTED), LATER, {}),
    "the issuer endorses to the factor": (
        OP.ENDORSEMENT_WITH_RESPONSIBILITY,
        SELLER,
        Role.SELLER,
        title(*REGISTERED),
        LATER,
        {},
    ),
    "a blank endorsement by the holder": (
        OP.ENDORSEMENT_WITHOUT_RESPONSIBILITY,
        SELLER,
        Role.SELLER,
        title(*REGISTERED),
        LATER,
        {"list_id": "2"},
    ),
    "the factor registers it in its name": (OP.LATER_REGISTRATION, FACTOR, Role.HOLDER, title(*ENDORSED), LATER, {}),
    "the factor endorses on once registered": (
        OP.ENDORSEMENT_WITHOUT_RESPONSIBILITY,
        FACTOR,
        Role.HOLDER,
        title(*REREGISTERED),
        LATER,
        {},
    ),
    "the factor reports for payment": (
        OP.PAYMENT_REPORT,
        FACTOR,
        Role.HOLDER,
        title(*REREGISTERED),
        at("2025-05-20T10:00"),
        {},
    ),
    "the buyer pays partially": (OP.PARTIAL_PAYMENT, BUYER, Role.BUYER, title(*REREGISTERED), LATER, {}),
    "the holder records a payment": (OP.TOTAL_PAYMENT, FACTOR, Role.HOLDER, title(*REREGISTERED), LATER, {}),
    "a payment under 041 with listID 2": (
        OP.PARTIAL_PAYMENT,
        BUYER,
        Role.BUYER,
        title(*LIMITED),
        LATER,
        {"list_id": "2"},
    ),
    "an endorsement once the 041 is ended": (
        OP.ENDORSEMENT_WITH_RESPONSIBILITY,
        SELLER,
        Role.SELLER,
        title(*LIMITED, act(OP.LIMITATION_END_EARLY, "2025-04-02T10:00", JUDGE, "800197268", reference_cude="041a")),
        LATER,
        {},
    ),
    "047 after maturity": (
        OP.ASSIGNMENT_ENDORSEMENT,
        SELLER,
        Role.SELLER,
        title(*REGISTERED),
        at("2025-06-02T10:00"),
        {},
    ),
    "482 within 15 business days": (
        OP.PROTEST_NON_PAYMENT,
        SELLER,
        Role.SELLER,
        title(*REGISTERED),
        at("2025-06-24T10:00"),
        {},
    ),
    "a mandatario with an active general mandate": (
        OP.PARTIAL_PAYMENT,
        BUYER,
        Role.BUYER,
        title(*REGISTERED, GRANTED),
        LATER,
        {"provider_nit": FACTOR},
    ),
    "the mandante revokes its mandate": (
        OP.MANDATE_REVOKED,
        BUYER,
        Role.BUYER,
        title(*REGISTERED, GRANTED),
        LATER,
        {"reference_cude": "043a"},
    ),
    "the mandatario renounces": (
        OP.MANDATE_RENOUNCED,
        FACTOR,
        Role.MANDATARY,
        title(*REGISTERED, GRANTED),
        LATER,
        {"reference_cude": "043a"},
    ),
    "an avalista": (OP.AVAL, AVALISTA, Role.THIRD_PARTY, title(*REGISTERED), LATER, {}),
    "a judge limits": (OP.LIMITATION_SEIZURE, JUDGE, Role.AUTHORITY, title(*REGISTERED), LATER, {}),
}


@pytest.mark.parametrize(
    ("operation", "sender", "role", "facts", "moment", "extra"), ALLOWED.values(), ids=ALLOWED.keys()
)
def test_allowed(operation, sender, role, facts, moment, extra) -> None:
    decision = _decide(operation, sender, role, facts, moment, extra)
    assert decision.allowed, decision.reason
    assert decision.reason.startswith(f"Se puede enviar el evento {operation.event.value}")


def test_without_a_sending_the_event_level_rules_alone_apply() -> None:
    # The same facts that refuse the old issuer's endorsement with a Sending let the event-level check through:
    # the table's history rules need to know who sends (backwards compatible with 030-034 callers).
    facts = title(*REREGISTERED)
    assert check(E.ENDOSO_PROPIEDAD, role=Role.SELLER, facts=facts, at=LATER, calendar=CAL).allowed
    assert not _decide(OP.ENDORSEMENT_WITH_RESPONSIBILITY, SELLER, Role.SELLER, facts, LATER, {}).allowed


def test_a_sending_must_match_the_code() -> None:
    with pytest.raises(ValueError, match="belongs to event 037"):
        check(
            E.PAGO,
            role=Role.BUYER,
            facts=title(*REGISTERED),
            at=LATER,
            calendar=CAL,
            sending=Sending(OP.ENDORSEMENT_WITH_RESPONSIBILITY, BUYER),
        )


def test_036_only_on_accepted_credit_invoices() -> None:
    claimed = (*ACCEPTED[:2], act(E.RECLAMO, "2025-03-17T09:00", BUYER, SELLER))
    decision = _decide(OP.FIRST_REGISTRATION, SELLER, Role.SELLER, title(*claimed), LATER, {})
    assert (decision.allowed, decision.rule) == (False, "LGC21")
    cash = replace(title(*ACCEPTED), payment_means=PaymentMeans.CASH)
    decision = _decide(OP.FIRST_REGISTRATION, SELLER, Role.SELLER, cash, LATER, {})
    assert (decision.allowed, decision.rule) == (False, "LGC62")


def test_history_joins_the_event_times() -> None:
    facts = title(*REREGISTERED)
    assert facts.events[E.INSCRIPCION_TITULO] == (at("2025-03-21T10:00"), at("2025-03-27T10:00"))
    assert [a.code for a in facts.history][-2:] == [E.ENDOSO_PROPIEDAD, E.INSCRIPCION_TITULO]


def test_the_holder_replay_follows_each_037_only() -> None:
    issuer = Share(SELLER, "Vendedor SAS")
    assert holders(issuer, REGISTERED) == (issuer,)
    assert [s.nit for s in holders(issuer, ENDORSED)] == [FACTOR]
    # 038/039/047/049 do not move DIAN's holder (A.11); a second 037 does, to several co-holders.
    later = (
        *REREGISTERED,
        act(OP.GUARANTEE_ENDORSEMENT, "2025-03-28T10:00", FACTOR, FACTOR2),
        act(OP.ENDORSEMENT_WITH_RESPONSIBILITY, "2025-03-29T10:00", FACTOR, FACTOR2, AVALISTA),
    )
    assert [s.nit for s in holders(issuer, later[:-1])] == [FACTOR]
    assert [s.nit for s in holders(issuer, reversed(later))] == [FACTOR2, AVALISTA]  # signing order, not list order


def test_title_role() -> None:
    assert title_role(SELLER, title(*REGISTERED)) is Role.SELLER
    assert title_role(FACTOR, title(*ENDORSED)) is Role.HOLDER
    assert title_role("900123456-8", title(*ENDORSED)) is Role.SELLER  # the issuer, no longer holding it
    assert title_role(BUYER, title(*ENDORSED)) is Role.BUYER
    assert title_role(JUDGE, title(*ENDORSED)) is None
