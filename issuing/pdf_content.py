"""What the graphic representation of an issued document says: every field of radian-issuing-facts B.6 as Spanish
labels and Colombian-formatted strings, read from the signed XML itself (so the PDF shows what was signed).

``read_sheet`` parses the signed bytes once (dian.ubl.printed): the parsed model, and the few fields it does not carry
(line and document discounts/charges, per-unit tax amounts, the exchange rate, the paper invoice of a type 03, a
note's period) from the same tree. Layout is issuing/pdf_layout.py's business.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from dian.codes import DocumentType, Environment, IdentificationType
from dian.support.cuds import printed_qr_text
from dian.support.literals import ADJUSTMENT_CONCEPTS
from dian.ubl.model import CommercialDocument, Party, TaxTotal
from dian.ubl.printed import Charge, PrintedExtras, read_printed
from issuing import catalog

__all__ = ["LineRow", "PartyBlock", "Sheet", "amount", "number", "read_sheet"]

_CONTINGENCY = "FACTURA ELECTRÓNICA DE VENTA DE CONTINGENCIA"  # apidian's wording (radian-issuing-facts B.6)
_TITLES = {
    DocumentType.INVOICE: ("FACTURA ELECTRÓNICA DE VENTA", None),
    DocumentType.EXPORT_INVOICE: ("FACTURA ELECTRÓNICA DE VENTA", "Exportación"),
    DocumentType.CONTINGENCY_INVOICE: (_CONTINGENCY, "Contingencia del facturador (tipo 03)"),
    DocumentType.DIAN_CONTINGENCY_INVOICE: (_CONTINGENCY, "Contingencia DIAN (tipo 04)"),
    DocumentType.CREDIT_NOTE: ("NOTA CRÉDITO ELECTRÓNICA", None),
    DocumentType.DEBIT_NOTE: ("NOTA DÉBITO ELECTRÓNICA", None),
    # radian-issuing-facts C: the full legal names are printed in the foot (_SUPPORT_NAMES); these fit the title box.
    DocumentType.SUPPORT_DOCUMENT: ("DOCUMENTO SOPORTE EN ADQUISICIONES EFECTUADAS A SUJETOS NO OBLIGADOS A EXPEDIR "
                                    "FACTURA O DOCUMENTO EQUIVALENTE", None),
    DocumentType.SUPPORT_ADJUSTMENT: ("NOTA DE AJUSTE AL DOCUMENTO SOPORTE", "Sujetos no obligados a facturar"),
}  # fmt: skip
_SUPPORT_NAMES = {
    DocumentType.SUPPORT_DOCUMENT: "del documento soporte en adquisiciones efectuadas a sujetos no obligados a "
    "expedir factura de venta o documento equivalente",
    DocumentType.SUPPORT_ADJUSTMENT: "de la nota de ajuste al documento soporte en adquisiciones efectuadas a sujetos "
    "no obligados a expedir factura de venta o documento equivalente",
}

_ID_NAMES = {
    IdentificationType.REGISTRO_CIVIL: "Registro civil",
    IdentificationType.TARJETA_IDENTIDAD: "T.I.",
    IdentificationType.CEDULA_CIUDADANIA: "C.C.",
    IdentificationType.TARJETA_EXTRANJERIA: "Tarjeta de extranjería",
    IdentificationType.CEDULA_EXTRANJERIA: "C.E.",
    IdentificationType.NIT: "NIT",
    IdentificationType.PASAPORTE: "Pasaporte",
    IdentificationType.DOCUMENTO_EXTRANJERO: "Documento extranjero",
    IdentificationType.PEP: "PEP",
    IdentificationType.PPT: "PPT",
    IdentificationType.NIT_OTRO_PAIS: "NIT de otro país",
    IdentificationType.NUIP: "NUIP",
}

# cbc:PaymentMeansCode (radian-issuing-facts B.5): the ones a Colombian invoice uses; others print their code.
_PAYMENT_MEANS = {
    "1": "Instrumento no definido", "2": "Crédito ACH", "3": "Débito ACH", "10": "Efectivo", "20": "Cheque",
    "23": "Cheque bancario de gerencia", "30": "Transferencia crédito", "31": "Transferencia débito",
    "42": "Consignación bancaria", "44": "Nota cambiaria", "45": "Transferencia crédito bancario",
    "46": "Transferencia débito interbancario", "47": "Transferencia débito bancaria", "48": "Tarjeta crédito",
    "49": "Tarjeta débito", "71": "Bonos", "72": "Vales", "ZZZ": "Acuerdo mutuo",
}  # fmt: skip

# UN/ECE recommendation 20 units seen on Colombian invoices; others print their code.
_UNITS = {"94": "Unidad", "EA": "Unidad", "NIU": "Unidad", "KGM": "kg", "GRM": "g", "LTR": "Litro", "MTR": "Metro",
          "MTK": "m²", "MTQ": "m³", "HUR": "Hora", "DAY": "Día", "MON": "Mes", "ANN": "Año", "BX": "Caja",
          "PR": "Par", "SET": "Juego", "ZZ": "Mutuamente definido", "GLL": "Galón", "KWH": "kWh"}  # fmt: skip


def number(value: Decimal, places: int | None = 2) -> str:
    """Colombian figures: '.' between thousands, ',' before decimals; ``places`` None keeps the value's own decimals
    (at least none: quantities print as written, '1,5' or '120')."""
    if places is None:
        value = value.normalize()
        exponent = value.as_tuple().exponent
        places = max(0, -exponent) if isinstance(exponent, int) else 0
    text = f"{value:,.{places}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def amount(value: Decimal | None) -> str:
    """A money amount with two decimals, Colombian style; empty for None."""
    return "" if value is None else number(value, 2)


def price(value: Decimal) -> str:
    """A unit price with its own decimals, never fewer than two (1.234,565 or 1.000.000,00)."""
    exponent = value.as_tuple().exponent
    return number(value, max(2, -exponent) if isinstance(exponent, int) else 2)


def _date(value: dt.date | None) -> str:
    return "" if value is None else value.strftime("%d/%m/%Y")


def _id_number(value: str, scheme: str | None) -> str:
    if scheme in ("31", "13") and value.isdigit():
        return number(Decimal(value), 0)
    return value


@dataclass(frozen=True)
class PartyBlock:
    """A party as printed: its name, its identification with DV, then address, contact and tax lines."""

    name: str
    identification: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class LineRow:
    """One document line as printed (strings); taxes hold one 'IVA 19 %' per tax with its amount."""

    index: str
    code: str
    description: str
    quantity: str
    unit: str
    unit_price: str
    adjustments: tuple[str, ...]
    taxes: tuple[tuple[str, str], ...]
    total: str


@dataclass(frozen=True)
class Sheet:
    """Everything the PDF prints, already in words and figures; built by ``read_sheet``."""

    title: str
    subtitle: str | None
    number: str
    key_label: str  # "CUFE" or "CUDE"
    key: str
    qr_text: str
    issued_at: dt.datetime
    currency: str
    issuer: PartyBlock
    buyer: PartyBlock
    facts: tuple[tuple[str, str], ...]
    references: tuple[tuple[str, str], ...]
    lines: tuple[LineRow, ...]
    tax_rows: tuple[tuple[str, str, str, str], ...]  # tax, rate, base, amount
    withholding_rows: tuple[tuple[str, str, str, str], ...]
    totals: tuple[tuple[str, str], ...]
    payable: str
    authorization: str | None
    software: str
    notes: tuple[str, ...] = field(default=())
    testing: bool = False
    payable_local: str | None = None  # exports: the payable in COP at the stated exchange rate (informative)
    total_label: str = "TOTAL A PAGAR"
    # A documento soporte is issued by its buyer (us): the other party's box is the seller's, and the foot names the
    # document in full (radian-issuing-facts C.1).
    party_label: str = "ADQUIRIENTE"
    full_name: str | None = None  # "del documento soporte en adquisiciones…"; None: "de la <title>"


def _party_block(party: Party, *, with_taxes: bool) -> PartyBlock:
    scheme = party.id_scheme
    label = _ID_NAMES.get(scheme, f"Documento {scheme}") if scheme else "Identificación"  # type: ignore[call-overload]
    ident = f"{label} {_id_number(party.nit, scheme)}" + (f"-{party.dv}" if party.dv else "")
    lines = []
    address = party.address
    if address is not None:
        if address.line:
            lines.append(address.line)
        place = ", ".join(p for p in (address.city, address.department) if p)
        country = address.country if address.country and address.country != "CO" else "Colombia"
        lines.append(f"{place} – {country}" if place else country)
    contact = " · ".join(p for p in (f"Tel. {party.phone}" if party.phone else None, party.email) if p)
    if contact:
        lines.append(contact)
    if with_taxes:
        regime = "Responsable de IVA" if party.tax_scheme_id == "01" else "No responsable de IVA"
        levels = "; ".join(f"{code} {catalog.TAX_LEVELS.get(code, '')}".strip() for code in party.tax_level_codes)
        lines.append(f"{regime}" + (f" · Responsabilidades: {levels}" if levels else ""))
    name = party.registration_name or party.trade_name or party.nit
    if party.trade_name and party.trade_name != name:
        lines.insert(0, party.trade_name)
    return PartyBlock(name=name, identification=ident, lines=tuple(lines))


def _rate(subtotal_percent: Decimal | None, per_unit: Decimal | None) -> str:
    if subtotal_percent is not None:
        return f"{number(subtotal_percent, None)} %"
    if per_unit is not None:
        return f"{price(per_unit)} por unidad"
    return ""


def _tax_name(scheme_id: str | None, scheme_name: str | None) -> str:
    if scheme_id in catalog.WITHHOLDING_SCHEMES:
        return catalog.WITHHOLDING_SCHEMES[scheme_id]
    return catalog.TAX_SCHEMES.get(scheme_id or "", scheme_name or "Impuesto")


def _rows(totals: tuple[TaxTotal, ...], per_unit: tuple[Decimal | None, ...]) -> list[tuple[str, str, str, str]]:
    rows, index = [], 0
    for total in totals:
        for subtotal in total.subtotals:
            unit = per_unit[index] if index < len(per_unit) else None
            index += 1
            units = subtotal.taxable_amount or Decimal(0)  # a per-unit tax's base is the number of units
            base = amount(subtotal.taxable_amount) if unit is None else f"{number(units, None)} u."
            rows.append((_tax_name(subtotal.scheme_id, subtotal.scheme_name), _rate(subtotal.percent, unit), base,
                         amount(subtotal.amount)))  # fmt: skip
    return rows


def _line_rows(document: CommercialDocument, extras: PrintedExtras) -> list[LineRow]:
    rows = []
    for line, extra in zip(document.lines, extras.lines, strict=True):
        per_unit = extra.per_unit
        taxes, index = [], 0
        for total in line.taxes:
            for subtotal in total.subtotals:
                unit = per_unit[index] if index < len(per_unit) else None
                index += 1
                label = f"{_tax_name(subtotal.scheme_id, subtotal.scheme_name)} {_rate(subtotal.percent, unit)}"
                taxes.append((label.strip(), amount(subtotal.amount)))
        adjustments = []
        for charge in extra.charges:
            share = f" ({number(charge.percent, None)}%)" if charge.percent is not None else ""
            adjustments.append(f"{'+' if charge.charge else '-'}{amount(charge.amount)}{share}")
        description = line.description or ""
        if extra.reference_price is not None:
            description += f" (obsequio, valor de referencia {price(extra.reference_price)})"
        code = next((c.value for c in line.item_codes if c.kind == "standard"), None) or next(
            (c.value for c in line.item_codes), ""
        )
        rows.append(
            LineRow(
                index=line.id,
                code=code,
                description=description,
                quantity=number(line.quantity, None),
                unit=_UNITS.get(line.unit_code or "", line.unit_code or ""),
                unit_price=price(line.unit_price) if line.unit_price is not None else "",
                adjustments=tuple(adjustments),
                taxes=tuple(taxes),
                total=amount(line.line_extension_amount),
            )
        )
    return rows


def _facts(
    document: CommercialDocument, extras: PrintedExtras, validated_at: dt.datetime | None
) -> list[tuple[str, str]]:
    time = document.issue_time  # as signed: "10:53:10-05:00"
    facts = [
        ("Fecha de expedición", _date(document.issue_date)),
        ("Hora de expedición", f"{time[:8]} ({time[8:] or 'UTC-05:00'})"),
    ]
    if document.due_date is not None:
        facts.append(("Fecha de vencimiento", _date(document.due_date)))
    if document.payment_means is not None:
        form = catalog.PAYMENT_FORMS.get(document.payment_means.value, document.payment_means.value)
        if document.due_date is not None and document.payment_means.value == "2":
            form += f" ({(document.due_date - document.issue_date).days} días)"
        facts.append(("Forma de pago", form))
    if document.payment_method_code:
        code = document.payment_method_code
        facts.append(("Medio de pago", f"{_PAYMENT_MEANS.get(code, 'Código')} ({code})"))
    currency = document.currency or "COP"
    facts.append(("Moneda", currency))
    if extras.exchange_rate is not None:
        when = f" ({_date(extras.exchange_date)})" if extras.exchange_date else ""
        target = extras.exchange_target or "COP"
        facts.append(("Tasa de cambio", f"1 {currency} = {price(extras.exchange_rate)} {target}{when}"))
    if document.order_reference:
        facts.append(("Orden de compra", document.order_reference))
    if validated_at is not None:
        local = validated_at.astimezone(dt.timezone(dt.timedelta(hours=-5)))
        facts.append(("Validada por la DIAN", local.strftime("%d/%m/%Y %H:%M:%S")))
    elif document.document_type.value in ("03", "04"):
        facts.append(("Validación DIAN", "pendiente: se transmite al superar la contingencia"))
    else:
        facts.append(("Validación DIAN", "pendiente"))
    return facts


def _references(document: CommercialDocument, extras: PrintedExtras) -> list[tuple[str, str]]:
    references = []
    support = document.document_type.is_support
    what = ("Documento soporte", "del documento soporte") if support else ("Factura", "de la factura")
    for billing in document.billing_references:
        references.append((f"{what[0]} referenciado" if support else "Factura referenciada",
                           f"{billing.number} del {_date(billing.issue_date)}"))  # fmt: skip
        if billing.uuid:
            scheme = billing.uuid_scheme.split("-")[0] if billing.uuid_scheme else "CUFE"
            references.append((f"{scheme} {what[1]}", billing.uuid))
    discrepancy = document.discrepancy_response
    if discrepancy is not None:
        concepts = (
            ADJUSTMENT_CONCEPTS
            if support
            else catalog.CREDIT_NOTE_CONCEPTS
            if document.document_type is DocumentType.CREDIT_NOTE
            else catalog.DEBIT_NOTE_CONCEPTS
        )
        text = discrepancy.description or concepts.get(discrepancy.code, "")
        references.append(("Concepto", f"{discrepancy.code} – {text}"))
    if extras.period is not None:
        references.append(("Periodo facturado", " a ".join(_date(d) for d in extras.period if d)))
    for paper, day in extras.paper_invoices:
        references.append(("Factura de talonario (papel)", f"{paper} del {_date(day)}"))
    return references


def _totals(document: CommercialDocument, charges: tuple[Charge, ...]) -> list[tuple[str, str]]:
    total = document.monetary_total
    rows = [("Valor bruto (suma de líneas)", amount(total.line_extension))]
    if total.tax_exclusive is not None:
        rows.append(("Base gravable", amount(total.tax_exclusive)))
    for scheme, value in document.tax_amounts.items():
        rows.append((catalog.TAX_SCHEMES.get(scheme, scheme), amount(value)))
    if total.tax_inclusive is not None:
        rows.append(("Total con impuestos", amount(total.tax_inclusive)))
    for charge in charges:
        kind = "Cargo" if charge.charge else "Descuento"
        rows.append((f"{kind}: {charge.reason or kind}", ("" if charge.charge else "-") + amount(charge.amount)))
    if total.prepaid:
        rows.append(("Anticipos", "-" + amount(total.prepaid)))
    return rows


def _authorization(document: CommercialDocument) -> str | None:
    control = document.invoice_control
    if control is None:
        return None
    span = ""
    if control.from_number is not None and control.to_number is not None:
        span = f" del {control.prefix or ''}{control.from_number} al {control.prefix or ''}{control.to_number}"
    valid = ""
    if control.start_date is not None and control.end_date is not None:
        valid = f", vigente del {_date(control.start_date)} al {_date(control.end_date)}"
    prefix = f", prefijo {control.prefix}" if control.prefix else ""
    what = "documento soporte" if document.document_type.is_support else "facturación"
    return f"Autorización de numeración de {what} DIAN No. {control.authorization}{prefix}, rango{span}{valid}."


def read_sheet(
    xml: bytes,
    *,
    validated_at: dt.datetime | None = None,
    software_name: str | None = None,
) -> Sheet:
    """Read a signed invoice or note (its exact bytes) into the Sheet the PDF prints.

    Raises dian.errors.ParseError for bytes that are not a DIAN commercial document, ValueError for other DIAN
    documents (events, AttachedDocument).
    """
    document, extras = read_printed(xml)
    if not isinstance(document, CommercialDocument) or extras is None:
        raise ValueError(f"only invoices and notes have a graphic representation, not {type(document).__name__}")
    title, subtitle = _TITLES[document.document_type]
    currency = document.currency or "COP"
    provider_dv = extras.provider_dv
    provider_text = _id_number(document.software_provider_nit or "", "31") + (f"-{provider_dv}" if provider_dv else "")
    who = f"{software_name}, " if software_name else ""
    software = (
        f"Software de facturación: {who}ID {document.software_id or '—'} · "
        f"Proveedor tecnológico / fabricante del software: NIT {provider_text}"
    )
    payable = document.monetary_total.payable
    rate = extras.exchange_rate
    payable_local = amount((payable * rate).quantize(Decimal("0.01"))) if rate and currency != "COP" else None
    support = document.document_type.is_support
    issuer, other = (document.customer, document.supplier) if support else (document.supplier, document.customer)
    return Sheet(
        title=title,
        subtitle=subtitle,
        number=document.number,
        key_label=(document.uuid_scheme or "CUFE-SHA384").split("-")[0],
        key=document.uuid,
        qr_text=printed_qr_text(document) if support else document.qr_code or "",
        issued_at=document.issued_at,
        currency=currency,
        issuer=_party_block(issuer, with_taxes=True),
        buyer=_party_block(other, with_taxes=True),
        facts=tuple(_facts(document, extras, validated_at)),
        references=tuple(_references(document, extras)),
        lines=tuple(_line_rows(document, extras)),
        tax_rows=tuple(_rows(document.tax_totals, extras.per_unit)),
        withholding_rows=tuple(_rows(document.withholdings, ())),
        totals=tuple(_totals(document, extras.charges)),
        payable=amount(payable),
        authorization=_authorization(document),
        software=software,
        notes=document.notes,
        testing=document.environment is Environment.TESTING,
        payable_local=payable_local,
        total_label="TOTAL A PAGAR"
        if document.document_type.is_invoice or document.document_type is DocumentType.SUPPORT_DOCUMENT
        else "VALOR TOTAL DE LA NOTA",
        party_label="VENDEDOR (NO OBLIGADO A FACTURAR)" if support else "ADQUIRIENTE",
        full_name=_SUPPORT_NAMES.get(document.document_type),
    )
