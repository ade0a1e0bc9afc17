"""The payment run: what we owe on received credit invoices, and **to whom** — the legitimate holder in RADIAN (a
factor the supplier endorsed the invoice to), the assignee of notified economic rights, or the supplier itself.

``payables(session, filters)`` gives one ``PayableLine`` per unpaid received credit invoice: payee, value outstanding,
due date, title state, and — when the line must not be paid now — the reason it is refused:

* a 041 limitation is in force (payment frozen by a judge or authority);
* an event DIAN registered on the title could not be proven by the watch (``value_titles.watch_status`` unproven);
* DIAN's validation of the invoice itself is not proven (verdict unconfirmed);
* the person asked to pay someone else (``pay_to``, e.g. the bank payee an ERP keeps for the supplier) than the
  legitimate payee: paying the supplier of an endorsed invoice pays twice.

``export_csv`` writes the file an AP team hands its bank: only the lines that may be paid, and the refused ones
apart, each with its reason (never dropped silently). ``excel=True`` gives what Excel in Colombia opens as columns:
``;`` separator, decimal comma, dd/mm/aaaa, a UTF-8 BOM. The API (``GET /api/v1/payables``), the CLI and the treasury
pages call these same functions.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from dian.codes import DocumentState, DocumentType, PaymentMeans
from dian.nit import same_nit
from radian.title import TitleState as Derived
from store.models import ReceivedDocument, TitleRole, TitleState, ValueTitle, Verdict

__all__ = ["PaidLine", "PayableFilters", "PayableLine", "export_csv", "payable_line", "payables", "read_paid_file"]

UNPROVEN = "unproven"  # radian.watch.UNPROVEN (kept here too: payables must not import the watch's threads)
# Received invoices a payment run considers: DIAN-validated (or not yet proven, refused below) and not claimed.
PAYABLE_STATES = (
    DocumentState.VALIDATED,
    DocumentState.UNCONFIRMED,
    DocumentState.ACKNOWLEDGED,
    DocumentState.GOODS_RECEIVED,
    DocumentState.ACCEPTED,
    DocumentState.TACITLY_ACCEPTED,
    DocumentState.TITLE,
)
_CENT = Decimal("0.01")
_STATE_LABELS = {state.value: state.label for state in Derived} | {TitleState.UNREGISTERED.value: "No inscrita"}


@dataclass(frozen=True)
class PayableFilters:
    """What a payment run asks for: due on or before a day, one supplier, title states, how many lines."""

    due_before: date | None = None
    supplier_nit: str | None = None
    states: tuple[str, ...] = ()  # value_titles.state values (``unregistered`` for invoices with no title row)
    include_refused: bool = True
    limit: int = 10_000


@dataclass(frozen=True)
class PayableLine:
    """One invoice to pay: to whom, how much, by when, and whether it may be paid now (``refused`` says why not)."""

    document_id: int
    cufe: str
    number: str
    supplier_nit: str
    supplier_name: str
    payee_nit: str
    payee_name: str
    outstanding: Decimal | None
    currency: str
    due_date: date | None
    title_state: str  # value_titles.state, or "unregistered" when the invoice is no title
    frozen: bool = False
    refused: str | None = None
    pay_to: str | None = None  # the payee someone asked for, when it differs from the legitimate one

    @property
    def payee_is_supplier(self) -> bool:
        """False once the invoice was endorsed or its rights transferred: the supplier must not be paid."""
        return same_nit(self.payee_nit, self.supplier_nit)

    @property
    def payable(self) -> bool:
        return self.refused is None

    @property
    def title_state_label(self) -> str:
        return _STATE_LABELS.get(self.title_state, self.title_state)


def payable_line(document: ReceivedDocument, title: ValueTitle | None, *, pay_to: str | None = None) -> PayableLine:
    """The line of one invoice: the title's payee (the supplier while it is no title) and why it may not be paid."""
    payee_nit = title.payee_nit if title and title.payee_nit else document.issuer_nit
    payee_name = title.payee_name if title and title.payee_nit else document.issuer_name
    outstanding = title.outstanding if title is not None else document.payable_amount
    refused = None
    if title is not None and title.limited:
        refused = (
            "Pago congelado: la factura tiene una limitación a la circulación (041, medida cautelar) vigente; "
            "no se paga hasta que se registre su terminación (042)."
        )
    elif title is not None and title.watch_status == UNPROVEN:
        refused = (
            "La DIAN registra sobre esta factura un evento RADIAN que Buzón no pudo verificar: no se paga hasta "
            "revisarlo (Títulos valor)."
        )
    elif document.verdict is Verdict.UNCONFIRMED or document.state is DocumentState.UNCONFIRMED:
        refused = "La validación DIAN de la factura está sin confirmar: no se paga hasta confirmarla."
    elif pay_to and not same_nit(pay_to, payee_nit):
        refused = (
            f"Se pidió pagar a NIT {pay_to}, pero quien debe recibir el pago es {payee_name} (NIT {payee_nit})"
            + (", el tenedor legítimo en RADIAN: pagarle a otro no extingue la deuda." if not
               same_nit(payee_nit, document.issuer_nit) else ".")
        )  # fmt: skip
    return PayableLine(
        document_id=document.id,
        cufe=document.cufe,
        number=document.number,
        supplier_nit=document.issuer_nit,
        supplier_name=document.issuer_name,
        payee_nit=payee_nit,
        payee_name=payee_name,
        outstanding=outstanding,
        currency=(title.currency if title else None) or document.currency,
        due_date=(title.due_date if title else None) or document.due_date,
        title_state=title.state.value if title is not None else TitleState.UNREGISTERED.value,
        frozen=bool(title and title.limited),
        refused=refused,
        pay_to=pay_to if pay_to and not same_nit(pay_to, payee_nit) else None,
    )


