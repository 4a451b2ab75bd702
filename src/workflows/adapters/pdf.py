"""Lays a rendered document (文书) out as an A4 PDF, drawn with reportlab's canvas.

The Chinese text uses the CID font STSong-Light, which every PDF reader has built in: no font file is shipped or
embedded.

A document is a form: the agency's name at the head of every page, the title, the document number, the paragraphs
(indented two characters, the salutation "张伟：" not) with the materials table where the kind has one, then the seal
line and date (or the applicant's signature lines), and the hall's address and phone at the foot. It is drawn on the
canvas directly, not through platypus's flowables and frames (four fifths of a layout went there): lines are broken
by reportlab's CJK breaker (a line does not start with "，" or "。"), a paragraph that does not fit goes on over the
next page (never leaving its first line alone at a page's foot), a long table goes on under its heading row repeated,
and a row taller than a page (a long 适用情形) is cut at a line where the page ends, its other lines on the pages after.
The positions are those platypus gave these documents.

What does not change between documents is made once per process: the font's PDF object, formatted (its widths table
took a quarter of a layout), the width of each character at each size, and the lines of the texts most recently
broken. The text is written as the operators reportlab's text object would write, without going through it.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from io import BytesIO

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.rl_accel import escapePDF, fp_str
from reportlab.lib.textsplit import dumbSplit
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import CIDFontInfo, UnicodeCIDFont, structToPDF
from reportlab.pdfbase.pdfdoc import PDFObject
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus.paragraph import cleanBlockQuotedText

from workflows.domain.documents import RenderedDocument

FONT = "STSong-Light"


class _Formatted(PDFObject):
    """A PDF object already formatted: the same bytes in every document."""

    def __init__(self, content: bytes):
        self.content = content

    def format(self, document) -> bytes:
        return self.content


class CachedCIDFont(UnicodeCIDFont):
    """reportlab's UnicodeCIDFont, with its PDF object kept as formatted under each internal name a document gives
    it (F1, F2 … by the order fonts are first used): the same object as UnicodeCIDFont's."""

    def __init__(self, face: str):
        super().__init__(face)
        self._formatted: dict[str, bytes] = {}

    def addObjects(self, doc) -> None:
        name = "F" + repr(len(doc.fontMapping) + 1)  # as UnicodeCIDFont.addObjects names it
        formatted = self._formatted.get(name)
        if formatted is None:
            structure = {**CIDFontInfo[self.face.name], "Name": "/" + name, "Encoding": "/" + self.encodingName}
            formatted = self._formatted[name] = structToPDF(structure).format(doc)
        doc.idToObject["BasicFonts"].dict[name] = doc.Reference(_Formatted(formatted), name)
        doc.fontMapping[self.name] = "/" + name


# The page streams deflated only, not then ASCII85-encoded as reportlab does by default: that keeps a PDF 7-bit
# clean, which nothing here needs, at a quarter more bytes and a tenth of a layout's time. (reportlab reads the
# setting when it writes a page; it draws no other PDF in this process.)
rl_config.useA85 = 0

_FONT = CachedCIDFont(FONT)
pdfmetrics.registerFont(_FONT)
_WIDTHS: dict[float, dict[str, float]] = {}  # size -> character -> its width

MARGIN = 25 * mm
WIDTH = A4[0] - 2 * MARGIN  # the tables' width
PADDING = 6  # the text sits this far inside the margins (as it did in platypus's frame)
LEFT, TEXT_WIDTH = MARGIN + PADDING, WIDTH - 2 * PADDING
TOP, BOTTOM = A4[1] - MARGIN - 8 * mm - PADDING, MARGIN + PADDING
FUZZ = 1e-6  # a block this much too tall still fits (rounding)


@dataclass(frozen=True)
class Style:
    size: float
    leading: float
    align: str = "left"  # left, center, right
    indent: float = 0  # the first line's
    space_after: float = 0


BODY = Style(12, 21, indent=24, space_after=4)
SALUTATION = Style(12, 21, space_after=4)
TITLE = Style(22, 30, "center", space_after=6)
NUMBER = Style(10.5, 16, "right", space_after=14)
SIGNATURE = Style(12, 22, "right")
CELL = Style(10, 14)
HEAD_CELL = Style(10, 14, "center")
CELL_TOP, CELL_SIDE, CELL_BOTTOM = 3, 6, 4  # a table cell's padding
ONE_LINE_ROW = CELL.leading + CELL_TOP + CELL_BOTTOM
COLUMN_SHARES = (0.08, 0.36, 0.12, 0.25, 0.19)  # 序号, 材料名称, 形式, 取得途径, 适用情形
COLUMNS = tuple(WIDTH * share for share in COLUMN_SHARES)
HEAD_BACKGROUND, RULE_RED, FOOT_GREY = colors.HexColor("#eeeeee"), colors.HexColor("#b22222"), colors.HexColor("#555555")


