"""Lays a rendered document (文书) out as an A4 PDF with reportlab.

The Chinese text uses the CID font STSong-Light, which every PDF reader has built in: no font file is shipped or
embedded. Layout: the agency's name at the head of every page, the title, the document number, the paragraphs
(indented two characters, the salutation "张伟：" not) with the materials table where the kind has one, then the
seal line and date (or the applicant's signature lines), and the hall's address and phone at the foot.
"""
from __future__ import annotations

from io import BytesIO
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from workflows.domain.documents import RenderedDocument

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

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


def render_pdf(document: RenderedDocument) -> bytes:
    buffer = BytesIO()
    page = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN + 8 * mm,
                             bottomMargin=MARGIN, title=f"{document.title} {document.number}",
                             author=document.agency_name, subject=document.title)
    story = [Paragraph(_text(document.title), TITLE), Paragraph(_text(f"文书编号：{document.number}"), NUMBER)]
    paragraphs = [Paragraph(_text(text), SALUTATION if _salutation(text) else BODY) for text in document.paragraphs]
    table = [] if document.table is None else [Spacer(1, 4), _table(*document.table), Spacer(1, 10)]
    story += paragraphs[:document.table_position] + table + paragraphs[document.table_position:]
    story += [Spacer(1, 36), *[Paragraph(_text(line), SIGNATURE) for line in document.signature]]

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


def _text(text: str) -> str:
    """Paragraph takes a little markup: the document's own text must not be read as such."""
    return escape(text)


def _table(headings: tuple[str, ...], rows: tuple[tuple[str, ...], ...]) -> Table:
    cells = [[Paragraph(_text(h), HEAD_CELL) for h in headings]]
    cells += [[Paragraph(_text(value), CELL) for value in row] for row in rows]
    if not rows:
        cells.append([Paragraph("无", CELL)] + [""] * (len(headings) - 1))
    table = Table(cells, colWidths=[WIDTH * share for share in COLUMN_SHARES], repeatRows=1)
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
    ]))
    return table
