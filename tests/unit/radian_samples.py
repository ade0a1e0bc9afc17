"""One valid RADIAN event per operation 035-051 (radian-issuing-facts.md A.2), for the builder, parser and rules tests.

The invoice FE100 of SELLER to BUYER for 1,000.00 due 30 May 2025; FACTOR buys it at 2.5 %; a judge limits it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from dian.codes import (
    DIAN_DV,
    DIAN_NAME,
    DIAN_NIT,
    EVENT_DOCUMENT_TYPE,
    Environment,
    MandanteType,
    MandatarioType,
    MandateEvidence,
    MandateScope,
    Operation,
)
from dian.radian.blocks import (
    Guarantee,
    Limitation,
    LimitationEnd,
    Negotiation,
    PaymentRecord,
    PaymentReport,
    Payments,
    Protest,
    RightsTransfer,
    TransferNotice,
    TransferPayments,
)
from dian.radian.model import Attachment, Mandate, RadianEvent, Share, TitleReference
from dian.ubl.build import Software
from dian.ubl.model import Party, Person

OP = Operation
SOFTWARE = Software(provider_nit="900123456", provider_dv="8", software_id="soft-1", pin="12345")
SELLER = Party("900123456", "Vendedor SAS", "8")
BUYER = Party("900654321", "Comprador SAS", "1")
FACTOR = Party("800111222", "Factor SA", "3")
JUDGE = Party("899999061", "Juzgado Civil de Bogotá", "9")
AVALISTA = Party("860000001", "Avales SA", "5")
DIAN = Party(DIAN_NIT, DIAN_NAME, DIAN_DV)
CUFE = "c" * 96
INVOICE = TitleReference("FE100", CUFE)
DUE = date(2025, 5, 30)
TOTAL = Decimal("1000.00")
PDF = b"%PDF-1.4\n% certificado de protesto\n"


def share(party: Party, amount: Decimal | None = None) -> Share:
    return Share(party.nit, party.registration_name or "", party.dv, amount=amount)


def event_reference(number: str, cude: str) -> TitleReference:
    return TitleReference(number, cude, EVENT_DOCUMENT_TYPE)


_BASE = {
    "number": "EV1",
    "issue_date": date(2025, 4, 1),
    "issue_time": "10:00:00-05:00",
    "environment": Environment.TESTING,
    "sender": SELLER,
    "receiver": DIAN,
    "reference": INVOICE,
    "due_date": DUE,
}
_NEGOTIATION = Negotiation.for_rate(TOTAL, Decimal("2.5"))
_ENDORSE = {
    "receiver": FACTOR,
    "debtor": BUYER,
    "list_id": "1",
    "sender_shares": (share(SELLER, TOTAL),),
    "receiver_shares": (share(FACTOR, TOTAL),),
}
_MANDATE = Mandate(
    mandante_type=MandanteType.ISSUER,
    mandatario_nit=FACTOR.nit,
    mandatario_dv=FACTOR.dv,
    mandatario_type=MandatarioType.FACTOR,
    scope=MandateScope.ONE_INVOICE,
    powers=("ALL17-FE",),
    invoices=(INVOICE,),
    start_date=date(2025, 4, 1),
    end_date=date(2025, 12, 31),
    representative=Person("79000111", "Ana", "Pérez", job_title="Representante legal"),
)
_PAYMENT = {"receiver": DIAN, "effective_date": date(2025, 5, 30), "sender": BUYER, "list_id": "1"}

# Operation -> the fields that make a valid event of it, on top of _BASE.
_FIELDS: dict[Operation, dict[str, object]] = {
    OP.AVAL: {
        "sender": AVALISTA,
        "block": Guarantee(TOTAL),
        "counterpart": share(BUYER, TOTAL),
        "sender_shares": (share(AVALISTA, TOTAL),),
        "due_date": None,
        "notes": ("Actúo por aval del comprador",),
    },
    OP.FIRST_REGISTRATION: {"block": PaymentRecord(TOTAL, Decimal("0.00"), TOTAL)},
    OP.FIRST_REGISTRATION_DIRECT: {
        "block": PaymentRecord(TOTAL, Decimal("0.00"), TOTAL),
        "counterpart": share(FACTOR),
    },
    OP.LATER_REGISTRATION: {"sender": FACTOR, "block": PaymentRecord(TOTAL, Decimal("0.00"), TOTAL)},
    OP.LATER_REGISTRATION_DIRECT: {
        "sender": FACTOR,
        "block": PaymentRecord(TOTAL, Decimal("0.00"), TOTAL),
        "counterpart": share(SELLER),
    },
    OP.ENDORSEMENT_WITH_RESPONSIBILITY: {**_ENDORSE, "block": _NEGOTIATION, "notes": ("con mi responsabilidad",)},
    OP.ENDORSEMENT_WITHOUT_RESPONSIBILITY: {**_ENDORSE, "block": _NEGOTIATION, "notes": ("sin mi responsabilidad",)},
    OP.GUARANTEE_ENDORSEMENT: {**_ENDORSE, "block": Negotiation(TOTAL), "notes": ("en garantía",)},
    OP.COLLECTION_ENDORSEMENT: {**_ENDORSE, "block": Negotiation(TOTAL), "notes": ("en procuración",)},
    OP.CANCEL_GUARANTEE_ENDORSEMENT: {
        "receiver": FACTOR,
        "reference": event_reference("GAR1", "a" * 96),
        "due_date": None,
    },
    OP.CANCEL_COLLECTION_ENDORSEMENT: {
        "receiver": FACTOR,
        "reference": event_reference("PRO1", "b" * 96),
        "due_date": None,
        "notes": ("Se revoca el endoso en procuración por terminación del encargo de cobro",),
    },
    OP.STRIKE_BY_RETURN_ENDORSEMENT: {
        "receiver": FACTOR,
        "reference": event_reference("END1", "d" * 96),
        "due_date": None,
    },
    OP.LIMITATION_SEIZURE: {"sender": JUDGE, "block": Limitation(TOTAL)},
    OP.LIMITATION_PAYMENT_ORDER: {"sender": JUDGE, "block": Limitation(Decimal("500.00")), "due_date": None},
    OP.LIMITATION_END_BY_JUDGMENT: {
        "sender": JUDGE,
        "reference": event_reference("LIM1", "e" * 96),
        "block": LimitationEnd(TOTAL, TOTAL),
        "due_date": None,
    },
    OP.LIMITATION_END_EARLY: {
        "sender": JUDGE,
        "reference": event_reference("LIM1", "e" * 96),
        "block": LimitationEnd(TOTAL, Decimal("500.00")),
        "due_date": None,
    },
    OP.MANDATE_GENERAL_LIMITED_TIME: {"mandate": _MANDATE, "due_date": None, "effective_date": date(2025, 4, 1)},
    OP.MANDATE_GENERAL_UNLIMITED_TIME: {
        "mandate": replace(_MANDATE, end_date=None, scope=MandateScope.ALL_INVOICES, invoices=()),
        "reference": TitleReference("0", None),
        "due_date": None,
    },
    OP.MANDATE_LIMITED_LIMITED_TIME: {
        "mandate": replace(
            _MANDATE,
            powers=("MR91-FE",),
            scope=MandateScope.SEVERAL_INVOICES,
            invoices=(INVOICE, TitleReference("FE101", "f" * 96)),
            evidence=MandateEvidence.EMBEDDED,
        ),
        "attachments": (Attachment("contrato.pdf", PDF), Attachment("poder.pdf", PDF)),
        "due_date": None,
    },
    OP.MANDATE_LIMITED_UNLIMITED_TIME: {
        "mandate": replace(_MANDATE, powers=("MR91-FE",), end_date=None, representative=None),
        "due_date": None,
    },
    OP.MANDATE_REVOKED: {"reference": event_reference("MAN1", "1" * 96), "due_date": None},
    OP.MANDATE_RENOUNCED: {"sender": FACTOR, "reference": event_reference("MAN1", "1" * 96), "due_date": None},
    OP.PARTIAL_PAYMENT: {
        **_PAYMENT,
        "sender_shares": (share(BUYER, Decimal("400.00")),),
        "block": Payments(TOTAL, Decimal("600.00")),
    },
    OP.TOTAL_PAYMENT: {**_PAYMENT, "sender_shares": (share(BUYER, TOTAL),), "block": Payments(TOTAL, Decimal("0.00"))},
    OP.PAYMENT_REPORT: {"receiver": BUYER, "block": PaymentReport(TOTAL)},
    OP.ASSIGNMENT_ENDORSEMENT: {**_ENDORSE, "block": _NEGOTIATION},
    OP.PROTEST_NON_ACCEPTANCE: {
        "receiver": BUYER,
        "block": Protest(TOTAL, Decimal("0.00"), TOTAL),
        "attachments": (Attachment("protesto.pdf", PDF),),
        "notes": ("Con protesto",),
    },
    OP.PROTEST_NON_PAYMENT: {
        "receiver": BUYER,
        "block": Protest(TOTAL, TOTAL, TOTAL),
        "attachments": (Attachment("protesto.pdf", PDF),),
    },
    OP.TRANSFER_PARTIAL_WITH_RESPONSIBILITY: {
        **_ENDORSE,
        "list_id": None,
        "sender_shares": (share(SELLER, Decimal("500.00")),),
        "receiver_shares": (share(FACTOR, Decimal("500.00")),),
        "block": RightsTransfer(Decimal("500.00"), Decimal("490.00"), Decimal("2"), "47"),
    },
    OP.TRANSFER_TOTAL_WITH_RESPONSIBILITY: {
        **_ENDORSE,
        "list_id": None,
        "block": RightsTransfer(TOTAL, Decimal("980.00"), Decimal("2"), "47"),
    },
    OP.TRANSFER_PARTIAL_WITHOUT_RESPONSIBILITY: {
        **_ENDORSE,
        "list_id": None,
        "sender_shares": (share(SELLER, Decimal("500.00")),),
        "receiver_shares": (share(FACTOR, Decimal("500.00")),),
        "block": RightsTransfer(Decimal("500.00"), Decimal("487.50"), Decimal("2.5"), "47"),
    },
    OP.TRANSFER_TOTAL_WITHOUT_RESPONSIBILITY: {
        **_ENDORSE,
        "list_id": None,
        "block": RightsTransfer(TOTAL, Decimal("975.00"), Decimal("2.5"), "47"),
    },
    OP.TRANSFER_NOTICE: {"receiver": BUYER, "block": TransferNotice(TOTAL)},
    OP.TRANSFER_PARTIAL_PAYMENT: {
        **_PAYMENT,
        "list_id": "2",
        "sender_shares": (share(BUYER, Decimal("100.00")),),
        "block": TransferPayments(TOTAL, Decimal("900.00")),
    },
    OP.TRANSFER_TOTAL_PAYMENT: {
        **_PAYMENT,
        "sender_shares": (share(BUYER, TOTAL),),
        "block": TransferPayments(TOTAL, Decimal("0.00")),
    },
}


def sample(operation: Operation, **changes: object) -> RadianEvent:
    """A valid event of ``operation``; keyword arguments change any field."""
    fields = {**_BASE, **_FIELDS[operation], **changes}
    return RadianEvent(operation=operation, **fields)  # type: ignore[arg-type]


OPERATIONS = tuple(_FIELDS)


def own_software(event: RadianEvent) -> Software:
    """The sender's own DIAN-registered software (ProviderID = the sender: no mandatario, A.3)."""
    return replace(SOFTWARE, provider_nit=event.sender.nit, provider_dv=event.sender.dv or "0")
