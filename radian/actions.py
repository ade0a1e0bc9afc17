"""What treasury asks of a receivable title, and the RADIAN event each request becomes (radian-issuing-facts A.5-A.10).

A request names the action in the treasurer's terms (register, endorse to a factor at a rate, record a payment...);
``draft`` turns it into the ``RadianEvent`` that dian.radian.build signs, from the title as it stands. Bad input is an
``ActionError`` with a Spanish sentence; whether the event may be sent *now* is dian.rules' question, asked by the
service before anything is numbered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from dian.codes import (
    DIAN_DV,
    DIAN_NAME,
    DIAN_NIT,
    EVENT_DOCUMENT_TYPE,
    EndorsementKind,
    Environment,
    EventCode,
    MandanteType,
    MandatarioType,
    MandateScope,
    Operation,
    PaymentCondition,
)
from dian.nit import check_digit
from dian.radian.blocks import (
    RATE_PLACES,
    Negotiation,
    PaymentRecord,
    PaymentReport,
    Payments,
    Protest,
    RightsTransfer,
    TransferNotice,
    TransferPayments,
    discounted_price,
)
from dian.radian.literals import MANDATE_GENERAL_POWER
from dian.radian.model import Attachment, Mandate, RadianEvent, Share, TitleReference
from dian.ubl.model import Party
from radian.messages import pesos

__all__ = [
    "Action",
    "ActionError",
    "CancelEndorsement",
    "Counterparty",
    "EndMandate",
    "Endorse",
    "GrantMandate",
    "NotifyTransfer",
    "PayTransfer",
    "Protest_",
    "RecordPayment",
    "Register",
    "ReportForPayment",
    "TitleSnapshot",
    "TransferRights",
    "draft",
    "endorsement_price",
    "parse_amount",
]

E = EventCode
OP = Operation
DIAN = Party(nit=DIAN_NIT, registration_name=DIAN_NAME, dv=DIAN_DV)
PAYMENT_MEANS_CODE = "47"  # MedioPago of the negotiation block: a PaymentMeansCode (47 in HGInet and Dispapeles)


class ActionError(ValueError):
    """The request itself is wrong (a missing factor, a negative rate...): a Spanish sentence naming the field."""


def parse_amount(text: str | Decimal | None, field: str, *, allow_zero: bool = False) -> Decimal | None:
    """A money amount or rate from user input ("1.500.000,50" is refused: write 1500000.50), or None."""
    if text is None or text == "":
        return None
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise ActionError(f"{field}: «{text}» no es un número (use punto decimal, sin separador de miles).") from None
    if not value.is_finite() or value < 0 or (value == 0 and not allow_zero):
        raise ActionError(f"{field}: debe ser un número mayor que cero, no {text}.")
    return value


@dataclass(frozen=True)
class Counterparty:
    """A factor, endorsee, assignee or mandatario: NIT (the check digit is computed) and name."""

    nit: str
    name: str

    def __post_init__(self) -> None:
        nit = self.nit.strip().replace(".", "").split("-")[0]
        if not nit.isdigit() or not 5 <= len(nit) <= 15:
            raise ActionError(f"NIT: «{self.nit}» no es un NIT (solo dígitos, sin dígito de verificación).")
        if not self.name.strip():
            raise ActionError(f"Nombre: falta la razón social del NIT {nit}.")
        object.__setattr__(self, "nit", nit)
        object.__setattr__(self, "name", self.name.strip())

    @property
    def party(self) -> Party:
        return Party(nit=self.nit, registration_name=self.name, dv=check_digit(self.nit))

    def share(self, amount: Decimal | None = None) -> Share:
        return Share(self.nit, self.name, check_digit(self.nit), amount=amount)


@dataclass(frozen=True)
class TitleSnapshot:
    """What drafting needs of the title as it stands: the invoice, its parties, its figures, who holds it."""

    invoice_number: str
    invoice_cufe: str
    due_date: date | None
    value: Decimal  # the title's value (036 NuevoValorTV, else the invoice's payable amount)
    outstanding: Decimal
    debtor: Party
    holder_registered: bool  # a 036 is registered (or in flight)
    holder_is_issuer: bool  # we hold it as the issuer (361/362) rather than after an endorsement (363/364)
    limited: bool
    events: dict[str, tuple[EventCode, str, str, str]]  # CUDE -> (code, number, receiver NIT, receiver name)
    payee: Share | None = None  # a payable (we are the debtor): whom we pay, DIAN's legitimate holder (A.11) or the
    # notified assignee — named in our 045/051 note; never typed by a person, always the replay's


# --- the requests ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Register:
    """036: inscribe the invoice in RADIAN (361/363 general; 362/364 with the pre-agreed buyer of the title)."""

    direct_buyer: Counterparty | None = None


@dataclass(frozen=True)
class Endorse:
    """037 endorsement in property to a factor at a discount rate (complete or blank, with or without
    responsibility); 038 in guarantee; 039 for collection (kind "guarantee" / "collection": no price, no rate)."""

    to: Counterparty
    rate: Decimal = Decimal(0)
    kind: str = "property"  # property | guarantee | collection
    with_responsibility: bool = True
    blank: bool = False
    amount: Decimal | None = None  # the endorsed value; default the title's outstanding value


@dataclass(frozen=True)
class CancelEndorsement:
    """040: cancel our 038 (401) or 039 (402, with the reasons) by the endorsement's CUDE."""

    endorsement_cude: str
    reason: str | None = None


