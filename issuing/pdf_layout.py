"""Drawing a Sheet (issuing/pdf_content.py) on US-letter pages with reportlab's canvas.

Every page repeats the essentials: the issuer, the title and number, the QR (drawn once as a form XObject and placed
on each page, radian-issuing-facts B.6 and peers-wave2 §2.7), "Página N de M", and a footer with the CUFE/CUDE and
the software line. Page 1 adds the buyer and the document's facts; the lines table flows over as many pages as it
needs, its header repeated; the tax breakdown, withholdings, totals and the numbering authorization close the last
page (or a page of their own when they no longer fit). Pages are planned before anything is drawn, so M is known.

Fonts are the PDF base fonts (Helvetica): nothing to embed, so the file stays small and any reader prints it.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import segno
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.utils import ImageReader, simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from issuing.pdf_content import LineRow, PartyBlock, Sheet

__all__ = ["Decoration", "draw_sheet"]

PAGE_W, PAGE_H = LETTER
MARGIN = 28.0
WIDTH = PAGE_W - 2 * MARGIN
QR_SIZE = 118.0  # points: the most the QR may take, 4.2 cm (the minimum is 2 cm, radian-issuing-facts B.6)
QR_STEP = 1.44  # points per module: 0.02 in, 2 pixels at 100 dpi
QR_MASK = 0  # the checkerboard (i + j) mod 2, see _qr_form
HEADER_H = QR_SIZE + 6
FOOTER_H = 44.0
FONT, BOLD, ITALIC = "Helvetica", "Helvetica-Bold", "Helvetica-Oblique"
GREY = (0.45, 0.45, 0.45)
RULE = (0.75, 0.75, 0.75)
SHADE = (0.93, 0.94, 0.96)

# The lines table: (title, width, right-aligned).
COLUMNS = (
    ("#", 14, False), ("Código", 40, False), ("Descripción", 144, False), ("Cant.", 34, True), ("Unidad", 36, False),
    ("Precio unit.", 56, True), ("Desc./cargo", 62, True), ("Impuesto", 60, False), ("Valor imp.", 52, True),
    ("Valor total", 58, True),
)  # fmt: skip
TABLE_SIZE, TABLE_LEAD = 7.0, 8.2
TABLE_HEAD_H = 14.0


@dataclass(frozen=True)
class Decoration:
    """What the company adds: its logo (an image reader, or None), a note printed at the foot of every page (two
    lines at most, the second cut with "…") and a business line under its name."""

    logo: ImageReader | None = None
    footer: str | None = None
    business_line: str | None = None
    qr_side: float = QR_SIZE  # set by draw_sheet once the QR is drawn


def _wrap(text: str, width: float, font: str = FONT, size: float = TABLE_SIZE) -> list[str]:
    if not text:
        return []
    if stringWidth(text, font, size) <= width:
        return [text]
    return simpleSplit(text, font, size, width) or [text]


def _cells(row: LineRow) -> list[list[str]]:
    values: list[Sequence[str]] = [
        [row.index],
        [row.code],
        [row.description],
        [row.quantity],
        [row.unit],
        [row.unit_price],
        row.adjustments,
        [label for label, _ in row.taxes],
        [value for _, value in row.taxes],
        [row.total],
    ]
    cells = []
    for (_, width, _), texts in zip(COLUMNS, values, strict=True):
        lines: list[str] = []
        for text in texts:
            lines += _wrap(text, width - 4)
        cells.append(lines)
    return cells


def _row_height(cells: list[list[str]]) -> float:
    return max(1, *(len(c) for c in cells)) * TABLE_LEAD + 2.6


class _Pen:
    """A canvas that may be absent: with ``c`` None every call only measures, so a block's height is known before
    it is drawn with the very same code."""

    def __init__(self, c: Canvas | None) -> None:
        self.c = c
        self.font: tuple[str, float] | None = None

    def text(self, x: float, y: float, text: str, *, font: str = FONT, size: float = 7.5, right: bool = False,
             color: tuple[float, float, float] | None = None) -> None:  # fmt: skip
        c = self.c
        if c is None or not text:
            return
        if self.font != (font, size):
            c.setFont(font, size)
            self.font = (font, size)
        if color is not None:
            c.setFillColorRGB(*color)
        (c.drawRightString if right else c.drawString)(x, y, text)
        if color is not None:
            c.setFillColorRGB(0, 0, 0)

    def lines(self, x: float, top: float, texts: Sequence[str], width: float, *, font: str = FONT,
              size: float = 7.5, lead: float | None = None) -> float:  # fmt: skip
        """Wrapped texts from ``top`` down; returns the height used."""
        lead = lead or size * 1.22
        y = top
        for text in texts:
            for line in _wrap(text, width, font, size):
                y -= lead
                self.text(x, y + lead * 0.22, line, font=font, size=size)
        return top - y

    def box(self, x: float, y: float, w: float, h: float, *, fill: tuple[float, float, float] | None = None) -> None:
        c = self.c
        if c is None:
            return
        c.setStrokeColorRGB(*RULE)
        c.setLineWidth(0.6)
        if fill is not None:
            c.setFillColorRGB(*fill)
        c.rect(x, y, w, h, stroke=1, fill=1 if fill is not None else 0)
        c.setFillColorRGB(0, 0, 0)


def _qr_form(c: Canvas, text: str) -> float:
    """Draw the QR once as a form XObject named "qr" (its quiet zone included); returns its side in points.

    A module is 1.44 pt = 0.02 in while the symbol fits QR_SIZE, so at 100, 150, 200 or 300 dpi each module is a
    whole number of pixels, aligned on the page's pixel grid by _qr_origin: crisp even on a 100 dpi raster.
    The mask is fixed (QR_MASK): choosing the best of the eight is what costs most in segno (≈ 15 ms a document, more
    than the rest of the PDF), any mask is a valid symbol, and every page's QR is decoded by zbar in the tests.
    """
    # segno raises the error correction level as far as the same version allows
    qr = segno.make(text, error="l", micro=False, mask=QR_MASK)
    border = 2
    matrix = qr.matrix
    modules = len(matrix) + 2 * border
    step = QR_STEP if modules * QR_STEP <= QR_SIZE else QR_SIZE / modules
    side = modules * step
    # One path of horizontal runs, in module units (integers) under a scale: written as literal PDF operators, since
    # reportlab's path object formats each float in Python and would spend more time than everything else here.
    ops = []
    for r, row in enumerate(matrix):
        y = modules - border - 1 - r
        col, width = 0, len(row)
        while col < width:
            if row[col] & 1:
                start = col
                while col < width and row[col] & 1:
                    col += 1
                ops.append(f"{start + border} {y} {col - start} 1 re")
            else:
                col += 1
    c.beginForm("qr", lowerx=0, lowery=0, upperx=side, uppery=side)
    c.setFillColorRGB(1, 1, 1)
    c.rect(0, 0, side, side, stroke=0, fill=1)
    c.setFillColorRGB(0, 0, 0)
    c.saveState()
    c.scale(step, step)
    c.addLiteral("\n".join(ops) + "\nf")
    c.restoreState()
    c.endForm()
    return side


def _qr_origin(side: float) -> tuple[float, float]:
    """The QR's lower-left corner: top right of the page, on the 0.02 in grid (see _qr_form)."""
    x = (PAGE_W - MARGIN - side) // QR_STEP * QR_STEP
    y = (PAGE_H - MARGIN - side) // QR_STEP * QR_STEP
    return x, y


