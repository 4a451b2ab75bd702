"""The 文书 PDF layout (adapters/pdf.py), drawn on reportlab's canvas: what it draws, and that it draws it where
platypus (which laid these documents out before) put it.

The files in tests/fixtures/pdf were laid out by adapters/pdf.py (reportlab 5.1.0, in reportlab's invariant mode: a
fixed date and document id) from the documents below; each is laid out again now and compared byte for byte, so a
change of the layout shows. They replaced the platypus layouts when the canvas did: the same words at the same
places (pdftotext -bbox, to a tenth of a point), the same pages; and were laid out anew when the page streams were
no longer ASCII85-encoded (each page's decoded stream, its text, the info and the font the same, read by pypdf).
After a reportlab upgrade lay them out anew, with the tests after them green."""
from __future__ import annotations

import json
from pathlib import Path
from io import BytesIO
from xml.sax.saxutils import escape

import pytest
from reportlab import Version, rl_config
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from pypdf import PdfReader
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase.pdfdoc import PDFDocument
from reportlab.platypus import Paragraph

from workflows.adapters import pdf
from workflows.domain.documents import MATERIAL_COLUMNS, RenderedDocument

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "pdf"
AGENCY = "抚顺市医疗保障事务服务中心"
SEAL = (f"{AGENCY}（印章）", "2026年12月2日")
FOOTER = f"{AGENCY}　地址：顺城区临江东路19-12号楼 1层　电话：024-55883333"
MATERIALS = (("1", "医院收费票据", "原件", "定点医疗机构", "—"), ("2", "门急诊费用清单", "原件", "—", "—"),
             ("3", "处方底方（病例材料）", "复印件", "—", "住院治疗的"))
DOCUMENTS = {
    "acceptance": RenderedDocument(
        AGENCY, "受理通知书", "SL210400-20261202-00030",
        ("张伟：", "你（单位）于2026年12月2日提交的门诊费用报销申请（办件编号：210400-20261202-00030），经审查，符合"
         "受理条件，本机构决定自2026年12月2日起予以受理。",
         "已收到申请材料：医保电子凭证或有效身份证件或社保卡、医院收费票据、门急诊费用清单、处方底方（病例材料）、医保卡复印件。",
         "本事项承诺于2026年12月30日前办结。你（单位）可凭办件编号和证件号码查询办理进度。", "咨询电话：024-55883333。",
         "监督投诉电话：024-55883333。", "特此通知。"), None, 7, SEAL, FOOTER),
    "completion": RenderedDocument(
        AGENCY, "办结通知书", "BJ210400-20261202-00030",
        ("张伟：", "你（单位）于2026年12月2日提交的门诊费用报销申请（办件编号：210400-20261202-00030），本机构已于2026年"
         "12月2日办结。", "经审核，核定拨付金额人民币870.00元，已拨付至你（单位）的银行账户****4567。",
         "如对办理结果有疑问，请拨打咨询电话024-55883333。欢迎对本次服务作出评价。", "特此通知。"), None, 5, SEAL, FOOTER),
    "missing_materials_table": RenderedDocument(
        AGENCY, "一次性告知书", "GZ210400-20261202-00031",
        ("李娜：", "你（单位）申请的门诊费用报销，经核对，申请材料不齐全，现一次性告知需补正的材料如下：",
         "请补齐后再次提交。", "特此告知。"), (MATERIAL_COLUMNS, MATERIALS), 2, SEAL, FOOTER),
    "empty_table_commitment": RenderedDocument(
        AGENCY, "个人承诺书", "CN210400-20261202-00032", ("本人承诺：以下证明材料以本承诺代替，所述属实。",),
        (MATERIAL_COLUMNS, ()), 1, ("承诺人（签字）：________________", "日期：________年____月____日"), ""),
    "markup_and_spaces": RenderedDocument(
        "A&B <医保> 中心", "不予受理决定书 <b>", "BSL-1&2",
        ("王 五：", "理由：申请人称“费用 <1000> & 已自付”，  两个空格，末尾空格 ", "\t制表符与\n换行",
         "Latin text, with ASCII words that wrap: reimbursement outpatient emergency hospitalisation " * 3),
        None, 4, ("A&B <医保> 中心（印章）", "2026年12月2日"), "地址：<无> & 电话"),
    "two_pages": RenderedDocument(
        AGENCY, "终止办理决定书", "ZZ210400-20261202-00033",
        ("赵六：",) + tuple(f"第{n}段：经复核，申请人提供的材料与事实不符，依据《社会保险法》第八十三条，本机构决定终止办理。"
                           "如不服本决定，可在收到本决定书之日起六十日内依法申请行政复议，或者在六个月内依法提起行政诉讼。"
                           for n in range(1, 16)), (MATERIAL_COLUMNS, MATERIALS * 4), 9, SEAL, FOOTER),
}


