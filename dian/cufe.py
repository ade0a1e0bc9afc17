"""CUFE, CUDE and SoftwareSecurityCode: SHA-384 over concatenated fields (dian-facts.md section 1).

Pure functions. The ``*_input`` builders return the exact text that is hashed, so a mismatch can be diagnosed by
comparing strings rather than digests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Context, Decimal

from dian.codes import Environment, TaxScheme

__all__ = [
    "KeyFields",
    "document_key_fields",
    "event_cude",
    "event_cude_input",
    "format_amount",
    "invoice_cufe",
    "invoice_cufe_input",
    "note_cude",
    "note_cude_input",
    "sha384_hex",
    "software_security_code",
]

# The taxes that enter the CUFE/CUDE, in this order, each preceded by its code (dian-facts.md 1.2).
_CUFE_TAXES = (TaxScheme.IVA, TaxScheme.INC, TaxScheme.ICA)

_CENT = Decimal("0.01")
# Enough precision that quantize never fails on a real amount (the default context keeps 28 digits).
_CONTEXT = Context(prec=60)


def sha384_hex(text: str) -> str:
    """Return the lowercase hex SHA-384 of the UTF-8 bytes of ``text`` (dian-facts.md 1.1)."""
    return hashlib.sha384(text.encode("utf-8")).hexdigest()


def format_amount(value: Decimal) -> str:
    """Format an amount as DIAN hashes it: dot decimal, no grouping, exactly 2 decimals, truncated (1.1)."""
    if not isinstance(value, Decimal):
        # A float has already lost the cents; an int is harmless but we keep one money type (DESIGN.md section 3).
        raise TypeError(f"amount must be a Decimal, got {type(value).__name__} {value!r}")
    if not value.is_finite():
        raise ValueError(f"amount must be finite, got {value!r}")
    truncated = value.quantize(_CENT, rounding=ROUND_DOWN, context=_CONTEXT)
    if truncated.is_zero():
        truncated = abs(truncated)  # "-0.00" is not a DIAN amount
    return f"{truncated:f}"


def _environment(value: str) -> str:
    try:
        return Environment(value).value
    except ValueError:
        raise ValueError(f"environment must be '1' (producción) or '2' (habilitación), got {value!r}") from None


def invoice_cufe_input(
    *,
    number: str,
    issue_date: date,
    issue_time: str,
    line_extension_amount: Decimal,
    tax_amounts: Mapping[str, Decimal],
    payable_amount: Decimal,
    supplier_nit: str,
    customer_nit: str,
    technical_key: str,
    environment: str,
) -> str:
    """Return the text hashed into an invoice CUFE (dian-facts.md 1.2)."""
    return document_key_fields(
        number=number,
        issue_date=issue_date,
        issue_time=issue_time,
        line_extension_amount=line_extension_amount,
        tax_amounts=tax_amounts,
        payable_amount=payable_amount,
        supplier_nit=supplier_nit,
        customer_nit=customer_nit,
        key=technical_key,
        environment=environment,
    ).text()


def invoice_cufe(
    *,
    number: str,
    issue_date: date,
    issue_time: str,
    line_extension_amount: Decimal,
    tax_amounts: Mapping[str, Decimal],
    payable_amount: Decimal,
    supplier_nit: str,
    customer_nit: str,
    technical_key: str,
    environment: str,
) -> str:
    """Return the CUFE of an invoice 01-04: SHA-384 hex with the numbering range's technical key (1.2)."""
    return sha384_hex(
        invoice_cufe_input(
            number=number,
            issue_date=issue_date,
            issue_time=issue_time,
            line_extension_amount=line_extension_amount,
            tax_amounts=tax_amounts,
            payable_amount=payable_amount,
            supplier_nit=supplier_nit,
            customer_nit=customer_nit,
            technical_key=technical_key,
            environment=environment,
        )
    )


def note_cude_input(
    *,
    number: str,
    issue_date: date,
    issue_time: str,
    line_extension_amount: Decimal,
    tax_amounts: Mapping[str, Decimal],
    payable_amount: Decimal,
    supplier_nit: str,
    customer_nit: str,
    software_pin: str,
    environment: str,
) -> str:
    """Return the text hashed into a credit/debit note CUDE (dian-facts.md 1.3)."""
    return document_key_fields(
        number=number,
        issue_date=issue_date,
        issue_time=issue_time,
        line_extension_amount=line_extension_amount,
        tax_amounts=tax_amounts,
        payable_amount=payable_amount,
        supplier_nit=supplier_nit,
        customer_nit=customer_nit,
        key=software_pin,
        environment=environment,
    ).text()