def _header(pen: _Pen, sheet: Sheet, deco: Decoration, page: int, pages: int) -> float:
    """The top of every page; returns the y below it."""
    top = PAGE_H - MARGIN
    c = pen.c
    if c is not None:
        c.saveState()
        c.translate(*_qr_origin(deco.qr_side))
        c.doForm("qr")
        c.restoreState()
    x = MARGIN
    if deco.logo is not None and c is not None:
        w, h = deco.logo.getSize()
        scale = min(90 / w, 52 / h)
        c.drawImage(deco.logo, x, top - h * scale, w * scale, h * scale, mask="auto")
        x += w * scale + 8
    # the title block sits left of the QR; the issuer fills what is left
    title_w = 170.0
    title_x = PAGE_W - MARGIN - QR_SIZE - 6 - title_w
    issuer_w = title_x - x - 8
    y = top - 10
    for line in _wrap(sheet.issuer.name, issuer_w, BOLD, 10):
        pen.text(x, y, line, font=BOLD, size=10)
        y -= 12
    if deco.business_line:
        for line in _wrap(deco.business_line, issuer_w, ITALIC, 7.5)[:2]:
            pen.text(x, y, line, font=ITALIC, size=7.5)
            y -= 9.5
    pen.text(x, y, sheet.issuer.identification, font=BOLD, size=8)
    y -= 3
    pen.lines(x, y, sheet.issuer.lines, issuer_w, size=7)
    _, qr_y = _qr_origin(deco.qr_side)
    pen.box(title_x, qr_y, title_w, deco.qr_side, fill=SHADE)
    y = top - 13
    for line in _wrap(sheet.title, title_w - 10, BOLD, 9):
        pen.text(title_x + 5, y, line, font=BOLD, size=9)
        y -= 11
    if sheet.subtitle:
        pen.text(title_x + 5, y, sheet.subtitle, font=BOLD, size=8, color=(0.6, 0.1, 0.1))
        y -= 11
    y -= 4
    pen.text(title_x + 5, y, f"No. {sheet.number}", font=BOLD, size=12)
    y -= 13
    pen.text(title_x + 5, y, f"Página {page} de {pages}", size=8)
    y -= 10
    if sheet.testing:
        pen.text(title_x + 5, y, "Ambiente de habilitación (pruebas)", size=7, color=(0.6, 0.1, 0.1))
    return top - HEADER_H