def render_pdf(document: RenderedDocument) -> bytes:
    buffer = BytesIO()
    canvas = Canvas(buffer, pagesize=A4, initialFontName=FONT, initialFontSize=12)
    canvas.setTitle(f"{document.title} {document.number}")
    canvas.setAuthor(document.agency_name)
    canvas.setSubject(document.title)
    pages = _Pages(canvas, document)
    pages.paragraph(document.title, TITLE)
    pages.paragraph(f"文书编号：{document.number}", NUMBER)
    for index, text in enumerate(document.paragraphs):
        if index == document.table_position:
            _table_at(pages, document)
        pages.paragraph(text, SALUTATION if _salutation(text) else BODY)
    if document.table_position >= len(document.paragraphs):
        _table_at(pages, document)
    pages.gap(36)
    for line in document.signature:
        pages.paragraph(line, SIGNATURE)
    canvas.save()
    return buffer.getvalue()


def _salutation(text: str) -> bool:
    """"张伟：" heads the letter unindented; "…告知如下：" is a sentence of the body."""
    return text.endswith("：") and not any(mark in text for mark in "，。；")


def _table_at(pages: _Pages, document: RenderedDocument) -> None:
    if document.table is not None:
        pages.gap(4)
        pages.table(*document.table)
        pages.gap(10)


Lines = tuple[tuple[float, str], ...]  # a text's lines, each with its x offset


@lru_cache(maxsize=4096)  # most of a document's texts come again in the next case's: the salutation, the seal line…
def lines_of(text: str, style: Style, width: float) -> Lines:
    """The text (its whitespace collapsed) broken into lines of `width`, the first indented, each with its x offset."""
    text = cleanBlockQuotedText(text)
    if not text:
        return ()
    widths = _WIDTHS.setdefault(style.size, {})
    for char in set(text).difference(widths):
        widths[char] = _FONT.stringWidth(char, style.size)
    broken = dumbSplit(text, [widths[char] for char in text], [width - style.indent, width])
    share = {"left": 0, "center": 0.5, "right": 1}[style.align]
    return tuple(((style.indent if index == 0 else 0) + share * spare, line)
                 for index, (spare, line) in enumerate(broken))


class _Pages:
    """The canvas and where on its page the next block goes; a page is begun, head and foot drawn, when a block
    does not fit."""

    def __init__(self, canvas: Canvas, document: RenderedDocument):
        self.canvas, self.document, self.number = canvas, document, 0
        self._begin()

    def _begin(self) -> None:
        if self.number:
            self.canvas.showPage()
        self.number += 1
        self.y, self.fresh = TOP, True
        _decorate(self.canvas, self.document, self.number)

    def _fitting(self, heights) -> int:
        """How many of the blocks of `heights`, one under the other, fit on what is left of the page."""
        room, count = self.y - BOTTOM + FUZZ, 0
        for height in heights:
            room -= height
            if room < 0:
                break
            count += 1
        return count

    def gap(self, height: float) -> None:
        """Blank space; at a page's foot, none (the next block begins the next page)."""
        if self._fitting([height]):
            self.y -= height
        else:
            self._begin()

    def paragraph(self, text: str, style: Style) -> None:
        lines = lines_of(text, style, TEXT_WIDTH)
        while lines:
            count = self._fitting([style.leading] * len(lines))
            if count < len(lines) and count <= 1 and not self.fresh:
                self._begin()  # no first line alone at the page's foot
                continue
            count = max(count, 1)
            _draw_lines(self.canvas, lines[:count], LEFT, self.y, style)
            self.y, self.fresh, lines = self.y - count * style.leading, False, lines[count:]
            if lines:
                self._begin()
        self.y -= style.space_after

    def table(self, headings: tuple[str, ...], rows: tuple[tuple[str, ...], ...]) -> None:
        """The table under its heading row, which is repeated on each page the table goes on to."""
        cells = [[lines_of(value, CELL, width - 2 * CELL_SIDE) for value, width in zip(row, COLUMNS)]
                 for row in rows or [("无",)]]
        head = [lines_of(value, HEAD_CELL, width - 2 * CELL_SIDE) for value, width in zip(headings, COLUMNS)]
        heights = [_row_height(row) for row in cells]
        while cells:
            count = self._fitting([_row_height(head)] + heights) - 1
            if count < 1:
                room = self.y - BOTTOM + FUZZ - _row_height(head)  # what the heading row leaves of the page
                if heights[0] <= TOP - BOTTOM + FUZZ - _row_height(head) or room < ONE_LINE_ROW:
                    self._begin()  # the row whole on the next page
                    continue
                # a row taller than any page (a long 适用情形): its lines that fit here, the rest on the next page
                cells[:1] = _split_row(cells[0], room)
                heights[:1] = [_row_height(part) for part in cells[:2]]
                count = 1
            self.y = _draw_rows(self.canvas, [head] + cells[:count], self.y)
            self.fresh, cells, heights = False, cells[count:], heights[count:]
            if cells:
                self._begin()