def note_cude(
    *,
    number: str,
    issue_date: date,
    issue_time: str,
    line_extension_amount: Decimal,
    tax_amounts: Mapping[str, Decimal],
    payable_amount: Decimal,
    supplier_nit: str,
    customer_nit: str,
    software_pin: str,
    environment: str,
) -> str:
    """Return the CUDE of a credit note 91 or debit note 92: the CUFE formula with the software PIN (1.3)."""
    return sha384_hex(
        note_cude_input(
            number=number,
            issue_date=issue_date,
            issue_time=issue_time,
            line_extension_amount=line_extension_amount,
            tax_amounts=tax_amounts,
            payable_amount=payable_amount,
            supplier_nit=supplier_nit,
            customer_nit=customer_nit,
            software_pin=software_pin,
            environment=environment,
        )
    )


def event_cude_input(
    *,
    number: str,
    issue_date: date,
    issue_time: str,
    sender_nit: str,
    receiver_nit: str,
    response_code: str,
    document_number: str,
    document_type_code: str,
    software_pin: str,
) -> str:
    """Return the text hashed into an ApplicationResponse event CUDE (dian-facts.md 1.4)."""
    # Sender (who emits the event) before receiver; no environment and no amounts (1.4).
    return (
        number
        + issue_date.isoformat()
        + issue_time
        + sender_nit
        + receiver_nit
        + response_code
        + document_number
        + document_type_code
        + software_pin
    )


def event_cude(
    *,
    number: str,
    issue_date: date,
    issue_time: str,
    sender_nit: str,
    receiver_nit: str,
    response_code: str,
    document_number: str,
    document_type_code: str,
    software_pin: str,
) -> str:
    """Return the CUDE of an event 030-051 (dian-facts.md 1.4)."""
    return sha384_hex(
        event_cude_input(
            number=number,
            issue_date=issue_date,
            issue_time=issue_time,
            sender_nit=sender_nit,
            receiver_nit=receiver_nit,
            response_code=response_code,
            document_number=document_number,
            document_type_code=document_type_code,
            software_pin=software_pin,
        )
    )


def software_security_code(software_id: str, software_pin: str, number: str) -> str:
    """Return sts:SoftwareSecurityCode = SHA-384(SoftwareID + PIN + cbc:ID) for any document (1.5)."""
    return sha384_hex(software_id + software_pin + number)


@dataclass(frozen=True)
class KeyFields:
    """The 15 fields of an invoice CUFE or note CUDE exactly as they are hashed (dian-facts.md 1.2-1.3).

    Each amount is already the text that enters the hash, so whatever else shows these values (the QR text of
    radian-issuing-facts B.6, a printed total) can take them from here and cannot disagree with the key.
    """

    number: str
    issue_date: str
    issue_time: str
    line_extension: str  # ValFac
    taxes: tuple[tuple[str, str], ...]  # (("01", ValImp1), ("04", ValImp2), ("03", ValImp3)), in hash order
    payable: str  # ValTot
    supplier_nit: str
    customer_nit: str
    key: str  # technical key (CUFE) or software PIN (CUDE)
    environment: str

    def tax(self, code: str) -> str:
        """The hashed amount of tax scheme 01, 04 or 03."""
        return dict(self.taxes)[code]

    def text(self) -> str:
        """The concatenation, without separators, that is hashed."""
        return (
            self.number
            + self.issue_date
            + self.issue_time
            + self.line_extension
            + "".join(code + amount for code, amount in self.taxes)
            + self.payable
            + self.supplier_nit
            + self.customer_nit
            + self.key
            + self.environment
        )

    def digest(self) -> str:
        """SHA-384 hex of :meth:`text`."""
        return sha384_hex(self.text())


def document_key_fields(
    *,
    number: str,
    issue_date: date,
    issue_time: str,
    line_extension_amount: Decimal,
    tax_amounts: Mapping[str, Decimal],
    payable_amount: Decimal,
    supplier_nit: str,
    customer_nit: str,
    key: str,
    environment: str,
) -> KeyFields:
    """Return the formatted CUFE/CUDE fields; ``key`` is the technical key (CUFE) or the software PIN (CUDE)."""
    # The note CUDE differs from the invoice CUFE only in the key (1.3). Schemes other than 01/04/03 do not enter
    # the hash, so they are ignored here.
    return KeyFields(
        number=number,
        issue_date=issue_date.isoformat(),
        issue_time=issue_time,
        line_extension=format_amount(line_extension_amount),
        taxes=tuple((code.value, format_amount(tax_amounts.get(code.value, Decimal(0)))) for code in _CUFE_TAXES),
        payable=format_amount(payable_amount),
        supplier_nit=supplier_nit,
        customer_nit=customer_nit,
        key=key,
        environment=_environment(environment),
    )
