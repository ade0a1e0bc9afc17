"""The buyer's copy as a message (dian-facts 4.1): the subject ``NIT;Razón social;Número;Tipo;Nombre comercial``, the
zip of the AttachedDocument and the PDF within 2 MB (the signed invoice itself for a contingency 04 DIAN has not
validated yet, radian-issuing-facts B.3), and the words of the mail. issuing/delivery.py finds the address and queues
it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime

from dian.calendar import BOGOTA
from dian.codes import DocumentType
from dian.soap.packaging import document_file_name, zip_dated, zip_file_name
from dian.ubl import CommercialDocument
from issuing.context import IssuingContext, utc_now
from issuing.pdf import PdfOptions, render_pdf
from store.models import OutboundDocument, OutboundState

__all__ = [
    "MAX_MESSAGE_BYTES",
    "NO_ADDRESS",
    "TOO_LARGE",
    "UNDECIDED",
    "WIRE_POLICY",
    "BuyerPackage",
    "DeliveryProblem",
    "MailSettings",
    "before_validation",
    "buyer_message",
    "buyer_package",
    "mail_subject",
    "package_moment",
    "zip_budget",
]

_EPOCH = datetime(1980, 1, 1, 5, tzinfo=UTC)  # zip's first date, in Bogotá; for a row that has no moment yet
MAX_MESSAGE_BYTES = 2 * 1024 * 1024  # dian-facts 4.1: 2 MB per message
NO_ADDRESS = "no_address"
TOO_LARGE = "too_large"
# CRLF line ends as SMTP sends them; headers folded only past 998 characters, so the subject that receivers split on
# ";" stays on one line (a long company name would otherwise fold it at 78).
WIRE_POLICY = SMTP_POLICY.clone(max_line_length=998)
# A 04 on its way to DIAN (B.3): the buyer has it before DIAN validates it.
UNDECIDED = (OutboundState.SIGNED, OutboundState.SENT, OutboundState.SEND_FAILED)


def before_validation(row: OutboundDocument) -> bool:
    """Whether ``row`` is a contingency 04 DIAN has not decided yet: its buyer gets the signed invoice meanwhile."""
    return row.document_type is DocumentType.DIAN_CONTINGENCY_INVOICE and row.state in UNDECIDED


def zip_budget(max_bytes: int) -> int:
    """How large the zip may be in a message of ``max_bytes``: base64 takes 4/3 of it, headers and body ~16 KB."""
    return (max_bytes - 16 * 1024) * 3 // 4


@dataclass(frozen=True)
class MailSettings:
    """Who sends (the [smtp] from address), the optional sixth subject field and the PDF's options."""

    from_address: str
    business_line: str | None = None
    pdf: PdfOptions = field(default_factory=PdfOptions)
    max_bytes: int = MAX_MESSAGE_BYTES