def payables(
    s: Session, filters: PayableFilters = PayableFilters(), *, pay_to: Mapping[str, str] | None = None
) -> list[PayableLine]:
    """The unpaid received credit invoices, soonest due first, each with its payee and refusal; ``pay_to`` maps a
    CUFE to the NIT someone intends to pay (a bank payee override), refused when it is not the legitimate payee."""
    query = (
        sa.select(ReceivedDocument, ValueTitle)
        .outerjoin(ValueTitle, sa.and_(ValueTitle.document_id == ReceivedDocument.id,
                                       ValueTitle.role == TitleRole.OBLIGOR))
        .where(
            ReceivedDocument.document_type == DocumentType.INVOICE,
            ReceivedDocument.payment_means == PaymentMeans.CREDIT,
            ReceivedDocument.state.in_(PAYABLE_STATES),
            sa.or_(ValueTitle.id.is_(None), ValueTitle.state != TitleState.PAID),
        )
        .order_by(sa.func.coalesce(ValueTitle.due_date, ReceivedDocument.due_date), ReceivedDocument.id)
        .limit(filters.limit)
    )  # fmt: skip
    if filters.due_before is not None:
        query = query.where(sa.func.coalesce(ValueTitle.due_date, ReceivedDocument.due_date) <= filters.due_before)
    if filters.supplier_nit:
        query = query.where(ReceivedDocument.issuer_nit == filters.supplier_nit)
    if filters.states:
        wanted = [state for state in filters.states if state != TitleState.UNREGISTERED.value]
        conditions = [ValueTitle.state.in_(wanted)] if wanted else []
        if TitleState.UNREGISTERED.value in filters.states:
            conditions += [ValueTitle.id.is_(None), ValueTitle.state == TitleState.UNREGISTERED]
        query = query.where(sa.or_(*conditions))
    overrides = {cufe.lower(): nit for cufe, nit in (pay_to or {}).items()}
    lines = [payable_line(doc, title, pay_to=overrides.get(doc.cufe.lower())) for doc, title in s.execute(query)]
    return lines if filters.include_refused else [line for line in lines if line.payable]


HEADER = ("cufe", "numero", "nit_proveedor", "proveedor", "nit_beneficiario", "beneficiario",
          "beneficiario_es_proveedor", "saldo", "moneda", "vencimiento", "estado_titulo")  # fmt: skip
REFUSED_HEADER = (*HEADER, "motivo_rechazo")