@pytest.fixture
def invariant(monkeypatch):
    """reportlab's invariant mode: the date and id a PDF carries are fixed, so two layouts compare byte for byte."""
    monkeypatch.setattr(rl_config, "invariant", 1)


@pytest.mark.parametrize("name", DOCUMENTS)
def test_a_document_is_laid_out_as_it_was(invariant, name):
    expected = (FIXTURES / f"{name}.pdf").read_bytes()
    assert json.loads((FIXTURES / "reportlab.json").read_text())["version"] == Version, (
        "the fixtures come from another reportlab release: lay them out anew (see the docstring)")
    assert pdf.render_pdf(DOCUMENTS[name]) == expected
    assert pdf.render_pdf(DOCUMENTS[name]) == expected  # and again, from the caches the first layout filled


def pages_text(content: bytes) -> list[str]:
    return [page.extract_text().replace("\n", "") for page in PdfReader(BytesIO(content)).pages]


def test_a_long_document_wraps_and_goes_on_over_pages_under_the_table_heading():
    document = DOCUMENTS["two_pages"]
    pages = pages_text(pdf.render_pdf(document))
    assert len(pages) == 3
    heads = [f"{AGENCY}{FOOTER}第 {n} 页" for n in (1, 2, 3)]  # each page's head and foot, drawn first
    assert [page[:len(head)] for page, head in zip(pages, heads)] == heads
    joined = "".join(page[len(head):] for page, head in zip(pages, heads))
    for paragraph in document.paragraphs:  # every paragraph whole, however its lines broke
        assert paragraph in joined
    assert pages[1].count("处方底方（病例材料）") == 4 and pages[1][len(heads[1]):].startswith("序号材料名称形式")
    assert f"{AGENCY}（印章）2026年12月2日" in pages[2]  # the seal line after the last paragraph