def _footer(pen: _Pen, sheet: Sheet, deco: Decoration) -> None:
    y = MARGIN + FOOTER_H - 8
    if pen.c is not None:
        pen.c.setStrokeColorRGB(*RULE)
        pen.c.line(MARGIN, MARGIN + FOOTER_H - 2, PAGE_W - MARGIN, MARGIN + FOOTER_H - 2)
    pen.text(MARGIN, y, f"{sheet.key_label}: {sheet.key}", size=6.3)
    y -= 8.5
    pen.text(MARGIN, y, sheet.software, size=6.3, color=GREY)
    y -= 8.5
    name = sheet.full_name or f"de la {sheet.title.lower()}"
    pen.text(MARGIN, y, f"Representación gráfica {name} {sheet.number}.", size=6.3, color=GREY)
    if deco.footer:
        lines = _wrap(deco.footer, WIDTH, FONT, 6.3)
        if len(lines) > 2:  # the page's foot holds two lines: the rest is cut, visibly
            lines = [lines[0], _wrap(lines[1] + " …", WIDTH - stringWidth(" …", FONT, 6.3), FONT, 6.3)[0] + " …"]
        for line in lines:
            y -= 7.5
            pen.text(MARGIN, y, line, size=6.3, color=GREY)


def _party_box(pen: _Pen, x: float, top: float, w: float, title: str, party: PartyBlock) -> float:
    y = top - 10
    pen.text(x + 5, y, title, font=BOLD, size=7, color=GREY)
    y -= 10
    for line in _wrap(party.name, w - 10, BOLD, 8.5):
        pen.text(x + 5, y, line, font=BOLD, size=8.5)
        y -= 10
    pen.text(x + 5, y, party.identification, size=7.5)
    y -= 2
    y -= pen.lines(x + 5, y, party.lines, w - 10, size=7)
    return top - y + 5


def _pairs_box(pen: _Pen, x: float, top: float, w: float, title: str, pairs: Sequence[tuple[str, str]],
               label_w: float) -> float:  # fmt: skip
    y = top - 10
    pen.text(x + 5, y, title, font=BOLD, size=7, color=GREY)
    y -= 1
    for label, value in pairs:
        texts = _wrap(value, w - label_w - 10, FONT, 7.2) or [""]
        for index, text in enumerate(texts):
            y -= 8.8
            if index == 0:
                pen.text(x + 5, y, label, font=BOLD, size=7.2)
            pen.text(x + label_w + 5, y, text, size=7.2)
    return top - y + 5


