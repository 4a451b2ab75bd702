"""备注 and 附件 of a case: added and listed by staff of its hall, refused when too large or of a wrong type."""
from __future__ import annotations

import pytest
from sqlalchemy import inspect

from workflows.domain.errors import InvalidInput, NotFound
from workflows.services import case_files, cases

from support.cases import APPLICANT, DATA, OUTPATIENT

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def number(ctx, staff):
    return cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA).case.number


def test_comments_are_added_listed_and_written_to_the_history(ctx, staff, number, clock):
    case_files.add_comment(ctx, staff["shouli"], number, "  申请人电话已核实  ")
    clock.advance(minutes=5)
    case_files.add_comment(ctx, staff["shenhe"], number, "票据第二页\n金额需复核")

    comments = case_files.list_comments(ctx, staff["shenhe"], number)
    assert [(c.author, c.text) for c in comments] == [("shouli", "申请人电话已核实"),
                                                      ("shenhe", "票据第二页\n金额需复核")]
    assert comments[0].created_at < comments[1].created_at
    history = cases.case_details(ctx, staff["shouli"], number).history
    assert [(h.actor, h.message) for h in history if h.action == "comment_added"] == [
        ("shouli", "添加备注"), ("shenhe", "添加备注")]


@pytest.mark.parametrize("text, message", [("", "备注不能为空"), ("   \n", "备注不能为空"),
                                           ("字" * 2001, "备注不能超过 2000 字")])
def test_an_empty_or_too_long_comment_is_refused(ctx, staff, number, text, message):
    with pytest.raises(InvalidInput, match=message):
        case_files.add_comment(ctx, staff["shouli"], number, text)
    case_files.add_comment(ctx, staff["shouli"], number, "字" * 2000)  # the limit itself is fine
    assert len(case_files.list_comments(ctx, staff["shouli"], number)) == 1


def test_an_attachment_is_kept_listed_without_its_content_and_downloaded(ctx, staff, number):
    saved = case_files.add_attachment(ctx, staff["shouli"], number, "发票.pdf", "application/pdf", PDF)
    case_files.add_attachment(ctx, staff["shenhe"], number, "C:\\扫描\\身份证.PNG", "image/png", PNG)

    listed = case_files.list_attachments(ctx, staff["shenhe"], number)
    assert [(a.file_name, a.media_type, a.size, a.uploaded_by) for a in listed] == [
        ("发票.pdf", "application/pdf", len(PDF), "shouli"), ("身份证.png", "image/png", len(PNG), "shenhe")]
    assert all("content" in inspect(a).unloaded for a in listed)  # the list never read the files' bytes

    meta, content = case_files.attachment(ctx, staff["shenhe"], saved.id)
    assert (meta.file_name, meta.media_type, content) == ("发票.pdf", "application/pdf", PDF)
    history = cases.case_details(ctx, staff["shouli"], number).history
    assert [h.message for h in history if h.action == "attachment_added"] == ["上传附件 发票.pdf",
                                                                              "上传附件 身份证.png"]


def test_too_large_wrong_type_and_disguised_files_are_refused(ctx, staff, number):
    too_large = PDF + b"0" * case_files.MAX_ATTACHMENT_SIZE
    with pytest.raises(InvalidInput, match="超过 10 MB"):
        case_files.add_attachment(ctx, staff["shouli"], number, "扫描件.pdf", "application/pdf", too_large)
    with pytest.raises(InvalidInput, match=r"不支持的附件类型：\.exe（application/x-msdownload）"):
        case_files.add_attachment(ctx, staff["shouli"], number, "setup.exe", "application/x-msdownload", b"MZ")
    with pytest.raises(InvalidInput, match="不支持的附件类型：text/html"):
        case_files.add_attachment(ctx, staff["shouli"], number, "发票.pdf", "text/html", PDF)
    with pytest.raises(InvalidInput, match="内容不是PDF"):
        case_files.add_attachment(ctx, staff["shouli"], number, "发票.pdf", "application/pdf", b"<html>")
    assert case_files.list_attachments(ctx, staff["shouli"], number) == []
    assert not [h for h in cases.case_details(ctx, staff["shouli"], number).history
                if h.action == "attachment_added"]
    # exactly 10 MB is allowed, and a browser's "unknown type" is judged by the name and content
    exact = PDF + b"0" * (case_files.MAX_ATTACHMENT_SIZE - len(PDF))
    saved = case_files.add_attachment(ctx, staff["shouli"], number, "扫描件.pdf", "application/octet-stream", exact)
    assert (saved.size, saved.media_type) == (case_files.MAX_ATTACHMENT_SIZE, "application/pdf")


def test_another_halls_staff_cannot_see_add_or_download(ctx, staff, number):
    saved = case_files.add_attachment(ctx, staff["shouli"], number, "发票.pdf", "application/pdf", PDF)
    other = staff["shouli2"]
    for call in (lambda: case_files.add_comment(ctx, other, number, "看看"),
                 lambda: case_files.list_comments(ctx, other, number),
                 lambda: case_files.add_attachment(ctx, other, number, "a.pdf", "application/pdf", PDF),
                 lambda: case_files.list_attachments(ctx, other, number),
                 lambda: case_files.attachment(ctx, other, saved.id),
                 lambda: case_files.attachment(ctx, staff["shouli"], saved.id + 1000)):
        with pytest.raises(NotFound):
            call()
    assert case_files.list_comments(ctx, staff["shouli"], number) == []
    assert len(case_files.list_attachments(ctx, staff["shouli"], number)) == 1


@pytest.mark.parametrize("given, kept", [
    ("../../etc/发票.PDF", "发票.pdf"), ("C:\\Users\\李\\报销单.docx", "报销单.docx"),
    ('a<b>:c"|?*.pdf', "a_b__c____.pdf"), ("  .隐藏.pdf  ", "隐藏.pdf"), ("行\n\x00名.pdf", "行 名.pdf"),
    (".pdf", "附件.pdf"), ("", "附件"), ("长" * 300 + ".pdf", "长" * 116 + ".pdf")])
def test_file_names_are_sanitised(given, kept):
    assert case_files.sanitize_file_name(given) == kept
