"""The graphic representation (PDF) of an issued invoice, credit note or debit note (radian-issuing-facts B.6).

``render_pdf`` reads the signed XML — never the caller's payload — so every figure printed is one that was signed and
hashed, and the QR (segno, on every page) holds the document's own sts:QRCode text, built by dian.ubl.build from the
very values hashed into the CUFE/CUDE. The words and figures come from issuing/pdf_content.py, the pages from
issuing/pdf_layout.py (reportlab).

The output is a function of its inputs: the PDF's creation date is the document's issue time and its ID a digest of
the document's number and key, so the same document with the same options renders the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from reportlab import rl_config
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from issuing.pdf_content import Sheet, read_sheet
from issuing.pdf_layout import Decoration, draw_sheet

__all__ = ["PdfOptions", "render_pdf", "render_sheet"]

# Binary (Flate only) streams instead of reportlab's default ASCII85 on top: a quarter smaller, and the pure-Python
# ASCII85 encoder cost a fifth of a render. reportlab reads this process-wide setting when it writes a stream; Buzón
# has no other reportlab output.
rl_config.useA85 = 0


@dataclass(frozen=True)
class PdfOptions:
    """What the company configures: ``logo`` (path to a PNG or JPEG, printed top left of every page), ``footer``
    (a note at the foot of every page: bank account, website…), ``business_line`` (a line under the company's name:
    its economic activity) and ``software_name`` (named beside the software provider's NIT in the software line).
    The shell builds it from the [issuing] pdf_* settings (buzon.runtime.Runtime.pdf_options)."""

    logo: Path | None = None
    footer: str | None = None
    software_name: str | None = "Buzón"
    business_line: str | None = None


@lru_cache(maxsize=8)
def _logo(path: str, mtime_ns: int) -> ImageReader:
    # Read once per file version: an ImageReader decodes the image, which costs more than a page.
    del mtime_ns
    return ImageReader(io.BytesIO(Path(path).read_bytes()))


def _decoration(options: PdfOptions) -> Decoration:
    logo = None
    if options.logo is not None:
        try:
            logo = _logo(str(options.logo), options.logo.stat().st_mtime_ns)
        except OSError as exc:
            raise ValueError(f"el logo {options.logo} no se puede leer: {exc.strerror or exc}") from exc
    return Decoration(logo=logo, footer=options.footer, business_line=options.business_line)


def render_sheet(sheet: Sheet, options: PdfOptions = PdfOptions()) -> bytes:
    """The PDF of an already-read Sheet (issuing.pdf_content.read_sheet)."""
    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=LETTER, invariant=1, pageCompression=1, lang="es-CO")
    c.setTitle(f"{sheet.title.capitalize()} {sheet.number}")
    c.setSubject(f"{sheet.key_label} {sheet.key}")
    c.setAuthor(sheet.issuer.name)
    c.setCreator(options.software_name or "Buzón")
    c.setProducer("Buzón (reportlab)")
    stamp = sheet.issued_at.astimezone(dt.timezone(dt.timedelta(hours=-5))).strftime("D:%Y%m%d%H%M%S-05'00'")
    # The PDF's CreationDate and ModDate: the document's own issue time, not the clock (same bytes every render).
    c.setDateFormatter(lambda *_: stamp)
    draw_sheet(c, sheet, _decoration(options))
    c.save()
    return buffer.getvalue()


def render_pdf(
    document: bytes,
    *,
    validated_at: dt.datetime | None = None,
    options: PdfOptions = PdfOptions(),
) -> bytes:
    """The PDF bytes of a signed invoice (01-04), credit note (91) or debit note (92).

    ``document``: the exact signed XML bytes (``IssuedDocument.xml``, or the stored blob) — the signed XML rather
    than the parsed dian.ubl model, because the PDF also prints what that model does not carry (line discounts and
    charges, per-unit taxes, the exchange rate of an export, the paper invoice of a type 03, a note's period), which
    dian.ubl.printed reads from the same parse.
    ``validated_at``: when DIAN validated it (aware datetime), printed as "Validada por la DIAN"; None prints
    "Validación DIAN: pendiente" (a preview, or a type 03/04 delivered before it is transmitted).
    ``options``: logo, footer note and software name (PdfOptions).

    Raises dian.errors.ParseError when the bytes are not a readable DIAN document, and ValueError for a DIAN document
    that has no graphic representation (an event, an AttachedDocument) or a logo that cannot be read.
    """
    sheet = read_sheet(document, validated_at=validated_at, software_name=options.software_name)
    return render_sheet(sheet, options)