def _first_page_blocks(pen: _Pen, sheet: Sheet, top: float) -> float:
    """Buyer, facts and references under the header of page 1; returns the y below them."""
    left_w = WIDTH * 0.55
    right_w = WIDTH - left_w - 6
    buyer_h = _party_box(_Pen(None), MARGIN, top, left_w, sheet.party_label, sheet.buyer)
    facts_h = _pairs_box(_Pen(None), MARGIN + left_w + 6, top, right_w, "DATOS DEL DOCUMENTO", sheet.facts, 92)
    height = max(buyer_h, facts_h)
    pen.box(MARGIN, top - height, left_w, height)
    pen.box(MARGIN + left_w + 6, top - height, right_w, height)
    _party_box(pen, MARGIN, top, left_w, sheet.party_label, sheet.buyer)
    _pairs_box(pen, MARGIN + left_w + 6, top, right_w, "DATOS DEL DOCUMENTO", sheet.facts, 92)
    top -= height + 6
    if sheet.references:
        height = _pairs_box(_Pen(None), MARGIN, top, WIDTH, "REFERENCIAS", sheet.references, 120)
        pen.box(MARGIN, top - height, WIDTH, height)
        _pairs_box(pen, MARGIN, top, WIDTH, "REFERENCIAS", sheet.references, 120)
        top -= height + 6
    return top


def _table_head(pen: _Pen, top: float, currency: str) -> float:
    pen.box(MARGIN, top - TABLE_HEAD_H, WIDTH, TABLE_HEAD_H, fill=SHADE)
    x = MARGIN
    for title, width, right in COLUMNS:
        label = f"{title} ({currency})" if title == "Valor total" and currency != "COP" else title
        pen.text(x + width - 2 if right else x + 2, top - 9.5, label, font=BOLD, size=6.5, right=right)
        x += width
    return top - TABLE_HEAD_H


def _table_row(pen: _Pen, top: float, cells: list[list[str]], height: float) -> float:
    x = MARGIN
    for (_, width, right), lines in zip(COLUMNS, cells, strict=True):
        y = top - TABLE_LEAD + 0.5
        for line in lines:
            pen.text(x + width - 2 if right else x + 2, y, line, size=TABLE_SIZE, right=right)
            y -= TABLE_LEAD
        x += width
    if pen.c is not None:
        pen.c.setStrokeColorRGB(*RULE)
        pen.c.setLineWidth(0.3)
        pen.c.line(MARGIN, top - height, PAGE_W - MARGIN, top - height)
    return top - height


def _small_table(pen: _Pen, x: float, top: float, w: float, title: str, head: Sequence[str],
                 rows: Sequence[Sequence[str]]) -> float:  # fmt: skip
    """A titled four-column table (name, rate, base, amount); returns its height."""
    widths = (w * 0.34, w * 0.2, w * 0.23, w * 0.23)
    y = top - 9
    pen.text(x, y, title, font=BOLD, size=7, color=GREY)
    y -= 3
    for cells, font in [(head, BOLD), *[(row, FONT) for row in rows]]:
        y -= 9
        cx = x
        for index, (text, width) in enumerate(zip(cells, widths, strict=True)):
            if index == 0:
                pen.text(cx + 2, y, _wrap(text, width - 4, font, 7)[0] if text else "", font=font, size=7)
            else:
                pen.text(cx + width - 2, y, text, font=font, size=7, right=True)
            cx += width
    return top - y + 4