def test_a_row_taller_than_a_page_goes_on_over_the_next_pages_with_nothing_cut_or_drawn_off_them():
    """A 适用情形 of an agency's template can run long: its row is cut at a line where the page ends and goes on
    under the heading row repeated, each of its lines drawn once, within the page's text area."""
    condition = "".join(f"第{n}种情形：异地就医未办理备案手续的，须另行提交异地就医备案表及转诊证明；" for n in range(1, 80))
    rows = (("1", "医院收费票据", "原件", "定点医疗机构", condition), ("2", "门急诊费用清单", "原件", "—", "—"))
    document = RenderedDocument(AGENCY, "一次性告知书", "GZ210400-20261202-00034",
                                ("李娜：", "现一次性告知需补正的材料如下：", "请补齐后再次提交。", "特此告知。"),
                                (MATERIAL_COLUMNS, rows), 2, SEAL, FOOTER)
    pages = PdfReader(BytesIO(pdf.render_pdf(document))).pages
    last_column = pdf.MARGIN + sum(pdf.COLUMNS[:4])
    drawn = []  # (page, x, y, text) of every text the pages show

    for number, page in enumerate(pages):
        page.extract_text(visitor_text=lambda text, cm, tm, *_: text.strip() and drawn.append(
            (number, tm[4] + cm[4], tm[5] + cm[5], text.strip())))

    decorations = {AGENCY, FOOTER, *(f"第 {n} 页" for n in range(1, len(pages) + 1))}  # each page's head and foot
    body = [(n, x, y, text) for n, x, y, text in drawn if text not in decorations]
    assert len(pages) > 5 and all(pdf.BOTTOM - 1 < y < pdf.TOP + 1 for _, _, y, _ in body)  # none off a page
    in_last_column = [text for _, x, _, text in body
                      if x > last_column and text not in (MATERIAL_COLUMNS[4], *SEAL)]
    assert "".join(in_last_column) == condition + "—"  # every line of it once, in order, then the next row's
    assert [n for n, _, _, text in body if text == MATERIAL_COLUMNS[4]] == list(range(len(pages)))
    assert "请补齐后再次提交。" in "".join(text for n, _, _, text in body if n == len(pages) - 1)


def test_the_text_reads_back_with_its_number_and_seal():
    text = "".join(pages_text(pdf.render_pdf(DOCUMENTS["acceptance"])))
    assert "受理通知书" in text and "文书编号：SL210400-20261202-00030" in text
    assert "抚顺市医疗保障事务服务中心（印章）" in text and "特此通知。" in text


# --- the line breaking and the font object against reportlab's own --------------------------------------------------

TEXTS = ["张伟：", "特此通知。", "  前后空格  ", "两个  空格\n换行\t制表", "全角　空格", "A&B", "<b>不是标记</b>", "1 > 0",
         "Latin words, wrapping: reimbursement outpatient", "—", "无", "'引号' \"双引号\"", "\u00a0不换行空格",
         DOCUMENTS["two_pages"].paragraphs[1], DOCUMENTS["markup_and_spaces"].paragraphs[3]]
ALIGNMENTS = {"left": TA_LEFT, "center": TA_CENTER, "right": TA_RIGHT}
STYLES = [pdf.BODY, pdf.SALUTATION, pdf.TITLE, pdf.NUMBER, pdf.SIGNATURE, pdf.CELL, pdf.HEAD_CELL]


@pytest.mark.parametrize("text", TEXTS)
def test_lines_break_where_a_reportlab_paragraph_breaks_them(text):
    for style in STYLES:
        paragraph = Paragraph(escape(text), ParagraphStyle(
            "p", fontName=pdf.FONT, fontSize=style.size, leading=style.leading, wordWrap="CJK",
            firstLineIndent=style.indent, alignment=ALIGNMENTS[style.align]))
        paragraph.wrap(pdf.TEXT_WIDTH, 1000)
        lines = [_line_text(line) for line in paragraph.blPara.lines]
        assert [line for _, line in pdf.lines_of(text, style, pdf.TEXT_WIDTH)] == lines


def _line_text(line) -> str:
    """A line of a reportlab paragraph: (spare, [text]), or a FragLine where the text parsed to several fragments."""
    return "".join(word.text for word in line.words) if hasattr(line, "words") else " ".join(line[1])


def test_the_font_object_is_the_one_reportlab_formats_under_each_name():
    def font_object(font, fonts_before):
        document = PDFDocument()
        for name in fonts_before:  # a font used first takes F1: this one is then F2
            document.getInternalFontName(name)
        font.addObjects(document)
        name = document.fontMapping[font.name][1:]
        return document.idToObject[name].format(document)

    cached = pdf.CachedCIDFont(pdf.FONT)
    for fonts_before in ([], ["Helvetica"], [], ["Helvetica"]):  # the second time of each, from the cache
        assert font_object(cached, fonts_before) == font_object(UnicodeCIDFont(pdf.FONT), fonts_before)