class DeliveryProblem(Exception):
    """The buyer's copy cannot be sent as it is (Spanish reason); ``code`` is no_address or too_large."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def _field(text: str | None) -> str:
    """A subject field: one line, without the separator."""
    return " ".join((text or "").replace(";", ",").split())


def mail_subject(document: CommercialDocument, business_line: str | None = None) -> str:
    """``NIT;Razón social;Número;Código tipo;Nombre comercial[;Línea de negocio]`` (dian-facts 4.1): the issuer's NIT
    without check digit, its registration name, cbc:ID, the type code (01-04, 91, 92), its trade name (the
    registration name when it has none) and the business line when configured."""
    supplier = document.supplier
    name = _field(supplier.registration_name) or supplier.nit
    fields = [supplier.nit, name, document.number, document.document_type.value, _field(supplier.trade_name) or name]
    if business_line and _field(business_line):
        fields.append(_field(business_line))
    return ";".join(fields)


@dataclass(frozen=True)
class BuyerPackage:
    """The zip for the buyer, its name and what was given up to fit 2 MB."""

    zip_name: str
    data: bytes
    members: tuple[str, ...]
    note: str | None = None  # e.g. the PDF went without its logo


def package_moment(row: OutboundDocument) -> datetime:
    """The date the buyer's zip gives its members: the document's (DIAN's validation, else its signing or issue), not
    the clock's, so the same document makes the same bytes on every build — a resend, the page's download."""
    return row.validated_at or row.signed_at or row.issued_at or _EPOCH


def buyer_package(row: OutboundDocument, ctx: IssuingContext, settings: MailSettings) -> BuyerPackage:
    """The zip of ``row`` (accepted): ``ad….xml`` (the AttachedDocument) and ``ad….pdf`` (printed with DIAN's
    validation time), named as dian-facts 4.3 (NIT, provider code, year, hexadecimal consecutive); for a contingency
    04 not yet validated, the signed invoice under its own name (``fv….xml``) and its PDF (validation pending).
    Raises DeliveryProblem(too_large) when even without the logo it does not fit the message."""
    early = before_validation(row)
    assert row.xml_blob and (early or row.attached_blob)
    signed = ctx.blobs.get(row.xml_blob)
    attached = signed if early else ctx.blobs.get(row.attached_blob or "")
    year = (row.issue_date or (row.validated_at or utc_now()).astimezone(BOGOTA).date()).year
    consecutive = row.consecutive or row.id
    naming = {"nit": ctx.nit, "year": year, "consecutive": consecutive, "provider_code": ctx.issuer.provider_code}
    xml_name = document_file_name("fv" if early else "ad", **naming)
    pdf_name = xml_name[:-4] + ".pdf"
    zip_name = zip_file_name(**naming)
    budget = zip_budget(settings.max_bytes)
    moment = package_moment(row)
    data = zip_dated(
        {xml_name: attached, pdf_name: render_pdf(signed, validated_at=row.validated_at, options=settings.pdf)}, moment
    )
    note = None
    if len(data) > budget and settings.pdf.logo is not None:
        plain = replace(settings.pdf, logo=None)
        pdf = render_pdf(signed, validated_at=row.validated_at, options=plain)
        data = zip_dated({xml_name: attached, pdf_name: pdf}, moment)
        note = "La representación gráfica se envió sin el logo para no superar 2 MB por correo."
    if len(data) > budget:
        raise DeliveryProblem(TOO_LARGE, (
            f"El zip para el comprador pesa {len(data) / 1024 / 1024:.2f} MB y el correo admite 2 MB "
            "(anexo 1.9 §9.1): no se envió. Descargue el zip y entréguelo por otro medio."))  # fmt: skip
    return BuyerPackage(zip_name, data, (xml_name, pdf_name), note)


def buyer_message(row: OutboundDocument, document: CommercialDocument, package: BuyerPackage, *, to: str,
                  settings: MailSettings, now: datetime, message_key: str) -> EmailMessage:  # fmt: skip
    supplier = document.supplier
    kind = {"91": "la nota crédito", "92": "la nota débito"}.get(document.document_type.value, "la factura electrónica")
    label = "CUDE" if (document.uuid_scheme or "").startswith("CUDE") else "CUFE"
    message = EmailMessage()
    message["From"] = settings.from_address
    message["To"] = to
    message["Subject"] = mail_subject(document, settings.business_line)
    message["Date"] = format_datetime(now.astimezone(BOGOTA))
    domain = settings.from_address.rpartition("@")[2] or "buzon.local"
    message["Message-ID"] = f"<{message_key.replace(':', '.')}@{domain}>"
    if before_validation(row):
        deadline = row.contingency_deadline.astimezone(BOGOTA) if row.contingency_deadline else None
        by = f", a más tardar el {deadline:%Y-%m-%d %H:%M} (hora de Colombia)" if deadline else ""
        lines = [
            f"Señores {document.customer.registration_name or row.buyer_name},",
            "",
            f"{supplier.registration_name} (NIT {supplier.nit}) les envía la factura electrónica de venta de "
            f"CONTINGENCIA {document.number} (tipo 04).",
            f"{label}: {document.uuid}",
            "",
            "Se expidió mientras la DIAN no podía recibir documentos electrónicos, por lo que aún no está validada: "
            f"se le transmitirá dentro de las 48 horas siguientes al restablecimiento de su servicio{by}.",
            "",
            "El archivo adjunto contiene la factura electrónica firmada (XML) y su representación gráfica en PDF.",
        ]
    else:
        lines = [
            f"Señores {document.customer.registration_name or row.buyer_name},",
            "",
            f"{supplier.registration_name} (NIT {supplier.nit}) les envía {kind} {document.number}, validada por la "
            "DIAN.",
            f"{label}: {document.uuid}",
            "",
            "El archivo adjunto contiene el documento electrónico con la respuesta de la DIAN (AttachedDocument) y su "
            "representación gráfica en PDF.",
        ]
    if package.note:
        lines += ["", package.note]
    lines += ["", "Cordialmente,", supplier.registration_name or supplier.nit]
    message.set_content("\n".join(lines) + "\n")
    message.add_attachment(package.data, maintype="application", subtype="zip", filename=package.zip_name)
    return message