def _closing(pen: _Pen, sheet: Sheet, top: float) -> float:
    """Taxes, withholdings, totals, authorization and notes; returns the height used."""
    left_w = WIDTH * 0.58
    right_x, right_w = MARGIN + left_w + 10, WIDTH - left_w - 10
    y_left = top - 4
    head = ("Impuesto", "Tarifa", "Base", "Valor")
    if sheet.tax_rows:
        y_left -= _small_table(pen, MARGIN, y_left, left_w, "DISCRIMINACIÓN DE IMPUESTOS", head, sheet.tax_rows)
    if sheet.withholding_rows:
        title = "RETENCIONES (las practica el adquiriente; no cambian el total a pagar)"
        y_left -= _small_table(pen, MARGIN, y_left, left_w, title, ("Retención", "Tarifa", "Base", "Valor"),
                               sheet.withholding_rows)  # fmt: skip
    if sheet.notes:
        y_left -= 10
        pen.text(MARGIN, y_left, "OBSERVACIONES", font=BOLD, size=7, color=GREY)
        y_left -= pen.lines(MARGIN, y_left - 1, sheet.notes, left_w, size=7) + 2
    # totals, right
    y = top - 4
    for label, value in sheet.totals:
        y -= 10
        pen.text(right_x, y, label, size=7.5)
        pen.text(right_x + right_w, y, value, size=7.5, right=True)
    y -= 20
    pen.box(right_x - 3, y - 5, right_w + 3, 17, fill=SHADE)
    pen.text(right_x, y, f"{sheet.total_label} ({sheet.currency})", font=BOLD, size=9)
    pen.text(right_x + right_w - 3, y, sheet.payable, font=BOLD, size=9, right=True)
    if sheet.payable_local:
        y -= 14
        pen.text(right_x, y, "Equivalente en COP (informativo)", size=7)
        pen.text(right_x + right_w, y, sheet.payable_local, size=7, right=True)
    bottom = min(y - 8, y_left)
    # the key and the authorization, full width
    bottom -= 12
    pen.text(MARGIN, bottom, f"{sheet.key_label}:", font=BOLD, size=7.5)
    pen.text(MARGIN + 30, bottom, sheet.key, size=7)
    if sheet.authorization:
        bottom -= pen.lines(MARGIN, bottom - 2, [sheet.authorization], WIDTH, size=7.2) + 2
    return top - bottom + 4


@dataclass(frozen=True)
class _Page:
    rows: tuple[int, ...]  # indexes into the sheet's lines
    closing: bool


def _plan(sheet: Sheet, cells: list[list[list[str]]], heights: list[float]) -> list[_Page]:
    body_bottom = MARGIN + FOOTER_H + 12
    first_top = _first_page_blocks(_Pen(None), sheet, PAGE_H - MARGIN - HEADER_H) - TABLE_HEAD_H
    other_top = PAGE_H - MARGIN - HEADER_H - 14 - TABLE_HEAD_H  # 14: the buyer's reminder line
    closing_h = _closing(_Pen(None), sheet, 0)
    pages: list[_Page] = []
    rows: list[int] = []
    y = first_top
    for index, height in enumerate(heights):
        if y - height < body_bottom and rows:
            pages.append(_Page(tuple(rows), False))
            rows, y = [], other_top
        rows.append(index)
        y -= height
    if y - 4 - closing_h >= body_bottom - 8:
        pages.append(_Page(tuple(rows), True))
    else:
        pages.append(_Page(tuple(rows), False))
        pages.append(_Page((), True))
    return pages


def draw_sheet(c: Canvas, sheet: Sheet, deco: Decoration, *, on_page: Callable[[int], None] | None = None) -> int:
    """Draw the whole document on ``c`` (not saved); returns the number of pages."""
    cells = [_cells(row) for row in sheet.lines]
    heights = [_row_height(cell) for cell in cells]
    pages = _plan(sheet, cells, heights)
    deco = replace(deco, qr_side=_qr_form(c, sheet.qr_text))
    pen = _Pen(c)
    for number, page in enumerate(pages, start=1):
        top = _header(pen, sheet, deco, number, len(pages))
        if number == 1:
            top = _first_page_blocks(pen, sheet, top)
        else:
            pen.text(MARGIN, top - 8, f"Adquiriente: {sheet.buyer.name} · {sheet.buyer.identification}", size=7.5)
            top -= 14
        if page.rows or number == 1:
            top = _table_head(pen, top, sheet.currency)
            for index in page.rows:
                top = _table_row(pen, top, cells[index], heights[index])
        if page.closing:
            _closing(pen, sheet, top - 4)
        elif number < len(pages):
            pen.text(PAGE_W - MARGIN, top - 9, "Continúa en la página siguiente", size=6.5, right=True, color=GREY)
        _footer(pen, sheet, deco)
        if on_page is not None:
            on_page(number)
        c.showPage()
        pen.font = None
    return len(pages)


def image_reader(data: bytes) -> ImageReader:
    """An ImageReader over image bytes (PNG, JPEG), for Decoration.logo."""
    return ImageReader(io.BytesIO(data))