@dataclass(frozen=True)
class GrantMandate:
    """043: a mandate over this invoice to a mandatario (general or limited powers; for a time or unlimited)."""

    to: Counterparty
    mandatario_type: MandatarioType = MandatarioType.FACTOR
    end_date: date | None = None  # None: unlimited time (432)
    start_date: date | None = None


@dataclass(frozen=True)
class EndMandate:
    """044 441: revoke our mandate (by its CUDE)."""

    mandate_cude: str
    reason: str = "El mandante revoca el mandato; no quedan actos pendientes en ejecución del mandato."


@dataclass(frozen=True)
class ReportForPayment:
    """046: the holder reports the title to the debtor for payment (at least 3 business days before due)."""


@dataclass(frozen=True)
class RecordPayment:
    """045: record a payment received (452 total when it pays the outstanding value, 451 partial otherwise)."""

    amount: Decimal | None = None  # None: the outstanding value (total)
    paid_on: date | None = None


@dataclass(frozen=True)
class PayTransfer:
    """051 (we are the debtor): we paid the assignee of the economic rights after their 049 and 050 (A.10) — 512 when
    ``amount`` is the outstanding value, 511 partial otherwise."""

    amount: Decimal | None = None  # None: the outstanding value (total)
    paid_on: date | None = None


@dataclass(frozen=True)
class Protest_:
    """048: protest for non-acceptance (481, before due) or non-payment (482, after due), with the certificate PDF."""

    certificate: bytes
    non_payment: bool = True
    accepted_value: Decimal | None = None
    filename: str = "protesto.pdf"


@dataclass(frozen=True)
class TransferRights:
    """049: transfer the economic rights (partial or total, with or without responsibility) at a discount rate."""

    to: Counterparty
    rate: Decimal = Decimal(0)
    amount: Decimal | None = None  # default the outstanding value (total)
    with_responsibility: bool = True


@dataclass(frozen=True)
class NotifyTransfer:
    """050: notify the debtor of the transfer of the economic rights."""


Action = (
    Register | Endorse | CancelEndorsement | GrantMandate | EndMandate | ReportForPayment | RecordPayment | Protest_
    | TransferRights | NotifyTransfer | PayTransfer
)  # fmt: skip
# The debtor's actions on a received title (A.3: 045 the holder or the buyer, 051 the buyer).
PAYMENTS = (RecordPayment, PayTransfer)


_CENT = Decimal("0.01")
_RATE_STEP = Decimal(1).scaleb(-RATE_PLACES)


def _typed(number: Decimal) -> str:
    """A number as the treasurer typed it, with the Colombian decimal comma ("100,123", not "100.123", which reads
    as a hundred thousand)."""
    return f"{number:f}".replace(".", ",")