def _split_row(row: list[Lines], room: float) -> list[list[Lines]]:
    """The row cut in two at the line that fills `room`: each cell's first lines, then the rest of them."""
    count = int((room - CELL_TOP - CELL_BOTTOM) // CELL.leading)
    return [[lines[:count] for lines in row], [lines[count:] for lines in row]]


def _row_height(row: list[Lines]) -> float:
    return max(1, *(len(lines) for lines in row)) * CELL.leading + CELL_TOP + CELL_BOTTOM


def _draw_lines(canvas: Canvas, lines: Lines, left: float, top: float, style: Style) -> None:
    """Lines of one style under `top`, from `left`: the operators that reportlab's text object writes for them
    (beginText, setFont, then setTextOrigin and textLine for each line, the font set again before each line's text
    as its _formatText does for a multi-byte font), written here without its bookkeeping (a third of a layout)."""
    font = f"{canvas._doc.getInternalFontName(FONT)} {fp_str(style.size)} Tf {fp_str(style.leading)} TL"
    code = ["BT 1 0 0 1 0 0 Tm", font]
    baseline = top - style.size
    for x, line in lines:
        code.append(f"1 0 0 1 {fp_str(left + x, baseline)} Tm {font} ({_encoded(line)}) Tj T*")
        baseline -= style.leading
    code.append("ET")
    canvas._code.append(" ".join(code))


def _encoded(line: str) -> str:
    """The line as a PDF string's content in the font's encoding (UniGB-UCS2-H: UTF-16 without its BOM)."""
    return escapePDF(line.encode("utf_16_be"))


def _draw_rows(canvas: Canvas, rows: list[list[Lines]], top: float) -> float:
    """The rows (the heading row first, on its grey ground) in a grid under `top`; returns the grid's bottom."""
    heights = [_row_height(row) for row in rows]
    bottom = top - sum(heights)
    canvas.saveState()
    canvas.setFillColor(HEAD_BACKGROUND)
    canvas.rect(MARGIN, top - heights[0], WIDTH, heights[0], stroke=0, fill=1)
    canvas.restoreState()
    edges = [MARGIN]
    for width in COLUMNS:
        edges.append(edges[-1] + width)
    y = top
    for index, (row, height) in enumerate(zip(rows, heights)):
        y -= height
        for lines, x, width in zip(row, edges, COLUMNS):
            content = len(lines) * CELL.leading  # the cell's text, centred in the row between its paddings
            _draw_lines(canvas, lines, x + CELL_SIDE, y + (height + CELL_BOTTOM - CELL_TOP + content) / 2,
                        HEAD_CELL if index == 0 else CELL)
    canvas.saveState()
    canvas.setLineWidth(0.6)
    canvas.setLineCap(1)
    canvas.setLineJoin(1)
    y = top
    for height in [0] + heights:
        y -= height
        canvas.line(MARGIN, y, MARGIN + WIDTH, y)
    for x in edges:
        canvas.line(x, bottom, x, top)
    canvas.restoreState()
    return bottom


def _decorate(canvas: Canvas, document: RenderedDocument, number: int) -> None:
    """The page's head (the agency's name over a red rule) and foot (the hall, the page number)."""
    canvas.saveState()
    canvas.setFont(FONT, 11)
    top = A4[1] - MARGIN + 2 * mm
    canvas.drawCentredString(A4[0] / 2, top, document.agency_name)
    canvas.setStrokeColor(RULE_RED)  # the red rule under the issuing body's name
    canvas.setLineWidth(1.2)
    canvas.line(MARGIN, top - 4 * mm, A4[0] - MARGIN, top - 4 * mm)
    canvas.setFont(FONT, 9)
    canvas.setFillColor(FOOT_GREY)
    if document.footer:
        canvas.drawString(MARGIN, MARGIN - 10 * mm, document.footer)
    canvas.drawRightString(A4[0] - MARGIN, MARGIN - 10 * mm, f"第 {number} 页")
    canvas.restoreState()
