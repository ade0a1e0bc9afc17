"""The CUDS of a documento soporte (05) or its adjustment note (95), and the QR text (radian-issuing-facts C.2, C.3).

``CUDS = SHA384(NumDS + FecDS + HorDS + ValDS + CodImp + ValImp + ValTol + NumSNO + NITABS + PIN + TipoAmb)``: one tax
pair (literals.CUDS_TAX_FORM), the SELLER's (AccountingSupplierParty) id before OUR (AccountingCustomerParty) NIT, the
software PIN (literals.CUDS_KEY_IS_PIN). Pure functions; ``CudsFields.text()`` is the exact string hashed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from dian.codes import Environment
from dian.cufe import format_amount, sha384_hex
from dian.support.literals import QR_KEYS
from dian.ubl.model import CommercialDocument

__all__ = ["CudsFields", "cuds", "cuds_fields", "document_fields", "printed_qr_text", "qr_text", "qr_url"]


@dataclass(frozen=True)
class CudsFields:
    """The 11 fields of a CUDS exactly as hashed (amounts already formatted with 2 decimals)."""

    number: str  # NumDS
    issue_date: str  # FecDS
    issue_time: str  # HorDS, with its -05:00
    line_extension: str  # ValDS
    tax_code: str  # CodImp
    tax_amount: str  # ValImp
    payable: str  # ValTol
    seller_id: str  # NumSNO: the seller (AccountingSupplierParty) CompanyID
    buyer_nit: str  # NITABS: our NIT (AccountingCustomerParty)
    pin: str  # the software PIN of the buyer's software
    environment: str  # TipoAmb = ProfileExecutionID

    def text(self) -> str:
        """The concatenation, without separators, that is hashed."""
        return (self.number + self.issue_date + self.issue_time + self.line_extension + self.tax_code
                + self.tax_amount + self.payable + self.seller_id + self.buyer_nit + self.pin
                + self.environment)  # fmt: skip

    def digest(self) -> str:
        return sha384_hex(self.text())


def cuds_fields(
    *,
    number: str,
    issue_date: date,
    issue_time: str,
    line_extension: Decimal,
    tax_amount: Decimal,
    payable: Decimal,
    seller_id: str,
    buyer_nit: str,
    pin: str,
    environment: str,
    tax_code: str = "01",
) -> CudsFields:
    """The CUDS fields; ``tax_code``/``tax_amount`` are the first TaxTotal's scheme and amount (01 and 0.00 when the
    document has none, C.2)."""
    return CudsFields(
        number=number,
        issue_date=issue_date.isoformat(),
        issue_time=issue_time,
        line_extension=format_amount(line_extension),
        tax_code=tax_code,
        tax_amount=format_amount(tax_amount),
        payable=format_amount(payable),
        seller_id=seller_id,
        buyer_nit=buyer_nit,
        pin=pin,
        environment=Environment(environment).value,
    )


def cuds(**fields: object) -> str:
    """The CUDS (lowercase hex SHA-384) of :func:`cuds_fields`' keywords."""
    return cuds_fields(**fields).digest()  # type: ignore[arg-type]


def qr_url(key: str, environment: Environment) -> str:
    """DIAN's catalogue URL for a CUDS (sts:QRCode, rule DSAB36)."""
    host = "catalogo-vpfe.dian.gov.co" if environment is Environment.PRODUCTION else "catalogo-vpfe-hab.dian.gov.co"
    return f"https://{host}/document/searchqr?documentkey={key}"


def qr_text(fields: CudsFields, key: str, environment: Environment) -> str:
    """The printed QR text of C.3: one "Key: value" per line, the values taken from the hashed fields, then the URL."""
    values = (fields.number, fields.issue_date, fields.issue_time, fields.seller_id, fields.buyer_nit,
              fields.line_extension, fields.tax_amount, fields.payable, key)  # fmt: skip
    return "\n".join([*(f"{name}: {value}" for name, value in zip(QR_KEYS, values, strict=True)),
                      qr_url(key, environment)])  # fmt: skip


def document_fields(document: CommercialDocument, *, pin: str) -> CudsFields:
    """The CUDS fields of a parsed 05/95 as DIAN reads them (C.2): the first TaxTotal's scheme and amount."""
    first = document.tax_totals[0] if document.tax_totals else None
    return cuds_fields(number=document.number, issue_date=document.issue_date, issue_time=document.issue_time,
                       line_extension=document.monetary_total.line_extension,
                       tax_code=(first.scheme_id or "01") if first is not None else "01",
                       tax_amount=first.amount if first is not None else Decimal("0.00"),
                       payable=document.monetary_total.payable, seller_id=document.supplier.nit,
                       buyer_nit=document.customer.nit, pin=pin, environment=document.environment.value)  # fmt: skip


def printed_qr_text(document: CommercialDocument) -> str:
    """The printed QR text of a signed 05/95 (C.3) from its signed values; its sts:QRCode holds only the URL."""
    return qr_text(document_fields(document, pin=""), document.uuid, document.environment)