def _pesos(amount: Decimal, field: str) -> Decimal:
    """``amount`` as DIAN's value blocks carry it, pesos to the cent; ActionError naming ``field`` otherwise (before
    anything is quoted or numbered: "100,123" is a typing slip, not 100 pesos and a fraction of a cent)."""
    if amount != amount.quantize(_CENT):
        raise ActionError(
            f"{field}: {_typed(amount)} tiene más de dos decimales; escriba pesos y centavos (por ejemplo 119000,50)."
        )
    return amount


def _rate(rate: Decimal) -> Decimal:
    """A discount rate as a value block carries it: 0 to under 100, at most RATE_PLACES decimals (trailing zeros past
    them dropped); ActionError otherwise."""
    if not Decimal(0) <= rate < Decimal(100):
        raise ActionError(f"Tasa de descuento: debe estar entre 0 y 100 (por ciento), no {_typed(rate)}.")
    if rate.as_tuple().exponent >= -RATE_PLACES:  # type: ignore[operator]
        return rate
    exact = rate.quantize(_RATE_STEP)
    if exact != rate:
        raise ActionError(f"Tasa de descuento: {_typed(rate)} tiene más de {RATE_PLACES} decimales.")
    return exact


def endorsement_price(value: Decimal, rate: Decimal) -> Decimal:
    """What the factor pays: value × (100 − rate) / 100, to the cent (AAI07b) — shown before signing."""
    return discounted_price(value, _rate(rate))


def operation_of(action: Action, title: TitleSnapshot) -> Operation:
    """The variant (CustomizationID) a request becomes on this title."""
    match action:
        case Register(direct_buyer=direct):
            if title.holder_is_issuer:
                return OP.FIRST_REGISTRATION_DIRECT if direct else OP.FIRST_REGISTRATION
            return OP.LATER_REGISTRATION_DIRECT if direct else OP.LATER_REGISTRATION
        case Endorse(kind="guarantee"):
            return OP.GUARANTEE_ENDORSEMENT
        case Endorse(kind="collection"):
            return OP.COLLECTION_ENDORSEMENT
        case Endorse(kind="property", with_responsibility=responsible):
            return OP.ENDORSEMENT_WITH_RESPONSIBILITY if responsible else OP.ENDORSEMENT_WITHOUT_RESPONSIBILITY
        case Endorse(kind=kind):
            raise ActionError(f"Tipo de endoso: «{kind}» no existe (propiedad, garantía o procuración).")
        case CancelEndorsement(endorsement_cude=cude):
            code = title.events.get(cude.strip().lower(), (None,))[0]
            if code is E.ENDOSO_GARANTIA:
                return OP.CANCEL_GUARANTEE_ENDORSEMENT
            if code is E.ENDOSO_PROCURACION:
                return OP.CANCEL_COLLECTION_ENDORSEMENT
            raise ActionError(
                "Cancelación: el CUDE indicado no es un endoso en garantía ni en procuración de esta factura."
            )
        case GrantMandate(end_date=end):
            return OP.MANDATE_GENERAL_LIMITED_TIME if end else OP.MANDATE_GENERAL_UNLIMITED_TIME
        case EndMandate():
            return OP.MANDATE_REVOKED
        case ReportForPayment():
            return OP.PAYMENT_REPORT
        case RecordPayment(amount=amount):
            return OP.TOTAL_PAYMENT if amount is None or amount == title.outstanding else OP.PARTIAL_PAYMENT
        case PayTransfer(amount=amount):
            total = amount is None or amount == title.outstanding
            return OP.TRANSFER_TOTAL_PAYMENT if total else OP.TRANSFER_PARTIAL_PAYMENT
        case Protest_(non_payment=non_payment):
            return OP.PROTEST_NON_PAYMENT if non_payment else OP.PROTEST_NON_ACCEPTANCE
        case TransferRights(amount=amount, with_responsibility=responsible):
            partial = amount is not None and amount != title.outstanding
            if responsible:
                return OP.TRANSFER_PARTIAL_WITH_RESPONSIBILITY if partial else OP.TRANSFER_TOTAL_WITH_RESPONSIBILITY
            return OP.TRANSFER_PARTIAL_WITHOUT_RESPONSIBILITY if partial else OP.TRANSFER_TOTAL_WITHOUT_RESPONSIBILITY
        case NotifyTransfer():
            return OP.TRANSFER_NOTICE
    raise ActionError(f"Acción desconocida: {type(action).__name__}.")  # pragma: no cover