def _cell(value: object, excel: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return ("sí" if value else "no") if excel else ("true" if value else "false")
    if isinstance(value, Decimal):
        text = format(value.quantize(_CENT), "f")
        return text.replace(".", ",") if excel else text
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y") if excel else value.isoformat()
    text = str(value)
    # A cell starting with = + - @ is a formula to Excel: a supplier's name must never run as one (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _row(line: PayableLine, excel: bool, *, reason: bool) -> list[str]:
    values: list[object] = [line.cufe, line.number, line.supplier_nit, line.supplier_name, line.payee_nit,
                            line.payee_name, line.payee_is_supplier, line.outstanding, line.currency, line.due_date,
                            line.title_state_label if excel else line.title_state]  # fmt: skip
    if reason:
        values.append(line.refused)
    return [_cell(value, excel) for value in values]


@dataclass
class Export:
    """The bank file (payable lines only) and the refused lines with their reasons, as text."""

    payable: str
    refused: str
    counts: dict[str, int] = field(default_factory=dict)


def _lines_csv(lines: Iterable[PayableLine], header: tuple[str, ...], excel: bool, *, reason: bool) -> str:
    buffer = io.StringIO()
    if excel:
        buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";" if excel else ",", lineterminator="\r\n")
    writer.writerow(header)
    for line in lines:
        writer.writerow(_row(line, excel, reason=reason))
    return buffer.getvalue()


def export_csv(lines: Iterable[PayableLine], *, excel: bool = False) -> Export:
    """The payment file: payable lines only; the refused ones in their own CSV with the reason of each."""
    listed = list(lines)
    ok = [line for line in listed if line.payable]
    refused = [line for line in listed if not line.payable]
    return Export(
        payable=_lines_csv(ok, HEADER, excel, reason=False),
        refused=_lines_csv(refused, REFUSED_HEADER, excel, reason=True),
        counts={"payable": len(ok), "refused": len(refused)},
    )


def iter_json(lines: Iterable[PayableLine]) -> Iterator[dict[str, object]]:
    """Each line as the API writes it (money as a decimal string, never a float)."""
    for line in lines:
        yield {
            "cufe": line.cufe,
            "number": line.number,
            "supplier": {"nit": line.supplier_nit, "name": line.supplier_name},
            "payee": {"nit": line.payee_nit, "name": line.payee_name},
            "payee_is_supplier": line.payee_is_supplier,
            "outstanding": None if line.outstanding is None else format(line.outstanding.quantize(_CENT), "f"),
            "currency": line.currency,
            "due_date": line.due_date.isoformat() if line.due_date else None,
            "title_state": line.title_state,
            "title_state_label": line.title_state_label,
            "frozen": line.frozen,
            "payable": line.payable,
            "refused": line.refused,
        }


@dataclass(frozen=True)
class PaidLine:
    """One line of a bank file we exported and the bank paid: which invoice, to whom, how much (``export_csv``)."""

    cufe: str
    payee_nit: str
    amount: Decimal


def read_paid_file(text: str) -> list[PaidLine]:
    """The lines of a payment file ``export_csv`` wrote (plain or Excel), to record in RADIAN what was paid (045).
    ValueError with a Spanish sentence naming the line when it is not such a file."""
    body = text.lstrip("\ufeff")
    excel = body.split("\n", 1)[0].count(";") > body.split("\n", 1)[0].count(",")
    rows = csv.DictReader(io.StringIO(body), delimiter=";" if excel else ",")
    missing = {"cufe", "nit_beneficiario", "saldo"} - set(rows.fieldnames or ())
    if missing:
        raise ValueError(
            f"El archivo no es un archivo de pagos de Buzón: faltan las columnas {', '.join(sorted(missing))}."
        )
    lines = []
    for number, row in enumerate(rows, start=2):
        amount = (row["saldo"] or "").strip().replace(",", ".") if excel else (row["saldo"] or "").strip()
        try:
            lines.append(PaidLine(row["cufe"].strip().lower(), row["nit_beneficiario"].strip(), Decimal(amount)))
        except (ArithmeticError, AttributeError):
            raise ValueError(f"Línea {number}: el saldo «{row['saldo']}» no es un valor.") from None
    return lines
