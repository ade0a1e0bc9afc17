"""The event rule table: every rule, its refusal sentence and its DIAN rule code (dian-facts.md 2.2, 2.4)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from dian.calendar import BOGOTA, BusinessCalendar
from dian.codes import DocumentState, DocumentType, EventCode, PaymentMeans
from dian.rules import RULES, DocumentFacts, Role, allowed_events, check, derive_state, sender_refusal

E = EventCode
MON_FRI = BusinessCalendar()
MON_SAT = BusinessCalendar(saturday_is_business_day=True)


def bogota(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BOGOTA)


INVOICE_SIGNED = bogota("2025-03-10T09:00")
# One plausible history; the 032 is signed on Friday 14 March 2025 at 20:30 Bogota, already Saturday in UTC. By hand:
# Mon 17, Tue 18, Wed 19 are the 3 business days (San José is observed on Monday 24), so the window ends on Wednesday
# 19 March and DIAN takes a 034 from Thursday 20 March.
TIMES = {
    E.ACUSE_RECIBO: bogota("2025-03-11T09:00"),
    E.MANDATO: bogota("2025-03-12T09:00"),
    E.RECIBO_BIEN: datetime(2025, 3, 15, 1, 30, tzinfo=UTC),  # Friday 14 at 20:30 in Bogota
    E.RECLAMO: bogota("2025-03-17T10:00"),
    E.ACEPTACION_EXPRESA: bogota("2025-03-17T10:00"),
    E.ACEPTACION_TACITA: bogota("2025-03-20T10:00"),
    E.INSCRIPCION_TITULO: bogota("2025-03-21T10:00"),
    E.ENDOSO_PROPIEDAD: bogota("2025-03-25T10:00"),
    E.ENDOSO_GARANTIA: bogota("2025-03-25T10:00"),
    E.ENDOSO_PROCURACION: bogota("2025-03-25T11:00"),
    E.LIMITACION_CIRCULACION: bogota("2025-03-25T10:00"),
    E.TRANSFERENCIA_DERECHOS: bogota("2025-03-25T10:00"),
    E.ENDOSO_CESION: bogota("2025-03-25T10:00"),
    E.PROTESTO: bogota("2025-03-25T10:00"),
    E.NOTIFICACION_TRANSFERENCIA: bogota("2025-03-26T10:00"),
    E.CANCELACION_ENDOSO: bogota("2025-03-26T10:00"),
    E.TERMINACION_LIMITACION: bogota("2025-03-26T10:00"),
}
LATER = bogota("2025-04-02T10:00")  # after everything in TIMES


def facts(
    *codes: str,
    means: PaymentMeans | None = PaymentMeans.CREDIT,
    document_type: DocumentType = DocumentType.INVOICE,
    due: date | None = None,
    signed_at: datetime | None = INVOICE_SIGNED,
    **times: datetime,
) -> DocumentFacts:
    """Facts with the given events registered at their TIMES; keyword e033=... overrides one time."""
    events = {E(code): TIMES[E(code)] for code in codes}
    events.update({E(name[1:]): moment for name, moment in times.items()})
    return DocumentFacts(document_type, means, signed_at, events, due)


CYCLE = ("030", "032")
TITLE = ("030", "032", "033", "036")


# (event, role, facts, at, calendar, expected rule, words the sentence must contain)
REFUSALS = {
    # Notes never take events; LGC62 limits events to credit sales (030/032 excepted, DESIGN.md section 4).
    "credit note": (
        "030",
        Role.BUYER,
        facts(document_type=DocumentType.CREDIT_NOTE),
        LATER,
        MON_FRI,
        None,
        ["notas crédito y débito"],
    ),
    "debit note": ("033", Role.BUYER, facts(*CYCLE, document_type=DocumentType.DEBIT_NOTE), LATER, MON_FRI, None, []),
    "033 on cash": (
        "033",
        Role.BUYER,
        facts(*CYCLE, means=PaymentMeans.CASH),
        bogota("2025-03-17T10:00"),
        MON_FRI,
        "LGC62",
        ["a crédito", "de contado"],
    ),
    "031 on cash": (
        "031",
        Role.BUYER,
        facts(*CYCLE, means=PaymentMeans.CASH),
        bogota("2025-03-17T10:00"),
        MON_FRI,
        "LGC62",
        ["contado"],
    ),
    "034 on cash": ("034", Role.SELLER, facts(*CYCLE, means=PaymentMeans.CASH), LATER, MON_FRI, "LGC62", ["contado"]),
    "036 unknown means": ("036", Role.SELLER, facts(*TITLE[:3], means=None), LATER, MON_FRI, "LGC62", ["no indica"]),
    # Who may send.
    "buyer sends 034": ("034", Role.BUYER, facts(*CYCLE), LATER, MON_FRI, "AAF01e", ["Solo el vendedor", "034"]),
    "seller sends 033": ("033", Role.SELLER, facts(*CYCLE), LATER, MON_FRI, None, ["Solo el comprador"]),
    "buyer sends 036": ("036", Role.BUYER, facts(*TITLE[:3]), LATER, MON_FRI, "AAF01a", ["tenedor legítimo"]),
    "holder sends 035": ("035", Role.HOLDER, facts(*TITLE), LATER, MON_FRI, "LGC64", ["avalista"]),
    "buyer sends 041": ("041", Role.BUYER, facts(*TITLE), LATER, MON_FRI, "LGC64", ["autoridad"]),
    "seller sends 051": ("051", Role.SELLER, facts(*TITLE), LATER, MON_FRI, "AAF01", ["comprador"]),
    "mandatary sends 043": ("043", Role.MANDATARY, facts(), LATER, MON_FRI, None, ["Solo"]),
    # Duplicates (LGC01; 049 has its own LGC82).
    "030 twice": ("030", Role.BUYER, facts("030"), LATER, MON_FRI, "LGC01", ["030", "ya está registrado"]),
    "033 twice": ("033", Role.BUYER, facts(*CYCLE, "033"), LATER, MON_FRI, "LGC01", ["ya está registrado"]),
    "034 twice": ("034", Role.SELLER, facts(*CYCLE, "034"), LATER, MON_FRI, "LGC01", ["ya está registrado"]),
    "049 twice": ("049", Role.SELLER, facts(*CYCLE, "033", "049"), LATER, MON_FRI, "LGC82", ["ya está registrado"]),
    # 031 and 033 exclude each other; neither after 034; 034 not after either.
    "031 after 033": (
        "031",
        Role.BUYER,
        facts(*CYCLE, "033"),
        bogota("2025-03-18T10:00"),
        MON_FRI,
        None,
        ["031", "ya tiene registrado el evento 033"],
    ),
    "033 after 031": (
        "033",
        Role.BUYER,
        facts(*CYCLE, "031"),
        bogota("2025-03-18T10:00"),
        MON_FRI,
        "LGC02",
        ["ya tiene registrado el evento 031"],
    ),
    "033 after 034": ("033", Role.BUYER, facts(*CYCLE, "034"), LATER, MON_FRI, None, ["evento 034"]),
    "031 after 034": ("031", Role.BUYER, facts(*CYCLE, "034"), LATER, MON_FRI, None, ["evento 034"]),
    "034 after 031": ("034", Role.SELLER, facts(*CYCLE, "031"), LATER, MON_FRI, "LGC04", ["evento 031"]),
    "034 after 033": ("034", Role.SELLER, facts(*CYCLE, "033"), LATER, MON_FRI, "LGC05", ["evento 033"]),
    # What must come first.
    "032 without 030": ("032", Role.BUYER, facts(), LATER, MON_FRI, "LGC09", ["primero", "evento 030"]),
    "033 without 030": ("033", Role.BUYER, facts(), LATER, MON_FRI, "LGC13", ["evento 030"]),
    "033 without 032": ("033", Role.BUYER, facts("030"), LATER, MON_FRI, "LGC12", ["evento 032"]),
    "031 without 032": ("031", Role.BUYER, facts("030"), LATER, MON_FRI, None, ["evento 032"]),
    "034 without 032": ("034", Role.SELLER, facts("030"), LATER, MON_FRI, "LGC14", ["evento 032"]),
    "036 before acceptance": ("036", Role.SELLER, facts(*CYCLE), LATER, MON_FRI, "LGC21", ["033", "o el evento 034"]),
    "035 before 036": ("035", Role.THIRD_PARTY, facts(*CYCLE, "033"), LATER, MON_FRI, "LGC38", ["036"]),
    "037 before 036": ("037", Role.HOLDER, facts(*CYCLE, "033"), LATER, MON_FRI, "LGC24", ["036"]),
    "038 before 036": ("038", Role.SELLER, facts(*CYCLE, "033"), LATER, MON_FRI, "LGC27", ["036"]),
    "039 before 036": ("039", Role.SELLER, facts(*CYCLE, "033"), LATER, MON_FRI, "LGC30", ["036"]),
    "040 without endorsement": ("040", Role.SELLER, facts(*TITLE), LATER, MON_FRI, None, ["038", "039"]),
    "041 before 036": ("041", Role.AUTHORITY, facts(*CYCLE, "033"), LATER, MON_FRI, "LGC33", ["036"]),
    "042 without 041": ("042", Role.AUTHORITY, facts(*TITLE), LATER, MON_FRI, "LGC34", ["041"]),
    "044 without 043": ("044", Role.MANDATARY, facts(), LATER, MON_FRI, "LGC41", ["043"]),
    "045 before 036": ("045", Role.BUYER, facts(*CYCLE, "033"), LATER, MON_FRI, "LGC43", ["036"]),
    "046 before 036": ("046", Role.SELLER, facts(*CYCLE, "033"), LATER, MON_FRI, "LGC51", ["036"]),
    "047 before 036": ("047", Role.SELLER, facts(*CYCLE, "033"), LATER, MON_FRI, "LGC69", ["036"]),
    "048 before 036": ("048", Role.SELLER, facts(*CYCLE, "033"), LATER, MON_FRI, "LGC73", ["036"]),
    "049 before acceptance": ("049", Role.SELLER, facts(*CYCLE), LATER, MON_FRI, "LGC79", ["033"]),
    "050 without 049": ("050", Role.SELLER, facts(*TITLE), LATER, MON_FRI, "LGC83", ["049"]),
    "051 without 050": ("051", Role.BUYER, facts(*TITLE, "049"), LATER, MON_FRI, "LGC86", ["050"]),
    # What excludes the RADIAN events, while in force.
    "037 under 041": ("037", Role.SELLER, facts(*TITLE, "041"), LATER, MON_FRI, "LGC25", ["041"]),
    "037 under 038": ("037", Role.SELLER, facts(*TITLE, "038"), LATER, MON_FRI, "LGC25", ["038"]),
    "038 under 039": ("038", Role.SELLER, facts(*TITLE, "039"), LATER, MON_FRI, "LGC28", ["039"]),
    "039 under 038": ("039", Role.SELLER, facts(*TITLE, "038"), LATER, MON_FRI, "LGC31", ["038"]),
    "035 under 041": ("035", Role.THIRD_PARTY, facts(*TITLE, "041"), LATER, MON_FRI, "LGC39", ["041"]),
    "035 after 048": ("035", Role.THIRD_PARTY, facts(*TITLE, "048"), LATER, MON_FRI, "LGC66", ["048"]),
    "036 after 049": ("036", Role.SELLER, facts(*CYCLE, "033", "049"), LATER, MON_FRI, "LGC87", ["049"]),
    "040 under 041": ("040", Role.SELLER, facts(*TITLE, "038", "041"), LATER, MON_FRI, "LGC48", ["041"]),
    "047 after 037": ("047", Role.HOLDER, facts(*TITLE, "037"), LATER, MON_FRI, "LGC70", ["037"]),
    "048 after 047": ("048", Role.HOLDER, facts(*TITLE, "047"), LATER, MON_FRI, "LGC74", ["047"]),
    "049 after 038": ("049", Role.SELLER, facts(*TITLE, "038"), LATER, MON_FRI, "LGC80", ["038"]),
    # Signing-time order.
    "030 before the invoice": (
        "030",
        Role.BUYER,
        facts(),
        bogota("2025-03-10T08:59"),
        MON_FRI,
        "DC24a",
        ["antes que la factura", "10 de marzo de 2025 a las 09:00"],
    ),
    "032 before 030": (
        "032",
        Role.BUYER,
        facts("030"),
        bogota("2025-03-11T08:00"),
        MON_FRI,
        "DC24b",
        ["antes que el evento 030", "11 de marzo de 2025"],
    ),
    "033 before 032": ("033", Role.BUYER, facts(*CYCLE), bogota("2025-03-14T20:00"), MON_FRI, "DC24c", ["032"]),
    "031 before 032": ("031", Role.BUYER, facts(*CYCLE), bogota("2025-03-14T20:00"), MON_FRI, "DC24z", ["032"]),
    "036 before 033": (
        "036",
        Role.SELLER,
        facts(*CYCLE, "033"),
        bogota("2025-03-17T09:00"),
        MON_FRI,
        "DC24h",
        ["033"],
    ),
    "035 signed before 036": (
        "035",
        Role.THIRD_PARTY,
        facts(*TITLE),
        bogota("2025-03-21T09:00"),
        MON_FRI,
        "DC24g",
        ["036"],
    ),
    "037 before the latest 036": (
        "037",
        Role.HOLDER,
        facts(*TITLE[:3], e036=[TIMES[E("036")], bogota("2025-03-28T10:00")]),
        bogota("2025-03-27T10:00"),
        MON_FRI,
        "DC24k",
        ["036", "28 de marzo de 2025"],
    ),
    "050 before 049": ("050", Role.SELLER, facts(*TITLE, "049"), bogota("2025-03-24T10:00"), MON_FRI, "DC24za", []),
    # The art. 773 window (031/033) and DIAN's DC24e for 034.
    "031 after the window": (
        "031",
        Role.BUYER,
        facts(*CYCLE),
        bogota("2025-03-20T08:00"),
        MON_FRI,
        "DC24z",
        ["El plazo para reclamar venció el 19 de marzo de 2025", "3 días hábiles", "recibo del bien"],
    ),
    "033 after the window": (
        "033",
        Role.BUYER,
        facts(*CYCLE),
        bogota("2025-03-20T08:00"),
        MON_FRI,
        "DC24c",
        ["aceptar expresamente venció el 19 de marzo de 2025"],
    ),
    "031 on the Saturday after the window": (
        "031",
        Role.BUYER,
        facts("030", e032=bogota("2025-03-11T20:00")),  # Wed 12, Thu 13, Fri 14
        bogota("2025-03-15T08:00"),  # DIAN would still count 3 days and take it; the law's deadline has passed
        MON_FRI,
        "DC24z",
        ["venció el 14 de marzo de 2025"],
    ),
    "031 a minute after midnight": (
        "031",
        Role.BUYER,
        facts(*CYCLE),
        datetime(2025, 3, 20, 5, 1, tzinfo=UTC),  # 00:01 Thursday in Bogota
        MON_FRI,
        "DC24z",
        ["19 de marzo"],
    ),
    "031 with Saturdays counted": (
        "031",
        Role.BUYER,
        facts(*CYCLE),
        bogota("2025-03-19T08:00"),
        MON_SAT,
        "DC24z",
        ["venció el 18 de marzo de 2025"],  # Sat 15, Mon 17, Tue 18
    ),
    "031 after a Thursday-evening 032": (
        "031",
        Role.BUYER,
        facts("030", e032=datetime(2025, 3, 14, 2, 0, tzinfo=UTC)),  # Thursday 13 at 21:00 in Bogota
        bogota("2025-03-19T09:00"),
        MON_FRI,
        "DC24z",
        ["venció el 18 de marzo de 2025"],  # Fri 14, Mon 17, Tue 18
    ),
    "034 inside the window": (
        "034",
        Role.SELLER,
        facts(*CYCLE),
        bogota("2025-03-19T10:00"),
        MON_FRI,
        "DC24e",
        ["desde el 20 de marzo de 2025", "más de 3 días hábiles"],
    ),
    "034 on Wednesday evening, Thursday in UTC": (
        "034",
        Role.SELLER,
        facts(*CYCLE),
        datetime(2025, 3, 20, 2, 0, tzinfo=UTC),  # Wednesday 19 at 21:00 in Bogota
        MON_FRI,
        "DC24e",
        ["20 de marzo"],
    ),
    "034 predicted with DIAN's Monday-Friday count": (
        "034",
        Role.SELLER,
        facts(*CYCLE),
        bogota("2025-03-19T10:00"),
        MON_SAT,  # Sat 15 .. Wed 19 would be 4 days with Saturdays; DIAN does not count them
        "DC24e",
        ["desde el 20 de marzo de 2025"],
    ),
    "034 over Semana Santa": (
        "034",
        Role.SELLER,
        facts("030", e032=bogota("2025-04-14T10:00")),
        bogota("2025-04-19T10:00"),
        MON_FRI,
        "DC24e",
        ["desde el 22 de abril de 2025"],  # Tue 15, Wed 16, Mon 21, then Tue 22
    ),
    # Due-date windows of 046 and 047.
    "046 after due": (
        "046",
        Role.SELLER,
        facts(*TITLE, due=date(2025, 4, 30)),
        bogota("2025-05-02T10:00"),
        MON_FRI,
        "LGC55",
        ["venció el 30 de abril de 2025"],
    ),
    "046 too close to due": (
        "046",
        Role.SELLER,
        facts(*TITLE, due=date(2025, 4, 30)),
        bogota("2025-04-28T10:00"),
        MON_FRI,
        "LGC54",
        ["al menos 3 días hábiles", "el último día fue el 25 de abril de 2025"],
    ),
    "047 not yet due": (
        "047",
        Role.SELLER,
        facts(*TITLE, due=date(2025, 4, 30)),
        bogota("2025-04-30T18:00"),
        MON_FRI,
        "LGC72",
        ["vencida", "30 de abril de 2025"],
    ),
    # DC24: a registered time later than the moment of signing.
    "invoice dated in the future": (
        "033",
        Role.BUYER,
        facts(*CYCLE, signed_at=bogota("2025-03-18T10:00")),
        bogota("2025-03-17T10:00"),
        MON_FRI,
        "DC24",
        ["posterior", "18 de marzo de 2025 a las 10:00", "hora del equipo"],
    ),
}


@pytest.mark.parametrize(
    ("code", "role", "document", "at", "calendar", "rule", "words"), REFUSALS.values(), ids=REFUSALS.keys()
)
def test_refusals(
    code: str,
    role: Role,
    document: DocumentFacts,
    at: datetime,
    calendar: BusinessCalendar,
    rule: str | None,
    words: list[str],
) -> None:
    decision = check(E(code), role=role, facts=document, at=at, calendar=calendar)
    assert not decision.allowed, decision
    assert decision.rule == rule, decision.reason
    for word in words:
        assert word in decision.reason
    assert decision.reason.endswith(".") and decision.reason[0].isupper()


ALLOWED = {
    "030 on a credit invoice": ("030", Role.BUYER, facts(), bogota("2025-03-10T09:00"), MON_FRI),
    "030 on a cash invoice": ("030", Role.BUYER, facts(means=PaymentMeans.CASH), LATER, MON_FRI),
    "032 on a cash invoice": ("032", Role.BUYER, facts("030", means=PaymentMeans.CASH), LATER, MON_FRI),
    "030 without the invoice's signing time": ("030", Role.BUYER, facts(signed_at=None), LATER, MON_FRI),
    "033 on the last instant": ("033", Role.BUYER, facts(*CYCLE), bogota("2025-03-19T23:59:59.999999"), MON_FRI),
    "031 on the first business day": ("031", Role.BUYER, facts(*CYCLE), bogota("2025-03-17T08:00"), MON_FRI),
    "031 on the Friday evening of the 032": ("031", Role.BUYER, facts(*CYCLE), bogota("2025-03-14T21:00"), MON_FRI),
    "034 on the 4th business day": ("034", Role.SELLER, facts(*CYCLE), bogota("2025-03-20T00:00"), MON_FRI),
    "034 after a Thursday-evening 032 (Friday in UTC)": (
        "034",
        Role.SELLER,
        facts("030", e032=datetime(2025, 3, 14, 2, 0, tzinfo=UTC)),  # Fri 14, Mon 17, Tue 18, then Wed 19
        bogota("2025-03-19T10:00"),
        MON_FRI,
    ),
    "036 after 033": ("036", Role.SELLER, facts(*CYCLE, "033"), LATER, MON_FRI),
    "036 after 034": ("036", Role.HOLDER, facts(*CYCLE, "034"), LATER, MON_FRI),
    "035 by an avalista": ("035", Role.THIRD_PARTY, facts(*TITLE), LATER, MON_FRI),
    "037 again after a new 036": (
        "037",
        Role.HOLDER,
        facts(*TITLE[:3], "037", e036=[TIMES[E("036")], bogota("2025-03-28T10:00")]),
        LATER,
        MON_FRI,
    ),
    "037 once 041 is lifted by 042": ("037", Role.SELLER, facts(*TITLE, "041", "042"), LATER, MON_FRI),
    "038 once 039 is cancelled by 040": ("038", Role.SELLER, facts(*TITLE, "039", "040"), LATER, MON_FRI),
    "041 by an authority": ("041", Role.AUTHORITY, facts(*TITLE), LATER, MON_FRI),
    "043 before the title": ("043", Role.BUYER, facts("030"), LATER, MON_FRI),
    "044 by the mandatary": ("044", Role.MANDATARY, facts("043"), LATER, MON_FRI),
    "045 twice (partial payments)": ("045", Role.BUYER, facts(*TITLE, e045=LATER), LATER, MON_FRI),
    "046 three business days before due": (
        "046",
        Role.SELLER,
        facts(*TITLE, due=date(2025, 4, 30)),
        bogota("2025-04-25T10:00"),
        MON_FRI,
    ),
    "046 with an unknown due date": ("046", Role.SELLER, facts(*TITLE), LATER, MON_FRI),
    "047 after due": ("047", Role.SELLER, facts(*TITLE, due=date(2025, 4, 30)), bogota("2025-05-01T00:00"), MON_FRI),
    "049 without 036": ("049", Role.SELLER, facts(*CYCLE, "034"), LATER, MON_FRI),
    "051 by the debtor": ("051", Role.BUYER, facts(*TITLE, "049", "050"), LATER, MON_FRI),
}


@pytest.mark.parametrize(("code", "role", "document", "at", "calendar"), ALLOWED.values(), ids=ALLOWED.keys())
def test_allowed(code: str, role: Role, document: DocumentFacts, at: datetime, calendar: BusinessCalendar) -> None:
    decision = check(E(code), role=role, facts=document, at=at, calendar=calendar)
    assert decision.allowed, decision.reason
    assert decision.rule is None
    assert decision.reason.startswith(f"Se puede enviar el evento {code}")


def test_allowed_claim_says_until_when() -> None:
    decision = check(E.RECLAMO, role=Role.BUYER, facts=facts(*CYCLE), at=bogota("2025-03-17T08:00"), calendar=MON_FRI)
    assert "El plazo vence el 19 de marzo de 2025." in decision.reason


def test_every_event_has_one_rule() -> None:
    assert list(RULES) == [code for code in EventCode]
    assert all(rule.senders for rule in RULES.values())


def test_allowed_events_for_the_buyer() -> None:
    decisions = allowed_events(Role.BUYER, facts(*CYCLE), bogota("2025-03-17T08:00"), MON_FRI)
    assert [(code.value, decision.allowed) for code, decision in decisions] == [
        ("030", False),  # already registered
        ("031", True),
        ("032", False),  # already registered
        ("033", True),
        ("043", True),
        ("044", False),  # needs 043; the buyer may revoke its own mandate (441)
        ("045", False),  # needs 036
        ("051", False),  # needs 050
    ]


def test_allowed_events_for_the_seller_after_the_window() -> None:
    decisions = dict(allowed_events(Role.SELLER, facts(*CYCLE), bogota("2025-03-20T08:00"), MON_FRI))
    assert decisions[E.ACEPTACION_TACITA].allowed
    assert E.ACEPTACION_EXPRESA not in decisions
    assert not decisions[E.INSCRIPCION_TITULO].allowed


def test_check_accepts_the_code_as_text() -> None:
    assert check("030", role=Role.BUYER, facts=facts(), at=LATER, calendar=MON_FRI).allowed  # type: ignore[arg-type]


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="at must be timezone-aware"):
        check(E.ACUSE_RECIBO, role=Role.BUYER, facts=facts(), at=datetime(2025, 3, 17, 8), calendar=MON_FRI)
    with pytest.raises(ValueError, match="event 030"):
        DocumentFacts(DocumentType.INVOICE, PaymentMeans.CREDIT, None, {E.ACUSE_RECIBO: datetime(2025, 3, 11, 9)})
    with pytest.raises(ValueError, match="signed_at"):
        DocumentFacts(DocumentType.INVOICE, PaymentMeans.CREDIT, datetime(2025, 3, 11, 9))


def test_facts_normalise_codes_and_times() -> None:
    later, earlier = bogota("2025-03-25T10:00"), bogota("2025-03-21T10:00")
    document = DocumentFacts("01", "2", None, {"036": [later, earlier], "030": earlier})  # type: ignore[arg-type]
    assert document.document_type is DocumentType.INVOICE
    assert document.payment_means is PaymentMeans.CREDIT
    assert document.events == {E.INSCRIPCION_TITULO: (earlier, later), E.ACUSE_RECIBO: (earlier,)}
    assert document.latest(E.INSCRIPCION_TITULO) == later
    assert document.latest(E.RECLAMO) is None
    with pytest.raises(ValueError, match="without a signing time"):
        DocumentFacts(DocumentType.INVOICE, PaymentMeans.CREDIT, None, {E.ACUSE_RECIBO: []})


@pytest.mark.parametrize(
    ("validated", "registered", "state"),
    [
        (None, [], DocumentState.RECEIVED),
        (True, [], DocumentState.VALIDATED),
        (False, [], DocumentState.INVALID),
        (True, ["030"], DocumentState.ACKNOWLEDGED),
        (True, ["030", "032"], DocumentState.GOODS_RECEIVED),
        (True, ["030", "032", "033"], DocumentState.ACCEPTED),
        (True, ["032", "030", "031"], DocumentState.CLAIMED),
        (True, ["030", "032", "034"], DocumentState.TACITLY_ACCEPTED),
        (True, ["030", "032", "033", "036", "037"], DocumentState.TITLE),
        (True, ["030", "032", "034", "036"], DocumentState.TITLE),
        (None, ["030"], DocumentState.ACKNOWLEDGED),  # the events are the truth
        (False, ["030", "032"], DocumentState.GOODS_RECEIVED),
        (True, ["043"], DocumentState.VALIDATED),  # a mandate says nothing about the cycle
    ],
)
def test_derive_state(validated: bool | None, registered: list[str], state: DocumentState) -> None:
    assert derive_state(validated=validated, registered=[E(code) for code in registered]) is state


@pytest.mark.parametrize(
    ("validated", "registered", "state"),
    [
        (True, [], DocumentState.UNCONFIRMED),  # verified, DIAN's validation not proven yet
        (False, [], DocumentState.INVALID),  # invalid stays invalid, confirmed or not
        (None, [], DocumentState.RECEIVED),
        (True, ["030"], DocumentState.ACKNOWLEDGED),  # a DIAN-registered event is DIAN's word on the invoice
        (True, ["043"], DocumentState.UNCONFIRMED),
    ],
)
def test_derive_state_of_a_document_dian_has_not_confirmed(
    validated: bool | None, registered: list[str], state: DocumentState
) -> None:
    assert derive_state(validated=validated, registered=[E(c) for c in registered], confirmed=False) is state
    # The same facts, confirmed: only the unconfirmed case changes.
    confirmed = derive_state(validated=validated, registered=[E(c) for c in registered])
    assert (confirmed is DocumentState.VALIDATED) == (state is DocumentState.UNCONFIRMED)


def test_who_may_send_an_observed_event_on_an_invoice() -> None:
    parties = {"seller_nit": "900123456", "buyer_nit": "900654321"}
    assert sender_refusal(EventCode.ACEPTACION_TACITA, "900123456-8", **parties) is None  # the seller's 034
    refusal = sender_refusal(EventCode.ACEPTACION_TACITA, "123456789", **parties)
    assert refusal is not None and "123456789" in refusal and "vendedor (NIT 900123456)" in refusal
    assert sender_refusal(EventCode.ACEPTACION_TACITA, "900654321", **parties) is not None  # not the buyer's
    assert sender_refusal(EventCode.ACUSE_RECIBO, "900654321", **parties) is None
    assert "comprador" in (sender_refusal(EventCode.ACUSE_RECIBO, "900123456", **parties) or "")
    # An endorsement from a party the invoice does not name may be a legitimate holder's: DIAN settles it.
    assert sender_refusal(EventCode("037"), "800111222", **parties) is None
    assert sender_refusal(EventCode("037"), "900654321", **parties) is not None  # never the obligor's