# Notes: the legal clause of each endorsement (A.6; HGInet, Odoo, Dispapeles wording).
_NOTES = {
    OP.ENDORSEMENT_WITH_RESPONSIBILITY: "Endoso en propiedad con mi responsabilidad u otra equivalente.",
    OP.ENDORSEMENT_WITHOUT_RESPONSIBILITY: "Endoso en propiedad sin mi responsabilidad u otra equivalente.",
    OP.GUARANTEE_ENDORSEMENT: "Endoso en garantía, en prenda u otra equivalente.",
    OP.COLLECTION_ENDORSEMENT: "Endoso en procuración, al cobro u otra equivalente.",
}


def draft(
    action: Action,
    title: TitleSnapshot,
    *,
    company: Party,
    number: str,
    issue_date: date,
    issue_time: str,
    environment: Environment,
) -> RadianEvent:
    """The unsigned RADIAN event ``action`` makes on ``title``, sent by ``company`` (the holder)."""
    operation = operation_of(action, title)
    invoice = TitleReference(title.invoice_number, title.invoice_cufe)
    me = Share(company.nit, company.registration_name or "", company.dv)
    base = {
        "operation": operation,
        "number": number,
        "issue_date": issue_date,
        "issue_time": issue_time,
        "environment": environment,
        "sender": company,
        "receiver": DIAN,
        "reference": invoice,
        "due_date": title.due_date,
    }
    value = title.outstanding
    match action:
        case Register(direct_buyer=direct):
            return RadianEvent(**base, block=PaymentRecord(title.value, Decimal("0.00"), title.value),
                               counterpart=direct.share() if direct else None)  # fmt: skip
        case Endorse(to=to, rate=rate, kind=kind, blank=blank, amount=amount):
            if to.nit == company.nit:
                raise ActionError("Endosatario: no puede endosar la factura a su propia empresa.")
            total = _pesos(amount, "Valor del endoso") if amount is not None else value
            if total <= 0 or total > value:
                raise ActionError(f"Valor del endoso: debe estar entre 0 y el saldo del título ({pesos(value)}).")
            if kind == "property":
                rate = _rate(rate)
                block = Negotiation(total, discounted_price(total, rate), rate, PAYMENT_MEANS_CODE)
            elif rate:
                raise ActionError("Tasa de descuento: solo el endoso en propiedad lleva precio y tasa (A.6).")
            else:
                block = Negotiation(total)
            return RadianEvent(
                **{**base, "receiver": to.party},
                debtor=title.debtor,
                list_id=(EndorsementKind.BLANK if blank else EndorsementKind.COMPLETE).value,
                sender_shares=(Share(me.nit, me.registration_name, me.dv, amount=total),),
                receiver_shares=(to.share(total),),
                block=block,
                notes=(_NOTES[operation],),
            )
        case CancelEndorsement(endorsement_cude=cude, reason=reason):
            _, ended_number, receiver_nit, receiver_name = title.events[cude.strip().lower()]
            if operation is OP.CANCEL_COLLECTION_ENDORSEMENT and not (reason or "").strip():
                raise ActionError("Motivo: la cancelación de un endoso en procuración expresa sus razones (AAD11a).")
            ended = TitleReference(ended_number, cude.strip().lower(), EVENT_DOCUMENT_TYPE)
            receiver = Party(receiver_nit, receiver_name, check_digit(receiver_nit))
            return RadianEvent(
                **{**base, "receiver": receiver, "due_date": None, "reference": ended},
                notes=(reason.strip(),) if reason and reason.strip() else (),
            )
        case GrantMandate(to=to, mandatario_type=kind, end_date=end, start_date=start):
            if end is not None and end < (start or issue_date):
                raise ActionError(
                    f"Vigente hasta: el {end:%d/%m/%Y} es anterior al comienzo del mandato, el "
                    f"{start or issue_date:%d/%m/%Y}."
                )
            mandate = Mandate(
                mandante_type=MandanteType.ISSUER if title.holder_is_issuer else MandanteType.HOLDER,
                mandatario_nit=to.nit,
                mandatario_dv=check_digit(to.nit),
                mandatario_type=kind,
                scope=MandateScope.ONE_INVOICE,
                powers=(f"{MANDATE_GENERAL_POWER}-{'FE' if title.holder_is_issuer else 'LT'}",),
                invoices=(invoice,),
                start_date=start or (issue_date if end else None),
                end_date=end,
            )
            return RadianEvent(**{**base, "due_date": None}, mandate=mandate, effective_date=start or issue_date)
        case EndMandate(mandate_cude=cude, reason=reason):
            found = title.events.get(cude.strip().lower())
            if found is None or found[0] is not E.MANDATO:
                raise ActionError("Mandato: el CUDE indicado no es un mandato (043) de esta factura.")
            ended = TitleReference(found[1], cude.strip().lower(), EVENT_DOCUMENT_TYPE)
            return RadianEvent(**{**base, "due_date": None, "reference": ended}, notes=(reason,))
        case ReportForPayment():
            return RadianEvent(**{**base, "receiver": title.debtor}, block=PaymentReport(title.value))
        case RecordPayment(amount=amount, paid_on=paid_on) | PayTransfer(amount=amount, paid_on=paid_on):
            paid = _pesos(amount, "Valor pagado") if amount is not None else value
            if paid <= 0 or paid > value:
                raise ActionError(f"Valor pagado: mayor que 0 y no más que el saldo del título ({pesos(value)}).")
            if paid_on is not None and paid_on > issue_date:
                raise ActionError(f"Fecha del pago: {paid_on:%d/%m/%Y} es posterior a hoy (AAH34b).")
            condition = PaymentCondition.UNDER_LIMITATION if title.limited else PaymentCondition.FREE
            blocks = Payments if isinstance(action, RecordPayment) else TransferPayments
            payee = title.payee
            return RadianEvent(
                **base,
                list_id=condition.value,
                sender_shares=(Share(me.nit, me.registration_name, me.dv, amount=paid),),
                block=blocks(value, value - paid),
                effective_date=paid_on or issue_date,
                notes=(f"Pago efectuado a {payee.registration_name} (NIT {payee.nit}).",) if payee else (),
            )
        case Protest_(certificate=pdf, accepted_value=accepted, filename=filename):
            if not pdf.startswith(b"%PDF-"):
                raise ActionError("Certificado de protesto: debe ser un PDF (AAI84).")
            accepted_value = accepted if accepted is not None else (title.value if action.non_payment else Decimal(0))
            return RadianEvent(
                **{**base, "receiver": title.debtor},
                block=Protest(title.value, accepted_value, value),
                attachments=(Attachment(filename, pdf),),
                notes=("Con protesto",),
            )
        case TransferRights(to=to, rate=rate, amount=amount):
            total = _pesos(amount, "Valor transferido") if amount is not None else value
            if total <= 0 or total > value:
                raise ActionError(f"Valor transferido: debe estar entre 0 y el saldo del título ({pesos(value)}).")
            rate = _rate(rate)
            return RadianEvent(
                **{**base, "receiver": to.party},
                debtor=title.debtor,
                sender_shares=(Share(me.nit, me.registration_name, me.dv, amount=total),),
                receiver_shares=(to.share(total),),
                block=RightsTransfer(total, discounted_price(total, rate), rate, PAYMENT_MEANS_CODE),
                notes=("Cedente y cesionario suscribieron contrato de cesión de derechos económicos.",),
            )
        case NotifyTransfer():
            return RadianEvent(**{**base, "receiver": title.debtor}, block=TransferNotice(title.value))
    raise ActionError(f"Acción desconocida: {type(action).__name__}.")  # pragma: no cover
