"""Lays a rendered document (文书) out as an A4 PDF with reportlab.

The Chinese text uses the CID font STSong-Light, which every PDF reader has built in: no font file is shipped or
embedded.

What does not change between documents is made once per process (a PDF is laid out after every command that
issues one, two per case on the way to 办结): the font's PDF object, formatted (its widths table took a quarter of a
layout), the width of each character at each size (line breaking asks for every character of a Chinese line
apart), the styles, a paragraph's parse as markup where its text has none. tests/adapters/test_pdf.py holds the
PDFs as they were before, byte for byte.

Layout: the agency's name at the head of every page, the title, the document number, the paragraphs (indented two
characters, the salutation "张伟：" not) with the materials table where the kind has one, then the seal line and
date (or the applicant's signature lines), and the hall's address and phone at the foot.
"""
from __future__ import annotations

from copy import copy
from io import BytesIO
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import CIDFontInfo, UnicodeCIDFont, structToPDF
from reportlab.pdfbase.pdfdoc import PDFObject
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
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
    """reportlab's UnicodeCIDFont, with what it computes again for every document kept: its PDF object as
    formatted under each internal name a document gives it (F1, F2 … by the order fonts are first used), and
    the width of a single character at a size. The same objects and numbers as UnicodeCIDFont's."""

    def __init__(self, face: str):
        super().__init__(face)
        self._formatted: dict[str, bytes] = {}
        self._char_widths: dict[tuple[str, float], float] = {}

    def addObjects(self, doc) -> None:
        name = "F" + repr(len(doc.fontMapping) + 1)  # as UnicodeCIDFont.addObjects names it
        formatted = self._formatted.get(name)
        if formatted is None:
            structure = {**CIDFontInfo[self.face.name], "Name": "/" + name, "Encoding": "/" + self.encodingName}
            formatted = self._formatted[name] = structToPDF(structure).format(doc)
        doc.idToObject["BasicFonts"].dict[name] = doc.Reference(_Formatted(formatted), name)
        doc.fontMapping[self.name] = "/" + name

    def stringWidth(self, text, size, encoding=None) -> float:
        if not isinstance(text, str) or len(text) != 1:
            return super().stringWidth(text, size, encoding)
        key = (text, size)
        width = self._char_widths.get(key)
        if width is None:
            width = self._char_widths[key] = super().stringWidth(text, size, encoding)
        return width


pdfmetrics.registerFont(CachedCIDFont(FONT))

MARGIN = 25 * mm
WIDTH = A4[0] - 2 * MARGIN
BODY = ParagraphStyle("body", fontName=FONT, fontSize=12, leading=21, wordWrap="CJK", firstLineIndent=24,
                      spaceAfter=4)
SALUTATION = ParagraphStyle("salutation", parent=BODY, firstLineIndent=0)
TITLE = ParagraphStyle("title", fontName=FONT, fontSize=22, leading=30, alignment=TA_CENTER, spaceAfter=6)
NUMBER = ParagraphStyle("number", fontName=FONT, fontSize=10.5, leading=16, alignment=TA_RIGHT, spaceAfter=14)
SIGNATURE = ParagraphStyle("signature", fontName=FONT, fontSize=12, leading=22, alignment=TA_RIGHT)
CELL = ParagraphStyle("cell", fontName=FONT, fontSize=10, leading=14, wordWrap="CJK")
HEAD_CELL = ParagraphStyle("head_cell", parent=CELL, alignment=TA_CENTER)
COLUMN_SHARES = (0.08, 0.36, 0.12, 0.25, 0.19)  # 序号, 材料名称, 形式, 取得途径, 适用情形
_FRAGMENTS: dict = {}  # style name -> the fragment a paragraph of plain text parses to in it (see _paragraph)


def render_pdf(document: RenderedDocument) -> bytes:
    buffer = BytesIO()
    page = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN + 8 * mm,
                             bottomMargin=MARGIN, title=f"{document.title} {document.number}",
                             author=document.agency_name, subject=document.title)
    story = [_paragraph(document.title, TITLE), _paragraph(f"文书编号：{document.number}", NUMBER)]
    paragraphs = [_paragraph(text, SALUTATION if _salutation(text) else BODY) for text in document.paragraphs]
    table = [] if document.table is None else [Spacer(1, 4), _table(*document.table), Spacer(1, 10)]
    story += paragraphs[:document.table_position] + table + paragraphs[document.table_position:]
    story += [Spacer(1, 36), *[_paragraph(line, SIGNATURE) for line in document.signature]]

    def decorate(canvas, _):
        canvas.saveState()
        canvas.setFont(FONT, 11)
        top = A4[1] - MARGIN + 2 * mm
        canvas.drawCentredString(A4[0] / 2, top, document.agency_name)
        canvas.setStrokeColor(colors.HexColor("#b22222"))  # the red rule under the issuing body's name
        canvas.setLineWidth(1.2)
        canvas.line(MARGIN, top - 4 * mm, A4[0] - MARGIN, top - 4 * mm)
        canvas.setFont(FONT, 9)
        canvas.setFillColor(colors.HexColor("#555555"))
        if document.footer:
            canvas.drawString(MARGIN, MARGIN - 10 * mm, document.footer)
        canvas.drawRightString(A4[0] - MARGIN, MARGIN - 10 * mm, f"第 {canvas.getPageNumber()} 页")
        canvas.restoreState()

    page.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return buffer.getvalue()


def _salutation(text: str) -> bool:
    """"张伟：" heads the letter unindented; "…告知如下：" is a sentence of the body."""
    return text.endswith("：") and not any(mark in text for mark in "，。；")


def _paragraph(text: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph of the document's own text (Paragraph takes a little markup: the text must not be read as such).

    reportlab parses every paragraph as markup (an HTML parser, a tenth of a layout). Text without a markup
    character parses, whatever it says, to one fragment: the style's, holding the text with its whitespace
    collapsed. That fragment is parsed once per style and copied here; any other text is parsed."""
    cleaned = cleanBlockQuotedText(text)
    if not cleaned or any(mark in text for mark in "&<>"):
        return Paragraph(escape(text), style)
    prototype = _FRAGMENTS.get(style.name)
    if prototype is None:
        [prototype] = Paragraph("-", style).frags
        _FRAGMENTS[style.name] = prototype
    fragment = copy(prototype)
    fragment.text = cleaned
    return Paragraph(cleaned, style, frags=[fragment])


def _table(headings: tuple[str, ...], rows: tuple[tuple[str, ...], ...]) -> Table:
    cells = [[_paragraph(h, HEAD_CELL) for h in headings]]
    cells += [[_paragraph(value, CELL) for value in row] for row in rows]
    if not rows:
        cells.append([_paragraph("无", CELL)] + [""] * (len(headings) - 1))
    table = Table(cells, colWidths=[WIDTH * share for share in COLUMN_SHARES], repeatRows=1)
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
    ]))
    return table
